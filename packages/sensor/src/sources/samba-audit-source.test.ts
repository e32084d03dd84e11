// The Samba audit source on a temporary log: every record's rows as the schema's reader makes them
// from the whole file, bad record lines as named health issues with file and offset, and the
// follower's rotation and truncation reported under the source's own codes.
import { appendFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSambaAuditLines, type TableRow } from '@palisade/schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/source.suite.ts';
import type { SourceChunk } from '../source.ts';
import type { LineTailCheckpoint } from './line-tail.ts';
import { sambaAuditSource } from './samba-audit-source.ts';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'samba-audit-'));
  log = join(dir, 'auth_json.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const record = (n: number) =>
  JSON.stringify({
    timestamp: `2026-11-21T22:27:0${n}.000000+0000`,
    type: 'Authentication',
    Authentication: {
      eventId: 4625,
      status: 'NT_STATUS_WRONG_PASSWORD',
      serviceDescription: 'Kerberos KDC',
      authDescription: 'ENC-TS Pre-authentication',
      clientAccount: `user${n}`,
      clientDomain: 'LAB',
      remoteAddress: 'ipv4:10.99.0.20:5000',
      localAddress: 'ipv4:10.99.0.10:88',
    },
  });

/** Runs the source until `done` holds for what came, then a few polls more. */
async function run(
  from: LineTailCheckpoint | undefined,
  done: (rows: TableRow[]) => boolean,
  act?: () => void,
) {
  const controller = new AbortController();
  const context = testContext(controller.signal);
  const chunks: SourceChunk<LineTailCheckpoint>[] = [];
  const rows: TableRow[] = [];
  const deadline = setTimeout(() => controller.abort(), 5_000);
  let acted = false;
  for await (const chunk of sambaAuditSource({ path: log, pollIntervalMs: 10 }).run(from, context)) {
    chunks.push(chunk);
    rows.push(...chunk.rows);
    if (act && !acted) {
      acted = true;
      act();
    }
    if (done(rows)) setTimeout(() => controller.abort(), 50);
  }
  clearTimeout(deadline);
  return { chunks, rows, issues: context.issues };
}

const raw = (rows: TableRow[]) => rows.filter((r) => r.table === 'PalisadeRawEvents');

describe('sambaAuditSource', () => {
  it("gives each record's rows as the schema reads the whole file, and names bad record lines by file and offset", async () => {
    const lines = [
      '[2026/11/21 22:27:08.712832,  3] ../../auth/auth_log.c:635(log_json)',
      `  ${record(1)}`,
      '  some other debug message Samba writes to the same log',
      record(2).slice(0, 70),
      record(3),
      '{"timestamp": "2026-11-21T22:27:09.000000+0000", "type": "Authentication", "Authentication": {]}',
      record(4),
    ];
    const text = `${lines.join('\n')}\n`;
    writeFileSync(log, text);
    const got = await run(undefined, (rows) => raw(rows).length >= 3);
    const expected = readSambaAuditLines(text, log, 'dc1.test.example');
    expect(got.rows).toEqual(expected.rows);
    expect(raw(got.rows)).toHaveLength(3);
    const offsetOf = (i: number) => Buffer.byteLength(lines.slice(0, i).join('\n')) + 1;
    expect(got.issues.map((i) => [i.code, i.details])).toEqual([
      ['samba-audit/bad-line', { file: log, offset: offsetOf(3) }],
      ['samba-audit/bad-line', { file: log, offset: offsetOf(5) }],
    ]);
    expect(got.issues[0]?.message).toMatch(
      new RegExp(`^${log}: line at offset ${offsetOf(3)}: expected a JSON object, found .*; skipped$`),
    );
  });

  it('reports a log rotated away while stopped as samba-audit/rotated-away, then reads the new log', async () => {
    writeFileSync(log, `${record(1)}\n`);
    const first = await run(undefined, (rows) => raw(rows).length >= 1);
    appendFileSync(log, `${record(2)}\n`);
    renameSync(log, `${log}.1`);
    writeFileSync(log, `${record(3)}\n`);
    unlinkSync(`${log}.1`);
    const second = await run(first.chunks.at(-1)?.checkpoint, (rows) => raw(rows).length >= 1);
    expect(raw(second.rows).map((r) => (r.values.Data as { timestamp: string }).timestamp)).toEqual([
      '2026-11-21T22:27:03.000000+0000',
    ]);
    expect(second.issues.map((i) => i.code)).toEqual(['samba-audit/rotated-away']);
    expect(second.issues[0]?.message).toContain('may be missing');
  });

  it('follows the log across a rotation while running, losing nothing', async () => {
    writeFileSync(log, `${record(1)}\n`);
    const got = await run(
      undefined,
      (rows) => raw(rows).length >= 3,
      () => {
        renameSync(log, `${log}.1`);
        appendFileSync(`${log}.1`, `${record(2)}\n`);
        writeFileSync(log, `${record(3)}\n`);
      },
    );
    expect(raw(got.rows).map((r) => (r.values.Data as { timestamp: string }).timestamp)).toEqual([
      '2026-11-21T22:27:01.000000+0000',
      '2026-11-21T22:27:02.000000+0000',
      '2026-11-21T22:27:03.000000+0000',
    ]);
    expect(got.issues).toEqual([]);
  });
});
