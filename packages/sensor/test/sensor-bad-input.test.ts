// Bad input on a running sensor: a corrupt EVTX chunk, a truncated JSON line in a Samba audit log,
// a log rotated away while the sensor was stopped, and an unreachable directory, all at once. Each
// must give its named health issue, reach the instance as "The sensor reported errors", and leave
// the other sources delivering: every good record arrives.

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readEvtx } from '@palisade/evtx';
import type { RunningInstance } from '@palisade/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceSettings } from '../src/config.ts';
import { DeliveryBuffer } from '../src/delivery-buffer.ts';
import { readSensorIdentity, registerSensor, sensorChannel } from '../src/registration.ts';
import { SensorRunner } from '../src/sensor-runner.ts';
import { buildSources } from '../src/sources/registry.ts';
import { startLoopbackInstance, storedRows } from './loopback-instance.ts';

const shared = resolve(import.meta.dirname, '../../../../shared/corpus');
const evtxFile = join(shared, 'evtx-attack-samples/Execution/rogue_msi_url_1040_1042.evtx');
const auditFile = join(shared, 'testbed-samples/audit/auth_json.jsonl');
const dsdbFile = join(shared, 'testbed-samples/audit/dsdb_json.jsonl');
const skip =
  existsSync(evtxFile) && existsSync(auditFile) ? undefined : `corpus files not found under ${shared}`;
if (skip) console.log(`skipping the sensor bad-input test: ${skip}`);

describe.skipIf(skip !== undefined)('a sensor fed bad input', () => {
  let dir: string;
  let instance: RunningInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-bad-input-'));
    instance = await startLoopbackInstance(dir);
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('names each problem, tells the instance, and keeps every other source delivering', async () => {
    // A corrupt EVTX file: chunk 2's magic zeroed (a chunk is 64 KiB after the 4 KiB file header).
    const evtx = Buffer.from(await readFile(evtxFile));
    evtx.fill(0, 4096 + 2 * 65536, 4096 + 2 * 65536 + 8);
    await writeFile(join(dir, 'corrupt.evtx'), evtx);
    // A Samba audit log with one line cut short in the middle.
    const lines = (await readFile(auditFile, 'utf8')).trim().split('\n');
    const cut = Math.floor(lines.length / 2);
    const damaged = [...lines.slice(0, cut), (lines[cut] ?? '').slice(0, 40), ...lines.slice(cut + 1)];
    await writeFile(join(dir, 'auth_json.log'), `${damaged.join('\n')}\n`);
    // A second audit log, read once, then rotated away (renamed out of its folder) while stopped.
    const dsdb = (await readFile(dsdbFile, 'utf8')).trim().split('\n');
    await writeFile(join(dir, 'dsdb_json.log'), `${dsdb.slice(0, 10).join('\n')}\n`);

    const sensorDir = join(dir, 'sensor');
    const registration = await registerSensor({
      dir: sensorDir,
      server: new URL(instance.url),
      accessKey: instance.created?.accessKey ?? '',
      caPem: instance.instance.ca.certificatePem,
      facts: { name: 'dc9', os: 'Debian GNU/Linux 12', osVersion: '12', architecture: 'x64' },
      type: 'domain-controller',
      version: 'test',
    });
    const identity = await readSensorIdentity(sensorDir);
    const settings: SourceSettings = {
      evtx: { paths: [join(dir, 'corrupt.evtx')] },
      sambaAudit: { paths: [join(dir, 'auth_json.log'), join(dir, 'dsdb_json.log')] },
      directorySync: {
        url: 'ldap://127.0.0.1:1',
        bindDn: 'svc_palisade@corp.lab.test',
        passwordFile: join(dir, 'directory.password'),
      },
    };
    await writeFile(join(dir, 'directory.password'), 'not-used\n', { mode: 0o600 });

    const run = async (until: (runner: SensorRunner) => boolean) => {
      const channel = sensorChannel(identity);
      const buffer = await DeliveryBuffer.open(join(sensorDir, 'buffer'), { capacityBytes: 64 * 1_048_576 });
      const built = await buildSources(settings, {});
      const runner = new SensorRunner({
        dir: sensorDir,
        channel,
        buffer,
        sources: built.sources,
        deviceName: 'dc9',
        version: 'test',
        heartbeatIntervalMs: 500,
      });
      runner.start();
      const deadline = Date.now() + 30_000;
      while (!until(runner) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await runner.heartbeat();
      await runner.stop();
      channel.close();
      return runner.status();
    };
    const health = (status: ReturnType<SensorRunner['status']>) =>
      Object.fromEntries(
        status.sources.map((s) => [
          s.id.split(':')[0] + (s.id.endsWith('dsdb_json.log') ? '/dsdb' : ''),
          Object.keys(s.health),
        ]),
      );

    // The good events of the EVTX file: all but those of the zeroed chunk, read independently of
    // the sensor's checkpoints by the EVTX reader (which reports and skips the chunk too).
    let goodEvents = 0;
    for await (const _ of readEvtx(join(dir, 'corrupt.evtx'))) goodEvents++;
    const goodLines = lines.length - 1 + 10;

    const first = await run(
      (r) =>
        r.status().delivered.records >= goodEvents &&
        r.status().sources.some((s) => 'directory/unreachable' in s.health) &&
        r.status().buffer.batches === 0 &&
        r
          .status()
          .sources.filter((s) => s.id.startsWith('samba-audit:'))
          .reduce((n, s) => n + s.records, 0) > 0,
    );
    const issues = health(first);
    expect(issues['evtx-files']).toEqual(['evtx/corrupt-file']);
    expect(issues['samba-audit']).toEqual(['samba-audit/bad-line']);
    expect(issues.directory).toContain('directory/unreachable');
    const message = first.sources.find(
      (s) => s.id.startsWith('samba-audit:') && !s.id.endsWith('dsdb_json.log'),
    )?.health['samba-audit/bad-line']?.message;
    expect(message).toContain(join(dir, 'auth_json.log'));

    // The last heartbeat carried the sensor's open problems to the instance.
    expect(await reportedToInstance(instance, registration.sensorId)).toEqual(
      expect.arrayContaining(['evtx/corrupt-file', 'samba-audit/bad-line', 'directory/unreachable']),
    );

    // Stopped; dsdb_json.log rotated away and replaced by a new file; started again.
    await rename(join(dir, 'dsdb_json.log'), join(dir, '..', `gone-${Date.now()}.log`));
    await writeFile(join(dir, 'dsdb_json.log'), `${dsdb.slice(10, 15).join('\n')}\n`);
    const second = await run(
      (r) =>
        r.status().sources.some((s) => s.id.endsWith('dsdb_json.log') && s.records >= 5) &&
        r.status().buffer.batches === 0,
    );
    expect(health(second)['samba-audit/dsdb']).toContain('samba-audit/rotated-away');

    // Every good record reached the instance exactly once; the instance shows the reported errors.
    const stored = await storedBySource(instance, registration.sensorId);
    expect(stored.rawEvents).toBe(goodEvents);
    expect(stored.sambaRecords).toBe(goodLines + 5);
    expect(await reportedToInstance(instance, registration.sensorId)).toEqual(
      expect.arrayContaining(['samba-audit/rotated-away', 'directory/unreachable']),
    );
    console.log(
      `bad input: ${goodEvents} good EVTX events and ${goodLines + 5} good audit lines stored; health issues ${JSON.stringify(health(first))}, then ${JSON.stringify(health(second))}`,
    );
  }, 90_000);
});

/** The codes in the instance's open "The sensor reported errors" issue of the sensor. */
async function reportedToInstance(instance: RunningInstance, sensorId: string): Promise<string[]> {
  const open = (await instance.sensorHealth.list()).filter(
    (i) => i.sensorId === sensorId && i.status === 'Open' && i.type === 'sensor-errors',
  );
  const text = JSON.stringify(open.map((i) => i.details));
  return [...new Set(text.match(/[a-z-]+\/[a-z-]+(?=: )/g) ?? [])];
}

/** What the instance stored from the sensor: raw Windows events, and Samba audit records. */
async function storedBySource(
  instance: RunningInstance,
  sensorId: string,
): Promise<{ rawEvents: number; sambaRecords: number }> {
  let rawEvents = 0;
  const samba = new Set<string>();
  for await (const row of storedRows(instance, sensorId)) {
    if (row.table !== 'PalisadeRawEvents') continue;
    const reportId = String(row.values.ReportId ?? '');
    if (reportId.startsWith('samba:')) samba.add(reportId);
    else rawEvents++;
  }
  return { rawEvents, sambaRecords: samba.size };
}
