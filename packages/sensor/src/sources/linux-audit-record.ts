// One line of the Linux audit log as a record: its type, event time and serial, and its fields.
// The format is auditd's (audit.rules(7), ausearch(8)): `[node=N ]type=T msg=audit(S.mmm:SERIAL): k=v …`,
// and in the ENRICHED log format the same followed by a group separator (0x1d) and names the
// daemon resolved when it wrote the line (`UID="root" SYSCALL=execve …`).

import { formatIpv6 as formatIpv6At } from '@palisade/protocols';

/** One record (one line) of an audit event. */
export interface AuditRecord {
  readonly type: string;
  /** The `node=` prefix a forwarding daemon writes, when present. */
  readonly node?: string;
  /** Event time as whole seconds and milliseconds since the epoch. */
  readonly seconds: number;
  readonly millis: number;
  /** The event serial; every record of one event shares time and serial. */
  readonly serial: number;
  /** Fields as written: quoted text keeps its quotes, so `decodeText` can tell text from hex. */
  readonly fields: ReadonlyMap<string, string>;
  /** Names the daemon added in the ENRICHED format (`UID`, `AUID`, `SYSCALL`, `ARCH`, …), unquoted. */
  readonly enriched: ReadonlyMap<string, string>;
}

export type AuditLineResult =
  | { ok: true; record: AuditRecord }
  | { ok: false; expected: string; found: string };

const header = /^(?:node=(\S+) )?type=([A-Z0-9_]+) msg=audit\((\d+)\.(\d{3}):(\d+)\): ?/;
const token = /([A-Za-z0-9_[\]-]+)=("[^"]*"|'[^']*'|\S*)/g;

/**
 * Reads one audit log line (without its newline).
 *
 * @example
 * parseAuditLine('type=CWD msg=audit(1700000000.123:456): cwd="/root"')
 */
export function parseAuditLine(line: string): AuditLineResult {
  const m = header.exec(line);
  if (!m) {
    return {
      ok: false,
      expected: 'type=TYPE msg=audit(SECONDS.MILLIS:SERIAL):',
      found: JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line),
    };
  }
  const [whole, node, type, seconds, millis, serial] = m as unknown as [
    string,
    string | undefined,
    string,
    string,
    string,
    string,
  ];
  const rest = line.slice(whole.length);
  const gs = rest.indexOf('\x1d');
  const fields = readFields(gs < 0 ? rest : rest.slice(0, gs));
  const enriched = new Map<string, string>();
  if (gs >= 0) for (const [k, v] of readFields(rest.slice(gs + 1))) enriched.set(k, unquote(v));
  const record: AuditRecord = {
    type,
    seconds: Number(seconds),
    millis: Number(millis),
    serial: Number(serial),
    fields,
    enriched,
    ...(node === undefined ? {} : { node }),
  };
  return { ok: true, record };
}

function readFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(token)) {
    const [, key, value] = m as unknown as [string, string, string];
    // User-space records nest their message as msg='k=v …'; its fields count as the record's.
    if (key === 'msg' && value.startsWith("'")) {
      for (const [k, v] of readFields(value.slice(1, -1))) if (!out.has(k)) out.set(k, v);
      continue;
    }
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/**
 * An untrusted-string field as text: the kernel writes it in double quotes when it is plain, in
 * hexadecimal when it holds a quote, space, control or non-ASCII byte, `(null)` or `(none)` when absent.
 * Undefined for absent values and for unquoted text that is not hexadecimal.
 */
export function decodeText(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '(null)' || raw === '(none)' || raw === '?') return undefined;
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  const bytes = decodeHex(raw);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/** Hexadecimal text as bytes; undefined when it is not an even run of hex digits. */
export function decodeHex(raw: string): Uint8Array | undefined {
  if (raw.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(raw)) return undefined;
  const out = new Uint8Array(raw.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(raw.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A decimal field (`pid=`, `uid=`, `exit=`); undefined when absent or not a number. */
export function decimal(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^-?\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A syscall argument (`a0=`…`a3=`), which the kernel writes in hexadecimal without a prefix. */
export function hexArgument(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^[0-9a-fA-F]{1,16}$/.test(raw)) return undefined;
  const n = Number.parseInt(raw, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The id the kernel writes for "not set" (-1 as an unsigned 32-bit number). */
export const unsetId = 4294967295;

/** A socket address from a SOCKADDR record (struct sockaddr, in the host's byte order for the family). */
export type Sockaddr =
  | { readonly family: 'inet' | 'inet6'; readonly address: string; readonly port: number }
  | { readonly family: 'local'; readonly path: string }
  | { readonly family: 'other'; readonly number: number };

// AF_* numbers of include/linux/socket.h
const afLocal = 1;
const afInet = 2;
const afInet6 = 10;

/**
 * Decodes `saddr=` hex. The family is little-endian, as on the x86 and Arm hosts the sensor runs
 * on; ports and addresses are in network order. Undefined when the bytes are too short.
 */
export function decodeSockaddr(raw: string): Sockaddr | undefined {
  const b = decodeHex(raw);
  if (!b || b.length < 2) return undefined;
  const family = (b[0] as number) | ((b[1] as number) << 8);
  const port = () => ((b[2] as number) << 8) | (b[3] as number);
  if (family === afInet) {
    if (b.length < 8) return undefined;
    return { family: 'inet', address: Array.from(b.subarray(4, 8)).join('.'), port: port() };
  }
  if (family === afInet6) {
    if (b.length < 24) return undefined;
    return { family: 'inet6', address: formatIpv6(b.subarray(8, 24)), port: port() };
  }
  if (family === afLocal) {
    const path = b.subarray(2);
    const end = path[0] === 0 ? path.length : path.indexOf(0);
    // An abstract socket name starts with a NUL byte; shown with a leading @ as tools do.
    const text = new TextDecoder().decode(path.subarray(path[0] === 0 ? 1 : 0, end < 0 ? path.length : end));
    return { family: 'local', path: path[0] === 0 ? `@${text.replace(/\0+$/, '')}` : text };
  }
  return { family: 'other', number: family };
}

/** An IPv6 address in the RFC 5952 form (the packet decoders' own formatter). */
export function formatIpv6(b: Uint8Array): string {
  return formatIpv6At(b, 0);
}
