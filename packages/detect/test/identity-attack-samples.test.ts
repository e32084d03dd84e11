// The directory detectors on real records from EVTX-ATTACK-SAMPLES: each file read, normalised
// and run through every detector here; the alerts must name the accounts the records show (read
// with `palisade evtx dump FILE`). Skips with a printed reason when ../shared is absent.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readEvtx } from '@palisade/evtx';
import { normaliseWindowsEvent } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import { adminSdHolderDetector } from '../src/identity/adminsdholder-detector.ts';
import { dcShadowPromotionDetector, dcShadowReplicationDetector } from '../src/identity/dcshadow-detector.ts';
import { dsrmDetector } from '../src/identity/dsrm-detector.ts';
import { gpoTamperingDetector } from '../src/identity/gpo-tampering-detector.ts';
import {
  honeytokenChangeDetector,
  honeytokenGroupDetector,
} from '../src/identity/honeytoken-change-detector.ts';
import { rbcdDetector } from '../src/identity/rbcd-detector.ts';
import { samNameSpoofingDetector } from '../src/identity/samname-spoofing-detector.ts';
import { serviceCreationDetector } from '../src/identity/service-creation-detector.ts';
import { shadowCredentialsDetector } from '../src/identity/shadow-credentials-detector.ts';
import { sidHistoryDetector } from '../src/identity/sid-history-detector.ts';
import { zerologonDetector } from '../src/identity/zerologon-detector.ts';
import { type Alert, IdentityEngine, type IdentityEngineConfig } from '../src/index.ts';

const samples = resolve(import.meta.dirname, '../../../../shared/corpus/evtx-attack-samples');
const missing = existsSync(samples) ? undefined : `EVTX-ATTACK-SAMPLES not found at ${samples}`;
if (missing) console.log(`skipping identity-attack-samples: ${missing}`);

const detectors = [
  sidHistoryDetector,
  serviceCreationDetector,
  dcShadowPromotionDetector,
  dcShadowReplicationDetector,
  zerologonDetector,
  samNameSpoofingDetector,
  rbcdDetector,
  honeytokenChangeDetector,
  honeytokenGroupDetector,
  adminSdHolderDetector,
  shadowCredentialsDetector,
  dsrmDetector,
  gpoTamperingDetector,
];

/** The alerts of one file, briefly: detector, level, description, acting accounts, record ids. */
async function alertsOf(file: string, config: IdentityEngineConfig = {}) {
  const engine = new IdentityEngine(detectors, config);
  const alerts: Alert[] = [];
  for await (const event of readEvtx(join(samples, file))) {
    const recordId = event.system.eventRecordId;
    const ref = {
      file,
      ...(recordId === undefined ? {} : { recordId }),
      timestamp: event.timestamp,
      channel: event.system.channel,
      eventId: event.system.eventId,
      computer: event.system.computer,
    };
    for (const row of normaliseWindowsEvent(event)) alerts.push(...engine.push(row, ref));
  }
  return alerts.map((a) => [
    a.detectorId,
    a.level,
    a.description,
    a.entities?.accounts,
    a.events.map((e) => e.recordId),
  ]);
}

describe.skipIf(missing !== undefined)('directory detectors on EVTX-ATTACK-SAMPLES', () => {
  it('1106: the SID of Domain Admins added to the SID history of Andrei (4765)', async () => {
    expect(await alertsOf('Privilege Escalation/4765_sidhistory_add_t1178.evtx')).toEqual([
      [
        'identity/sid-history',
        'high',
        'MAINCORP\\Administrator added the SID S-1-5-21-2634088540-571122920-1382659128-512 of maincorp.local\\Domain Admins (a sensitive group) to the SID history of Andrei',
        ['MAINCORP\\Administrator'],
        [8075],
      ],
    ]);
  });

  it('2427: the same change, with Andrei a honeytoken', async () => {
    const alerts = await alertsOf('Privilege Escalation/4765_sidhistory_add_t1178.evtx', {
      honeytokenAccounts: ['MAINCORP\\Andrei'],
    });
    expect(alerts.map((a) => [a[0], a[2]])).toEqual([
      [
        'identity/sid-history',
        'MAINCORP\\Administrator added the SID S-1-5-21-2634088540-571122920-1382659128-512 of maincorp.local\\Domain Admins (a sensitive group) to the SID history of Andrei',
      ],
      [
        'identity/honeytoken-attributes',
        'MAINCORP\\Administrator changed the honeytoken account Andrei: SID-History changed',
      ],
    ]);
  });

  it('2026: services running cmd.exe, and a named-pipe impersonation, on hosts configured as DCs (7045)', async () => {
    const remote = 'Lateral Movement/LM_Remote_Service02_7045.evtx';
    expect(await alertsOf(remote)).toEqual([]);
    expect(await alertsOf(remote, { domainControllers: ['WIN-77LTAPHIQ1R'] })).toEqual([
      [
        'identity/suspicious-service',
        'medium',
        'S-1-5-21-1587066498-1489273250-1035260531-1108 created the service spoolfool on WIN-77LTAPHIQ1R.example.corp running as LocalSystem: cmd.exe — it runs a command shell',
        ['S-1-5-21-1587066498-1489273250-1035260531-1108'],
        [4480],
      ],
      [
        'identity/suspicious-service',
        'medium',
        'S-1-5-21-1587066498-1489273250-1035260531-1108 created the service spoolsv on WIN-77LTAPHIQ1R.example.corp running as LocalSystem: cmd.exe — it runs a command shell',
        ['S-1-5-21-1587066498-1489273250-1035260531-1108'],
        [4482],
      ],
    ]);
    expect(
      await alertsOf('Privilege Escalation/System_7045_namedpipe_privesc.evtx', { testMode: true }),
    ).toEqual([
      [
        'identity/suspicious-service',
        'medium',
        "S-1-5-21-3583694148-1414552638-2922671848-1000 created the service WinPwnage on IEWIN7 running as LocalSystem: %COMSPEC% /c ping -n 1 127.0.0.1 >nul && echo 'WinPwnage' > \\\\.\\pipe\\WinPwnagePipe — it runs a command shell; writes to a named pipe (token impersonation); echoes a command into a file or pipe (smbexec)",
        ['S-1-5-21-3583694148-1414552638-2922671848-1000'],
        [10446],
      ],
    ]);
  });

  it('2028 and 2029: mimikatz lsadump::dcshadow registering ALICE and pushing from it (4742, 4662)', async () => {
    expect(await alertsOf('Persistence/persistence_security_dcshadow_4742.evtx')).toEqual([
      [
        'identity/dcshadow-promotion',
        'high',
        'insecurebank\\Administrator registered ALICE$ as a domain controller (gave it the SPN GC/alice.insecurebank.local/insecurebank.local); it is not a known domain controller',
        ['insecurebank\\Administrator'],
        [203054],
      ],
      [
        'identity/dcshadow-replication',
        'high',
        'insecurebank\\Administrator used DS-Replication-Manage-Topology against DC1.insecurebank.local, and is not a domain controller',
        ['insecurebank\\Administrator'],
        [203058],
      ],
    ]);
  });

  it("2411: Zerologon's failed Netlogon session as the DC (5805) and its anonymous password reset (4742)", async () => {
    expect(
      await alertsOf(
        'Credential Access/Zerologon_CVE-2020-1472_DFIR_System_NetLogon_Error_EventID_5805.evtx',
      ),
    ).toEqual([
      [
        'identity/zerologon',
        'high',
        'The domain controller 01566S-WIN16-IR failed to authenticate a Netlogon session (logged on 01566s-win16-ir.threebeesco.com)',
        [],
        [63221],
      ],
    ]);
    expect(
      await alertsOf(
        'Credential Access/Zerologon_VoidSec_CVE-2020-1472_4626_LT3_Anonym_follwedby_4742_DC_Anony_DC.evtx',
      ),
    ).toEqual([
      [
        'identity/zerologon',
        'high',
        'The domain controller 01566S-WIN16-IR$ had its password set by ANONYMOUS LOGON (logged on 01566s-win16-ir.threebeesco.com)',
        ['NT AUTHORITY\\ANONYMOUS LOGON'],
        [768623],
      ],
    ]);
  });

  it("2419: noPac renaming DC012$ to the DC's name and back (4741, 4742, 4781)", async () => {
    expect(
      await alertsOf(
        'Privilege Escalation/samaccount_spoofing_CVE-2021-42287_CVE-2021-42278_DC_securitylogs.evtx',
      ),
    ).toEqual([
      [
        'identity/samname-spoofing',
        'high',
        '3B\\lgrove renamed the computer account DC012$ to the name of the domain controller 01566s-win16-ir',
        ['3B\\lgrove'],
        [2982093],
      ],
    ]);
  });

  it('2438: the DSRM password set on 2016DC (4794)', async () => {
    expect(await alertsOf('Credential Access/4794_DSRM_password_change_t1098.evtx')).toEqual([
      [
        'identity/dsrm-password',
        'medium',
        'HQCORP\\administrator set the Directory Services Restore Mode password on 2016dc.hqcorp.local from 2016DC',
        ['HQCORP\\administrator'],
        [3139859],
      ],
    ]);
  });

  it('stays quiet on GPO version bumps and descriptor changes of the domain object (5136), even in test mode', async () => {
    expect(
      await alertsOf('Credential Access/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx', { testMode: true }),
    ).toEqual([]);
    expect(
      await alertsOf('Persistence/DACL_DCSync_Right_Powerview_ Add-DomainObjectAcl.evtx', { testMode: true }),
    ).toEqual([]);
  });
});
