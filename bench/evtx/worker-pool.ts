// Palisade on every core: a pool of worker threads takes files from one queue (whole files, so
// each is still streamed), `passes` times over the corpus.
import { type MessagePort, Worker } from 'node:worker_threads';
import type { CorpusFile } from './corpus.ts';
import { countFile, type FileCount } from './count-file.ts';
import type { PalisadeMeasurement } from './measurement.ts';

// Files handed to a worker before it answers, so it never waits on a round trip between files.
const IN_FLIGHT = 2;

/**
 * Parses the corpus `passes` times with `threads` workers running `script` (which must call
 * `serveWorker` off the main thread). Timing includes starting the workers; peak RSS is the
 * whole process's, workers included.
 */
export async function runWorkerPool(
  files: readonly CorpusFile[],
  passes: number,
  threads: number,
  script: URL,
): Promise<PalisadeMeasurement> {
  const queue = Array.from({ length: passes }, () => files).flat();
  let taken = 0;
  let events = 0;
  let recovered = 0;
  let bytes = 0;

  const drive = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      let pending = 0;
      const sendNext = () => {
        const file = queue[taken++];
        if (file === undefined) {
          if (pending === 0) worker.terminate().then(() => resolve(), reject);
          return;
        }
        pending++;
        bytes += file.size;
        worker.postMessage(file.path);
      };
      worker.on('message', (count: FileCount) => {
        pending--;
        events += count.events;
        recovered += count.recovered;
        sendNext();
      });
      worker.on('error', reject);
      for (let i = 0; i < IN_FLIGHT; i++) sendNext();
    });

  const start = performance.now();
  // Parsing makes short-lived objects; a small young generation per worker keeps the
  // process's memory near one thread's without costing speed.
  await Promise.all(
    Array.from({ length: threads }, () =>
      drive(new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: 4 } })),
    ),
  );
  const seconds = (performance.now() - start) / 1000;
  return { events, recovered, bytes, seconds, peakRssKb: process.resourceUsage().maxRSS, threads };
}

/** The worker's side: answers each file path with its counts, one file at a time, in order. */
export function serveWorker(port: MessagePort): void {
  let done = Promise.resolve();
  port.on('message', (path: string) => {
    done = done.then(async () => port.postMessage(await countFile(path)));
  });
}
