// User and IP address reconnaissance (SMB) (2012) from packets: NetrSessionEnum by rpcclient,
// netview.py and Impacket in a real capture against a Samba DC (share enumeration in the same
// capture is not session enumeration); hand-written rows for domain controllers, exclusions and
// the hourly repeat.
import { describe, expect, it } from 'vitest';
import { IdentityEngine, identityDetectors } from '../src/index.ts';
import { row } from './identity-rows.ts';
import { scanRpcFixtures } from './identity-rpc-fixtures.ts';

const enumeration = (seconds: number, ip = '10.0.0.66', target = '10.0.0.5') =>
  row(
    'IdentityQueryEvents',
    seconds,
    {
      ActionType: 'SMB session enumeration',
      Protocol: 'Srvs',
      QueryType: 'EnumerateSessions',
      IPAddress: ip,
      DestinationIPAddress: target,
      AccountName: 'mallory',
      AccountDomain: 'CORP',
    },
    { Source: 'network', Method: 'NetrSessionEnum', Level: 10 },
  );

function alerts(
  config: ConstructorParameters<typeof IdentityEngine>[1],
  rows: ReturnType<typeof enumeration>[],
) {
  const engine = new IdentityEngine(
    identityDetectors.filter((d) => d.meta.externalId === 2012),
    config,
  );
  return rows.flatMap(([r, e]) => engine.push(r, e)).map((a) => a.description);
}

describe('User and IP address reconnaissance (SMB) (2012)', () => {
  it('alerts once per source and DC on the capture’s four session enumerations', async () => {
    const found = await scanRpcFixtures(['srvsvc-session-enum.pcap'], [2012]);
    expect(
      found.map((a) => [a.externalId, a.level, a.entities?.ips, a.entities?.accounts, a.description]),
    ).toEqual([
      [
        2012,
        'medium',
        ['10.99.0.20'],
        ['CORP\\alice'],
        '10.99.0.20 (as CORP\\alice) enumerated the SMB sessions of 10.99.0.10 (NetrSessionEnum level 1)',
      ],
    ]);
  });

  it('reads NetrSessionEnum in NDR64', async () => {
    const found = await scanRpcFixtures(['ndr64.pcap'], [2012]);
    expect(found.map((a) => a.description)).toEqual([
      '10.99.0.20 (as CORP\\administrator) enumerated the SMB sessions of 10.99.0.10 (NetrSessionEnum level 10, only client \\\\10.99.0.20 and user alice)',
    ]);
  });

  it('names the filters, and alerts again after an hour or for another DC', () => {
    const [r, e] = enumeration(0);
    const filtered = {
      ...(r.values.AdditionalFields as object),
      Level: 502,
      ClientName: '\\\\10.0.0.66',
      UserName: 'alice',
    };
    expect(
      alerts({}, [
        [{ ...r, values: { ...r.values, AdditionalFields: filtered } }, e],
        enumeration(60),
        enumeration(120, '10.0.0.66', '10.0.0.6'),
        enumeration(3601),
      ]),
    ).toEqual([
      '10.0.0.66 (as CORP\\mallory) enumerated the SMB sessions of 10.0.0.5 (NetrSessionEnum level 502, only client \\\\10.0.0.66 and user alice)',
      '10.0.0.66 (as CORP\\mallory) enumerated the SMB sessions of 10.0.0.6 (NetrSessionEnum level 10)',
      '10.0.0.66 (as CORP\\mallory) enumerated the SMB sessions of 10.0.0.5 (NetrSessionEnum level 10)',
    ]);
  });

  it('is silent for domain controllers and excluded sources', () => {
    expect(alerts({ domainControllers: ['10.0.0.66'] }, [enumeration(0)])).toEqual([]);
    expect(alerts({ exclusions: { ips: ['10.0.0.66'] } }, [enumeration(0)])).toEqual([]);
  });
});
