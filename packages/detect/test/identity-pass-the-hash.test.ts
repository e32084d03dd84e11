// Suspected identity theft (pass-the-hash) (2017): the seclogo NewCredentials logon alerts at
// once; an NTLM logon from a computer new to the account alerts after a week of baseline at the
// High level, at once in test mode.
import { describe, expect, it } from 'vitest';
import { passTheHashDetector } from '../src/identity/pass-the-hash-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

function run(config: IdentityEngineConfig, rows: ReturnType<typeof row>[]): Alert[] {
  const engine = new IdentityEngine([passTheHashDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
}

const DAY = 86_400;

/** A 4624 on `host` with `logonType` and `process`. */
const logon = (
  seconds: number,
  account: string,
  host: string,
  logonType: string,
  process: string,
  values: Record<string, unknown> = {},
) =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonSuccess',
      LogonType: logonType,
      Protocol: 'Negotiate',
      AccountName: account,
      AccountDomain: 'CORP',
      DestinationDeviceName: host,
      ...values,
    },
    { EventId: 4624, LogonProcessName: process },
  );

/** An NTLM network logon (4624 type 3) on FS01 from `workstation` at `ip`. */
const ntlmLogon = (seconds: number, account: string, workstation: string, ip: string) =>
  logon(seconds, account, 'FS01', 'Resource Access', 'NtLmSsp', {
    Protocol: 'Ntlm',
    DeviceName: workstation,
    IPAddress: ip,
  });

describe('pass-the-hash (2017)', () => {
  it('alerts at once on a NewCredentials logon by seclogo, on the computer where it happened', () => {
    const alerts = run({}, [
      logon(0, 'user01', 'PC01.example.corp', 'Logon type 9', 'seclogo', { IPAddress: '::1' }),
    ]);
    expect(alerts.map((a) => [a.externalId, a.title, a.level, a.entities, a.description])).toEqual([
      [
        2017,
        'Suspected identity theft (pass-the-hash)',
        'high',
        { accounts: ['CORP\\user01'], devices: ['PC01.example.corp'], ips: [] },
        'CORP\\user01 started a NewCredentials logon (logon type 9) through the secondary-logon process on PC01.example.corp: the trace of pass-the-hash (mimikatz sekurlsa::pth) or runas /netonly',
      ],
    ]);
  });

  it('ignores other logon types and processes, and repeats within ten minutes', () => {
    expect(
      run({}, [
        logon(0, 'user01', 'PC01', 'Logon type 9', 'Advapi'),
        logon(1, 'user01', 'PC01', 'Interactive Logon', 'User32'),
      ]),
    ).toEqual([]);
    expect(
      run({}, [
        logon(0, 'user01', 'PC01', 'Logon type 9', 'seclogo'),
        logon(60, 'user01', 'PC01', 'Logon type 9', 'seclogo'),
      ]),
    ).toHaveLength(1);
  });

  it('alerts on NTLM from a new computer after a week of baseline, once per computer', () => {
    const rows = [
      ntlmLogon(0, 'alice', 'WS01', '10.0.0.11'),
      ntlmLogon(3 * DAY, 'alice', 'WS01', '10.0.0.11'),
      ntlmLogon(8 * DAY, 'alice', 'WS01', '10.0.0.12'), // same computer, new address: known
      ntlmLogon(8 * DAY + 60, 'alice', 'WS66', '10.0.0.66'),
      ntlmLogon(8 * DAY + 120, 'alice', 'WS66', '10.0.0.66'),
    ];
    expect(run({}, rows).map((a) => [a.level, a.entities, a.targets, a.description])).toEqual([
      [
        'medium',
        { accounts: ['CORP\\alice'], devices: ['WS66'], ips: ['10.0.0.66'] },
        { devices: ['FS01'] },
        'CORP\\alice logged on with NTLM from WS66 (10.0.0.66) to FS01, a computer the account has not used in the 8 days it has been observed',
      ],
    ]);
  });

  it('learns for a week at the High level; in test mode a new computer alerts at once', () => {
    const rows = [ntlmLogon(0, 'alice', 'WS01', '10.0.0.11'), ntlmLogon(DAY, 'alice', 'WS66', '10.0.0.66')];
    expect(run({}, rows)).toEqual([]);
    expect(run({ testMode: true }, rows)).toHaveLength(1);
  });

  it('learns from Kerberos too, compares names with names and addresses with addresses, and skips roaming accounts', () => {
    const ticket = row(
      'IdentityLogonEvents',
      0,
      {
        ActionType: 'LogonSuccess',
        Protocol: 'Kerberos',
        LogonType: 'Credentials Validation',
        AccountName: 'alice',
        IPAddress: '10.0.0.11',
      },
      { EventId: 4768, KerberosRequest: 'AS' },
    );
    const validation = row(
      'IdentityLogonEvents',
      60,
      {
        ActionType: 'LogonSuccess',
        Protocol: 'Ntlm',
        LogonType: 'Credentials Validation',
        AccountName: 'alice',
        DeviceName: 'WS01',
      },
      { EventId: 4776 },
    );
    // The DC's 4776 names WS01 only; the account was known by address only: nothing to compare.
    expect(run({ testMode: true }, [ticket, validation])).toEqual([]);
    expect(run({ testMode: true }, [ticket, ntlmLogon(60, 'alice', 'WS01', '10.0.0.11')])).toEqual([]);
    // Each new computer alerts until the account has 64 names and addresses (32 computers):
    // from then on it roams, and new computers say nothing.
    const roaming = Array.from({ length: 40 }, (_, i) => ntlmLogon(i, 'helpdesk', `WS${i}`, `10.0.1.${i}`));
    expect(run({ testMode: true }, roaming)).toHaveLength(31);
  });

  it('does not alert for an excluded account or computer', () => {
    expect(
      run({ exclusions: { accounts: ['user01'] } }, [logon(0, 'user01', 'PC01', 'Logon type 9', 'seclogo')]),
    ).toEqual([]);
    const rows = [ntlmLogon(0, 'alice', 'WS01', '10.0.0.11'), ntlmLogon(60, 'alice', 'JUMP01', '10.0.0.50')];
    expect(
      run(
        { testMode: true, detectorExclusions: { 'identity/pass-the-hash': { devices: ['jump01'] } } },
        rows,
      ),
    ).toEqual([]);
  });
});
