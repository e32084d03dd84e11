// The sensor against a real instance on loopback: registration (wrong key, right key, files 0600,
// host type), then delivery of buffered batches, directly and through an HTTP CONNECT proxy
// (tinyproxy on loopback), and a clear error when the proxy refuses the tunnel.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningInstance } from '@palisade/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryBuffer } from '../src/delivery-buffer.ts';
import type { HostFacts } from '../src/host-facts.ts';
import { ChannelError } from '../src/index.ts';
import { RegistrationError, readSensorIdentity, registerSensor, sensorChannel } from '../src/registration.ts';
import { SensorRunner } from '../src/sensor-runner.ts';
import type { Source, SourceChunk } from '../src/source.ts';
import { startLoopbackInstance, storedRows } from './loopback-instance.ts';

const facts: HostFacts = { name: 'ws1', os: 'Debian GNU/Linux 12', osVersion: '12', architecture: 'x64' };
const hasTinyproxy = spawnSync('tinyproxy', ['-v']).status === 0;

/** A source of numbered Samba-style logon rows, `count` of them in chunks of `size`. */
function numberedSource(id: string, count: number, size: number): Source<number> {
  return {
    id,
    async *run(from) {
      for (let next = (from ?? 0) + 1; next <= count; next += size) {
        const last = Math.min(count, next + size - 1);
        const rows = [];
        for (let n = next; n <= last; n++) {
          rows.push({
            table: 'IdentityLogonEvents' as const,
            values: {
              Timestamp: new Date(Date.UTC(2026, 10, 22, 8, 0, 0, n)).toISOString(),
              ActionType: 'LogonSuccess',
              Application: 'Active Directory',
              Protocol: 'NTLM',
              AccountName: 'alice',
              AccountDomain: 'corp',
              ReportId: `samba:test:${n}`,
              AdditionalFields: { Record: n },
            },
          });
        }
        const chunk: SourceChunk<number> = { rows, events: [], checkpoint: last };
        yield chunk;
      }
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

async function startTinyproxy(
  dir: string,
  name: string,
  connectPort: number,
): Promise<{ port: number; child: ChildProcess; log: () => string }> {
  const port = await freePort();
  const conf = join(dir, `${name}.conf`);
  await writeFile(
    conf,
    [
      'User nobody',
      'Group nogroup',
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      'Allow 127.0.0.1',
      `ConnectPort ${connectPort}`,
      // Without LogFile, tinyproxy in the foreground logs to stderr (it runs as nobody and could
      // not write into the test's private folder).
      'LogLevel Info',
      '',
    ].join('\n'),
  );
  const child = spawn('tinyproxy', ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (part: Buffer) => {
    log += part.toString();
  });
  child.stderr?.on('data', (part: Buffer) => {
    log += part.toString();
  });
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createServer();
      socket.once('error', () => resolve(true));
      socket.listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child, log: () => log };
}

async function countStored(instance: RunningInstance, sensorId: string): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  for await (const row of storedRows(instance, sensorId)) {
    const extra = row.values.AdditionalFields as { Record?: number } | undefined;
    if (typeof extra?.Record === 'number') seen.set(extra.Record, (seen.get(extra.Record) ?? 0) + 1);
  }
  return seen;
}

describe('the sensor and an instance on loopback', () => {
  let dir: string;
  let instance: RunningInstance;
  let accessKey: string;
  let caPem: string;
  let server: URL;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-sensor-'));
    instance = await startLoopbackInstance(dir);
    accessKey = instance.created?.accessKey ?? '';
    caPem = instance.instance.ca.certificatePem;
    server = new URL(instance.url);
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a wrong access key with a message that says what to do', async () => {
    const attempt = registerSensor({
      dir: join(dir, 'wrong'),
      server,
      accessKey: 'pak_not-the-key',
      caPem,
      facts,
      type: 'endpoint',
      version: 'test',
    });
    await expect(attempt).rejects.toThrow(RegistrationError);
    await expect(attempt).rejects.toThrow(/refused the access key.*Settings › Sensors/);
    await expect(stat(join(dir, 'wrong', 'sensor.key'))).rejects.toThrow(/ENOENT/);
  });

  it('registers, keeps key and certificate 0600 without the access key, and delivers every record once', async () => {
    const sensorDir = join(dir, 'direct');
    const registration = await registerSensor({
      dir: sensorDir,
      server,
      accessKey,
      caPem,
      facts,
      type: 'endpoint',
      version: 'test',
    });
    for (const name of ['sensor.key', 'sensor.crt', 'sensor.json']) {
      expect(((await stat(join(sensorDir, name))).mode & 0o777).toString(8)).toBe('600');
      expect(await readFile(join(sensorDir, name), 'utf8')).not.toContain(accessKey);
    }
    const stored = await instance.instance.state.sensors.get(registration.sensorId);
    expect(stored).toMatchObject({ name: 'ws1', type: 'endpoint' });

    const identity = await readSensorIdentity(sensorDir);
    const channel = sensorChannel(identity);
    const buffer = await DeliveryBuffer.open(join(sensorDir, 'buffer'), { capacityBytes: 64 * 1_048_576 });
    const runner = new SensorRunner({
      dir: sensorDir,
      channel,
      buffer,
      sources: [numberedSource('numbers', 2_500, 400)],
      deviceName: 'ws1',
      version: 'test',
      heartbeatIntervalMs: 60_000,
    });
    runner.start();
    for (let i = 0; i < 200 && runner.status().delivered.records < 2_500; i++)
      await new Promise((r) => setTimeout(r, 50));
    await runner.stop();
    channel.close();
    expect(runner.status().delivered).toMatchObject({ batches: 7, records: 2_500 });
    expect(runner.status().buffer.batches).toBe(0);
    const seen = await countStored(instance, registration.sensorId);
    expect(seen.size).toBe(2_500);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    // The heartbeat reached the server: the sensor shows its version.
    expect((await instance.instance.state.sensors.get(registration.sensorId))?.version).toBe('test');
  }, 60_000);

  it.skipIf(!hasTinyproxy)(
    'registers and streams through an HTTP CONNECT proxy, and names a refusing proxy',
    async () => {
      const proxy = await startTinyproxy(dir, 'allow', Number(server.port));
      const refusing = await startTinyproxy(dir, 'refuse', 1);
      try {
        const refused = registerSensor({
          dir: join(dir, 'refused'),
          server,
          accessKey,
          proxy: new URL(`http://127.0.0.1:${refusing.port}`),
          caPem,
          facts,
          type: 'endpoint',
          version: 'test',
        });
        await expect(refused).rejects.toThrow(
          new RegExp(
            `the proxy 127\\.0\\.0\\.1:${refusing.port} refused to open a tunnel to 127\\.0\\.0\\.1:${server.port}: 403`,
          ),
        );

        const sensorDir = join(dir, 'proxied');
        const registration = await registerSensor({
          dir: sensorDir,
          server,
          accessKey,
          proxy: new URL(`http://127.0.0.1:${proxy.port}`),
          caPem,
          facts: { ...facts, name: 'ws2' },
          type: 'endpoint',
          version: 'test',
        });
        expect(registration.proxy).toBe(`http://127.0.0.1:${proxy.port}/`);
        const identity = await readSensorIdentity(sensorDir);
        const channel = sensorChannel(identity);
        const buffer = await DeliveryBuffer.open(join(sensorDir, 'buffer'), {
          capacityBytes: 64 * 1_048_576,
        });
        const runner = new SensorRunner({
          dir: sensorDir,
          channel,
          buffer,
          sources: [numberedSource('numbers', 1_000, 250)],
          deviceName: 'ws2',
          version: 'test',
        });
        runner.start();
        for (let i = 0; i < 200 && runner.status().delivered.records < 1_000; i++)
          await new Promise((r) => setTimeout(r, 50));
        await runner.stop();
        channel.close();
        expect((await countStored(instance, registration.sensorId)).size).toBe(1_000);
        // The proxy carried the tunnel: its log names the CONNECT to the instance.
        expect(proxy.log()).toMatch(new RegExp(`CONNECT 127\\.0\\.0\\.1:${server.port}`));

        // Through the refusing proxy, the delivery error names the proxy.
        const blocked = sensorChannel({
          ...identity,
          registration: { ...identity.registration, proxy: `http://127.0.0.1:${refusing.port}` },
        });
        await expect(blocked.call('GET', '/api/sensor/config')).rejects.toThrow(ChannelError);
        blocked.close();
      } finally {
        proxy.child.kill();
        refusing.child.kill();
      }
    },
    60_000,
  );
});
