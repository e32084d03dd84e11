// The binary and text forms the directory hands back, turned into what rows carry: objectSid
// (MS-DTYP §2.4.2.2) as S-1-…, objectGUID (MS-DTYP §2.3.4.2) as its braces-free string form,
// GeneralizedTime (RFC 4517 §3.3.13) as ISO 8601, and a naming context as its DNS domain.

/**
 * The string form of a binary SID (MS-DTYP §2.4.2.2: revision, sub-authority count, 48-bit
 * big-endian identifier authority, little-endian 32-bit sub-authorities), or undefined when the
 * bytes are not one.
 */
export function decodeSid(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const revision = view.getUint8(0);
  const count = view.getUint8(1);
  if (revision !== 1 || count > 15 || bytes.length !== 8 + 4 * count) return undefined;
  const authority = view.getUint16(2) * 2 ** 32 + view.getUint32(4);
  // MS-DTYP §2.4.2.1: authorities of 2^32 and above are written in hexadecimal.
  const authorityText = authority < 2 ** 32 ? String(authority) : `0x${authority.toString(16).toUpperCase()}`;
  const parts = [`S-1-${authorityText}`];
  for (let i = 0; i < count; i++) parts.push(String(view.getUint32(8 + 4 * i, true)));
  return parts.join('-');
}

/** The relative identifier (last sub-authority) of a SID string, or undefined. */
export function sidRid(sid: string): number | undefined {
  const m = /-(\d+)$/.exec(sid);
  return m && sid.split('-').length > 4 ? Number(m[1]) : undefined;
}

/** The domain part of an account SID: everything but the RID. */
export function sidDomain(sid: string): string {
  return sid.slice(0, sid.lastIndexOf('-'));
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The string form of a binary GUID (MS-DTYP §2.3.4.2: Data1, Data2, Data3 little-endian, Data4
 * as bytes), lower case without braces, or undefined when not 16 bytes.
 */
export function decodeGuid(bytes: Uint8Array): string | undefined {
  if (bytes.length !== 16) return undefined;
  const b = Array.from(bytes);
  const le = (from: number, to: number) => hex(Uint8Array.from(b.slice(from, to).reverse()));
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(bytes.subarray(8, 10))}-${hex(bytes.subarray(10, 16))}`;
}

/** A GUID string back in its wire order, escaped for an LDAP filter (RFC 4515 §3). */
export function guidFilterValue(guid: string): string {
  const h = guid.replaceAll('-', '');
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return order.map((i) => `\\${h.slice(2 * i, 2 * i + 2)}`).join('');
}

/**
 * A GeneralizedTime (`20240131120000.0Z`, RFC 4517 §3.3.13; the directory always writes UTC) as
 * ISO 8601, or undefined when it is not one.
 */
export function parseGeneralizedTime(text: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d+))?Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The DNS domain of a naming context: `DC=corp,DC=example,DC=com` → `corp.example.com`. */
export function dnsDomainOfDn(dn: string): string {
  return dn
    .split(',')
    .map((part) => part.trim())
    .filter((part) => /^dc=/i.test(part))
    .map((part) => part.slice(3).toLowerCase())
    .join('.');
}

/** Escapes a value for an LDAP filter (RFC 4515 §3). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[*()\\\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
