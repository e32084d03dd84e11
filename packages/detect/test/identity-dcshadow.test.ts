// 2028 and 2029 DCShadow: registering a computer as a DC (server/nTDSDSA objects under Sites, DC
// SPNs) and replication requests (synchronize, manage topology) from an account that is not a
// DC alert; the same by a known DC does not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { dcShadowPromotionDetector, dcShadowReplicationDetector } from '../src/identity/dcshadow-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([dcShadowPromotionDetector, dcShadowReplicationDetector], {
    domainControllers: ['DC01', 'DC02'],
    ...config,
  });
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const by = (account: string) => ({
  AccountName: account,
  AccountDomain: 'CORP',
  DeviceName: 'DC01',
  IPAddress: '10.0.0.66',
});
const SITES = 'CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=local';

const created = (seconds: number, account: string, dn: string, objectClass: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Directory object created', ...by(account) },
    {
      EventId: 5137,
      ObjectDN: dn,
      ObjectClass: objectClass,
    },
  );

const spnAdded = (seconds: number, account: string, computer: string, spn: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Directory attribute changed', ...by(account) },
    {
      EventId: 5136,
      ObjectDN: `CN=${computer},CN=Computers,DC=corp,DC=local`,
      ObjectClass: 'computer',
      AttributeLDAPDisplayName: 'servicePrincipalName',
      AttributeValue: spn,
      OperationType: 'ValueAdded',
    },
  );

const access = (seconds: number, account: string, guids: string[]) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Directory object access', ...by(account) },
    {
      EventId: 4662,
      ObjectType: '19195a5b-6da0-11d0-afd3-00c04fd930c9',
      Guids: guids,
    },
  );

const SYNC = '1131f6ab-9c07-11d1-f79f-00c04fc2dcd2';
const TOPOLOGY = '1131f6ac-9c07-11d1-f79f-00c04fc2dcd2';
const brief = (a: Alert) => [a.externalId, a.title, a.description, a.entities, a.targets];

describe('DCShadow: domain controller promotion (2028)', () => {
  it('alerts once per computer on a server object, its NTDS Settings and its DC SPNs', () => {
    const alerts = run([
      created(0, 'Administrator', `CN=WS07,${SITES}`, 'server'),
      created(1, 'Administrator', `CN=NTDS Settings,CN=WS07,${SITES}`, 'nTDSDSA'),
      spnAdded(2, 'Administrator', 'WS07', 'E3514235-4B06-11D1-AB04-00C04FC2DCD2/6f3b/corp.local'),
      spnAdded(3, 'Administrator', 'WS08', 'GC/ws08.corp.local/corp.local'),
    ]);
    expect(alerts.map(brief)).toEqual([
      [
        2028,
        'Suspected DCShadow attack (domain controller promotion)',
        `CORP\\Administrator registered WS07 as a domain controller (created CN=WS07,${SITES}); it is not a known domain controller`,
        { accounts: ['CORP\\Administrator'], devices: ['WS07'], ips: ['10.0.0.66'] },
        { devices: ['DC01'] },
      ],
      [
        2028,
        'Suspected DCShadow attack (domain controller promotion)',
        'CORP\\Administrator registered WS08 as a domain controller (added the SPN GC/ws08.corp.local/corp.local); it is not a known domain controller',
        { accounts: ['CORP\\Administrator'], devices: ['WS08'], ips: ['10.0.0.66'] },
        { devices: ['DC01'] },
      ],
    ]);
  });

  it('reads the SPNs a 4742 lists', () => {
    const changed = row(
      'IdentityDirectoryEvents',
      0,
      {
        ActionType: 'Directory attribute changed',
        ...by('Administrator'),
        TargetAccountDisplayName: 'ALICE$',
      },
      {
        EventId: 4742,
        ServicePrincipalNames:
          '\r\n\t\tHOST/ALICE\r\n\t\tE3514235-4B06-11D1-AB04-00C04FC2DCD2/ae9a/corp.local',
      },
    );
    expect(run([changed]).map((a) => a.description)).toEqual([
      'CORP\\Administrator registered ALICE$ as a domain controller (gave it the SPN E3514235-4B06-11D1-AB04-00C04FC2DCD2/ae9a/corp.local); it is not a known domain controller',
    ]);
  });

  it('stays quiet for known domain controllers and other objects or SPNs', () => {
    expect(
      run([
        created(0, 'DC02$', `CN=DC02,${SITES}`, 'server'),
        spnAdded(1, 'DC02$', 'DC02', 'GC/dc02.corp.local/corp.local'),
        spnAdded(2, 'Administrator', 'WS07', 'HOST/ws07.corp.local'),
        created(3, 'Administrator', 'CN=WS07,OU=Servers,DC=corp,DC=local', 'server'),
      ]),
    ).toEqual([]);
  });

  it('does not alert for an excluded account', () => {
    const rows = [created(0, 'Administrator', `CN=WS07,${SITES}`, 'server')];
    expect(
      run(rows, { detectorExclusions: { 'identity/dcshadow-promotion': { accounts: ['administrator'] } } }),
    ).toEqual([]);
  });
});

describe('DCShadow: replication request (2029)', () => {
  it('alerts once on synchronize or manage-topology rights used by an account that is not a DC', () => {
    const alerts = run([
      access(0, 'Administrator', [TOPOLOGY]),
      access(1, 'Administrator', [SYNC, TOPOLOGY]),
    ]);
    expect(alerts.map(brief)).toEqual([
      [
        2029,
        'Suspected DCShadow attack (domain controller replication request)',
        'CORP\\Administrator used DS-Replication-Manage-Topology against DC01, and is not a domain controller',
        { accounts: ['CORP\\Administrator'], devices: [], ips: ['10.0.0.66'] },
        { devices: ['DC01'] },
      ],
    ]);
  });

  it("stays quiet for a DC's machine account and for other rights", () => {
    expect(
      run([access(0, 'DC02$', [SYNC]), access(1, 'alice', ['bf967a86-0de6-11d0-a285-00aa003049e2'])]),
    ).toEqual([]);
  });

  it('does not alert for an excluded source address', () => {
    expect(run([access(0, 'Administrator', [SYNC])], { exclusions: { ips: ['10.0.0.66'] } })).toEqual([]);
  });
});
