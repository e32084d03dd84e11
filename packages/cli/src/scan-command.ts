// `palisade scan`: loads Sigma rules and pipelines, scans the given files and prints the
// timeline and summary in the chosen format.
import { readFileSync, writeFileSync } from 'node:fs';
import {
  compileRuleSet,
  type IdentityEngineConfig,
  identityDetectors,
  type ScanFileProblem,
  scanFiles,
} from '@palisade/detect';
import {
  combinePipelines,
  formatSigmaDiagnostic,
  loadSigmaPaths,
  type Pipeline,
  type Placeholders,
  parsePipeline,
  type SigmaLevel,
  windowsPipeline,
} from '@palisade/sigma';
import { parse as parseYaml } from 'yaml';
import { ExitCode, type OptionValues, type ScanFormat } from './commands.ts';
import { loadIdentityConfig } from './identity-config.ts';
import type { Output } from './output.ts';
import { renderProgress, renderScan, renderSummary } from './scan-output.ts';

function strings(v: OptionValues[string]): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

function loadPlaceholders(file: string): Placeholders {
  const value = parseYaml(readFileSync(file, 'utf8')) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('expected a map of placeholder names to lists of values');
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(value)) out[k] = (Array.isArray(v) ? v : [v]).map(String);
  return out;
}

/** Runs a scan; returns the exit code. */
export async function runScan(paths: readonly string[], options: OptionValues, out: Output): Promise<number> {
  const ruleDirs = strings(options.rules);
  const identity = options['no-identity'] !== true;
  if (ruleDirs.length === 0 && !identity) {
    out.error('palisade scan: nothing to run: give Sigma rules with --rules DIR, or leave out --no-identity');
    return ExitCode.usage;
  }
  let identityConfig: IdentityEngineConfig = {};
  const identityFile = strings(options['identity-config'])[0];
  if (identityFile) {
    const config = loadIdentityConfig(identityFile, 'palisade scan', out);
    if (!config) return ExitCode.usage;
    identityConfig = config;
  }
  let placeholders: Placeholders = {};
  const placeholderFile = strings(options.placeholders)[0];
  if (placeholderFile) {
    try {
      placeholders = loadPlaceholders(placeholderFile);
    } catch (e) {
      out.error(`palisade scan: ${placeholderFile}: ${e instanceof Error ? e.message : String(e)}`);
      return ExitCode.usage;
    }
  }
  const pipelines: Pipeline[] = [windowsPipeline()];
  for (const file of strings(options.pipeline)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      out.error(`palisade scan: ${file}: ${e instanceof Error ? e.message : String(e)}`);
      return ExitCode.usage;
    }
    const { pipeline, diagnostics } = parsePipeline(text, file);
    for (const d of diagnostics) out.error(formatSigmaDiagnostic(d));
    if (!pipeline) return ExitCode.usage;
    pipelines.push(pipeline);
  }

  const started = performance.now();
  const loaded =
    ruleDirs.length > 0
      ? loadSigmaPaths(ruleDirs, { placeholders })
      : { documents: [], diagnostics: [], attempted: 0 };
  const ruleSet = compileRuleSet(loaded.documents, combinePipelines(...pipelines));
  for (const d of [...loaded.diagnostics, ...ruleSet.diagnostics]) out.error(formatSigmaDiagnostic(d));
  const rejected = loaded.diagnostics.filter((d) => d.severity === 'error').length;
  if (ruleDirs.length > 0) {
    out.error(
      `loaded ${loaded.documents.length} of ${loaded.attempted} rules in ${((performance.now() - started) / 1000).toFixed(2)} s (${rejected} rejected); ${ruleSet.stats.active} apply to the pipeline's log sources`,
    );
  }
  if (identity)
    out.error(
      `identity detectors: ${identityDetectors.length}${identityConfig.testMode ? ' (test mode)' : ''}`,
    );
  if (loaded.documents.length === 0 && !identity) {
    out.error('palisade scan: no rule could be loaded');
    return ExitCode.usage;
  }

  let inputErrors = false;
  const onProblem = (p: ScanFileProblem) => {
    if (p.severity === 'info') return;
    if (p.severity === 'error') inputErrors = true;
    clearProgress();
    out.error(p.message.startsWith(p.file) ? p.message : `${p.file}: ${p.severity}: ${p.message}`);
  };
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  let drawn = false;
  const clearProgress = () => {
    if (drawn) process.stderr.write('\r\x1b[2K');
    drawn = false;
  };
  const result = await scanFiles(paths, ruleSet, {
    ...(identity ? { identity: { detectors: identityDetectors, config: identityConfig } } : {}),
    minLevel: strings(options['min-level'])[0] as SigmaLevel,
    onProblem,
    ...(tty
      ? {
          onProgress: (p) => {
            const now = performance.now();
            if (now - lastDraw < 100 && p.filesDone < p.filesTotal) return;
            lastDraw = now;
            process.stderr.write(`\r\x1b[2K${renderProgress(p)}`);
            drawn = true;
          },
        }
      : {}),
  });
  clearProgress();

  const format = strings(options.format)[0] as ScanFormat;
  const { text, summaryInline } = renderScan(result.alerts, result.summary, format);
  const outputFile = strings(options.output)[0];
  if (outputFile) {
    try {
      writeFileSync(outputFile, text);
    } catch (e) {
      out.error(`palisade scan: cannot write ${outputFile}: ${e instanceof Error ? e.message : String(e)}`);
      return ExitCode.inputErrors;
    }
  } else await out.write(text);
  if (!summaryInline || outputFile) out.error(renderSummary(result.summary).trimEnd());
  return inputErrors ? ExitCode.inputErrors : ExitCode.ok;
}
