// The sensor channel's control half on a real loopback server: configuration pull with ETag/304
// and updates by an administrator, the action queue round trip, health issues from heartbeats
// (clock skew opened and closed) and from the evaluator (a silent sensor, with a moved clock),
// 429 under a burst, daily maintenance, and who may do what (readers cannot configure or queue;
// a sensor cannot touch another sensor's actions).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../src/auth/passwords.ts';
import { directoryRoleNames } from '../src/instance.ts';
import { createLogger } from '../src/log.ts';
import { type RunningInstance, startInstance } from '../src/up.ts';
import { type CallOptions, call as callTarget, sensorKey } from './loopback-client.ts';

const adminPassword = 'Quartz-Lantern-Orbit-2291';
const readerPassword = 'Basalt-Meadow-Cipher-7730';

let dir = '';
let instance: RunningInstance;
/** The instance's clock runs this far ahead of the real one (moved by the tests). */
let clockOffsetMs = 0;
const burst = 40;

const call = (path: string, options?: CallOptions) =>
  callTarget({ port: instance.port, caPem: instance.instance.ca.certificatePem }, path, options);
const jsonBody = (value: unknown, headers: Record<string, string> = {}, method = 'POST'): CallOptions => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value),
});

interface SensorIdentity {
  readonly sensorId: string;
  readonly tls: { readonly key: string; readonly cert: string };
}

async function registerSensor(name: string): Promise<SensorIdentity> {
  const { csr, key } = await sensorKey(name);
  const reply = await call(
    '/api/sensors/register',
    jsonBody(
      { csr, name, type: 'domain-controller' },
      { 'x-palisade-access-key': instance.created?.accessKey ?? '' },
    ),
  );
  expect(reply.status, reply.text).toBe(201);
  return { sensorId: reply.json.sensorId, tls: { key, cert: reply.json.chain } };
}

async function login(userName: string, password: string): Promise<Record<string, string>> {
  const reply = await call('/api/auth/login', jsonBody({ userName, password }));
  expect(reply.status, reply.text).toBe(200);
  const cookie = String(reply.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  return { cookie, 'x-csrf-token': reply.json.csrfToken, origin: instance.url };
}

describe('sensor configuration, actions and health on loopback', () => {
  let admin: Record<string, string>;
  let reader: Record<string, string>;
  let dc1: SensorIdentity;
  let dc2: SensorIdentity;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-sensor-channel-'));
    instance = await startInstance({
      dataDir: join(dir, 'data'),
      domain: 'corp.lab.test',
      adminPassword,
      duckDbMemoryLimit: '256MB',
      listen: { host: '127.0.0.1', port: 0 },
      identityConfig: { testMode: true },
      log: createLogger({ write: () => undefined }),
      now: () => new Date(Date.now() + clockOffsetMs),
      sensorRateLimit: { burst, perSecond: 1 },
      schedule: { healthCheckMs: 0, maintenanceMs: 0 },
    });
    const { state } = instance.instance;
    const user = await state.users.create({
      name: 'reader',
      passwordHash: await hashPassword(readerPassword),
    });
    const role = await state.roles.getByName(directoryRoleNames['security-reader']);
    await state.roles.assign(role?.id ?? '', { kind: 'user', id: user.id });
    admin = await login('admin', adminPassword);
    reader = await login('reader', readerPassword);
    dc1 = await registerSensor('dc1');
    dc2 = await registerSensor('dc2');
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the configuration with an ETag, answers 304 until an administrator changes it', async () => {
    const first = await call('/api/sensor/config', { tls: dc1.tls });
    expect(first.status, first.text).toBe(200);
    expect(first.headers.etag).toBe(first.json.etag);
    expect(first.json.config).toMatchObject({
      heartbeat: { intervalSeconds: 60 },
      delivery: { batchMaxEvents: 1000 },
      identity: { honeytokens: [] },
    });
    const etag = String(first.headers.etag);
    const unchanged = await call('/api/sensor/config', { tls: dc1.tls, headers: { 'if-none-match': etag } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');

    // The instance default reaches every sensor; a sensor's own override wins over it.
    const setDefault = await call(
      '/api/settings/sensor-config',
      jsonBody({ identity: { honeytokens: ['honey.pot'], sensitiveGroups: ['Tier0'] } }, admin, 'PUT'),
    );
    expect(setDefault.status, setDefault.text).toBe(200);
    const setOwn = await call(
      `/api/sensors/${dc1.sensorId}/config`,
      jsonBody(
        {
          capture: { interfaces: ['eth1'], filter: 'tcp port 88 or tcp port 389' },
          heartbeat: { intervalSeconds: 30 },
        },
        admin,
        'PUT',
      ),
    );
    expect(setOwn.status, setOwn.text).toBe(200);
    expect(setOwn.json.version).toBe(2);

    const changed = await call('/api/sensor/config', { tls: dc1.tls, headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json).toMatchObject({
      sensorId: dc1.sensorId,
      version: 2,
      config: {
        capture: { interfaces: ['eth1'], filter: 'tcp port 88 or tcp port 389', snapLength: 65535 },
        identity: { honeytokens: ['honey.pot'], sensitiveGroups: ['Tier0'], exclusions: {} },
        heartbeat: { intervalSeconds: 30 },
      },
    });
    const other = await call('/api/sensor/config', { tls: dc2.tls });
    expect(other.json.config.capture.interfaces).toEqual([]);
    expect(other.json.config.identity.honeytokens).toEqual(['honey.pot']);

    // The heartbeat names the ETag, so a sensor knows when to pull.
    const beat = await call('/api/sensor/heartbeat', { ...jsonBody({}), tls: dc1.tls });
    expect(beat.json.configEtag).toBe(changed.headers.etag);

    const audit = await instance.instance.state.audit.list({ top: 100 });
    expect(audit.items.map((a) => a.action)).toEqual(
      expect.arrayContaining(['settings.sensorConfig.update', 'sensor.config.update']),
    );
  });

  it('refuses a wrong configuration with every problem named', async () => {
    const reply = await call(
      `/api/sensors/${dc1.sensorId}/config`,
      jsonBody(
        { capture: { filter: 7, nic: 'eth0' }, heartbeat: { intervalSeconds: 1 }, colour: {} },
        admin,
        'PUT',
      ),
    );
    expect(reply.status).toBe(400);
    expect(reply.json.errors.map((e: { detail: string }) => e.detail)).toEqual([
      '#/capture/filter: expected a string of at most 4096 characters, found 7',
      '#/capture/nic: expected one of interfaces, filter, snapLength, found nic',
      '#/heartbeat/intervalSeconds: expected an integer from 10 to 3600, found 1',
      '#/colour: expected one of capture, sources, identity, delivery, heartbeat, found colour',
    ]);
  });

  it('round-trips an action: queued by an administrator, taken and answered by its sensor', async () => {
    const queued = await call(
      `/api/sensors/${dc1.sensorId}/actions`,
      jsonBody(
        { type: 'collect-diagnostics', parameters: { includeBuffer: true }, comment: 'case 42' },
        admin,
      ),
    );
    expect(queued.status, queued.text).toBe(201);
    const second = await call(`/api/sensors/${dc1.sensorId}/actions`, jsonBody({ type: 'restart' }, admin));
    expect(second.status).toBe(201);
    const bad = await call(
      `/api/sensors/${dc1.sensorId}/actions`,
      jsonBody({ type: 'restart', parameters: { force: true } }, admin),
    );
    expect(bad.status).toBe(400);
    expect(
      (await call(`/api/sensors/${dc1.sensorId}/actions`, jsonBody({ type: 'format-disk' }, admin))).status,
    ).toBe(400);

    const beat = await call('/api/sensor/heartbeat', { ...jsonBody({}), tls: dc1.tls });
    expect(beat.json.pendingActions).toBe(2);
    const taken = await call('/api/sensor/actions', { tls: dc1.tls });
    expect(taken.status).toBe(200);
    expect(taken.json.value.map((a: { type: string; status: string }) => [a.type, a.status])).toEqual([
      ['collect-diagnostics', 'InProgress'],
      ['restart', 'InProgress'],
    ]);
    expect((await call('/api/sensor/actions', { tls: dc2.tls })).json.value).toEqual([]);

    const id = queued.json.id;
    // Another sensor cannot answer it, nor learn that it exists.
    const foreign = await call(`/api/sensor/actions/${id}/result`, {
      ...jsonBody({ status: 'Failed' }),
      tls: dc2.tls,
    });
    expect(foreign.status).toBe(404);
    const done = await call(`/api/sensor/actions/${id}/result`, {
      ...jsonBody({ status: 'Succeeded', details: { packageBytes: 1234 } }),
      tls: dc1.tls,
    });
    expect(done.status, done.text).toBe(200);
    expect(done.json).toMatchObject({ status: 'Succeeded', result: { packageBytes: 1234 } });
    // The same report again is harmless; a different one is a conflict.
    const again = await call(`/api/sensor/actions/${id}/result`, {
      ...jsonBody({ status: 'Succeeded', details: { packageBytes: 1234 } }),
      tls: dc1.tls,
    });
    expect(again.status).toBe(200);
    const contrary = await call(`/api/sensor/actions/${id}/result`, {
      ...jsonBody({ status: 'Failed' }),
      tls: dc1.tls,
    });
    expect(contrary.status).toBe(409);

    const listed = await call(`/api/sensors/${dc1.sensorId}/actions`, { headers: reader });
    expect(listed.status).toBe(200);
    expect(listed.json.value.map((a: { type: string; status: string }) => [a.type, a.status])).toEqual([
      ['collect-diagnostics', 'Succeeded'],
      ['restart', 'InProgress'],
    ]);
    expect(
      (await call('/api/sensor/actions', { tls: dc1.tls })).json.value.map((a: { type: string }) => a.type),
    ).toEqual(['restart']);
  });

  it('lets a reader look but not configure or queue', async () => {
    expect((await call(`/api/sensors/${dc1.sensorId}/config`, { headers: reader })).status).toBe(200);
    expect((await call('/api/settings/sensor-config', jsonBody({}, reader, 'PUT'))).status).toBe(403);
    expect((await call(`/api/sensors/${dc1.sensorId}/config`, jsonBody({}, reader, 'PUT'))).status).toBe(403);
    expect(
      (await call(`/api/sensors/${dc1.sensorId}/actions`, jsonBody({ type: 'restart' }, reader))).status,
    ).toBe(403);
    // Nor can a sensor reach the administrators' routes, or a person the sensor's.
    expect(
      (await call(`/api/sensors/${dc1.sensorId}/actions`, { ...jsonBody({ type: 'restart' }), tls: dc1.tls }))
        .status,
    ).toBe(401);
    expect((await call('/api/sensor/actions', { headers: admin })).status).toBe(401);
  });

  it('opens a clock-skew issue for a skewed heartbeat and closes it on a good one', async () => {
    const skewed = new Date(Date.now() + clockOffsetMs + 7 * 60_000).toISOString();
    const beat = await call('/api/sensor/heartbeat', {
      ...jsonBody({
        sensorTime: skewed,
        version: '0.2.0',
        status: 'Running',
        lagSeconds: 3,
        bufferedBatches: 95,
        bufferCapacityBatches: 100,
        dropped: { events: 0 },
        capture: { packetsReceived: 1000, packetsDropped: 0 },
        errors: [],
      }),
      tls: dc1.tls,
    });
    expect(beat.status, beat.text).toBe(200);
    expect(beat.json.healthIssues.map((i: { type: string }) => i.type).sort()).toEqual([
      'buffer-near-full',
      'clock-skew',
    ]);
    const listed = await call('/api/sensors', { headers: reader });
    const entity = listed.json.value.find((s: { id: string }) => s.id === dc1.sensorId);
    expect(entity).toMatchObject({ healthStatus: 'NotHealthyMedium', healthIssues: 2, version: '0.2.0' });
    expect(entity.openHealthIssues.find((i: { type: string }) => i.type === 'clock-skew')).toMatchObject({
      title: "The sensor's clock is more than 5 minutes off the server's",
      severity: 'Medium',
    });

    const good = await call('/api/sensor/heartbeat', {
      ...jsonBody({
        sensorTime: new Date(Date.now() + clockOffsetMs).toISOString(),
        bufferedBatches: 2,
        bufferCapacityBatches: 100,
      }),
      tls: dc1.tls,
    });
    expect(good.json.healthIssues).toEqual([]);
    const issues = await call(`/api/health/issues?sensorId=${dc1.sensorId}`, { headers: reader });
    expect(issues.status).toBe(200);
    const skew = issues.json.value.find((i: { type: string }) => i.type === 'clock-skew');
    expect(skew).toMatchObject({ status: 'Closed', severity: 'Medium' });
    expect(skew.details.skewSeconds).toBeGreaterThanOrEqual(419);
    expect(Date.parse(skew.closedAt)).toBeGreaterThanOrEqual(Date.parse(skew.openedAt));
    const afterwards = (await call('/api/sensors', { headers: reader })).json.value.find(
      (s: { id: string }) => s.id === dc1.sensorId,
    );
    expect(afterwards).toMatchObject({ healthStatus: 'Healthy', healthIssues: 0 });
  });

  it('raises reported errors and capture failures', async () => {
    const beat = await call('/api/sensor/heartbeat', {
      ...jsonBody({
        capture: { failing: true, error: 'eth1: no such device' },
        dropped: { events: 12 },
        errors: [{ source: 'samba-audit', message: 'permission denied: /var/log/samba/audit.log' }],
      }),
      tls: dc2.tls,
    });
    expect(beat.json.healthIssues.map((i: { type: string }) => i.type).sort()).toEqual([
      'capture-failing',
      'events-dropped',
      'sensor-errors',
    ]);
    const wrong = await call('/api/sensor/heartbeat', {
      ...jsonBody({ sensorTime: 'yesterday', bufferedBatches: -1 }),
      tls: dc2.tls,
    });
    expect(wrong.status).toBe(400);
    const cleared = await call('/api/sensor/heartbeat', {
      ...jsonBody({ capture: { packetsReceived: 10 }, dropped: { events: 0 }, errors: [] }),
      tls: dc2.tls,
    });
    expect(cleared.json.healthIssues).toEqual([]);
  });

  it('flags a silent sensor when the evaluator runs past the threshold, and clears it on contact', async () => {
    await instance.evaluateHealth();
    const open = async () =>
      (await call('/api/health/issues?status=Open', { headers: reader })).json.value.map(
        (i: { sensorId: string; type: string }) => `${i.sensorId === dc1.sensorId ? 'dc1' : 'dc2'} ${i.type}`,
      );
    expect(await open()).toEqual([]);

    clockOffsetMs += 6 * 60_000;
    // dc2 calls just before the evaluation; dc1 stays silent.
    await call('/api/sensor/heartbeat', { ...jsonBody({}), tls: dc2.tls });
    await instance.evaluateHealth();
    expect(await open()).toEqual(['dc1 sensor-stopped-communicating']);
    const entity = (await call('/api/sensors', { headers: reader })).json.value.find(
      (s: { id: string }) => s.id === dc1.sensorId,
    );
    expect(entity).toMatchObject({ healthStatus: 'NotHealthyMedium', sensorStatus: 'UpToDate' });

    await call('/api/sensor/heartbeat', { ...jsonBody({}), tls: dc1.tls });
    expect(await open()).toEqual([]);
    const closed = (
      await call(`/api/health/issues?sensorId=${dc1.sensorId}`, { headers: reader })
    ).json.value.find((i: { type: string }) => i.type === 'sensor-stopped-communicating');
    expect(closed).toMatchObject({ status: 'Closed', details: { silentMinutes: 6 } });
    expect((await call('/api/health/issues?status=Maybe', { headers: reader })).status).toBe(400);
  });

  it('answers 429 with Retry-After when one sensor bursts, without slowing another', async () => {
    const burster = await registerSensor('burster');
    const statuses: number[] = [];
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < burst + 5; i++) {
      const reply = await call('/api/sensor/batches', {
        ...jsonBody({ batchId: `b-${i}`, rows: [] }),
        tls: burster.tls,
      });
      statuses.push(reply.status);
      if (reply.status === 429) retryAfter = reply.headers['retry-after'];
    }
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(burst);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const other = await call('/api/sensor/batches', {
      ...jsonBody({ batchId: 'x-1', rows: [] }),
      tls: dc2.tls,
    });
    expect(other.status).toBe(200);
  }, 60_000);

  it('takes several batches in one request, acknowledges each in order, and names a bad member by its place', async () => {
    const row = (n: number) => ({
      table: 'IdentityLogonEvents',
      values: { Timestamp: `2026-11-22T09:00:0${n}.000Z`, ActionType: 'LogonSuccess', AccountName: `u${n}` },
    });
    const sensor = await registerSensor('several');
    const first = await call('/api/sensor/batches', {
      ...jsonBody({
        batches: [
          { batchId: 'm-1', rows: [row(1), row(2)] },
          { batchId: 'm-2', rows: [row(3)] },
          // The same id again in the request: stored once, the second answered as a duplicate.
          { batchId: 'm-1', rows: [row(1), row(2)] },
        ],
      }),
      tls: sensor.tls,
    });
    expect(first.status, first.text).toBe(200);
    expect(
      first.json.acks.map((a: { batchId: string; duplicate: boolean }) => [a.batchId, a.duplicate]),
    ).toEqual([
      ['m-1', false],
      ['m-2', false],
      ['m-1', true],
    ]);
    expect(first.json.acks[0].accepted).toEqual({ rows: 2, events: 0 });
    // Sent again after a lost answer: nothing stored twice.
    const again = await call('/api/sensor/batches', {
      ...jsonBody({ batches: [{ batchId: 'm-2', rows: [row(3)] }] }),
      tls: sensor.tls,
    });
    expect(again.json.acks[0]).toMatchObject({ batchId: 'm-2', duplicate: true });

    const bad = await call('/api/sensor/batches', {
      ...jsonBody({ batches: [{ batchId: 'm-3', rows: [] }, { rows: 'no' }] }),
      tls: sensor.tls,
    });
    expect(bad.status).toBe(400);
    const pointers = bad.json.errors.map((e: { pointer: string }) => e.pointer).sort();
    expect(pointers).toEqual(['#/batches/1/batchId', '#/batches/1/rows']);
    const tooMany = await call('/api/sensor/batches', {
      ...jsonBody({ batches: Array.from({ length: 17 }, (_, i) => ({ batchId: `t-${i}` })) }),
      tls: sensor.tls,
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toContain('an array of 1 to 16 batches');
  }, 60_000);

  it('runs maintenance: retention, and the server certificate kept while current', async () => {
    const result = await instance.maintain();
    expect(result.serverCertificate).toBe('current');
    expect(result.retention.batchesForgotten).toBe(0);
    expect((await call('/api/openapi.json')).status).toBe(200);
  });
});
