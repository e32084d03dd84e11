// Scripts the DuckDB tests run outside the test's thread (the crash-writer child, a worker), bundled
// with esbuild (Node 20 runs no TypeScript), the native DuckDB package left external and imported from
// node_modules by absolute URL.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { WriterRun } from './event-store-conformance.ts';

const bundled = new Map<string, Promise<string>>();
const outdir = mkdtempSync(join(tmpdir(), 'palisade-scripts-'));

/** Removes the bundled scripts (call once the tests that use them are done). */
export function removeBundles(): void {
  rmSync(outdir, { recursive: true, force: true });
  bundled.clear();
}

/** Bundles a script of this folder (e.g. `duckdb-crash-writer.ts`) once per test run; returns its path. */
export function bundleScript(name: string): Promise<string> {
  let script = bundled.get(name);
  if (!script) {
    script = bundle(name);
    bundled.set(name, script);
  }
  return script;
}

async function bundle(name: string): Promise<string> {
  const outfile = join(outdir, name.replace(/\.ts$/, '.mjs'));
  const duckdb = pathToFileURL(createRequire(import.meta.url).resolve('@duckdb/node-api')).href;
  await build({
    entryPoints: [join(import.meta.dirname, name)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [
      {
        name: 'duckdb-external',
        setup(b) {
          b.onResolve({ filter: /^@duckdb\/node-api$/ }, () => ({ path: duckdb, external: true }));
        },
      },
    ],
  });
  return outfile;
}

export function spawnDuckDbWriter(script: string, dir: string, run: WriterRun): ChildProcess {
  return spawn(
    process.execPath,
    [script, dir, String(run.first), String(run.count), String(run.rowsPerBatch), String(run.groupSize ?? 1)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}
