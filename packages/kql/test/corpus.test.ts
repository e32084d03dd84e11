// The shared hunting-query corpus (../shared/kql-corpus): every query parsed, bound, compiled and
// run on empty tables, then run again against a real event store holding synthetic rows for every
// table plus the scanned attack corpora. Prints pass/fail counts and the top failure causes by
// feature, keeps the report in corpus-report.md, and holds the targets. Skips with a
// printed reason when the corpus is absent.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableNames } from '@palisade/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { type CompiledQuery, compileQuery, type Diagnostic, executeQuery, warmUp } from '../src/index.ts';
import { openHuntingDb } from './hunting-db.ts';
import { openHuntingStore } from './hunting-store.ts';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const corpusDir = resolve(packageDir, '../../../shared/kql-corpus');
const attackCorpora = resolve(packageDir, '../../../shared/corpus');
const manifest = join(corpusDir, 'manifest.tsv');
const present = existsSync(manifest) && existsSync(attackCorpora);
if (!present) console.log(`kql corpus test skipped: ${manifest} or ${attackCorpora} is absent`);

/** Shares of the corpus (offline externaldata excepted) held by the test: the targets. */
const targets = { compile: 0.95, execute: 0.9 } as const;
/** `now()` of every query: the day after the synthetic rows. */
const now = new Date('2024-06-01T00:00:00Z');

interface Entry {
  readonly file: string;
  readonly tables: readonly string[];
}

function readManifest(): Entry[] {
  const [, ...lines] = readFileSync(manifest, 'utf8').trim().split('\n');
  return lines.map((line) => {
    const [file = '', , , tables = ''] = line.split('\t');
    return { file, tables: tables.split(',').filter(Boolean) };
  });
}

/** The feature a failure is counted under: the message with query-specific names kept only where they say what is missing. */
function causeOf(d: Diagnostic): string {
  if (d.code === 'kql/offline') return 'externaldata over the network (offline)';
  if (d.code === 'kql/timeout') return 'ran longer than the time limit';
  const table = /^The name '([^']+)' does not refer to any known table/.exec(d.message);
  if (table) return `table not in Palisade's schema: ${table[1]}`;
  const name = /^The name '([^']+)' does not refer to any known (column|function)/.exec(d.message);
  if (name) return `unknown ${name[2]}: ${name[1]}`;
  if (d.code === 'kql/syntax') return 'syntax error in the query';
  if (d.code === 'kql/runtime') {
    const first = (d.message.split('\n')[0] ?? '').replace(/"[^"]*"/g, '"…"').replace(/'[^']*'/g, "'…'");
    return `DuckDB: ${first.slice(0, 100)}`;
  }
  return d.message.replace(/'[^']*'/g, (m) => (m.length > 40 ? "'…'" : m));
}

interface Tally {
  passed: number;
  counted: number;
  readonly causes: Map<string, number>;
  readonly failures: string[];
}

const tally = (): Tally => ({ passed: 0, counted: 0, causes: new Map(), failures: [] });

function fail(t: Tally, file: string, d: Diagnostic | undefined): void {
  const cause = d ? causeOf(d) : 'no diagnostic';
  t.causes.set(cause, (t.causes.get(cause) ?? 0) + 1);
  const at = d?.span ? ` (${d.span.line}:${d.span.column})` : '';
  const message = (d?.message.split('\n')[0] ?? '').replace(/\|/g, '\\|').slice(0, 140);
  t.failures.push(`| ${file} | ${message}${at} |`);
}

const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
const rate = (t: Tally) => t.passed / Math.max(1, t.counted);
const causeRows = (t: Tally) =>
  [...t.causes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `| ${c.replace(/\|/g, '\\|')} | ${n} |`);

describe.skipIf(!present)('the public hunting-query corpus', () => {
  const entries = present ? readManifest() : [];
  const known = new Set<string>(tableNames);
  const compiled = new Map<string, CompiledQuery>();
  const compile = tally();
  const execute = tally();
  let offline = 0;
  let inSchema = 0;
  let inSchemaPassed = 0;
  let storeRows: Readonly<Record<string, number>> = {};
  const seconds = { compile: 0, load: 0, execute: 0 };

  it(`parses, compiles and runs on empty tables at least ${targets.compile * 100}% of the queries (offline externaldata excepted)`, async () => {
    warmUp();
    const db = await openHuntingDb();
    const started = performance.now();
    for (const entry of entries) {
      const text = readFileSync(join(corpusDir, entry.file), 'utf8');
      const result = compileQuery(text, { now });
      const ours = entry.tables.every((t) => known.has(t));
      if (ours) inSchema++;
      let diagnostics = result.diagnostics;
      if (result.value) {
        const ran = await executeQuery(db.connection, result.value, { maxRows: 10, timeoutMs: 20_000 });
        if (ran.value) {
          compiled.set(entry.file, result.value);
          compile.passed++;
          compile.counted++;
          if (ours) inSchemaPassed++;
          continue;
        }
        diagnostics = ran.diagnostics;
      }
      const error = diagnostics.find((d) => d.severity === 'error');
      if (error?.code === 'kql/offline') offline++;
      else compile.counted++;
      fail(compile, entry.file, error);
    }
    seconds.compile = (performance.now() - started) / 1000;
    db.close();
    console.log(
      `kql corpus: ${compile.passed}/${compile.counted} parse+compile+run on empty tables (${pct(compile.passed, compile.counted)}), ${offline} offline externaldata excepted`,
    );
    expect(rate(compile)).toBeGreaterThanOrEqual(targets.compile);
  });

  it(`executes at least ${targets.execute * 100}% of the queries against a store with synthetic rows and the attack corpora`, async () => {
    const loadStarted = performance.now();
    const store = await openHuntingStore(attackCorpora);
    storeRows = store.rows as Record<string, number>;
    seconds.load = (performance.now() - loadStarted) / 1000;
    const started = performance.now();
    try {
      for (const entry of entries) {
        const query = compiled.get(entry.file);
        if (!query) {
          // Compile failures count here too, except offline externaldata.
          const offlineHere = compile.failures.some(
            (f) => f.startsWith(`| ${entry.file} |`) && f.includes('externaldata cannot fetch'),
          );
          if (!offlineHere) execute.counted++;
          continue;
        }
        execute.counted++;
        const ran = await executeQuery(store.connection, query, { maxRows: 100_000, timeoutMs: 30_000 });
        if (ran.value) execute.passed++;
        else
          fail(
            execute,
            entry.file,
            ran.diagnostics.find((d) => d.severity === 'error'),
          );
      }
    } finally {
      store.close();
    }
    seconds.execute = (performance.now() - started) / 1000;
    console.log(
      `kql corpus: ${execute.passed}/${execute.counted} executed against the populated store (${pct(execute.passed, execute.counted)})`,
    );
    expect(rate(execute)).toBeGreaterThanOrEqual(targets.execute);
  });

  afterAll(() => {
    if (!present) return;
    const total = entries.length;
    const stored = Object.entries(storeRows)
      .sort((a, b) => b[1] - a[1])
      .map(([t, n]) => `${t} ${n}`)
      .join(', ');
    const lines = [
      '# KQL corpus: parse, compile and run',
      '',
      'Written by `packages/kql/test/corpus.test.ts` (`npx vitest run packages/kql/test/corpus.test.ts`) over',
      "`../shared/kql-corpus/`. Every query is parsed and bound by the language service against Palisade's",
      'schema, lowered and compiled to DuckDB SQL and run by DuckDB over empty tables (so every statement',
      'is bound, planned and executed); then every query that compiled is run again, read-only, against a',
      'real event store (`DuckDbEventStore`, filled through `appendMany`) holding three synthetic rows per',
      'table, with every column set and dynamic columns holding JSON objects and arrays, plus the scanned',
      'attack corpora: the EVTX attack samples and the testbed’s Samba audit logs and packet captures,',
      'normalised as the scan normalises them. Results are not checked here (semantics.test.ts does that).',
      `Queries are compiled with now() = ${now.toISOString()}. The test holds the issue's targets: ${targets.compile * 100}% (compile) and ${targets.execute * 100}% (execute).`,
      '',
      '| measure | count | share |',
      '|---|---:|---:|',
      `| queries | ${total} | |`,
      `| of which externaldata over HTTPS (fail with the offline error, excepted) | ${offline} | |`,
      `| parse + compile + run on empty tables | ${compile.passed} / ${compile.counted} | ${pct(compile.passed, compile.counted)} |`,
      `| execute against the populated store | ${execute.passed} / ${execute.counted} | ${pct(execute.passed, execute.counted)} |`,
      `| queries over Palisade's tables only (manifest \`tables_used\`) | ${inSchemaPassed} / ${inSchema} compile | ${pct(inSchemaPassed, inSchema)} |`,
      '',
      `Time: ${seconds.compile.toFixed(1)} s to compile and run the corpus on empty tables, ${seconds.load.toFixed(1)} s to load the store, ${seconds.execute.toFixed(1)} s to run the corpus against it.`,
      '',
      `Rows in the store: ${stored}.`,
      '',
      '## Failure causes: parse and compile',
      '',
      '| cause | queries |',
      '|---|---:|',
      ...causeRows(compile),
      '',
      '## Failure causes: execution against the populated store (queries that compiled)',
      '',
      '| cause | queries |',
      '|---|---:|',
      ...causeRows(execute),
      '',
      '## Failing queries: parse and compile (first error)',
      '',
      '| file | error |',
      '|---|---|',
      ...compile.failures,
      '',
      '## Failing queries: execution (first error)',
      '',
      '| file | error |',
      '|---|---|',
      ...execute.failures,
      '',
    ];
    writeFileSync(join(packageDir, 'corpus-report.md'), lines.join('\n'));
    const top = (t: Tally) =>
      [...t.causes]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([c, n]) => `  ${n}\t${c}`)
        .join('\n');
    console.log(
      `top compile failure causes:\n${top(compile)}\ntop execution failure causes:\n${top(execute)}`,
    );
  });
});
