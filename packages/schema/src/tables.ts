// Every table Palisade stores: the Defender XDR tables (defender-tables.ts), the tables other
// Defender services fill (defender-service-tables.ts), and Palisade's own raw-event table, which
// keeps every record that no Defender table claims, so nothing is hidden from hunting.

import { serviceTables } from './defender-service-tables.ts';
import { type ColumnSpec, type ColumnType, defenderTables, type TableSpec } from './defender-tables.ts';

/** Palisade's tables, clearly named as ours. */
export const palisadeTables = {
  PalisadeRawEvents: {
    description: "every source record as read, with all its data; Palisade's own table",
    columns: [
      { name: 'Timestamp', type: 'datetime' },
      { name: 'Source', type: 'string', note: 'evtx | samba-audit | json | …' },
      { name: 'DeviceName', type: 'string', note: 'the computer that logged the record' },
      { name: 'Channel', type: 'string', note: 'event log channel, or the Samba audit type' },
      { name: 'Provider', type: 'string' },
      { name: 'EventId', type: 'int' },
      { name: 'RecordId', type: 'long' },
      {
        name: 'ReportId',
        type: 'string',
        note: 'the id shared with the Defender rows made from the same record',
      },
      { name: 'Data', type: 'dynamic', note: 'EventData/UserData or the JSON record, as name → value' },
    ],
  },
} as const satisfies Record<string, TableSpec>;

export const tables = { ...defenderTables, ...serviceTables, ...palisadeTables } as const;

export type TableName = keyof typeof tables;
export const tableNames = Object.keys(tables) as TableName[];

/** The columns of one table, by name. */
export function columnsOf(table: TableName): ReadonlyMap<string, ColumnSpec> {
  let m = columnIndex.get(table);
  if (!m) {
    m = new Map(tables[table].columns.map((c) => [c.name, c]));
    columnIndex.set(table, m);
  }
  return m;
}
const columnIndex = new Map<TableName, Map<string, ColumnSpec>>();

export type { ColumnSpec, ColumnType, TableSpec };
