// 2430 AdminSDHolder: any change to CN=AdminSDHolder,CN=System alerts once per actor; changes to
// other objects do not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { adminSdHolderDetector } from '../src/identity/adminsdholder-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([adminSdHolderDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const descriptor = (seconds: number, dn: string, operation: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Directory attribute changed',
      AccountName: 'bob',
      AccountDomain: 'CORP',
      DeviceName: 'DC01',
    },
    {
      EventId: 5136,
      ObjectDN: dn,
      ObjectClass: 'container',
      AttributeLDAPDisplayName: 'nTSecurityDescriptor',
      AttributeValue: 'O:DAG:DAD:PAI(A;;GA;;;S-1-5-21-1-2-3-1106)',
      OperationType: operation,
    },
  );

const HOLDER = 'CN=AdminSDHolder,CN=System,DC=corp,DC=local';

describe('AdminSDHolder modification (2430)', () => {
  it('alerts once on a descriptor replaced (deleted, then added)', () => {
    const alerts = run([descriptor(0, HOLDER, 'ValueDeleted'), descriptor(0, HOLDER, 'ValueAdded')]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.description, a.entities?.accounts])).toEqual([
      [
        2430,
        'Suspicious modification of domain AdminSdHolder',
        'high',
        `CORP\\bob changed nTSecurityDescriptor of ${HOLDER}`,
        ['CORP\\bob'],
      ],
    ]);
  });

  it('stays quiet on other objects', () => {
    expect(run([descriptor(0, 'CN=Administrator,CN=Users,DC=corp,DC=local', 'ValueAdded')])).toEqual([]);
  });

  it('does not alert for an excluded actor', () => {
    expect(run([descriptor(0, HOLDER, 'ValueAdded')], { exclusions: { accounts: ['CORP\\bob'] } })).toEqual(
      [],
    );
  });
});
