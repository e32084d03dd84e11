// The EVTX files source against the shared source behaviour, on a folder of real files from
// ../shared/corpus/evtx-attack-samples; records are file#record id, expected from `evtxexport`.
// Skips with a printed reason when ../shared or evtxexport is absent.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { SourceChunk } from '../src/source.ts';
import { type EvtxFilesCheckpoint, evtxFilesSource } from '../src/sources/evtx-files-source.ts';
import { describeSource } from './source.suite.ts';

const samples = resolve(import.meta.dirname, '../../../../shared/corpus/evtx-attack-samples');
const skip = !existsSync(samples)
  ? `EVTX-ATTACK-SAMPLES not found at ${samples}`
  : (() => {
      try {
        execFileSync('evtxexport', ['-V'], { stdio: 'ignore' });
        return undefined;
      } catch {
        return 'evtxexport (libevtx-utils) is not installed';
      }
    })();
if (skip) console.log(`skipping evtx-files-source conformance: ${skip}`);

/** `file#id` for each record of a file, ids as evtxexport reads them (record header "Event number"). */
function recordsOf(file: string): string[] {
  const text = execFileSync('evtxexport', [file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return [...text.matchAll(/^Event number\s*:\s*(\d+)$/gm)].map((m) => `${file}#${m[1]}`);
}

describeSource<EvtxFilesCheckpoint>(
  'evtxFilesSource',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evtx-suite-'));
    const copy = (name: string, as: string) => {
      const to = join(dir, as);
      copyFileSync(join(samples, name), to);
      return to;
    };
    const first = copy(
      'Privilege Escalation/samaccount_spoofing_CVE-2021-42287_CVE-2021-42278_DC_securitylogs.evtx',
      'a.evtx',
    );
    const second = copy('Execution/rogue_msi_url_1040_1042.evtx', 'b.evtx');
    return {
      source: evtxFilesSource({ paths: [dir], pollIntervalMs: 20, maxChunkRecords: 60 }),
      identities: (chunk: SourceChunk<EvtxFilesCheckpoint>) =>
        (chunk.events as { file: string; recordId: number }[]).map((e) => `${e.file}#${e.recordId}`),
      expected: [...recordsOf(first), ...recordsOf(second)],
      append: async () =>
        recordsOf(copy('Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx', `c-${basename(dir)}.evtx`)),
      settleMs: 200,
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  skip,
);
