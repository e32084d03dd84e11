// `palisade hunt` against a running instance (its API, with an API client's credentials) and
// against the instance directory once the instance is stopped (refused while it runs), with the
// table, CSV and JSON outputs written out in full from the three rows posted.
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningInstance, silentLogger, startInstance } from '@palisade/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHunt } from '../src/hunt-command.ts';
import { memoryOutput } from './memory-output.ts';

const adminPassword = 'Quartz-Lantern-Orbit-2291';
let dir = '';
let data = '';
let caFile = '';
let running: RunningInstance | undefined;
let client = { clientId: '', clientSecret: '' };

/** A JSON POST to the instance, trusting its CA. */
function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: test replies are read field by field
): Promise<{ status: number; json: any; cookie: string }> {
  const instance = running as RunningInstance;
  return new Promise((done, failed) => {
    const req = request(
      `${instance.url}${path}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: instance.url, ...headers },
        ca: instance.instance.ca.certificatePem,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            cookie: String(res.headers['set-cookie'] ?? '').split(';')[0] ?? '',
          }),
        );
      },
    );
    req.on('error', failed);
    req.end(JSON.stringify(body));
  });
}

const row = (device: string, file: string, reportId: number) => ({
  table: 'DeviceProcessEvents',
  values: { Timestamp: '2026-11-20T08:00:00Z', DeviceName: device, FileName: file, ReportId: reportId },
});

const hunt = (args: string[], options: Record<string, string>, env: Record<string, string> = {}) => {
  const out = memoryOutput();
  return runHunt(args, { format: 'table', ...options }, out, { env }).then((code) => ({ code, out }));
};

describe('palisade hunt', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-hunt-cli-'));
    data = join(dir, 'data');
    running = await startInstance({
      dataDir: data,
      domain: 'corp.lab.test',
      adminPassword,
      duckDbMemoryLimit: '256MB',
      listen: { host: '127.0.0.1', port: 0 },
      log: silentLogger,
      schedule: { healthCheckMs: 0, customDetectionsMs: 0, maintenanceMs: 0 },
    });
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, running.instance.ca.certificatePem);
    const ack = await running.pipeline.ingest({
      batchId: 'b1',
      sensorId: 's1',
      rows: [
        row('ws1.corp.lab.test', 'cmd.exe', 1),
        row('ws1.corp.lab.test', 'powershell.exe', 2),
        row('ws2.corp.lab.test', 'cmd.exe', 3),
      ],
      events: [],
    });
    expect(ack.accepted.rows).toBe(3);
    const login = await post('/api/auth/login', { userName: 'admin', password: adminPassword });
    const created = await post(
      '/api/settings/api-clients',
      { name: 'hunter', scopes: ['AdvancedQuery.Read.All'] },
      { cookie: login.cookie, 'x-csrf-token': login.json.csrfToken },
    );
    expect(created.status).toBe(201);
    client = created.json;
  }, 60_000);

  afterAll(async () => {
    await running?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const query = 'DeviceProcessEvents | summarize Processes = count() by DeviceName | sort by DeviceName asc';

  it('asks a running instance through its API and prints CSV', async () => {
    const instance = running as RunningInstance;
    const server = { server: instance.url, 'client-id': client.clientId, 'ca-file': caFile };
    const { code, out } = await hunt(
      [query],
      { ...server, format: 'csv' },
      { PALISADE_CLIENT_SECRET: client.clientSecret },
    );
    expect(out.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(out.stdout).toBe('DeviceName,Processes\r\nws1.corp.lab.test,2\r\nws2.corp.lab.test,1\r\n');

    const bad = await hunt(['DeviceProcessEvents\n| where NoSuchColumn == 1'], server, {
      PALISADE_CLIENT_SECRET: client.clientSecret,
    });
    expect(bad.code).toBe(1);
    expect(bad.out.stderr).toEqual([
      "palisade hunt: The name 'NoSuchColumn' does not refer to any known column, table, variable or function. (2:9)",
    ]);
    const noSecret = await hunt([query], server);
    expect(noSecret.code).toBe(2);
  });

  it('refuses the instance directory while the instance runs, and reads it once stopped', async () => {
    const busy = await hunt([query], { data });
    expect(busy.code).toBe(1);
    expect(busy.out.stderr[0]).toContain('is running and holds its event store');

    await running?.close();
    running = undefined;
    const table = await hunt([query], { data });
    expect(table.out.stderr).toEqual([]);
    expect(table.code).toBe(0);
    expect(table.out.stdout).toBe(
      [
        'DeviceName         Processes',
        '-----------------  ---------',
        'ws1.corp.lab.test  2',
        'ws2.corp.lab.test  1',
        '',
        '2 rows',
        '',
      ].join('\n'),
    );
    const json = await hunt(
      ['DeviceProcessEvents | where FileName == "powershell.exe" | project Timestamp, ReportId'],
      {
        data,
        format: 'json',
      },
    );
    expect(JSON.parse(json.out.stdout)).toEqual({
      Schema: [
        { Name: 'Timestamp', Type: 'DateTime' },
        { Name: 'ReportId', Type: 'Int64' },
      ],
      Results: [{ Timestamp: '2026-11-20T08:00:00.0000000Z', ReportId: 2 }],
    });
    expect((await hunt([], { data })).code).toBe(2);
  }, 30_000);
});
