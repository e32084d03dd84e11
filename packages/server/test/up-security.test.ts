// The instance's security, table-driven, against a real server on 127.0.0.1: every route of the
// exported route table called as every subject (users of each directory role, custom role and
// MDI role group in basic and RBAC mode, an API client per scope, nobody, a sensor certificate)
// answers what `expectedAccessMatrix` expects; a Tier 1 user scoped to the EU device group never
// sees US devices, alerts or incidents; malformed, wrongly typed and 100 MB bodies get 4xx and the
// server keeps serving. Keys, foreign CAs, deleted sensors and log redaction are in up-e2e.
// The access model is written to the running instance's state store, which the server reads on
// every request; its HTTP routes are exercised in up-admin.
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRuleSet } from '@palisade/detect';
import { loadSigmaPaths, windowsPipeline } from '@palisade/sigma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AccessModel,
  anonymous,
  authorize,
  expectedAccessMatrix,
  type MatrixCell,
  standardSubjects,
  validateAccessModel,
} from '../src/auth/authorize.ts';
import { hashPassword } from '../src/auth/passwords.ts';
import { apiScopes, type DirectoryRole, tierRoleTemplates } from '../src/auth/permissions.ts';
import { createLoginRateLimiter } from '../src/auth/rate-limit.ts';
import { loadAccessModel, stateApiClientStore, stateSessionStore } from '../src/http/credentials.ts';
import type { Route } from '../src/http/route.ts';
import { directoryRoleNames } from '../src/instance.ts';
import { createLogger } from '../src/log.ts';
import { instanceRoutes } from '../src/routes/route-table.ts';
import { createSensorRateLimiter } from '../src/sensors/sensor-rate-limit.ts';
import { type RunningInstance, startInstance } from '../src/up.ts';
import {
  type CallOptions,
  call as callTarget,
  MARKER_SERVICE,
  sensorKey,
  writeMarkerRule,
} from './loopback-client.ts';

const adminPassword = 'Quartz-Lantern-Orbit-2291';
const userPassword = 'Basalt-Meadow-Cipher-7730';
const domain = 'corp.lab.test';

let dir = '';
let instance: RunningInstance;
const logs: string[] = [];

const call = (path: string, options?: CallOptions) =>
  callTarget({ port: instance.port, caPem: instance.instance.ca.certificatePem }, path, options);
const jsonBody = (value: unknown, headers: Record<string, string> = {}, method = 'POST'): CallOptions => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value),
});

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function login(userName: string, password: string): Promise<Session> {
  const reply = await call('/api/auth/login', jsonBody({ userName, password }));
  expect(reply.status, `${userName}: ${reply.text}`).toBe(200);
  const cookie = String(reply.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  return { cookie, csrf: reply.json.csrfToken };
}

/** Headers of a portal request: the cookie, and for unsafe methods the CSRF token and same origin. */
function portal(session: Session): Record<string, string> {
  return { cookie: session.cookie, 'x-csrf-token': session.csrf, origin: instance.url };
}

async function bearerOf(client: { clientId: string; clientSecret: string }): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
  const reply = await call('/oauth2/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.json.access_token;
}

/** The route table the server serves, built from the running instance's own parts. */
function servedRoutes(running: RunningInstance): Route[] {
  return instanceRoutes(
    {
      instance: running.instance,
      pipeline: running.pipeline,
      sessions: stateSessionStore(running.instance.state),
      apiClients: stateApiClientStore(running.instance.state),
      loginLimiter: createLoginRateLimiter(),
      baseUrl: () => running.url,
      now: () => new Date(),
      totpSteps: new Map(),
      sensorHealth: running.sensorHealth,
      sensorLimiter: createSensorRateLimiter(),
      hunting: running.hunting,
      customDetections: running.customDetections,
    },
    'test',
  );
}

// User groups, custom roles (RBAC mode), MDI role groups and the EU/US device groups. The role
// and MDI subjects of `standardSubjects` are members of the first user group of each.
const userGroupIds = [
  'ug-tier1',
  'ug-tier2',
  'ug-tier3',
  'ug-eu',
  'ug-us',
  'ug-mdi-administrators',
  'ug-mdi-users',
  'ug-mdi-viewers',
] as const;

const customRoles = [
  {
    id: 'role-tier1',
    name: 'Tier 1',
    permissions: tierRoleTemplates.tier1,
    userGroups: ['ug-tier1', 'ug-eu', 'ug-us'],
  },
  { id: 'role-tier2', name: 'Tier 2', permissions: tierRoleTemplates.tier2, userGroups: ['ug-tier2'] },
  { id: 'role-tier3', name: 'Tier 3', permissions: tierRoleTemplates.tier3, userGroups: ['ug-tier3'] },
] as const;

const deviceGroups = [
  { id: 'dg-eu', name: 'EU', rank: 1, names: ['EU-*'], userGroups: ['ug-eu'] },
  { id: 'dg-us', name: 'US', rank: 2, names: ['US-*'], userGroups: ['ug-us'] },
] as const;

const mdiSetting = {
  administrators: ['ug-mdi-administrators'],
  users: ['ug-mdi-users'],
  viewers: ['ug-mdi-viewers'],
};

/** The access model the store is given, as authorization reads it. */
function accessModel(mode: AccessModel['mode']): AccessModel {
  return {
    mode,
    roles: customRoles.map((r) => ({
      id: r.id,
      name: r.name,
      permissions: r.permissions,
      userGroups: r.userGroups,
    })),
    deviceGroups: {
      groups: deviceGroups.map((g) => ({
        id: g.id,
        name: g.name,
        rank: g.rank,
        remediationLevel: 'no-automated-response',
        rule: { names: g.names },
        userGroups: g.userGroups,
      })),
      ungrouped: { remediationLevel: 'no-automated-response', userGroups: [] },
    },
    mdiRoleGroups: mdiSetting,
  };
}

async function writeAccessModel(running: RunningInstance): Promise<void> {
  const { state } = running.instance;
  for (const id of userGroupIds) await state.userGroups.create({ id, name: id });
  for (const role of customRoles) {
    await state.roles.create({ id: role.id, name: role.name, permissions: role.permissions });
    for (const group of role.userGroups) await state.roles.assign(role.id, { kind: 'group', id: group });
  }
  for (const g of deviceGroups) {
    await state.deviceGroups.create({
      id: g.id,
      name: g.name,
      rank: g.rank,
      remediationLevel: 'none',
      rules: { names: [...g.names] },
      userGroupIds: g.userGroups,
    });
  }
  await state.instance.updateSettings({ accessMode: 'basic', mdiRoleGroups: mdiSetting });
}

/** What a user subject of `standardSubjects` is: its directory role, first user group, disabled. */
interface Account {
  readonly directoryRole?: DirectoryRole;
  readonly userGroup?: string;
  readonly disabled?: boolean;
}

function accountOf(subject: string, model: AccessModel): Account | undefined {
  const directory: Record<string, Account> = {
    'no-role': {},
    'global-administrator': { directoryRole: 'global-administrator' },
    'security-administrator': { directoryRole: 'security-administrator' },
    'security-reader': { directoryRole: 'security-reader' },
    'disabled-administrator': { directoryRole: 'global-administrator', disabled: true },
  };
  if (subject in directory) return directory[subject];
  const role = model.roles.find((r) => subject === `role:${r.name}`);
  if (role) return { userGroup: role.userGroups[0] ?? '' };
  const mdi = Object.entries(model.mdiRoleGroups).find(([group]) => subject === `mdi:${group}`);
  if (mdi) return { userGroup: mdi[1][0] ?? '' };
  return undefined;
}

const loginNameOf = (subject: string) => `m-${subject.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;

/** A user in the state store for each user subject (created once, reused across modes). */
async function createMatrixUser(running: RunningInstance, subject: string, account: Account, hash: string) {
  const { state } = running.instance;
  const name = loginNameOf(subject);
  if ((await state.users.getByName(name)) !== undefined) return;
  const user = await state.users.create({ name, passwordHash: hash });
  if (account.directoryRole !== undefined) {
    const role = await state.roles.getByName(directoryRoleNames[account.directoryRole]);
    if (role === undefined) throw new Error(`no built-in role ${account.directoryRole}`);
    await state.roles.assign(role.id, { kind: 'user', id: user.id });
  }
  if (account.userGroup !== undefined) await state.userGroups.addMember(account.userGroup, user.id);
}

/** How a subject calls: headers per method, and a client certificate for the sensor. */
interface Credential {
  readonly headers: (method: string) => Record<string, string>;
  readonly tls?: { readonly key: string; readonly cert: string };
}

interface SensorIdentity {
  readonly sensorId: string;
  readonly key: string;
  readonly cert: string;
}

async function registerSensor(name: string, accessKey: string): Promise<SensorIdentity> {
  const { csr, key } = await sensorKey(name);
  const reply = await call(
    '/api/sensors/register',
    jsonBody({ csr, name, type: 'domain-controller' }, { 'x-palisade-access-key': accessKey }),
  );
  expect(reply.status, reply.text).toBe(201);
  return { sensorId: reply.json.sensorId, key, cert: reply.json.chain };
}

describe('palisade up security on loopback', () => {
  let routes: Route[];
  let admin: Session;
  let accessKey = '';
  let sensor: SensorIdentity;
  let passwordHash = '';
  const clients = new Map<string, { clientId: string; clientSecret: string }>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-security-'));
    const rules = await writeMarkerRule(dir);
    const loaded = loadSigmaPaths([rules]);
    expect(loaded.diagnostics).toEqual([]);
    instance = await startInstance({
      dataDir: join(dir, 'data'),
      domain,
      adminPassword,
      duckDbMemoryLimit: '256MB',
      listen: { host: '127.0.0.1', port: 0 },
      identityConfig: { testMode: true },
      ruleSet: compileRuleSet(loaded.documents, windowsPipeline()),
      log: createLogger({ write: (line) => logs.push(line) }),
    });
    accessKey = instance.created?.accessKey ?? '';
    routes = servedRoutes(instance);
    await writeAccessModel(instance);
    passwordHash = await hashPassword(userPassword);
    admin = await login('admin', adminPassword);
    sensor = await registerSensor('dc1', accessKey);
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('every route × every subject', () => {
    it('serves exactly the route table the matrix is generated from', async () => {
      const reply = await call('/api/openapi.json');
      const served = Object.entries(reply.json.paths as Record<string, Record<string, unknown>>)
        .flatMap(([path, methods]) =>
          Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
        )
        .sort();
      expect(served).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
    });

    it('stores the access model as authorization reads it, and the model is valid', async () => {
      expect(await loadAccessModel(instance.instance.state)).toEqual(accessModel('basic'));
      expect(validateAccessModel(accessModel('rbac'))).toEqual([]);
    });

    it('reports a route without a permission, so a new one cannot slip past the matrix', () => {
      const subjects = standardSubjects(accessModel('basic'), apiScopes);
      expect(expectedAccessMatrix(routes, subjects).problems).toEqual([]);
      const withNew = [
        ...routes.map((r) => ({ method: r.method, path: r.path, permission: r.permission as string })),
        { method: 'POST', path: '/api/machines/:id/isolate', permission: '' },
        { method: 'GET', path: '/api/indicators' } as { method: string; path: string; permission?: string },
        { method: 'GET', path: '/api/audit/export', permission: 'audit.everything' },
      ];
      expect(expectedAccessMatrix(withNew, subjects).problems.map((p) => [p.code, p.route])).toEqual([
        ['route/no-permission', 'POST /api/machines/:id/isolate'],
        ['route/no-permission', 'GET /api/indicators'],
        ['route/unknown-permission', 'GET /api/audit/export'],
      ]);
    });

    // The same users in both modes: basic mode gives full access or read-only by directory role,
    // RBAC mode the built-in administrator role or the custom roles of the user's groups.
    for (const mode of ['basic', 'rbac'] as const) {
      it(`answers every route as the matrix expects in ${mode} mode`, async () => {
        const { state } = instance.instance;
        await state.instance.updateSettings({ accessMode: mode });
        const model = accessModel(mode);
        expect(await loadAccessModel(state)).toEqual(model);
        const subjects = standardSubjects(model, apiScopes);
        const matrix = expectedAccessMatrix(routes, subjects);
        expect(matrix.problems).toEqual([]);

        const credentials = new Map<string, Credential>();
        credentials.set('anonymous', { headers: () => ({}) });
        for (const subject of subjects) {
          if (subject.principal.kind === 'user') {
            const account = accountOf(subject.name, model);
            if (account === undefined) throw new Error(`no account for the new subject ${subject.name}`);
            await createMatrixUser(instance, subject.name, account, passwordHash);
            const user = await state.users.getByName(loginNameOf(subject.name));
            await state.users.update(user?.id ?? '', { disabled: false });
            const session = await login(loginNameOf(subject.name), userPassword);
            if (account.disabled) {
              // Disabled after signing in: the session it still holds must no longer work.
              await state.users.update(user?.id ?? '', { disabled: true });
            }
            credentials.set(subject.name, {
              headers: (method) => (method === 'GET' ? { cookie: session.cookie } : portal(session)),
            });
          } else if (subject.principal.kind === 'api-client') {
            let client = clients.get(subject.name);
            if (client === undefined) {
              const scopes = subject.principal.scopes;
              const created = await call(
                '/api/settings/api-clients',
                jsonBody({ name: subject.name, scopes }, portal(admin)),
              );
              expect(created.status, created.text).toBe(201);
              client = created.json as { clientId: string; clientSecret: string };
              clients.set(subject.name, client);
            }
            const bearer = await bearerOf(client);
            credentials.set(subject.name, { headers: () => ({ authorization: `Bearer ${bearer}` }) });
          }
        }
        credentials.set('sensor', {
          headers: () => ({}),
          tls: { key: sensor.key, cert: sensor.cert },
        });

        // Sensor routes admit a sensor certificate and nothing else (decision 0007); other
        // routes see the sensor as nobody, since a certificate is not a user or API credential.
        const expected = (route: Route, subject: string, cell: MatrixCell | undefined) => {
          if (route.audience === 'sensor') return subject === 'sensor' ? 'allow' : 401;
          if (subject === 'sensor') {
            const decision = authorize(anonymous, route.permission);
            return decision.allow ? 'allow' : decision.status;
          }
          // A disabled user's session counts as none: 401, stricter than the matrix's 403.
          if (subject === 'disabled-administrator' && route.permission !== 'public') return 401;
          return cell?.expected;
        };

        // Logout ends the session it is called with, so it goes last.
        const ordered = [...routes].sort(
          (a, b) => Number(a.path.endsWith('/logout')) - Number(b.path.endsWith('/logout')),
        );
        const mismatches: string[] = [];
        const answered = { allowed2xx: 0, allowed4xx: 0, denied: 0 };
        let calls = 0;
        for (const route of ordered) {
          for (const [subject, credential] of credentials) {
            const cell = matrix.cells.find(
              (c) => c.method === route.method && c.path === route.path && c.subject === subject,
            );
            const want = expected(route, subject, cell);
            if (want === undefined) {
              mismatches.push(`${route.method} ${route.path} as ${subject}: no cell in the matrix`);
              continue;
            }
            const base = requestOf(route, accessKey);
            const reply = await call(requestPath(route), {
              ...base,
              headers: { ...base.headers, ...credential.headers(route.method) },
              ...(credential.tls ? { tls: credential.tls } : {}),
            });
            calls += 1;
            if (route.path === '/api/settings/access-key/regenerate' && reply.status === 200)
              accessKey = reply.json.accessKey;
            const ok =
              want === 'allow'
                ? reply.status !== 401 && reply.status !== 403 && reply.status < 500
                : reply.status === want;
            if (want !== 'allow') answered.denied += 1;
            else if (reply.status < 300) answered.allowed2xx += 1;
            else answered.allowed4xx += 1;
            if (!ok) {
              mismatches.push(
                `${route.method} ${route.path} as ${subject}: expected ${want}, found ${reply.status} ${reply.json?.detail ?? ''}`,
              );
            }
          }
        }
        expect(mismatches).toEqual([]);
        expect(calls).toBe(routes.length * credentials.size);
        // Both sides of the table are exercised; allowed calls on made-up ids answer 404 or 400.
        expect(answered.denied).toBeGreaterThan(calls / 4);
        // Measured against the allowed calls: admin-only routes add mostly denied cells.
        expect(answered.allowed2xx).toBeGreaterThan((answered.allowed2xx + answered.allowed4xx) / 4);
      }, 120_000);
    }
  });

  describe('device-group scoping', () => {
    const computers = [
      'EU-DC1.corp.lab.test',
      'EU-WS7.corp.lab.test',
      'US-DC1.corp.lab.test',
      'HQ-FS1.corp.lab.test',
    ];
    const isUs = (name: string) => name.toLowerCase().startsWith('us-');
    let eu: Session;

    /** A service install under the marker name, as Windows renders it in JSON. */
    const serviceInstalled = (computer: string, record: number) => ({
      Event: {
        System: {
          Provider: { '#attributes': { Name: 'Service Control Manager' } },
          EventID: 7045,
          Channel: 'System',
          Computer: computer,
          EventRecordID: record,
          TimeCreated: { '#attributes': { SystemTime: new Date(Date.now() - 60_000).toISOString() } },
        },
        EventData: { ServiceName: MARKER_SERVICE, ImagePath: `C:\\Windows\\marker-${record}.exe` },
      },
    });

    beforeAll(async () => {
      const { state } = instance.instance;
      await state.instance.updateSettings({ accessMode: 'rbac' });
      const user = await state.users.create({ name: 'tier1-eu', passwordHash });
      await state.userGroups.addMember('ug-eu', user.id);
      eu = await login('tier1-eu', userPassword);
      admin = await login('admin', adminPassword);
      const reply = await call('/api/sensor/batches', {
        ...jsonBody({ batchId: 'regions-1', events: computers.map((c, i) => serviceInstalled(c, i + 1)) }),
        tls: { key: sensor.key, cert: sensor.cert },
      });
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toMatchObject({ accepted: { events: 4 }, rejectedCount: 0, alerts: 4 });
    });

    const as = (session: Session, path: string) => call(path, { headers: { cookie: session.cookie } });

    it('shows an administrator every device, alert and incident', async () => {
      const alerts = (await as(admin, '/api/alerts')).json.value as { computerDnsName: string }[];
      expect(alerts.map((a) => a.computerDnsName.toLowerCase()).sort()).toEqual(
        computers.map((c) => c.toLowerCase()).sort(),
      );
      const machines = (await as(admin, '/api/machines')).json.value as {
        computerDnsName: string;
        rbacGroupName: string;
      }[];
      expect(machines.filter((m) => isUs(m.computerDnsName)).map((m) => m.rbacGroupName)).toEqual(['US']);
      expect((await as(admin, '/api/incidents')).json.value.length).toBeGreaterThanOrEqual(4);
    });

    it('shows the EU Tier 1 user EU and ungrouped data only; US data is not found', async () => {
      const all = (await as(admin, '/api/alerts')).json.value as {
        id: string;
        incidentId: number;
        computerDnsName: string;
      }[];
      const usAlerts = all.filter((a) => isUs(a.computerDnsName));
      expect(usAlerts).toHaveLength(1);

      const alerts = await as(eu, '/api/alerts');
      expect(alerts.status, alerts.text).toBe(200);
      expect(
        alerts.json.value.map((a: { computerDnsName: string }) => a.computerDnsName.toLowerCase()).sort(),
      ).toEqual(['eu-dc1.corp.lab.test', 'eu-ws7.corp.lab.test', 'hq-fs1.corp.lab.test']);
      const filtered = await as(eu, `/api/alerts?$filter=id eq '${usAlerts[0]?.id}'`);
      expect(filtered.status, filtered.text).toBe(200);
      expect(filtered.json.value).toEqual([]);
      const usName = usAlerts[0]?.computerDnsName.toLowerCase();
      const usMachines = await as(eu, `/api/machines?$filter=computerDnsName eq '${usName}'`);
      expect(usMachines.json.value).toEqual([]);

      const machines = await as(eu, '/api/machines');
      const names = machines.json.value.map((m: { computerDnsName: string }) => m.computerDnsName);
      expect(names).toEqual(
        expect.arrayContaining(['eu-dc1.corp.lab.test', 'eu-ws7.corp.lab.test', 'hq-fs1.corp.lab.test']),
      );
      expect(names.filter(isUs)).toEqual([]);

      const incidents = await as(eu, '/api/incidents');
      const seen = incidents.json.value as { incidentId: number; alerts: { alertId: string }[] }[];
      const usIncident = usAlerts[0]?.incidentId;
      expect(seen.map((i) => i.incidentId)).not.toContain(usIncident);
      for (const incident of seen)
        for (const alert of incident.alerts) expect(usAlerts.map((a) => a.id)).not.toContain(alert.alertId);

      // By id: not found, not forbidden, so a US alert's existence is not disclosed.
      const usMachine = (await as(admin, '/api/machines')).json.value.find((m: { computerDnsName: string }) =>
        isUs(m.computerDnsName),
      );
      expect((await as(eu, `/api/alerts/${usAlerts[0]?.id}`)).status).toBe(404);
      expect((await as(eu, `/api/incidents/${usIncident}`)).status).toBe(404);
      expect((await as(eu, `/api/machines/${usMachine.id}`)).status).toBe(404);
      expect((await as(eu, `/api/machines/${usMachine.computerDnsName}`)).status).toBe(404);
      const patch = await call(
        `/api/alerts/${usAlerts[0]?.id}`,
        jsonBody({ status: 'Resolved' }, portal(eu), 'PATCH'),
      );
      expect(patch.status).toBe(404);
      const incidentPatch = await call(
        `/api/incidents/${usIncident}`,
        jsonBody({ status: 'Resolved' }, portal(eu), 'PATCH'),
      );
      expect(incidentPatch.status).toBe(404);
      expect((await as(admin, `/api/alerts/${usAlerts[0]?.id}`)).json.status).toBe('New');
      // Its own region's alert it may read and change.
      const euAlert = all.find((a) => a.computerDnsName.toLowerCase().startsWith('eu-'));
      expect((await as(eu, `/api/alerts/${euAlert?.id}`)).status).toBe(200);
      const own = await call(
        `/api/alerts/${euAlert?.id}`,
        jsonBody({ status: 'InProgress' }, portal(eu), 'PATCH'),
      );
      expect(own.status, own.text).toBe(200);
    });
  });

  describe('malformed, wrongly typed and oversized payloads', () => {
    const sensorTls = () => ({ key: sensor.key, cert: sensor.cert });
    const adminGet = (path: string) => call(path, { headers: { cookie: admin.cookie } });
    const patch = (path: string, body: string, contentType = 'application/json') =>
      call(path, { method: 'PATCH', headers: { ...portal(admin), 'content-type': contentType }, body });
    const stillServing = async () => {
      const reply = await adminGet('/api/alerts');
      expect(reply.status).toBe(200);
      expect(reply.json.value.length).toBeGreaterThan(0);
    };

    it('refuses malformed and wrongly typed PATCH bodies with 400 or 415', async () => {
      const alert = (await adminGet('/api/alerts')).json.value[0];
      const incident = (await adminGet('/api/incidents')).json.value[0];
      for (const path of [`/api/alerts/${alert.id}`, `/api/incidents/${incident.incidentId}`]) {
        const statuses = [];
        for (const body of [
          '{"status": ',
          '[]',
          'null',
          '"Resolved"',
          '{"status": 5}',
          '{"status": "Bogus"}',
          '{"noSuchProperty": 1}',
          '{"assignedTo": {"a": 1}}',
        ])
          statuses.push([body, (await patch(path, body)).status]);
        statuses.push(['text/plain', (await patch(path, '{"status":"Resolved"}', 'text/plain')).status]);
        expect(statuses, path).toEqual([
          ['{"status": ', 400],
          ['[]', 400],
          ['null', 400],
          ['"Resolved"', 400],
          ['{"status": 5}', 400],
          ['{"status": "Bogus"}', 400],
          ['{"noSuchProperty": 1}', 400],
          ['{"assignedTo": {"a": 1}}', 400],
          ['text/plain', 415],
        ]);
      }
      // Nothing was changed by the refused bodies.
      expect((await adminGet(`/api/alerts/${alert.id}`)).json.status).toBe(alert.status);
      await stillServing();
    });

    it('refuses unknown OData properties and bad options on every list', async () => {
      const answers: [string, number][] = [];
      for (const list of ['/api/alerts', '/api/incidents', '/api/machines', '/api/sensors']) {
        for (const query of [
          '$filter=noSuchProperty eq 1',
          '$orderby=noSuchProperty',
          '$top=-1',
          '$top=abc',
          "$filter=id eq 'x' and",
          '$select=noSuchProperty',
        ]) {
          const reply = await adminGet(`${list}?${query}`);
          answers.push([`${list}?${query}`, reply.status]);
          if (reply.status === 400) expect(reply.headers['content-type']).toBe('application/problem+json');
        }
      }
      expect(answers.filter(([, status]) => status !== 400)).toEqual([]);
      await stillServing();
    });

    it('refuses wrongly typed batch members and rows, and deeply nested events, with 4xx', async () => {
      const send = (body: string) =>
        call('/api/sensor/batches', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          tls: sensorTls(),
        });
      expect((await send(JSON.stringify({ batchId: 'x'.repeat(300), rows: [] }))).status).toBe(400);
      expect((await send(JSON.stringify({ batchId: 'typed-1', events: { not: 'an array' } }))).status).toBe(
        400,
      );
      expect((await send('[1, 2, 3]')).status).toBe(400);
      const rows = await send(
        JSON.stringify({
          batchId: 'typed-2',
          rows: [
            { table: 'IdentityLogonEvents', values: { Timestamp: { $date: 1 }, Port: [443], ActionType: 7 } },
          ],
        }),
      );
      expect(rows.status, rows.text).toBe(200);
      expect(rows.json).toMatchObject({ accepted: { rows: 0 }, rejectedCount: 3 });
      // 100,000 levels of nesting in an event's UserData: under the body limit, over any stack.
      const deep = `{"batchId":"deep-1","events":[{"Event":{"System":{"EventID":1,"Channel":"System","Computer":"EU-X"},"UserData":${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}`;
      const nested = await send(deep);
      expect(nested.status, nested.text).toBeLessThan(500);
      await stillServing();
    });

    /**
     * Streams `total` bytes from one reused 1 MiB buffer (the test never holds the body) and stops
     * once the answer arrives; reports the bytes written by then and the peak RSS meanwhile. The
     * server runs in this process, so its RSS is this process's.
     */
    async function stream(
      path: string,
      total: number,
      options: { declared: boolean; headers: Record<string, string>; tls?: { key: string; cert: string } },
    ) {
      const chunk = Buffer.alloc(1 << 20, 0x20);
      let sent = 0;
      let sentAtAnswer = 0;
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 10);
      const started = performance.now();
      try {
        const reply = await call(path, {
          method: path.startsWith('/api/alerts/') ? 'PATCH' : 'POST',
          headers: {
            'content-type': 'application/json',
            ...options.headers,
            ...(options.declared ? { 'content-length': String(total) } : {}),
          },
          ...(options.tls ? { tls: options.tls } : {}),
          write(req: ClientRequest) {
            let stopped = false;
            req.once('response', (res) => {
              stopped = true;
              sentAtAnswer = sent;
              res.once('end', () => req.destroy());
            });
            // A refused upload may be cut off by the server once it answered.
            req.on('error', () => undefined);
            const pump = () => {
              while (!stopped && sent < total) {
                sent += chunk.length;
                if (!req.write(chunk)) {
                  req.once('drain', pump);
                  return;
                }
              }
              if (!stopped) req.end();
            };
            pump();
          },
        });
        return { reply, sentAtAnswer, rssGrowth: peak - before, ms: performance.now() - started };
      } finally {
        clearInterval(sampler);
      }
    }

    const hundredMb = 100 * 1024 * 1024;

    it('answers a declared 100 MB batch 413 before reading it, and keeps serving', async () => {
      const result = await stream('/api/sensor/batches', hundredMb, {
        declared: true,
        headers: {},
        tls: sensorTls(),
      });
      expect(result.reply.status).toBe(413);
      expect(result.reply.json).toMatchObject({ status: 413 });
      expect(result.sentAtAnswer).toBeLessThan(hundredMb);
      expect(result.rssGrowth).toBeLessThan(32 * 1024 * 1024);
      await stillServing();
    }, 60_000);

    // The batch route buffers up to its 64 MiB limit before refusing (about 60 MB of RSS here).
    it('answers a chunked 100 MB batch 413 once past its 64 MiB limit, without keeping 100 MB', async () => {
      const result = await stream('/api/sensor/batches', hundredMb, {
        declared: false,
        headers: {},
        tls: sensorTls(),
      });
      expect(result.reply.status).toBe(413);
      expect(result.sentAtAnswer).toBeLessThan(hundredMb);
      expect(result.rssGrowth).toBeLessThan(100 * 1024 * 1024);
      await stillServing();
    }, 60_000);

    it('answers a chunked 100 MB API body 413 after 1 MiB, and keeps serving', async () => {
      const alert = (await adminGet('/api/alerts')).json.value[0];
      const result = await stream(`/api/alerts/${alert.id}`, hundredMb, {
        declared: false,
        headers: portal(admin),
      });
      expect(result.reply.status).toBe(413);
      expect(result.sentAtAnswer).toBeLessThan(hundredMb);
      expect(result.rssGrowth).toBeLessThan(32 * 1024 * 1024);
      await stillServing();
    }, 60_000);
  });
});

/** The path a route is called on: parameters filled with an id that names nothing. */
function requestPath(route: Route): string {
  return route.path.replace(/:(\w+)/g, 'no-such-$1');
}

/**
 * The least request a route accepts far enough to reach its handler: an empty JSON object or
 * form, so an allowed caller gets its 2xx or a validation 4xx and nothing changes. Registration
 * gets the current key and a bad CSR, so it answers 400 rather than 401 for the key.
 */
function requestOf(route: Route, accessKey: string): CallOptions {
  const headers: Record<string, string> = {};
  if (route.path === '/api/sensors/register') {
    return jsonBody({ csr: 'not a CSR', name: 'x' }, { 'x-palisade-access-key': accessKey });
  }
  // With its length: Node sends a DELETE body without one unless told (DELETE /api/auth/totp).
  if (route.body === 'json') {
    return {
      method: route.method,
      headers: { 'content-type': 'application/json', 'content-length': '2' },
      body: '{}',
    };
  }
  if (route.body === 'form') {
    return {
      method: route.method,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    };
  }
  return { method: route.method, headers };
}
