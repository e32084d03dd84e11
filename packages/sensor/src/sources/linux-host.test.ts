import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  deviceInfoRow,
  type IpLink,
  linksFromNode,
  networkInfoRows,
  osArchitecture,
  parseOsRelease,
  parseResolvConf,
} from './linux-host.ts';

const fixtures = join(import.meta.dirname, '../../fixtures/linux-inventory');
const read = (name: string) => readFileSync(join(fixtures, name), 'utf8');

describe('parseOsRelease', () => {
  it('reads plain, double- and single-quoted values', () => {
    const m = parseOsRelease(
      'ID=debian\nNAME="Debian \\"GNU\\"/Linux"\nVARIANT=\'Lab edition\'\n# comment\n',
    );
    expect(Object.fromEntries(m)).toEqual({
      ID: 'debian',
      NAME: 'Debian "GNU"/Linux',
      VARIANT: 'Lab edition',
    });
  });
});

describe('deviceInfoRow', () => {
  it('fills the OS columns as MDE names them', () => {
    const row = deviceInfoRow({
      deviceName: 'lab',
      osRelease: parseOsRelease(read('os-release')),
      kernelRelease: '6.1.0-18-amd64',
      kernelVersion: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1',
      machine: 'x86_64',
      vendor: 'Lab Hardware',
      model: 'Virtual Machine',
      clientVersion: '0.1.0',
    });
    expect(row).toEqual({
      table: 'DeviceInfo',
      values: {
        DeviceName: 'lab',
        OSPlatform: 'Linux',
        OSDistribution: 'Debian',
        OSVersion: '12',
        OSArchitecture: '64-bit',
        OSVersionInfo: '12 (bookworm)',
        ClientVersion: '0.1.0',
        DeviceCategory: 'Endpoint',
        OnboardingStatus: 'Onboarded',
        Vendor: 'Lab Hardware',
        Model: 'Virtual Machine',
        AdditionalFields: JSON.stringify({
          KernelRelease: '6.1.0-18-amd64',
          KernelVersion: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1',
          Machine: 'x86_64',
          OSPrettyName: 'Debian GNU/Linux 12 (bookworm)',
        }),
      },
    });
  });

  it('says 32-bit for 32-bit kernels', () => {
    expect(['x86_64', 'aarch64', 'i686', 'armv7l', undefined].map(osArchitecture)).toEqual([
      '64-bit',
      '64-bit',
      '32-bit',
      '32-bit',
      undefined,
    ]);
  });
});

describe('networkInfoRows', () => {
  it('makes one row per interface from `ip -j addr`, with gateways and name servers', () => {
    const rows = networkInfoRows({
      deviceName: 'lab',
      links: JSON.parse(read('ip-addr.json')) as IpLink[],
      routes: [...JSON.parse(read('ip-route.json')), ...JSON.parse(read('ip-route6.json'))],
      dnsAddresses: parseResolvConf(read('resolv.conf')),
    });
    expect(rows.map((r) => r.values)).toEqual([
      {
        DeviceName: 'lab',
        NetworkAdapterName: 'lo',
        NetworkAdapterType: 'Loopback',
        NetworkAdapterStatus: 'Up',
        IPAddresses: JSON.stringify([
          { IPAddress: '127.0.0.1', SubnetPrefix: 8, AddressType: 'Loopback' },
          { IPAddress: '::1', SubnetPrefix: 128, AddressType: 'Loopback' },
        ]),
      },
      {
        DeviceName: 'lab',
        NetworkAdapterName: 'ifb0',
        MacAddress: '3a:70:d6:72:52:72',
        NetworkAdapterType: 'Ethernet',
        NetworkAdapterStatus: 'Down',
        IPAddresses: '[]',
        DnsAddresses: '["10.255.255.53","fd00::53"]',
      },
      {
        DeviceName: 'lab',
        NetworkAdapterName: 'ifb1',
        MacAddress: 'ea:b6:6c:20:c2:53',
        NetworkAdapterType: 'Ethernet',
        NetworkAdapterStatus: 'Down',
        IPAddresses: '[]',
        DnsAddresses: '["10.255.255.53","fd00::53"]',
      },
      {
        DeviceName: 'lab',
        NetworkAdapterName: 'eth0',
        MacAddress: '02:fc:00:00:00:01',
        NetworkAdapterType: 'Ethernet',
        NetworkAdapterStatus: 'Up',
        IPAddresses: JSON.stringify([
          { IPAddress: '192.0.2.2', SubnetPrefix: 24, AddressType: 'Reserved' },
          { IPAddress: 'fd00::2', SubnetPrefix: 64, AddressType: 'Private' },
          { IPAddress: 'fe80::fc:ff:fe00:1', SubnetPrefix: 64, AddressType: 'Reserved' },
        ]),
        DefaultGateways: '["192.0.2.1","fd00::1"]',
        DnsAddresses: '["10.255.255.53","fd00::53"]',
      },
      {
        DeviceName: 'lab',
        NetworkAdapterName: 'dls19750a',
        MacAddress: '16:7e:2f:b9:25:5a',
        NetworkAdapterType: 'Ethernet',
        NetworkAdapterStatus: 'Up',
        IPAddresses: JSON.stringify([
          { IPAddress: '10.200.145.20', SubnetPrefix: 24, AddressType: 'Private' },
        ]),
        DnsAddresses: '["10.255.255.53","fd00::53"]',
      },
    ]);
  });

  it('reads Node interface lists the same way when `ip` is missing', () => {
    const links = linksFromNode({
      lo: [
        {
          address: '127.0.0.1',
          family: 'IPv4',
          mac: '00:00:00:00:00:00',
          internal: true,
          cidr: '127.0.0.1/8',
        },
      ],
      eth0: [
        {
          address: '10.0.0.5',
          family: 'IPv4',
          mac: '02:00:00:00:00:05',
          internal: false,
          cidr: '10.0.0.5/24',
        },
        { address: 'fe80::5', family: 6, mac: '02:00:00:00:00:05', internal: false, cidr: 'fe80::5/64' },
      ],
    });
    expect(networkInfoRows({ deviceName: 'lab', links }).map((r) => r.values)).toEqual([
      {
        DeviceName: 'lab',
        NetworkAdapterName: 'lo',
        NetworkAdapterType: 'Loopback',
        NetworkAdapterStatus: 'Unknown',
        IPAddresses: JSON.stringify([{ IPAddress: '127.0.0.1', SubnetPrefix: 8, AddressType: 'Loopback' }]),
      },
      {
        DeviceName: 'lab',
        NetworkAdapterName: 'eth0',
        MacAddress: '02:00:00:00:00:05',
        NetworkAdapterType: 'Ethernet',
        NetworkAdapterStatus: 'Unknown',
        IPAddresses: JSON.stringify([
          { IPAddress: '10.0.0.5', SubnetPrefix: 24, AddressType: 'Private' },
          { IPAddress: 'fe80::5', SubnetPrefix: 64, AddressType: 'Reserved' },
        ]),
      },
    ]);
  });
});
