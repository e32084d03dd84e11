// The shape every row made from packets shares: time with seven fractional digits like the EVTX
// rows, the client as IPAddress/Port, the server as DestinationIPAddress/DestinationPort, and the
// frame number in ReportId and AdditionalFields so an analyst can open the packet in Wireshark.
import type { Dynamic, TableRow } from '../rows.ts';

/** Where and when a row's activity was seen on the wire. */
export interface Where {
  readonly client: { readonly ip: string; readonly port: number };
  readonly server: { readonly ip: string; readonly port: number };
  readonly timestampUs: number;
  /** Zero-based frame index; Wireshark's frame number is one more. */
  readonly frame: number;
}

// Rows come in capture order, so most share the second of the row before.
let cachedSecond = Number.NaN;
let cachedBase = '';

/** ISO 8601 with seven fractional digits, like the EVTX rows, from microseconds. */
export function isoFromMicros(us: number): string {
  const second = Math.floor(us / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedBase = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return `${cachedBase}.${String(us - second * 1_000_000).padStart(6, '0')}0Z`;
}

/** A row of `table` seen at `where`; empty and undefined values are left out. */
export function networkRow(
  table: TableRow['table'],
  where: Where,
  values: Record<string, Dynamic | undefined>,
  extra: Record<string, Dynamic | undefined>,
): TableRow {
  const out: Record<string, Dynamic> = {
    Timestamp: isoFromMicros(where.timestampUs),
    IPAddress: where.client.ip,
    Port: where.client.port,
    DestinationIPAddress: where.server.ip,
  };
  // IdentityDirectoryEvents has no DestinationPort column.
  if (table !== 'IdentityDirectoryEvents') out.DestinationPort = where.server.port;
  out.ReportId = `net:${where.frame + 1}`;
  for (const k in values) {
    const v = values[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  const additional: Record<string, Dynamic> = { Source: 'network', Frame: where.frame + 1 };
  for (const k in extra) {
    const v = extra[k];
    if (v !== undefined && v !== '') additional[k] = v;
  }
  out.AdditionalFields = additional;
  return { table, values: out };
}

/** `0x…` text of a number, as the Windows normaliser writes status and option values. */
export const hex = (n: number | undefined): string | undefined =>
  n === undefined ? undefined : `0x${n.toString(16)}`;
