// Network-mapping reconnaissance over DNS (2007): zone transfers asked by a machine that is not a
// DNS server. First on a real capture (BIND 9 and dig in two namespaces, see
// packages/schema/fixtures/network-dns/README.md: frame 30 is an allowed AXFR of corp.lab.test,
// frame 40 a refused AXFR of other.lab.test, frame 50 an IXFR, all from 10.98.0.30, which
// registered itself as ws01.corp.lab.test in frame 25), then on hand-written rows for the
// learning period, configured DNS servers, domain controllers and exclusions.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  compileRuleSet,
  IdentityEngine,
  type IdentityEngineConfig,
  identityDetectors,
  scanFiles,
} from '../src/index.ts';
import { row } from './identity-rows.ts';

const pcap = fileURLToPath(new URL('../../schema/fixtures/network-dns/dns.pcap', import.meta.url));
const detectors = identityDetectors.filter((d) => d.meta.externalId === 2007);

async function scan(config: IdentityEngineConfig) {
  const { alerts } = await scanFiles([pcap], compileRuleSet([], { name: 'none', entries: [] }), {
    identity: { detectors: identityDetectors, config },
  });
  return alerts;
}

describe('DNS reconnaissance (2007) on a real capture', () => {
  it('raises one alert for the first zone transfer, naming the device, its address and the zone', async () => {
    const alerts = await scan({ testMode: true });
    expect(alerts.map((a) => [a.externalId, a.entities?.ips, a.entities?.devices, a.description])).toEqual([
      [
        2007,
        ['10.98.0.30'],
        ['ws01.corp.lab.test'],
        'ws01.corp.lab.test (10.98.0.30) asked dc1.corp.lab.test for a zone transfer (AXFR) of corp.lab.test',
      ],
    ]);
    expect(alerts[0]?.events[0]).toMatchObject({ recordId: 30 });
  });

  it('stays silent when the source is a configured DNS server or excluded, and at High while learning', async () => {
    expect(await scan({ testMode: true, dnsServers: ['10.98.0.30'] })).toEqual([]);
    expect(await scan({ testMode: true, dnsServers: ['ws01.corp.lab.test'] })).toEqual([]);
    expect(await scan({ testMode: true, exclusions: { ips: ['10.98.0.30'] } })).toEqual([]);
    expect(await scan({})).toEqual([]);
  });
});

const DAY = 86_400;
const dns = (seconds: number, type: string, ip = '10.0.0.66') =>
  row(
    'IdentityQueryEvents',
    seconds,
    {
      ActionType: 'DNS query',
      Protocol: 'Dns',
      QueryType: type,
      QueryTarget: 'corp.local',
      IPAddress: ip,
      DestinationIPAddress: '10.0.0.10',
    },
    { Source: 'network', Transport: 'tcp' },
  );

function alerts(config: IdentityEngineConfig, rows: ReturnType<typeof dns>[]) {
  const engine = new IdentityEngine(detectors, config);
  return rows.flatMap(([r, e]) => engine.push(r, e)).map((a) => [a.entities?.ips, a.description]);
}

describe('DNS reconnaissance (2007) rules', () => {
  it('ignores ordinary record types and alerts on AXFR and IXFR, once a day per source', () => {
    const medium = { levels: { 'identity/dns-recon': 'medium' as const } };
    expect(
      alerts(medium, [
        dns(0, 'SRV'),
        dns(1, 'TXT'),
        dns(2, 'ANY'),
        dns(3, 'IXFR'),
        dns(4, 'AXFR'),
        dns(5, 'AXFR', '10.0.0.77'),
        dns(DAY + 10, 'AXFR'),
      ]),
    ).toEqual([
      [['10.0.0.66'], '10.0.0.66 asked 10.0.0.10 for a zone transfer (IXFR) of corp.local'],
      [['10.0.0.77'], '10.0.0.77 asked 10.0.0.10 for a zone transfer (AXFR) of corp.local'],
      [['10.0.0.66'], '10.0.0.66 asked 10.0.0.10 for a zone transfer (AXFR) of corp.local'],
    ]);
  });

  it('at High, learns the sources that transfer zones in the first 8 days as secondaries', () => {
    expect(
      alerts({}, [
        dns(0, 'SRV', '10.0.0.1'),
        dns(DAY, 'AXFR', '10.0.0.53'),
        dns(9 * DAY, 'AXFR', '10.0.0.53'),
        dns(9 * DAY + 1, 'AXFR', '10.0.0.66'),
      ]),
    ).toEqual([[['10.0.0.66'], '10.0.0.66 asked 10.0.0.10 for a zone transfer (AXFR) of corp.local']]);
  });

  it('never alerts on a domain controller, learned from the Kerberos traffic it answers', () => {
    const dcAsClient = row(
      'IdentityLogonEvents',
      0,
      {
        ActionType: 'LogonSuccess',
        Protocol: 'Kerberos',
        LogonType: 'Credentials Validation',
        AccountName: 'alice',
        IPAddress: '10.0.0.20',
        DestinationIPAddress: '10.0.0.11',
      },
      { Source: 'network', KerberosRequest: 'AS' },
    );
    const engine = new IdentityEngine(detectors, { testMode: true });
    engine.push(...dcAsClient);
    expect(engine.push(...dns(5, 'AXFR', '10.0.0.11'))).toEqual([]);
    expect(engine.push(...dns(6, 'AXFR', '10.0.0.66'))).toHaveLength(1);
  });
});
