// `palisade scan` end to end through `run`: rules given by the user, each output format, the
// minimum level, the output file and the exit codes.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.ts';
import { memoryOutput } from './memory-output.ts';

const shared = resolve(import.meta.dirname, '../../../../shared');
// Two Security 4985 events (records 12294 and 12295, as evtxexport prints them).
const sample = join(
  shared,
  'corpus/evtx-attack-samples/Defense Evasion/Win_4985_T1186_Process_Doppelganging.evtx',
);
const haveSample = existsSync(sample);
if (!haveSample) console.log(`skipping scan CLI tests: ${sample} not found`);

function rulesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-rules-'));
  writeFileSync(
    join(dir, 'transaction.yml'),
    `title: Transaction State Change By Doppelganger
id: 11111111-2222-4333-8444-555555555555
level: high
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 4985
    ProcessName|endswith: '\\proc_doppel64.exe'
  condition: selection
`,
  );
  writeFileSync(
    join(dir, 'info.yml'),
    `title: Any Transaction Event
level: low
logsource: { product: windows, service: security }
detection:
  selection:
    EventID: 4985
  condition: selection
`,
  );
  writeFileSync(
    join(dir, 'broken.yml'),
    'title: Broken\nlogsource: { product: windows }\ndetection:\n  selection:\n    Image|frobnicate: x\n  condition: selection\n',
  );
  return dir;
}

describe.skipIf(!haveSample)('palisade scan', () => {
  it('prints a table sorted by time, and a summary; names the rejected rule', async () => {
    const out = memoryOutput();
    expect(await run(['scan', sample, '--rules', rulesDir()], out)).toBe(0);
    const lines = out.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^Timestamp\s+Level\s+Rule\s+Computer\s+Channel\s+EventID\s+RecordID\s+Details\s+File$/,
    );
    const rows = lines.filter((l) => /^\d{4}-/.test(l));
    // Both events match both rules; at equal times the more severe rule comes first.
    expect(rows.map((r) => r.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['2019-08-14T14:06:44.4956748Z', 'high', 'Transaction State Change By Doppelganger'],
      ['2019-08-14T14:06:44.4956748Z', 'low', 'Any Transaction Event'],
      ['2019-08-14T14:06:44.8498851Z', 'high', 'Transaction State Change By Doppelganger'],
      ['2019-08-14T14:06:44.8498851Z', 'low', 'Any Transaction Event'],
    ]);
    expect(out.stdout).toContain('Scanned 2 events in 1 file: 4 alerts.');
    expect(out.stdout).toContain('Alerts by level: critical 0, high 2, medium 0, low 2, informational 0');
    expect(
      out.stderr.some((l) =>
        /broken\.yml:5: error: Broken: unknown modifier 'frobnicate' \[sigma\/unknown-modifier\]/.test(l),
      ),
    ).toBe(true);
  });

  it('filters by level and writes JSON lines', async () => {
    const out = memoryOutput();
    expect(
      await run(['scan', sample, '-r', rulesDir(), '--min-level', 'high', '--format', 'jsonl'], out),
    ).toBe(0);
    const alerts = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(alerts.map((a) => [a.level, a.events[0].recordId])).toEqual([
      ['high', 12294],
      ['high', 12295],
    ]);
    expect(out.stderr.join('\n')).toContain('Scanned 2 events in 1 file: 2 alerts.');
  });

  it('writes CSV with a header to the output file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-out-'));
    const file = join(dir, 'alerts.csv');
    const out = memoryOutput();
    expect(await run(['scan', sample, '-r', rulesDir(), '-l', 'high', '-f', 'csv', '-o', file], out)).toBe(0);
    expect(out.stdout).toBe('');
    const rows = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    expect(rows[0]).toBe('Timestamp,Level,Rule,Computer,Channel,EventID,RecordID,Details,File');
    expect(rows[1]).toBe(
      `2019-08-14T14:06:44.4956748Z,high,Transaction State Change By Doppelganger,MSEDGEWIN10,Security,4985,12294,,${sample}`,
    );
    expect(rows).toHaveLength(3);
  });

  it('writes one JSON document with alerts and summary', async () => {
    const out = memoryOutput();
    expect(await run(['scan', sample, '-r', rulesDir(), '-f', 'json'], out)).toBe(0);
    const doc = JSON.parse(out.stdout);
    expect(doc.summary.alerts).toBe(4);
    expect(doc.summary.topRules.map((r: { title: string; count: number }) => [r.title, r.count])).toEqual([
      ['Any Transaction Event', 2],
      ['Transaction State Change By Doppelganger', 2],
    ]);
  });

  it('exits 1 when an input cannot be read, and still reports the rest', async () => {
    const out = memoryOutput();
    expect(await run(['scan', '/nonexistent/file.evtx', sample, '-r', rulesDir(), '-f', 'jsonl'], out)).toBe(
      1,
    );
    expect(out.stdout.trim().split('\n')).toHaveLength(4);
    expect(out.stderr.some((l) => l.startsWith('/nonexistent/file.evtx: error: cannot read: ENOENT'))).toBe(
      true,
    );
  });

  it('exits 2 when there is nothing to run: no rules and --no-identity', async () => {
    const none = memoryOutput();
    expect(await run(['scan', sample, '--no-identity'], none)).toBe(2);
    expect(none.stderr[0]).toMatch(/nothing to run/);
    const empty = memoryOutput();
    expect(
      await run(
        ['scan', sample, '-r', mkdtempSync(join(tmpdir(), 'palisade-empty-')), '--no-identity'],
        empty,
      ),
    ).toBe(2);
    expect(empty.stderr).toContain('palisade scan: no rule could be loaded');
  });

  it('runs the identity detectors alone when no rules are given', async () => {
    const out = memoryOutput();
    expect(await run(['scan', sample, '-f', 'jsonl'], out)).toBe(0);
    // Two 4985 transaction events are no identity attack.
    expect(out.stdout).toBe('');
    expect(out.stderr.join('\n')).toContain('Scanned 2 events in 1 file: 0 alerts.');
  });

  it('names each problem of a bad identity configuration file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-idcfg-'));
    const file = join(dir, 'identity.yml');
    writeFileSync(file, 'testMode: yes please\nlevels: { identity/nope: high }\nhoneytokenAccounts: decoy\n');
    const out = memoryOutput();
    expect(await run(['scan', sample, '--identity-config', file], out)).toBe(2);
    expect(out.stderr).toEqual([
      `palisade scan: ${file}: honeytokenAccounts must be a list of strings`,
      `palisade scan: ${file}: testMode must be true or false`,
      `palisade scan: ${file}: levels: no detector 'identity/nope'`,
    ]);
  });
});
