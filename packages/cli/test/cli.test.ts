// The palisade command end to end through `run`: usage errors, per-file errors that do not
// stop other files, and each dump format checked against evtxexport's record count.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/index.ts';
import { memoryOutput } from './memory-output.ts';

const shared = resolve(import.meta.dirname, '../../../../shared');
// A Security log of two 4985 events; evtxexport prints 2 records for it.
const sample = join(
  shared,
  'corpus/evtx-attack-samples/Defense Evasion/Win_4985_T1186_Process_Doppelganging.evtx',
);
const haveSample = spawnSync('test', ['-f', sample]).status === 0;
if (!haveSample) console.log(`skipping corpus-based CLI tests: ${sample} not found`);

describe('palisade command line', () => {
  it('prints help and exits 2 without a command', async () => {
    const out = memoryOutput();
    expect(await run([], out)).toBe(2);
    expect(out.stdout).toContain('evtx dump');
  });

  it('rejects an unknown command', async () => {
    const out = memoryOutput();
    expect(await run(['evtx', 'frobnicate'], out)).toBe(2);
    expect(out.stderr).toEqual(["palisade: unknown command 'evtx frobnicate'; see 'palisade --help'"]);
  });

  it('rejects an unknown format, naming the allowed ones', async () => {
    const out = memoryOutput();
    expect(await run(['evtx', 'dump', 'x.evtx', '--format', 'yaml'], out)).toBe(2);
    expect(out.stderr).toEqual(["palisade evtx dump: --format must be one of xml, json, jsonl, not 'yaml'"]);
  });

  it('rejects a dump without files', async () => {
    const out = memoryOutput();
    expect(await run(['evtx', 'dump'], out)).toBe(2);
    expect(out.stderr).toEqual([
      'palisade evtx dump: missing arguments\nusage: palisade evtx dump FILE… [--format xml|json|jsonl]',
    ]);
  });

  it('reports a missing file and a non-EVTX file by name, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-cli-'));
    const text = join(dir, 'notes.evtx');
    writeFileSync(text, 'this is not an event log\n'.repeat(10));
    const out = memoryOutput();
    expect(await run(['evtx', 'dump', join(dir, 'missing.evtx'), text], out)).toBe(1);
    expect(out.stderr).toEqual([
      `${join(dir, 'missing.evtx')}: error: cannot read: ENOENT: no such file or directory, open '${join(dir, 'missing.evtx')}'`,
      `${text}: error: offset 0xfa: file is 250 bytes, shorter than the 4096-byte file header [evtx/truncated-file]`,
      `${text}: error: offset 0x0: expected file magic ElfFile, found 74 68 69 73 20 69 73 20; looking for chunks anyway [evtx/bad-file-magic]`,
    ]);
    expect(out.stdout).toBe('');
  });

  it.skipIf(!haveSample)('dumps JSON lines, one per record, and goes on past a bad file', async () => {
    const out = memoryOutput();
    expect(await run(['evtx', 'dump', '/nonexistent.evtx', sample], out)).toBe(1);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] as string);
    // Values as evtxexport -f xml prints them for record 12294 of this file.
    expect(first.file).toBe(sample);
    expect(first.system.eventId).toBe(4985);
    expect(first.system.eventRecordId).toBe(12294);
    expect(first.system.channel).toBe('Security');
    expect(first.eventData.ProcessName).toBe('C:\\ProgramData\\proc_doppel64.exe');
  });

  it.skipIf(!haveSample)('dumps one JSON array', async () => {
    const out = memoryOutput();
    expect(await run(['evtx', 'dump', '-f', 'json', sample], out)).toBe(0);
    const events = JSON.parse(out.stdout);
    expect(events.map((e: { system: { eventRecordId: number } }) => e.system.eventRecordId)).toEqual([
      12294, 12295,
    ]);
  });

  it.skipIf(!haveSample)('dumps XML, one event per block', async () => {
    const out = memoryOutput();
    expect(await run(['evtx', 'dump', '--format', 'xml', sample], out)).toBe(0);
    const blocks = out.stdout.split('\n\n').filter((b) => b.trim() !== '');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatch(
      /^<Event xmlns="http:\/\/schemas.microsoft.com\/win\/2004\/08\/events\/event">\n {2}<System>/,
    );
    expect(blocks[0]).toContain('<Data Name="SubjectLogonId">0x342ba</Data>');
    expect(blocks[1]).toContain('<EventRecordID>12295</EventRecordID>');
  });

  it('writes an empty JSON array for no records', async () => {
    const out = memoryOutput();
    expect(await run(['evtx', 'dump', '-f', 'json', '/nonexistent.evtx'], out)).toBe(1);
    expect(JSON.parse(out.stdout)).toEqual([]);
  });
});
