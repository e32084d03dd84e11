// 2411 Zerologon: Netlogon denying a vulnerable channel, a DC failing its own Netlogon session,
// and an anonymous reset of a machine password alert once per target machine; a member
// computer's failed session and ordinary password changes do not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { zerologonDetector } from '../src/identity/zerologon-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([zerologonDetector], { domainControllers: ['DC01'], ...config });
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const netlogon = (seconds: number, eventId: number, data: string[]) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Netlogon secure channel denied', DeviceName: 'DC01.corp.local' },
    {
      EventId: eventId,
      Data: data,
    },
  );

const machinePassword = (seconds: number, sid: string, name: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Account Password changed',
      AccountName: name,
      AccountDomain: 'NT AUTHORITY',
      AccountSid: sid,
      DeviceName: 'DC01.corp.local',
      TargetAccountDisplayName: 'DC01$',
    },
    { EventId: 4742, PasswordLastSet: '9/15/2020 12:31:04 PM', TargetSid: 'S-1-5-21-1-2-3-1000' },
  );

const brief = (a: Alert) => [a.externalId, a.title, a.level, a.description, a.entities, a.targets];

describe('Netlogon privilege elevation, Zerologon (2411)', () => {
  it('alerts once when a DC fails its own Netlogon session (5805) and then has its password reset anonymously', () => {
    const alerts = run([
      netlogon(0, 5805, ['DC01', '%%5']),
      netlogon(1, 5805, ['DC01', '%%5']),
      machinePassword(60, 'S-1-5-7', 'ANONYMOUS LOGON'),
    ]);
    expect(alerts.map(brief)).toEqual([
      [
        2411,
        'Suspected Netlogon privilege elevation attempt (CVE-2020-1472 exploitation)',
        'high',
        'The domain controller DC01 failed to authenticate a Netlogon session (logged on DC01.corp.local)',
        { accounts: [], devices: ['DC01'], ips: [] },
        { accounts: ['DC01'], devices: ['DC01.corp.local'] },
      ],
    ]);
  });

  it('alerts on an anonymous machine-password reset, and on denied or allowed vulnerable channels', () => {
    expect(run([machinePassword(0, 'S-1-5-7', 'ANONYMOUS LOGON')]).map((a) => a.description)).toEqual([
      'The domain controller DC01$ had its password set by ANONYMOUS LOGON (logged on DC01.corp.local)',
    ]);
    const alerts = run([
      netlogon(0, 5827, ['WS07$', 'CORP', 'Workstation', 'Windows 7', '7601', 'Service Pack 1']),
      netlogon(1, 5829, ['NAS01$', 'CORP', 'Workstation', 'Samba', '', '']),
    ]);
    expect(alerts.map((a) => [a.level, a.description])).toEqual([
      ['high', 'WS07$ was denied a vulnerable Netlogon secure channel (logged on DC01.corp.local)'],
      ['medium', 'NAS01$ was allowed a vulnerable Netlogon secure channel (logged on DC01.corp.local)'],
    ]);
  });

  it("stays quiet on a member computer's failed session and on a machine changing its own password", () => {
    expect(
      run([netlogon(0, 5805, ['WS07', '%%5']), machinePassword(1, 'S-1-5-21-1-2-3-1000', 'DC01$')]),
    ).toEqual([]);
  });

  it('does not alert for an excluded target machine', () => {
    expect(run([netlogon(0, 5805, ['DC01', '%%5'])], { exclusions: { devices: ['dc01'] } })).toEqual([]);
  });
});
