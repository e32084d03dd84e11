// Every line of the recorded lab run's Samba audit logs (../shared/corpus/testbed-samples/audit)
// reads without problems, makes exactly one raw row per record and only rows that pass checkRow,
// with one ReportId per record. Prints the rows per table and ActionType.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSambaAuditLines } from '../src/normalise/samba-audit.ts';
import { checkRow } from '../src/rows.ts';

const audit = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples/audit');
const missing = existsSync(audit) ? undefined : `audit logs not found at ${audit}`;
if (missing) {
  if (process.env.CI) throw new Error(missing);
  console.log(`skipping Samba corpus test: ${missing}`);
}

describe.skipIf(missing !== undefined)('Samba audit logs of the lab run', () => {
  it('normalise every line to valid rows', () => {
    const counts = new Map<string, number>();
    const problems: string[] = [];
    const reportIds = new Set<string>();
    let records = 0;
    for (const name of readdirSync(audit).sort()) {
      const text = readFileSync(join(audit, name), 'utf8');
      const result = readSambaAuditLines(text, name, 'dc1.corp.lab.test');
      problems.push(...result.problems.map((p) => p.message));
      const lines = text.split('\n').filter((l) => l.trim() !== '').length;
      const raw = result.rows.filter((r) => r.table === 'PalisadeRawEvents');
      records += raw.length;
      if (raw.length !== lines) problems.push(`${name}: ${raw.length} raw rows for ${lines} lines`);
      for (const r of raw) reportIds.add(String(r.values.ReportId));
      for (const row of result.rows) {
        for (const p of checkRow(row)) problems.push(`${name}: ${p.message}`);
        if (!reportIds.has(String(row.values.ReportId))) problems.push(`${name}: a row without its raw row`);
        const key = `${row.table} ${row.table === 'PalisadeRawEvents' ? row.values.Channel : row.values.ActionType}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    console.log(
      `rows from ${records} Samba audit records:\n${[...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, n]) => `  ${k.padEnd(52)} ${n}`)
        .join('\n')}`,
    );
    expect(problems).toEqual([]);
    expect(records).toBe(165);
    // One id per record: no two records of the run hash alike.
    expect(reportIds.size).toBe(records);
  });
});
