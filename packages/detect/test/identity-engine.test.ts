// The identity engine and its first detectors: brute force and password spray (2023, 2004),
// DCSync (2006) and sensitive-group additions (2024) — each with a positive, a below-threshold
// negative, an excluded negative and, where Defender for Identity has one, the learning period.
import { describe, expect, it } from 'vitest';
import { type Alert, IdentityEngine, type IdentityEngineConfig, identityDetectors } from '../src/index.ts';
import { groupChange, kerberosFailure, replication, row } from './identity-rows.ts';

function run(config: IdentityEngineConfig, rows: ReturnType<typeof row>[], only?: string): Alert[] {
  const detectors = identityDetectors.filter((d) => only === undefined || d.meta.id === only);
  const engine = new IdentityEngine(detectors, config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
}

const brief = (a: Alert) => ({
  externalId: a.externalId,
  title: a.title,
  accounts: a.entities?.accounts,
  ips: a.entities?.ips,
  records: a.events.map((e) => e.recordId),
});

describe('brute force and password spray (2023)', () => {
  const spray = (n: number, ip = '10.0.0.66') =>
    Array.from({ length: n }, (_, i) => kerberosFailure(i * 10, `user${i}`, ip));

  it('alerts on a spray over 10 accounts from one source at the High level (after learning, in test mode at 3)', () => {
    const alerts = run({ testMode: true }, spray(3), 'identity/brute-force');
    expect(alerts.map(brief)).toEqual([
      {
        externalId: 2023,
        title: 'Suspected Brute Force attack (Kerberos, NTLM)',
        accounts: ['CORP\\user0', 'CORP\\user1', 'CORP\\user2'],
        ips: ['10.0.0.66'],
        records: expect.any(Array),
      },
    ]);
    expect(alerts[0]?.events).toHaveLength(3);
  });

  it('stays quiet below the threshold', () => {
    expect(run({ levels: { 'identity/brute-force': 'medium' } }, spray(4), 'identity/brute-force')).toEqual(
      [],
    );
    expect(
      run({ levels: { 'identity/brute-force': 'medium' } }, spray(5), 'identity/brute-force'),
    ).toHaveLength(1);
  });

  it('counts failures on one account (vertical) separately from a spray', () => {
    const rows = Array.from({ length: 10 }, (_, i) => kerberosFailure(i, 'alice', '10.0.0.7'));
    const alerts = run({ levels: { 'identity/brute-force': 'medium' } }, rows, 'identity/brute-force');
    expect(alerts.map((a) => [a.entities?.accounts, a.description])).toEqual([
      [['CORP\\alice'], '10.0.0.7 failed to authenticate as CORP\\alice 10 times within 10 minutes'],
    ]);
  });

  it('ignores unknown accounts (that is enumeration) and failures spread over more than the window', () => {
    const unknown = Array.from({ length: 12 }, (_, i) =>
      kerberosFailure(i, `ghost${i}`, '10.0.0.8', 'PrincipalUnknown'),
    );
    expect(run({ testMode: true }, unknown, 'identity/brute-force')).toEqual([]);
    const slow = Array.from({ length: 12 }, (_, i) => kerberosFailure(i * 3600, `user${i}`, '10.0.0.9'));
    expect(run({ levels: { 'identity/brute-force': 'medium' } }, slow, 'identity/brute-force')).toEqual([]);
  });

  it('does not alert for an excluded source, globally or for this detector', () => {
    expect(
      run({ testMode: true, exclusions: { ips: ['10.0.0.0/24'] } }, spray(12), 'identity/brute-force'),
    ).toEqual([]);
    expect(
      run(
        { testMode: true, detectorExclusions: { 'identity/brute-force': { ips: ['10.0.0.66'] } } },
        spray(12),
        'identity/brute-force',
      ),
    ).toEqual([]);
  });

  it('learns for a week at the High level before alerting', () => {
    const first = spray(12);
    expect(run({}, first, 'identity/brute-force')).toEqual([]);
    // The same spray eight days later, after the learning period, alerts.
    const later = [
      ...first,
      ...Array.from({ length: 12 }, (_, i) => kerberosFailure(8 * 86_400 + i, `user${i}`, '10.0.0.66')),
    ];
    expect(run({}, later, 'identity/brute-force')).toHaveLength(1);
  });

  it('takes LDAP simple-bind failures as 2004, not 2023', () => {
    const ldap = Array.from({ length: 3 }, (_, i) =>
      row('IdentityLogonEvents', i, {
        ActionType: 'LogonFailed',
        Protocol: 'Ldap',
        LogonType: 'LDAP Cleartext',
        FailureReason: 'WrongPassword',
        AccountName: `u${i}`,
        IPAddress: '10.0.0.5',
      }),
    );
    expect(run({ testMode: true }, ldap).map((a) => a.externalId)).toEqual([2004]);
  });

  // An NTLM failure in an SMB2 session setup seen on the wire (the network normaliser's shape)
  // and the same failure from a DC's 4776, which does not say which protocol carried it.
  const ntlm = (i: number, network: boolean) =>
    row(
      'IdentityLogonEvents',
      i,
      {
        ActionType: 'LogonFailed',
        Protocol: 'Ntlm',
        LogonType: 'Credentials Validation',
        FailureReason: 'BadUserNameOrPassword',
        AccountName: 'bob',
        AccountDomain: 'CORP',
        IPAddress: '10.0.0.7',
      },
      network ? { Source: 'network', EventId: 4776, Application: 'SMB' } : { EventId: 4776 },
    );

  it('takes NTLM failures seen in SMB session setups as 2033, and logged ones as 2023', () => {
    const five = (network: boolean) => Array.from({ length: 5 }, (_, i) => ntlm(i, network));
    const smb = five(true);
    expect(run({ testMode: true }, smb).map(brief)).toEqual([
      {
        externalId: 2033,
        title: 'Suspected Brute Force attack (SMB)',
        accounts: ['CORP\\bob'],
        ips: ['10.0.0.7'],
        records: smb.map(([, e]) => e.recordId),
      },
    ]);
    expect(run({ testMode: true }, five(false)).map((a) => a.externalId)).toEqual([2023]);
    // Four failures stay below the Low level's five on one account.
    expect(run({ testMode: true }, smb.slice(1))).toEqual([]);
  });
});

describe('DCSync (2006)', () => {
  it('alerts when a user account uses Get-Changes-All, once per burst', () => {
    const rows = [
      replication(0, 'mallory', ['Get-Changes']),
      replication(1, 'mallory', ['Get-Changes-All']),
      replication(2, 'mallory', ['Get-Changes-All']),
    ];
    const alerts = run({}, rows, 'identity/dcsync');
    expect(alerts.map(brief)).toEqual([
      {
        externalId: 2006,
        title: 'Suspected DCSync attack (replication of directory services)',
        accounts: ['CORP\\mallory'],
        ips: [],
        records: [expect.any(Number)],
      },
    ]);
    expect(alerts[0]?.level).toBe('high');
  });

  it("does not alert for a domain controller's own machine account", () => {
    // DC02 answers Kerberos, so it is a DC; its machine account replicating is normal.
    const dcLearned = row('IdentityLogonEvents', 0, {
      ActionType: 'LogonSuccess',
      LogonType: 'Credentials Validation',
      Protocol: 'Kerberos',
      AccountName: 'bob',
      DestinationDeviceName: 'DC02.corp.local',
    });
    expect(run({}, [dcLearned, replication(5, 'DC02$', ['Get-Changes-All'])], 'identity/dcsync')).toEqual([]);
    expect(
      run({ domainControllers: ['dc03'] }, [replication(5, 'DC03$', ['Get-Changes-All'])], 'identity/dcsync'),
    ).toEqual([]);
    // A non-DC machine account is not excused.
    expect(
      run({}, [dcLearned, replication(5, 'WS07$', ['Get-Changes-All'])], 'identity/dcsync'),
    ).toHaveLength(1);
  });

  it('does not alert for other directory access or for an excluded account', () => {
    expect(run({}, [replication(0, 'mallory', [])], 'identity/dcsync')).toEqual([]);
    expect(
      run(
        { detectorExclusions: { 'identity/dcsync': { accounts: ['CORP\\MSOL_1234'] } } },
        [replication(0, 'MSOL_1234', ['Get-Changes-All'])],
        'identity/dcsync',
      ),
    ).toEqual([]);
  });
});

describe('sensitive group additions (2024)', () => {
  it('alerts in test mode when a member is added to Domain Admins, naming actor and member', () => {
    const alerts = run(
      { testMode: true },
      [groupChange(0, 'mallory', 'Domain Admins', 'eve')],
      'identity/sensitive-group-addition',
    );
    expect(
      alerts.map((a) => [a.externalId, a.entities?.accounts, a.targets?.accounts, a.description]),
    ).toEqual([
      [2024, ['CORP\\mallory'], ['eve'], 'CORP\\mallory added eve to the sensitive group Domain Admins'],
    ]);
  });

  it('knows sensitive groups by well-known SID or RID, and through nesting', () => {
    const bySid = run(
      { testMode: true },
      [groupChange(0, 'a', 'Admins-renamed', 'eve', 'Added', 'S-1-5-32-544')],
      'identity/sensitive-group-addition',
    );
    const byRid = run(
      { testMode: true },
      [groupChange(0, 'a', 'DA', 'eve', 'Added', 'S-1-5-21-1-2-3-512')],
      'identity/sensitive-group-addition',
    );
    // Helpdesk is added to Domain Admins (alert), then eve to Helpdesk (alert: nested).
    const nested = run(
      { testMode: true },
      [groupChange(0, 'a', 'Domain Admins', 'Helpdesk'), groupChange(60, 'a', 'Helpdesk', 'eve')],
      'identity/sensitive-group-addition',
    );
    expect([bySid.length, byRid.length, nested.length]).toEqual([1, 1, 2]);
  });

  it('does not alert for ordinary groups, removals, or an excluded actor', () => {
    expect(
      run(
        { testMode: true },
        [groupChange(0, 'a', 'Marketing', 'eve'), groupChange(1, 'a', 'Domain Admins', 'eve', 'Removed')],
        'identity/sensitive-group-addition',
      ),
    ).toEqual([]);
    expect(
      run(
        { testMode: true, exclusions: { accounts: ['mallory'] } },
        [groupChange(0, 'mallory', 'Domain Admins', 'eve')],
        'identity/sensitive-group-addition',
      ),
    ).toEqual([]);
  });

  it('learns for four weeks at the High level, and alerts at Medium at once', () => {
    const add = [groupChange(0, 'mallory', 'Domain Admins', 'eve')];
    expect(run({}, add, 'identity/sensitive-group-addition')).toEqual([]);
    expect(
      run(
        { levels: { 'identity/sensitive-group-addition': 'medium' } },
        add,
        'identity/sensitive-group-addition',
      ),
    ).toHaveLength(1);
  });
});

describe('bounded state', () => {
  const flood = (engine: IdentityEngine, from: number, n: number) => {
    for (let i = from; i < from + n; i++) {
      const [r, e] = kerberosFailure(i, `user${i % 7}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      engine.push(r, e);
    }
  };

  it('caps the brute-force state at its source limit however many sources fail', () => {
    const engine = new IdentityEngine(
      identityDetectors.filter((d) => d.meta.id === 'identity/brute-force'),
      {},
    );
    flood(engine, 0, 60_000);
    expect(engine.size).toBeLessThanOrEqual(50_000 + 10);
  });

  it('stops growing: twice as many sources leave every detector no bigger', () => {
    const engine = new IdentityEngine(identityDetectors, {});
    flood(engine, 0, 120_000);
    const after = engine.size;
    flood(engine, 120_000, 120_000);
    expect(engine.size).toBeLessThanOrEqual(after);
  });
});
