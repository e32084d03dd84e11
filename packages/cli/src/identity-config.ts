// The identity detectors' configuration file (`--identity-config FILE`), read the same way by
// every command that runs them: YAML, checked key by key, each problem naming the file.
import { readFileSync } from 'node:fs';
import { type IdentityEngineConfig, identityDetectors, parseIdentityConfig } from '@palisade/detect';
import { parse as parseYaml } from 'yaml';
import type { Output } from './output.ts';

/**
 * The configuration in `file`, or undefined after writing each problem to `out` as
 * `COMMAND: FILE: problem`.
 */
export function loadIdentityConfig(
  file: string,
  command: string,
  out: Output,
): IdentityEngineConfig | undefined {
  let value: unknown;
  try {
    value = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    out.error(`${command}: ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  const { config, problems } = parseIdentityConfig(
    value,
    identityDetectors.map((d) => d.meta.id),
  );
  for (const p of problems) out.error(`${command}: ${file}: ${p}`);
  return config;
}
