// The configuration of `palisade up`: defaults < environment < flags, checked and frozen here and
// passed explicitly from then on. This is the only module that reads the process environment.
import { isIP } from 'node:net';
import { resolve } from 'node:path';

/** Where the instance listens. */
export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

/** What `palisade up` runs with. */
export interface UpConfig {
  /** Absolute path of the data directory (`./palisade-data` by default). */
  readonly dataDir: string;
  /** The directory's DNS domain, needed on the first run only. */
  readonly domain: string | undefined;
  readonly listen: ListenAddress;
  /** The first administrator's password (`PALISADE_ADMIN_PASSWORD`); generated when absent. */
  readonly adminPassword: string | undefined;
  /** Encrypts the instance's private keys at rest (`PALISADE_KEY_PASSPHRASE`). */
  readonly keyPassphrase: string | undefined;
  /** DuckDB's memory limit (`PALISADE_DUCKDB_MEMORY_LIMIT`, default 1GB); hunting queries run within it. */
  readonly duckDbMemoryLimit: string;
  /** How long a hunting query may run (`PALISADE_HUNTING_TIMEOUT` in seconds, default 600). */
  readonly huntingTimeoutMs: number;
}

/** The flags `palisade up` takes, as the CLI parsed them. */
export interface UpFlags {
  readonly data?: string | undefined;
  readonly domain?: string | undefined;
  readonly listen?: string | undefined;
}

export const defaultDataDir = 'palisade-data';
export const defaultListen: ListenAddress = { host: '127.0.0.1', port: 8443 };

/** The environment variables `palisade up` reads. */
export const upEnvironment = {
  adminPassword: 'PALISADE_ADMIN_PASSWORD',
  keyPassphrase: 'PALISADE_KEY_PASSPHRASE',
  duckDbMemoryLimit: 'PALISADE_DUCKDB_MEMORY_LIMIT',
  huntingTimeout: 'PALISADE_HUNTING_TIMEOUT',
} as const;

/** What `palisade hunt` reads from the environment. */
export interface HuntConfig {
  /** DuckDB's memory limit for an instance directory opened read-only (`PALISADE_DUCKDB_MEMORY_LIMIT`). */
  readonly duckDbMemoryLimit: string;
  /** An API client's secret for `--server` (`PALISADE_CLIENT_SECRET`), kept out of the process list. */
  readonly clientSecret: string | undefined;
}

export const huntEnvironment = { clientSecret: 'PALISADE_CLIENT_SECRET' } as const;

/** `palisade hunt`'s settings from the environment. */
export function readHuntConfig(env: Readonly<Record<string, string | undefined>> = process.env): HuntConfig {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  return Object.freeze({
    duckDbMemoryLimit: value(upEnvironment.duckDbMemoryLimit) ?? '1GB',
    clientSecret: value(huntEnvironment.clientSecret),
  });
}

// RFC 1123 labels; at least two of them (a directory's DNS domain, `contoso.local`).
const domainPattern =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Why a domain name is refused, or undefined when it is a DNS domain of two labels or more. */
export function checkDomain(domain: string): string | undefined {
  return domainPattern.test(domain)
    ? undefined
    : `expected a DNS domain such as contoso.local, found ${JSON.stringify(domain)}`;
}

/** `HOST:PORT`, `[v6]:PORT` or `PORT`; undefined with a reason when it is none of them. */
export function parseListen(text: string): { value?: ListenAddress; problem?: string } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  const host = match?.[1] || match?.[2] || defaultListen.host;
  if (!match || port > 65_535)
    return { problem: `expected --listen HOST:PORT (e.g. 127.0.0.1:8443), found ${JSON.stringify(text)}` };
  if (isIP(host) === 0 && host !== 'localhost') {
    return { problem: `expected an IP address or localhost to listen on, found ${JSON.stringify(host)}` };
  }
  return { value: { host, port } };
}

/**
 * The configuration from flags and environment, or every problem found. Relative paths are
 * resolved against `cwd`.
 */
export function readUpConfig(
  flags: UpFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): { readonly config?: UpConfig; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const domain = flags.domain?.trim().toLowerCase();
  if (domain !== undefined) {
    const problem = checkDomain(domain);
    if (problem) problems.push(`--domain: ${problem}`);
  }
  let listen = defaultListen;
  if (flags.listen !== undefined) {
    const parsed = parseListen(flags.listen);
    if (parsed.value) listen = parsed.value;
    else problems.push(`--listen: ${parsed.problem}`);
  }
  const nonEmpty = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const memory = nonEmpty(upEnvironment.duckDbMemoryLimit) ?? '1GB';
  if (!/^\d+(?:\.\d+)?\s*(?:[KMGT]i?B|B)$/i.test(memory)) {
    problems.push(`${upEnvironment.duckDbMemoryLimit}: expected a size such as 1GB, found ${memory}`);
  }
  const timeout = nonEmpty(upEnvironment.huntingTimeout) ?? '600';
  if (!/^\d+$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 86_400) {
    problems.push(`${upEnvironment.huntingTimeout}: expected seconds from 1 to 86400, found ${timeout}`);
  }
  if (problems.length > 0) return { problems };
  return {
    config: Object.freeze({
      dataDir: resolve(cwd, flags.data ?? defaultDataDir),
      domain,
      listen,
      adminPassword: nonEmpty(upEnvironment.adminPassword),
      keyPassphrase: nonEmpty(upEnvironment.keyPassphrase),
      duckDbMemoryLimit: memory,
      huntingTimeoutMs: Number(timeout) * 1000,
    }),
    problems,
  };
}
