// Checks the synthetic-file builder against libevtx's evtxinfo, which verifies every checksum:
// the corruption tests rely on the builder writing valid headers and CRCs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evtxexportMissing } from './corpus.ts';
import { sampleFile } from './samples.ts';

const missing = evtxexportMissing();
if (missing && process.env.CI) throw new Error(`builder check cannot run in CI: ${missing}`);

/** What evtxinfo (same package as evtxexport) says about a file: record count and corruption. */
function evtxinfo(bytes: Uint8Array): { records: string; corrupted: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-builder-'));
  try {
    const path = join(dir, 'sample.evtx');
    writeFileSync(path, bytes);
    const out = spawnSync('evtxinfo', [path], { encoding: 'utf8' }).stdout;
    return {
      records: /Number of records\s*:\s*(\d+)/.exec(out)?.[1] ?? '?',
      corrupted: out.includes('Is corrupted'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(missing !== undefined)('evtx-builder output', () => {
  it('is a valid file to evtxinfo: five records, every checksum right', () => {
    expect(evtxinfo(sampleFile())).toEqual({ records: '5', corrupted: false });
  });

  // Each flip must be noticed, so the check above is not one evtxinfo passes anyway.
  it.each([
    ['file header checksum', 124],
    ['chunk header checksum', 4096 + 124],
    ['event records checksum', 4096 + 52],
  ])('evtxinfo notices a wrong %s', (_name, offset) => {
    const file = sampleFile();
    file[offset] = (file[offset] as number) ^ 1;
    expect(evtxinfo(file).corrupted).toBe(true);
  });
});
