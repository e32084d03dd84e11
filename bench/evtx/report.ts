// Turns the measurements into the printed table, the target checks and the one JSON line.
// MB is 10^6 bytes throughout, peak RSS included.
import type { Measurement, PalisadeMeasurement } from './measurement.ts';

/** The targets: speed as a multiple of evtxexport's events/s, memory as peak RSS. */
export const targets = { singleRatio: 1.5, workersRatio: 2.5, peakRssMb: 200 } as const;

/** Everything one run measured. */
export interface BenchRun {
  readonly files: number;
  readonly passes: number;
  readonly corpusBytes: number;
  readonly cores: number;
  readonly single: PalisadeMeasurement;
  readonly workers: PalisadeMeasurement;
  readonly evtxexport: Measurement | undefined;
  /** Skips and caveats, printed under the table and carried in the JSON line. */
  readonly notes: readonly string[];
}

/** One table row: a measurement, its rates, and its checks when it has a target. */
interface Row {
  readonly label: string;
  /** Events counted as the records evtxexport also exports (recovered ones left out). */
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
  readonly mbPerSec: number;
  readonly peakRssMb: number | null;
  readonly ratio: number | null;
  readonly ratioTarget: number | null;
  readonly speedPass: boolean | null;
  readonly rssPass: boolean | null;
}

function toRow(
  label: string,
  m: Measurement,
  base: Measurement | undefined,
  ratioTarget: number | null,
): Row {
  const eventsPerSec = m.events / m.seconds;
  const ratio = base ? eventsPerSec / (base.events / base.seconds) : null;
  const peakRssMb = m.peakRssKb === undefined ? null : (m.peakRssKb * 1024) / 1e6;
  const checked = ratioTarget !== null;
  return {
    label,
    events: m.events,
    seconds: m.seconds,
    eventsPerSec,
    mbPerSec: m.bytes / 1e6 / m.seconds,
    peakRssMb,
    ratio,
    ratioTarget,
    speedPass: checked && ratio !== null ? ratio >= ratioTarget : null,
    rssPass: checked && peakRssMb !== null ? peakRssMb < targets.peakRssMb : null,
  };
}

// Palisade also yields records it recovers past the headers' counts; evtxexport does not, so
// they are left out of events/s to compare like with like.
function allocatedOnly(m: PalisadeMeasurement): Measurement {
  return { ...m, events: m.events - m.recovered };
}

/** Prints the table, the notes, the target summary and the JSON line. */
export function printReport(run: BenchRun): void {
  const { single, workers, evtxexport } = run;
  const singleRow = toRow('Palisade (1 thread)', allocatedOnly(single), evtxexport, targets.singleRatio);
  const workersRow = toRow(
    `Palisade (${workers.threads} workers)`,
    allocatedOnly(workers),
    evtxexport,
    targets.workersRatio,
  );
  const palisadeRows = [singleRow, workersRow];
  const reference = evtxexport && toRow('evtxexport (1 process)', evtxexport, evtxexport, null);
  const rows = reference ? [...palisadeRows, reference] : palisadeRows;

  const header = [
    '',
    'events',
    'seconds',
    'events/s',
    'MB/s',
    'peak RSS MB',
    '× evtxexport',
    'target',
    'result',
  ];
  console.log(formatTable(header, rows.map(cells)));
  for (const note of run.notes) console.log(`note: ${note}`);
  const checks = palisadeRows.flatMap((r) => [r.speedPass, r.rssPass]);
  const passed = checks.filter((c) => c === true).length;
  const failed = checks.filter((c) => c === false).length;
  const pass = passed === checks.length;
  console.log(
    `targets: ${passed} of ${checks.length} checks pass, ${failed} fail, ` +
      `${checks.length - passed - failed} not checked`,
  );

  console.log(
    JSON.stringify({
      bench: 'evtx',
      files: run.files,
      passes: run.passes,
      corpusBytes: run.corpusBytes,
      cores: run.cores,
      node: process.version,
      targets,
      palisadeSingle: { ...toJson(singleRow), recovered: single.recovered, threads: single.threads },
      palisadeWorkers: { ...toJson(workersRow), recovered: workers.recovered, threads: workers.threads },
      evtxexport: reference ? toJson(reference) : null,
      pass,
      notes: run.notes,
    }),
  );
}

function cells(row: Row): string[] {
  return [
    row.label,
    row.events.toLocaleString('en-US'),
    row.seconds.toFixed(2),
    Math.round(row.eventsPerSec).toLocaleString('en-US'),
    row.mbPerSec.toFixed(1),
    row.peakRssMb === null ? 'n/a' : row.peakRssMb.toFixed(1),
    row.ratio === null ? 'n/a' : `${row.ratio.toFixed(2)}×`,
    row.ratioTarget === null ? 'reference' : `≥ ${row.ratioTarget}×, < ${targets.peakRssMb} MB`,
    row.ratioTarget === null ? '' : verdict(row),
  ];
}

function verdict(row: Row): string {
  const failed = [row.speedPass === false && 'speed', row.rssPass === false && 'RSS'].filter(Boolean);
  const unknown = [row.speedPass === null && 'speed', row.rssPass === null && 'RSS'].filter(Boolean);
  const parts = [
    failed.length > 0 ? `FAIL: ${failed.join(', ')}` : unknown.length < 2 ? 'pass' : '',
    unknown.length > 0 ? `${unknown.join(', ')} not checked` : '',
  ];
  return parts.filter(Boolean).join('; ');
}

function toJson(row: Row) {
  return {
    events: row.events,
    seconds: round(row.seconds, 3),
    eventsPerSec: Math.round(row.eventsPerSec),
    mbPerSec: round(row.mbPerSec, 2),
    peakRssMb: row.peakRssMb === null ? null : round(row.peakRssMb, 1),
    ratio: row.ratio === null ? null : round(row.ratio, 3),
    speedPass: row.speedPass,
    rssPass: row.rssPass,
  };
}

function round(n: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(n * scale) / scale;
}

// The label, target and result columns are text and align left; the figures align right.
const LEFT_COLUMNS = new Set([0, 7, 8]);

function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => (LEFT_COLUMNS.has(c) ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
