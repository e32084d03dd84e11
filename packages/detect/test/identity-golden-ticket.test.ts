// Suspected Golden Ticket usage: nonexistent account (2027) — an account never shown to exist
// with a forged-looking name or domain — and time anomaly (2022) — a service ticket requested
// with a TGT older than the maximum lifetime, or one the KDC never issued.
import { describe, expect, it } from 'vitest';
import {
  goldenTicketNonexistentAccountDetector,
  goldenTicketTimeAnomalyDetector,
} from '../src/identity/golden-ticket-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

const HOUR = 3600;

function run(config: IdentityEngineConfig, rows: ReturnType<typeof row>[]): Alert[] {
  const engine = new IdentityEngine(
    [goldenTicketNonexistentAccountDetector, goldenTicketTimeAnomalyDetector],
    config,
  );
  return rows.flatMap(([r, e]) => engine.push(r, e));
}

const brief = (a: Alert) => [a.externalId, a.entities?.accounts, a.entities?.ips, a.description];

/** A TGT issued (4768) to `account` of `realm` for `ip`. */
const tgt = (seconds: number, account: string, ip: string, realm = 'CORP.LOCAL') =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonSuccess',
      Protocol: 'Kerberos',
      LogonType: 'Credentials Validation',
      AccountName: account,
      AccountDomain: realm,
      IPAddress: ip,
      DestinationDeviceName: 'DC01',
    },
    {
      EventId: 4768,
      KerberosRequest: 'AS',
      ServiceName: 'krbtgt',
      PreAuthType: '2',
      TicketEncryptionType: '0x12',
    },
  );

/** A service ticket requested (4769), or with `eventId` 4770 renewed, by `account` from `ip`. */
const tgs = (
  seconds: number,
  account: string,
  ip: string,
  service = 'FS01$',
  realm = 'CORP.LOCAL',
  eventId = 4769,
) =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonSuccess',
      Protocol: 'Kerberos',
      LogonType: 'Resource Access',
      AccountName: account,
      AccountDomain: realm,
      IPAddress: ip,
      DestinationDeviceName: 'DC01',
      TargetAccountDisplayName: service,
    },
    { EventId: eventId, KerberosRequest: 'TGS', ServiceName: service, TicketEncryptionType: '0x12' },
  );

/** A Kerberos network logon (4624) on FS01 by `account` of `domain`. */
const kerberosLogon = (seconds: number, account: string, domain: string, ip: string) =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonSuccess',
      Protocol: 'Kerberos',
      LogonType: 'Resource Access',
      AccountName: account,
      AccountDomain: domain,
      IPAddress: ip,
      DestinationDeviceName: 'FS01',
    },
    { EventId: 4624, LogonProcessName: 'Kerberos' },
  );

/** Normal activity that teaches the realm and the NetBIOS name: alice gets a TGT and logs on. */
const normal = [
  tgt(0, 'alice', '10.0.0.11'),
  tgs(1, 'alice', '10.0.0.11'),
  kerberosLogon(2, 'alice', 'CORP', '10.0.0.11'),
];

describe('Golden Ticket, nonexistent account (2027)', () => {
  it('alerts on an unknown account with the mimikatz domain, a domain spelled unlike the others, or a random name', () => {
    const rows = [
      ...normal,
      kerberosLogon(60, 'ghost', 'eo.oe.kiwi : )', '10.0.0.66'),
      kerberosLogon(61, 'phantom', 'corp', '10.0.0.66'),
      tgs(62, 'mirage', '10.0.0.67', 'FS01$', 'corp.local'),
      tgs(63, 'x7k2q9p4', '10.0.0.67'),
    ];
    expect(run({}, rows).map(brief)).toEqual([
      [
        2027,
        ['eo.oe.kiwi : )\\ghost'],
        ['10.0.0.66'],
        'eo.oe.kiwi : )\\ghost logged on with Kerberos to FS01 from 10.0.0.66, but the domain has never shown this account to exist, and its domain "eo.oe.kiwi : )" is the one mimikatz writes into forged tickets',
      ],
      [
        2027,
        ['corp\\phantom'],
        ['10.0.0.66'],
        'corp\\phantom logged on with Kerberos to FS01 from 10.0.0.66, but the domain has never shown this account to exist, and its domain is spelled "corp", unlike in other logons',
      ],
      [
        2027,
        ['corp.local\\mirage'],
        ['10.0.0.67'],
        'corp.local\\mirage requested a service ticket for FS01$ from 10.0.0.67, but the domain has never shown this account to exist, and its domain is spelled "corp.local", unlike in other service-ticket requests',
      ],
      [
        2027,
        ['CORP.LOCAL\\x7k2q9p4'],
        ['10.0.0.67'],
        'CORP.LOCAL\\x7k2q9p4 requested a service ticket for FS01$ from 10.0.0.67, but the domain has never shown this account to exist, and its name "x7k2q9p4" looks random',
      ],
    ]);
  });

  it('alerts on a Kerberos logon naming the domain by its DNS name, or no domain', () => {
    const rows = [
      ...normal,
      kerberosLogon(60, 'phantom', 'CORP.LOCAL', '10.0.0.66'),
      kerberosLogon(61, 'wraith', '', '10.0.0.66'),
    ];
    expect(run({}, rows).map((a) => a.description)).toEqual([
      'CORP.LOCAL\\phantom logged on with Kerberos to FS01 from 10.0.0.66, but the domain has never shown this account to exist, and its logon names the domain by its DNS name "CORP.LOCAL" where Windows writes the NetBIOS name',
      'wraith logged on with Kerberos to FS01 from 10.0.0.66, but the domain has never shown this account to exist, and its logon names no domain',
    ]);
  });

  it('does not alert for known accounts, ordinary names, or users of other (trusted) domains', () => {
    const rows = [
      ...normal,
      // alice is known (she got a TGT), even with an odd-looking domain.
      kerberosLogon(60, 'alice', 'corp.local', '10.0.0.11'),
      // A TGT request keeps the realm as the client typed it: no guide to the usual spelling.
      tgt(60, 'dave', '10.0.0.15', 'corp.local'),
      tgs(61, 'erin', '10.0.0.16'),
      // bob never got a TGT in view (it was issued before the logs start), but nothing looks forged.
      tgs(61, 'bob', '10.0.0.12'),
      kerberosLogon(62, 'bob', 'CORP', '10.0.0.12'),
      // A user of a trusted domain presents a referral ticket.
      tgs(63, 'carol', '10.0.0.13', 'FS01$', 'PARTNER.COM'),
      // A wrong password proves svc01a2b3 exists.
      row(
        'IdentityLogonEvents',
        64,
        {
          ActionType: 'LogonFailed',
          AccountName: 'svc01a2b3',
          FailureReason: 'WrongPassword',
          IPAddress: '10.0.0.14',
        },
        { EventId: 4771, KerberosRequest: 'AS' },
      ),
      tgs(65, 'svc01a2b3', '10.0.0.14'),
    ];
    expect(run({}, rows).filter((a) => a.externalId === 2027)).toEqual([]);
  });

  it('raises one alert per account and source within the hour', () => {
    const rows = [
      ...normal,
      ...Array.from({ length: 5 }, (_, i) => kerberosLogon(60 + i, 'ghost', 'eo.oe.kiwi : )', '10.0.0.66')),
    ];
    expect(run({}, rows).filter((a) => a.externalId === 2027)).toHaveLength(1);
  });

  it('does not alert for an excluded source', () => {
    const rows = [...normal, kerberosLogon(60, 'ghost', 'eo.oe.kiwi : )', '10.0.0.66')];
    expect(
      run(
        { detectorExclusions: { 'identity/golden-ticket-nonexistent-account': { ips: ['10.0.0.66'] } } },
        rows,
      ),
    ).toEqual([]);
  });
});

describe('Golden Ticket, time anomaly (2022)', () => {
  it('alerts on a service ticket requested with a TGT issued more than 10 hours (and the tolerance) earlier', () => {
    const rows = [
      tgt(0, 'alice', '10.0.0.11'),
      tgs(HOUR, 'alice', '10.0.0.11'),
      tgs(12 * HOUR, 'alice', '10.0.0.11', 'SQL01$'),
      tgs(12 * HOUR + 60, 'alice', '10.0.0.11'),
    ];
    expect(run({}, rows).map(brief)).toEqual([
      [
        2022,
        ['CORP.LOCAL\\alice'],
        ['10.0.0.11'],
        'CORP.LOCAL\\alice requested a service ticket for SQL01$ from 10.0.0.11 with a TGT last issued or renewed to that address 12 hours earlier, beyond the maximum ticket lifetime of 10 hours',
      ],
    ]);
  });

  it('takes a new TGT or a renewal as a fresh ticket, and the tolerance per level', () => {
    const renewed = [
      tgt(0, 'alice', '10.0.0.11'),
      tgs(9 * HOUR, 'alice', '10.0.0.11', 'krbtgt', 'CORP.LOCAL', 4770),
      tgs(15 * HOUR, 'alice', '10.0.0.11'),
    ];
    const reissued = [
      tgt(0, 'alice', '10.0.0.11'),
      tgt(10 * HOUR, 'alice', '10.0.0.11'),
      tgs(15 * HOUR, 'alice', '10.0.0.11'),
    ];
    expect(run({}, [...renewed, ...reissued])).toEqual([]);
    // 10 h 30 min: within the High level's hour of tolerance, beyond the Low level's five minutes.
    const late = [tgt(0, 'alice', '10.0.0.11'), tgs(10.5 * HOUR, 'alice', '10.0.0.11')];
    expect(run({}, late)).toEqual([]);
    expect(run({ testMode: true }, late)).toHaveLength(1);
  });

  it('alerts on a TGT never issued to the address once a whole lifetime has been watched', () => {
    const quiet = [tgt(0, 'alice', '10.0.0.11')];
    // Within the first lifetime, bob's TGT may predate the logs.
    expect(run({}, [...quiet, tgs(HOUR, 'bob', '10.0.0.66')])).toEqual([]);
    expect(run({}, [...quiet, tgs(12 * HOUR, 'bob', '10.0.0.66')]).map(brief)).toEqual([
      [
        2022,
        ['CORP.LOCAL\\bob'],
        ['10.0.0.66'],
        'CORP.LOCAL\\bob requested a service ticket for FS01$ from 10.0.0.66 with a TGT the KDC has not issued to that address in the 12 hours observed, beyond the maximum ticket lifetime of 10 hours',
      ],
    ]);
  });

  it('does not alert for a roaming account with a live TGT elsewhere, other realms, or DCs', () => {
    const rows = [
      tgt(0, 'alice', '10.0.0.11'),
      tgt(11 * HOUR, 'alice', '10.0.0.12'),
      tgs(11 * HOUR + 60, 'alice', '10.0.0.13'),
      tgs(12 * HOUR, 'carol', '10.0.0.14', 'FS01$', 'PARTNER.COM'),
      tgs(12 * HOUR, 'DC02$', '10.0.0.3'),
      tgs(12 * HOUR, 'svc', '::1'),
    ];
    expect(run({ domainControllers: ['DC02'] }, rows)).toEqual([]);
  });

  it('raises one alert per account and source within a lifetime, and none for an excluded account', () => {
    const rows = [
      tgt(0, 'alice', '10.0.0.11'),
      ...Array.from({ length: 5 }, (_, i) => tgs(12 * HOUR + i * 60, 'alice', '10.0.0.11', `SRV${i}$`)),
    ];
    expect(run({}, rows)).toHaveLength(1);
    expect(run({ exclusions: { accounts: ['CORP\\alice'] } }, rows)).toEqual([]);
  });
});
