// The Samba audit source against the shared source behaviour, on the lab's real audit logs
// (../shared/corpus/testbed-samples/audit): records identified by their JSON, counted with `wc -l`.
// Skips with a printed reason when ../shared is absent.
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import type { SourceChunk } from '../src/source.ts';
import type { LineTailCheckpoint } from '../src/sources/line-tail.ts';
import { sambaAuditSource } from '../src/sources/samba-audit-source.ts';
import { describeSource } from './source.suite.ts';

const audit = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples/audit');
const skip = existsSync(audit) ? undefined : `lab audit logs not found at ${audit}`;
if (skip) console.log(`skipping samba-audit-source conformance: ${skip}`);

/** The records of a log file as the suite compares them: each line's JSON, re-serialised. */
function recordsOf(file: string): string[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  // An independent count of the lines, to check the split.
  expect(lines.length).toBe(
    Number(execFileSync('wc', ['-l', file], { encoding: 'utf8' }).trim().split(/\s+/)[0]),
  );
  return lines.map((l) => JSON.stringify(JSON.parse(l)));
}

describeSource<LineTailCheckpoint>(
  'sambaAuditSource',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samba-suite-'));
    const log = join(dir, 'audit_json.log');
    copyFileSync(join(audit, 'auth_json.jsonl'), log);
    const more = join(audit, 'dsdb_json.jsonl');
    return {
      source: sambaAuditSource({ path: log, pollIntervalMs: 20, maxChunkRecords: 25 }),
      identities: (chunk: SourceChunk<LineTailCheckpoint>) =>
        chunk.rows.filter((r) => r.table === 'PalisadeRawEvents').map((r) => JSON.stringify(r.values.Data)),
      expected: recordsOf(log),
      append: async () => {
        appendFileSync(log, readFileSync(more));
        return recordsOf(more);
      },
      settleMs: 150,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  skip,
);
