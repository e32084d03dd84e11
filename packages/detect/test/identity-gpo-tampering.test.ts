// 2440 Group Policy Tampering: adding an abused client-side extension to a policy, or moving its
// files, alerts; version bumps, extensions already present and sensitive accounts do not;
// exclusions apply.
import { describe, expect, it } from 'vitest';
import { gpoTamperingDetector } from '../src/identity/gpo-tampering-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const run = (rows: ReturnType<typeof row>[], config: IdentityEngineConfig = {}): Alert[] => {
  const engine = new IdentityEngine([gpoTamperingDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
};

const GPO = 'CN={6AC1786C-016F-11D2-945F-00C04FB984F9},CN=Policies,CN=System,DC=corp,DC=local';
// Security settings and EFS, as the Default Domain Controllers Policy has them.
const BEFORE = '[{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]';
const TASKS =
  '[{00000000-0000-0000-0000-000000000000}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}][{AADCED64-746C-4633-A97C-D61349046527}{CAB54552-DEEA-4691-817E-ED4A4D1AFC72}]';

const gpoChange = (seconds: number, attribute: string, value: string, operation: string, account = 'bob') =>
  row(
    'IdentityDirectoryEvents',
    seconds,
    {
      ActionType: 'Directory attribute changed',
      AccountName: account,
      AccountDomain: 'CORP',
      DeviceName: 'DC01',
    },
    {
      EventId: 5136,
      ObjectDN: GPO,
      ObjectClass: 'groupPolicyContainer',
      AttributeLDAPDisplayName: attribute,
      AttributeValue: value,
      OperationType: operation,
    },
  );

const replace = (seconds: number, attribute: string, before: string, after: string, account = 'bob') => [
  gpoChange(seconds, attribute, before, 'ValueDeleted', account),
  gpoChange(seconds, attribute, after, 'ValueAdded', account),
];

describe('Group Policy Tampering (2440)', () => {
  it('alerts when an immediate scheduled task extension is added to a policy', () => {
    const alerts = run([
      ...replace(0, 'gPCMachineExtensionNames', BEFORE, `${TASKS}${BEFORE}`),
      ...replace(0, 'versionNumber', '5', '6'),
    ]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.description, a.entities?.accounts])).toEqual([
      [
        2440,
        'Group Policy Tampering (Preview)',
        'medium',
        'CORP\\bob added scheduled tasks (preferences) to the group policy {6AC1786C-016F-11D2-945F-00C04FB984F9}',
        ['CORP\\bob'],
      ],
    ]);
  });

  it('alerts when the policy files are moved', () => {
    const alerts = run(
      replace(
        0,
        'gPCFileSysPath',
        '\\\\corp.local\\SysVol\\corp.local\\Policies\\{6AC1}',
        '\\\\10.0.0.66\\share\\{6AC1}',
      ),
    );
    expect(alerts.map((a) => a.description)).toEqual([
      'CORP\\bob moved the files of the group policy {6AC1786C-016F-11D2-945F-00C04FB984F9} from \\\\corp.local\\SysVol\\corp.local\\Policies\\{6AC1} to \\\\10.0.0.66\\share\\{6AC1}',
    ]);
  });

  it('stays quiet on version bumps, extensions already there and sensitive accounts', () => {
    expect(
      run([
        ...replace(0, 'versionNumber', '6', '7'),
        ...replace(1, 'gPCMachineExtensionNames', `${TASKS}${BEFORE}`, `${BEFORE}${TASKS}`),
      ]),
    ).toEqual([]);
    expect(
      run(replace(0, 'gPCMachineExtensionNames', BEFORE, `${TASKS}${BEFORE}`, 'gpo-admin'), {
        sensitiveAccounts: ['CORP\\gpo-admin'],
      }),
    ).toEqual([]);
  });

  it('does not alert for an excluded account', () => {
    expect(
      run(replace(0, 'gPCMachineExtensionNames', BEFORE, `${TASKS}${BEFORE}`), {
        detectorExclusions: { 'identity/gpo-tampering': { accounts: ['bob'] } },
      }),
    ).toEqual([]);
  });
});
