// Batch A's identity detectors over real EVTX-ATTACK-SAMPLES records, through the Windows
// normaliser: account enumeration (kerberos_pwd_spray_4771: seven unknown names, then wrong
// passwords for Administrator and backdoor, from 172.16.66.1), a honeytoken among those names,
// pass-the-hash by mimikatz sekurlsa::pth and by a seclogon impersonation tool, and the noPac
// sample's ordinary TGT and service-ticket requests, on which the Kerberos detectors stay quiet.
// Expected accounts read with `palisade evtx dump FILE`.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEvtx } from '@palisade/evtx';
import { normaliseWindowsEvent } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import { accountEnumerationDetector } from '../src/identity/account-enumeration-detector.ts';
import { asrepRoastingDetector } from '../src/identity/asrep-roasting-detector.ts';
import type { IdentityDetector } from '../src/identity/detector.ts';
import {
  goldenTicketNonexistentAccountDetector,
  goldenTicketTimeAnomalyDetector,
} from '../src/identity/golden-ticket-detector.ts';
import { honeytokenAuthDetector } from '../src/identity/honeytoken-auth-detector.ts';
import { kerberoastingDetector } from '../src/identity/kerberoasting-detector.ts';
import { passTheHashDetector } from '../src/identity/pass-the-hash-detector.ts';
import { type Alert, type AlertEvent, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';

const samples = resolve(import.meta.dirname, '../../../../shared/corpus/evtx-attack-samples');
const missing = existsSync(samples) ? undefined : `EVTX-ATTACK-SAMPLES not found at ${samples}`;
if (missing) console.log(`skipping identity batch A corpus test: ${missing}`);

const batchA: readonly IdentityDetector[] = [
  accountEnumerationDetector,
  honeytokenAuthDetector,
  passTheHashDetector,
  kerberoastingDetector,
  asrepRoastingDetector,
  goldenTicketNonexistentAccountDetector,
  goldenTicketTimeAnomalyDetector,
];

/** The alerts of batch A's detectors over one sample file's Identity rows, in event-time order. */
function scan(file: string, config: IdentityEngineConfig = {}): Alert[] {
  const rows = parseEvtx(readFileSync(join(samples, file))).events.flatMap((event) => {
    const ref: AlertEvent = {
      file,
      recordId: event.system.eventRecordId ?? event.recordId,
      timestamp: event.timestamp,
      channel: event.system.channel,
      eventId: event.system.eventId,
      computer: event.system.computer,
    };
    return normaliseWindowsEvent(event, file)
      .filter((row) => row.table.startsWith('Identity'))
      .map((row) => ({ row, ref, time: Date.parse(String(row.values.Timestamp)) }));
  });
  rows.sort((a, b) => a.time - b.time);
  const engine = new IdentityEngine(batchA, config);
  return rows.flatMap(({ row, ref }) => engine.push(row, ref));
}

const brief = (a: Alert) => ({
  externalId: a.externalId,
  accounts: a.entities?.accounts,
  devices: a.entities?.devices,
  ips: a.entities?.ips,
  targets: a.targets?.accounts,
  records: a.events.map((e) => e.recordId),
});

describe.skipIf(missing !== undefined)('identity batch A over EVTX-ATTACK-SAMPLES', () => {
  const spray = 'Credential Access/kerberos_pwd_spray_4771.evtx';

  it('finds the account enumeration from 172.16.66.1 in test mode, not at the High level', () => {
    const alerts = scan(spray, { testMode: true });
    expect(alerts.map(brief)).toEqual([
      {
        externalId: 2003,
        accounts: [],
        devices: [],
        ips: ['172.16.66.1'],
        targets: [],
        records: [887107, 887108, 887109],
      },
    ]);
    expect(alerts[0]?.description).toBe(
      '172.16.66.1 tried 3 account names within 30 minutes, 3 of them unknown to the domain; none matched; unknown names tried: HD01, admin, svc-02',
    );
    expect(scan(spray)).toEqual([]);
  });

  it('finds a honeytoken among the sprayed accounts', () => {
    const alerts = scan(spray, { honeytokenAccounts: ['backdoor'] });
    expect(alerts.map(brief)).toEqual([
      {
        externalId: 2014,
        accounts: ['backdoor'],
        devices: [],
        ips: ['172.16.66.1'],
        targets: [],
        records: [887115],
      },
    ]);
  });

  it('finds pass-the-hash by mimikatz sekurlsa::pth and by a seclogon impersonation tool', () => {
    expect(scan('Lateral Movement/LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx').map(brief)).toEqual([
      {
        externalId: 2017,
        accounts: ['EXAMPLE\\user01'],
        devices: ['PC01.example.corp'],
        ips: [],
        targets: undefined,
        records: [432903],
      },
    ]);
    expect(scan('Credential Access/tutto_malseclogon.evtx').map(brief)).toEqual([
      {
        externalId: 2017,
        accounts: ['MSEDGEWIN10\\IEUser'],
        devices: ['MSEDGEWIN10'],
        ips: [],
        targets: undefined,
        records: [329918],
      },
    ]);
  });

  it('stays quiet on ordinary TGT and service-ticket requests, in test mode too', () => {
    const noPac =
      'Privilege Escalation/samaccount_spoofing_CVE-2021-42287_CVE-2021-42278_DC_securitylogs.evtx';
    expect(scan(noPac, { testMode: true })).toEqual([]);
  });
});
