// Nothing lost, nothing doubled, with `palisade up` and `palisade sensor run` as real processes:
// the sensor reads EVTX files while the instance is stopped for 30 s, the instance is killed with
// SIGKILL mid-stream and restarted, then the sensor is killed with SIGKILL mid-read and restarted
// on more files. Every event must be stored exactly once, counted by ReportId
// (computer:channel:recordId) in the instance's event store, against the files' own records.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readEvtx } from '@palisade/evtx';
import { DuckDbEventStore } from '@palisade/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const corpus = resolve(root, '../shared/corpus/evtx-attack-samples');
const skip = existsSync(corpus) ? undefined : `the EVTX corpus is not at ${corpus}`;
if (skip) console.log(`skipping the sensor no-loss test: ${skip}`);

interface Status {
  readonly delivered: { readonly records: number };
  readonly buffer: { readonly batches: number };
  readonly sources: readonly { readonly id: string; readonly records: number }[];
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  return typeof address === 'object' && address ? address.port : 0;
}

/** The ReportIds of a file's events, as the server's normaliser makes them. */
async function reportIds(file: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const event of readEvtx(file)) {
    const recordId = event.system.eventRecordId ?? event.recordId;
    ids.push(`${event.system.computer ?? ''}:${event.system.channel ?? ''}:${recordId}`);
  }
  return ids;
}

/** Corpus files whose events share no ReportId with each other, up to `wanted` events. */
async function pickFiles(wanted: number): Promise<{ files: string[]; counts: number[]; ids: Set<string> }> {
  const all = readdirSync(corpus, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.evtx'))
    .sort();
  const ids = new Set<string>();
  const files: string[] = [];
  const counts: number[] = [];
  for (const name of all) {
    if (ids.size >= wanted) break;
    const own = await reportIds(join(corpus, name));
    if (own.length === 0 || new Set(own).size !== own.length || own.some((id) => ids.has(id))) continue;
    for (const id of own) ids.add(id);
    files.push(join(corpus, name));
    counts.push(own.length);
  }
  return { files, counts, ids };
}

describe.skipIf(skip !== undefined)('the sensor and the instance, stopped and killed', () => {
  let work: string;
  let bundle: string;
  let port: number;
  let server: ChildProcess | undefined;
  let sensor: ChildProcess | undefined;
  const log: string[] = [];

  const startServer = async (): Promise<string> => {
    const child = spawn(
      process.execPath,
      [bundle, 'up', '--data', join(work, 'data'), '--domain', 'lab.test', '--listen', `127.0.0.1:${port}`],
      {
        env: {
          ...process.env,
          PALISADE_ADMIN_PASSWORD: 'Quartz-Lantern-Orbit-2291',
          PALISADE_DUCKDB_MEMORY_LIMIT: '512MB',
          // The bundle lives in a temporary folder; the hunting language service it loads at run
          // time is found in the repository's node_modules.
          NODE_PATH: join(root, 'node_modules'),
        },
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    server = child;
    let text = '';
    await new Promise<void>((done, failed) => {
      child.stdout?.on('data', (part: Buffer) => {
        text += part.toString();
        if (/^Serving/m.test(text)) done();
      });
      child.once('exit', (code) => failed(new Error(`palisade up exited with ${code}: ${text}`)));
    });
    return text;
  };
  const startSensor = () => {
    sensor = spawn(process.execPath, [bundle, 'sensor', 'run', '--dir', join(work, 'sensor')], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
  };
  const status = async (): Promise<Status | undefined> => {
    try {
      return JSON.parse(await readFile(join(work, 'sensor/status.json'), 'utf8')) as Status;
    } catch {
      return undefined;
    }
  };
  const evtxRecords = (s: Status | undefined) =>
    s?.sources.filter((x) => x.id.startsWith('evtx-files:')).reduce((n, x) => n + x.records, 0) ?? 0;
  const waitFor = async (what: string, test: (s: Status | undefined) => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = await status();
      if (test(s)) return s as Status;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** Batch files in the sensor's buffer now (read straight from its folder: the status lags 2 s). */
  const bufferedFiles = async () => {
    try {
      return readdirSync(join(work, 'sensor/buffer/batches')).filter((n) => n.endsWith('.batch.json')).length;
    } catch {
      return 0;
    }
  };
  const waitForBuffer = async (what: string, test: (n: number) => boolean, ms: number, everyMs = 5) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const n = await bufferedFiles();
      if (test(n)) return n;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${n} batches buffered`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
  const kill = async (child: ChildProcess | undefined, signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill(signal);
    await exited;
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'palisade-no-loss-'));
    bundle = join(work, 'palisade.mjs');
    const built = spawnSync(process.execPath, [join(root, 'tools/build.mjs'), bundle], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    port = await freePort();
  }, 120_000);

  afterAll(async () => {
    await kill(sensor, 'SIGKILL');
    await kill(server, 'SIGKILL');
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('stores every event exactly once through a 30 s outage, a killed instance and a killed sensor', async () => {
    const { files, counts, ids } = await pickFiles(40_000);
    // The first files are read while the instance is away; the rest once the sensor was killed.
    const split = Math.ceil(files.length * 0.6);
    const inbox = join(work, 'inbox');
    await mkdir(inbox);
    for (const [i, file] of files.slice(0, split).entries()) await copyFile(file, join(inbox, `a${i}.evtx`));

    const first = await startServer();
    const key = /sensor access key: (\S+)/.exec(first)?.[1] ?? '';
    const registered = spawnSync(
      process.execPath,
      [
        bundle,
        'sensor',
        'register',
        '--server',
        `https://127.0.0.1:${port}`,
        '--ca-file',
        join(work, 'data/pki/ca.pem'),
        '--dir',
        join(work, 'sensor'),
      ],
      { env: { ...process.env, PALISADE_ACCESS_KEY: key }, encoding: 'utf8' },
    );
    expect(registered.status, registered.stderr).toBe(0);
    await writeFile(
      join(work, 'sensor/config.json'),
      JSON.stringify({
        sources: { evtx: { paths: [inbox] } },
        retryMaxSeconds: 2,
        heartbeatIntervalSeconds: 10,
      }),
    );

    // 1. The instance is stopped: the sensor reads and buffers for 30 s, delivering nothing.
    await kill(server, 'SIGTERM');
    startSensor();
    const firstBatch = split;
    await new Promise((r) => setTimeout(r, 30_000));
    const during = await status();
    expect(during?.delivered.records).toBe(0);
    expect(during?.buffer.batches).toBeGreaterThan(0);
    const buffered = evtxRecords(during);

    // 2. Back, then killed with SIGKILL once some of the backlog is acknowledged, and started again.
    const backlog = await bufferedFiles();
    await startServer();
    const deliveredAtKill = await waitForBuffer('part of the backlog delivered', (n) => n < backlog, 60_000);
    await kill(server, 'SIGKILL');
    await startServer();
    await waitForBuffer('the backlog delivered', (n) => n === 0, 120_000);

    // 3. The instance away again; more files; the sensor killed with SIGKILL while it reads them
    // (some of their batches buffered, not all), then sensor and instance started again.
    await kill(server, 'SIGTERM');
    for (const [i, file] of files.slice(split).entries()) await copyFile(file, join(inbox, `b${i}.evtx`));
    const later = counts.slice(split).reduce((a, b) => a + b, 0);
    // Each file's events are cut into batches of 50 (a file's last batch may be smaller).
    const laterBatches = counts.slice(split).reduce((a, n) => a + Math.ceil(n / 50), 0);
    const readAtKill = await waitForBuffer('part of the new files read', (n) => n > 0, 60_000, 2);
    await kill(sensor, 'SIGKILL');
    startSensor();
    await startServer();

    // Done when the buffer stays empty while the sources poll again (EVTX folders every second).
    for (;;) {
      await waitFor('an empty buffer', (s) => s !== undefined && s.buffer.batches === 0, 180_000);
      const read = evtxRecords(await status());
      await new Promise((r) => setTimeout(r, 3_000));
      const after = await status();
      if (after?.buffer.batches === 0 && evtxRecords(after) === read) break;
    }
    await kill(sensor, 'SIGTERM');
    await kill(server, 'SIGTERM');
    const stored = await storedReportIds(join(work, 'data/events.duckdb'));

    const missing = [...ids].filter((id) => !stored.has(id));
    const doubled = [...stored].filter(([, n]) => n > 1);
    const extra = [...stored.keys()].filter((id) => !ids.has(id));
    log.push(
      `${ids.size} events in ${files.length} files. Outage: ${buffered} events of ${firstBatch} files buffered in ${backlog} batches, nothing delivered for 30 s; ` +
        `instance killed (SIGKILL) with ${deliveredAtKill} of ${backlog} batches still buffered; ` +
        `sensor killed (SIGKILL) with ${readAtKill} of ${laterBatches} batches of the ${later} new events buffered; ` +
        `stored ${stored.size} distinct, ${missing.length} missing, ${doubled.length} doubled, ${extra.length} unexpected`,
    );
    console.log(log.join('\n'));
    // The kills landed mid-stream: batches were still buffered when the instance died, and the
    // sensor died before it had buffered all of the new files.
    expect(deliveredAtKill).toBeGreaterThan(0);
    expect(readAtKill).toBeLessThan(laterBatches);
    expect(missing).toEqual([]);
    expect(doubled).toEqual([]);
    expect(extra).toEqual([]);
  }, 420_000);
});

/** ReportId → how many PalisadeRawEvents rows carry it. */
async function storedReportIds(file: string): Promise<Map<string, number>> {
  const store = await DuckDbEventStore.open(file, { memoryLimit: '256MB' });
  try {
    const result = await store.query(
      'SELECT "ReportId", count(*) AS n FROM "PalisadeRawEvents" GROUP BY "ReportId"',
    );
    return new Map(result.rows.map((r) => [String(r.ReportId), Number(r.n)]));
  } finally {
    await store.close();
  }
}
