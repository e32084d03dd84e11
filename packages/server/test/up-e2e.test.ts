// `palisade up` end to end on 127.0.0.1: an instance in a temporary directory, a sensor registered
// with the access key, EVTX-ATTACK-SAMPLES (as normalised rows and as raw events) and the lab's
// Samba audit logs posted as batches over mTLS, then the API read with an API client's token:
// the alerts are the offline scan's, with its entities, and alerts sharing the attacker's address
// form one incident. Re-sent batches are stored once, a restart keeps everything, and wrong keys,
// foreign and revoked certificates are refused. Skips with a printed reason when ../shared is
// absent (and fails in CI).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Alert, compileRuleSet, identityDetectors, scanFiles } from '@palisade/detect';
import { parseEvtx } from '@palisade/evtx';
import { normaliseWindowsEvent, readSambaAuditLines, type TableRow } from '@palisade/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMdeAlert } from '../src/incidents/from-detection.ts';
import type { EvidenceEntity } from '../src/incidents/model.ts';
import { createLogger } from '../src/log.ts';
import { createInstanceCa, signSensorCsr } from '../src/pki/ca.ts';
import { type RunningInstance, startInstance } from '../src/up.ts';
import { type CallOptions, call as loopbackCall, type Reply, sensorKey } from './loopback-client.ts';

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus');
const samples = join(corpus, 'evtx-attack-samples');
const audit = join(corpus, 'testbed-samples/audit');
const missing = [samples, audit].find((p) => !existsSync(p));
if (missing) {
  if (process.env.CI) throw new Error(`the up end-to-end test cannot run in CI: ${missing} not found`);
  console.log(`skipping the up end-to-end test: ${missing} not found`);
}

/** DCSync (4662) sent as rows the sensor normalised; a Kerberos enumeration (4768/4771) sent raw. */
const dcsyncFile = join(samples, 'Credential Access/CA_DCSync_4662.evtx');
const sprayFile = join(samples, 'Credential Access/kerberos_pwd_spray_4771.evtx');
/** Every command of the lab's recorded run came from here (packages/detect/test/lab-expectations.ts). */
const labAttacker = '10.99.0.20';
const adminPassword = 'Quartz-Lantern-Orbit-2291';
const domain = 'corp.lab.test';

let dir = '';
let instance: RunningInstance;
let caPem = '';
const logs: string[] = [];
const secrets: string[] = [adminPassword];

async function start(options: { domain?: string } = {}): Promise<RunningInstance> {
  const running = await startInstance({
    dataDir: dir,
    domain: options.domain,
    adminPassword,
    duckDbMemoryLimit: '256MB',
    listen: { host: '127.0.0.1', port: 0 },
    identityConfig: { testMode: true },
    log: createLogger({ write: (line) => logs.push(line) }),
  });
  caPem = running.instance.ca.certificatePem;
  return running;
}

/** An HTTPS call to the running instance, trusting only its CA. */
const call = (path: string, options: CallOptions = {}): Promise<Reply> =>
  loopbackCall({ port: instance.port, caPem }, path, options);

const jsonBody = (value: unknown, headers: Record<string, string> = {}): CallOptions => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value),
});

/** A new P-256 key and a CSR for it, as a sensor makes them. */
interface Admin {
  readonly cookie: string;
  readonly csrf: string;
}

async function login(): Promise<Admin> {
  const reply = await call('/api/auth/login', jsonBody({ userName: 'admin', password: adminPassword }));
  expect(reply.status, reply.text).toBe(200);
  const setCookie = String(reply.headers['set-cookie'] ?? '');
  expect(setCookie).toMatch(
    /^__Host-palisade-session=pls_[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict/,
  );
  return { cookie: setCookie.split(';')[0] ?? '', csrf: reply.json.csrfToken };
}

/** Headers of an unsafe request from the portal: session cookie, CSRF token and same origin. */
function portal(admin: Admin): Record<string, string> {
  return { cookie: admin.cookie, 'x-csrf-token': admin.csrf, origin: instance.url };
}

async function token(client: { clientId: string; clientSecret: string }): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.clientSecret,
    scope: 'https://api.securitycenter.microsoft.com/.default',
  });
  const reply = await call('/oauth2/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  expect(reply.status, reply.text).toBe(200);
  expect(reply.json).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
  secrets.push(reply.json.access_token);
  return reply.json.access_token;
}

/** The batches a domain-controller sensor would send, oldest first. */
function sensorBatches(): { batchId: string; rows?: TableRow[]; events?: unknown[] }[] {
  const dcsync = parseEvtx(readFileSync(dcsyncFile)).events.flatMap((e) =>
    normaliseWindowsEvent(e, dcsyncFile),
  );
  // Raw events as `palisade evtx dump --format jsonl` writes them.
  const spray = parseEvtx(readFileSync(sprayFile)).events.map((e) => ({ file: sprayFile, ...e }));
  const samba = readdirSync(audit)
    .sort()
    .flatMap((name) => readSambaAuditLines(readFileSync(join(audit, name), 'utf8'), join(audit, name)).rows);
  // A sensor reading several logs sends their records in time order.
  const time = (row: TableRow) => Date.parse(String(row.values.Timestamp));
  samba.sort((a, b) => time(a) - time(b));
  const batches: { batchId: string; rows?: TableRow[]; events?: unknown[] }[] = [
    { batchId: 'evtx-000001', rows: dcsync },
    { batchId: 'evtx-000002', events: spray },
  ];
  for (let i = 0; i < samba.length; i += 400) {
    batches.push({ batchId: `samba-${String(i / 400).padStart(6, '0')}`, rows: samba.slice(i, i + 400) });
  }
  return batches;
}

/** What the offline path raises on the same files: `palisade scan` in identity test mode. */
async function offlineAlerts(): Promise<Alert[]> {
  const scan = await scanFiles(
    [dcsyncFile, sprayFile, audit],
    compileRuleSet([], { name: 'none', entries: [] }),
    {
      identity: { detectors: identityDetectors, config: { testMode: true } },
    },
  );
  return scan.alerts;
}

const withoutTime = (evidence: readonly EvidenceEntity[]) =>
  evidence.map(({ evidenceCreationTime: _t, ...rest }) => rest);

describe.skipIf(missing !== undefined)('palisade up end to end on loopback', () => {
  let admin: Admin;
  let client: { clientId: string; clientSecret: string };
  let bearer = '';
  let accessKey = '';
  let sensor: { sensorId: string; key: string; cert: string };
  let batches: ReturnType<typeof sensorBatches>;
  let offline: Alert[];

  const sensorTls = () => ({ key: sensor.key, cert: sensor.cert });
  const sendBatch = (batch: object, tls = sensorTls()) =>
    call('/api/sensor/batches', { ...jsonBody(batch), tls });
  const api = (path: string) => call(path, { headers: { authorization: `Bearer ${bearer}` } });
  const count = async (sql: string) =>
    Number((await instance.instance.events.query(sql)).rows[0]?.n ?? Number.NaN);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-up-'));
    instance = await start({ domain });
    accessKey = instance.created?.accessKey ?? '';
    secrets.push(accessKey);
    batches = sensorBatches();
    offline = await offlineAlerts();
  });

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates the instance once, with the given administrator password and an access key', async () => {
    expect(instance.created).toEqual({ adminName: 'admin', adminPassword: undefined, accessKey });
    expect(accessKey).toMatch(/^pak_[\w-]{43}$/);
    expect(instance.instance.record).toMatchObject({ domain, name: 'corp', dataDir: dir });
    for (const name of [
      'pki/ca.pem',
      'pki/ca.key',
      'pki/server.pem',
      'pki/server.key',
      'events.duckdb',
      'state.sqlite',
    ])
      expect(existsSync(join(dir, name)), name).toBe(true);
  });

  it('signs in the administrator and registers an API client (CSRF and origin checked)', async () => {
    admin = await login();
    const body = { name: 'e2e SIEM', scopes: ['Alert.Read.All', 'Incident.Read.All', 'Machine.Read.All'] };
    const noCsrf = await call('/api/settings/api-clients', jsonBody(body, { cookie: admin.cookie }));
    expect(noCsrf.status).toBe(403);
    const otherOrigin = await call(
      '/api/settings/api-clients',
      jsonBody(body, { ...portal(admin), origin: 'https://evil.example' }),
    );
    expect(otherOrigin.status).toBe(403);
    const created = await call('/api/settings/api-clients', jsonBody(body, portal(admin)));
    expect(created.status, created.text).toBe(201);
    client = created.json;
    secrets.push(client.clientSecret);
    bearer = await token(client);
    // The client's scopes give no administration.
    const forbidden = await call('/api/settings/access-key/regenerate', {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
    });
    expect(forbidden.status).toBe(403);
  });

  it('registers a sensor with the access key, and refuses a wrong one', async () => {
    const { csr, key } = await sensorKey();
    const wrong = await call(
      '/api/sensors/register',
      jsonBody({ accessKey: `${accessKey.slice(0, -1)}A`, csr, name: 'dc1' }),
    );
    expect(wrong.status).toBe(401);
    expect(wrong.headers['content-type']).toBe('application/problem+json');
    const reply = await call(
      '/api/sensors/register',
      jsonBody(
        { csr, name: 'dc1', type: 'domain-controller', host: { os: 'Samba 4' } },
        { 'x-palisade-access-key': accessKey },
      ),
    );
    expect(reply.status, reply.text).toBe(201);
    sensor = { sensorId: reply.json.sensorId, key, cert: reply.json.chain };
    expect(reply.json.caCertificate).toBe(caPem);
    const sensors = await call('/api/sensors', { headers: { cookie: admin.cookie } });
    expect(sensors.json.value).toMatchObject([
      { id: sensor.sensorId, name: 'dc1', type: 'domain-controller', domain },
    ]);
    const audit = await instance.instance.state.audit.list({ action: 'sensor.register' });
    expect(audit.items.map((a) => a.outcome).sort()).toEqual(['failure', 'success']);
  });

  it('stores every batch and acknowledges it, in time order', async () => {
    for (const batch of batches) {
      const reply = await sendBatch(batch);
      expect(reply.status, reply.text).toBe(200);
      expect(reply.json).toMatchObject({
        batchId: batch.batchId,
        duplicate: false,
        accepted: { rows: batch.rows?.length ?? 0, events: batch.events?.length ?? 0 },
        rejectedCount: 0,
      });
    }
    const sprayEvents = batches[1]?.events?.length ?? 0;
    expect(
      await count(`SELECT count(*) AS n FROM "PalisadeRawEvents" WHERE "Source" = '${sensor.sensorId}'`),
    ).toBe(sprayEvents);
  });

  it('lists the alerts the offline scan raises on the same files, with the same entities', async () => {
    const reply = await api('/api/alerts?$expand=evidence&$orderby=lastEventTime asc');
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json['@odata.context']).toBe(`${instance.url}/api/$metadata#Alerts`);
    const live = reply.json.value as {
      id: string;
      title: string;
      evidence: EvidenceEntity[];
      incidentId: number;
    }[];
    const expected = offline.map((a) => toMdeAlert(a));
    expect(expected.length).toBe(6);
    expect(live.map((a) => [a.id, a.title]).sort()).toEqual(expected.map((a) => [a.id, a.title]).sort());
    for (const alert of expected) {
      const found = live.find((a) => a.id === alert.id);
      expect(withoutTime(found?.evidence ?? []), alert.title).toEqual(withoutTime(alert.evidence));
    }
    const dcsync = live.find((a) => a.title.startsWith('Suspected DCSync'));
    expect(dcsync).toMatchObject({ relatedUser: { userName: 'Administrator', domainName: 'insecurebank' } });
    const one = await api(`/api/alerts/${dcsync?.id}`);
    expect(one.json).toMatchObject({ id: dcsync?.id, severity: 'High', status: 'New', externalId: 2006 });
    const filtered = await api(`/api/alerts?$filter=severity eq 'High' and status eq 'New'`);
    expect(filtered.json.value.every((a: { severity: string }) => a.severity === 'High')).toBe(true);
    const bad = await api('/api/alerts?$filter=nonsense eq 1');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toBe('application/problem+json');
  });

  it("groups the lab attacker's alerts into one incident", async () => {
    const reply = await api('/api/incidents');
    expect(reply.status, reply.text).toBe(200);
    const incidents = reply.json.value as {
      incidentId: number;
      alerts: { alertId: string; entities: EvidenceEntity[] }[];
    }[];
    expect(incidents.map((i) => i.alerts.length).sort()).toEqual([1, 1, 4]);
    const lab = incidents.find((i) => i.alerts.length === 4);
    for (const alert of lab?.alerts ?? []) {
      expect(alert.entities.some((e) => e.entityType === 'Ip' && e.ipAddress === labAttacker)).toBe(true);
    }
    const expectedIds = offline
      .filter((a) => a.entities?.ips.includes(labAttacker))
      .map((a) => toMdeAlert(a).id);
    expect(lab?.alerts.map((a) => a.alertId).sort()).toEqual(expectedIds.sort());
    const one = await api(`/api/incidents/${lab?.incidentId}`);
    expect(one.json).toMatchObject({ incidentId: lab?.incidentId, status: 'Active', severity: 'High' });
  });

  it('lists the machines that logged the events', async () => {
    const reply = await api('/api/machines?$orderby=computerDnsName asc');
    expect(reply.status, reply.text).toBe(200);
    const names = reply.json.value.map((m: { computerDnsName: string }) => m.computerDnsName);
    expect(names).toEqual(expect.arrayContaining(['dc1.insecurebank.local', 'dc1']));
    const dc = reply.json.value.find((m: { computerDnsName: string }) => m.computerDnsName === 'dc1');
    expect(dc).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{40}$/), onboardingStatus: 'onboarded' });
    const one = await api(`/api/machines/${dc.id}`);
    expect(one.json).toMatchObject({ computerDnsName: 'dc1', lastSeen: dc.lastSeen });
  });

  it('stores a re-sent batch once and answers it the same', async () => {
    const before = await count('SELECT count(*) AS n FROM "IdentityLogonEvents"');
    const alertsBefore = (await api('/api/alerts')).json.value.length;
    const batch = batches[2] ?? { batchId: 'none' };
    const again = await sendBatch(batch);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ batchId: batch.batchId, duplicate: true, alerts: 0 });
    expect(await count('SELECT count(*) AS n FROM "IdentityLogonEvents"')).toBe(before);
    expect((await api('/api/alerts')).json.value.length).toBe(alertsBefore);
  });

  it('stores the valid rows of a batch and names the refused ones by index and column', async () => {
    const good: TableRow = {
      table: 'PalisadeRawEvents',
      values: { Timestamp: '2026-11-22T00:00:00Z', Source: 'test', Channel: 'test' },
    };
    const reply = await sendBatch({
      batchId: 'mixed-000001',
      rows: [
        good,
        { table: 'IdentityLogonEvents', values: { Timestamp: 'yesterday', Port: 'x' } },
        { table: 'Nope' },
      ],
      events: [{ neither: 'Event nor system' }],
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.accepted).toEqual({ rows: 1, events: 0 });
    expect(reply.json.rejected).toEqual([
      {
        part: 'rows',
        index: 1,
        column: 'Timestamp',
        message: 'IdentityLogonEvents.Timestamp is datetime, found "yesterday"',
      },
      { part: 'rows', index: 1, column: 'Port', message: 'IdentityLogonEvents.Port is int, found "x"' },
      { part: 'rows', index: 2, message: 'expected a table name, found "Nope"' },
      {
        part: 'events',
        index: 0,
        message: "expected an object with 'Event' (Windows JSON) or 'system' (palisade evtx dump)",
      },
    ]);
  });

  it('answers malformed requests with problem+json and keeps serving', async () => {
    const malformed = await call('/api/sensor/batches', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"batchId": ',
      tls: sensorTls(),
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ type: '/problems/invalid-body', status: 400 });
    const wrongType = await sendBatch({ batchId: 42, rows: 'all of them' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['#/batchId', '#/rows']);
    const tooBig = await call('/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.alloc(20_000, 'a'),
    });
    expect(tooBig.status).toBe(413);
    const tooBigChunked = await call('/oauth2/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(20_000, 'a'),
    });
    expect(tooBigChunked.status).toBe(413);
    expect((await call('/api/nothing-here')).status).toBe(404);
    expect(
      (await call('/api/alerts', { method: 'DELETE', headers: { authorization: `Bearer ${bearer}` } }))
        .status,
    ).toBe(405);
    expect((await api('/api/alerts')).status).toBe(200);
  });

  it('serves the OpenAPI document of its route table', async () => {
    const reply = await call('/api/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.json.openapi).toBe('3.1.1');
    expect(Object.keys(reply.json.paths)).toEqual(
      expect.arrayContaining([
        '/api/alerts',
        '/api/alerts/{id}',
        '/api/incidents/{id}',
        '/api/sensor/batches',
      ]),
    );
    expect(reply.json.paths['/api/alerts'].get['x-palisade-permission']).toBe('alerts.read');
    expect(reply.json.paths['/api/sensor/batches'].post.security).toEqual([{ sensorCertificate: [] }]);
  });

  it('keeps alerts, incidents and the sensor across a restart', async () => {
    const alerts = (await api('/api/alerts')).json.value.map((a: { id: string }) => a.id).sort();
    const incidents = (await api('/api/incidents')).json.value;
    await instance.close();
    instance = await start();
    expect(instance.created).toBeUndefined();
    // Access tokens live in memory: the client fetches a new one, as OAuth clients do.
    expect((await api('/api/alerts')).status).toBe(401);
    bearer = await token(client);
    expect((await api('/api/alerts')).json.value.map((a: { id: string }) => a.id).sort()).toEqual(alerts);
    expect((await api('/api/incidents')).json.value).toEqual(incidents);
    const again = await sendBatch(batches[0] ?? {});
    expect(again.json).toMatchObject({ duplicate: true });
    const heartbeat = await call('/api/sensor/heartbeat', {
      ...jsonBody({ version: '0.1.0' }),
      tls: sensorTls(),
    });
    expect(heartbeat.status).toBe(200);
    expect(heartbeat.json).toMatchObject({ pendingActions: 0 });
  });

  it('refuses another domain for the same data directory', async () => {
    await expect(
      startInstance({
        dataDir: dir,
        domain: 'other.test',
        duckDbMemoryLimit: '256MB',
        listen: { host: '127.0.0.1', port: 0 },
      }),
    ).rejects.toThrow(/holds the instance of corp\.lab\.test, not other\.test/);
  });

  it('refuses the old access key once it is regenerated; registered sensors keep working', async () => {
    admin = await login();
    const regenerated = await call('/api/settings/access-key/regenerate', {
      method: 'POST',
      headers: portal(admin),
    });
    expect(regenerated.status, regenerated.text).toBe(200);
    expect(regenerated.json.generation).toBe(2);
    secrets.push(regenerated.json.accessKey);
    const { csr } = await sensorKey();
    const old = await call('/api/sensors/register', jsonBody({ accessKey, csr, name: 'dc2' }));
    expect(old.status).toBe(401);
    const fresh = await call(
      '/api/sensors/register',
      jsonBody({ accessKey: regenerated.json.accessKey, csr, name: 'dc2' }),
    );
    expect(fresh.status).toBe(201);
    expect((await call('/api/sensor/heartbeat', { ...jsonBody({}), tls: sensorTls() })).status).toBe(200);
  });

  it('refuses a certificate from another CA, and a deleted sensor', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'palisade-other-ca-'));
    try {
      const other = await createInstanceCa(otherDir, { instanceName: 'impostor' });
      const { csr, key } = await sensorKey();
      const issued = await signSensorCsr(other, csr, sensor.sensorId);
      if (issued.kind !== 'issued') throw new Error(issued.message);
      const foreign = await sendBatch({ batchId: 'foreign-1', rows: [] }, { key, cert: issued.chainPem });
      expect(foreign.status).toBe(401);
      expect(foreign.json.detail).toMatch(/untrusted/);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
    const noCert = await call('/api/sensor/batches', jsonBody({ batchId: 'x', rows: [] }));
    expect(noCert.status).toBe(401);
    const deleted = await call(`/api/sensors/${sensor.sensorId}`, {
      method: 'DELETE',
      headers: portal(admin),
    });
    expect(deleted.status).toBe(204);
    const after = await sendBatch({ batchId: 'after-delete', rows: [] });
    expect(after.status).toBe(401);
    expect(after.json.detail).toMatch(/revoked/);
  });

  it('writes no password, key, secret or token to the log', () => {
    expect(logs.length).toBeGreaterThan(20);
    const text = logs.join('');
    for (const secret of secrets)
      expect(text.includes(secret), `a secret of ${secret.slice(0, 4)}… leaked`).toBe(false);
    expect(text).toContain('"msg":"alerts raised"');
  });
});
