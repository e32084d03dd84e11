// Kerberos encryption downgrades (2008 over-pass-the-hash, 2009 golden ticket) on hand-written
// rows in the network normaliser's shape (AdditionalFields PreAuthEncryptionType, TgtId,
// PresentedTicket*). The lab capture's real case of 2008 — GetUserSPNs.py turning alice's
// password into her NT hash and asking a TGT with RC4 after an AES one — is checked by the
// lab tests (identity-network-lab.test.ts).
import { describe, expect, it } from 'vitest';
import { IdentityEngine, type IdentityEngineConfig, identityDetectors } from '../src/index.ts';
import { row } from './identity-rows.ts';

const DAY = 86_400;
const only = (id: number) => identityDetectors.filter((d) => d.meta.externalId === id);

const asExchange = (
  seconds: number,
  account: string,
  preAuth: string,
  ip = '10.0.0.21',
  tgt?: [string, string],
) =>
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
      DestinationIPAddress: '10.0.0.10',
    },
    {
      Source: 'network',
      KerberosRequest: 'AS',
      ServiceName: 'krbtgt/CORP.LOCAL',
      PreAuthEncryptionType: preAuth,
      ...(tgt ? { TgtEncryptionType: tgt[0], TgtId: tgt[1] } : {}),
    },
  );

const tgsRequest = (
  seconds: number,
  presented: [string, string],
  ip = '10.0.0.66',
  result = 'LogonSuccess',
) =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: result,
      Protocol: 'Kerberos',
      LogonType: 'Resource Access',
      AccountName: 'administrator',
      AccountDomain: 'CORP.LOCAL',
      TargetAccountDisplayName: 'cifs/dc01.corp.local',
      IPAddress: ip,
      DestinationIPAddress: '10.0.0.10',
    },
    {
      Source: 'network',
      KerberosRequest: 'TGS',
      ServiceName: 'cifs/dc01.corp.local',
      PresentedTicketService: 'krbtgt/CORP.LOCAL',
      PresentedTicketEncryptionType: presented[0],
      PresentedTicketId: presented[1],
    },
  );

function alerts(
  detectors: typeof identityDetectors,
  config: IdentityEngineConfig,
  rows: ReturnType<typeof row>[],
) {
  const engine = new IdentityEngine(detectors, config);
  return rows
    .flatMap(([r, e]) => engine.push(r, e))
    .map((a) => [a.externalId, a.entities?.ips, a.description]);
}

describe('over-pass-the-hash (2008)', () => {
  it('alerts when an account that used AES pre-authenticates with RC4, once per account and source', () => {
    expect(
      alerts(only(2008), { testMode: true }, [
        asExchange(0, 'alice', '0x12'),
        asExchange(60, 'alice', '0x17', '10.0.0.66'),
        asExchange(61, 'alice', '0x17', '10.0.0.66'),
      ]),
    ).toEqual([
      [
        2008,
        ['10.0.0.66'],
        '10.0.0.66 got a TGT for CORP.LOCAL\\alice pre-authenticating with RC4 (0x17), though CORP.LOCAL\\alice pre-authenticated with AES256 (0x12) before: an encryption downgrade as over-pass-the-hash forces',
      ],
    ]);
  });

  it('stays silent for accounts never seen with AES, with AES only, after 30 days, or excluded', () => {
    const config = { testMode: true };
    expect(
      alerts(only(2008), config, [asExchange(0, 'legacy', '0x17'), asExchange(5, 'legacy', '0x17')]),
    ).toEqual([]);
    expect(alerts(only(2008), config, [asExchange(0, 'bob', '0x12'), asExchange(5, 'bob', '0x11')])).toEqual(
      [],
    );
    expect(
      alerts(only(2008), config, [asExchange(0, 'carol', '0x12'), asExchange(31 * DAY, 'carol', '0x17')]),
    ).toEqual([]);
    expect(
      alerts(only(2008), { testMode: true, exclusions: { accounts: ['alice'] } }, [
        asExchange(0, 'alice', '0x12'),
        asExchange(60, 'alice', '0x17'),
      ]),
    ).toEqual([]);
  });

  it('learns for 30 days at the High level', () => {
    const rows = [
      asExchange(0, 'alice', '0x12'),
      asExchange(DAY, 'alice', '0x17'),
      asExchange(31 * DAY - 10, 'alice', '0x12'),
    ];
    expect(alerts(only(2008), {}, [...rows, asExchange(31 * DAY, 'alice', '0x17', '10.0.0.99')])).toEqual([
      [2008, ['10.0.0.99'], expect.stringContaining('pre-authenticating with RC4 (0x17)')],
    ]);
  });
});

describe('golden ticket by encryption downgrade (2009)', () => {
  const aesTgt: [string, string] = ['0x12', 'aa'.repeat(16)];
  it('alerts on an RC4 TGT no exchange issued, in a realm whose TGTs are AES', () => {
    expect(
      alerts(only(2009), { testMode: true }, [
        asExchange(0, 'alice', '0x12', '10.0.0.21', aesTgt),
        tgsRequest(10, aesTgt, '10.0.0.21'),
        tgsRequest(20, ['0x17', 'bb'.repeat(16)]),
        tgsRequest(21, ['0x17', 'bb'.repeat(16)]),
      ]),
    ).toEqual([
      [
        2009,
        ['10.0.0.66'],
        '10.0.0.66 presented a TGT of CORP.LOCAL encrypted with RC4 (0x17) for CORP.LOCAL\\administrator, though the realm issues its TGTs with AES256 (0x12) and no exchange seen issued this one: a forged ticket',
      ],
    ]);
  });

  it('stays silent for tickets it saw issued, for AES tickets it did not, and before it knows the realm', () => {
    const rc4Tgt: [string, string] = ['0x17', 'cc'.repeat(16)];
    // An RC4 TGT the KDC issued itself (an account or realm without AES keys) is no forgery.
    expect(
      alerts(only(2009), { testMode: true }, [
        asExchange(0, 'alice', '0x12', '10.0.0.21', aesTgt),
        asExchange(1, 'legacy', '0x17', '10.0.0.22', rc4Tgt),
        tgsRequest(10, rc4Tgt, '10.0.0.22'),
        tgsRequest(11, ['0x12', 'dd'.repeat(16)]),
      ]),
    ).toEqual([]);
    expect(alerts(only(2009), { testMode: true }, [tgsRequest(10, ['0x17', 'bb'.repeat(16)])])).toEqual([]);
  });

  it('learns for 5 days at the High level', () => {
    const forged: [string, string] = ['0x17', 'ee'.repeat(16)];
    expect(
      alerts(only(2009), {}, [
        asExchange(0, 'alice', '0x12', '10.0.0.21', aesTgt),
        tgsRequest(DAY, forged),
        tgsRequest(6 * DAY, forged, '10.0.0.77'),
      ]),
    ).toEqual([[2009, ['10.0.0.77'], expect.stringContaining('a forged ticket')]]);
  });
});
