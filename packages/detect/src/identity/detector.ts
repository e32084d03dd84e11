// The shape of an identity detector (Defender for Identity parity): metadata as data, and a
// stateful instance fed Identity* rows in event-time order. Detectors never read the wall clock;
// their state is bounded.
import type { TableName, TableRow } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import type { DirectoryKnowledge } from './directory.ts';

/** Defender for Identity's threshold levels: High (the default) fires least, Low most. */
export const thresholdLevels = ['high', 'medium', 'low'] as const;
export type ThresholdLevel = (typeof thresholdLevels)[number];

export type IdentitySeverity = 'low' | 'medium' | 'high';

/** What a detector is, as data. */
export interface DetectorMeta {
  /** Stable Palisade id, e.g. `identity/brute-force`. */
  readonly id: string;
  /** The Defender for Identity external alert id this detector matches. */
  readonly externalId: number;
  /** The tables whose rows it reads; the engine gives it no others. */
  readonly tables: readonly TableName[];
  readonly title: string;
  readonly severity: IdentitySeverity;
  /** MITRE ATT&CK tactic names and technique ids. */
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly description: string;
  /** Learning period in days, where Defender for Identity has one. */
  readonly learningPeriodDays?: number;
  /** Numeric thresholds per level (names are the detector's own). */
  readonly thresholds?: Readonly<Record<ThresholdLevel, Readonly<Record<string, number>>>>;
}

/** Who and what a finding is about; exclusions are matched against these. */
export interface Entities {
  readonly accounts: readonly string[];
  readonly devices: readonly string[];
  readonly ips: readonly string[];
}

/** One detection by one detector. */
export interface IdentityFinding extends Entities {
  /** When it happened: the time of the last row behind it (ISO 8601). */
  readonly timestamp: string;
  /** What happened, in a sentence naming the entities. */
  readonly description: string;
  /** The records behind the finding, oldest first (bounded by the detector). */
  readonly events: readonly AlertEvent[];
  /** Accounts, devices and IPs the activity targeted (for evidence; not used for exclusions). */
  readonly targets?: Partial<Entities>;
  /** A severity different from the detector's default, where the detection calls for it. */
  readonly severity?: IdentitySeverity;
}

/** What an instance is given when it is created. */
export interface DetectorContext {
  /** The thresholds of the configured level. */
  readonly thresholds: Readonly<Record<string, number>>;
  readonly directory: DirectoryKnowledge;
}

/** A running detector: it sees every Identity row once, in event-time order. */
/** The result of most rows: nothing found. Shared, so a row that finds nothing allocates nothing. */
export const noFindings: readonly IdentityFinding[] = Object.freeze([]);

export interface DetectorState {
  push(row: TableRow, time: number, event: AlertEvent): readonly IdentityFinding[];
  /** At the end of the input: findings about incidents still open (optional). */
  flush?(): readonly IdentityFinding[];
  /** How many entries it holds, to show its state is bounded. */
  readonly size: number;
}

export interface IdentityDetector {
  readonly meta: DetectorMeta;
  create(context: DetectorContext): DetectorState;
}

// Helpers for reading rows: columns are typed loosely in rows, detectors want strings.

/** A string column of a row, or '' when absent. */
export function text(row: TableRow, column: string): string {
  const v = row.values[column];
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** A field of the row's AdditionalFields, as text ('' when absent). */
export function extra(row: TableRow, field: string): string {
  const a = row.values.AdditionalFields;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return '';
  const v = (a as Record<string, unknown>)[field];
  return typeof v === 'string'
    ? v
    : v === undefined || v === null
      ? ''
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
}

/** A list field of the row's AdditionalFields. */
export function extraList(row: TableRow, field: string): string[] {
  const a = row.values.AdditionalFields;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return [];
  const v = (a as Record<string, unknown>)[field];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? [v] : [];
}

/** `DOMAIN\name` when the domain is known, else the name. */
export function accountLabel(row: TableRow): string {
  const name = text(row, 'AccountName');
  const domain = text(row, 'AccountDomain');
  return domain && name ? `${domain}\\${name}` : name;
}

/** Ticket encryption types offline cracking favours: DES (1, 3) and RC4-HMAC (0x17, 0x18). RFC 3961, RFC 4757. */
/**
 * Kerberos encryption types by strength: DES 1, RC4 2, AES 3 (RFC 3961, 3962, 8009; RFC 4757).
 * Other types are not judged.
 */
const etypeStrengths: ReadonlyMap<number, number> = new Map([
  [0x1, 1],
  [0x3, 1],
  [0x17, 2],
  [0x18, 2],
  [0x11, 3],
  [0x12, 3],
  [0x13, 3],
  [0x14, 3],
]);
/** The strength of an AES type, the strongest. */
export const AES_STRENGTH = 3;

/** The strength of an encryption type written as the normalisers write it (`0x17`, or `23`). */
export function etypeStrength(value: string): number | undefined {
  const v = value.trim();
  const n = /^0x[0-9a-f]+$/i.test(v)
    ? Number.parseInt(v.slice(2), 16)
    : /^\d+$/.test(v)
      ? Number(v)
      : Number.NaN;
  return etypeStrengths.get(n);
}

/** Whether a Kerberos row's ticket is RC4- or DES-encrypted (`TicketEncryptionType` like `0x17`). */
export function isWeakTicket(row: TableRow): boolean {
  const strength = etypeStrength(extra(row, 'TicketEncryptionType'));
  return strength !== undefined && strength < AES_STRENGTH;
}
