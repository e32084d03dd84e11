// The Linux audit log source against the shared source behaviour, on audit records recorded on a
// real kernel (fixtures/linux-auditd/audit.log, then edge-cases.log appended): each row identified
// by its table, time, audit serial and action. The rows themselves are checked against the audit
// tools' own reading in linux-auditd-ausearch.test.ts; here the whole file normalised at once is
// what every resumed run must add up to.
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableRow } from '@palisade/schema';
import type { SourceChunk } from '../src/source.ts';
import { normaliseAuditLog } from '../src/sources/linux-auditd.ts';
import { type AuditdCheckpoint, auditdSource } from '../src/sources/linux-auditd-source.ts';
import { passwdFileResolver } from '../src/sources/linux-passwd.ts';
import { describeSource } from './source.suite.ts';

const fixtures = join(import.meta.dirname, '../fixtures/linux-auditd');
const identity = (row: TableRow) =>
  `${row.table}|${String(row.values.Timestamp)}|${String(row.values.ReportId)}|${String(row.values.ActionType)}`;
const rowsOf = (file: string) =>
  normaliseAuditLog(readFileSync(file, 'utf8'), {
    deviceName: 'dc1.test.example',
    resolveUid: passwdFileResolver(join(fixtures, 'passwd')),
  }).rows.map(identity);

describeSource<AuditdCheckpoint>('auditdSource', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'auditd-suite-'));
  const log = join(dir, 'audit.log');
  copyFileSync(join(fixtures, 'audit.log'), log);
  return {
    source: auditdSource({ path: log, pollIntervalMs: 20, maxChunkRecords: 40 }),
    identities: (chunk: SourceChunk<AuditdCheckpoint>) => chunk.rows.map(identity),
    expected: rowsOf(log),
    append: async () => {
      appendFileSync(log, readFileSync(join(fixtures, 'edge-cases.log')));
      return rowsOf(join(fixtures, 'edge-cases.log'));
    },
    settleMs: 150,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
