// The sensor's configuration: built-in defaults for its type and platform < the sensor directory's
// config.json < the environment < flags, checked here and frozen. The instance's configuration
// (pulled over the channel) can switch sources off and sets delivery and heartbeat settings; what
// is specific to the host (paths, interfaces, the directory account) lives here. This is the only
// module of the sensor that reads the process environment.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SensorKind } from './host-facts.ts';

/** The sources a sensor can run: the instance's configuration uses the same names. */
export const sourceNames = [
  'evtx',
  'windowsEvents',
  'sambaAudit',
  'capture',
  'directorySync',
  'auditd',
  'inventory',
] as const;
export type SourceName = (typeof sourceNames)[number];

/** Per-source settings; a source runs when its section is present and `enabled` is not false. */
export interface SourceSettings {
  readonly evtx?: { readonly enabled?: boolean; readonly paths: readonly string[] };
  readonly windowsEvents?: { readonly enabled?: boolean; readonly channels: readonly string[] };
  readonly sambaAudit?: { readonly enabled?: boolean; readonly paths: readonly string[] };
  readonly capture?: {
    readonly enabled?: boolean;
    readonly interface: string;
    readonly filter?: string;
    readonly dcAddresses?: readonly string[];
    readonly snapLength?: number;
    /** The capture command before tcpdump's own arguments (e.g. inside a network namespace). */
    readonly command?: readonly string[];
  };
  readonly directorySync?: {
    readonly enabled?: boolean;
    /** `ldap://` or `ldaps://` URL of a domain controller. */
    readonly url: string;
    /** The directory service account (user principal name or DN). */
    readonly bindDn: string;
    /** A file holding the account's password (kept out of config.json). */
    readonly passwordFile: string;
    readonly baseDn?: string;
    readonly caFile?: string;
    /** The name the DC's certificate is checked against when `url` holds an address. */
    readonly tlsServerName?: string;
    readonly startTls?: boolean;
    readonly intervalSeconds?: number;
    /** Sensitive groups beyond the built-in ones, by name or SID. */
    readonly sensitiveGroups?: readonly string[];
  };
  readonly auditd?: { readonly enabled?: boolean; readonly path: string };
  readonly inventory?: { readonly enabled?: boolean; readonly intervalSeconds?: number };
}

export interface SensorConfig {
  /** The sensor's directory: credentials, buffer, checkpoints, status. */
  readonly dir: string;
  readonly sources: SourceSettings;
  readonly bufferCapacityBytes: number;
  readonly heartbeatIntervalMs: number;
  /** The longest wait between delivery retries while the server is away (default 60 s). */
  readonly retryMaxMs: number;
  /** Records a batch holds at most (a source's chunk); undefined: the instance's setting, else 1,000. */
  readonly batchMaxEvents: number | undefined;
}

/** The environment variables the sensor reads. */
export const sensorEnvironment = {
  dir: 'PALISADE_SENSOR_DIR',
  accessKey: 'PALISADE_ACCESS_KEY',
  proxy: 'HTTPS_PROXY',
  windowsDomain: 'USERDNSDOMAIN',
  /** Samba's configuration file, when it is not /etc/samba/smb.conf. */
  sambaConfig: 'PALISADE_SAMBA_CONFIG',
} as const;

export function defaultSensorDir(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'C:\\ProgramData\\Palisade\\Sensor' : '/var/lib/palisade-sensor';
}

/** What a sensor of each type runs when nothing is configured (the seed docs' defaults). */
export function defaultSources(
  kind: SensorKind,
  platform: NodeJS.Platform,
  sambaAuditPaths: readonly string[] = ['/var/log/samba/log.samba'],
): SourceSettings {
  if (platform === 'win32') {
    const channels =
      kind === 'domain-controller'
        ? ['Security', 'System', 'Directory Service', 'Microsoft-Windows-Sysmon/Operational']
        : ['Security', 'System', 'Microsoft-Windows-Sysmon/Operational'];
    return { windowsEvents: { channels } };
  }
  if (kind === 'domain-controller')
    return { sambaAudit: { paths: sambaAuditPaths }, capture: { interface: 'any' } };
  if (kind === 'standalone') return { capture: { interface: 'any' } };
  return { auditd: { path: '/var/log/audit/audit.log' }, inventory: {} };
}

export const configErrorCodes = ['config/unreadable', 'config/invalid'] as const;
export class SensorConfigError extends Error {
  override readonly name = 'SensorConfigError';
  constructor(
    readonly code: (typeof configErrorCodes)[number],
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The sensor directory: the flag, else the environment, else the platform's default. */
export function sensorDirOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env[sensorEnvironment.dir] ?? defaultSensorDir();
}

/** Environment values the sensor takes (only here is process.env read). */
export function sensorEnv(env: NodeJS.ProcessEnv = process.env): {
  accessKey?: string;
  proxy?: string;
  windowsDomain?: string;
  sambaConfig?: string;
} {
  const pick = (name: string) => {
    const value = env[name] ?? env[name.toLowerCase()];
    return value === undefined || value === '' ? undefined : value;
  };
  const accessKey = pick(sensorEnvironment.accessKey);
  const proxy = pick(sensorEnvironment.proxy);
  const windowsDomain = pick(sensorEnvironment.windowsDomain);
  const sambaConfig = pick(sensorEnvironment.sambaConfig);
  return {
    ...(sambaConfig ? { sambaConfig } : {}),
    ...(accessKey ? { accessKey } : {}),
    ...(proxy ? { proxy } : {}),
    ...(windowsDomain ? { windowsDomain } : {}),
  };
}

/**
 * Loads `config.json` from the sensor directory: its `sources`, when given, are the sources the
 * sensor runs; without them, the defaults of the sensor's type. A missing file means the defaults.
 */
export async function loadSensorConfig(
  dir: string,
  kind: SensorKind,
  host: {
    readonly platform?: NodeJS.Platform;
    /** The files smb.conf sends the JSON audit classes to (`sambaAuditFiles`). */
    readonly sambaAuditPaths?: readonly string[];
  } = {},
): Promise<SensorConfig> {
  const platform = host.platform ?? process.platform;
  const path = join(dir, 'config.json');
  let file: unknown = {};
  try {
    file = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SensorConfigError('config/unreadable', `${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  const problems = checkConfigFile(file);
  if (problems.length > 0) throw new SensorConfigError('config/invalid', `${path}: ${problems.join('; ')}`);
  const parsed = file as {
    sources?: SourceSettings;
    bufferMaxMegabytes?: number;
    heartbeatIntervalSeconds?: number;
    retryMaxSeconds?: number;
    batchMaxEvents?: number;
  };
  return Object.freeze({
    dir,
    sources: parsed.sources ?? defaultSources(kind, platform, host.sambaAuditPaths),
    bufferCapacityBytes: (parsed.bufferMaxMegabytes ?? 1_024) * 1_048_576,
    heartbeatIntervalMs: (parsed.heartbeatIntervalSeconds ?? 60) * 1000,
    retryMaxMs: (parsed.retryMaxSeconds ?? 60) * 1000,
    batchMaxEvents: parsed.batchMaxEvents,
  });
}

type Check = (value: unknown) => string | undefined;
const isString: Check = (v) => (typeof v === 'string' && v !== '' ? undefined : 'a non-empty string');
const isStrings: Check = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? undefined : 'a list of strings';
const isBoolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const isCount: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'a positive integer');

/** Each source section's members: required ones first, then `?` optional ones. */
const sourceShapes: Record<SourceName, Record<string, Check>> = {
  evtx: { paths: isStrings, 'enabled?': isBoolean },
  windowsEvents: { channels: isStrings, 'enabled?': isBoolean },
  sambaAudit: { paths: isStrings, 'enabled?': isBoolean },
  capture: {
    interface: isString,
    'enabled?': isBoolean,
    'filter?': isString,
    'dcAddresses?': isStrings,
    'snapLength?': isCount,
    'command?': isStrings,
  },
  directorySync: {
    url: isString,
    bindDn: isString,
    passwordFile: isString,
    'enabled?': isBoolean,
    'baseDn?': isString,
    'caFile?': isString,
    'tlsServerName?': isString,
    'startTls?': isBoolean,
    'intervalSeconds?': isCount,
    'sensitiveGroups?': isStrings,
  },
  auditd: { path: isString, 'enabled?': isBoolean },
  inventory: { 'enabled?': isBoolean, 'intervalSeconds?': isCount },
};

const topLevelCounts = [
  'bufferMaxMegabytes',
  'heartbeatIntervalSeconds',
  'retryMaxSeconds',
  'batchMaxEvents',
];

/** Problems of a config.json, each naming the member by its path. */
export function checkConfigFile(file: unknown): string[] {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) return ['expected a JSON object'];
  const problems: string[] = [];
  const top = file as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!topLevelCounts.includes(key) && key !== 'sources') problems.push(`unknown member ${key}`);
  }
  for (const key of topLevelCounts) {
    if (top[key] !== undefined && isCount(top[key])) problems.push(`${key}: expected a positive integer`);
  }
  const sources = top.sources;
  if (sources === undefined) return problems;
  if (typeof sources !== 'object' || sources === null || Array.isArray(sources))
    return [...problems, 'sources: expected an object'];
  for (const [name, section] of Object.entries(sources)) {
    const shape = sourceShapes[name as SourceName];
    if (!shape) {
      problems.push(`sources.${name}: unknown source (expected one of ${sourceNames.join(', ')})`);
      continue;
    }
    if (typeof section !== 'object' || section === null || Array.isArray(section)) {
      problems.push(`sources.${name}: expected an object`);
      continue;
    }
    const members = section as Record<string, unknown>;
    const known = new Set(Object.keys(shape).map((k) => k.replace(/\?$/, '')));
    for (const key of Object.keys(members))
      if (!known.has(key)) problems.push(`sources.${name}.${key}: unknown member`);
    for (const [spec, check] of Object.entries(shape)) {
      const optional = spec.endsWith('?');
      const key = spec.replace(/\?$/, '');
      if (members[key] === undefined) {
        if (!optional) problems.push(`sources.${name}.${key}: missing`);
        continue;
      }
      const expected = check(members[key]);
      if (expected) problems.push(`sources.${name}.${key}: expected ${expected}`);
    }
  }
  return problems;
}
