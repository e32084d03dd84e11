// Locates the evtx-attack-samples corpus beside the repository (<repo>/../shared) and lists its
// .evtx files with their sizes, sorted, so every mode and tool reads the same sequence.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the corpus. */
export interface CorpusFile {
  readonly path: string;
  readonly size: number;
}

/** Where the corpus lives: bench/evtx/ (source) and bench/dist/ (bundle) are both two levels below the repo. */
export const corpusDir = fileURLToPath(
  new URL('../../../shared/corpus/evtx-attack-samples/', import.meta.url),
);

/** Lists the corpus's .evtx files by path; undefined when the directory is absent. */
export async function listCorpus(dir: string = corpusDir): Promise<CorpusFile[] | undefined> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return undefined;
    throw e;
  }
  const paths = names
    .filter((name) => name.toLowerCase().endsWith('.evtx'))
    .map((name) => join(dir, name))
    .sort();
  return Promise.all(paths.map(async (path) => ({ path, size: (await stat(path)).size })));
}
