// Suspected AS-REP Roasting attack (2412): TGTs issued without pre-authentication — one RC4
// reply, or three accounts from one source at the High level — alert, naming accounts and source.
import { describe, expect, it } from 'vitest';
import { asrepRoastingDetector } from '../src/identity/asrep-roasting-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

function run(config: IdentityEngineConfig, rows: ReturnType<typeof row>[]): Alert[] {
  const engine = new IdentityEngine([asrepRoastingDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
}

/** A TGT issued (4768) to `account` for `ip`, with `preAuth` type and ticket `encryption`. */
const asReq = (seconds: number, account: string, ip: string, preAuth: string, encryption: string) =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonSuccess',
      Protocol: 'Kerberos',
      LogonType: 'Credentials Validation',
      AccountName: account,
      AccountDomain: 'CORP.LOCAL',
      IPAddress: ip,
      DestinationDeviceName: 'DC01',
    },
    {
      EventId: 4768,
      KerberosRequest: 'AS',
      ServiceName: 'krbtgt',
      PreAuthType: preAuth,
      TicketEncryptionType: encryption,
    },
  );

describe('AS-REP Roasting (2412)', () => {
  it('alerts on an RC4 TGT issued without pre-authentication, naming the account and the source', () => {
    const alerts = run({}, [asReq(0, 'asrep_user', '10.0.0.66', '0', '0x17')]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.entities, a.targets, a.description])).toEqual(
      [
        [
          2412,
          'Suspected AS-REP Roasting attack',
          'high',
          { accounts: ['CORP.LOCAL\\asrep_user'], devices: [], ips: ['10.0.0.66'] },
          { accounts: ['CORP.LOCAL\\asrep_user'], devices: ['DC01'] },
          '10.0.0.66 obtained ticket-granting tickets without pre-authentication for the account CORP.LOCAL\\asrep_user (RC4-encrypted)',
        ],
      ],
    );
  });

  it('alerts on three AES accounts from one source at the High level, one at Low', () => {
    const aes = ['a', 'b', 'c'].map((n, i) => asReq(i, `legacy_${n}`, '10.0.0.66', '0', '0x12'));
    expect(run({}, aes.slice(0, 2))).toEqual([]);
    expect(run({}, aes).map((a) => a.description)).toEqual([
      '10.0.0.66 obtained ticket-granting tickets without pre-authentication for 3 accounts: CORP.LOCAL\\legacy_a, CORP.LOCAL\\legacy_b, CORP.LOCAL\\legacy_c',
    ]);
    expect(run({ testMode: true }, aes.slice(0, 1))).toHaveLength(1);
  });

  it('ignores pre-authenticated and failed requests, and repeats within the hour', () => {
    const failed = row(
      'IdentityLogonEvents',
      1,
      {
        ActionType: 'LogonFailed',
        AccountName: 'x',
        IPAddress: '10.0.0.66',
        FailureReason: 'PreauthRequired',
      },
      { EventId: 4768, KerberosRequest: 'AS', PreAuthType: '0', TicketEncryptionType: '0x17' },
    );
    expect(
      run({ testMode: true }, [
        asReq(0, 'alice', '10.0.0.11', '2', '0x17'),
        asReq(0, 'bob', '10.0.0.11', '15', '0x12'),
        failed,
      ]),
    ).toEqual([]);
    expect(
      run({}, [
        asReq(0, 'asrep_user', '10.0.0.66', '0', '0x17'),
        asReq(600, 'asrep_user', '10.0.0.66', '0', '0x17'),
      ]),
    ).toHaveLength(1);
  });

  it('does not alert for an excluded source or account', () => {
    expect(
      run({ exclusions: { ips: ['10.0.0.66'] } }, [asReq(0, 'asrep_user', '10.0.0.66', '0', '0x17')]),
    ).toEqual([]);
    expect(
      run({ detectorExclusions: { 'identity/asrep-roasting': { accounts: ['asrep_user'] } } }, [
        asReq(0, 'asrep_user', '10.0.0.66', '0', '0x17'),
      ]),
    ).toEqual([]);
  });
});
