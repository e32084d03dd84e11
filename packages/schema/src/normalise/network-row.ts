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

/** ISO 8601 with seven fractional digits, like the EVTX rows, from microseconds. */
export function isoFromMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const base = new Date(ms).toISOString().slice(0, 19);
  const fraction = String(((us % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0');
  return `${base}.${fraction}0Z`;
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
    DestinationPort: where.server.port,
    ReportId: `net:${where.frame + 1}`,
  };
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') out[k] = v;
  const additional: Record<string, Dynamic> = { Source: 'network', Frame: where.frame + 1 };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') additional[k] = v;
  out.AdditionalFields = additional;
  if (table === 'IdentityDirectoryEvents') delete out.DestinationPort;
  return { table, values: out };
}

/** `0x…` text of a number, as the Windows normaliser writes status and option values. */
export const hex = (n: number | undefined): string | undefined =>
  n === undefined ? undefined : `0x${n.toString(16)}`;
