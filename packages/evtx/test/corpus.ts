// Locates the shared EVTX corpora for tests and benchmarks; absent corpora skip with a reason.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const sharedRoot = resolve(import.meta.dirname, '../../../../shared');
export const corpusRoots = ['corpus/evtx-attack-samples', 'corpus/sigma/regression_data'].map((p) =>
  join(sharedRoot, p),
);

/** Every .evtx file under the shared corpora, sorted, as [relative name, absolute path]. */
export function corpusFiles(): [string, string][] {
  const out: [string, string][] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.toLowerCase().endsWith('.evtx')) out.push([relative(sharedRoot, path), path]);
    }
  };
  for (const root of corpusRoots) if (existsSync(root)) visit(root);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Why the corpus tests cannot run here, or undefined when they can. */
export function corpusMissing(): string | undefined {
  if (!existsSync(corpusRoots[0] as string)) return `shared corpus not found at ${sharedRoot}`;
  return undefined;
}

/** Why evtxexport cannot be run, or undefined when it can. */
export function evtxexportMissing(): string | undefined {
  const probe = spawnSync('evtxexport', ['-V']);
  return probe.error ? 'evtxexport is not installed (Debian package libevtx-utils)' : undefined;
}
