// Installed packages of a Linux host → DeviceTvmSoftwareInventory rows. Debian-family hosts:
// the dpkg database file itself (/var/lib/dpkg/status, deb-control(5) stanzas, as dpkg-query
// reads it); RPM hosts: `rpm -qa` with the query format below. MDE names software in CPE style
// (lowercase, words joined by underscores); the vendor of a distribution package is its distributor.
import type { TableRow } from '@palisade/schema';

/** One installed package. */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture?: string;
  /** The distributor or vendor the package database names, when it names one. */
  readonly vendor?: string;
}

/** A stanza of the package database that could not be read; the rest is read. */
export interface PackageProblem {
  readonly code: 'linux-packages/bad-stanza' | 'linux-packages/bad-line';
  readonly message: string;
  /** Byte offset (dpkg status) or line number (rpm output) of the stanza or line. */
  readonly offset: number;
}

export interface PackageList {
  readonly packages: InstalledPackage[];
  readonly problems: PackageProblem[];
}

/**
 * Reads a dpkg status file: each stanza whose Status is `install|hold … installed` (the package
 * is unpacked and configured) is an installed package; removed packages that left their
 * configuration files behind, and half-installed ones, are not.
 */
export function parseDpkgStatus(text: string): PackageList {
  const packages: InstalledPackage[] = [];
  const problems: PackageProblem[] = [];
  let offset = 0;
  for (const stanza of text.split(/\n(?=\n)/)) {
    const body = stanza.replace(/^\n+/, '');
    const start = offset + stanza.length - body.length;
    offset += Buffer.byteLength(stanza) + 1;
    if (body.trim() === '') continue;
    const fields = new Map<string, string>();
    for (const line of body.split('\n')) {
      // continuation lines (descriptions, conffiles) start with a space or tab
      if (line === '' || line.startsWith(' ') || line.startsWith('\t')) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) {
        problems.push({
          code: 'linux-packages/bad-line',
          message: `expected "Field: value" in the dpkg status stanza at offset ${start}, found ${JSON.stringify(line.slice(0, 60))}`,
          offset: start,
        });
        continue;
      }
      fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const name = fields.get('Package');
    const status = fields.get('Status')?.split(/\s+/);
    if (!name || !status || status.length !== 3) {
      problems.push({
        code: 'linux-packages/bad-stanza',
        message: `expected Package and a three-word Status in the dpkg status stanza at offset ${start}, found ${name ? `Status ${JSON.stringify(fields.get('Status') ?? '')}` : 'no Package'}`,
        offset: start,
      });
      continue;
    }
    if (status[2] !== 'installed') continue;
    const version = fields.get('Version');
    if (!version) {
      problems.push({
        code: 'linux-packages/bad-stanza',
        message: `expected a Version for installed package ${name} in the dpkg status stanza at offset ${start}, found none`,
        offset: start,
      });
      continue;
    }
    const architecture = fields.get('Architecture');
    packages.push({ name, version, ...(architecture ? { architecture } : {}) });
  }
  return { packages, problems };
}

/** `rpm -qa --queryformat` giving name, version (with epoch when it has one), architecture and vendor. */
export const rpmQueryFormat =
  '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n';

/** Reads the output of `rpm -qa --queryformat rpmQueryFormat`. */
export function parseRpmQuery(text: string): PackageList {
  const packages: InstalledPackage[] = [];
  const problems: PackageProblem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const [name, version, architecture, vendor] = line.split('\t');
    if (!name || !version || architecture === undefined || vendor === undefined) {
      problems.push({
        code: 'linux-packages/bad-line',
        message: `expected name, version, architecture and vendor separated by tabs on rpm output line ${i + 1}, found ${JSON.stringify(line.slice(0, 60))}`,
        offset: i + 1,
      });
      return;
    }
    packages.push({
      name,
      version,
      ...(architecture && architecture !== '(none)' ? { architecture } : {}),
      ...(vendor && vendor !== '(none)' ? { vendor } : {}),
    });
  });
  return { packages, problems };
}

/** The distributor of each os-release ID, as a CPE vendor. */
const distributors: Readonly<Record<string, string>> = {
  debian: 'debian',
  ubuntu: 'canonical',
  rhel: 'redhat',
  centos: 'centos',
  fedora: 'fedoraproject',
  rocky: 'rocky',
  almalinux: 'almalinux',
  ol: 'oracle',
  amzn: 'amazon',
  sles: 'suse',
  'opensuse-leap': 'opensuse',
  'opensuse-tumbleweed': 'opensuse',
};

/** A name in CPE style: lowercase, runs of spaces and punctuation other than `.+-` as one `_`. */
export function cpeName(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/,?\s+(inc|llc|ltd|corp|corporation|gmbh)\.?$/, '')
    .replace(/[^a-z0-9.+-]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** What every software row of the host repeats. */
export interface SoftwareHost {
  readonly deviceName: string;
  readonly osVersion?: string;
  readonly osArchitecture?: string;
  /** os-release ID, for the vendor of packages whose database names none (dpkg). */
  readonly distributionId?: string;
}

/**
 * DeviceTvmSoftwareInventory rows, one per distinct name and version (multi-arch copies of a
 * package are one piece of software), in name order.
 */
export function softwareRows(packages: readonly InstalledPackage[], host: SoftwareHost): TableRow[] {
  const distributor =
    host.distributionId === undefined
      ? undefined
      : (distributors[host.distributionId] ?? cpeName(host.distributionId));
  const seen = new Map<string, TableRow>();
  for (const p of packages) {
    const name = cpeName(p.name);
    const key = `${name}\t${p.version}`;
    if (seen.has(key)) continue;
    const vendor = p.vendor ? cpeName(p.vendor) : distributor;
    seen.set(key, {
      table: 'DeviceTvmSoftwareInventory',
      values: {
        DeviceName: host.deviceName,
        OSPlatform: 'Linux',
        OSVersion: host.osVersion,
        OSArchitecture: host.osArchitecture,
        SoftwareVendor: vendor,
        SoftwareName: name,
        SoftwareVersion: p.version,
        ProductCodeCpe: 'not available',
      },
    });
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
