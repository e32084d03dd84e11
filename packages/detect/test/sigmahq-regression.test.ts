// SigmaHQ's own regression suite: for every info.yml under regression_data/, scanning its
// .evtx — and separately its .json — with every rule of rules/, rules-threat-hunting/ and
// rules-emerging-threats/ loaded must fire the named rule at least match_count times.
// Known failures, each with its reason, are listed in ./sigmahq-regression-failures.md.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSigmaPaths, windowsPipeline } from '@palisade/sigma';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileRuleSet, scanFiles } from '../src/index.ts';
import { ruleFolders, sigmaCorpusMissing, sigmaRoot } from './sigmahq-corpus.ts';

const missing = sigmaCorpusMissing();
if (missing) console.log(`skipping SigmaHQ regression suite: ${missing}`);

interface Case {
  readonly name: string;
  readonly ruleId: string;
  readonly file: string;
  readonly matchCount: number;
}

function findInfoFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) findInfoFiles(p, out);
    else if (e.name === 'info.yml') out.push(p);
  }
  return out.sort();
}

function knownFailures(): Set<string> {
  const text = readFileSync(join(import.meta.dirname, 'sigmahq-regression-failures.md'), 'utf8');
  return new Set([...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string));
}

describe.skipIf(missing !== undefined)('SigmaHQ regression suite', () => {
  const cases: Case[] = [];
  const withoutTests: string[] = [];
  if (!missing) {
    for (const info of findInfoFiles(join(sigmaRoot, 'regression_data'))) {
      const meta = parse(readFileSync(info, 'utf8')) as {
        rule_metadata: { id: string }[];
        regression_tests_info?: { path: string; match_count?: number }[];
      };
      const ruleId = meta.rule_metadata[0]?.id ?? '';
      if (!meta.regression_tests_info) withoutTests.push(info);
      for (const t of meta.regression_tests_info ?? []) {
        const evtx = join(sigmaRoot, t.path);
        for (const file of [evtx, evtx.replace(/\.evtx$/, '.json')]) {
          cases.push({
            name: file.slice(sigmaRoot.length + 1),
            ruleId,
            file,
            matchCount: t.match_count ?? 1,
          });
        }
      }
    }
  }

  it('loads every rule and runs every regression case', async () => {
    const loaded = loadSigmaPaths(ruleFolders);
    const ruleSet = compileRuleSet(loaded.documents, windowsPipeline());
    const expectedFailures = knownFailures();
    const failures: string[] = [];
    for (const c of cases) {
      const result = await scanFiles([c.file], ruleSet);
      const fired = result.alerts.filter((a) => a.ruleId === c.ruleId).length;
      if (fired < c.matchCount)
        failures.push(`${c.name}: rule ${c.ruleId} fired ${fired} times, expected at least ${c.matchCount}`);
    }
    const passed = cases.length - failures.length;
    console.log(
      `SigmaHQ regression suite: ${passed}/${cases.length} passed (${cases.length / 2} evtx + ${cases.length / 2} json); ` +
        `${withoutTests.length} info.yml without regression tests: ${withoutTests.map((f) => f.slice(sigmaRoot.length + 1)).join(', ')}`,
    );
    for (const f of failures) console.log(`  FAIL ${f}`);
    expect(cases.length).toBeGreaterThan(400);
    expect(failures.map((f) => f.split(':')[0])).toEqual([...expectedFailures]);
  });
});
