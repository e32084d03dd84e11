// 2427 and 2428 honeytoken changes: an attribute change, password reset or group membership
// change of a honeytoken account alerts once per actor; the same for other accounts does not;
// exclusions apply.
import { describe, expect, it } from 'vitest';
import {
  honeytokenChangeDetector,
  honeytokenGroupDetector,
} from '../src/identity/honeytoken-change-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { groupChange, row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([honeytokenChangeDetector, honeytokenGroupDetector], {
    honeytokenAccounts: ['CORP\\svc-backup-old', 'Backup Service (old)'],
    ...config,
  });
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const actor = { AccountName: 'mallory', AccountDomain: 'CORP', DeviceName: 'DC01' };

const phone = (seconds: number, cn: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Directory attribute changed', ...actor },
    {
      EventId: 5136,
      ObjectDN: `CN=${cn},OU=Service Accounts,DC=corp,DC=local`,
      ObjectClass: 'user',
      AttributeLDAPDisplayName: 'mobile',
      AttributeValue: '+1 555 0100',
      OperationType: 'ValueAdded',
    },
  );

const reset = (seconds: number, target: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Account Password changed', ...actor, TargetAccountDisplayName: target },
    { EventId: 4724, Reset: true },
  );

const brief = (a: Alert) => [a.externalId, a.title, a.description, a.entities?.accounts, a.targets];

describe('honeytoken user attributes modified (2427)', () => {
  it('alerts on an attribute change (by CN) and a password reset (by account name), once per actor', () => {
    const alerts = run([
      phone(0, 'Backup Service (old)'),
      phone(1, 'Backup Service (old)'),
      reset(2, 'svc-backup-old'),
    ]);
    expect(alerts.map(brief)).toEqual([
      [
        2427,
        'Honeytoken user attributes modified',
        'CORP\\mallory changed the honeytoken account Backup Service (old): mobile',
        ['CORP\\mallory'],
        { accounts: ['Backup Service (old)'], devices: ['DC01'] },
      ],
      [
        2427,
        'Honeytoken user attributes modified',
        'CORP\\mallory changed the honeytoken account svc-backup-old: Account Password changed',
        ['CORP\\mallory'],
        { accounts: ['svc-backup-old'], devices: ['DC01'] },
      ],
    ]);
  });

  it('stays quiet for other accounts', () => {
    expect(run([phone(0, 'Alice'), reset(1, 'alice')])).toEqual([]);
  });

  it('does not alert for an excluded actor', () => {
    expect(
      run([reset(0, 'svc-backup-old')], {
        detectorExclusions: { 'identity/honeytoken-attributes': { accounts: ['mallory'] } },
      }),
    ).toEqual([]);
  });
});

describe('honeytoken group membership changed (2428)', () => {
  it('alerts on a honeytoken added to or removed from a group, from a group row or a 5136 on member', () => {
    const member = row(
      'IdentityDirectoryEvents',
      5,
      { ActionType: 'Directory attribute changed', ...actor },
      {
        EventId: 5136,
        ObjectDN: 'CN=Helpdesk,OU=Groups,DC=corp,DC=local',
        ObjectClass: 'group',
        AttributeLDAPDisplayName: 'member',
        AttributeValue: 'CN=Backup Service (old),OU=Service Accounts,DC=corp,DC=local',
        OperationType: 'ValueDeleted',
      },
    );
    const alerts = run([groupChange(0, 'mallory', 'Domain Admins', 'svc-backup-old'), member]);
    expect(alerts.map(brief)).toEqual([
      [
        2428,
        'Honeytoken group membership changed',
        'CORP\\mallory added the honeytoken account svc-backup-old to Domain Admins',
        ['CORP\\mallory'],
        { accounts: ['svc-backup-old'], devices: ['DC01'] },
      ],
      [
        2428,
        'Honeytoken group membership changed',
        'CORP\\mallory removed the honeytoken account Backup Service (old) from Helpdesk',
        ['CORP\\mallory'],
        { accounts: ['Backup Service (old)'], devices: ['DC01'] },
      ],
    ]);
  });

  it('stays quiet for other members', () => {
    expect(run([groupChange(0, 'mallory', 'Domain Admins', 'alice')])).toEqual([]);
  });

  it('does not alert for an excluded actor', () => {
    expect(
      run([groupChange(0, 'mallory', 'Domain Admins', 'svc-backup-old')], {
        exclusions: { accounts: ['mallory'] },
      }),
    ).toEqual([]);
  });
});
