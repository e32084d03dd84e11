// Host facts of a Linux machine → DeviceInfo and DeviceNetworkInfo rows. Facts come from
// os-release(5), uname, the host name, the DMI identity under /sys, and `ip -j addr` / `ip -j route`
// (iproute2's JSON), falling back to Node's interface list where `ip` is missing. Pure: the facts
// are read elsewhere (linux-inventory.ts) and passed in.
import type { TableRow } from '@palisade/schema';
import { ipType } from './linux-ip-type.ts';

/** os-release(5): `KEY=value` lines, values optionally in single or double quotes with `\` escapes. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let value = m[2] as string;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\`$])/g, '$1');
    }
    out.set(m[1] as string, value);
  }
  return out;
}

/** OSDistribution as MDE names Linux distributions, by os-release ID. */
const distributionNames: Readonly<Record<string, string>> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  rhel: 'RedHat',
  centos: 'CentOS',
  fedora: 'Fedora',
  rocky: 'Rocky',
  almalinux: 'AlmaLinux',
  ol: 'OracleLinux',
  amzn: 'AmazonLinux',
  sles: 'SLES',
  'opensuse-leap': 'openSUSE',
  'opensuse-tumbleweed': 'openSUSE',
};

/** Kernel machine names (`uname -m`) of 32-bit architectures; others are 64-bit. */
const machines32 = /^(i[3-6]86|armv[5-7].*|arm|mips|mipsel|ppc|s390)$/;

/** What DeviceInfo is made from. */
export interface HostFacts {
  readonly deviceName: string;
  readonly osRelease: ReadonlyMap<string, string>;
  /** `uname -r`, `uname -v`, `uname -m`. */
  readonly kernelRelease?: string;
  readonly kernelVersion?: string;
  readonly machine?: string;
  /** /sys/class/dmi/id: sys_vendor and product_name. */
  readonly vendor?: string;
  readonly model?: string;
  /** The sensor's version (ClientVersion). */
  readonly clientVersion?: string;
}

/** MDE's OSArchitecture for a kernel machine name: `64-bit` or `32-bit`. */
export function osArchitecture(machine: string | undefined): string | undefined {
  if (!machine) return undefined;
  return machines32.test(machine) ? '32-bit' : '64-bit';
}

/** The OS columns shared by DeviceInfo and the software rows. */
export function osColumns(facts: Pick<HostFacts, 'osRelease' | 'machine'>): {
  OSDistribution?: string;
  OSVersion?: string;
  OSArchitecture?: string;
} {
  const id = facts.osRelease.get('ID');
  const name = facts.osRelease.get('NAME');
  const distribution = id === undefined ? name : (distributionNames[id] ?? name ?? id);
  const version = facts.osRelease.get('VERSION_ID');
  const architecture = osArchitecture(facts.machine);
  return {
    ...(distribution ? { OSDistribution: distribution } : {}),
    ...(version ? { OSVersion: version } : {}),
    ...(architecture ? { OSArchitecture: architecture } : {}),
  };
}

/** The DeviceInfo row of a snapshot (Timestamp is set when it is sent). */
export function deviceInfoRow(facts: HostFacts): TableRow {
  const extra: Record<string, string> = {};
  if (facts.kernelRelease) extra.KernelRelease = facts.kernelRelease;
  if (facts.kernelVersion) extra.KernelVersion = facts.kernelVersion;
  if (facts.machine) extra.Machine = facts.machine;
  const pretty = facts.osRelease.get('PRETTY_NAME');
  if (pretty) extra.OSPrettyName = pretty;
  return {
    table: 'DeviceInfo',
    values: {
      DeviceName: facts.deviceName,
      OSPlatform: 'Linux',
      ...osColumns(facts),
      OSVersionInfo: facts.osRelease.get('VERSION'),
      ClientVersion: facts.clientVersion,
      DeviceCategory: 'Endpoint',
      OnboardingStatus: 'Onboarded',
      Vendor: facts.vendor,
      Model: facts.model,
      AdditionalFields: Object.keys(extra).length > 0 ? JSON.stringify(extra) : undefined,
    },
  };
}

/** One interface as `ip -j addr` describes it (the fields used). */
export interface IpLink {
  readonly ifname: string;
  readonly flags?: readonly string[];
  readonly operstate?: string;
  readonly link_type?: string;
  readonly address?: string;
  readonly addr_info?: readonly {
    readonly family?: string;
    readonly local?: string;
    readonly prefixlen?: number;
  }[];
}

/** One route of `ip -j route show default`. */
export interface IpRoute {
  readonly dst?: string;
  readonly gateway?: string;
  readonly dev?: string;
}

/** .NET NetworkInterfaceType names by iproute2 link type. */
const adapterTypes: Readonly<Record<string, string>> = {
  ether: 'Ethernet',
  loopback: 'Loopback',
  ppp: 'Ppp',
  none: 'Tunnel',
  ipip: 'Tunnel',
  sit: 'Tunnel',
  gre: 'Tunnel',
  gre6: 'Tunnel',
  tunnel6: 'Tunnel',
};

/** Tunnel kinds MDE names, by iproute2 link type. */
const tunnelTypes: Readonly<Record<string, string>> = { sit: '6to4', ipip: 'IpIp', gre: 'Gre', gre6: 'Gre' };

/** .NET OperationalStatus names by operstate (RFC 2863 ifOperStatus, as Linux reports it). */
const adapterStatuses: Readonly<Record<string, string>> = {
  UP: 'Up',
  DOWN: 'Down',
  DORMANT: 'Dormant',
  LOWERLAYERDOWN: 'LowerLayerDown',
  NOTPRESENT: 'NotPresent',
  TESTING: 'Testing',
  UNKNOWN: 'Unknown',
};

/** What the network rows are made from besides the interfaces. */
export interface NetworkFacts {
  readonly deviceName: string;
  readonly links: readonly IpLink[];
  readonly routes?: readonly IpRoute[];
  /** Name servers of resolv.conf, which apply to every adapter but loopback. */
  readonly dnsAddresses?: readonly string[];
}

/** DeviceNetworkInfo rows, one per interface (Timestamp is set when they are sent). */
export function networkInfoRows(facts: NetworkFacts): TableRow[] {
  return facts.links.map((link) => {
    const type = adapterTypes[link.link_type ?? ''] ?? 'Unknown';
    // loopback and some virtual links report operstate UNKNOWN while carrying traffic
    const status =
      link.operstate === 'UNKNOWN' && link.flags?.includes('UP') && link.flags.includes('LOWER_UP')
        ? 'Up'
        : (adapterStatuses[link.operstate ?? ''] ?? 'Unknown');
    const addresses = (link.addr_info ?? [])
      .filter((a) => (a.family === 'inet' || a.family === 'inet6') && a.local)
      .map((a) => ({
        IPAddress: a.local as string,
        SubnetPrefix: a.prefixlen,
        AddressType: ipType(a.local as string),
      }));
    const gateways = (facts.routes ?? [])
      .filter((r) => r.dev === link.ifname && r.gateway)
      .map((r) => r.gateway);
    const loopback = type === 'Loopback';
    const tunnel = tunnelTypes[link.link_type ?? ''];
    return {
      table: 'DeviceNetworkInfo',
      values: {
        DeviceName: facts.deviceName,
        NetworkAdapterName: link.ifname,
        MacAddress: link.link_type === 'ether' ? link.address : undefined,
        NetworkAdapterType: type,
        NetworkAdapterStatus: status,
        TunnelType: tunnel,
        IPAddresses: JSON.stringify(addresses),
        DefaultGateways: gateways.length > 0 ? JSON.stringify(gateways) : undefined,
        DnsAddresses:
          !loopback && facts.dnsAddresses?.length ? JSON.stringify(facts.dnsAddresses) : undefined,
      },
    };
  });
}

/** Node's `os.networkInterfaces()` entries, for hosts without `ip`. */
export interface NodeInterfaceAddress {
  readonly address: string;
  readonly family: string | number;
  readonly mac: string;
  readonly internal: boolean;
  readonly cidr: string | null;
}

/**
 * Interfaces from Node's list as `ip -j addr` would give them. Only interfaces with an address
 * are listed there, and their state is not: status is left Unknown.
 */
export function linksFromNode(
  interfaces: Readonly<Record<string, readonly NodeInterfaceAddress[] | undefined>>,
): IpLink[] {
  return Object.entries(interfaces).map(([ifname, addresses = []]) => {
    const internal = addresses.some((a) => a.internal);
    return {
      ifname,
      link_type: internal ? 'loopback' : 'ether',
      ...(addresses[0] ? { address: addresses[0].mac } : {}),
      addr_info: addresses.map((a) => ({
        family: a.family === 'IPv6' || a.family === 6 ? 'inet6' : 'inet',
        local: a.address,
        ...(a.cidr ? { prefixlen: Number(a.cidr.split('/')[1]) } : {}),
      })),
    };
  });
}

/** resolv.conf(5) name servers. */
export function parseResolvConf(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((a): a is string => a !== undefined);
}
