// The Linux endpoint's periodic snapshot sources: host facts (DeviceInfo, DeviceNetworkInfo) and
// installed software (DeviceTvmSoftwareInventory). Each takes a snapshot every interval and sends
// it only when it differs from the last one sent; the checkpoint is the snapshot's digest, so an
// unchanged host sends nothing new after a restart. Files and commands go through a probe that
// tests replace with fixtures.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname, machine, networkInterfaces, release, version } from 'node:os';
import { columnsOf, type TableRow } from '@palisade/schema';
import { chunkLimits, type Source, type SourceChunk, type SourceContext } from '../source.ts';
import {
  deviceInfoRow,
  type IpLink,
  type IpRoute,
  linksFromNode,
  type NodeInterfaceAddress,
  networkInfoRows,
  osColumns,
  parseOsRelease,
  parseResolvConf,
} from './linux-host.ts';
import {
  type InstalledPackage,
  parseDpkgStatus,
  parseRpmQuery,
  rpmQueryFormat,
  softwareRows,
} from './linux-packages.ts';

/** Runs a command and resolves with its stdout, or undefined when it fails or does not exist. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string | undefined>;

/** Everything the snapshots read from the host. */
export interface LinuxProbe {
  /** A file's text, or undefined when it cannot be read. */
  readFile(path: string): Promise<string | undefined>;
  run: CommandRunner;
  hostname(): string;
  uname(): { readonly release: string; readonly version: string; readonly machine: string };
  networkInterfaces(): Readonly<Record<string, readonly NodeInterfaceAddress[] | undefined>>;
}

/** Where the facts are on a Linux host. */
export interface LinuxPaths {
  /** os-release(5) candidates, the first readable one wins. */
  readonly osRelease: readonly string[];
  readonly dpkgStatus: string;
  readonly resolvConf: string;
  readonly dmiVendor: string;
  readonly dmiProduct: string;
}

export const linuxPaths: LinuxPaths = {
  osRelease: ['/etc/os-release', '/usr/lib/os-release'],
  dpkgStatus: '/var/lib/dpkg/status',
  resolvConf: '/etc/resolv.conf',
  dmiVendor: '/sys/class/dmi/id/sys_vendor',
  dmiProduct: '/sys/class/dmi/id/product_name',
};

/** The host itself. */
export function linuxProbe(): LinuxProbe {
  return {
    readFile: (path) => readFile(path, 'utf8').catch(() => undefined),
    run: (file, args) =>
      new Promise((resolve) => {
        execFile(file, [...args], { timeout: 30_000, maxBuffer: 256 * 1024 * 1024 }, (error, stdout) =>
          resolve(error ? undefined : stdout),
        );
      }),
    hostname,
    uname: () => ({ release: release(), version: version(), machine: machine() }),
    networkInterfaces,
  };
}

/** A snapshot source's checkpoint: the digest of the last snapshot it handed over ('' before the first). */
export type InventoryCheckpoint = { readonly digest: string };

export interface InventoryOptions {
  /** How often to take a snapshot; default one hour (MDE reports device state hourly). */
  readonly intervalMs?: number;
  readonly probe?: LinuxProbe;
  readonly paths?: LinuxPaths;
  /** ClientVersion of DeviceInfo. */
  readonly clientVersion?: string;
  readonly now?: () => Date;
}

/** Health issue codes of the inventory sources. */
export const inventoryHealthCodes = {
  osRelease: 'linux-inventory/os-release-unreadable',
  noPackages: 'linux-inventory/no-package-database',
  packageProblems: 'linux-inventory/package-database-problems',
} as const;

async function readOsRelease(probe: LinuxProbe, paths: LinuxPaths, context: SourceContext) {
  for (const path of paths.osRelease) {
    const text = await probe.readFile(path);
    if (text !== undefined) {
      context.clearHealth(inventoryHealthCodes.osRelease);
      return parseOsRelease(text);
    }
  }
  context.health({
    code: inventoryHealthCodes.osRelease,
    message: `no os-release file could be read (${paths.osRelease.join(', ')}); OS columns are left empty`,
  });
  return new Map<string, string>();
}

const trimmed = (text: string | undefined) => (text?.trim() ? text.trim() : undefined);

/** DeviceInfo and DeviceNetworkInfo rows of the host now (without Timestamp). */
export async function readHostSnapshot(
  probe: LinuxProbe,
  paths: LinuxPaths,
  context: SourceContext,
  clientVersion?: string,
): Promise<TableRow[]> {
  const uname = probe.uname();
  const osRelease = await readOsRelease(probe, paths, context);
  const vendor = trimmed(await probe.readFile(paths.dmiVendor));
  const model = trimmed(await probe.readFile(paths.dmiProduct));
  const info = deviceInfoRow({
    deviceName: context.deviceName,
    osRelease,
    kernelRelease: uname.release,
    kernelVersion: uname.version,
    machine: uname.machine,
    ...(vendor ? { vendor } : {}),
    ...(model ? { model } : {}),
    ...(clientVersion ? { clientVersion } : {}),
  });
  const links =
    parseJson<IpLink[]>(await probe.run('ip', ['-j', 'addr', 'show'])) ??
    linksFromNode(probe.networkInterfaces());
  const routes = [
    ...(parseJson<IpRoute[]>(await probe.run('ip', ['-j', 'route', 'show', 'default'])) ?? []),
    ...(parseJson<IpRoute[]>(await probe.run('ip', ['-j', '-6', 'route', 'show', 'default'])) ?? []),
  ];
  const resolv = await probe.readFile(paths.resolvConf);
  const network = networkInfoRows({
    deviceName: context.deviceName,
    links,
    routes,
    ...(resolv === undefined ? {} : { dnsAddresses: parseResolvConf(resolv) }),
  });
  return [info, ...network];
}

/** DeviceTvmSoftwareInventory rows of the host now; undefined when no package database answers. */
export async function readSoftwareSnapshot(
  probe: LinuxProbe,
  paths: LinuxPaths,
  context: SourceContext,
): Promise<TableRow[] | undefined> {
  const osRelease = await readOsRelease(probe, paths, context);
  const packages: InstalledPackage[] = [];
  const problems: string[] = [];
  let answered = false;
  const dpkg = await probe.readFile(paths.dpkgStatus);
  if (dpkg !== undefined) {
    answered = true;
    const list = parseDpkgStatus(dpkg);
    packages.push(...list.packages);
    problems.push(...list.problems.map((p) => `${paths.dpkgStatus}: ${p.message}`));
  }
  const rpm = await probe.run('rpm', ['-qa', '--queryformat', rpmQueryFormat]);
  if (rpm !== undefined) {
    answered = true;
    const list = parseRpmQuery(rpm);
    packages.push(...list.packages);
    problems.push(...list.problems.map((p) => `rpm -qa: ${p.message}`));
  }
  if (!answered) {
    context.health({
      code: inventoryHealthCodes.noPackages,
      message: `neither ${paths.dpkgStatus} nor \`rpm -qa\` could be read; installed software is not reported`,
    });
    return undefined;
  }
  context.clearHealth(inventoryHealthCodes.noPackages);
  if (problems.length > 0) {
    context.health({
      code: inventoryHealthCodes.packageProblems,
      message: `${problems.length} package database entries could not be read and were skipped; the first: ${problems[0]}`,
      details: { count: problems.length },
    });
  } else {
    context.clearHealth(inventoryHealthCodes.packageProblems);
  }
  const os = osColumns({ osRelease, machine: probe.uname().machine });
  const id = osRelease.get('ID');
  return softwareRows(packages, {
    deviceName: context.deviceName,
    ...(os.OSVersion ? { osVersion: os.OSVersion } : {}),
    ...(os.OSArchitecture ? { osArchitecture: os.OSArchitecture } : {}),
    ...(id ? { distributionId: id } : {}),
  });
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    // `ip` without JSON support (very old iproute2) prints text: use the fallback
    return undefined;
  }
}

/** The digest of a snapshot: what decides whether it is sent again. */
export function snapshotDigest(rows: readonly TableRow[]): string {
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}

/**
 * A source that takes a snapshot every interval and hands it over when its digest changed. A
 * snapshot larger than a chunk goes in several chunks; only the last one carries the new digest,
 * so a sensor stopped halfway sends the whole snapshot again.
 */
function snapshotSource(
  id: string,
  options: InventoryOptions,
  take: (context: SourceContext) => Promise<TableRow[] | undefined>,
): Source<InventoryCheckpoint> {
  const intervalMs = options.intervalMs ?? 3_600_000;
  const now = options.now ?? (() => new Date());
  return {
    id,
    async *run(from, context): AsyncIterable<SourceChunk<InventoryCheckpoint>> {
      let digest = from?.digest ?? '';
      while (!context.signal.aborted) {
        const rows = await take(context);
        if (rows && !context.signal.aborted) {
          const next = snapshotDigest(rows);
          if (next !== digest) {
            const timestamp = now().toISOString();
            const stamped = rows.map((r) =>
              columnsOf(r.table).has('Timestamp')
                ? { table: r.table, values: { Timestamp: timestamp, ...r.values } }
                : r,
            );
            const size = chunkLimits.maxChunkRecords;
            for (let i = 0; i < Math.max(stamped.length, 1); i += size) {
              const last = i + size >= stamped.length;
              yield {
                rows: stamped.slice(i, i + size),
                events: [],
                checkpoint: { digest: last ? next : digest },
              };
            }
            digest = next;
          }
        }
        await sleep(intervalMs, context.signal);
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The host facts source: DeviceInfo and DeviceNetworkInfo.
 *
 * @example
 * const source = linuxHostSource({ clientVersion: '0.1.0' });
 */
export function linuxHostSource(options: InventoryOptions = {}): Source<InventoryCheckpoint> {
  const probe = options.probe ?? linuxProbe();
  const paths = options.paths ?? linuxPaths;
  return snapshotSource('linux-host', options, (context) =>
    readHostSnapshot(probe, paths, context, options.clientVersion),
  );
}

/** The installed software source: DeviceTvmSoftwareInventory from dpkg and rpm. */
export function linuxSoftwareSource(options: InventoryOptions = {}): Source<InventoryCheckpoint> {
  const probe = options.probe ?? linuxProbe();
  const paths = options.paths ?? linuxPaths;
  return snapshotSource('linux-software', options, (context) => readSoftwareSnapshot(probe, paths, context));
}
