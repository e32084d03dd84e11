import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TableRow } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import { parseAuditLine } from './linux-audit-record.ts';
import { AuditdNormaliser, commandLine, normaliseAuditLog, readExecveArgs } from './linux-auditd.ts';
import { passwdResolver } from './linux-passwd.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/linux-auditd');
const auditLog = readFileSync(join(fixtures, 'audit.log'), 'utf8');
const resolveUid = passwdResolver(readFileSync(join(fixtures, 'passwd'), 'utf8'));
const options = { deviceName: 'lab', resolveUid };
const ids = (rows: readonly TableRow[]) => rows.map((r) => `${r.table}:${String(r.values.ReportId)}`);

/** The log's lines with the byte offset each starts at. */
function linesOf(text: string): { line: string; offset: number }[] {
  const out: { line: string; offset: number }[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    out.push({ line, offset });
    offset += Buffer.byteLength(line) + 1;
  }
  return out;
}

describe('AuditdNormaliser', () => {
  it('reads the RAW format to the same rows as ENRICHED, naming users through the resolver', () => {
    // the RAW format is each line without the group separator and the names after it
    const raw = auditLog
      .split('\n')
      .map((l) => l.split('\x1d')[0])
      .join('\n');
    expect(raw).not.toBe(auditLog);
    expect(normaliseAuditLog(raw, options)).toEqual(normaliseAuditLog(auditLog, options));
  });

  it('groups interleaved records by serial and completes an event on PROCTITLE', () => {
    const n = new AuditdNormaliser(options);
    const a = 'msg=audit(1700000000.100:1)';
    const b = 'msg=audit(1700000000.100:2)';
    const lines = [
      `type=SYSCALL ${a}: arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=10 uid=0 euid=0 auid=0 ses=1 exe="/usr/bin/id" key=(null)`,
      `type=SYSCALL ${b}: arch=c000003e syscall=59 success=yes exit=0 ppid=10 pid=11 uid=0 euid=0 auid=0 ses=1 exe="/usr/bin/ls" key=(null)`,
      `type=EXECVE ${b}: argc=1 a0="ls"`,
      `type=EXECVE ${a}: argc=1 a0="id"`,
      `type=PROCTITLE ${b}: proctitle="ls"`,
    ];
    const rows = lines.flatMap((l, i) => n.push(l, i * 100).rows);
    expect(rows.map((r) => r.values.ProcessCommandLine)).toEqual(['ls']);
    expect(n.resumePoint()).toEqual({ offset: 0, emitted: ['1700000000.100:2'] });
    expect(n.flush().rows.map((r) => r.values.ProcessCommandLine)).toEqual(['id']);
    expect(n.resumePoint()).toEqual({ offset: undefined, emitted: [] });
  });

  it('completes the oldest event when more than maxOpenEvents are open', () => {
    const n = new AuditdNormaliser({ ...options, maxOpenEvents: 2 });
    const syscall = (serial: number) =>
      `type=SYSCALL msg=audit(1700000000.000:${serial}): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=${serial} uid=0 euid=0 exe="/usr/bin/true"`;
    const execve = (serial: number) => `type=EXECVE msg=audit(1700000000.000:${serial}): argc=1 a0="true"`;
    const out = [1, 2, 3].flatMap((s) => [...n.push(syscall(s), s).rows, ...n.push(execve(s), s).rows]);
    expect(ids(out)).toEqual(['DeviceProcessEvents:1']);
  });

  it('fills InitiatingProcess columns from the process it saw start, and only while the image is the same', () => {
    const { rows } = normaliseAuditLog(readFileSync(join(fixtures, 'edge-cases.log'), 'utf8'), options);
    const sudo = rows.find((r) => r.values.ReportId === 1003)?.values;
    expect(sudo).toMatchObject({
      AccountName: 'root',
      InitiatingProcessId: 501,
      InitiatingProcessFileName: 'python3.11',
      InitiatingProcessCommandLine: 'python3 -c "print(\\"hi\\")"',
      InitiatingProcessAccountName: 'analyst',
      InitiatingProcessParentId: 500,
    });
    const client = rows.find((r) => r.values.ReportId === 1005)?.values;
    expect(client).toMatchObject({
      ActionType: 'ConnectionFailed',
      RemoteIP: '2001:db8::5',
      RemotePort: 443,
      RemoteIPType: 'Reserved',
      InitiatingProcessParentFileName: 'python3.11',
    });
    expect(client?.Protocol).toBeUndefined();
  });

  it('resumes after a restart at any line with every event exactly once', () => {
    const lines = linesOf(auditLog);
    const whole = ids(normaliseAuditLog(auditLog, options).rows).sort();
    for (const cut of [1, 57, 200, 333, 500, lines.length - 2]) {
      const first = new AuditdNormaliser(options);
      const before = lines.slice(0, cut).flatMap(({ line, offset }) => first.push(line, offset).rows);
      const point = first.resumePoint();
      const from = point.offset ?? lines[cut]?.offset ?? 0;
      const second = new AuditdNormaliser({ ...options, skip: point.emitted });
      const after = lines
        .filter((l) => l.offset >= from)
        .flatMap(({ line, offset }) => second.push(line, offset).rows);
      after.push(...second.flush().rows);
      expect([...ids(before), ...ids(after)].sort(), `cut at line ${cut}`).toEqual(whole);
    }
  });

  it('names the offset and what it expected for a malformed line, and goes on', () => {
    const n = new AuditdNormaliser({ ...options, source: 'audit.log' });
    expect(n.push('type=SYSCALL msg=audit(bad): x=1', 4096).diagnostics).toEqual([
      {
        severity: 'error',
        code: 'auditd/bad-line',
        message:
          'expected type=TYPE msg=audit(SECONDS.MILLIS:SERIAL):, found "type=SYSCALL msg=audit(bad): x=1" at offset 4096',
        offset: 4096,
        source: 'audit.log',
      },
    ]);
    expect(n.push('', 5000)).toEqual({ rows: [], diagnostics: [] });
  });
});

describe('readExecveArgs', () => {
  const records = (...lines: string[]) =>
    lines.map((l) => {
      const r = parseAuditLine(`type=EXECVE msg=audit(1.000:1): ${l}`);
      if (!r.ok) throw new Error(r.expected);
      return r.record;
    });

  it('joins split arguments, decoding multi-byte text across chunk boundaries', () => {
    const word = Buffer.from('grüße').toString('hex').toUpperCase();
    expect(
      readExecveArgs(
        records(`argc=2 a0="echo" a1_len=14 a1[0]=${word.slice(0, 6)}`, ` a1[1]=${word.slice(6)}`),
      ),
    ).toEqual(['echo', 'grüße']);
  });

  it('is undefined when an argument or a chunk is missing', () => {
    expect(readExecveArgs(records('argc=3 a0="a" a2="c"'))).toBeUndefined();
    expect(readExecveArgs(records('argc=1 a0_len=6 a0[0]=41', ' a0[2]=43'))).toBeUndefined();
    expect(readExecveArgs(records('argc=1 a0_len=8 a0[0]=41', ' a0[1]=42', ' a0[2]=43'))).toBeUndefined();
    expect(readExecveArgs(records('argc=1 a0_len=6 a0[0]=41', ' a0[1]=42', ' a0[2]=43'))).toEqual(['ABC']);
  });
});

describe('commandLine', () => {
  it('quotes only the arguments that need it', () => {
    expect(commandLine(['sh', '-c', 'echo "hi" \\o/', '', 'plain'])).toBe(
      'sh -c "echo \\"hi\\" \\\\o/" "" plain',
    );
  });
});
