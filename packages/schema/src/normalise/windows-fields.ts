// Reading a Windows event's fields the way the identity normaliser needs them: `-` and empty
// values read as absent, IPv4-mapped addresses unwrapped, ports as numbers, account names split.
// Nothing here throws: a missing or oddly typed value reads as absent.
import type { EvtxEvent } from '@palisade/evtx';
import type { Dynamic, RowValue } from '../rows.ts';

/** One record's System block and payload, read leniently. */
export interface WindowsRecord {
  readonly eventId: number | undefined;
  readonly channel: string | undefined;
  readonly provider: string | undefined;
  readonly computer: string | undefined;
  /** System/Security/@UserID, a SID. */
  readonly userId: string | undefined;
  /** The names of the payload's named fields, in record order. */
  readonly names: readonly string[];
  /** A named field, trimmed; `-`, empty and non-text values read as absent. */
  text(name: string): string | undefined;
  /** A named field exactly as logged (still absent when `-` or empty). */
  raw(name: string): string | undefined;
  /** The unnamed `<Data>` values of a classic event: its insertion strings. */
  readonly insertionStrings: readonly string[];
}

/** The table part of a row, before the record's Timestamp and ReportId are added. */
export interface IdentityDraft {
  readonly table: 'IdentityLogonEvents' | 'IdentityDirectoryEvents' | 'IdentityQueryEvents';
  readonly values: Record<string, RowValue | undefined>;
}

/** Makes the identity row of one record, or none when the record does not describe one. */
export type IdentityBuilder = (record: WindowsRecord) => IdentityDraft | undefined;

/** Reads an event's fields. EventData is used when present, else UserData's one wrapper element. */
export function readRecord(event: EvtxEvent): WindowsRecord {
  return new LenientRecord(event);
}

// A class rather than an object of closures: one allocation per record, on a hot path.
class LenientRecord implements WindowsRecord {
  readonly eventId: number | undefined;
  readonly channel: string | undefined;
  readonly provider: string | undefined;
  readonly computer: string | undefined;
  readonly userId: string | undefined;
  private readonly payload: Record<string, unknown>;

  constructor(event: EvtxEvent) {
    const system: Partial<EvtxEvent['system']> = isObject(event?.system) ? event.system : {};
    this.payload = payloadOf(event);
    this.eventId = integer(system.eventId);
    this.channel = present(system.channel);
    this.provider = present(system.provider);
    this.computer = present(system.computer);
    this.userId = present(system.userId);
  }

  get names(): readonly string[] {
    return Object.keys(this.payload);
  }

  get insertionStrings(): readonly string[] {
    const data = this.payload.Data;
    return Array.isArray(data) ? data.filter((v): v is string => typeof v === 'string') : [];
  }

  raw(name: string): string | undefined {
    // Inherited members of a plain object are functions, never strings, so no own-property test.
    const v = this.payload[name];
    return typeof v === 'string' && !isAbsent(v) ? v : undefined;
  }

  text(name: string): string | undefined {
    return this.raw(name)?.trim();
  }
}

function payloadOf(event: EvtxEvent): Record<string, unknown> {
  if (isObject(event?.eventData)) return event.eventData;
  if (!isObject(event?.userData)) return {};
  // UserData holds one provider-defined element whose children are the fields.
  for (const inner of Object.values(event.userData)) if (isObject(inner)) return inner;
  return {};
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isAbsent(v: string): boolean {
  // Most values have no surrounding white space: check them without trimming (a copy).
  if (v === '' || v === '-') return true;
  const first = v.charCodeAt(0);
  const last = v.charCodeAt(v.length - 1);
  if (first > 32 && last > 32) return false;
  const t = v.trim();
  return t === '' || t === '-';
}

/** A text value, or absent for `-`, empty and non-text values. */
export function present(v: unknown): string | undefined {
  return typeof v === 'string' && !isAbsent(v) ? v.trim() : undefined;
}

function integer(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/** An IP address with the IPv4-mapped IPv6 prefix removed: `::ffff:10.0.0.1` → `10.0.0.1`. */
export function ipAddress(v: string | undefined): string | undefined {
  return v?.replace(/^::ffff:(?=\d{1,3}(?:\.\d{1,3}){3}$)/i, '');
}

/** A TCP/UDP port as a number; `0`, `-` and anything that is not a port read as absent. */
export function port(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,5}$/.test(v)) return undefined;
  const n = Number(v);
  return n > 0 && n <= 65535 ? n : undefined;
}

/** A value Windows prints in hex (`0x18`, `0xC000006A`, `0x00000000`) as a number. */
export function hexValue(v: string | undefined): number | undefined {
  return v !== undefined && /^0x[0-9a-f]{1,8}$/i.test(v) ? Number.parseInt(v.slice(2), 16) : undefined;
}

/** A SID, absent when it is the NULL SID (`S-1-0-0`), which Windows logs when it resolved none. */
export function sid(v: string | undefined): string | undefined {
  return v === 'S-1-0-0' ? undefined : v;
}

/** An account name split from `DOMAIN\user` or `user@REALM`; other names come back whole. */
export function splitAccount(v: string | undefined): { name?: string; domain?: string } {
  if (v === undefined) return {};
  const slash = v.indexOf('\\');
  if (slash > 0 && slash < v.length - 1) return { domain: v.slice(0, slash), name: v.slice(slash + 1) };
  const at = v.lastIndexOf('@');
  if (at > 0 && at < v.length - 1) return { name: v.slice(0, at), domain: v.slice(at + 1) };
  return { name: v };
}

/**
 * The value of a distinguished name's first RDN, unescaped: `CN=Doe\, John,OU=Staff,…` →
 * `Doe, John`. Text that is not a DN comes back as it is.
 */
export function firstRdnValue(dn: string | undefined): string | undefined {
  if (dn === undefined) return undefined;
  const eq = dn.indexOf('=');
  if (eq <= 0) return dn;
  // RFC 4514 §2.4: `\` escapes one special character or gives two hex digits of a UTF-8 byte.
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = eq + 1; i < dn.length; i++) {
    const ch = dn[i] as string;
    if (ch === ',' || ch === '+') break;
    if (ch === '\\' && i + 1 < dn.length) {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-f]{2}$/i.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...encoder.encode(dn[i + 1] as string));
        i += 1;
      }
      continue;
    }
    bytes.push(...encoder.encode(ch));
  }
  const value = new TextDecoder().decode(new Uint8Array(bytes)).trim();
  return value === '' ? undefined : value;
}

/** An AdditionalFields object without its absent entries. */
export function fields(entries: Record<string, Dynamic | undefined>): { [key: string]: Dynamic } {
  const out: { [key: string]: Dynamic } = {};
  for (const k in entries) {
    const v = entries[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The named fields of a record, trimmed, without the absent ones and without `skip`. */
export function namedFields(record: WindowsRecord, skip: ReadonlySet<string>): { [key: string]: Dynamic } {
  const out: { [key: string]: Dynamic } = {};
  for (const name of record.names) {
    const v = skip.has(name) ? undefined : record.text(name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** The acting subject of a Security event (Subject* fields) as Account* columns. */
export function subjectAccount(
  r: WindowsRecord,
): Record<'AccountName' | 'AccountDomain' | 'AccountSid', string | undefined> {
  const split = splitAccount(r.text('SubjectUserName'));
  return {
    AccountName: split.name,
    AccountDomain: r.text('SubjectDomainName') ?? split.domain,
    AccountSid: sid(r.text('SubjectUserSid')),
  };
}
