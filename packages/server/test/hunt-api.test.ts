// Advanced hunting and custom detection rules on a real instance on 127.0.0.1: KQL over rows a
// sensor posted answers MDE's { Schema, Results } with the values worked out by hand from those
// rows; a user scoped to the EU device group never gets a US device's row, whatever the query;
// bad KQL is a 400 naming line and column; callers without the permission get 403. A custom
// detection rule over the same rows raises each alert once across two runs, and its alert on an
// EU device joins the incident of a Sigma alert on that device.
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRuleSet } from '@palisade/detect';
import { loadSigmaPaths, windowsPipeline } from '@palisade/sigma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/auth/passwords.ts';
import { tierRoleTemplates } from '../src/auth/permissions.ts';
import { createLogger } from '../src/log.ts';
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

let dir = '';
let instance: RunningInstance;
let clock = Date.parse('2026-11-22T12:00:00.000Z');
const HOUR = 3_600_000;

const call = (path: string, options?: CallOptions) =>
  callTarget({ port: instance.port, caPem: instance.instance.ca.certificatePem }, path, options);
const post = (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') =>
  call(path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function login(userName: string, password: string): Promise<Session> {
  const reply = await post('/api/auth/login', { userName, password });
  expect(reply.status, reply.text).toBe(200);
  return {
    cookie: String(reply.headers['set-cookie'] ?? '').split(';')[0] ?? '',
    csrf: reply.json.csrfToken,
  };
}

const portal = (s: Session) => ({ cookie: s.cookie, 'x-csrf-token': s.csrf, origin: instance.url });

async function bearer(admin: Session, scopes: readonly string[]): Promise<Record<string, string>> {
  const created = await post(
    '/api/settings/api-clients',
    { name: `hunt-${scopes.join('-')}`, scopes },
    portal(admin),
  );
  expect(created.status, created.text).toBe(201);
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: created.json.clientId,
    client_secret: created.json.clientSecret,
  });
  const token = await call('/oauth2/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  expect(token.status, token.text).toBe(200);
  return { authorization: `Bearer ${token.json.access_token}` };
}

/** Whole seconds, so the expected Kusto text is the ISO time with seven zero fraction digits. */
const at = (minutesAgo: number) => new Date(clock - minutesAgo * 60_000).toISOString().replace('.000Z', 'Z');
const kustoTime = (iso: string) => iso.replace('Z', '.0000000Z');

const processRow = (
  device: string,
  file: string,
  commandLine: string,
  account: string,
  reportId: number,
  time: string,
) => ({
  table: 'DeviceProcessEvents',
  values: {
    Timestamp: time,
    DeviceId: `id-${device.split('.')[0]?.toLowerCase()}`,
    DeviceName: device,
    ActionType: 'ProcessCreated',
    FileName: file,
    ProcessCommandLine: commandLine,
    AccountName: account,
    ReportId: reportId,
  },
});

// The sensor's rows: two EU processes, one US, one on an ungrouped file server.
const times = { r1: at(50), r2: at(40), r3: at(30), r4: at(20) };
const rows = [
  processRow('EU-WS1.corp.lab.test', 'powershell.exe', 'powershell.exe -enc SQBFAFgA', 'alice', 1, times.r1),
  processRow('EU-WS1.corp.lab.test', 'cmd.exe', 'cmd.exe /c whoami', 'alice', 2, times.r2),
  processRow('US-WS2.corp.lab.test', 'powershell.exe', 'powershell.exe -enc UwB0AGEA', 'bob', 3, times.r3),
  processRow('HQ-FS1.corp.lab.test', 'PowerShell.exe', 'PowerShell.exe -nop -w hidden', 'carol', 4, times.r4),
];

describe('advanced hunting and custom detections on loopback', () => {
  let admin: Session;
  let eu: Session;
  let hunter: Record<string, string>;
  let alertsOnly: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-hunt-'));
    const loaded = loadSigmaPaths([await writeMarkerRule(dir)]);
    instance = await startInstance({
      dataDir: join(dir, 'data'),
      domain: 'corp.lab.test',
      adminPassword,
      duckDbMemoryLimit: '256MB',
      listen: { host: '127.0.0.1', port: 0 },
      ruleSet: compileRuleSet(loaded.documents, windowsPipeline()),
      log: createLogger({ write: () => undefined }),
      now: () => new Date(clock),
      schedule: { healthCheckMs: 0, customDetectionsMs: 0, maintenanceMs: 0 },
    });
    const { state } = instance.instance;
    // RBAC: a Tier 1 role for the EU user group, EU and US device groups by name.
    await state.instance.updateSettings({ accessMode: 'rbac' });
    for (const id of ['ug-eu', 'ug-us']) await state.userGroups.create({ id, name: id });
    await state.roles.create({ id: 'role-tier1', name: 'Tier 1', permissions: tierRoleTemplates.tier1 });
    for (const g of ['ug-eu', 'ug-us']) await state.roles.assign('role-tier1', { kind: 'group', id: g });
    for (const [id, name, rank, pattern, group] of [
      ['dg-eu', 'EU', 1, 'EU-*', 'ug-eu'],
      ['dg-us', 'US', 2, 'US-*', 'ug-us'],
    ] as const) {
      await state.deviceGroups.create({
        id,
        name,
        rank,
        remediationLevel: 'none',
        rules: { names: [pattern] },
        userGroupIds: [group],
      });
    }
    const passwordHash = await hashPassword(userPassword);
    const user = await state.users.create({ name: 'tier1-eu', passwordHash });
    await state.userGroups.addMember('ug-eu', user.id);
    await state.users.create({ name: 'no-role', passwordHash });
    admin = await login('admin', adminPassword);
    eu = await login('tier1-eu', userPassword);
    hunter = await bearer(admin, ['AdvancedQuery.Read.All']);
    alertsOnly = await bearer(admin, ['Alert.Read.All']);

    const { csr, key } = await sensorKey('sensor1');
    const registered = await post(
      '/api/sensors/register',
      { csr, name: 'sensor1', type: 'endpoint' },
      { 'x-palisade-access-key': instance.created?.accessKey ?? '' },
    );
    expect(registered.status, registered.text).toBe(201);
    const tls = { key, cert: registered.json.chain as string };
    // The Sigma marker rule alerts on a service installed on EU-WS1: the incident a custom
    // detection's alert on that device must join.
    const serviceInstalled = {
      Event: {
        System: {
          Provider: { '#attributes': { Name: 'Service Control Manager' } },
          EventID: 7045,
          Channel: 'System',
          Computer: 'EU-WS1.corp.lab.test',
          EventRecordID: 1,
          TimeCreated: { '#attributes': { SystemTime: at(45) } },
        },
        EventData: { ServiceName: MARKER_SERVICE, ImagePath: 'C:\\Windows\\marker.exe' },
      },
    };
    const batch = await call('/api/sensor/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batchId: 'hunt-1', rows, events: [serviceInstalled] }),
      tls,
    });
    expect(batch.status, batch.text).toBe(200);
    expect(batch.json).toMatchObject({ accepted: { rows: 4, events: 1 }, rejectedCount: 0, alerts: 1 });
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const hunt = (query: string, headers: Record<string, string>, path = '/api/advancedqueries/run') =>
    post(path, { Query: query }, headers);

  it("answers MDE's Schema and Results over the posted rows", async () => {
    const reply = await hunt(
      'DeviceProcessEvents | where FileName =~ "POWERSHELL.EXE" | project Timestamp, DeviceName, AccountName, ReportId | sort by ReportId asc',
      hunter,
    );
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({
      Schema: [
        { Name: 'Timestamp', Type: 'DateTime' },
        { Name: 'DeviceName', Type: 'String' },
        { Name: 'AccountName', Type: 'String' },
        { Name: 'ReportId', Type: 'Int64' },
      ],
      Results: [
        {
          Timestamp: kustoTime(times.r1),
          DeviceName: 'EU-WS1.corp.lab.test',
          AccountName: 'alice',
          ReportId: 1,
        },
        {
          Timestamp: kustoTime(times.r3),
          DeviceName: 'US-WS2.corp.lab.test',
          AccountName: 'bob',
          ReportId: 3,
        },
        {
          Timestamp: kustoTime(times.r4),
          DeviceName: 'HQ-FS1.corp.lab.test',
          AccountName: 'carol',
          ReportId: 4,
        },
      ],
    });
    const counted = await hunt(
      'DeviceProcessEvents | summarize Processes = count(), Devices = dcount(DeviceName) by AccountName | sort by AccountName asc',
      hunter,
      '/api/advancedhunting/run',
    );
    expect(counted.status, counted.text).toBe(200);
    expect(counted.json.Stats).toMatchObject({ Truncated: false });
    expect(counted.json.Results).toEqual([
      { AccountName: 'alice', Processes: 2, Devices: 1 },
      { AccountName: 'bob', Processes: 1, Devices: 1 },
      { AccountName: 'carol', Processes: 1, Devices: 1 },
    ]);
  });

  it('never returns rows of devices outside a scoped user’s device groups, whatever the query', async () => {
    const listed = await hunt(
      'DeviceProcessEvents | project DeviceName, ReportId | sort by ReportId asc',
      portal(eu),
    );
    expect(listed.status, listed.text).toBe(200);
    // EU and the ungrouped file server (its group is given to no one, so everyone sees it); not US.
    expect(listed.json.Results).toEqual([
      { DeviceName: 'EU-WS1.corp.lab.test', ReportId: 1 },
      { DeviceName: 'EU-WS1.corp.lab.test', ReportId: 2 },
      { DeviceName: 'HQ-FS1.corp.lab.test', ReportId: 4 },
    ]);
    for (const query of [
      'DeviceProcessEvents | where DeviceName startswith "US-" | count',
      'union DeviceProcessEvents, (DeviceProcessEvents | where AccountName == "bob") | where DeviceId == "id-us-ws2" | count',
      'let d = DeviceProcessEvents; d | join kind=leftouter (d | where ReportId == 3) on DeviceName | where AccountName1 == "bob" | count',
    ]) {
      const reply = await hunt(query, portal(eu));
      expect(reply.status, `${query}: ${reply.text}`).toBe(200);
      expect(reply.json.Results, query).toEqual([{ Count: 0 }]);
    }
    // The same question unscoped does find the US row.
    const all = await hunt('DeviceProcessEvents | where DeviceName startswith "US-" | count', hunter);
    expect(all.json.Results).toEqual([{ Count: 1 }]);
  });

  it('answers bad KQL with 400 naming the line and column', async () => {
    const reply = await hunt('DeviceProcessEvents\n| where NoSuchColumn == 1', hunter);
    expect(reply.status).toBe(400);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.json.errors).toEqual([
      {
        detail: "The name 'NoSuchColumn' does not refer to any known column, table, variable or function.",
        code: 'kql/semantic',
        pointer: '#/Query',
        offset: 28,
        line: 2,
        column: 9,
      },
    ]);
    expect(reply.json.detail).toContain('(line 2, column 9)');
    const missing = await post('/api/advancedqueries/run', { query: 'x' }, hunter);
    expect(missing.status).toBe(400);
  });

  it('refuses callers without the hunting permission with 403', async () => {
    expect((await hunt('DeviceProcessEvents | count', alertsOnly)).status).toBe(403);
    const nobody = await login('no-role', userPassword);
    expect((await hunt('DeviceProcessEvents | count', portal(nobody))).status).toBe(403);
    expect((await hunt('DeviceProcessEvents | count', {})).status).toBe(401);
  });

  it('runs a custom detection rule on schedule: alerts once across runs, joined to the device’s incident', async () => {
    const rule = {
      title: 'Encoded PowerShell command line',
      query:
        'DeviceProcessEvents\n| where ProcessCommandLine has "-enc"\n| project Timestamp, DeviceName, AccountName, ReportId',
      frequency: '1h',
      severity: 'Medium',
      category: 'Execution',
      mitreTechniques: ['T1059.001'],
      entityMapping: { device: 'DeviceName', account: 'AccountName' },
    };
    const refused = await post(
      '/api/custom-detections',
      { ...rule, entityMapping: { device: 'FileName' } },
      portal(admin),
    );
    expect(refused.status).toBe(400);
    expect(refused.json.detail).toContain('no column FileName');
    const noTime = await post(
      '/api/custom-detections',
      { ...rule, query: 'DeviceProcessEvents | summarize count() by DeviceName' },
      portal(admin),
    );
    expect(noTime.status).toBe(400);
    expect((await post('/api/custom-detections', rule, portal(eu))).status).toBe(403);
    const created = await post('/api/custom-detections', rule, portal(admin));
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ ...rule, enabled: true, createdBy: 'admin', lastRunAt: null });

    const { state } = instance.instance;
    const sigma = (await state.alerts.list()).items;
    expect(sigma).toHaveLength(1);
    const sigmaIncident = sigma[0]?.incidentId;

    const first = await instance.customDetections.runDue();
    expect(first.map((r) => [r.status, r.rows, r.raised.length])).toEqual([['succeeded', 2, 2]]);
    // The alerts are hunting rows too, and the rule records its last run.
    const info = await hunt('AlertInfo | where DetectionSource == "Custom detection" | count', hunter);
    expect(info.json.Results, info.text).toEqual([{ Count: 2 }]);
    const ran = await call(`/api/custom-detections/${created.json.id}`, { headers: hunter });
    expect(ran.json).toMatchObject({ lastRunStatus: 'succeeded', lastRunMessage: '2 rows, 2 new alerts' });

    // Not due again until an hour has passed; then it finds the same two rows and raises nothing.
    expect(await instance.customDetections.runDue()).toEqual([]);
    clock += HOUR;
    const second = await instance.customDetections.runDue();
    expect(second.map((r) => [r.status, r.rows, r.raised.length])).toEqual([['succeeded', 2, 0]]);

    const custom = (await state.alerts.list({ top: 100 })).items.filter(
      (a) => a.detectionSource === 'customDetection',
    );
    expect(custom.map((a) => [a.title, a.severity, a.category, a.devices, a.mitreTechniques]).sort()).toEqual(
      [
        ['Encoded PowerShell command line', 'Medium', 'Execution', ['eu-ws1.corp.lab.test'], ['T1059.001']],
        ['Encoded PowerShell command line', 'Medium', 'Execution', ['us-ws2.corp.lab.test'], ['T1059.001']],
      ],
    );
    const onEu = custom.find((a) => a.devices.includes('eu-ws1.corp.lab.test'));
    const onUs = custom.find((a) => a.devices.includes('us-ws2.corp.lab.test'));
    expect(onEu?.incidentId).toBe(sigmaIncident);
    expect(onUs?.incidentId).not.toBe(sigmaIncident);

    // Signed in again (an hour went by): the EU user sees the EU alert, not the US one.
    admin = await login('admin', adminPassword);
    eu = await login('tier1-eu', userPassword);
    const euAlerts = await call('/api/alerts', { headers: { cookie: eu.cookie } });
    const euIds = (euAlerts.json.value as { id: string }[]).map((a) => a.id);
    expect(euIds).toContain(onEu?.id);
    expect(euIds).not.toContain(onUs?.id);

    const disabled = await post(
      `/api/custom-detections/${created.json.id}`,
      { enabled: false },
      portal(admin),
      'PATCH',
    );
    expect(disabled.status, disabled.text).toBe(200);
    clock += HOUR;
    expect(await instance.customDetections.runDue()).toEqual([]);
  });
});
