// Account enumeration reconnaissance (2003): many unknown names from one source within the
// window alert once, naming the source, the total guesses and the names that exist.
import { describe, expect, it } from 'vitest';
import { accountEnumerationDetector } from '../src/identity/account-enumeration-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { kerberosFailure, row } from './identity-rows.ts';

function run(config: IdentityEngineConfig, rows: ReturnType<typeof row>[]): Alert[] {
  const engine = new IdentityEngine([accountEnumerationDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
}

/** `n` unknown names tried from `ip`, one a second, starting at `start`. */
const guesses = (n: number, ip = '10.0.0.66', start = 0) =>
  Array.from({ length: n }, (_, i) => kerberosFailure(start + i, `ghost${i}`, ip, 'PrincipalUnknown'));

describe('account enumeration (2003)', () => {
  it('alerts once at 10 unknown names at the High level, naming the source, the guesses and the matches', () => {
    const rows = [
      kerberosFailure(0, 'alice', '10.0.0.66', 'WrongPassword'),
      ...guesses(12, '10.0.0.66', 1),
      // NTLM's no-such-user counts the same as Kerberos' principal-unknown.
      row('IdentityLogonEvents', 20, {
        ActionType: 'LogonFailed',
        Protocol: 'Ntlm',
        LogonType: 'Credentials Validation',
        FailureReason: 'NoSuchUser',
        AccountName: 'ghost99',
        IPAddress: '10.0.0.66',
      }),
    ];
    const alerts = run({}, rows);
    expect(
      alerts.map((a) => [
        a.externalId,
        a.title,
        a.level,
        a.entities,
        a.targets,
        a.description,
        a.events.length,
      ]),
    ).toEqual([
      [
        2003,
        'Account enumeration reconnaissance',
        'medium',
        { accounts: [], devices: [], ips: ['10.0.0.66'] },
        { accounts: ['alice'] },
        '10.0.0.66 tried 11 account names within 10 minutes, 10 of them unknown to the domain; names that exist: alice; unknown names tried: ghost0, ghost1, ghost2, ghost3, ghost4, ghost5, ghost6, ghost7, ghost8, ghost9',
        11,
      ],
    ]);
  });

  it('stays quiet below the threshold, across sources, and when guesses are spread beyond the window', () => {
    expect(run({}, guesses(9))).toEqual([]);
    expect(run({}, [...guesses(5, '10.0.0.1'), ...guesses(5, '10.0.0.2', 10)])).toEqual([]);
    const slow = Array.from({ length: 12 }, (_, i) =>
      kerberosFailure(i * 120, `ghost${i}`, '10.0.0.66', 'PrincipalUnknown'),
    );
    expect(run({}, slow)).toEqual([]);
    // The same unknown name ten times is one guess; wrong passwords are brute force, not enumeration.
    expect(
      run(
        {},
        Array.from({ length: 10 }, (_, i) => kerberosFailure(i, 'ghost', '10.0.0.66', 'PrincipalUnknown')),
      ),
    ).toEqual([]);
    expect(
      run(
        {},
        Array.from({ length: 12 }, (_, i) => kerberosFailure(i, `user${i}`, '10.0.0.66')),
      ),
    ).toEqual([]);
  });

  it('uses the Medium and Low thresholds (5 and 3 names)', () => {
    expect(run({ levels: { 'identity/account-enumeration': 'medium' } }, guesses(4))).toEqual([]);
    expect(run({ levels: { 'identity/account-enumeration': 'medium' } }, guesses(5))).toHaveLength(1);
    expect(run({ testMode: true }, guesses(3))).toHaveLength(1);
  });

  it('raises one alert for a long enumeration, and another after the incident ends', () => {
    expect(run({}, guesses(200))).toHaveLength(1);
    expect(run({}, [...guesses(20), ...guesses(20, '10.0.0.66', 2 * 3600)])).toHaveLength(2);
  });

  it('does not alert for an excluded source, globally or for this detector', () => {
    expect(run({ exclusions: { ips: ['10.0.0.0/24'] } }, guesses(12))).toEqual([]);
    expect(
      run({ detectorExclusions: { 'identity/account-enumeration': { ips: ['10.0.0.66'] } } }, guesses(12)),
    ).toEqual([]);
  });
});
