// Device rows from an event's named fields. Each normaliser says, per event, which column each
// field fills (a FieldRule); fields that fill no column go to AdditionalFields as JSON text
// (Device tables type it `string`), so nothing the event says is lost from the row.
import type { EvtxEvent } from '@palisade/evtx';
import type { RowValue, TableRow } from '../rows.ts';
import { columnsOf, type TableName } from '../tables.ts';

export type DeviceTable = Extract<TableName, `Device${string}`>;

/** Column values a rule or a mapping produces; undefined values are left out of the row. */
export type Columns = Readonly<Record<string, RowValue | undefined>>;

/**
 * Reads one field's text into columns; undefined when the text cannot be read, so the field is
 * kept in AdditionalFields instead. Keys the table has no column for go to AdditionalFields too.
 */
export type FieldRule = (value: string) => Columns | undefined;

/** What one event makes: its table, ActionType, the rules for its fields and computed columns. */
export interface DeviceMapping {
  readonly table: DeviceTable;
  readonly actionType: string;
  readonly fields: Readonly<Record<string, FieldRule>>;
  readonly columns?: Columns;
}

/** An event's named fields, `-` and empty values left out. */
export type EventFields = Readonly<Record<string, string | string[]>>;

/** The named fields of an event that say something: Windows writes `-` or nothing for "no value". */
export function eventFields(event: EvtxEvent): EventFields {
  const out: Record<string, string | string[]> = {};
  const data = event?.eventData;
  if (typeof data !== 'object' || data === null) return out;
  for (const [name, value] of Object.entries(data)) {
    if (typeof value === 'string' ? !isAbsent(value) : Array.isArray(value) && value.length > 0)
      out[name] = value;
  }
  return out;
}

function isAbsent(v: string): boolean {
  const t = v.trim();
  return t === '' || t === '-';
}

/** Builds the Device row of one event from its mapping. */
export function deviceRow(event: EvtxEvent, fields: EventFields, mapping: DeviceMapping): TableRow {
  const columns = columnsOf(mapping.table);
  const recordId = event?.system?.eventRecordId ?? event?.recordId;
  const values: Record<string, RowValue> = {};
  const additional: Record<string, RowValue> = {};
  const put = (cols: Columns) => {
    for (const [k, v] of Object.entries(cols)) {
      if (v === undefined) continue;
      if (columns.has(k)) values[k] = v;
      else additional[k] = v;
    }
  };
  put({
    Timestamp: typeof event?.timestamp === 'string' ? event.timestamp : undefined,
    DeviceName: typeof event?.system?.computer === 'string' ? event.system.computer.toLowerCase() : undefined,
    ActionType: mapping.actionType,
    // MDE's ReportId is a per-device counter; the event record id is one.
    ReportId: typeof recordId === 'number' && Number.isSafeInteger(recordId) ? recordId : undefined,
  });
  for (const [name, value] of Object.entries(fields)) {
    const rule = mapping.fields[name];
    const cols = rule && typeof value === 'string' ? rule(value) : undefined;
    if (cols) put(cols);
    else additional[name] = value;
  }
  if (mapping.columns) put(mapping.columns);
  if (columns.has('AdditionalFields') && Object.keys(additional).length > 0) {
    values.AdditionalFields = JSON.stringify(additional);
  }
  return { table: mapping.table, values };
}

// Field rules. A prefix names the process a column describes: '' the process or file the event
// is about, 'InitiatingProcess' the one that acted.
type Prefix = '' | 'InitiatingProcess';

/** A field another field or the ActionType already says: it fills nothing and is not kept. */
export const consumed: FieldRule = () => ({});

/** Every rule's columns from one field; undefined when any rule cannot read it. */
export const all =
  (...rules: FieldRule[]): FieldRule =>
  (v) => {
    const out: Record<string, RowValue | undefined> = {};
    for (const rule of rules) {
      const cols = rule(v);
      if (!cols) return undefined;
      Object.assign(out, cols);
    }
    return out;
  };

/** The text as it is. */
export const text =
  (column: string): FieldRule =>
  (v) => ({ [column]: v });

/** A decimal or `0x` hexadecimal number (process ids, logon ids), within JavaScript's exact integers. */
export const long =
  (column: string): FieldRule =>
  (v) => {
    const n = parseNumber(v);
    return n === undefined ? undefined : { [column]: n };
  };

/** A TCP/UDP port; 0, which Windows logs when there is none, fills nothing. */
export const port =
  (column: string): FieldRule =>
  (v) => {
    const n = parseNumber(v);
    return n === undefined || n > 65535 ? undefined : n === 0 ? {} : { [column]: n };
  };

function parseNumber(v: string): number | undefined {
  const t = v.trim();
  const n = /^0x[0-9a-f]+$/i.test(t)
    ? Number.parseInt(t.slice(2), 16)
    : /^\d+$/.test(t)
      ? Number(t)
      : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Sysmon's UtcTime form, `2025-12-25 14:30:27.352` (UTC), as ISO 8601. */
export const utcTime =
  (column: string): FieldRule =>
  (v) => {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)$/.exec(v.trim());
    return m ? { [column]: `${m[1]}T${m[2]}Z` } : undefined;
  };

/** A full file path: FolderPath keeps it whole (as MDE does), FileName is its last part. */
export const path =
  (prefix: Prefix): FieldRule =>
  (v) => ({ [`${prefix}FolderPath`]: v, [`${prefix}FileName`]: v.slice(v.lastIndexOf('\\') + 1) });

/** `DOMAIN\name` as AccountDomain and AccountName; a name without a domain fills AccountName. */
export const account =
  (prefix: Prefix): FieldRule =>
  (v) => {
    const slash = v.indexOf('\\');
    return slash < 0
      ? { [`${prefix}AccountName`]: v }
      : { [`${prefix}AccountDomain`]: v.slice(0, slash), [`${prefix}AccountName`]: v.slice(slash + 1) };
  };

/** A SID; the NULL SID (`S-1-0-0`), which Windows logs when it has none, fills nothing. */
export const sid =
  (column: string): FieldRule =>
  (v) =>
    v === 'S-1-0-0' ? {} : { [column]: v };

/**
 * Sysmon's `Hashes` list, `SHA1=…,MD5=…,SHA256=…,IMPHASH=…`: each known algorithm fills its
 * column in lower case, as MDE writes hashes; the others (IMPHASH) go to AdditionalFields.
 */
export const hashes =
  (prefix: Prefix): FieldRule =>
  (v) => {
    const out: Record<string, string> = {};
    for (const part of v.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) return undefined;
      const algorithm = part.slice(0, eq).trim().toUpperCase();
      const digest = part.slice(eq + 1).trim();
      const column = Object.hasOwn(hashColumns, algorithm) ? hashColumns[algorithm] : undefined;
      out[column ? `${prefix}${column}` : algorithm] = column ? digest.toLowerCase() : digest;
    }
    return out;
  };
const hashColumns: Readonly<Record<string, string>> = { SHA1: 'SHA1', SHA256: 'SHA256', MD5: 'MD5' };

/** A value looked up in a table (a message token, a number); unknown values fill nothing. */
export const lookup =
  (column: string, table: Readonly<Record<string, string>>): FieldRule =>
  (v) => {
    const found = Object.hasOwn(table, v) ? table[v] : undefined;
    return found === undefined ? undefined : { [column]: found };
  };

/** Mandatory integrity labels (`S-1-16-…`, MS-DTYP §2.4.2.4) by the names MDE uses. */
export const integrityLevels: Readonly<Record<string, string>> = {
  'S-1-16-0': 'Untrusted',
  'S-1-16-4096': 'Low',
  'S-1-16-8192': 'Medium',
  'S-1-16-8448': 'MediumPlus',
  'S-1-16-12288': 'High',
  'S-1-16-16384': 'System',
  'S-1-16-20480': 'Protected',
};
