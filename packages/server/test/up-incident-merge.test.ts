// Merging incidents by hand over the API against a real server on 127.0.0.1: alerts on computers
// that share no entity form one incident each; an administrator merges two (the lowest id keeps
// them, the other is Redirected), and Defender's refusals answer problem+json: one or six ids,
// a resolved or already merged incident, an unknown id, and an incident outside a scoped user's
// device groups (404, as for GET). The merge is in the audit log and survives no correlation
// confusion: a later alert on a merged incident's computer joins the incident merged into.
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRuleSet } from '@palisade/detect';
import { loadSigmaPaths, windowsPipeline } from '@palisade/sigma';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tierRoleTemplates } from '../src/auth/permissions.ts';
import { createLogger } from '../src/log.ts';
import { type RunningInstance, startInstance } from '../src/up.ts';
import {
  type CallOptions,
  call as callTarget,
  MARKER_SERVICE,
  type Reply,
  sensorKey,
  writeMarkerRule,
} from './loopback-client.ts';

const adminPassword = 'Quartz-Lantern-Orbit-2291';
const userPassword = 'Basalt-Meadow-Cipher-7730';
const computers = ['EU-WS1', 'EU-WS2', 'EU-WS3', 'EU-WS4', 'EU-WS5', 'EU-WS6', 'US-WS1'].map(
  (c) => `${c}.corp.lab.test`,
);

let dir = '';
let instance: RunningInstance;

const call = (path: string, options?: CallOptions) =>
  callTarget({ port: instance.port, caPem: instance.instance.ca.certificatePem }, path, options);

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function login(userName: string, password: string): Promise<Session> {
  const reply = await call('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userName, password }),
  });
  expect(reply.status, reply.text).toBe(200);
  return {
    cookie: String(reply.headers['set-cookie'] ?? '').split(';')[0] ?? '',
    csrf: reply.json.csrfToken,
  };
}

function as(session: Session, method: string, path: string, body?: unknown): Promise<Reply> {
  return call(path, {
    method,
    headers: {
      cookie: session.cookie,
      ...(method === 'GET'
        ? {}
        : { 'x-csrf-token': session.csrf, origin: instance.url, 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A service install under the marker name, as Windows renders it in JSON: one alert on `computer`. */
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

describe('merging incidents over the API on loopback', () => {
  let admin: Session;
  let scoped: Session;
  let sensor: { key: string; cert: string };
  /** Incident id by computer. */
  const incidentOf = new Map<string, number>();

  const send = async (batchId: string, events: unknown[]) => {
    const reply = await call('/api/sensor/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batchId, events }),
      tls: sensor,
    });
    expect(reply.status, reply.text).toBe(200);
    return reply;
  };
  const merge = (session: Session, incidentIds: unknown) =>
    as(session, 'POST', '/api/incidents/merge', { incidentIds });
  const incident = (id: number | undefined) => as(admin, 'GET', `/api/incidents/${id}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-merge-'));
    const rules = await writeMarkerRule(dir);
    instance = await startInstance({
      dataDir: join(dir, 'data'),
      domain: 'corp.lab.test',
      adminPassword,
      duckDbMemoryLimit: '256MB',
      listen: { host: '127.0.0.1', port: 0 },
      identityConfig: { testMode: true },
      ruleSet: compileRuleSet(loadSigmaPaths([rules]).documents, windowsPipeline()),
      log: createLogger({ write: () => undefined }),
    });
    admin = await login('admin', adminPassword);
    const { csr, key } = await sensorKey('dc1');
    const registered = await call('/api/sensors/register', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-palisade-access-key': instance.created?.accessKey ?? '',
      },
      body: JSON.stringify({ csr, name: 'dc1', type: 'domain-controller' }),
    });
    expect(registered.status, registered.text).toBe(201);
    sensor = { key, cert: registered.json.chain };
    const reply = await send(
      'computers-1',
      computers.map((c, i) => serviceInstalled(c, i + 1)),
    );
    expect(reply.json).toMatchObject({ alerts: computers.length, rejectedCount: 0 });
    const alerts = await as(admin, 'GET', '/api/alerts');
    for (const a of alerts.json.value as { computerDnsName: string; incidentId: number }[])
      incidentOf.set(a.computerDnsName.toLowerCase(), a.incidentId);

    // A Tier 1 user scoped to the EU device group (RBAC mode).
    const { state } = instance.instance;
    const group = await state.userGroups.create({ name: 'Tier 1 EU' });
    // A device group shared with no user group is seen by everyone; US goes to another team.
    const usTeam = await state.userGroups.create({ name: 'Tier 1 US' });
    const role = await state.roles.create({ name: 'Tier 1', permissions: [...tierRoleTemplates.tier1] });
    await state.roles.assign(role.id, { kind: 'group', id: group.id });
    await state.deviceGroups.create({
      name: 'EU',
      rank: 1,
      remediationLevel: 'none',
      rules: { names: ['EU-*'] },
      userGroupIds: [group.id],
    });
    await state.deviceGroups.create({
      name: 'US',
      rank: 2,
      remediationLevel: 'none',
      rules: { names: ['US-*'] },
      userGroupIds: [usTeam.id],
    });
    await state.instance.updateSettings({ accessMode: 'rbac' });
    const created = await as(admin, 'POST', '/api/users', { name: 'tier1-eu', password: userPassword });
    expect(created.status, created.text).toBe(201);
    await state.userGroups.addMember(group.id, created.json.id);
    scoped = await login('tier1-eu', userPassword);
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const id = (n: number) => incidentOf.get(`${computers[n]?.toLowerCase()}`) as number;

  it('gives each computer its own incident', () => {
    expect(new Set(incidentOf.values()).size).toBe(computers.length);
  });

  it('merges two incidents into the lower id; the other is Redirected to it', async () => {
    const [low, high] = [id(0), id(1)].sort((a, b) => a - b) as [number, number];
    const reply = await merge(admin, [high, low]);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.incidentId).toBe(low);
    expect(reply.json.status).toBe('Active');
    const devices = (reply.json.alerts as { devices: { deviceDnsName: string }[] }[]).flatMap((a) =>
      a.devices.map((d) => d.deviceDnsName.toLowerCase()),
    );
    expect(devices.sort()).toEqual([computers[0]?.toLowerCase(), computers[1]?.toLowerCase()].sort());
    const target = await incident(low);
    expect(target.json.alerts).toHaveLength(2);
    const source = await incident(high);
    expect(source.json).toMatchObject({ status: 'Redirected', redirectIncidentId: low, alerts: [] });
    expect(source.json.tags).toEqual(['Redirected']);

    // Correlation knows too: a new alert on the redirected incident's computer joins the target.
    const later = await send('computers-2', [serviceInstalled(computers[1] ?? '', 100)]);
    expect(later.json.alerts).toBe(1);
    const after = await incident(low);
    expect(after.json.alerts).toHaveLength(3);
    expect((await incident(high)).json.alerts).toEqual([]);
  });

  it('is in the audit log, attributed to the caller', async () => {
    const audit = await as(admin, 'GET', '/api/audit?$top=1000');
    const entries = audit.json.value as { actor: string; action: string; target: string }[];
    const [low, high] = [id(0), id(1)].sort((a, b) => a - b);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'admin',
          action: 'incident.mergeIncidents',
          target: `incident:${low}`,
        }),
        expect.objectContaining({
          actor: 'admin',
          action: 'incident.redirectIncident',
          target: `incident:${high}`,
        }),
      ]),
    );
  });

  it('refuses one id, six ids and a body without ids with 400 problem+json', async () => {
    for (const ids of [[id(2)], [id(0), id(1), id(2), id(3), id(4), id(5)], [id(2), id(2)]]) {
      const reply = await merge(admin, ids);
      expect(reply.status, JSON.stringify(ids)).toBe(400);
      expect(reply.headers['content-type']).toContain('application/problem+json');
      expect(reply.json.errors[0]).toMatchObject({ code: 'incidents/merge-count', pointer: '#/incidentIds' });
    }
    const wrong = await as(admin, 'POST', '/api/incidents/merge', { incidentIds: ['x'], extra: 1 });
    expect(wrong.status).toBe(400);
    expect(wrong.json.errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '#/incidentIds',
      '#/extra',
    ]);
  });

  it('refuses an unknown id with 404, and a resolved or merged incident with 409', async () => {
    const unknown = await merge(admin, [id(2), 999_999]);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');

    const resolved = await as(admin, 'PATCH', `/api/incidents/${id(3)}`, { status: 'Resolved' });
    expect(resolved.status, resolved.text).toBe(200);
    const closed = await merge(admin, [id(2), id(3)]);
    expect(closed.status).toBe(409);
    expect(closed.json.errors[0].code).toBe('incidents/merge-closed');

    const redirected = Math.max(id(0), id(1));
    const again = await merge(admin, [id(2), redirected]);
    expect(again.status).toBe(409);
    expect(again.json.errors[0].code).toBe('incidents/redirected');

    const classified = await as(admin, 'PATCH', `/api/incidents/${id(4)}`, {
      classification: 'FalsePositive',
      determination: 'Other',
    });
    expect(classified.status, classified.text).toBe(200);
    const verdicts = await merge(admin, [id(2), id(4)]);
    expect(verdicts.status).toBe(409);
    expect(verdicts.json.errors[0].code).toBe('incidents/merge-conflict');
    // Nothing was merged by the refusals.
    expect((await incident(id(2))).json.status).toBe('Active');
  });

  it('does not let a scoped user merge an incident outside its device groups (404)', async () => {
    const us = id(6);
    const refused = await merge(scoped, [id(2), us]);
    expect(refused.status).toBe(404);
    expect((await incident(us)).json.status).toBe('Active');
    const own = await merge(scoped, [id(2), id(5)]);
    expect(own.status, own.text).toBe(200);
    expect(own.json.incidentId).toBe(Math.min(id(2), id(5)));
  });
});
