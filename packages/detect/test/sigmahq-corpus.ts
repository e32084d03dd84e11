// Locates SigmaHQ's rules and regression data in the shared corpus for tests and benchmarks.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const sigmaRoot = resolve(import.meta.dirname, '../../../../shared/corpus/sigma');
export const ruleFolders = ['rules', 'rules-threat-hunting', 'rules-emerging-threats'].map((f) =>
  join(sigmaRoot, f),
);

/** Why the SigmaHQ corpus tests cannot run, or undefined when they can. */
export function sigmaCorpusMissing(): string | undefined {
  return existsSync(join(sigmaRoot, 'regression_data'))
    ? undefined
    : `SigmaHQ corpus not found at ${sigmaRoot}`;
}
