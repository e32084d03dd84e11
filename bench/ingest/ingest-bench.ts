// Sensor ingest through `palisade up`: the built command serves a fresh instance in a temporary
// folder as a child process; N sensors register with the access key and each sends batches of the
// lab's Identity rows (Samba audit and the two captures, copied with shifted times) over its own
// keep-alive mTLS connection, several batches a request as the sensor sends its buffer. Prints rows/s
// acknowledged, alerts, p50/p99 request latency and the server's peak RSS.
// Usage: node dist/ingest-bench.mjs [--sensors N] [--rows N] [--batch N] [--per-request N] [--cpu-prof DIR]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { normaliseCapture, readSambaAuditLines, type TableRow } from '@palisade/schema';
import { deliveryLimits } from '@palisade/sensor';

const targets = { eventsPerSecond: 50_000 } as const;

const root = fileURLToPath(new URL('../..', import.meta.url));
const lab = join(root, '../shared/corpus/testbed-samples');

const { values } = parseArgs({
  options: {
    sensors: { type: 'string', default: '4' },
    rows: { type: 'string', default: '200000' },
    batch: { type: 'string', default: String(deliveryLimits.recordsPerBatch) },
    /** Batches a request: the sensor sends up to this many buffered batches at once. */
    'per-request': { type: 'string', default: String(deliveryLimits.batchesPerRequest) },
    /** Writes the server's CPU profile into this folder (node --cpu-prof). */
    'cpu-prof': { type: 'string' },
  },
});
const sensors = Number(values.sensors);
const totalRows = Number(values.rows);
const batchRows = Number(values.batch);
const perRequest = Number(values['per-request']);

if (!existsSync(join(lab, 'audit'))) {
  console.log(`skipping the ingest benchmark: ${lab} not found`);
  process.exit(0);
}

/** The lab's Identity rows (Samba audit and captures) in time order. */
function labRows(): TableRow[] {
  const audit = join(lab, 'audit');
  const rows = readdirSync(audit)
    .sort()
    .flatMap((name) => readSambaAuditLines(readFileSync(join(audit, name), 'utf8'), join(audit, name)).rows);
  for (const name of readdirSync(lab).filter((n) => n.endsWith('.pcap'))) {
    rows.push(...normaliseCapture(readFileSync(join(lab, name))).rows);
  }
  const identity = rows.filter((r) => r.table.startsWith('Identity'));
  return identity.sort((a, b) => time(a) - time(b));
}

function time(row: TableRow): number {
  return Date.parse(String(row.values.Timestamp));
}

/**
 * One sensor's requests: the lab's rows copied, each copy after the last, in batches of
 * `batchRows`, `perRequest` batches a request (`{ batches }`, or one batch when it is 1).
 */
function sensorBodies(template: readonly TableRow[], sensor: number, count: number): string[] {
  const first = time(template[0] as TableRow);
  const span = time(template.at(-1) as TableRow) - first + 1000;
  const batches: { batchId: string; rows: TableRow[] }[] = [];
  let batch: TableRow[] = [];
  for (let i = 0; i < count; i++) {
    const copy = Math.floor(i / template.length);
    const row = template[i % template.length] as TableRow;
    const at = new Date(time(row) + copy * span + sensor * 3_600_000).toISOString();
    batch.push({ table: row.table, values: { ...row.values, Timestamp: at } });
    if (batch.length === batchRows || i === count - 1) {
      batches.push({ batchId: `b${String(batches.length).padStart(7, '0')}`, rows: batch });
      batch = [];
    }
  }
  const bodies: string[] = [];
  for (let i = 0; i < batches.length; i += perRequest) {
    const part = batches.slice(i, i + perRequest);
    bodies.push(JSON.stringify(perRequest === 1 ? part[0] : { batches: part }));
  }
  return bodies;
}

interface Up {
  readonly child: ChildProcess;
  readonly port: number;
  readonly accessKey: string;
}

async function startServer(dataDir: string, identityConfig: string): Promise<Up> {
  const child = spawn(
    process.execPath,
    [
      ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []),
      join(root, 'dist/palisade.mjs'),
      'up',
      '--data',
      dataDir,
      '--domain',
      'bench.test',
      '--listen',
      '127.0.0.1:0',
      '--identity-config',
      identityConfig,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, PALISADE_DUCKDB_MEMORY_LIMIT: '1GB' } },
  );
  let port = 0;
  let accessKey = '';
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    accessKey = /sensor access key: (\S+)/.exec(line)?.[1] ?? accessKey;
    port = Number(/Serving https:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1] ?? port);
    if (port > 0) break;
  }
  if (port === 0) throw new Error('palisade up exited before listening');
  return { child, port, accessKey };
}

function post(
  port: number,
  path: string,
  body: string,
  tls: { ca: string; key?: string; cert?: string },
  agent: Agent | false,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((done, failed) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        agent,
        ...tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          done({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
          }),
        );
      },
    );
    req.on('error', failed);
    req.end(body);
  });
}

/** A P-256 key and CSR from openssl, as a sensor would make them. */
function sensorKey(dir: string, name: string): { key: string; csr: string } {
  const keyFile = join(dir, `${name}.key`);
  const made = spawnSync('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    keyFile,
  ]);
  if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr.toString()}`);
  return { key: readFileSync(keyFile, 'utf8'), csr: made.stdout.toString() };
}

function vmHwmKb(pid: number): number | undefined {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const work = mkdtempSync(join(tmpdir(), 'palisade-ingest-'));
try {
  const template = labRows();
  const perSensor = Math.ceil(totalRows / sensors);
  const bodies = Array.from({ length: sensors }, (_, s) => sensorBodies(template, s, perSensor));
  const identityConfig = join(work, 'identity.yaml');
  writeFileSync(identityConfig, 'testMode: true\n');
  const up = await startServer(join(work, 'data'), identityConfig);
  const ca = readFileSync(join(work, 'data/pki/ca.pem'), 'utf8');
  const credentials: { ca: string; key: string; cert: string }[] = [];
  for (let s = 0; s < sensors; s++) {
    const { key, csr } = sensorKey(work, `dc${s}`);
    const reply = await post(
      up.port,
      '/api/sensors/register',
      JSON.stringify({ accessKey: up.accessKey, csr, name: `dc${s}`, type: 'domain-controller' }),
      { ca },
      false,
    );
    if (reply.status !== 201) throw new Error(`registration answered ${reply.status}`);
    credentials.push({ ca, key, cert: String(reply.json.chain) });
  }

  const latencies: number[] = [];
  let rows = 0;
  let alerts = 0;
  let retries = 0;
  const started = performance.now();
  await Promise.all(
    bodies.map(async (list, s) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const tls = credentials[s] as (typeof credentials)[number];
      for (const body of list) {
        for (;;) {
          const sent = performance.now();
          const reply = await post(up.port, '/api/sensor/batches', body, tls, agent);
          if (reply.status === 503) {
            retries++;
            await new Promise((r) => setTimeout(r, 100));
            continue;
          }
          if (reply.status !== 200)
            throw new Error(`batch answered ${reply.status}: ${JSON.stringify(reply.json)}`);
          latencies.push(performance.now() - sent);
          const acks = (perRequest === 1 ? [reply.json] : reply.json.acks) as Record<string, unknown>[];
          for (const ack of acks) {
            rows += (ack.accepted as { rows: number }).rows;
            alerts += Number(ack.alerts);
          }
          break;
        }
      }
      agent.destroy();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const peakRssKb = vmHwmKb(up.child.pid ?? 0);
  up.child.kill('SIGTERM');
  await new Promise((r) => up.child.once('exit', r));

  latencies.sort((a, b) => a - b);
  const result = {
    sensors,
    batchRows,
    batchesPerRequest: perRequest,
    rows,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(rows / seconds),
    alerts,
    retries,
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    peakRssMb: peakRssKb === undefined ? null : Number(((peakRssKb * 1024) / 1e6).toFixed(1)),
    target: targets.eventsPerSecond,
    met: rows / seconds >= targets.eventsPerSecond,
  };
  const table = [
    ['sensors (mTLS connections)', String(sensors)],
    ['rows per batch', String(batchRows)],
    ['batches per request', String(perRequest)],
    ['rows stored and detected', String(rows)],
    ['seconds', result.seconds.toFixed(2)],
    ['events/s', String(result.eventsPerSecond)],
    ['alerts raised', String(alerts)],
    ['503 retries', String(retries)],
    ['request latency p50 / p99 (ms)', `${result.p50Ms} / ${result.p99Ms}`],
    ['server peak RSS (MB)', String(result.peakRssMb ?? 'n/a')],
    [`target ≥ ${targets.eventsPerSecond} events/s`, result.met ? 'met' : 'missed'],
  ];
  for (const [k, v] of table) console.log(`${(k ?? '').padEnd(32)}${v}`);
  console.log(JSON.stringify({ bench: 'ingest', ...result }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
