// The permanent injection suite: hostile literals and identifiers cannot escape their parameter or
// their quotes, externaldata cannot leave its folder, only SELECTs run, and the execution limits
// (device scope, row cap, timeout) hold whatever the query says.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CompiledQuery,
  type CompileOptions,
  compileQuery,
  executeQuery,
  formatDiagnostic,
} from '../src/index.ts';
import { loadDataset } from './dataset.ts';
import { type HuntingDb, openHuntingDb } from './hunting-db.ts';

let db: HuntingDb;
beforeAll(async () => {
  db = await openHuntingDb();
  await loadDataset(db);
});
afterAll(() => db.close());

function compiled(query: string, options: CompileOptions = {}): CompiledQuery {
  const result = compileQuery(query, options);
  if (!result.value) throw new Error(result.diagnostics.map(formatDiagnostic).join('; '));
  return result.value;
}

async function rows(query: string, options: CompileOptions = {}) {
  const result = await executeQuery(db.connection, compiled(query, options));
  if (!result.value) throw new Error(result.diagnostics.map(formatDiagnostic).join('; '));
  return result.value.Results;
}

/** A KQL string literal holding exactly `text`. */
const kqlString = (text: string): string => `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

const hostile = [
  `x'; DROP TABLE "DeviceInfo"; --`,
  `') OR 1=1 --`,
  `" OR ""="`,
  `$p1`,
  `%_\\%`,
  `'||(SELECT 1)||'`,
  `\\'; CREATE TABLE pwned(a INT); --`,
];

describe('literals are parameters', () => {
  it.each(hostile)('%s never appears in the SQL and matches only itself', async (text) => {
    for (const op of ['==', 'has', 'contains', 'startswith', '=~', '!in', 'has_any', 'matches regex']) {
      const right = op === '!in' || op === 'has_any' ? `(${kqlString(text)})` : kqlString(text);
      const query = `DeviceProcessEvents | where FileName ${op} ${right} | count`;
      const c = compiled(query);
      // `$p1` is also the spelling of the first placeholder; the others must not occur at all.
      if (text !== '$p1') expect(c.sql).not.toContain(text);
      const expected = op === '!in' ? 6 : 0;
      if (op === 'matches regex') continue; // a hostile text is not always a valid pattern; it stays a parameter all the same
      expect(await rows(query)).toEqual([{ Count: expected }]);
    }
    expect(await rows('DeviceInfo | count')).toEqual([{ Count: 4 }]);
  });

  it('any printable text round-trips through a literal unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !/[\n\r\0]|[\uD800-\uDFFF]/.test(s)),
        async (text) => {
          const result = await rows(`print x = ${kqlString(text)}`);
          expect(result).toEqual([{ x: text }]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('datatable values, parse patterns and dynamic keys are parameters too', async () => {
    const text = hostile[0] as string;
    const c = compiled(
      `datatable(a:string)[${kqlString(text)}] | parse a with "x" rest | extend d = parse_json('{"k":1}')[${kqlString(text)}]`,
    );
    expect(c.sql).not.toContain('DROP');
    expect(await rows(`datatable(a:string)[${kqlString(text)}] | project a`)).toEqual([{ a: text }]);
  });
});

describe('identifiers are quoted', () => {
  const names = [`a"; DROP TABLE "DeviceInfo"; --`, `x" AS y, (SELECT 1) AS "z`, 'select', `'`, '$left'];

  it.each(names)('a column named %s comes back under exactly that name', async (name) => {
    const bracketed = `['${name.replaceAll("'", "\\'")}']`;
    const result = await rows(
      `print ${bracketed} = 1 | extend n = ${bracketed} + 1 | summarize count() by ${bracketed}, n`,
    );
    expect(result).toEqual([{ [name]: 1, n: 2, count_: 1 }]);
    expect(await rows(`let ${bracketed} = 5; print v = ${bracketed}`)).toEqual([{ v: 5 }]);
    expect(await rows('DeviceInfo | count')).toEqual([{ Count: 4 }]);
  });

  it('withsource labels and renamed columns stay data', async () => {
    const result = await rows(
      `union withsource=['s"--'] DeviceInfo | project-rename ['o"; --'] = OSPlatform | take 1`,
    );
    expect(Object.keys(result[0] ?? {})).toContain('s"--');
    expect(Object.keys(result[0] ?? {})).toContain('o"; --');
  });
});

describe('externaldata', () => {
  it('fails offline over the network and never leaves its folder', () => {
    const offline = compileQuery('externaldata(a:string)[@"https://evil.example/x.csv"]');
    expect(offline.diagnostics[0]?.code).toBe('kql/offline');
    const noFolder = compileQuery('externaldata(a:string)[@"/etc/passwd"]');
    expect(noFolder.value).toBeUndefined();
    for (const path of ['/etc/passwd', '../../etc/passwd', 'sub/../../x.csv']) {
      const escaped = compileQuery(`externaldata(a:string)[@"${path}"]`, {
        files: { root: '/tmp/hunting-files' },
      });
      expect(escaped.value).toBeUndefined();
      expect(escaped.diagnostics[0]?.message).toContain('only read files under');
    }
  });
});

describe('execution limits', () => {
  it('runs only SELECT statements', async () => {
    const c = compiled('print x = 1');
    const result = await executeQuery(db.connection, {
      ...c,
      sql: 'CREATE TABLE pwned (a INTEGER)',
      params: {},
    });
    expect(result.value).toBeUndefined();
    expect(result.diagnostics[0]?.message).toContain('only a SELECT');
  });

  it('device scope filters every device table, whatever the query', async () => {
    const scope = { deviceNames: ['ws1.corp', `'); DROP TABLE "DeviceInfo"; --`] };
    expect(await rows('DeviceProcessEvents | count', { scope })).toEqual([{ Count: 2 }]);
    expect(await rows('union DeviceProcessEvents, DeviceInfo | count', { scope })).toEqual([{ Count: 4 }]);
    expect(
      await rows('DeviceProcessEvents | join kind=rightanti (DeviceInfo) on DeviceId | count', { scope }),
    ).toEqual([{ Count: 0 }]);
    // Every table with a DeviceName is scoped: the logon row was seen on dc1.corp.
    expect(await rows('IdentityLogonEvents | count', { scope })).toEqual([{ Count: 0 }]);
    expect(await rows('IdentityLogonEvents | count', { scope: { deviceNames: ['dc1.corp'] } })).toEqual([
      { Count: 1 },
    ]);
    // A scope that names no device of a table shows none of it.
    expect(await rows('DeviceProcessEvents | count', { scope: {} })).toEqual([{ Count: 0 }]);
  });

  it('caps rows and says so', async () => {
    const result = await executeQuery(db.connection, compiled('DeviceProcessEvents'), { maxRows: 2 });
    expect(result.value?.Results).toHaveLength(2);
    expect(result.value?.truncated).toBe(true);
  });

  it('stops a query at its timeout', async () => {
    const c = compiled('print x = 1');
    const slow = { ...c, sql: 'SELECT count(*) AS x FROM range(1000000000000) a', params: {} };
    const result = await executeQuery(db.connection, slow, { timeoutMs: 200 });
    expect(result.diagnostics[0]?.code).toBe('kql/timeout');
  });
});
