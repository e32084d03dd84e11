// 1106 SID-History injection: a 4765, or a 5136 adding to sIDHistory, alerts once per target;
// the failed attempt (4766) and removals do not; exclusions apply.
import { describe, expect, it } from 'vitest';
import { sidHistoryDetector } from '../src/identity/sid-history-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([sidHistoryDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const DOMAIN = 'S-1-5-21-1004336348-1177238915-682003330';
const actor = { AccountName: 'mallory', AccountDomain: 'CORP', DeviceName: 'DC01', IPAddress: '10.0.0.5' };

const added = (seconds: number, eventId = 4765, success = true) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'SID-History changed', ...actor, TargetAccountDisplayName: 'andrei' },
    {
      EventId: eventId,
      SidHistory: '-',
      SourceUserName: 'corp.local\\Domain Admins',
      SourceSid: `${DOMAIN}-512`,
      Success: success,
    },
  );

const attribute = (seconds: number, operation: 'ValueAdded' | 'ValueDeleted') =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: 'Directory attribute changed', ...actor },
    {
      EventId: 5136,
      ObjectDN: 'CN=Andrei,CN=Users,DC=corp,DC=local',
      ObjectClass: 'user',
      AttributeLDAPDisplayName: 'sIDHistory',
      AttributeValue: `${DOMAIN}-519`,
      OperationType: operation,
    },
  );

describe('SID-History injection (1106)', () => {
  it('alerts once on a SID added to an account, naming the SID, the account and the actor', () => {
    const alerts = run([added(0), attribute(1, 'ValueAdded')]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.description, a.entities, a.targets])).toEqual(
      [
        [
          1106,
          'Suspected SID-History injection',
          'high',
          `CORP\\mallory added the SID ${DOMAIN}-512 of corp.local\\Domain Admins (a sensitive group) to the SID history of andrei`,
          { accounts: ['CORP\\mallory'], devices: [], ips: ['10.0.0.5'] },
          { accounts: ['andrei'], devices: ['DC01'] },
        ],
      ],
    );
  });

  it('alerts on a 5136 adding to sIDHistory', () => {
    expect(run([attribute(0, 'ValueAdded')]).map((a) => a.description)).toEqual([
      `CORP\\mallory added the SID ${DOMAIN}-519 (a sensitive group) to the SID history of Andrei`,
    ]);
  });

  it('stays quiet on the failed attempt (4766) and on removing a SID', () => {
    expect(run([added(0, 4766, false), attribute(1, 'ValueDeleted')])).toEqual([]);
  });

  it('does not alert for an excluded actor', () => {
    expect(run([added(0)], { exclusions: { accounts: ['mallory'] } })).toEqual([]);
    expect(
      run([added(0)], { detectorExclusions: { 'identity/sid-history': { ips: ['10.0.0.0/24'] } } }),
    ).toEqual([]);
  });
});
