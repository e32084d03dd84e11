// Where the shared EVTX corpora are, for the Windows normaliser's corpus tests. They are not
// copied into the repo: tests skip with a printed reason when ../shared is absent, and fail
// when CI (which always has it) lacks it.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const corpusRoot = resolve(import.meta.dirname, '../../../../shared/corpus');
export const attackSamples = join(corpusRoot, 'evtx-attack-samples');
export const sigmaRegressionData = join(corpusRoot, 'sigma/regression_data');

/** Why the corpus tests cannot run, or undefined when they can; throws under CI. */
export function corpusMissing(what: string): string | undefined {
  const missing = [attackSamples, sigmaRegressionData].find((p) => !existsSync(p));
  if (missing === undefined) return undefined;
  const reason = `corpus not found at ${missing}`;
  if (process.env.CI) throw new Error(`${what}: ${reason} (CI must have ../shared)`);
  console.log(`skipping ${what}: ${reason}`);
  return reason;
}

/** Every .evtx file under a folder, sorted. */
export function evtxFiles(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.evtx')) out.push(join(entry.parentPath, entry.name));
  }
  return out.sort();
}
