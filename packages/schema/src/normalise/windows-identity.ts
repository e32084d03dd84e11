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

/**
 * Normalises one Windows event: zero or one Identity* row and always one PalisadeRawEvents row,
 * all sharing a ReportId (`computer:channel:recordId`). Missing fields give empty values.
 *
 * @example
 * for await (const event of readEvtx('Security.evtx')) rows.push(...normaliseWindowsEvent(event));
 */
export function normaliseWindowsEvent(event: EvtxEvent, source = 'evtx'): TableRow[] {
  const record = readRecord(event);
  const recordId = wholeNumber(event?.system?.eventRecordId) ?? wholeNumber(event?.recordId);
  const reportId = `${record.computer ?? ''}:${record.channel ?? ''}:${recordId ?? ''}`;
  const timestamp =
    typeof event?.timestamp === 'string' && !Number.isNaN(Date.parse(event.timestamp))
      ? event.timestamp
      : undefined;
  const rows: TableRow[] = [];
  const draft = builderFor(record)?.(record);
  if (draft) {
    rows.push({
      table: draft.table,
      values: defined({ Timestamp: timestamp, ...draft.values, ReportId: reportId }),
    });
  }
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

function wholeNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** Row values without the absent ones. */
function defined(values: Record<string, RowValue | undefined>): Record<string, RowValue> {
  const out: Record<string, RowValue> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) out[k] = v;
  return out;
}
