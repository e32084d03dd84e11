// 2431 shadow credentials: a key credential added to another account's msDS-KeyCredentialLink
// alerts, naming target and actor; a computer writing its own key does not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { shadowCredentialsDetector } from '../src/identity/shadow-credentials-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([shadowCredentialsDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const keyAdded = (seconds: number, actor: string, dn: string, operation = 'ValueAdded') =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Directory attribute changed',
      AccountName: actor,
      AccountDomain: 'CORP',
      DeviceName: 'DC01',
    },
    {
      EventId: 5136,
      ObjectDN: dn,
      ObjectClass: dn.includes('Computers') ? 'computer' : 'user',
      AttributeLDAPDisplayName: 'msDS-KeyCredentialLink',
      AttributeValue: 'B:828:0002000020000142…:CN=Target,CN=Users,DC=corp,DC=local',
      OperationType: operation,
    },
  );

describe('shadow credentials (2431)', () => {
  it("alerts once when an account adds a key to another account's object", () => {
    const alerts = run([
      keyAdded(0, 'mallory', 'CN=DC01,OU=Domain Controllers,DC=corp,DC=local'),
      keyAdded(1, 'mallory', 'CN=DC01,OU=Domain Controllers,DC=corp,DC=local'),
    ]);
    expect(
      alerts.map((a) => [a.externalId, a.title, a.level, a.description, a.entities?.accounts, a.targets]),
    ).toEqual([
      [
        2431,
        'Suspected account takeover using shadow credentials',
        'high',
        'CORP\\mallory added a key credential to DC01',
        ['CORP\\mallory'],
        { accounts: ['DC01'], devices: ['DC01'] },
      ],
    ]);
  });

  it('stays quiet when a computer registers its own key, or a key is removed', () => {
    expect(
      run([
        keyAdded(0, 'WS07$', 'CN=WS07,CN=Computers,DC=corp,DC=local'),
        keyAdded(1, 'mallory', 'CN=Bob,CN=Users,DC=corp,DC=local', 'ValueDeleted'),
      ]),
    ).toEqual([]);
  });

  it('does not alert for an excluded account (such as the Entra Connect sync account)', () => {
    expect(
      run([keyAdded(0, 'MSOL_0a1b2c', 'CN=Bob,CN=Users,DC=corp,DC=local')], {
        detectorExclusions: { 'identity/shadow-credentials': { accounts: ['MSOL_0a1b2c'] } },
      }),
    ).toEqual([]);
  });
});
