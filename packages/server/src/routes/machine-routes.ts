// `/api/machines`: the devices the instance has seen — computers that logged the events sensors
// sent, and devices of Device* rows — in MDE's Machine shape (reference §4.4), as far as the data
// tells. Onboarding, OS and risk come with the endpoint sensor.
import { createHash } from 'node:crypto';
import type { EventStore } from '@palisade/store';
import { readODataQuery } from '../api/odata-entity.ts';
import { machinesEntitySet } from '../api/odata-entity-sets.ts';
import { applyODataQuery } from '../api/odata-evaluate.ts';
import { problemFromODataErrors } from '../api/problem.ts';
import { scopeOf } from '../auth/authorize.ts';
import { deviceGroupOf } from '../auth/device-groups.ts';
import { loadDeviceGroups } from '../http/credentials.ts';
import { fail, failWith, json, type Route } from '../http/route.ts';
import { odataEntity, odataPage, type RouteContext } from './context.ts';

/** MDE marks a device Inactive after 7 days without a signal. */
export const machineInactiveMs = 7 * 86_400_000;

// Where device names are: the computer that logged a raw event, the DC an identity event was
// logged on, and the device of endpoint tables.
const devicesSeen = `
SELECT lower(name) AS name, min(ts) AS first_seen, max(ts) AS last_seen,
       arg_max(ip, ts) FILTER (WHERE ip IS NOT NULL AND ip <> '') AS last_ip
FROM (
  SELECT "DeviceName" AS name, "Timestamp" AS ts, NULL AS ip FROM "PalisadeRawEvents"
  UNION ALL SELECT "DestinationDeviceName", "Timestamp", "DestinationIPAddress" FROM "IdentityLogonEvents"
  UNION ALL SELECT "DestinationDeviceName", "Timestamp", "DestinationIPAddress" FROM "IdentityDirectoryEvents"
  UNION ALL SELECT "DestinationDeviceName", "Timestamp", "DestinationIPAddress" FROM "IdentityQueryEvents"
  UNION ALL SELECT "DeviceName", "Timestamp", NULL FROM "DeviceInfo"
  UNION ALL SELECT "DeviceName", "Timestamp", NULL FROM "DeviceProcessEvents"
  UNION ALL SELECT "DeviceName", "Timestamp", NULL FROM "DeviceLogonEvents"
) WHERE name IS NOT NULL AND name <> ''
GROUP BY 1 ORDER BY 1`;

export interface MachineEntity {
  readonly id: string;
  readonly computerDnsName: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly osPlatform: string | null;
  readonly version: string | null;
  readonly lastIpAddress: string | null;
  readonly healthStatus: 'Active' | 'Inactive';
  readonly onboardingStatus: 'onboarded' | 'InsufficientInfo';
  readonly riskScore: 'None';
  readonly exposureLevel: 'None';
  readonly deviceValue: 'Normal';
  readonly rbacGroupId: null;
  readonly rbacGroupName: string;
  readonly aadDeviceId: null;
  readonly machineTags: readonly string[];
}

/** The machines seen, by DNS name; MDE-style ids (40 hex digits) are the SHA-1 of the name. */
async function machinesSeen(events: EventStore, sensorHosts: ReadonlySet<string>, now: number) {
  const { rows } = await events.query(devicesSeen);
  return rows.map((row) => {
    const name = String(row.name);
    const lastSeen = new Date(String(row.last_seen)).toISOString();
    return {
      id: createHash('sha1').update(name).digest('hex'),
      computerDnsName: name,
      firstSeen: new Date(String(row.first_seen)).toISOString(),
      lastSeen,
      osPlatform: null,
      version: null,
      lastIpAddress: typeof row.last_ip === 'string' ? row.last_ip : null,
      healthStatus: now - Date.parse(lastSeen) > machineInactiveMs ? 'Inactive' : 'Active',
      onboardingStatus: sensorHosts.has(name.split('.')[0] ?? name) ? 'onboarded' : 'InsufficientInfo',
      riskScore: 'None',
      exposureLevel: 'None',
      deviceValue: 'Normal',
      rbacGroupId: null,
      rbacGroupName: '',
      aadDeviceId: null,
      machineTags: [],
    } satisfies MachineEntity;
  });
}

export function machineRoutes(context: RouteContext): Route[] {
  const { state, events } = context.instance;

  /** The machines the caller may see, each with its device group's name. */
  const visibleMachines = async (principal: Parameters<typeof scopeOf>[0]): Promise<MachineEntity[]> => {
    const sensors = await state.sensors.list();
    const hosts = new Set(sensors.map((s) => s.name.toLowerCase().split('.')[0] ?? ''));
    const machines = await machinesSeen(events, hosts, context.now().getTime());
    const config = await loadDeviceGroups(state);
    const scope = scopeOf(principal);
    return machines.flatMap((m) => {
      const group = deviceGroupOf({ name: m.computerDnsName }, config);
      return scope.canSee({ rbacGroupId: group.id }) ? [{ ...m, rbacGroupName: group.name }] : [];
    });
  };

  return [
    {
      method: 'GET',
      path: '/api/machines',
      permission: 'machines.read',
      audience: 'api',
      summary: 'List the devices seen',
      query: machinesEntitySet,
      responses: { 200: { description: 'A page of machines' } },
      tags: ['machines'],
      async handler(request) {
        const query = readODataQuery(request.url.searchParams, machinesEntitySet);
        if (!query.ok) failWith(problemFromODataErrors(query.errors, request.url.pathname));
        const machines = await visibleMachines(request.principal);
        return json(200, odataPage(context, 'Machines', applyODataQuery(machines, query.value)));
      },
    },
    {
      method: 'GET',
      path: '/api/machines/:id',
      permission: 'machines.read',
      audience: 'api',
      summary: 'Get a device by id or DNS name',
      responses: { 200: { description: 'The machine' } },
      tags: ['machines'],
      async handler(request) {
        const id = (request.params.id ?? '').toLowerCase();
        const machine = (await visibleMachines(request.principal)).find(
          (m) => m.id === id || m.computerDnsName === id,
        );
        if (machine === undefined) fail('not-found', `no machine ${request.params.id}`);
        return json(200, odataEntity(context, 'Machines', machine));
      },
    },
  ];
}
