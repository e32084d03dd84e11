// The SigmaHQ rule corpus loads: every rule of rules/, rules-threat-hunting/ and
// rules-emerging-threats/ is read without a crash, every rejection has a diagnostic naming
// file, line and reason, and at least 99% load.
import { formatSigmaDiagnostic, loadSigmaPaths, windowsPipeline } from '@palisade/sigma';
import { describe, expect, it } from 'vitest';
import { compileRuleSet } from '../src/index.ts';
import { ruleFolders, sigmaCorpusMissing } from './sigmahq-corpus.ts';

const missing = sigmaCorpusMissing();
if (missing) console.log(`skipping SigmaHQ corpus load test: ${missing}`);

describe.skipIf(missing !== undefined)('SigmaHQ rule corpus', () => {
  it('loads at least 99% of the rules, and says why for each of the others', () => {
    const loaded = loadSigmaPaths(ruleFolders);
    const ruleSet = compileRuleSet(loaded.documents, windowsPipeline());
    const rejected = loaded.attempted - loaded.documents.length;
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
    console.log(
      `SigmaHQ rules: ${loaded.documents.length} loaded, ${rejected} rejected of ${loaded.attempted}; ` +
        `${ruleSet.stats.active} apply to the Windows pipeline's log sources`,
    );
    for (const d of errors) console.log(`  ${formatSigmaDiagnostic(d)}`);
    expect(loaded.attempted).toBeGreaterThan(3000);
    expect(errors).toHaveLength(rejected);
    for (const d of errors) {
      expect(d.file).toMatch(/\.yml$/);
      expect(d.line).toBeGreaterThan(0);
      expect(d.message.length).toBeGreaterThan(10);
    }
    expect(loaded.documents.length / loaded.attempted).toBeGreaterThanOrEqual(0.99);
  });
});
