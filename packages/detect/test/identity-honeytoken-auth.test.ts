// Honeytoken authentication activity (2014): any authentication by a decoy account alerts, once
// per account and source while the activity goes on.
import { describe, expect, it } from 'vitest';
import { honeytokenAuthDetector } from '../src/identity/honeytoken-auth-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { kerberosFailure, row } from './identity-rows.ts';

function run(config: IdentityEngineConfig, rows: ReturnType<typeof row>[]): Alert[] {
  const engine = new IdentityEngine([honeytokenAuthDetector], {
    honeytokenAccounts: ['CORP\\svc_backup_old'],
    honeytokenDevices: ['DECOY01'],
    ...config,
  });
  return rows.flatMap(([r, e]) => engine.push(r, e));
}

const ntlmSuccess = (seconds: number, account: string, workstation: string) =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonSuccess',
      Protocol: 'Ntlm',
      LogonType: 'Credentials Validation',
      AccountName: account,
      DeviceName: workstation,
      DestinationDeviceName: 'DC01',
    },
    { EventId: 4776 },
  );

describe('honeytoken authentication (2014)', () => {
  it('alerts on a failed and a successful authentication, naming the account, source and DC', () => {
    const alerts = run({}, [
      kerberosFailure(0, 'svc_backup_old', '10.0.0.9'),
      ntlmSuccess(10, 'svc_backup_old', 'WS07'),
    ]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.entities, a.description])).toEqual([
      [
        2014,
        'Honeytoken authentication activity',
        'medium',
        { accounts: ['CORP\\svc_backup_old'], devices: [], ips: ['10.0.0.9'] },
        'The honeytoken CORP\\svc_backup_old failed to authenticate (WrongPassword) by Kerberos (Credentials Validation) from 10.0.0.9 against DC01',
      ],
      [
        2014,
        'Honeytoken authentication activity',
        'medium',
        { accounts: ['svc_backup_old'], devices: ['WS07'], ips: [] },
        'The honeytoken svc_backup_old authenticated by Ntlm (Credentials Validation) from WS07 against DC01',
      ],
    ]);
  });

  it("alerts on a honeytoken computer's machine account", () => {
    expect(run({}, [ntlmSuccess(0, 'DECOY01$', 'DECOY01')]).map((a) => a.entities?.accounts)).toEqual([
      ['DECOY01$'],
    ]);
  });

  it('raises one alert per account and source within the hour, and ignores other accounts', () => {
    const repeated = Array.from({ length: 20 }, (_, i) =>
      kerberosFailure(i * 60, 'svc_backup_old', '10.0.0.9'),
    );
    expect(run({}, repeated)).toHaveLength(1);
    expect(run({}, [...repeated, kerberosFailure(90 * 60, 'svc_backup_old', '10.0.0.9')])).toHaveLength(2);
    expect(
      run({}, [
        kerberosFailure(0, 'svc_backup_old', '10.0.0.9'),
        kerberosFailure(1, 'svc_backup_old', '10.0.0.10'),
      ]),
    ).toHaveLength(2);
    expect(run({}, [kerberosFailure(0, 'alice', '10.0.0.9'), ntlmSuccess(1, 'DECOY02$', 'DECOY02')])).toEqual(
      [],
    );
  });

  it('does not alert for an excluded source or account', () => {
    expect(
      run({ exclusions: { ips: ['10.0.0.9'] } }, [kerberosFailure(0, 'svc_backup_old', '10.0.0.9')]),
    ).toEqual([]);
    expect(
      run(
        { detectorExclusions: { 'identity/honeytoken-authentication': { devices: ['ws07.corp.local'] } } },
        [ntlmSuccess(0, 'svc_backup_old', 'WS07')],
      ),
    ).toEqual([]);
  });
});
