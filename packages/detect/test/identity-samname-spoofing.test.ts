// 2419 sAMAccountName spoofing (noPac): a computer account renamed to a DC's name without `$`
// alerts high once (4742 and 4781 of one rename, and the rename back); another name without `$`
// alerts medium; users renamed and computers keeping `$` do not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { samNameSpoofingDetector } from '../src/identity/samname-spoofing-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([samNameSpoofingDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const SID = 'S-1-5-21-1-2-3-1105';
const actor = {
  AccountName: 'lgrove',
  AccountDomain: 'CORP',
  DeviceName: 'DC01.corp.local',
  IPAddress: '10.0.0.19',
};

const created = (seconds: number, name: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Computer Account Created', ...actor, TargetAccountDisplayName: name },
    { EventId: 4741, SamAccountName: name, TargetSid: SID },
  );
const changed = (seconds: number, name: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'SAM Account Name changed', ...actor, TargetAccountDisplayName: name },
    { EventId: 4742, SamAccountName: name, TargetSid: SID },
  );
const renamed = (seconds: number, from: string, to: string) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'SAM Account Name changed', ...actor, TargetAccountDisplayName: to },
    { EventId: 4781, OldTargetUserName: from, NewTargetUserName: to },
  );

const brief = (a: Alert) => [a.externalId, a.level, a.description, a.entities?.accounts, a.targets];

describe('sAMAccountName spoofing (2419)', () => {
  it("alerts once, high, on a computer renamed to the DC's name and back", () => {
    const alerts = run([
      created(0, 'EVIL$'),
      changed(1, 'DC01'),
      renamed(1, 'EVIL$', 'DC01'),
      changed(2, 'EVIL'),
      renamed(2, 'DC01', 'EVIL'),
    ]);
    expect(alerts.map(brief)).toEqual([
      [
        2419,
        'high',
        'CORP\\lgrove renamed the computer account EVIL$ to the name of the domain controller DC01',
        ['CORP\\lgrove'],
        { accounts: ['EVIL$', 'DC01'], devices: ['DC01.corp.local'] },
      ],
    ]);
    expect(alerts[0]?.title).toBe(
      'Suspicious modification of a sAMNameAccount attribute (CVE-2021-42278 and CVE-2021-42287 exploitation)',
    );
  });

  it('knows DCs from configuration, reads 5136, and alerts medium on other names without $', () => {
    const attribute = row(
      'IdentityDirectoryEvents',
      0,
      { ActionType: 'Directory attribute changed', ...actor },
      {
        EventId: 5136,
        ObjectDN: 'CN=EVIL,CN=Computers,DC=corp,DC=local',
        ObjectClass: 'computer',
        AttributeLDAPDisplayName: 'sAMAccountName',
        AttributeValue: 'DC02',
        OperationType: 'ValueAdded',
      },
    );
    expect(
      run([attribute], { domainControllers: ['dc02.corp.local'] }).map((a) => [a.level, a.description]),
    ).toEqual([
      ['high', 'CORP\\lgrove renamed the computer account to the name of the domain controller DC02'],
    ]);
    expect(run([renamed(0, 'WS07$', 'WS07')]).map((a) => [a.level, a.description])).toEqual([
      ['medium', 'CORP\\lgrove renamed the computer account WS07$ to WS07, without the trailing $'],
    ]);
  });

  it("alerts on a user renamed to a DC's name, but not on other renames of users or computers keeping their $", () => {
    expect(run([renamed(0, 'alice', 'DC01')]).map((a) => [a.level, a.description])).toEqual([
      ['high', 'CORP\\lgrove renamed the account alice to the name of the domain controller DC01'],
    ]);
    expect(run([renamed(0, 'alice', 'alice2'), renamed(1, 'WS07$', 'WS08$'), changed(2, 'WS09$')])).toEqual(
      [],
    );
  });

  it('does not alert for an excluded actor', () => {
    expect(run([renamed(0, 'EVIL$', 'DC01')], { exclusions: { accounts: ['lgrove@corp.local'] } })).toEqual(
      [],
    );
  });
});
