// 2438 DSRM password change: a 4794 alerts once per DC per cooldown, naming who and where;
// exclusions apply.
import { describe, expect, it } from 'vitest';
import { dsrmDetector } from '../src/identity/dsrm-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([dsrmDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const dsrm = (
  seconds: number,
  status = '0x0',
  actionType = 'Directory Services Restore Mode password changed',
) =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    { ActionType: actionType, AccountName: 'administrator', AccountDomain: 'CORP', DeviceName: 'DC01' },
    { EventId: 4794, Status: status, Workstation: 'DC01' },
  );

describe('DSRM password change (2438)', () => {
  it('alerts once per DC, and says when the attempt failed', () => {
    const alerts = run([dsrm(0), dsrm(1), dsrm(3600, '0xc000006a')]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.description, a.targets])).toEqual([
      [
        2438,
        'Directory Services Restore Mode Password Change',
        'medium',
        'CORP\\administrator set the Directory Services Restore Mode password on DC01 from DC01',
        { devices: ['DC01'] },
      ],
      [
        2438,
        'Directory Services Restore Mode Password Change',
        'medium',
        'CORP\\administrator set the Directory Services Restore Mode password on DC01 from DC01 (the attempt failed with 0xc000006a)',
        { devices: ['DC01'] },
      ],
    ]);
  });

  it('stays quiet on other directory events', () => {
    expect(
      run([row('IdentityDirectoryEvents', 0, { ActionType: 'Account Password changed' }, { EventId: 4724 })]),
    ).toEqual([]);
  });

  it('does not alert for an excluded DC', () => {
    expect(
      run([dsrm(0)], { detectorExclusions: { 'identity/dsrm-password': { devices: ['DC01.corp.local'] } } }),
    ).toEqual([]);
  });
});
