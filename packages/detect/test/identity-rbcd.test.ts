// 2423 RBCD set by a machine account: msDS-AllowedToActOnBehalfOfOtherIdentity added by a
// computer account alerts; set by a user, or removed, it does not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { rbcdDetector } from '../src/identity/rbcd-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([rbcdDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const rbcd = (seconds: number, actor: string, target: string, operation = 'ValueAdded') =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Directory attribute changed',
      AccountName: actor,
      AccountDomain: 'CORP',
      DeviceName: 'DC01',
      IPAddress: '10.0.0.7',
    },
    {
      EventId: 5136,
      ObjectDN: `CN=${target},CN=Computers,DC=corp,DC=local`,
      ObjectClass: 'computer',
      AttributeLDAPDisplayName: 'msDS-AllowedToActOnBehalfOfOtherIdentity',
      AttributeValue: 'O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;S-1-5-21-1-2-3-4242)',
      OperationType: operation,
    },
  );

describe('RBCD modified by a machine account (2423)', () => {
  it('alerts when a computer account writes RBCD, on another object or its own (relayed)', () => {
    const alerts = run([rbcd(0, 'WS07$', 'SRV01'), rbcd(1, 'WS07$', 'SRV01'), rbcd(2, 'WS08$', 'WS08')]);
    expect(alerts.map((a) => [a.externalId, a.title, a.description, a.entities, a.targets])).toEqual([
      [
        2423,
        'Suspicious modification of the Resource Based Constrained Delegation attribute by a machine account',
        'The machine account CORP\\WS07$ set resource-based constrained delegation on SRV01',
        { accounts: ['CORP\\WS07$'], devices: [], ips: ['10.0.0.7'] },
        { devices: ['SRV01', 'DC01'] },
      ],
      [
        2423,
        'Suspicious modification of the Resource Based Constrained Delegation attribute by a machine account',
        'The machine account CORP\\WS08$ set resource-based constrained delegation on WS08 (its own object: a relayed machine account)',
        { accounts: ['CORP\\WS08$'], devices: [], ips: ['10.0.0.7'] },
        { devices: ['WS08', 'DC01'] },
      ],
    ]);
  });

  it('stays quiet when a user sets it or a machine account removes it', () => {
    expect(run([rbcd(0, 'admin', 'SRV01'), rbcd(1, 'WS07$', 'SRV01', 'ValueDeleted')])).toEqual([]);
  });

  it('does not alert for an excluded machine account', () => {
    expect(
      run([rbcd(0, 'WS07$', 'SRV01')], {
        detectorExclusions: { 'identity/rbcd-by-machine': { accounts: ['WS07$'] } },
      }),
    ).toEqual([]);
  });
});
