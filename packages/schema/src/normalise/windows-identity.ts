// The Windows event normaliser: one EVTX record → the Identity* row it describes (if any) plus
// the PalisadeRawEvents row that keeps the whole record. Which events make which rows is the
// registry below; each builder lives with its table's events.
import type { EvtxEvent } from '@palisade/evtx';
import type { Dynamic, RowValue, TableRow } from '../rows.ts';
import { securityDirectoryBuilders, systemDirectoryBuilders } from './windows-directory-events.ts';
import { type IdentityBuilder, readRecord, type WindowsRecord } from './windows-fields.ts';
import { ntlmLogonBuilders, securityLogonBuilders } from './windows-logon-events.ts';
import { securityQueryBuilders } from './windows-query-events.ts';

/** Builders by channel, then event id (System by provider first: its event ids are per provider). */
const byChannel: Readonly<Record<string, Readonly<Record<number, IdentityBuilder>>>> = {
  Security: { ...securityLogonBuilders, ...securityDirectoryBuilders, ...securityQueryBuilders },
  'Microsoft-Windows-NTLM/Operational': ntlmLogonBuilders,
};

function builderFor(r: WindowsRecord): IdentityBuilder | undefined {
  if (r.eventId === undefined || r.channel === undefined) return undefined;
  const builders = r.channel === 'System' ? systemDirectoryBuilders[r.provider ?? ''] : byChannel[r.channel];
  return builders?.[r.eventId];
}

/** How to normalise. */
export interface NormaliseOptions {
  /** Whether to add the PalisadeRawEvents row (default true); detection alone does not need it. */
  readonly raw?: boolean;
}

/**
 * Normalises one Windows event: zero or one Identity* row and always one PalisadeRawEvents row,
 * all sharing a ReportId (`computer:channel:recordId`). Missing fields give empty values.
 *
 * @example
 * for await (const event of readEvtx('Security.evtx')) rows.push(...normaliseWindowsEvent(event));
 */
export function normaliseWindowsEvent(
  event: EvtxEvent,
  source = 'evtx',
  options: NormaliseOptions = {},
): TableRow[] {
  const record = readRecord(event);
  const recordId = wholeNumber(event?.system?.eventRecordId) ?? wholeNumber(event?.recordId);
  const reportId = `${record.computer ?? ''}:${record.channel ?? ''}:${recordId ?? ''}`;
  const timestamp =
    typeof event?.timestamp === 'string' && isTimestamp(event.timestamp) ? event.timestamp : undefined;
  const rows: TableRow[] = [];
  const draft = builderFor(record)?.(record);
  if (draft) {
    // Built key by key: this runs for every record, and spreads and entries() cost.
    const values: Record<string, RowValue> = {};
    if (timestamp !== undefined) values.Timestamp = timestamp;
    for (const k in draft.values) {
      const v = draft.values[k];
      if (v !== undefined) values[k] = v;
    }
    values.ReportId = reportId;
    rows.push({ table: draft.table, values });
  }
  if (options.raw === false) return rows;
  const data: Dynamic | undefined = event?.eventData ?? event?.userData;
  rows.push({
    table: 'PalisadeRawEvents',
    values: defined({
      Timestamp: timestamp,
      Source: source,
      DeviceName: record.computer,
      Channel: record.channel,
      Provider: record.provider,
      EventId: record.eventId,
      RecordId: recordId,
      ReportId: reportId,
      Data: data,
    }),
  });
  return rows;
}

// The EVTX reader's ISO form is checked field by field without allocating (it runs for every
// record); anything else goes to Date.parse.
const isoTimestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z$/;
function isTimestamp(text: string): boolean {
  if (!isoTimestamp.test(text)) return !Number.isNaN(Date.parse(text));
  const two = (at: number) => (text.charCodeAt(at) - 48) * 10 + (text.charCodeAt(at + 1) - 48);
  const month = two(5);
  const day = two(8);
  return (
    month >= 1 && month <= 12 && day >= 1 && day <= 31 && two(11) <= 23 && two(14) <= 59 && two(17) <= 59
  );
}

function wholeNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** Row values without the absent ones. */
function defined(values: Record<string, RowValue | undefined>): Record<string, RowValue> {
  const out: Record<string, RowValue> = {};
  for (const k in values) {
    const v = values[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
