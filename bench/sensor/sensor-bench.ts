// The sensor's cost: `palisade up` and a registered `palisade sensor run` as child processes; a
// feeder appends the lab's Samba audit records (times shifted, so every line is new) to the log the
// sensor follows at a fixed rate. Prints the sensor's CPU (% of one core, from /proc utime+stime
// over the measured window), its peak RSS, and the rate it delivered at, with the targets.
// Usage: node dist/sensor-bench.mjs [--rate EVENTS_PER_S] [--seconds S]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const targets = { cpuPercentOfOneCore: 25, peakRssMb: 150 } as const;
const root = fileURLToPath(new URL('../..', import.meta.url));
const audit = join(root, '../shared/corpus/testbed-samples/audit/auth_json.jsonl');

const { values } = parseArgs({
  options: { rate: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '20' } },
});
const rate = Number(values.rate);
const seconds = Number(values.seconds);

if (!existsSync(audit)) {
  console.log(`skipping the sensor benchmark: ${audit} not found`);
  process.exit(0);
}
const bundle = join(root, 'dist/palisade.mjs');
// The sensor runs from its own bundle with the node options of its service definition, as
// installed on a DC or endpoint.
const sensorBundle = join(root, 'dist/palisade-sensor.mjs');
const unit = readFileSync(join(root, 'packages/sensor/service/palisade-sensor.service'), 'utf8');
const serviceNodeOptions = (/^ExecStart=\S+ node((?: --\S+)*) /m.exec(unit)?.[1] ?? '')
  .trim()
  .split(' ')
  .filter(Boolean);
if (!existsSync(bundle)) {
  console.log(`skipping the sensor benchmark: ${bundle} not built (npm run build)`);
  process.exit(0);
}

/** Clock ticks per second for /proc/<pid>/stat's utime and stime. */
const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

function peakRssMb(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) / 1024;
}

function status(dir: string): { delivered: { records: number }; buffer: { batches: number } } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

async function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (part: Buffer) => {
      text += part.toString();
      if (pattern.test(text)) resolve(text);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${text}`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const work = mkdtempSync(join(tmpdir(), 'palisade-sensor-bench-'));
let server: ChildProcess | undefined;
let sensor: ChildProcess | undefined;
try {
  const up = spawn(
    process.execPath,
    [bundle, 'up', '--data', join(work, 'data'), '--domain', 'bench.test', '--listen', '127.0.0.1:0'],
    {
      env: { ...process.env, PALISADE_ADMIN_PASSWORD: 'Quartz-Lantern-Orbit-2291' },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  server = up;
  const started = await waitForLine(up, /^Serving https:\/\/127\.0\.0\.1:\d+/m);
  const port = /Serving https:\/\/127\.0\.0\.1:(\d+)/.exec(started)?.[1];
  const key = /sensor access key: (\S+)/.exec(started)?.[1] ?? '';
  const sensorDir = join(work, 'sensor');
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
      sensorDir,
    ],
    { env: { ...process.env, PALISADE_ACCESS_KEY: key }, encoding: 'utf8' },
  );
  if (registered.status !== 0) throw new Error(`registration failed: ${registered.stderr}`);
  const log = join(work, 'logs/auth_json.log');
  mkdirSync(join(work, 'logs'));
  writeFileSync(log, '');
  writeFileSync(
    join(sensorDir, 'config.json'),
    JSON.stringify({ sources: { sambaAudit: { paths: [log] } } }),
  );
  sensor = spawn(
    process.execPath,
    [
      ...(process.env.SENSOR_NODE_ARGS?.split(' ').filter(Boolean) ?? serviceNodeOptions),
      sensorBundle,
      'sensor',
      'run',
      '--dir',
      sensorDir,
    ],
    { stdio: process.env.SENSOR_NODE_ARGS ? ['ignore', 'inherit', 'ignore'] : 'ignore' },
  );
  await sleep(2_000);

  // The lab's records, each copy shifted by the lab's span so every line is a new record.
  const template = readFileSync(audit, 'utf8').trim().split('\n');
  const times = template.map((line) =>
    Date.parse(String((JSON.parse(line) as { timestamp: string }).timestamp)),
  );
  const span = Math.max(...times) - Math.min(...times) + 1000;
  let copy = 0;
  let written = 0;
  const lineAt = (i: number) => {
    const n = i % template.length;
    if (n === 0) copy++;
    const at = new Date((times[n] ?? 0) + copy * span).toISOString().replace('Z', '+0000');
    return (template[n] ?? '').replace(/"timestamp": "[^"]+"/, `"timestamp": "${at}"`);
  };

  const pid = sensor.pid ?? 0;
  const warmup = 3;
  let cpuStart = 0;
  let deliveredStart = 0;
  let windowStart = 0;
  const tickMs = 100;
  const begin = performance.now();
  for (let t = 0; t < (seconds + warmup) * 1000; t += tickMs) {
    // Append what the rate owes by now, then sleep until the next tick.
    const owed = Math.floor(((performance.now() - begin) / 1000) * rate) - written;
    if (owed > 0) {
      const lines: string[] = [];
      for (let i = 0; i < owed; i++) lines.push(lineAt(written + i));
      appendFileSync(log, `${lines.join('\n')}\n`);
      written += owed;
    }
    if (windowStart === 0 && performance.now() - begin >= warmup * 1000) {
      windowStart = performance.now();
      cpuStart = cpuSeconds(pid);
      deliveredStart = status(sensorDir)?.delivered.records ?? 0;
    }
    await sleep(Math.max(0, begin + t + tickMs - performance.now()));
  }
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const cpu = ((cpuSeconds(pid) - cpuStart) / windowSeconds) * 100;
  // The status file is rewritten every 2 s: wait for one written after the window.
  await sleep(2_500);
  const delivered = (status(sensorDir)?.delivered.records ?? 0) - deliveredStart;
  const rss = peakRssMb(pid);
  const result = {
    rate,
    nodeOptions: serviceNodeOptions.join(' '),
    seconds: Number(windowSeconds.toFixed(1)),
    written,
    deliveredPerSecond: Math.round(delivered / (windowSeconds + 2.5)),
    cpuPercentOfOneCore: Number(cpu.toFixed(1)),
    peakRssMb: Number(rss.toFixed(1)),
    targets,
    met: cpu < targets.cpuPercentOfOneCore && rss < targets.peakRssMb,
  };
  const table = [
    ['events/s appended to the Samba audit log', String(rate)],
    ['sensor node options (its service definition)', serviceNodeOptions.join(' ')],
    ['measured seconds (after 3 s warm-up)', String(result.seconds)],
    ['rows/s delivered (a record makes 1 or 2 rows)', String(result.deliveredPerSecond)],
    ['sensor CPU, % of one core', String(result.cpuPercentOfOneCore)],
    ['sensor peak RSS (MB)', String(result.peakRssMb)],
    [`target < ${targets.cpuPercentOfOneCore}% and < ${targets.peakRssMb} MB`, result.met ? 'met' : 'missed'],
  ];
  const width = Math.max(...table.map(([k]) => (k ?? '').length));
  for (const [k, v] of table) console.log(`${(k ?? '').padEnd(width)}  ${v}`);
  console.log(JSON.stringify({ bench: 'sensor', ...result }));
} finally {
  sensor?.kill('SIGTERM');
  server?.kill('SIGTERM');
  await sleep(1_000);
  rmSync(work, { recursive: true, force: true });
}
