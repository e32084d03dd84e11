// The identity-detection configuration file, checked: sensitive groups and accounts,
// honeytokens, domain controllers, threshold levels, test mode and exclusions. Every problem
// names the key at fault.
import { type ThresholdLevel, thresholdLevels } from './detector.ts';
import type { Exclusions, IdentityEngineConfig } from './engine.ts';

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

const listKeys = [
  'sensitiveGroups',
  'sensitiveAccounts',
  'honeytokenAccounts',
  'honeytokenDevices',
  'domainControllers',
  'dnsServers',
  'disabled',
] as const;
const knownKeys = new Set<string>([...listKeys, 'levels', 'testMode', 'exclusions', 'detectorExclusions']);

/** Reads a parsed configuration object; returns the config or the problems, each naming its key. */
export function parseIdentityConfig(
  value: unknown,
  detectorIds: readonly string[],
): { config?: IdentityEngineConfig; problems: string[] } {
  const problems: string[] = [];
  if (value === null || value === undefined) return { config: {}, problems };
  if (!isPlain(value)) return { problems: ['the identity configuration must be a map'] };
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    if (!knownKeys.has(key)) problems.push(`unknown key '${key}' (known: ${[...knownKeys].join(', ')})`);
  for (const key of listKeys) {
    const list = strings(value[key], key, problems);
    if (list) config[key] = list;
  }
  for (const id of (config.disabled as string[] | undefined) ?? []) {
    if (!detectorIds.includes(id)) problems.push(`disabled: no detector '${id}'`);
  }
  if (value.testMode !== undefined) {
    if (typeof value.testMode !== 'boolean') problems.push(`testMode must be true or false`);
    else config.testMode = value.testMode;
  }
  if (value.levels !== undefined) {
    if (!isPlain(value.levels)) problems.push('levels must map detector ids to high, medium or low');
    else {
      const levels: Record<string, ThresholdLevel> = {};
      for (const [id, level] of Object.entries(value.levels)) {
        if (!detectorIds.includes(id)) problems.push(`levels: no detector '${id}'`);
        else if (!(thresholdLevels as readonly unknown[]).includes(level))
          problems.push(`levels.${id} must be high, medium or low`);
        else levels[id] = level as ThresholdLevel;
      }
      config.levels = levels;
    }
  }
  const exclusions = readExclusions(value.exclusions, 'exclusions', problems);
  if (exclusions) config.exclusions = exclusions;
  if (value.detectorExclusions !== undefined) {
    if (!isPlain(value.detectorExclusions))
      problems.push('detectorExclusions must map detector ids to exclusions');
    else {
      const per: Record<string, Exclusions> = {};
      for (const [id, ex] of Object.entries(value.detectorExclusions)) {
        if (!detectorIds.includes(id)) problems.push(`detectorExclusions: no detector '${id}'`);
        const read = readExclusions(ex, `detectorExclusions.${id}`, problems);
        if (read) per[id] = read;
      }
      config.detectorExclusions = per;
    }
  }
  return problems.length > 0 ? { problems } : { config: config as IdentityEngineConfig, problems };
}

function strings(v: unknown, key: string, problems: string[]): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  problems.push(`${key} must be a list of strings`);
  return undefined;
}

function readExclusions(v: unknown, key: string, problems: string[]): Exclusions | undefined {
  if (v === undefined) return undefined;
  if (!isPlain(v)) {
    problems.push(`${key} must be a map with accounts, devices and ips`);
    return undefined;
  }
  const out: { accounts?: string[]; devices?: string[]; ips?: string[] } = {};
  for (const k of Object.keys(v))
    if (!['accounts', 'devices', 'ips'].includes(k)) problems.push(`${key}: unknown key '${k}'`);
  for (const k of ['accounts', 'devices', 'ips'] as const) {
    const list = strings(v[k], `${key}.${k}`, problems);
    if (list) out[k] = list;
  }
  for (const ip of out.ips ?? []) {
    if (!/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(ip) && !ip.includes(':'))
      problems.push(`${key}.ips: '${ip}' is not an IP address or IPv4 range`);
  }
  return out;
}
