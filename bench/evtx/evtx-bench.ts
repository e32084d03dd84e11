// bench/evtx: parses the evtx-attack-samples corpus ten times over with Palisade (one thread,
// then one worker per core, each mode in its own process so its peak RSS is its own) and times
// evtxexport over the same files. Usage: node dist/evtx-bench.mjs [--passes N]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort } from 'node:worker_threads';
import { type CorpusFile, corpusDir, listCorpus } from './corpus.ts';
import { evtxexportMissing, probeEvtxexport, timeEvtxexport } from './evtxexport-run.ts';
import type { Measurement, PalisadeMeasurement } from './measurement.ts';
import { printReport } from './report.ts';
import { runSingleThread } from './single-thread.ts';
import { runWorkerPool, serveWorker } from './worker-pool.ts';

const modes = ['single', 'workers'] as const;
type Mode = (typeof modes)[number];

if (!isMainThread) {
  if (parentPort) serveWorker(parentPort);
} else {
  const { values } = parseArgs({
    options: { mode: { type: 'string' }, passes: { type: 'string', default: '10' } },
  });
  const passes = Number(values.passes);
  if (!Number.isInteger(passes) || passes < 1)
    throw new Error(`expected --passes N ≥ 1, found ${values.passes}`);
  const files = await listCorpus();
  if (files === undefined) {
    console.log(`bench/evtx: skipped: corpus not found at ${corpusDir}`);
  } else if (values.mode === undefined) {
    compare(files, passes);
  } else {
    console.log(JSON.stringify(await runMode(parseMode(values.mode), files, passes)));
  }
}

function parseMode(text: string): Mode {
  const mode = modes.find((m) => m === text);
  if (mode === undefined) throw new Error(`expected --mode ${modes.join(' or ')}, found ${text}`);
  return mode;
}

/** Runs in a child process: one Palisade mode, reported as one JSON line. */
function runMode(mode: Mode, files: readonly CorpusFile[], passes: number): Promise<PalisadeMeasurement> {
  return mode === 'single'
    ? runSingleThread(files, passes)
    : runWorkerPool(files, passes, availableParallelism(), new URL(import.meta.url));
}

/** Starts a child process for one mode and reads its JSON line. */
function runChild(mode: Mode, passes: number): PalisadeMeasurement {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, script, '--mode', mode, '--passes', String(passes)],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  const line = child.stdout.trim().split('\n').at(-1);
  if (child.status !== 0 || line === undefined)
    throw new Error(`mode ${mode} exited with status ${child.status}`);
  const result: PalisadeMeasurement = JSON.parse(line);
  return result;
}

function compare(files: readonly CorpusFile[], passes: number): void {
  const corpusBytes = files.reduce((sum, f) => sum + f.size, 0);
  const cores = availableParallelism();
  console.log(
    `bench/evtx: ${files.length} files, ${(corpusBytes / 1e6).toFixed(1)} MB, ${passes} passes, ` +
      `node ${process.version}, ${cores} cores`,
  );
  const notes: string[] = [];
  const missing = evtxexportMissing();
  // The probe pass also warms the page cache, so every timed mode reads from memory.
  const probe = missing === undefined ? probeEvtxexport(files) : undefined;
  const single = runChild('single', passes);
  const workers = runChild('workers', passes);
  let evtxexport: Measurement | undefined;
  if (probe === undefined) {
    notes.push(`evtxexport timing skipped: ${missing}`);
  } else {
    evtxexport = timeEvtxexport(files, passes, probe);
    if (probe.rssNote !== undefined) notes.push(probe.rssNote);
    if (probe.failures > 0) notes.push(`evtxexport exited non-zero on ${probe.failures} files`);
    const allocated = (single.events - single.recovered) / passes;
    if (allocated !== probe.eventsPerPass)
      notes.push(`records per pass differ: Palisade ${allocated}, evtxexport ${probe.eventsPerPass}`);
  }
  if (single.recovered > 0)
    notes.push(
      `Palisade also recovers ${single.recovered / passes} records per pass past the headers' counts; ` +
        'evtxexport does not export them, so events and events/s leave them out',
    );
  printReport({ files: files.length, passes, corpusBytes, cores, single, workers, evtxexport, notes });
}
