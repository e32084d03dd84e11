// bench/pcap: replicates the lab captures to a pcap of at least 100 MB, decodes it with
// normaliseCapture (readFlows, TCP reassembly, every identity decoder) in a child process, and
// times `tshark -r FILE -T fields` printing the same facts over the same file in the same run,
// the two alternating for a few runs (median reported). Usage: node dist/pcap-bench.mjs [--mb N] [--runs N]
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { normaliseCapture } from '@palisade/schema';
import {
  type CaptureTemplate,
  captureTemplate,
  copiesFor,
  type ReplicaSummary,
  writeReplica,
} from './replicate-capture.ts';
import { probeTshark, type TsharkProbe, type TsharkRun, timeTshark } from './tshark-run.ts';

/** Target of the network issue: Palisade's packets/s as a multiple of tshark's. */
const targets = { ratio: 5 } as const;

const capturesDir = fileURLToPath(new URL('../../../shared/corpus/testbed-samples/', import.meta.url));

/** What the decoding child reports as its one JSON line. */
interface DecodeRun {
  /** Reading the file and normaliseCapture, timed inside the process. */
  readonly decodeSeconds: number;
  readonly rows: number;
  readonly diagnostics: number;
  readonly peakRssKb: number;
}

/** The child's report and the wall time of the whole process, as tshark's is timed. */
interface PalisadeRun extends DecodeRun {
  readonly seconds: number;
}

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    decode: { type: 'string' },
  },
});
if (values.decode !== undefined) {
  console.log(JSON.stringify(decode(values.decode)));
} else {
  const mb = Number(values.mb);
  const runs = Number(values.runs);
  if (!(mb > 0)) throw new Error(`expected --mb N > 0, found ${values.mb}`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`expected --runs N ≥ 1, found ${values.runs}`);
  const names = await listCaptures();
  if (names === undefined) console.log(`bench/pcap: skipped: lab captures not found at ${capturesDir}`);
  else compare(names, mb * 1e6, runs);
}

/** Runs in the child: the product's whole decode path over the file; peak RSS is this process's. */
function decode(path: string): DecodeRun {
  const start = performance.now();
  const { rows, diagnostics } = normaliseCapture(readFileSync(path));
  const decodeSeconds = (performance.now() - start) / 1000;
  return {
    decodeSeconds,
    rows: rows.length,
    diagnostics: diagnostics.length,
    peakRssKb: process.resourceUsage().maxRSS,
  };
}

async function listCaptures(): Promise<string[] | undefined> {
  try {
    const names = (await readdir(capturesDir)).filter((n) => n.endsWith('.pcap')).sort();
    return names.length > 0 ? names : undefined;
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

// One copy decoded in this process: what each copy of the replica should give.
function rowsPerCopy(template: CaptureTemplate): number {
  const chunks: Uint8Array[] = [];
  writeReplica(template, 1, (c) => chunks.push(c.slice()));
  return normaliseCapture(Buffer.concat(chunks)).rows.length;
}

/** Starts the decoding child and reads its JSON line; the wall time covers the whole process. */
function runPalisade(path: string): PalisadeRun {
  const script = fileURLToPath(import.meta.url);
  const start = performance.now();
  const child = spawnSync(process.execPath, [...process.execArgv, script, '--decode', path], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const seconds = (performance.now() - start) / 1000;
  const line = child.stdout.trim().split('\n').at(-1);
  if (child.status !== 0 || line === undefined) throw new Error(`decoding child exited with ${child.status}`);
  const result: DecodeRun = JSON.parse(line);
  return { ...result, seconds };
}

function compare(names: readonly string[], minBytes: number, runs: number): void {
  const template = captureTemplate(names.map((n) => readFileSync(join(capturesDir, n))));
  const copies = copiesFor(template, minBytes);
  const dir = mkdtempSync(join(tmpdir(), 'palisade-pcap-bench-'));
  const path = join(dir, 'replica.pcap');
  try {
    const fd = openSync(path, 'w');
    const replica = writeReplica(template, copies, (c) => writeSync(fd, c));
    closeSync(fd);
    const tshark = probeTshark();
    console.log(
      `bench/pcap: ${names.join(' + ')} × ${copies} copies (${template.clients} clients each, ` +
        `link type ${template.linkType}): ${replica.packets.toLocaleString('en')} packets, ` +
        `${(replica.fileBytes / 1e6).toFixed(1)} MB file; ${runs} runs each; node ${process.version}; ` +
        ('version' in tshark ? tshark.version : tshark.missing),
    );
    const expectedRows = copies * rowsPerCopy(template);
    // The file was just written, so both tools read it from the page cache. They alternate, so
    // a burst of load on the shared machine slows one run of each rather than one tool.
    const ours: PalisadeRun[] = [];
    const theirs: TsharkRun[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push(runPalisade(path));
      if ('version' in tshark) theirs.push(timeTshark(path));
    }
    report({
      names,
      replica,
      expectedRows,
      palisade: median(ours),
      reference: theirs.length > 0 ? median(theirs) : undefined,
      runSeconds: {
        palisade: ours.map((r) => round(r.seconds, 3)),
        tshark: theirs.map((r) => round(r.seconds, 3)),
      },
      rows: ours.map((r) => r.rows),
      tshark,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Report {
  readonly names: readonly string[];
  readonly replica: ReplicaSummary;
  readonly expectedRows: number;
  /** The median run of each tool, by time. */
  readonly palisade: PalisadeRun;
  readonly reference: TsharkRun | undefined;
  readonly runSeconds: { readonly palisade: readonly number[]; readonly tshark: readonly number[] };
  /** Rows of every Palisade run. */
  readonly rows: readonly number[];
  readonly tshark: TsharkProbe;
}

function median<T extends { readonly seconds: number }>(runs: readonly T[]): T {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[(runs.length - 1) >> 1] as T;
}

/** Rates over the replica's packets and captured bytes; MB are 10^6 bytes, peak RSS included. */
function rates(r: ReplicaSummary, run: { seconds: number; peakRssKb: number | undefined }) {
  return {
    seconds: round(run.seconds, 3),
    packetsPerSec: Math.round(r.packets / run.seconds),
    mbitPerSec: round((r.packetBytes * 8) / 1e6 / run.seconds, 1),
    peakRssMb: run.peakRssKb === undefined ? null : round((run.peakRssKb * 1024) / 1e6, 1),
  };
}

function report(run: Report): void {
  const { names, replica, expectedRows, palisade, reference, tshark } = run;
  const ours = rates(replica, palisade);
  const theirs = reference && rates(replica, reference);
  // Both counted the same packets, so the ratio of packets/s is the inverse ratio of times.
  const ratio = reference ? round(reference.seconds / palisade.seconds, 2) : null;
  const met = ratio === null ? null : ratio >= targets.ratio;
  const notes: string[] = [];
  if (run.rows.some((n) => n !== expectedRows))
    notes.push(`rows: expected ${expectedRows} (copies × one copy's rows), found ${run.rows.join(', ')}`);
  if (palisade.diagnostics > 0) notes.push(`normaliseCapture reported ${palisade.diagnostics} errors`);
  if ('missing' in tshark) notes.push(`tshark timing skipped: ${tshark.missing}`);
  else if (theirs?.peakRssMb === null)
    notes.push('/usr/bin/time not found (Debian package "time"): no tshark RSS');

  const mb = (replica.packetBytes / 1e6).toFixed(1);
  const line = (tool: string, r: ReturnType<typeof rates>, times: string, result: string) => [
    tool,
    replica.packets.toLocaleString('en'),
    mb,
    r.seconds.toFixed(2),
    r.packetsPerSec.toLocaleString('en'),
    r.mbitPerSec.toFixed(1),
    r.peakRssMb?.toFixed(1) ?? 'n/a',
    times,
    result,
  ];
  const rows = [
    [
      'tool',
      'packets',
      'MB',
      'seconds',
      'packets/s',
      'Mbit/s',
      'peak RSS MB',
      '× tshark',
      `target ≥ ${targets.ratio}×`,
    ],
    line('palisade normaliseCapture', ours, ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`, verdict(met)),
    ...(theirs ? [line('tshark -T fields', theirs, '1.00×', 'reference')] : []),
  ];
  console.log(formatTable(rows));
  console.log(
    `palisade: ${palisade.rows.toLocaleString('en')} rows (${(palisade.rows / replica.copies).toFixed(0)} per copy); ` +
      `read + decode ${palisade.decodeSeconds.toFixed(2)} s of the process's ${palisade.seconds.toFixed(2)} s`,
  );
  const list = (seconds: readonly number[]) => seconds.map((t) => t.toFixed(2)).join(', ');
  console.log(
    `runs (s, the median in the table): palisade ${list(run.runSeconds.palisade)}` +
      (run.runSeconds.tshark.length > 0 ? `; tshark ${list(run.runSeconds.tshark)}` : ''),
  );
  for (const note of notes) console.log(`note: ${note}`);
  console.log(
    JSON.stringify({
      bench: 'pcap',
      captures: names,
      ...replica,
      node: process.version,
      tsharkVersion: 'version' in tshark ? tshark.version : null,
      targets,
      palisade: {
        ...ours,
        decodeSeconds: round(palisade.decodeSeconds, 3),
        rows: palisade.rows,
        expectedRows,
        diagnostics: palisade.diagnostics,
        ratio,
        runSeconds: run.runSeconds.palisade,
      },
      tshark: theirs ? { ...theirs, runSeconds: run.runSeconds.tshark } : null,
      checks: { ratio: met },
      pass: met !== false,
      notes,
    }),
  );
}

function verdict(met: boolean | null): string {
  return met === null ? 'not checked' : met ? 'met' : 'NOT MET';
}

function round(n: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(n * scale) / scale;
}

// The tool and result columns are text and align left; the figures align right.
function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const left = new Set([0, widths.length - 1]);
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => (left.has(c) ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  return [line(header ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
