// Device-group scoping: the devices a caller may see, applied to every table that has a
// DeviceName or DeviceId column, whatever the query says (rows of other devices never come back).
import type { SqlDialect, SqlParam } from './dialects/dialect.ts';

/**
 * The devices a caller may see. A table with a `DeviceName` column keeps rows whose name is in
 * `deviceNames`; one with only `DeviceId` keeps rows whose id is in `deviceIds`. A table with
 * either column that the scope says nothing about returns no rows (scoping fails closed). Tables
 * with neither column (AlertInfo, IdentityInfo, …) are not filtered.
 */
export interface DeviceScope {
  readonly deviceNames?: readonly string[];
  readonly deviceIds?: readonly string[];
}

/** The WHERE condition scoping a table with these columns, or undefined when it has no device column. */
export function scopeCondition(
  columns: readonly string[],
  scope: DeviceScope,
  dialect: SqlDialect,
  param: (value: SqlParam) => string,
  qualify: (column: string) => string,
): string | undefined {
  const has = (name: string) => columns.includes(name);
  const conditions: string[] = [];
  if (has('DeviceName') && scope.deviceNames) {
    const list = dialect.valuesFromJson(param(JSON.stringify(scope.deviceNames)), 'string');
    conditions.push(`${qualify('DeviceName')} IN (${list})`);
  } else if (has('DeviceId') && scope.deviceIds) {
    const list = dialect.valuesFromJson(param(JSON.stringify(scope.deviceIds)), 'string');
    conditions.push(`${qualify('DeviceId')} IN (${list})`);
  } else if (has('DeviceName') || has('DeviceId')) {
    conditions.push('false');
  }
  return conditions.length > 0 ? conditions.join(' AND ') : undefined;
}
