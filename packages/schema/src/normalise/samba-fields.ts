// Reading the fields of Samba's JSON audit records leniently: a field of the wrong type reads as
// absent, addresses are Samba's tsocket strings, timestamps carry a numeric UTC offset. Nothing
// here throws. Field formats: Samba lib/audit_logging/audit_logging.c (json_add_* helpers).
import type { Dynamic } from '../rows.ts';

export type JsonObject = { readonly [key: string]: Dynamic };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-empty string field, else absent. */
export function str(o: JsonObject, name: string): string | undefined {
  const v = o[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A whole-number field, else absent. */
export function int(o: JsonObject, name: string): number | undefined {
  const v = o[name];
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/**
 * Samba's timestamp, `2017-03-06T17:18:04.455081+1300` (local time with its offset), as ISO
 * 8601 UTC keeping every fractional digit: `2017-03-06T04:18:04.455081Z`.
 */
export function utcTimestamp(v: string | undefined): string | undefined {
  const m = v && /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|([+-])(\d\d):?(\d\d))$/.exec(v);
  if (!m) return undefined;
  const base = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(base)) return undefined;
  const sign = m[4] === '-' ? -1 : 1;
  const offsetMinutes = m[3] === 'Z' ? 0 : sign * (Number(m[5]) * 60 + Number(m[6]));
  const utc = new Date(base - offsetMinutes * 60_000).toISOString().slice(0, 19);
  return `${utc}${m[2] ?? ''}Z`;
}

/**
 * A tsocket address string, `ipv4:10.99.0.20:54330` or `ipv6:fd00::20:54330` (address, then the
 * port after the last colon), as IP and port; other kinds (`unix:…`) read as absent.
 */
export function socketAddress(v: string | undefined): { ip?: string; port?: number } {
  const m = v && /^ipv[46]:(.+):(\d{1,5})$/.exec(v);
  if (!m) return {};
  const port = Number(m[2]);
  // IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
  const ip = (m[1] as string).replace(/^::ffff:(?=\d{1,3}(?:\.\d{1,3}){3}$)/i, '');
  return port > 0 && port <= 65535 ? { ip, port } : { ip };
}

/**
 * A stable id for one record: 64 bits of two FNV-1a lanes over its JSON text, in hex. The same
 * record read twice gets the same id, so re-sent batches stay idempotent.
 */
export function recordHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
