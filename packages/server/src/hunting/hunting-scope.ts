// The devices a hunting caller may see, as @palisade/kql's device scope: every device name and id
// in the event store, each put in its device group, kept when the caller's scope shows the group.
// Callers who see every group get no scope at all, so their queries carry no device filter.

import type { DeviceScope } from '@palisade/kql';
import { type TableName, tableNames, tables } from '@palisade/schema';
import type { EventStore, StateStore } from '@palisade/store';
import { type Principal, scopeOf } from '../auth/authorize.ts';
import { deviceGroupOf } from '../auth/device-groups.ts';
import { loadDeviceGroups } from '../http/credentials.ts';

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const hasColumn = (table: TableName, column: string) => tables[table].columns.some((c) => c.name === column);

/** Every (DeviceName, DeviceId) pair the hunting tables hold; a null name where a table has only ids. */
const devicePairsSql = (() => {
  const parts = tableNames.flatMap((table) => {
    const name = hasColumn(table, 'DeviceName');
    const id = hasColumn(table, 'DeviceId');
    if (!name && !id) return [];
    return [
      `SELECT ${name ? '"DeviceName"' : 'NULL'} AS name, ${id ? '"DeviceId"' : 'NULL'} AS id FROM ${quote(table)}`,
    ];
  });
  return `SELECT DISTINCT name, id FROM (${parts.join(' UNION ALL ')}) WHERE coalesce(name, '') <> '' OR coalesce(id, '') <> ''`;
})();

/**
 * The device scope of a principal's hunting queries, or undefined when it sees every device
 * group. A device id is visible only when every device name it appears with is; an id that never
 * appears with a name belongs to no known group and is hidden (scoping fails closed).
 */
export async function huntingScopeOf(
  principal: Principal,
  state: StateStore,
  events: EventStore,
): Promise<DeviceScope | undefined> {
  const scope = scopeOf(principal);
  if (scope.unrestricted) return undefined;
  if (scope.groups.length === 0) return { deviceNames: [], deviceIds: [] };
  const config = await loadDeviceGroups(state);
  const { rows } = await events.query(devicePairsSql);
  const visible = new Map<string, boolean>();
  const seeName = (name: string) => {
    let seen = visible.get(name);
    if (seen === undefined) {
      seen = scope.canSee({ rbacGroupId: deviceGroupOf({ name }, config).id });
      visible.set(name, seen);
    }
    return seen;
  };
  const names = new Set<string>();
  const ids = new Map<string, boolean>();
  for (const row of rows) {
    const name = typeof row.name === 'string' && row.name !== '' ? row.name : undefined;
    const id = typeof row.id === 'string' && row.id !== '' ? row.id : undefined;
    const seen = name !== undefined && seeName(name);
    if (name !== undefined && seen) names.add(name);
    if (id !== undefined && name !== undefined) ids.set(id, (ids.get(id) ?? true) && seen);
  }
  return {
    deviceNames: [...names].sort(),
    deviceIds: [...ids].flatMap(([id, seen]) => (seen ? [id] : [])).sort(),
  };
}
