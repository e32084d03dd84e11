// bench/scan: runs `palisade scan` (the built dist/palisade.mjs) over the evtx-attack-samples
// corpus ten times over with every SigmaHQ rule loaded, and times evtxexport (parse only) over
// the same files in the same run. Usage: node dist/scan-bench.mjs [--passes N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { corpusDir, listCorpus } from '../evtx/corpus.ts';
import { evtxexportMissing, probeEvtxexport, timeEvtxexport } from '../evtx/evtxexport-run.ts';

/** Targets of the Sigma engine issue. */
const targets = { ratio: 1.0, peakRssMb: 400, ruleLoadSeconds: 3 } as const;

const repo = fileURLToPath(new URL('../../', import.meta.url));
const sigmaDir = fileURLToPath(new URL('../../../shared/corpus/sigma/', import.meta.url));
const ruleFolders = ['rules', 'rules-threat-hunting', 'rules-emerging-threats'].map((f) => `${sigmaDir}${f}`);
const palisade = `${repo}dist/palisade.mjs`;

const { values } = parseArgs({ options: { passes: { type: 'string', default: '10' } } });
const passes = Number(values.passes);
if (!Number.isInteger(passes) || passes < 1)
  throw new Error(`expected --passes N ≥ 1, found ${values.passes}`);

const files = await listCorpus();
if (files === undefined) console.log(`bench/scan: skipped: corpus not found at ${corpusDir}`);
else if (!existsSync(ruleFolders[0] as string))
  console.log(`bench/scan: skipped: SigmaHQ rules not found at ${sigmaDir}`);
else if (!existsSync(palisade)) console.log(`bench/scan: skipped: ${palisade} not built (npm run build)`);
else run(files);

interface ScanRun {
  readonly seconds: number;
  readonly events: number;
  readonly alerts: number;
  readonly rulesLoaded: number;
  readonly ruleLoadSeconds: number;
  readonly peakRssKb: number | undefined;
}

// One `palisade scan` process over the corpus folder given `passes` times, so rules load once.
function runScan(passes: number): ScanRun {
  const withTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;
  const args = [
    palisade,
    'scan',
    ...Array(passes).fill(corpusDir),
    ...ruleFolders.flatMap((r) => ['--rules', r]),
    '--format',
    'jsonl',
    '--output',
    '/dev/null',
  ];
  const start = performance.now();
  const child = withTime
    ? spawnSync('/usr/bin/time', ['-f', 'PEAK_RSS_KB %M', process.execPath, ...args], {
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - start) / 1000;
  const err = child.stderr;
  if (child.status !== 0) throw new Error(`palisade scan exited with ${child.status}:\n${err.slice(-2000)}`);
  const loaded = /loaded (\d+) of \d+ rules in ([\d.]+) s/.exec(err);
  const scanned = /Scanned (\d+) events in \d+ files?: (\d+) alerts?/.exec(err);
  const rss = /PEAK_RSS_KB (\d+)/.exec(err);
  if (!loaded || !scanned) throw new Error(`cannot read palisade scan's summary from:\n${err.slice(-2000)}`);
  return {
    seconds,
    events: Number(scanned[1]),
    alerts: Number(scanned[2]),
    rulesLoaded: Number(loaded[1]),
    ruleLoadSeconds: Number(loaded[2]),
    peakRssKb: rss ? Number(rss[1]) : undefined,
  };
}

function run(corpus: NonNullable<Awaited<ReturnType<typeof listCorpus>>>): void {
  const bytes = corpus.reduce((s, f) => s + f.size, 0);
  console.log(
    `bench/scan: ${corpus.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${passes} passes, every SigmaHQ rule (rules, rules-threat-hunting, rules-emerging-threats), node ${process.version}`,
  );
  const missing = evtxexportMissing();
  const probe = missing === undefined ? probeEvtxexport(corpus) : undefined;
  const scan = runScan(passes);
  const reference = probe ? timeEvtxexport(corpus, passes, probe) : undefined;
  // Rates count the records both tools read: palisade scan also reads records it recovers
  // past the headers' counts, which evtxexport does not export; leaving them out is conservative.
  const comparable = probe ? probe.eventsPerPass * passes : scan.events;
  const scanRate = comparable / scan.seconds;
  const matchingRate = comparable / (scan.seconds - scan.ruleLoadSeconds);
  const refRate = reference ? reference.events / reference.seconds : undefined;
  const ratio = refRate ? scanRate / refRate : undefined;
  const rssMb = scan.peakRssKb !== undefined ? scan.peakRssKb / 1024 : undefined;
  const checks = {
    ratio: ratio === undefined ? null : ratio >= targets.ratio,
    peakRss: rssMb === undefined ? null : rssMb < targets.peakRssMb,
    ruleLoad: scan.ruleLoadSeconds < targets.ruleLoadSeconds,
  };
  const rows = [
    ['', 'events', 'seconds', 'events/s', 'peak RSS MB', '× evtxexport', 'target', 'result'],
    [
      'palisade scan (whole run)',
      comparable.toLocaleString('en'),
      scan.seconds.toFixed(2),
      Math.round(scanRate).toLocaleString('en'),
      rssMb?.toFixed(1) ?? 'n/a',
      ratio?.toFixed(2) ?? 'n/a',
      `≥ ${targets.ratio}×, < ${targets.peakRssMb} MB`,
      `${checks.ratio === false ? 'FAIL: speed' : checks.ratio === null ? 'not checked' : 'pass'}${checks.peakRss === false ? ', FAIL: RSS' : ''}`,
    ],
    [
      '  rule loading',
      `${scan.rulesLoaded} rules`,
      scan.ruleLoadSeconds.toFixed(2),
      '',
      '',
      '',
      `< ${targets.ruleLoadSeconds} s`,
      checks.ruleLoad ? 'pass' : 'FAIL',
    ],
    [
      '  parsing + matching',
      comparable.toLocaleString('en'),
      (scan.seconds - scan.ruleLoadSeconds).toFixed(2),
      Math.round(matchingRate).toLocaleString('en'),
      '',
      refRate ? (matchingRate / refRate).toFixed(2) : 'n/a',
      '',
      '',
    ],
    [
      'evtxexport (parse only)',
      reference ? reference.events.toLocaleString('en') : 'n/a',
      reference?.seconds.toFixed(2) ?? 'n/a',
      refRate ? Math.round(refRate).toLocaleString('en') : 'n/a',
      reference?.peakRssKb !== undefined ? (reference.peakRssKb / 1024).toFixed(1) : 'n/a',
      refRate ? '1.00' : 'n/a',
      'reference',
      missing ?? '',
    ],
  ];
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const [n, r] of rows.entries()) {
    console.log(
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
        .join('  ')
        .trimEnd(),
    );
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  console.log(
    `alerts: ${scan.alerts.toLocaleString('en')}; events/s count the ${comparable.toLocaleString('en')} records both tools read (palisade scan also read ${scan.events - comparable} recovered ones)`,
  );
  console.log(
    JSON.stringify({
      bench: 'scan',
      files: corpus.length,
      passes,
      corpusBytes: bytes,
      node: process.version,
      targets,
      scan: {
        ...scan,
        eventsPerSec: Math.round(scanRate),
        matchingEventsPerSec: Math.round(matchingRate),
        peakRssMb: rssMb,
        ratio,
      },
      evtxexport: reference ? { ...reference, eventsPerSec: Math.round(refRate ?? 0) } : null,
      checks,
      pass: Object.values(checks).every((c) => c !== false),
    }),
  );
}
