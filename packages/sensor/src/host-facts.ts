// What a sensor says about its host when it registers, and which sensor it is: a domain
// controller (Windows with the NTDS service, or Samba with `server role = active directory domain
// controller`), a standalone capture sensor (only when asked), or an endpoint.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { arch, hostname, release, type } from 'node:os';

/** The sensor types, as the instance records them (`@palisade/store`'s sensorTypes). */
export const sensorKinds = ['domain-controller', 'standalone', 'endpoint'] as const;
export type SensorKind = (typeof sensorKinds)[number];

/** How a sensor type reads to an administrator. */
export const sensorKindTitles: Record<SensorKind, string> = {
  'domain-controller': 'domain controller sensor',
  standalone: 'standalone sensor',
  endpoint: 'endpoint sensor',
};

export interface HostFacts {
  readonly name: string;
  readonly os: string;
  readonly osVersion: string;
  readonly architecture: string;
  /** The directory's DNS domain, when the host knows it (Samba realm, Windows domain). */
  readonly domain?: string;
  /** Why the host is a domain controller (or undefined when it is not one). */
  readonly domainController?: { readonly kind: 'windows' | 'samba'; readonly evidence: string };
}

/** Runs a command and resolves with its stdout, or undefined when it fails or does not exist. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string | undefined>;

export const runCommand: CommandRunner = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: 10_000, windowsHide: true }, (error, stdout) =>
      resolve(error ? undefined : stdout),
    );
  });

export interface HostProbe {
  readonly platform: NodeJS.Platform;
  readonly run: CommandRunner;
  readonly readText: (path: string) => Promise<string | undefined>;
  /** Samba's configuration file. */
  readonly sambaConfig: string;
  /** Windows' USERDNSDOMAIN, when set. */
  readonly windowsDomain?: string | undefined;
}

export const defaultSambaConfig = '/etc/samba/smb.conf';

export function hostProbe(overrides: Partial<HostProbe> = {}): HostProbe {
  return {
    platform: process.platform,
    run: runCommand,
    readText: (path) => readFile(path, 'utf8').catch(() => undefined),
    sambaConfig: defaultSambaConfig,
    ...overrides,
  };
}

/** Looks at the host: name, OS, domain and whether it is a domain controller. */
export async function readHostFacts(probe: HostProbe = hostProbe()): Promise<HostFacts> {
  const name = hostname().split('.')[0] ?? hostname();
  if (probe.platform === 'win32') {
    const ntds = await probe.run('sc.exe', ['query', 'NTDS']);
    const isDc = ntds !== undefined && /SERVICE_NAME:\s*NTDS/i.test(ntds);
    return {
      name,
      os: 'Windows',
      osVersion: release(),
      architecture: arch(),
      ...(probe.windowsDomain ? { domain: probe.windowsDomain.toLowerCase() } : {}),
      ...(isDc ? { domainController: { kind: 'windows', evidence: 'the NTDS service is installed' } } : {}),
    };
  }
  const osRelease = parseOsRelease((await probe.readText('/etc/os-release')) ?? '');
  const smb = parseSambaGlobals((await probe.readText(probe.sambaConfig)) ?? '');
  const role = smb.get('server role');
  const isDc = role !== undefined && sambaDcRoles.has(role.toLowerCase());
  const realm = smb.get('realm');
  return {
    name,
    os: osRelease.get('PRETTY_NAME') ?? type(),
    osVersion: osRelease.get('VERSION_ID') ?? release(),
    architecture: arch(),
    ...(realm ? { domain: realm.toLowerCase() } : {}),
    ...(isDc
      ? {
          domainController: {
            kind: 'samba',
            evidence: `${probe.sambaConfig} says server role = ${role}`,
          },
        }
      : {}),
  };
}

/** The type a sensor registers as: a DC is a DC sensor; otherwise what was asked, or endpoint. */
export function sensorKindOf(facts: HostFacts, asked?: SensorKind): SensorKind {
  if (facts.domainController) return 'domain-controller';
  return asked === 'standalone' ? 'standalone' : 'endpoint';
}

// Samba's loadparm names for the AD DC role (smb.conf(5), "server role").
const sambaDcRoles = new Set(['active directory domain controller', 'domain controller', 'dc']);

/** The `[global]` parameters of an smb.conf, names lower-cased with spaces collapsed. */
export function parseSambaGlobals(text: string): Map<string, string> {
  const globals = new Map<string, string>();
  let section = 'global';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = (header[1] ?? '').trim().toLowerCase();
      continue;
    }
    if (section !== 'global') continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase().replace(/\s+/g, ' ');
    globals.set(key, line.slice(eq + 1).trim());
  }
  return globals;
}

function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) values.set(match[1], (match[2] ?? '').replace(/^"(.*)"$/, '$1'));
  }
  return values;
}
