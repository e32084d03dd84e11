// The EVTX files source on real files of ../shared/corpus/evtx-attack-samples in a temporary
// folder: record ids checked against `evtxexport` (libevtx), events in `palisade evtx dump`'s JSON
// form, a growing file, a wrapped circular log, a corrupt chunk, a replaced file and a late folder.
// Skips with a printed reason when ../shared or evtxexport is absent.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import { eventFromJson } from '@palisade/detect';
import { readEvtx } from '@palisade/evtx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testContext } from '../../test/source.suite.ts';
import type { SourceChunk } from '../source.ts';
import { type EvtxFilesCheckpoint, evtxFilesSource } from './evtx-files-source.ts';

const samples = resolve(import.meta.dirname, '../../../../../shared/corpus/evtx-attack-samples');
const hasEvtxexport = (() => {
  try {
    execFileSync('evtxexport', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !existsSync(samples)
  ? `EVTX-ATTACK-SAMPLES not found at ${samples}`
  : !hasEvtxexport
    ? 'evtxexport (libevtx-utils) is not installed'
    : undefined;
if (skip) console.log(`skipping evtx-files-source: ${skip}`);

const dcLog = 'Privilege Escalation/samaccount_spoofing_CVE-2021-42287_CVE-2021-42278_DC_securitylogs.evtx';
const multiChunk = 'Lateral Movement/LM_5145_Remote_FileCopy.evtx';
const sysmonLog = 'Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx';

/** The record ids (record header "Event number") of a file, as evtxexport reads them. */
function evtxexportIds(file: string): number[] {
  const text = execFileSync('evtxexport', [file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return [...text.matchAll(/^Event number\s*:\s*(\d+)$/gm)].map((m) => Number(m[1]));
}

/** A chunk header's first and last record ids, read straight from the bytes (MS-EVEN6 §2.2.2). */
function chunkRecordIds(bytes: Buffer, index: number): [number, number] {
  const at = 4096 + index * 65536;
  return [Number(bytes.readBigUInt64LE(at + 24)), Number(bytes.readBigUInt64LE(at + 32))];
}

/** The file as it was when it held only its first `chunks` chunks: header counts and checksum updated. */
function snapshot(bytes: Buffer, chunks: number): Buffer {
  const out = Buffer.from(bytes.subarray(0, 4096 + chunks * 65536));
  out.writeBigUInt64LE(BigInt(chunks - 1), 16);
  out.writeBigUInt64LE(BigInt(chunkRecordIds(bytes, chunks - 1)[1] + 1), 24);
  out.writeUInt16LE(chunks, 42);
  out.writeUInt32LE(crc32(out.subarray(0, 120)), 124);
  return out;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'evtx-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the source until `count` events came and a few polls more. */
async function run(paths: string[], from: EvtxFilesCheckpoint | undefined, count: number, act?: () => void) {
  const controller = new AbortController();
  const context = testContext(controller.signal);
  const chunks: SourceChunk<EvtxFilesCheckpoint>[] = [];
  const events: { file: string; recordId: number }[] = [];
  const deadline = setTimeout(() => controller.abort(), 20_000);
  const settle = () => setTimeout(() => controller.abort(), 150);
  if (count === 0) settle();
  for await (const chunk of evtxFilesSource({ paths, pollIntervalMs: 20, maxChunkRecords: 100 }).run(
    from,
    context,
  )) {
    chunks.push(chunk);
    events.push(...(chunk.events as { file: string; recordId: number }[]));
    if (act && events.length > 0) {
      act();
      act = undefined;
    }
    if (events.length >= count) settle();
  }
  clearTimeout(deadline);
  return { chunks, events, issues: context.issues, last: chunks.at(-1)?.checkpoint };
}

describe.skipIf(skip !== undefined)('evtxFilesSource', () => {
  it("reads a folder's files in the JSON form `palisade evtx dump` writes, which the server reads back", async () => {
    const files = [dcLog, sysmonLog].map((f) => {
      const to = join(dir, basename(f));
      copyFileSync(join(samples, f), to);
      return to;
    });
    files.sort();
    const expectedIds = files.flatMap((f) => evtxexportIds(f).map((id) => `${f}#${id}`));
    const got = await run([dir], undefined, expectedIds.length);
    expect(got.events.map((e) => `${e.file}#${e.recordId}`)).toEqual(expectedIds);
    expect(got.issues).toEqual([]);
    // The form of `palisade evtx dump --format jsonl`: the file, then the reader's event.
    const dumped: string[] = [];
    for (const file of files)
      for await (const event of readEvtx(file)) dumped.push(JSON.stringify({ file, ...event }));
    expect(got.events.map((e) => JSON.stringify(e))).toEqual(dumped);
    for (const [i, e] of got.events.entries()) {
      const back = eventFromJson(JSON.parse(JSON.stringify(e)), i);
      expect('event' in back && back.event.recordId).toBe(e.recordId);
    }
  });

  it('sends only the new records of a growing file', async () => {
    const full = readFileSync(join(samples, multiChunk));
    const file = join(dir, 'Security.evtx');
    writeFileSync(file, snapshot(full, 4));
    const before = evtxexportIds(file);
    const first = await run([file], undefined, before.length);
    expect(first.events.map((e) => e.recordId)).toEqual(before);
    // The log grows in place: the same file, now with all its chunks.
    writeFileSync(file, full);
    const after = evtxexportIds(file).filter((id) => !before.includes(id));
    expect(after.length).toBeGreaterThan(0);
    const second = await run([file], first.last, after.length);
    expect(second.events.map((e) => e.recordId)).toEqual(after);
    expect(second.issues).toEqual([]);
  });

  it('sends a wrapped circular log in record id order', async () => {
    const full = readFileSync(join(samples, multiChunk));
    const chunks = Array.from({ length: 10 }, (_, i) =>
      full.subarray(4096 + i * 65536, 4096 + (i + 1) * 65536),
    );
    // The newest chunks (5–9) were written over the start of the file, the oldest (0–4) after them.
    const wrapped = Buffer.concat([full.subarray(0, 4096), ...chunks.slice(5), ...chunks.slice(0, 5)]);
    const file = join(dir, 'Security.evtx');
    writeFileSync(file, wrapped);
    const ids = evtxexportIds(join(samples, multiChunk)).sort((a, b) => a - b);
    const got = await run([file], undefined, ids.length);
    expect(got.events.map((e) => e.recordId)).toEqual(ids);
  });

  it('reports a corrupt chunk as evtx/corrupt-file with file and offset, and reads the rest', async () => {
    const bytes = Buffer.from(readFileSync(join(samples, multiChunk)));
    const [lost0, lost1] = chunkRecordIds(bytes, 2);
    bytes.fill(0, 4096 + 2 * 65536, 4096 + 2 * 65536 + 8);
    const file = join(dir, 'corrupt.evtx');
    writeFileSync(file, bytes);
    const expected = evtxexportIds(join(samples, multiChunk)).filter((id) => id < lost0 || id > lost1);
    const got = await run([file], undefined, expected.length);
    expect(got.events.map((e) => e.recordId)).toEqual(expected);
    expect(got.issues.map((i) => [i.code, i.details])).toEqual([
      ['evtx/corrupt-file', { file, offset: 4096 + 2 * 65536 }],
    ]);
    expect(got.issues[0]?.message).toContain(
      `${file}: error: chunk 2, offset 0x21000: expected chunk magic ElfChnk`,
    );
  });

  it('reads a file replaced by another from its start, and says so', async () => {
    const file = join(dir, 'Security.evtx');
    copyFileSync(join(samples, multiChunk), file);
    const first = await run([file], undefined, evtxexportIds(file).length);
    copyFileSync(join(samples, dcLog), file);
    const ids = evtxexportIds(file);
    const second = await run([file], first.last, ids.length);
    expect(second.events.map((e) => e.recordId)).toEqual(ids);
    expect(second.issues.map((i) => i.code)).toEqual(['evtx/file-replaced']);
  });

  it('waits for a folder that is not there yet', async () => {
    const folder = join(dir, 'Archive');
    const ids = evtxexportIds(join(samples, dcLog));
    const got = await run([folder], undefined, 0);
    expect(got.events).toEqual([]);
    expect(got.issues.map((i) => i.code)).toEqual(expect.arrayContaining(['evtx/path-missing']));
    mkdirSync(folder);
    copyFileSync(join(samples, dcLog), join(folder, 'a.evtx'));
    const later = await run([folder], undefined, ids.length);
    expect(later.events.map((e) => e.recordId)).toEqual(ids);
  });
});
