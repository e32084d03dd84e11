// Public surface of @palisade/schema: the tables as data, rows and their checks, ActionTypes.

export { DirectoryAction, LogonAction, QueryAction } from './action-types.ts';
export { serviceTables } from './defender-service-tables.ts';
export { columnTypes, defenderTables } from './defender-tables.ts';
export type { NetworkRows } from './normalise/network-identity.ts';
export { NetworkNormaliser, normaliseCapture } from './normalise/network-identity.ts';
export {
  isSambaAuditText,
  normaliseSambaAudit,
  readSambaAuditLines,
  type SambaLineProblem,
} from './normalise/samba-audit.ts';
export { normaliseSecurityDeviceEvent } from './normalise/security-device.ts';
export { normaliseSysmonEvent } from './normalise/sysmon-device.ts';
export { type NormaliseOptions, normaliseWindowsEvent } from './normalise/windows-identity.ts';
export type { Dynamic, RowProblem, RowValue, TableRow } from './rows.ts';
export { checkRow } from './rows.ts';
export type { ColumnSpec, ColumnType, TableName, TableSpec } from './tables.ts';
export { columnsOf, palisadeTables, tableNames, tables } from './tables.ts';
