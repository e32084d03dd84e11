// Palisade on one thread: every file of the corpus, `passes` times over, in order.
import type { CorpusFile } from './corpus.ts';
import { countFile } from './count-file.ts';
import type { PalisadeMeasurement } from './measurement.ts';

/** Parses the corpus `passes` times on this thread; peak RSS is this process's. */
export async function runSingleThread(
  files: readonly CorpusFile[],
  passes: number,
): Promise<PalisadeMeasurement> {
  let events = 0;
  let recovered = 0;
  let bytes = 0;
  const start = performance.now();
  for (let pass = 0; pass < passes; pass++) {
    for (const file of files) {
      const count = await countFile(file.path);
      events += count.events;
      recovered += count.recovered;
      bytes += file.size;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { events, recovered, bytes, seconds, peakRssKb: process.resourceUsage().maxRSS, threads: 1 };
}
