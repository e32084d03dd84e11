// Advanced hunting's cost over plain SQL: 10 million synthetic DeviceProcessEvents rows, made by
// DuckDB's own SQL in a temporary file laid out as the event store lays it out; ten typical
// hunting queries each timed through the KQL path (compile + execute, as the API runs them) and
// as hand-written DuckDB SQL for the same question (its fastest plain form: contains/starts_with
// on lower-cased text rather than ILIKE), alternately in the same run, after checking that both
// give the same rows. Prints a table and one JSON line: the median of the per-query
// overhead ratios (target ≤ 1.2) and the compile time's p95 after warm-up (target ≤ 20 ms).
// Usage: node dist/hunt-bench.mjs [--rows N] [--runs N] [--threads N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { compileQuery, executeQuery, warmUp } from '@palisade/kql';
import { tables } from '@palisade/schema';

const targets = { overheadRatio: 1.2, compileP95Ms: 20 } as const;

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '5' },
    threads: { type: 'string' },
  },
});
const rowCount = Number(values.rows);
const runs = Number(values.runs);

/** The data ends here; the queries' `now()`. */
const now = new Date('2026-11-22T00:00:00Z');
const span = 7 * 86_400_000_000; // the rows cover the 7 days before `now`, in µs

const sqlTypes = {
  string: 'VARCHAR',
  int: 'INTEGER',
  long: 'BIGINT',
  real: 'DOUBLE',
  bool: 'BOOLEAN',
  datetime: 'TIMESTAMP',
  dynamic: 'JSON',
} as const;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

// Binaries zipf-like: the first of the list is the commonest. Parents likewise.
const binaries = [
  'svchost.exe',
  'conhost.exe',
  'chrome.exe',
  'cmd.exe',
  'powershell.exe',
  'msedge.exe',
  'explorer.exe',
  'taskhostw.exe',
  'rundll32.exe',
  'WmiPrvSE.exe',
  'whoami.exe',
  'net.exe',
  'reg.exe',
  'schtasks.exe',
  'certutil.exe',
  'regsvr32.exe',
  'mshta.exe',
  'wscript.exe',
  'PowerShell.EXE',
  'bitsadmin.exe',
];
const parents = ['services.exe', 'explorer.exe', 'svchost.exe', 'cmd.exe', 'powershell.exe', 'winword.exe'];
const list = (items: readonly string[]) => `[${items.map((s) => `'${s}'`).join(', ')}]`;

/** One INSERT … SELECT over range(): every value a function of the row number, so runs are equal. */
function generateSql(count: number): string {
  // Zipf-ish pick: the square of a uniform number favours low indexes.
  const pick = (items: readonly string[], salt: number) =>
    `${list(items)}[1 + floor(${items.length} * pow((hash(i, ${salt}) % 1000000) / 1000000.0, 2))::INTEGER]`;
  return `
INSERT INTO "DeviceProcessEvents" ("Timestamp", "DeviceId", "DeviceName", "ActionType", "FileName", "FolderPath",
  "SHA256", "ProcessId", "ProcessCommandLine", "AccountDomain", "AccountName", "InitiatingProcessFileName",
  "InitiatingProcessCommandLine", "ReportId", "_Batch", "_Row")
SELECT ts, 'dev-' || d, 'ws' || lpad(d::VARCHAR, 4, '0') || '.corp.lab.test', 'ProcessCreated', f,
  'C:\\Windows\\System32\\' || f, sha256(f), (hash(i, 3) % 65536)::BIGINT,
  f || CASE WHEN i % 4999 = 0 THEN ' -nop -w hidden -enc ' || md5(i::VARCHAR)
            WHEN i % 7919 = 0 THEN ' -urlcache -split -f http://198.51.100.' || (i % 250) || '/p.bin'
            WHEN f = 'whoami.exe' THEN ' /all'
            WHEN i % 13 = 0 THEN ' /c whoami /groups'
            ELSE ' /task ' || (hash(i, 4) % 5000) END,
  'CORP', CASE WHEN hash(i, 5) % 100 < 45 THEN 'svc' || (hash(i, 6) % 3) ELSE 'user' || (hash(i, 7) % 3000) END,
  p, p || ' -k ' || (hash(i, 8) % 200), i, 1, i
FROM (
  SELECT i, TIMESTAMP '${now.toISOString().slice(0, 19).replace('T', ' ')}' - to_microseconds(${span}::BIGINT)
         + to_microseconds((i * ${Math.floor(span / count)})::BIGINT) AS ts,
         (hash(i, 1) % 2000)::INTEGER AS d, ${pick(binaries, 2)} AS f, ${pick(parents, 9)} AS p
  FROM range(${count}) t(i)
)`;
}

interface BenchQuery {
  readonly name: string;
  readonly kql: string;
  readonly sql: string;
  /** Compare rows in order (the query sorts); otherwise as a multiset. */
  readonly ordered: boolean;
}

const day = (d: number) =>
  `TIMESTAMP '${new Date(now.getTime() - d * 86_400_000).toISOString().slice(0, 19).replace('T', ' ')}'`;

const queries: readonly BenchQuery[] = [
  {
    name: 'time range + =~, count',
    kql: 'DeviceProcessEvents | where Timestamp > ago(1d) and FileName =~ "powershell.exe" | count',
    sql: `SELECT count(*) AS "Count" FROM "DeviceProcessEvents" WHERE "Timestamp" > ${day(1)} AND lower("FileName") = 'powershell.exe'`,
    ordered: true,
  },
  {
    name: 'contains, top devices',
    kql: 'DeviceProcessEvents | where ProcessCommandLine contains "-enc " | summarize Count = count() by DeviceName | sort by Count desc, DeviceName asc | take 10',
    sql: `SELECT "DeviceName", count(*) AS "Count" FROM "DeviceProcessEvents" WHERE contains(lower("ProcessCommandLine"), '-enc ') GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
    ordered: true,
  },
  {
    name: 'parent/child pairs',
    kql: 'DeviceProcessEvents | where Timestamp > ago(7d) | summarize Count = count() by InitiatingProcessFileName, FileName | sort by Count desc, InitiatingProcessFileName asc, FileName asc | take 20',
    sql: `SELECT "InitiatingProcessFileName", "FileName", count(*) AS "Count" FROM "DeviceProcessEvents" WHERE "Timestamp" > ${day(7)} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 20`,
    ordered: true,
  },
  {
    name: 'accounts per binary (dcount)',
    kql: 'DeviceProcessEvents | summarize Accounts = dcount(AccountName) by FileName | where Accounts > 100 | sort by FileName asc',
    sql: `SELECT "FileName", count(DISTINCT "AccountName") AS "Accounts" FROM "DeviceProcessEvents" GROUP BY 1 HAVING count(DISTINCT "AccountName") > 100 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'hourly timeline of a device',
    kql: 'DeviceProcessEvents | where DeviceName == "ws0042.corp.lab.test" | summarize Count = count() by bin(Timestamp, 1h) | sort by Timestamp asc',
    sql: `SELECT date_trunc('hour', "Timestamp") AS "Timestamp", count(*) AS "Count" FROM "DeviceProcessEvents" WHERE "DeviceName" = 'ws0042.corp.lab.test' GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'has term, count',
    kql: 'DeviceProcessEvents | where ProcessCommandLine has "whoami" | count',
    sql: `SELECT count(*) AS "Count" FROM "DeviceProcessEvents" WHERE contains(lower("ProcessCommandLine"), 'whoami')`,
    ordered: true,
  },
  {
    name: 'arg_max latest per device',
    kql: 'DeviceProcessEvents | where FileName == "certutil.exe" | summarize arg_max(Timestamp, AccountName, ProcessCommandLine) by DeviceName | sort by DeviceName asc | take 20',
    sql: `SELECT "DeviceName", max("Timestamp") AS "Timestamp", arg_max("AccountName", "Timestamp") AS "AccountName", arg_max("ProcessCommandLine", "Timestamp") AS "ProcessCommandLine" FROM "DeviceProcessEvents" WHERE "FileName" = 'certutil.exe' GROUP BY 1 ORDER BY 1 LIMIT 20`,
    ordered: true,
  },
  {
    name: 'in list, count and dcount',
    kql: 'DeviceProcessEvents | where FileName in ("certutil.exe", "rundll32.exe", "regsvr32.exe", "mshta.exe") | summarize Count = count(), Accounts = dcount(AccountName) by FileName | sort by FileName asc',
    sql: `SELECT "FileName", count(*) AS "Count", count(DISTINCT "AccountName") AS "Accounts" FROM "DeviceProcessEvents" WHERE "FileName" IN ('certutil.exe', 'rundll32.exe', 'regsvr32.exe', 'mshta.exe') GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
  {
    name: 'let + join on devices',
    kql: 'let downloaders = DeviceProcessEvents | where ProcessCommandLine contains "-urlcache" | distinct DeviceName; DeviceProcessEvents | where FileName =~ "powershell.exe" | join kind=inner downloaders on DeviceName | summarize Count = count() by DeviceName | sort by Count desc, DeviceName asc | take 10',
    sql: `WITH downloaders AS (SELECT DISTINCT "DeviceName" FROM "DeviceProcessEvents" WHERE contains(lower("ProcessCommandLine"), '-urlcache')) SELECT p."DeviceName", count(*) AS "Count" FROM "DeviceProcessEvents" p JOIN downloaders d ON p."DeviceName" = d."DeviceName" WHERE lower(p."FileName") = 'powershell.exe' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
    ordered: true,
  },
  {
    name: 'startswith + extend hour',
    kql: 'DeviceProcessEvents | where AccountName startswith "svc" | extend Hour = datetime_part("hour", Timestamp) | summarize Count = count() by Hour | sort by Hour asc',
    sql: `SELECT hour("Timestamp") AS "Hour", count(*) AS "Count" FROM "DeviceProcessEvents" WHERE starts_with(lower("AccountName"), 'svc') GROUP BY 1 ORDER BY 1`,
    ordered: true,
  },
];

/** A value as comparable text: numbers as digits, times as `YYYY-MM-DDTHH:MM:SS.ffffff`. */
function norm(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const text = String(value);
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$/.exec(text);
  return m ? `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(7, '0').slice(0, 6)}` : text;
}

function rowsText(
  rows: readonly Record<string, unknown>[],
  names: readonly string[],
  ordered: boolean,
): string[] {
  const lines = rows.map((r) => names.map((n) => norm(r[n])).join('\u0001'));
  return ordered ? lines : lines.sort();
}

async function runSql(c: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await c.runAndReadAll(sql);
  return reader.getRowObjectsJson() as Record<string, unknown>[];
}

async function runKql(
  c: DuckDBConnection,
  kql: string,
): Promise<{ rows: Record<string, unknown>[]; names: string[]; compileMs: number }> {
  const started = performance.now();
  const compiled = compileQuery(kql, { now });
  const compileMs = performance.now() - started;
  if (!compiled.value) throw new Error(`${kql}: ${compiled.diagnostics.map((d) => d.message).join('; ')}`);
  const result = await executeQuery(c, compiled.value, { maxRows: 100_000 });
  if (!result.value) throw new Error(`${kql}: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return { rows: result.value.Results, names: result.value.Schema.map((s) => s.Name), compileMs };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const percentile = (xs: readonly number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-hunt-bench-'));
  try {
    const config: Record<string, string> = { memory_limit: '4GB' };
    if (values.threads) config.threads = values.threads;
    const instance = await DuckDBInstance.create(join(dir, 'events.duckdb'), config);
    const c = await instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    const columns = tables.DeviceProcessEvents.columns.map(
      (col) => `${quote(col.name)} ${sqlTypes[col.type]}`,
    );
    await c.run(
      `CREATE TABLE "DeviceProcessEvents" (${columns.join(', ')}, "_Batch" BIGINT NOT NULL, "_Row" BIGINT)`,
    );
    let started = performance.now();
    await c.run(generateSql(rowCount));
    await c.run('CHECKPOINT');
    const loadMs = performance.now() - started;
    console.log(
      `loaded ${rowCount.toLocaleString('en')} DeviceProcessEvents rows in ${(loadMs / 1000).toFixed(1)} s`,
    );

    started = performance.now();
    warmUp();
    console.log(`language service warm-up: ${Math.round(performance.now() - started)} ms`);

    // Same answers first (this also warms DuckDB's caches for both forms).
    const mismatches: string[] = [];
    for (const q of queries) {
      const k = await runKql(c, q.kql);
      const s = await runSql(c, q.sql);
      const a = rowsText(k.rows, k.names, q.ordered);
      const b = rowsText(s, k.names, q.ordered);
      if (a.length === 0) mismatches.push(`${q.name}: no rows`);
      if (JSON.stringify(a) !== JSON.stringify(b))
        mismatches.push(
          `${q.name}: KQL ${JSON.stringify(a.slice(0, 3))} vs SQL ${JSON.stringify(b.slice(0, 3))}`,
        );
    }

    const compileSamples: number[] = [];
    const rowsOut: {
      name: string;
      kqlMs: number;
      sqlMs: number;
      compileMs: number;
      ratio: number;
      rows: number;
    }[] = [];
    for (const q of queries) {
      const kqlTimes: number[] = [];
      const sqlTimes: number[] = [];
      const compiles: number[] = [];
      let rows = 0;
      for (let r = 0; r < runs; r++) {
        // Alternate which goes first, so neither always meets a warmer cache.
        const order = r % 2 === 0 ? ['kql', 'sql'] : ['sql', 'kql'];
        for (const which of order) {
          const t0 = performance.now();
          if (which === 'kql') {
            const k = await runKql(c, q.kql);
            kqlTimes.push(performance.now() - t0);
            compiles.push(k.compileMs);
            rows = k.rows.length;
          } else {
            await runSql(c, q.sql);
            sqlTimes.push(performance.now() - t0);
          }
        }
      }
      // Compilation alone, more samples for the p95.
      for (let r = 0; r < 20; r++) {
        const t0 = performance.now();
        compileQuery(q.kql, { now });
        compiles.push(performance.now() - t0);
      }
      compileSamples.push(...compiles);
      const kqlMs = median(kqlTimes);
      const sqlMs = median(sqlTimes);
      rowsOut.push({ name: q.name, kqlMs, sqlMs, compileMs: median(compiles), ratio: kqlMs / sqlMs, rows });
    }

    const ratio = median(rowsOut.map((r) => r.ratio));
    const compileP95 = percentile(compileSamples, 95);
    const pad = (s: string, n: number) => s.padEnd(n);
    const num = (x: number, n: number, digits = 1) => x.toFixed(digits).padStart(n);
    console.log('');
    console.log(
      `${pad('query', 30)} ${'rows'.padStart(5)} ${'KQL ms'.padStart(9)} ${'SQL ms'.padStart(9)} ${'compile'.padStart(8)} ${'ratio'.padStart(6)}`,
    );
    for (const r of rowsOut) {
      console.log(
        `${pad(r.name, 30)} ${String(r.rows).padStart(5)} ${num(r.kqlMs, 9)} ${num(r.sqlMs, 9)} ${num(r.compileMs, 8, 2)} ${num(r.ratio, 6, 2)}`,
      );
    }
    console.log('');
    console.log(
      `median overhead ratio ${ratio.toFixed(2)} (target ≤ ${targets.overheadRatio}: ${ratio <= targets.overheadRatio ? 'pass' : 'FAIL'}); compile p95 ${compileP95.toFixed(2)} ms (target ≤ ${targets.compileP95Ms}: ${compileP95 <= targets.compileP95Ms ? 'pass' : 'FAIL'}); results ${mismatches.length === 0 ? 'equal' : 'DIFFER'}`,
    );
    for (const m of mismatches) console.log(`  differs: ${m}`);
    console.log(
      JSON.stringify({
        bench: 'hunt',
        rows: rowCount,
        runs,
        loadSeconds: Number((loadMs / 1000).toFixed(1)),
        medianOverheadRatio: Number(ratio.toFixed(3)),
        compileP95Ms: Number(compileP95.toFixed(2)),
        resultsEqual: mismatches.length === 0,
        queries: rowsOut.map((r) => ({
          name: r.name,
          kqlMs: Number(r.kqlMs.toFixed(1)),
          sqlMs: Number(r.sqlMs.toFixed(1)),
          ratio: Number(r.ratio.toFixed(3)),
        })),
        targets,
        pass: ratio <= targets.overheadRatio && compileP95 <= targets.compileP95Ms && mismatches.length === 0,
      }),
    );
    c.disconnectSync();
    instance.closeSync();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
