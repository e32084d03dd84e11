// Suspected Kerberos SPN exposure (2410): service tickets for many user-account services from one
// account and source within minutes, RC4 above all, alert once per incident.
import { describe, expect, it } from 'vitest';
import { kerberoastingDetector } from '../src/identity/kerberoasting-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';
import { row } from './identity-rows.ts';

function run(config: IdentityEngineConfig, rows: ReturnType<typeof row>[]): Alert[] {
  const engine = new IdentityEngine([kerberoastingDetector], config);
  return rows.flatMap(([r, e]) => engine.push(r, e));
}

/** A service ticket request (4769) by `account` from `ip` for `service`. */
const tgs = (seconds: number, account: string, ip: string, service: string, encryption = '0x17') =>
  row(
    'IdentityLogonEvents',
    seconds,
    {
      ActionType: 'LogonSuccess',
      Protocol: 'Kerberos',
      LogonType: 'Resource Access',
      AccountName: account,
      AccountDomain: 'CORP.LOCAL',
      IPAddress: ip,
      DestinationDeviceName: 'DC01',
      TargetAccountDisplayName: service,
    },
    {
      EventId: 4769,
      KerberosRequest: 'TGS',
      ServiceName: service,
      TicketEncryptionType: encryption,
      TicketOptions: '0x40810000',
    },
  );

const roast = (n: number, encryption = '0x17', ip = '10.0.0.66') =>
  Array.from({ length: n }, (_, i) => tgs(i, 'mallory', ip, `svc_app${i}`, encryption));

describe('Kerberoasting (2410)', () => {
  it('alerts at five RC4 service tickets within five minutes, naming the requester, address and services', () => {
    const alerts = run({}, roast(7));
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
        2410,
        'Suspected Kerberos SPN exposure',
        'high',
        { accounts: ['CORP.LOCAL\\mallory'], devices: [], ips: ['10.0.0.66'] },
        { accounts: ['svc_app0', 'svc_app1', 'svc_app2', 'svc_app3', 'svc_app4'], devices: ['DC01'] },
        'CORP.LOCAL\\mallory requested service tickets for 5 services from 10.0.0.66 within 5 minutes, 5 of them RC4-encrypted: svc_app0, svc_app1, svc_app2, svc_app3, svc_app4',
        5,
      ],
    ]);
  });

  it('needs 20 services when the tickets are AES', () => {
    expect(run({}, roast(19, '0x12'))).toEqual([]);
    expect(run({}, roast(20, '0x12'))).toHaveLength(1);
  });

  it('stays quiet below the threshold and for computer services, krbtgt and DCs', () => {
    expect(run({}, roast(4))).toEqual([]);
    const ordinary = [
      ...Array.from({ length: 10 }, (_, i) => tgs(i, 'alice', '10.0.0.11', `SRV${i}$`)),
      tgs(20, 'alice', '10.0.0.11', 'krbtgt'),
      tgs(21, 'alice', '10.0.0.11', 'krbtgt/CORP.LOCAL'),
    ];
    expect(run({ testMode: true }, ordinary)).toEqual([]);
    expect(run({ domainControllers: ['10.0.0.2'] }, roast(7, '0x17', '10.0.0.2'))).toEqual([]);
    // Requests spread over more than the window.
    const slow = Array.from({ length: 10 }, (_, i) => tgs(i * 100, 'mallory', '10.0.0.66', `svc_app${i}`));
    expect(run({}, slow)).toEqual([]);
  });

  it('alerts at two RC4 services in test mode, and once for a long run of requests', () => {
    expect(run({ testMode: true }, roast(1))).toEqual([]);
    expect(run({ testMode: true }, roast(2))).toHaveLength(1);
    expect(run({}, roast(300))).toHaveLength(1);
  });

  it('does not alert for an excluded account or address', () => {
    expect(run({ exclusions: { accounts: ['mallory'] } }, roast(7))).toEqual([]);
    expect(
      run({ detectorExclusions: { 'identity/kerberoasting': { ips: ['10.0.0.0/8'] } } }, roast(7)),
    ).toEqual([]);
  });
});
