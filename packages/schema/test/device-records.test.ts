// The Sysmon and Security device normalisers on real records: for one record of each event they
// map, the whole row. Expected values are written by hand from the record as libevtx's
// `evtxexport -f xml FILE` prints it (an independent reader), with these conventions applied by
// hand: Timestamp is TimeCreated at FILETIME's 100 ns (7 digits); DeviceName is Computer in lower
// case; ReportId is EventRecordID; hashes are lower case; hex ids are converted to decimal; hex
// values kept as text lose the leading zeros evtxexport pads them with (Windows prints none).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type EvtxEvent, parseEvtx } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { normaliseSecurityDeviceEvent } from '../src/normalise/security-device.ts';
import { normaliseSysmonEvent } from '../src/normalise/sysmon-device.ts';
import type { TableRow } from '../src/rows.ts';
import { checkRow } from '../src/rows.ts';

const corpus = resolve(import.meta.dirname, '../../../../shared/corpus');
const missing = existsSync(corpus) ? undefined : `corpus not found at ${corpus}`;
if (missing) {
  if (process.env.CI) throw new Error(missing);
  console.log(`skipping device record tests: ${missing}`);
}

const attack = 'evtx-attack-samples';
const sigma = 'sigma/regression_data/rules/windows';

const files = new Map<string, EvtxEvent[]>();
function record(file: string, eventRecordId: number): EvtxEvent {
  let events = files.get(file);
  if (!events) {
    events = parseEvtx(readFileSync(resolve(corpus, file))).events;
    files.set(file, events);
  }
  const event = events.find((e) => e.system.eventRecordId === eventRecordId);
  if (!event) throw new Error(`no record ${eventRecordId} in ${file}`);
  return event;
}

/** A row with its AdditionalFields JSON text read back, to compare as an object. */
function readable(row: TableRow): TableRow {
  const extra = row.values.AdditionalFields;
  return typeof extra === 'string'
    ? { ...row, values: { ...row.values, AdditionalFields: JSON.parse(extra) } }
    : row;
}

interface Case {
  readonly name: string;
  readonly file: string;
  readonly eventRecordId: number;
  readonly expected: TableRow[];
}

const r = String.raw;

const sysmonCases: Case[] = [
  {
    name: '1 process creation',
    file: `${sigma}/process_creation/proc_creation_win_amsi_registry_tampering/7dbbcac2-57a0-45ac-b306-ff30a8bd2981.evtx`,
    eventRecordId: 16094,
    expected: [
      {
        table: 'DeviceProcessEvents',
        values: {
          Timestamp: '2025-12-25T14:30:27.3691144Z',
          DeviceName: 'swachchhanda',
          ActionType: 'ProcessCreated',
          ReportId: 16094,
          ProcessId: 14144,
          FolderPath: r`C:\Windows\System32\reg.exe`,
          FileName: 'reg.exe',
          ProcessVersionInfoFileDescription: 'Registry Console Tool',
          ProcessVersionInfoProductName: 'Microsoft® Windows® Operating System',
          ProcessVersionInfoCompanyName: 'Microsoft Corporation',
          ProcessVersionInfoOriginalFileName: 'reg.exe',
          ProcessCommandLine: r`"C:\WINDOWS\system32\reg.exe" add "HKCU\Software\Microsoft\Windows Script\Settings" /v AmsiEnable /t REG_DWORD /d 0 /f`,
          AccountDomain: 'swachchhanda',
          AccountName: 'xodih',
          LogonId: 0x3144c,
          ProcessIntegrityLevel: 'High',
          MD5: '573eb13ac2ba31e9c2e17fb6dad14154',
          SHA256: 'e295e776fd4f7f73dfaaa5698a19ea7a2f4a2f0c5e1681fac94e45d00296c926',
          ProcessCreationTime: '2025-12-25T14:30:27.352Z',
          InitiatingProcessId: 12456,
          InitiatingProcessFolderPath: r`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
          InitiatingProcessFileName: 'powershell.exe',
          InitiatingProcessCommandLine: r`"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" `,
          InitiatingProcessAccountDomain: 'swachchhanda',
          InitiatingProcessAccountName: 'xodih',
          AdditionalFields: {
            ProcessGuid: '{0197231E-4A83-694D-9E0E-000000000800}',
            FileVersion: '10.0.26100.1 (WinBuild.160101.0800)',
            CurrentDirectory: 'C:\\WINDOWS\\system32\\',
            LogonGuid: '{0197231E-AB9F-67AA-4C14-030000000000}',
            TerminalSessionId: '1',
            IMPHASH: 'A26BCB048DF34CBB422F2656F38634D0',
            ParentProcessGuid: '{0197231E-EC48-694C-AA0C-000000000800}',
          },
        },
      },
    ],
  },
  {
    name: '3 network connection, initiated',
    file: `${attack}/Command and Control/DE_sysmon-3-rdp-tun.evtx`,
    eventRecordId: 1940900,
    expected: [
      {
        table: 'DeviceNetworkEvents',
        values: {
          Timestamp: '2019-02-16T10:02:22.9659216Z',
          DeviceName: 'pc01.example.corp',
          ActionType: 'ConnectionSuccess',
          ReportId: 1940900,
          InitiatingProcessId: 2312,
          InitiatingProcessFolderPath: r`C:\Users\IEUser\Desktop\plink.exe`,
          InitiatingProcessFileName: 'plink.exe',
          InitiatingProcessAccountDomain: 'PC01',
          InitiatingProcessAccountName: 'IEUser',
          Protocol: 'Tcp',
          LocalIP: '10.0.2.17',
          LocalPort: 49185,
          RemoteIP: '10.0.2.18',
          RemotePort: 80,
          AdditionalFields: {
            UtcTime: '2019-02-16 10:02:21.995',
            ProcessGuid: '{365ABB72-DFAD-5C67-0000-0010E0811500}',
            SourceIsIpv6: 'false',
            SourceHostname: 'PC01.example.corp',
            DestinationIsIpv6: 'false',
            DestinationHostname: 'PC02',
            DestinationPortName: 'http',
          },
        },
      },
    ],
  },
  {
    // Accepted on the listener 127.0.0.2:3389, which this Sysmon logs as Source.
    name: '3 network connection, accepted, listener as Source',
    file: `${attack}/Command and Control/DE_sysmon-3-rdp-tun.evtx`,
    eventRecordId: 1940902,
    expected: [
      {
        table: 'DeviceNetworkEvents',
        values: {
          Timestamp: '2019-02-16T10:02:48.5026416Z',
          DeviceName: 'pc01.example.corp',
          ActionType: 'InboundConnectionAccepted',
          ReportId: 1940902,
          InitiatingProcessId: 1276,
          InitiatingProcessFolderPath: r`C:\Windows\System32\svchost.exe`,
          InitiatingProcessFileName: 'svchost.exe',
          InitiatingProcessAccountDomain: 'NT AUTHORITY',
          InitiatingProcessAccountName: 'NETWORK SERVICE',
          Protocol: 'Tcp',
          LocalIP: '127.0.0.2',
          LocalPort: 3389,
          RemoteIP: '127.0.0.1',
          RemotePort: 49186,
          AdditionalFields: {
            UtcTime: '2019-02-16 10:02:46.454',
            ProcessGuid: '{365ABB72-D693-5C67-0000-0010C4180100}',
            SourceIsIpv6: 'false',
            SourcePortName: 'ms-wbt-server',
            DestinationIsIpv6: 'false',
            DestinationHostname: 'PC01.example.corp',
          },
        },
      },
    ],
  },
  {
    // Accepted on this computer's 192.168.56.101:3389, which this Sysmon logs as Destination.
    name: '3 network connection, accepted, listener as Destination',
    file: `${attack}/Lateral Movement/LM_sysmon_3_12_13_1_SharpRDP.evtx`,
    eventRecordId: 311349,
    expected: [
      {
        table: 'DeviceNetworkEvents',
        values: {
          Timestamp: '2020-07-09T22:00:11.1813819Z',
          DeviceName: 'msedgewin10',
          ActionType: 'InboundConnectionAccepted',
          ReportId: 311349,
          InitiatingProcessId: 428,
          InitiatingProcessFolderPath: r`C:\Windows\System32\svchost.exe`,
          InitiatingProcessFileName: 'svchost.exe',
          InitiatingProcessAccountDomain: 'NT AUTHORITY',
          InitiatingProcessAccountName: 'NETWORK SERVICE',
          Protocol: 'Tcp',
          LocalIP: '192.168.56.101',
          LocalPort: 3389,
          RemoteIP: '192.168.56.1',
          RemotePort: 52543,
          AdditionalFields: {
            UtcTime: '2020-07-09 22:00:09.694',
            ProcessGuid: '{747F3D96-85F1-5F07-0000-001074CB0000}',
            SourceIsIpv6: 'false',
            SourceHostname: 'LAPTOP-JU4M3I0E',
            DestinationIsIpv6: 'false',
            DestinationHostname: 'MSEDGEWIN10',
            DestinationPortName: 'ms-wbt-server',
          },
        },
      },
    ],
  },
  {
    name: '5 process terminated: no Device row',
    file: `${attack}/Privilege Escalation/Sysmon_UACME_41.evtx`,
    eventRecordId: 5537,
    expected: [],
  },
  {
    // DeviceImageLoadEvents has no AdditionalFields: Signed, SignatureStatus and the GUIDs stay raw.
    name: '7 image loaded',
    file: `${sigma}/image_load/image_load_side_load_cpl_from_non_system_location/2b140a5c-dc02-4bb8-b6b1-8bdb45714cde.evtx`,
    eventRecordId: 715282,
    expected: [
      {
        table: 'DeviceImageLoadEvents',
        values: {
          Timestamp: '2026-02-04T08:43:28.3426379Z',
          DeviceName: 'srv-01.midgardnet.tech',
          ActionType: 'ImageLoaded',
          ReportId: 715282,
          InitiatingProcessId: 6672,
          InitiatingProcessFolderPath: r`C:\Users\SwachchhandaP\Downloads\fsquirt.exe`,
          InitiatingProcessFileName: 'fsquirt.exe',
          FolderPath: r`C:\Users\SwachchhandaP\Downloads\bthprops.cpl`,
          FileName: 'bthprops.cpl',
          MD5: '221877743cf329314e571e9398efca70',
          SHA256: '863390bb749e466975a6a5330ccd077c846e1f387aae0327affe33df87153e67',
          InitiatingProcessAccountDomain: 'MIDGARDNET',
          InitiatingProcessAccountName: 'SwachchhandaP',
        },
      },
    ],
  },
  {
    name: '8 CreateRemoteThread',
    file: `${attack}/Defense Evasion/meterpreter_migrate_to_explorer_sysmon_8.evtx`,
    eventRecordId: 8484,
    expected: [
      {
        table: 'DeviceEvents',
        values: {
          Timestamp: '2019-04-30T07:26:34.1336380Z',
          DeviceName: 'iewin7',
          ActionType: 'CreateRemoteThreadApiCall',
          ReportId: 8484,
          InitiatingProcessId: 3772,
          InitiatingProcessFolderPath: r`\\vboxsrv\HTools\m.exe`,
          InitiatingProcessFileName: 'm.exe',
          ProcessId: 2812,
          FolderPath: r`C:\Windows\explorer.exe`,
          FileName: 'explorer.exe',
          AdditionalFields: {
            UtcTime: '2019-04-30 07:26:34.133',
            SourceProcessGuid: '{365ABB72-F7C9-5CC7-0000-0010BF010E00}',
            TargetProcessGuid: '{365ABB72-F6C9-5CC7-0000-0010135F0600}',
            NewThreadId: '840',
            StartAddress: '0x02060000',
          },
        },
      },
    ],
  },
  {
    name: '10 process access',
    file: `${sigma}/process_access/proc_access_win_susp_dbgcore_dbghelp_load/9f5c1d59-33be-4e60-bcab-85d2f566effd.evtx`,
    eventRecordId: 676404,
    expected: [
      {
        table: 'DeviceEvents',
        values: {
          Timestamp: '2025-11-27T07:57:32.3173363Z',
          DeviceName: 'swachchhanda',
          ActionType: 'OpenProcessApiCall',
          ReportId: 676404,
          InitiatingProcessId: 296,
          InitiatingProcessFolderPath: r`C:\Users\Public\wsass\WerFaultSecure.exe`,
          InitiatingProcessFileName: 'WerFaultSecure.exe',
          InitiatingProcessAccountDomain: 'swachchhanda',
          InitiatingProcessAccountName: 'xodih',
          ProcessId: 860,
          FolderPath: r`C:\WINDOWS\system32\lsass.exe`,
          FileName: 'lsass.exe',
          AccountDomain: 'NT AUTHORITY',
          AccountName: 'SYSTEM',
          AdditionalFields: {
            UtcTime: '2025-11-27 07:57:32.315',
            SourceProcessGUID: '{0197231E-046C-6928-160C-000000000D00}',
            SourceThreadId: '5260',
            TargetProcessGUID: '{0197231E-2DD5-691E-0C00-000000000D00}',
            GrantedAccess: '0x1fffff',
            CallTrace: r`C:\WINDOWS\SYSTEM32\ntdll.dll+16bcc4|C:\WINDOWS\SYSTEM32\ntdll.dll+17aee0|C:\WINDOWS\SYSTEM32\KERNEL32.DLL+7f7dc|C:\WINDOWS\SYSTEM32\KERNEL32.DLL+c8d28|C:\WINDOWS\SYSTEM32\dbgcore.DLL+44c34|C:\WINDOWS\SYSTEM32\dbgcore.DLL+48f2c|C:\WINDOWS\SYSTEM32\dbgcore.DLL+3d414|C:\WINDOWS\SYSTEM32\dbgcore.DLL+29c7c|C:\WINDOWS\SYSTEM32\dbgcore.DLL+2a1f0|C:\WINDOWS\SYSTEM32\dbgcore.DLL+4f894|C:\Users\Public\wsass\WerFaultSecure.exe+3a64|C:\Users\Public\wsass\WerFaultSecure.exe+2576|C:\Users\Public\wsass\WerFaultSecure.exe+20c9|C:\Users\Public\wsass\WerFaultSecure.exe+1a0b|C:\Users\Public\wsass\WerFaultSecure.exe+48cc|C:\WINDOWS\SYSTEM32\KERNEL32.DLL+f17ac`,
          },
        },
      },
    ],
  },
  {
    name: '11 file created',
    file: `${sigma}/file/file_event/file_event_win_advanced_ip_scanner/fed85bf9-e075-4280-9159-fbe8a023d6fa.evtx`,
    eventRecordId: 18267,
    expected: [
      {
        table: 'DeviceFileEvents',
        values: {
          Timestamp: '2025-10-24T23:36:29.1111269Z',
          DeviceName: 'ar-win-dc.attackrange.local',
          ActionType: 'FileCreated',
          ReportId: 18267,
          InitiatingProcessId: 5624,
          InitiatingProcessFolderPath: r`C:\Users\ADMINI~1\AppData\Local\Temp\is-3C3LU.tmp\Advanced_IP_Scanner_2.5.4594.1(1).tmp`,
          InitiatingProcessFileName: 'Advanced_IP_Scanner_2.5.4594.1(1).tmp',
          FolderPath: r`C:\Users\ADMINI~1\AppData\Local\Temp\Advanced IP Scanner 2\platforms\qwindows.dll`,
          FileName: 'qwindows.dll',
          InitiatingProcessAccountDomain: 'ATTACKRANGE',
          InitiatingProcessAccountName: 'Administrator',
          AdditionalFields: {
            UtcTime: '2025-10-24 23:36:29.110',
            ProcessGuid: '{5AA13A44-0D74-68FC-EB1D-000000004002}',
            CreationUtcTime: '2025-10-24 10:44:35.897',
          },
        },
      },
    ],
  },
  {
    // DeviceRegistryEvents has no AdditionalFields: RuleName, UtcTime and ProcessGuid stay raw.
    name: '12 registry key created',
    file: `${attack}/Defense Evasion/DE_UAC_Disabled_Sysmon_12_13.evtx`,
    eventRecordId: 18618,
    expected: [
      {
        table: 'DeviceRegistryEvents',
        values: {
          Timestamp: '2019-05-16T14:17:15.7637127Z',
          DeviceName: 'dc1.insecurebank.local',
          ActionType: 'RegistryKeyCreated',
          ReportId: 18618,
          InitiatingProcessId: 3788,
          InitiatingProcessFolderPath: r`C:\Windows\system32\reg.exe`,
          InitiatingProcessFileName: 'reg.exe',
          RegistryKey: r`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\policies\system`,
        },
      },
    ],
  },
  {
    name: '12 registry key deleted',
    file: `${sigma}/registry/registry_delete/registry_delete_removal_amsi_registry_key/41d1058a-aea7-4952-9293-29eaaf516465.evtx`,
    eventRecordId: 16786799,
    expected: [
      {
        table: 'DeviceRegistryEvents',
        values: {
          Timestamp: '2025-10-26T00:11:12.8808345Z',
          DeviceName: 'ar-win-dc.attackrange.local',
          ActionType: 'RegistryKeyDeleted',
          ReportId: 16786799,
          InitiatingProcessId: 6016,
          InitiatingProcessFolderPath: r`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
          InitiatingProcessFileName: 'powershell.exe',
          InitiatingProcessAccountDomain: 'ATTACKRANGE',
          InitiatingProcessAccountName: 'Administrator',
          RegistryKey: r`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\AMSI\Providers\{2781761E-28E0-4109-99FE-B9D127C57AFE}`,
        },
      },
    ],
  },
  {
    name: '12 registry value deleted',
    file: `${sigma}/registry/registry_delete/registry_delete_disable_credential_guard/d645ef86-2396-48a1-a2b6-b629ca3f57ff.evtx`,
    eventRecordId: 18298,
    expected: [
      {
        table: 'DeviceRegistryEvents',
        values: {
          Timestamp: '2025-12-26T19:24:05.9187761Z',
          DeviceName: 'swachchhanda',
          ActionType: 'RegistryValueDeleted',
          ReportId: 18298,
          InitiatingProcessId: 11088,
          InitiatingProcessFolderPath: r`C:\WINDOWS\system32\reg.exe`,
          InitiatingProcessFileName: 'reg.exe',
          InitiatingProcessAccountDomain: 'swachchhanda',
          InitiatingProcessAccountName: 'xodih',
          RegistryKey: r`HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows\DeviceGuard`,
          RegistryValueName: 'RequirePlatformSecurityFeatures',
        },
      },
    ],
  },
  {
    name: '13 registry value set, DWORD',
    file: `${attack}/Defense Evasion/DE_UAC_Disabled_Sysmon_12_13.evtx`,
    eventRecordId: 18619,
    expected: [
      {
        table: 'DeviceRegistryEvents',
        values: {
          Timestamp: '2019-05-16T14:17:15.7637127Z',
          DeviceName: 'dc1.insecurebank.local',
          ActionType: 'RegistryValueSet',
          ReportId: 18619,
          InitiatingProcessId: 3788,
          InitiatingProcessFolderPath: r`C:\Windows\system32\reg.exe`,
          InitiatingProcessFileName: 'reg.exe',
          RegistryKey: r`HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\policies\system`,
          RegistryValueName: 'EnableLUA',
          RegistryValueType: 'Dword',
          RegistryValueData: '0',
        },
      },
    ],
  },
  {
    name: '13 registry value set, string, default value',
    file: `${sigma}/registry/registry_set/registry_set_add_load_service_in_safe_mode/1547e27c-3974-43e2-a7d7-7f484fb928ec.evtx`,
    eventRecordId: 27517409,
    expected: [
      {
        table: 'DeviceRegistryEvents',
        values: {
          Timestamp: '2025-10-26T17:28:03.0643872Z',
          DeviceName: 'ar-win-dc.attackrange.local',
          ActionType: 'RegistryValueSet',
          ReportId: 27517409,
          InitiatingProcessId: 4400,
          InitiatingProcessFolderPath: r`C:\Windows\system32\reg.exe`,
          InitiatingProcessFileName: 'reg.exe',
          InitiatingProcessAccountDomain: 'ATTACKRANGE',
          InitiatingProcessAccountName: 'Administrator',
          RegistryKey: r`HKEY_LOCAL_MACHINE\System\CurrentControlSet\Control\SafeBoot\Minimal\AtomicSafeMode`,
          RegistryValueName: '(Default)',
          RegistryValueData: 'Service',
        },
      },
    ],
  },
  {
    name: '17 pipe created',
    file: 'sigma/regression_data/rules-emerging-threats/2026/Exploits/RedSun/pipe_created_win_exploit_redsun_named_pipe/9b4e7c2a-3f6d-4a8b-b5e9-1c7d3f2e6a4b.evtx',
    eventRecordId: 83237,
    expected: [
      {
        table: 'DeviceEvents',
        values: {
          Timestamp: '2026-04-17T05:24:53.0888491Z',
          DeviceName: 'swachchhanda',
          ActionType: 'NamedPipeEvent',
          ReportId: 83237,
          InitiatingProcessId: 15596,
          InitiatingProcessFolderPath: r`C:\Users\xodih\Downloads\RedSun.exe`,
          InitiatingProcessFileName: 'RedSun.exe',
          InitiatingProcessAccountDomain: 'swachchhanda',
          InitiatingProcessAccountName: 'xodih',
          AdditionalFields: {
            EventType: 'CreatePipe',
            UtcTime: '2026-04-17 05:24:53.079',
            ProcessGuid: '{0197231E-C424-69E1-C922-000000000800}',
            PipeName: r`\REDSUN`,
          },
        },
      },
    ],
  },
  {
    name: '18 pipe connected',
    file: `${attack}/Discovery/discovery_sysmon_18_Invoke_UserHunter_NetSessionEnum_DC-srvsvc.evtx`,
    eventRecordId: 14907,
    expected: [
      {
        table: 'DeviceEvents',
        values: {
          Timestamp: '2019-05-14T17:31:27.9733994Z',
          DeviceName: 'dc1.insecurebank.local',
          ActionType: 'NamedPipeEvent',
          ReportId: 14907,
          InitiatingProcessId: 4,
          InitiatingProcessFolderPath: 'System',
          InitiatingProcessFileName: 'System',
          AdditionalFields: {
            UtcTime: '2019-05-14 17:31:27.973',
            ProcessGuid: '{DFAE8213-F1B5-5CDA-0000-0010EB030000}',
            PipeName: r`\srvsvc`,
          },
        },
      },
    ],
  },
  {
    name: '22 DNS query',
    file: `${attack}/Privilege Escalation/Sysmon_UACME_64.evtx`,
    eventRecordId: 1084,
    expected: [
      {
        table: 'DeviceEvents',
        values: {
          Timestamp: '2020-10-20T11:51:01.4767229Z',
          DeviceName: 'desktop-ntssljd',
          ActionType: 'DnsQueryResponse',
          ReportId: 1084,
          InitiatingProcessId: 2428,
          InitiatingProcessFolderPath: r`C:\Windows\System32\svchost.exe`,
          InitiatingProcessFileName: 'svchost.exe',
          RemoteUrl: 'wpad',
          AdditionalFields: {
            UtcTime: '2020-10-20 11:50:59.461',
            ProcessGuid: '{23F38D93-ABAC-5F8E-3900-000000000C00}',
            QueryStatus: '9003',
          },
        },
      },
    ],
  },
  {
    name: '23 file deleted (archived)',
    file: `${attack}/Privilege Escalation/Sysmon_UACME_64.evtx`,
    eventRecordId: 769,
    expected: [
      {
        table: 'DeviceFileEvents',
        values: {
          Timestamp: '2020-10-20T11:50:55.4618596Z',
          DeviceName: 'desktop-ntssljd',
          ActionType: 'FileDeleted',
          ReportId: 769,
          InitiatingProcessId: 8736,
          InitiatingProcessAccountDomain: 'DESKTOP-NTSSLJD',
          InitiatingProcessAccountName: 'den',
          InitiatingProcessFolderPath: r`C:\Program Files\Internet Explorer\IEInstal.exe`,
          InitiatingProcessFileName: 'IEInstal.exe',
          FolderPath: r`C:\Users\den\AppData\Local\Temp\dfcc1807-03a1-4ae1-ab29-5675b285edea\consent.exe.dat`,
          FileName: 'consent.exe.dat',
          SHA1: '6bfb38629570909d3d9eedfc783a948ce7849105',
          MD5: 'ee2a1c85c472f89b146cc8ee598cccbc',
          SHA256: '19fd0010da92b654d1ca270247061a39ea13c0a58529fd8257a97e2ef7794911',
          AdditionalFields: {
            UtcTime: '2020-10-20 11:50:55.457',
            ProcessGuid: '{23F38D93-CF1F-5F8E-CA08-000000000C00}',
            IMPHASH: '522D83761201075834F05037F5307949',
            IsExecutable: 'true',
            Archived: 'true',
          },
        },
      },
    ],
  },
];

const securityCases: Case[] = [
  {
    // Version 2: Target* is the new process's account (its SID unresolved: S-1-0-0).
    name: '4688 process created, version 2',
    file: `${attack}/Privilege Escalation/NTLM2SelfRelay-med0x2e-security_4624_4688.evtx`,
    eventRecordId: 21374,
    expected: [
      {
        table: 'DeviceProcessEvents',
        values: {
          Timestamp: '2022-05-01T04:42:06.6565422Z',
          DeviceName: 'wind10.winlab.local',
          ActionType: 'ProcessCreated',
          ReportId: 21374,
          InitiatingProcessAccountSid: 'S-1-5-20',
          InitiatingProcessAccountName: 'WIND10$',
          InitiatingProcessAccountDomain: 'WINLAB',
          InitiatingProcessLogonId: 0x3e4,
          ProcessId: 0x1dc,
          FolderPath: r`C:\Windows\System32\notepad.exe`,
          FileName: 'notepad.exe',
          ProcessTokenElevation: 'TokenElevationTypeDefault',
          InitiatingProcessId: 0xe8c,
          AccountName: 'Administrator',
          AccountDomain: 'WINLAB.LOCAL',
          LogonId: 0x82215a,
          InitiatingProcessFolderPath: r`C:\Windows\System32\wbem\WmiPrvSE.exe`,
          InitiatingProcessFileName: 'WmiPrvSE.exe',
          ProcessIntegrityLevel: 'High',
          ProcessCreationTime: '2022-05-01T04:42:06.6565422Z',
        },
      },
    ],
  },
  {
    // Version 1: no Target*, the new process runs as the Subject.
    name: '4688 process created, version 1',
    file: `${attack}/Command and Control/DE_RDP_Tunnel_5156.evtx`,
    eventRecordId: 227695,
    expected: [
      {
        table: 'DeviceProcessEvents',
        values: {
          Timestamp: '2019-02-13T18:01:47.5624124Z',
          DeviceName: 'pc01.example.corp',
          ActionType: 'ProcessCreated',
          ReportId: 227695,
          InitiatingProcessAccountSid: 'S-1-5-18',
          AccountSid: 'S-1-5-18',
          InitiatingProcessAccountName: 'PC01$',
          AccountName: 'PC01$',
          InitiatingProcessAccountDomain: 'EXAMPLE',
          AccountDomain: 'EXAMPLE',
          InitiatingProcessLogonId: 0x3e7,
          LogonId: 0x3e7,
          ProcessId: 0x1fc,
          FolderPath: r`C:\Windows\System32\TSTheme.exe`,
          FileName: 'TSTheme.exe',
          ProcessTokenElevation: 'TokenElevationTypeDefault',
          InitiatingProcessId: 0x278,
          ProcessCreationTime: '2019-02-13T18:01:47.5624124Z',
        },
      },
    ],
  },
  {
    name: '4624 logon, type 9',
    file: `${attack}/Privilege Escalation/Invoke_TokenDuplication_UAC_Bypass4624.evtx`,
    eventRecordId: 10113,
    expected: [
      {
        table: 'DeviceLogonEvents',
        values: {
          Timestamp: '2019-08-05T09:39:30.6977307Z',
          DeviceName: 'msedgewin10',
          ActionType: 'LogonSuccess',
          ReportId: 10113,
          InitiatingProcessAccountSid: 'S-1-5-21-3461203602-4096304019-2269080069-1000',
          InitiatingProcessAccountName: 'IEUser',
          InitiatingProcessAccountDomain: 'MSEDGEWIN10',
          AccountSid: 'S-1-5-21-3461203602-4096304019-2269080069-1000',
          AccountName: 'IEUser',
          AccountDomain: 'MSEDGEWIN10',
          LogonId: 0x38f87e,
          LogonType: 'NewCredentials',
          Protocol: 'Negotiate',
          InitiatingProcessId: 0x1b90,
          InitiatingProcessFolderPath: r`C:\Windows\System32\svchost.exe`,
          InitiatingProcessFileName: 'svchost.exe',
          RemoteIP: '::1',
          AdditionalFields: {
            SubjectLogonId: '0x2e4ce',
            LogonProcessName: 'seclogo',
            LogonGuid: '{00000000-0000-0000-0000-000000000000}',
            KeyLength: '0',
            ImpersonationLevel: '%%1833',
            TargetOutboundUserName: 'l',
            TargetOutboundDomainName: 'o',
            VirtualAccount: '%%1843',
            TargetLinkedLogonId: '0x0',
            ElevatedToken: '%%1843',
          },
        },
      },
    ],
  },
  {
    // Status 0xc000006d (logon failure) with SubStatus 0xc000006a, STATUS_WRONG_PASSWORD (MS-ERREF §2.3.1).
    name: '4625 logon failed',
    file: `${attack}/Credential Access/CA_4624_4625_LogonType2_LogonProc_chrome.evtx`,
    eventRecordId: 137222,
    expected: [
      {
        table: 'DeviceLogonEvents',
        values: {
          Timestamp: '2020-09-09T13:18:23.6279525Z',
          DeviceName: 'msedgewin10',
          ActionType: 'LogonFailed',
          ReportId: 137222,
          InitiatingProcessAccountSid: 'S-1-5-21-3461203602-4096304019-2269080069-1000',
          InitiatingProcessAccountName: 'IEUser',
          InitiatingProcessAccountDomain: 'MSEDGEWIN10',
          AccountName: 'IEUser',
          AccountDomain: 'MSEDGEWIN10',
          LogonType: 'Interactive',
          Protocol: 'Negotiate',
          RemoteDeviceName: 'MSEDGEWIN10',
          InitiatingProcessId: 0x1358,
          InitiatingProcessFolderPath: r`C:\Program Files (x86)\Google\Chrome\Application\chrome.exe`,
          InitiatingProcessFileName: 'chrome.exe',
          FailureReason: 'WrongPassword',
          AdditionalFields: {
            SubjectLogonId: '0x79e59',
            Status: '0xc000006d',
            FailureReason: '%%2313',
            SubStatus: '0xc000006a',
            LogonProcessName: 'Chrome',
            KeyLength: '0',
          },
        },
      },
    ],
  },
  {
    // Direction %%14593 is Outbound; Protocol 6 is TCP.
    name: '5156 connection permitted, outbound',
    file: `${attack}/Discovery/dicovery_4661_net_group_domain_admins_target.evtx`,
    eventRecordId: 565593,
    expected: [
      {
        table: 'DeviceNetworkEvents',
        values: {
          Timestamp: '2019-03-18T23:23:43.5702125Z',
          DeviceName: 'win-77ltaphiq1r.example.corp',
          ActionType: 'ConnectionSuccess',
          ReportId: 565593,
          InitiatingProcessId: 1452,
          InitiatingProcessFolderPath: r`\device\harddiskvolume2\windows\system32\dns.exe`,
          InitiatingProcessFileName: 'dns.exe',
          LocalIP: 'fe80::79bf:8ee2:433c:2567',
          LocalPort: 55872,
          RemoteIP: 'fe80::79bf:8ee2:433c:2567',
          RemotePort: 389,
          Protocol: 'Tcp',
          AdditionalFields: {
            FilterRTID: '0',
            LayerName: '%%14611',
            LayerRTID: '50',
            RemoteUserID: 'S-1-0-0',
            RemoteMachineID: 'S-1-0-0',
          },
        },
      },
    ],
  },
  {
    // Direction %%14592 is Inbound; Source is the local end, lsass's LDAP listener.
    name: '5156 connection permitted, inbound',
    file: `${attack}/Discovery/dicovery_4661_net_group_domain_admins_target.evtx`,
    eventRecordId: 565594,
    expected: [
      {
        table: 'DeviceNetworkEvents',
        values: {
          Timestamp: '2019-03-18T23:23:43.5702125Z',
          DeviceName: 'win-77ltaphiq1r.example.corp',
          ActionType: 'InboundConnectionAccepted',
          ReportId: 565594,
          InitiatingProcessId: 452,
          InitiatingProcessFolderPath: r`\device\harddiskvolume2\windows\system32\lsass.exe`,
          InitiatingProcessFileName: 'lsass.exe',
          LocalIP: 'fe80::79bf:8ee2:433c:2567',
          LocalPort: 389,
          RemoteIP: 'fe80::79bf:8ee2:433c:2567',
          RemotePort: 55872,
          Protocol: 'Tcp',
          AdditionalFields: {
            FilterRTID: '0',
            LayerName: '%%14610',
            LayerRTID: '46',
            RemoteUserID: 'S-1-0-0',
            RemoteMachineID: 'S-1-0-0',
          },
        },
      },
    ],
  },
];

describe.skipIf(missing !== undefined)('Sysmon records', () => {
  it.each(sysmonCases)('$name', ({ file, eventRecordId, expected }) => {
    const rows = normaliseSysmonEvent(record(file, eventRecordId));
    expect(rows.map(readable)).toEqual(expected);
    for (const row of rows) expect(checkRow(row)).toEqual([]);
  });
});

describe.skipIf(missing !== undefined)('Security records', () => {
  it.each(securityCases)('$name', ({ file, eventRecordId, expected }) => {
    const rows = normaliseSecurityDeviceEvent(record(file, eventRecordId));
    expect(rows.map(readable)).toEqual(expected);
    for (const row of rows) expect(checkRow(row)).toEqual([]);
  });

  it('leaves Sysmon records to the Sysmon normaliser and the other way round', () => {
    expect(normaliseSecurityDeviceEvent(record(sysmonCases[0]?.file ?? '', 16094))).toEqual([]);
    expect(normaliseSysmonEvent(record(securityCases[0]?.file ?? '', 21374))).toEqual([]);
  });
});
