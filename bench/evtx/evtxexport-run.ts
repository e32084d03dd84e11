// Runs evtxexport (libevtx's C implementation, the reference) over the corpus the way it is used
// on a folder of logs: one process per file, rendering XML to stdout.
import { spawnSync } from 'node:child_process';
import type { CorpusFile } from './corpus.ts';
import type { Measurement } from './measurement.ts';

const GNU_TIME = '/usr/bin/time';
const EVENT_START = Buffer.from('<Event ');
// The largest file's XML fits many times over; spawnSync's default would cut it.
const MAX_OUTPUT = 1 << 30;

/** What one untimed pass found. */
export interface EvtxexportProbe {
  /** `<Event ` elements evtxexport printed in one pass over the corpus. */
  readonly eventsPerPass: number;
  /** Largest maxrss of any one evtxexport process, in KiB. */
  readonly peakRssKb: number | undefined;
  /** Why peak RSS is missing. */
  readonly rssNote: string | undefined;
  /** Files on which evtxexport exited non-zero. */
  readonly failures: number;
}

/** Why evtxexport cannot be timed here, or undefined when it can. */
export function evtxexportMissing(): string | undefined {
  const probe = spawnSync('evtxexport', ['-V'], { stdio: 'ignore' });
  return probe.error ? `evtxexport not runnable (${probe.error.message}); install libevtx-utils` : undefined;
}

/**
 * One untimed pass that keeps evtxexport's output: counts the events it rendered and, through
 * GNU time, the peak RSS of each process. It also brings the corpus into the page cache.
 */
export function probeEvtxexport(files: readonly CorpusFile[]): EvtxexportProbe {
  const withTime = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;
  let eventsPerPass = 0;
  let peakRssKb = 0;
  let failures = 0;
  for (const file of files) {
    const args = ['-f', 'xml', file.path];
    const run = withTime
      ? spawnSync(GNU_TIME, ['-f', '%M', 'evtxexport', ...args], { maxBuffer: MAX_OUTPUT })
      : spawnSync('evtxexport', args, { maxBuffer: MAX_OUTPUT });
    if (run.status !== 0) failures++;
    eventsPerPass += countOccurrences(run.stdout, EVENT_START);
    // GNU time prints %M after whatever the command wrote to stderr.
    const rss = /(\d+)\s*$/.exec(run.stderr.toString('latin1'))?.[1];
    if (rss !== undefined) peakRssKb = Math.max(peakRssKb, Number(rss));
  }
  return withTime
    ? { eventsPerPass, peakRssKb, rssNote: undefined, failures }
    : {
        eventsPerPass,
        peakRssKb: undefined,
        rssNote: `${GNU_TIME} not found (Debian package "time"); evtxexport peak RSS not measured`,
        failures,
      };
}

/**
 * Times `passes` passes of one evtxexport process per file, one after another, output discarded
 * (written to /dev/null, so every record is still rendered). Process start-up is part of the cost.
 */
export function timeEvtxexport(
  files: readonly CorpusFile[],
  passes: number,
  probe: EvtxexportProbe,
): Measurement {
  let bytes = 0;
  const start = performance.now();
  for (let pass = 0; pass < passes; pass++) {
    for (const file of files) {
      spawnSync('evtxexport', ['-f', 'xml', file.path], { stdio: 'ignore' });
      bytes += file.size;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { events: probe.eventsPerPass * passes, bytes, seconds, peakRssKb: probe.peakRssKb };
}

function countOccurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length))
    count++;
  return count;
}
