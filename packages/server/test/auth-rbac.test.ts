// RBAC: the permission catalogue, device groups and scopes (in memory and as SQL on a real
// SQLite), user and API-client access in basic and RBAC mode, `authorize`, and the expected
// route × subject matrix for the end-to-end test.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  type AccessModel,
  authorize,
  expectedAccessMatrix,
  type Principal,
  type RouteDeclaration,
  resolveUserAccess,
  standardSubjects,
  userPrincipal,
  validateAccessModel,
} from '../src/auth/authorize.ts';
import {
  assignDeviceGroups,
  createScope,
  type DeviceFacts,
  type DeviceGroupConfig,
  deviceGroupOf,
  matchesRule,
  validateDeviceGroups,
  visibleDeviceGroups,
} from '../src/auth/device-groups.ts';
import {
  type ApiScope,
  apiScopeGrants,
  apiScopes,
  basicAccessLevels,
  mdiRoleGroupGrants,
  portalPermissionGrants,
  portalPermissions,
  routePermissions,
  routePermissionsOfPortal,
  tierRoleTemplates,
} from '../src/auth/permissions.ts';

const deviceGroups: DeviceGroupConfig = {
  // Deliberately not in rank order: ranks decide, not positions.
  groups: [
    {
      id: 'amer',
      name: 'AMER workstations',
      rank: 3,
      remediationLevel: 'semi-approval-all-folders',
      rule: { domains: ['amer.contoso.local'] },
      userGroups: ['soc-amer'],
    },
    {
      id: 'tier0',
      name: 'Tier 0 servers',
      rank: 1,
      remediationLevel: 'no-automated-response',
      rule: { names: ['dc*', 'adcs?'], osPlatforms: ['WindowsServer2022', 'WindowsServer2019'] },
      userGroups: ['soc-global'],
    },
    {
      id: 'emea',
      name: 'EMEA workstations',
      rank: 2,
      remediationLevel: 'full',
      rule: { domains: ['emea.contoso.local', '*.emea.contoso.local'] },
      userGroups: ['soc-emea'],
    },
    {
      id: 'lab',
      name: 'Lab',
      rank: 4,
      remediationLevel: 'full',
      rule: { tags: ['lab', 'test'] },
      userGroups: [],
    },
  ],
  ungrouped: { remediationLevel: 'semi-approval-core-folders', userGroups: ['soc-global'] },
};

const devices: readonly (DeviceFacts & { readonly id: string })[] = [
  { id: 'd1', name: 'dc01.emea.contoso.local', osPlatform: 'WindowsServer2022', tags: [] },
  { id: 'd2', name: 'emea-ws01.emea.contoso.local', osPlatform: 'Windows11', tags: [] },
  { id: 'd3', name: 'emea-ws02.paris.emea.contoso.local', osPlatform: 'Windows10', tags: [] },
  { id: 'd4', name: 'amer-ws01.amer.contoso.local', osPlatform: 'Windows11', tags: [] },
  { id: 'd5', name: 'road-1.contoso.local', domain: 'AMER.contoso.local', osPlatform: 'Windows11', tags: [] },
  { id: 'd6', name: 'dc02.amer.contoso.local', osPlatform: 'Linux', tags: [] },
  { id: 'd7', name: 'lab-1.lab.local', osPlatform: 'Linux', tags: ['TEST'] },
  { id: 'd8', name: 'mystery.other.local', osPlatform: 'macOS', tags: [] },
  { id: 'd9', name: 'adcs1.contoso.local', osPlatform: 'WindowsServer2019', tags: ['lab'] },
];

/** Which group each device must land in. */
const expectedGroups: Readonly<Record<string, string>> = {
  d1: 'tier0', // matches tier0 (rank 1) and emea (rank 2): the higher rank wins
  d2: 'emea',
  d3: 'emea', // *.emea.contoso.local
  d4: 'amer',
  d5: 'amer', // the explicit domain, not the DNS suffix
  d6: 'amer', // dc* but Linux: tier0 needs name AND OS, so the domain rule (rank 3) takes it
  d7: 'lab',
  d8: 'ungrouped',
  d9: 'tier0', // adcs? and a server OS beats the lab tag (rank 1 < 4)
};

const rbacModel: AccessModel = {
  mode: 'rbac',
  roles: [
    { id: 'r1', name: 'Tier 1 EMEA', permissions: tierRoleTemplates.tier1, userGroups: ['soc-emea'] },
    { id: 'r2', name: 'Tier 2 AMER', permissions: tierRoleTemplates.tier2, userGroups: ['soc-amer'] },
    { id: 'r3', name: 'Tier 3 global', permissions: tierRoleTemplates.tier3, userGroups: ['soc-global'] },
    {
      id: 'r4',
      name: 'Live response operators',
      permissions: ['viewData.securityOperations', 'liveResponse.advanced'],
      userGroups: ['ir-team'],
    },
    { id: 'r5', name: 'Read only', permissions: ['viewData.securityOperations'], userGroups: ['auditors'] },
  ],
  deviceGroups,
  mdiRoleGroups: { administrators: ['mdi-admins'], users: ['mdi-users'], viewers: ['mdi-viewers'] },
};

const basicModel: AccessModel = { ...rbacModel, mode: 'basic' };

const user = (name: string, userGroups: string[], extra: Partial<Parameters<typeof userPrincipal>[0]> = {}) =>
  ({ id: name, name, userGroups, ...extra }) as const;

describe('permission catalogue', () => {
  it('gives full access every route permission and read-only only reads', () => {
    expect([...routePermissionsOfPortal(basicAccessLevels['full-access'])].sort()).toEqual(
      [...routePermissions].sort(),
    );
    const reads = [...routePermissionsOfPortal(basicAccessLevels['read-only'])].sort();
    expect(reads).toEqual([
      'actions.read',
      'alerts.read',
      'hunting.run',
      'identities.read',
      'incidents.read',
      'indicators.read',
      'machines.read',
      'sensors.read',
      'settings.read',
    ]);
  });

  it('lets no API scope manage users, settings, sensors or read the audit log', () => {
    const granted = new Set(apiScopes.flatMap((s) => apiScopeGrants[s]));
    for (const p of [
      'users.manage',
      'settings.manage',
      'system.manage',
      'sensors.manage',
      'audit.read',
      'settings.read',
    ]) {
      expect(granted.has(p as never), p).toBe(false);
    }
  });

  it('maps the §5.2 API tasks to the MDE permissions the reference names', () => {
    const holders = (p: string) =>
      portalPermissions.filter((q) => (portalPermissionGrants[q] as readonly string[]).includes(p));
    expect(holders('alerts.read')).toEqual(['viewData.securityOperations']); // List alerts → View data
    expect(holders('machines.read')).toEqual(['viewData.securityOperations']);
    expect(holders('hunting.run')).toEqual(['viewData.securityOperations']); // Run advanced query → View data
    expect(holders('alerts.write')).toEqual(['alertsInvestigation']); // Update alert → Alerts investigation
    expect(holders('machines.collect')).toEqual(['alertsInvestigation']); // Collect package → Alerts investigation
    expect(holders('machines.isolate')).toEqual(['activeRemediation.securityOperations']);
    expect(holders('machines.scan')).toEqual(['activeRemediation.securityOperations', 'alertsInvestigation']);
    expect(holders('users.manage')).toEqual(['managePortalSystemSettings']); // roles and device groups
    expect(holders('sensors.manage')).toEqual(['manageSecuritySettings']); // onboarding/offboarding
  });

  it('orders the MDI role groups Viewers ⊂ Users ⊂ Administrators, with Viewers changing nothing', () => {
    const viewers = new Set(mdiRoleGroupGrants.viewers);
    const users = new Set(mdiRoleGroupGrants.users);
    expect([...viewers].every((p) => users.has(p))).toBe(true);
    expect([...users].every((p) => mdiRoleGroupGrants.administrators.includes(p))).toBe(true);
    expect([...viewers].every((p) => p.endsWith('.read') || p === 'hunting.run')).toBe(true);
    expect(users.has('sensors.manage')).toBe(false); // sensor management: Administrators only
    expect(users.has('alerts.write')).toBe(true); // change alert status: Administrators and Users
  });
});

describe('device groups', () => {
  it('puts each device in the highest-ranked matching group, else Ungrouped devices', () => {
    for (const device of devices) {
      expect(deviceGroupOf(device, deviceGroups).id, device.name).toBe(expectedGroups[device.id]);
    }
    const assigned = assignDeviceGroups(devices, deviceGroups);
    expect(Object.fromEntries([...assigned].map(([id, g]) => [id, g.id]))).toEqual(expectedGroups);
    expect(assigned.get('d8')).toEqual({ id: 'ungrouped', name: 'Ungrouped devices (default)' });
  });

  it('matches names with * and ?, host names alone unless the pattern has a dot, case-blind', () => {
    const d = (name: string): DeviceFacts => ({ name });
    expect(matchesRule(d('EMEA-WS01.emea.contoso.local'), { names: ['emea-*'] })).toBe(true);
    expect(matchesRule(d('emea-ws01.emea.contoso.local'), { names: ['*.contoso.local'] })).toBe(true);
    expect(matchesRule(d('emea-ws01.emea.contoso.local'), { names: ['*.fabrikam.com'] })).toBe(false);
    expect(matchesRule(d('adcs1'), { names: ['adcs?'] })).toBe(true);
    expect(matchesRule(d('adcs12'), { names: ['adcs?'] })).toBe(false);
    expect(matchesRule(d('a+b(c).x'), { names: ['a+b(c)'] })).toBe(true);
    expect(matchesRule(d('anything'), {})).toBe(false);
    expect(matchesRule(d('anything'), { names: [], tags: [] })).toBe(false);
  });

  it('validates names, ranks, rules and value counts', () => {
    expect(validateDeviceGroups(deviceGroups)).toEqual([]);
    const first = deviceGroups.groups[0];
    if (first === undefined) throw new Error('fixture');
    const bad: DeviceGroupConfig = {
      ...deviceGroups,
      groups: [
        ...deviceGroups.groups,
        { ...first, id: 'amer2', rank: 3 },
        { ...first, id: 'ungrouped', name: 'Ungrouped devices (default)', rank: 0 },
        { ...first, id: 'x', name: 'X', rank: 9, rule: {} },
        {
          ...first,
          id: 'y',
          name: 'Y',
          rank: 10,
          rule: { tags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
        },
        { ...first, id: 'z', name: 'Z', rank: 11, rule: { names: [' '] } },
      ],
    };
    expect(validateDeviceGroups(bad).map((p) => `${p.group}: ${p.code}`)).toEqual([
      'AMER workstations: device-group/duplicate-name',
      'AMER workstations: device-group/duplicate-rank',
      'Ungrouped devices (default): device-group/reserved',
      'Ungrouped devices (default): device-group/duplicate-name',
      'Ungrouped devices (default): device-group/bad-rank',
      'X: device-group/empty-rule',
      'Y: device-group/too-many-values',
      'Z: device-group/empty-value',
    ]);
  });

  it('shows a user the groups of their user groups plus groups given to nobody', () => {
    const ids = (groups: readonly string[]) => visibleDeviceGroups(deviceGroups, groups).map((g) => g.id);
    expect(ids(['soc-emea'])).toEqual(['emea', 'lab']);
    expect(ids(['soc-amer', 'soc-emea'])).toEqual(['emea', 'amer', 'lab']);
    expect(ids(['soc-global'])).toEqual(['tier0', 'lab', 'ungrouped']);
    expect(ids([])).toEqual(['lab']);
  });
});

// better-sqlite3 is the store package's dependency; tests borrow it to run the predicates for real.
const Database = createRequire(import.meta.url)(
  '../../store/node_modules/better-sqlite3',
) as typeof import('better-sqlite3');

describe('scope as SQL on SQLite', () => {
  const db = new Database(':memory:');
  db.exec(`
    CREATE TABLE devices (id TEXT PRIMARY KEY, name TEXT, rbac_group_id TEXT);
    CREATE TABLE alerts (id TEXT PRIMARY KEY, device_id TEXT, rbac_group_id TEXT);
    CREATE TABLE incident_devices (incident_id TEXT, rbac_group_id TEXT);
    CREATE TABLE DeviceProcessEvents (DeviceName TEXT, MachineGroup TEXT);
  `);
  const assigned = assignDeviceGroups(devices, deviceGroups);
  for (const device of devices) {
    const group = assigned.get(device.id);
    db.prepare('INSERT INTO devices VALUES (?, ?, ?)').run(device.id, device.name, group?.id);
    db.prepare('INSERT INTO alerts VALUES (?, ?, ?)').run(`a-${device.id}`, device.id, group?.id);
    db.prepare('INSERT INTO DeviceProcessEvents VALUES (?, ?)').run(device.name, group?.name);
  }
  // An identity alert with no device: unattributed, so only unrestricted scopes see it.
  db.prepare('INSERT INTO alerts VALUES (?, ?, ?)').run('a-identity', null, null);
  // Incident 1 spans EMEA and AMER; incident 2 is tier-0 only.
  for (const [incident, group] of [
    ['i1', 'emea'],
    ['i1', 'amer'],
    ['i2', 'tier0'],
  ] as const) {
    db.prepare('INSERT INTO incident_devices VALUES (?, ?)').run(incident, group);
  }

  const emeaTier1 = resolveUserAccess(user('eve', ['soc-emea']), rbacModel).scope;
  const admin = resolveUserAccess(
    user('ada', [], { directoryRole: 'global-administrator' }),
    rbacModel,
  ).scope;
  const column = (sql: string, params: readonly unknown[]) =>
    (db.prepare(sql).all(...params) as Record<string, string>[]).map((r) => Object.values(r)[0]);

  it('filters devices and alerts by group id', () => {
    const p = emeaTier1.deviceScopeSql('rbac_group_id');
    expect(p).toEqual({ sql: 'rbac_group_id IN (?, ?)', params: ['emea', 'lab'] });
    expect(column(`SELECT id FROM devices WHERE ${p.sql} ORDER BY id`, p.params)).toEqual(['d2', 'd3', 'd7']);
    expect(column(`SELECT id FROM alerts WHERE ${p.sql} ORDER BY id`, p.params)).toEqual([
      'a-d2',
      'a-d3',
      'a-d7',
    ]);
    const a = admin.deviceScopeSql('alerts.rbac_group_id');
    expect(a).toEqual({ sql: '1 = 1', params: [] });
    expect(column(`SELECT count(*) FROM alerts WHERE ${a.sql}`, a.params)).toEqual([10]);
  });

  it('filters incidents through their devices with EXISTS', () => {
    const p = emeaTier1.deviceScopeSql('d.rbac_group_id');
    const sql = `SELECT DISTINCT incident_id FROM incident_devices i
      WHERE EXISTS (SELECT 1 FROM incident_devices d WHERE d.incident_id = i.incident_id AND ${p.sql})`;
    expect(column(sql, p.params)).toEqual(['i1']);
  });

  it('filters hunting tables by MachineGroup name', () => {
    const p = emeaTier1.deviceScopeSql('MachineGroup', { by: 'name' });
    expect(p.params).toEqual(['EMEA workstations', 'Lab']);
    expect(column(`SELECT DeviceName FROM DeviceProcessEvents WHERE ${p.sql} ORDER BY 1`, p.params)).toEqual([
      'emea-ws01.emea.contoso.local',
      'emea-ws02.paris.emea.contoso.local',
      'lab-1.lab.local',
    ]);
  });

  it('matches nothing for an empty scope and keeps hostile group names as parameters', () => {
    const none = createScope(false, []).deviceScopeSql('rbac_group_id');
    expect(column(`SELECT count(*) FROM devices WHERE ${none.sql}`, none.params)).toEqual([0]);
    const hostile = createScope(false, [{ id: "x') OR 1=1 --", name: 'x' }]).deviceScopeSql('rbac_group_id');
    expect(column(`SELECT count(*) FROM devices WHERE ${hostile.sql}`, hostile.params)).toEqual([0]);
  });

  it('numbers PostgreSQL placeholders and refuses anything but a column reference', () => {
    expect(emeaTier1.deviceScopeSql('a."Group"', { placeholder: (i) => `$${i + 3}` })).toEqual({
      sql: 'a."Group" IN ($3, $4)',
      params: ['emea', 'lab'],
    });
    expect(() => emeaTier1.deviceScopeSql('x) OR (1=1')).toThrow(TypeError);
    expect(() => emeaTier1.deviceScopeSql('')).toThrow(TypeError);
  });

  it('agrees with the in-memory filter', () => {
    const rows = devices.map((d) => ({ id: d.id, rbacGroupId: assigned.get(d.id)?.id }));
    const p = emeaTier1.deviceScopeSql('rbac_group_id');
    expect(emeaTier1.filterDevices(rows).map((r) => r.id)).toEqual(
      column(`SELECT id FROM devices WHERE ${p.sql} ORDER BY id`, p.params),
    );
    expect(emeaTier1.canSee({ rbacGroupId: null })).toBe(false);
    expect(admin.canSee({ rbacGroupId: null })).toBe(true);
    expect(emeaTier1.canSeeAny(['amer', 'emea'])).toBe(true);
    expect(emeaTier1.canSeeAny(['amer', 'tier0'])).toBe(false);
  });
});

describe('user access', () => {
  const access = (name: string, groups: string[], model: AccessModel, extra = {}) =>
    resolveUserAccess(user(name, groups, extra), model);
  const groupIds = (a: ReturnType<typeof access>) =>
    a.scope.unrestricted ? 'all' : a.scope.groups.map((g) => g.id);

  it('basic mode: administrators full, readers read-only, others nothing; no device restriction', () => {
    const admin = access('ada', [], basicModel, { directoryRole: 'security-administrator' });
    expect(admin.permissions.size).toBe(routePermissions.length);
    expect(groupIds(admin)).toBe('all');
    const reader = access('rob', ['soc-emea'], basicModel, { directoryRole: 'security-reader' });
    expect(reader.grantedBy).toEqual(['basic:read-only']);
    expect(reader.permissions.has('alerts.read')).toBe(true);
    expect(reader.permissions.has('alerts.write')).toBe(false);
    expect(groupIds(reader)).toBe('all');
    const nobody = access('nat', ['soc-emea'], basicModel);
    expect(nobody.permissions.size).toBe(0);
    expect(nobody.scope.canSee({ rbacGroupId: 'lab' })).toBe(false);
  });

  it('RBAC mode: administrators hold the built-in role and every group', () => {
    const admin = access('ada', [], rbacModel, { directoryRole: 'global-administrator' });
    expect(admin.grantedBy).toEqual(['Microsoft Defender for Endpoint administrator']);
    expect(admin.permissions.size).toBe(routePermissions.length);
    expect(groupIds(admin)).toBe('all');
  });

  it('RBAC mode: a Security Reader without a role loses access', () => {
    const reader = access('rob', [], rbacModel, { directoryRole: 'security-reader' });
    expect(reader.permissions.size).toBe(0);
    expect(groupIds(reader)).toEqual([]);
  });

  it('RBAC mode: roles come from user groups, device groups too', () => {
    const t1 = access('eve', ['soc-emea'], rbacModel);
    expect(t1.grantedBy).toEqual(['Tier 1 EMEA']);
    expect([...t1.portalPermissions]).toEqual([...tierRoleTemplates.tier1]);
    expect(t1.permissions.has('alerts.write')).toBe(true);
    expect(t1.permissions.has('machines.isolate')).toBe(false);
    expect(groupIds(t1)).toEqual(['emea', 'lab']);
    const t2 = access('al', ['soc-amer'], rbacModel);
    expect(t2.permissions.has('machines.isolate')).toBe(true);
    expect(t2.permissions.has('liveresponse.basic')).toBe(true);
    expect(t2.permissions.has('liveresponse.advanced')).toBe(false);
    expect(groupIds(t2)).toEqual(['amer', 'lab']);
    const both = access('bo', ['soc-amer', 'ir-team'], rbacModel);
    expect(both.grantedBy).toEqual(['Tier 2 AMER', 'Live response operators']);
    expect(both.permissions.has('liveresponse.advanced')).toBe(true);
  });

  it('adds MDI role-group permissions without widening the device scope', () => {
    const mdiAdmin = access('mia', ['mdi-admins'], rbacModel);
    expect(mdiAdmin.grantedBy).toEqual(['mdi:administrators']);
    expect(mdiAdmin.permissions.has('sensors.manage')).toBe(true);
    expect(groupIds(mdiAdmin)).toEqual(['lab']);
    const viewer = access('vic', ['mdi-viewers'], basicModel);
    expect(viewer.permissions.has('alerts.read')).toBe(true);
    expect(viewer.permissions.has('alerts.write')).toBe(false);
  });

  it('gives a disabled user nothing', () => {
    const disabled = access('dan', ['soc-global', 'mdi-admins'], rbacModel, {
      directoryRole: 'global-administrator',
      disabled: true,
    });
    expect(disabled.permissions.size).toBe(0);
    expect(groupIds(disabled)).toEqual([]);
  });

  it('never shows a Tier 1 user another region: devices, alerts, incidents', () => {
    const assigned = assignDeviceGroups(devices, deviceGroups);
    for (const [name, groups, allowed] of [
      ['eve', ['soc-emea'], ['emea', 'lab']],
      ['al', ['soc-amer'], ['amer', 'lab']],
    ] as const) {
      const scope = access(name, [...groups], rbacModel).scope;
      const rows = devices.map((d) => ({ id: d.id, rbacGroupId: assigned.get(d.id)?.id }));
      const seen = scope.filterDevices(rows);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((r) => (allowed as readonly (string | undefined)[]).includes(r.rbacGroupId))).toBe(
        true,
      );
      expect(rows.filter((r) => !seen.includes(r)).every((r) => !scope.canSee(r))).toBe(true);
    }
  });

  it('validates role names and that device groups go only to user groups with a role', () => {
    expect(validateAccessModel(rbacModel)).toEqual([]);
    const broken: AccessModel = {
      ...rbacModel,
      roles: [...rbacModel.roles, { id: 'r9', name: 'tier 1 emea', permissions: [], userGroups: [] }],
      deviceGroups: {
        ...deviceGroups,
        ungrouped: { ...deviceGroups.ungrouped, userGroups: ['nobody-group'] },
      },
    };
    expect(validateAccessModel(broken).map((p) => p.code)).toEqual([
      'access/duplicate-role',
      'access/unknown-role-group',
    ]);
  });
});

describe('authorize', () => {
  const eve = userPrincipal(user('eve', ['soc-emea']), rbacModel);
  const ada = userPrincipal(user('ada', [], { directoryRole: 'global-administrator' }), rbacModel);
  const client = (scopes: readonly ApiScope[]): Principal => ({
    kind: 'api-client',
    clientId: 'c1',
    name: 'SOAR',
    scopes,
  });

  it('answers 401 without a principal, 403 without the permission, allows public routes', () => {
    expect(authorize({ kind: 'anonymous' }, 'alerts.read')).toMatchObject({ allow: false, status: 401 });
    expect(authorize({ kind: 'anonymous' }, 'authenticated')).toMatchObject({ allow: false, status: 401 });
    expect(authorize({ kind: 'anonymous' }, 'public')).toEqual({ allow: true });
    expect(authorize(eve, 'machines.isolate')).toEqual({
      allow: false,
      code: 'auth/forbidden',
      status: 403,
      reason: 'user eve lacks the machines.isolate permission',
    });
    expect(authorize(eve, 'authenticated')).toEqual({ allow: true });
  });

  it('hides resources outside the device scope (404), incidents visible through any device', () => {
    expect(authorize(eve, 'alerts.write', { deviceGroupIds: ['emea'] })).toEqual({ allow: true });
    expect(authorize(eve, 'alerts.read', { deviceGroupIds: ['amer'] })).toEqual({
      allow: false,
      code: 'auth/out-of-scope',
      status: 404,
      reason: 'user eve cannot see device group amer',
    });
    expect(authorize(eve, 'incidents.read', { deviceGroupIds: ['amer', 'emea'] })).toEqual({ allow: true });
    expect(authorize(eve, 'alerts.read', { deviceGroupIds: [null] })).toMatchObject({ status: 404 });
    expect(authorize(ada, 'alerts.read', { deviceGroupIds: [null] })).toEqual({ allow: true });
    // The permission is checked first: no existence oracle for callers without it.
    expect(authorize(eve, 'machines.isolate', { deviceGroupIds: ['amer'] })).toMatchObject({ status: 403 });
  });

  it('lets Ti.ReadWrite change only the client’s own indicators, Ti.ReadWrite.All any', () => {
    const own = { owner: { kind: 'api-client', id: 'c1' } } as const;
    const other = { owner: { kind: 'user', id: 'ada' } } as const;
    expect(authorize(client(['Ti.ReadWrite']), 'indicators.write', own)).toEqual({ allow: true });
    expect(authorize(client(['Ti.ReadWrite']), 'indicators.write')).toEqual({ allow: true });
    expect(authorize(client(['Ti.ReadWrite']), 'indicators.write', other)).toMatchObject({
      allow: false,
      code: 'auth/not-owner',
      status: 403,
    });
    expect(authorize(client(['Ti.ReadWrite', 'Ti.ReadWrite.All']), 'indicators.write', other)).toEqual({
      allow: true,
    });
    expect(authorize(client(['Ti.ReadWrite']), 'indicators.read', other)).toEqual({ allow: true });
  });

  it('gives API clients every device group', () => {
    expect(authorize(client(['Alert.Read.All']), 'alerts.read', { deviceGroupIds: ['tier0'] })).toEqual({
      allow: true,
    });
  });
});

// A slice of the server's routes: MDE-compatible API paths (§4.3) and portal routes.
const routes: readonly RouteDeclaration[] = [
  { method: 'POST', path: '/api/auth/login', permission: 'public' },
  { method: 'POST', path: '/oauth2/v2.0/token', permission: 'public' },
  { method: 'GET', path: '/api/auth/me', permission: 'authenticated' },
  { method: 'GET', path: '/api/alerts', permission: 'alerts.read' },
  { method: 'PATCH', path: '/api/alerts/:id', permission: 'alerts.write' },
  { method: 'GET', path: '/api/incidents', permission: 'incidents.read' },
  { method: 'PATCH', path: '/api/incidents/:id', permission: 'incidents.write' },
  { method: 'GET', path: '/api/machines', permission: 'machines.read' },
  { method: 'POST', path: '/api/machines/:id/isolate', permission: 'machines.isolate' },
  { method: 'POST', path: '/api/machines/:id/runliveresponse', permission: 'liveresponse.advanced' },
  { method: 'POST', path: '/api/advancedhunting/run', permission: 'hunting.run' },
  { method: 'GET', path: '/api/sensors', permission: 'sensors.read' },
  { method: 'POST', path: '/api/sensors/access-key', permission: 'sensors.manage' },
  { method: 'PUT', path: '/api/settings/notifications', permission: 'settings.manage' },
  { method: 'POST', path: '/api/users', permission: 'users.manage' },
  { method: 'GET', path: '/api/audit', permission: 'audit.read' },
];

describe('expected access matrix', () => {
  const subjects = [
    ...standardSubjects(rbacModel, apiScopes),
    ...standardSubjects(basicModel, []).map((s) => ({ ...s, name: `basic/${s.name}` })),
  ];

  it('has one cell per route and subject, and no problems for a well-declared table', () => {
    const matrix = expectedAccessMatrix(routes, subjects);
    expect(matrix.problems).toEqual([]);
    expect(matrix.cells).toHaveLength(routes.length * subjects.length);
  });

  it('expects what the roles grant', () => {
    const { cells } = expectedAccessMatrix(routes, subjects);
    const row = (subject: string) =>
      Object.fromEntries(
        cells.filter((c) => c.subject === subject).map((c) => [`${c.method} ${c.path}`, c.expected]),
      );
    expect(row('role:Tier 1 EMEA')).toEqual({
      'POST /api/auth/login': 'allow',
      'POST /oauth2/v2.0/token': 'allow',
      'GET /api/auth/me': 'allow',
      'GET /api/alerts': 'allow',
      'PATCH /api/alerts/:id': 'allow',
      'GET /api/incidents': 'allow',
      'PATCH /api/incidents/:id': 'allow',
      'GET /api/machines': 'allow',
      'POST /api/machines/:id/isolate': 403,
      'POST /api/machines/:id/runliveresponse': 403,
      'POST /api/advancedhunting/run': 'allow',
      'GET /api/sensors': 'allow',
      'POST /api/sensors/access-key': 403,
      'PUT /api/settings/notifications': 403,
      'POST /api/users': 403,
      'GET /api/audit': 403,
    });
    expect(Object.values(row('anonymous'))).toEqual(['allow', 'allow', ...Array(14).fill(401)]);
    expect(Object.values(row('global-administrator')).every((e) => e === 'allow')).toBe(true);
    expect(row('security-reader')['GET /api/alerts']).toBe(403); // RBAC on: readers lose access
    expect(row('basic/security-reader')['GET /api/alerts']).toBe('allow');
    expect(row('basic/security-reader')['PATCH /api/alerts/:id']).toBe(403);
    expect(row('api:AdvancedHunting.Read.All')['POST /api/advancedhunting/run']).toBe('allow');
    expect(row('api:AdvancedHunting.Read.All')['GET /api/alerts']).toBe(403);
    expect(row('api:Machine.LiveResponse')['POST /api/machines/:id/runliveresponse']).toBe('allow');
    expect(row('mdi:viewers')['PATCH /api/alerts/:id']).toBe(403);
    expect(row('mdi:users')['PATCH /api/alerts/:id']).toBe('allow');
    expect(row('mdi:users')['POST /api/sensors/access-key']).toBe(403);
    expect(row('mdi:administrators')['POST /api/sensors/access-key']).toBe('allow');
    expect(Object.values(row('disabled-administrator')).filter((e) => e === 'allow')).toHaveLength(3);
  });

  it('reports a route without a permission as an error, and unknown, duplicate or bad declarations', () => {
    const { cells, problems } = expectedAccessMatrix(
      [
        ...routes,
        { method: 'DELETE', path: '/api/indicators/:id' },
        { method: 'GET', path: '/api/reports', permission: '' },
        { method: 'GET', path: '/api/secrets', permission: 'secrets.read' },
        { method: 'GET', path: '/api/alerts', permission: 'alerts.read' },
        { method: 'FETCH', path: '/api/x', permission: 'public' },
      ],
      subjects,
    );
    expect(problems).toEqual([
      {
        code: 'route/no-permission',
        route: 'DELETE /api/indicators/:id',
        message: 'expected a permission, `authenticated` or `public`, found none',
      },
      {
        code: 'route/no-permission',
        route: 'GET /api/reports',
        message: 'expected a permission, `authenticated` or `public`, found none',
      },
      {
        code: 'route/unknown-permission',
        route: 'GET /api/secrets',
        message: 'expected a route permission, found "secrets.read"',
      },
      { code: 'route/duplicate', route: 'GET /api/alerts', message: 'the route is declared more than once' },
      { code: 'route/bad-method', route: 'FETCH /api/x', message: 'unknown HTTP method FETCH' },
    ]);
    expect(cells.some((c) => c.path === '/api/indicators/:id')).toBe(false);
  });
});
