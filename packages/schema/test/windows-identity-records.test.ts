// Real records from EVTX-ATTACK-SAMPLES, one or more per event id the normaliser maps (those
// that occur in the corpus), each compared with the whole row written by hand from the record as
// `evtxexport -f xml FILE` prints it (file and EventRecordID noted at each case).
//
// Reading the XML into expected values, by the normaliser's contract:
// - Timestamp is TimeCreated/@SystemTime with the 7 fractional digits of a FILETIME (100 ns):
//   evtxexport prints 9, the last two always 00.
// - Hex fields (HexInt32/HexInt64: Status, TicketOptions, AccessMask, TargetLogonId, …) keep
//   evtxexport's digits without its zero padding: Windows renders them unpadded, as the Event XML
//   in Microsoft's event documentation shows (event-4768: `Status 0x0`, `TicketEncryptionType
//   0x12`, `TicketOptions 0x40810010`).
// - `-` and empty values are absent; values are trimmed (4624 LogonProcessName is `NtLmSsp `);
//   the NULL SID S-1-0-0 is absent from Account*Sid.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EvtxEvent, parseEvtx } from '@palisade/evtx';
import { describe, expect, it } from 'vitest';
import { normaliseWindowsEvent } from '../src/normalise/windows-identity.ts';
import type { TableRow } from '../src/rows.ts';
import { attackSamples, corpusMissing } from './windows-corpus.ts';

interface RecordCase {
  readonly file: string;
  readonly eventRecordId: number;
  readonly identity: TableRow;
  /** The PalisadeRawEvents row, for the cases that check it too. */
  readonly raw?: TableRow;
}

const logonFile = 'Credential Access/CA_4624_4625_LogonType2_LogonProc_chrome.evtx';
const sprayFile = 'Credential Access/kerberos_pwd_spray_4771.evtx';
const samSpoofFile =
  'Privilege Escalation/samaccount_spoofing_CVE-2021-42287_CVE-2021-42278_DC_securitylogs.evtx';
const samrFile = 'Discovery/dicovery_4661_net_group_domain_admins_target.evtx';
const localEnumFile = 'Discovery/discovery_local_user_or_group_windows_security_4799_4798.evtx';
const aclFile = 'Credential Access/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx';
const dc3b = '01566s-win16-ir.threebeesco.com';
const lgrove = {
  AccountName: 'lgrove',
  AccountDomain: '3B',
  AccountSid: 'S-1-5-21-308926384-506822093-3341789130-101606',
  DeviceName: dc3b,
};
const dc012Sid = 'S-1-5-21-308926384-506822093-3341789130-220105';

const cases: Record<string, RecordCase> = {
  '4624 network logon with NTLM': {
    // Credential Access/remote_pwd_reset_rpc_mimikatz_postzerologon_target_DC.evtx, EventRecordID 769794
    file: 'Credential Access/remote_pwd_reset_rpc_mimikatz_postzerologon_target_DC.evtx',
    eventRecordId: 769794,
    identity: {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: '2020-09-17T10:57:44.2704289Z',
        ActionType: 'LogonSuccess',
        LogonType: 'Resource Access',
        Protocol: 'Ntlm',
        AccountName: 'Administrator',
        AccountDomain: '3B',
        AccountSid: 'S-1-5-21-308926384-506822093-3341789130-500',
        DeviceName: '02694W-WIN10',
        IPAddress: '172.16.66.37',
        Port: 49959,
        DestinationDeviceName: dc3b,
        ReportId: `${dc3b}:Security:769794`,
        AdditionalFields: {
          EventId: 4624,
          LogonProcessName: 'NtLmSsp',
          LmPackageName: 'NTLM V2',
          TargetLogonId: '0x853237',
          ElevatedToken: '%%1842',
        },
      },
    },
  },
  '4625 interactive logon, wrong password': {
    // Credential Access/CA_4624_4625_LogonType2_LogonProc_chrome.evtx, EventRecordID 137222:
    // Status 0xc000006d, SubStatus 0xc000006a (STATUS_WRONG_PASSWORD), TargetUserSid S-1-0-0.
    file: logonFile,
    eventRecordId: 137222,
    identity: {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: '2020-09-09T13:18:23.6279525Z',
        ActionType: 'LogonFailed',
        LogonType: 'Interactive Logon',
        Protocol: 'Negotiate',
        FailureReason: 'WrongPassword',
        AccountName: 'IEUser',
        AccountDomain: 'MSEDGEWIN10',
        DeviceName: 'MSEDGEWIN10',
        DestinationDeviceName: 'MSEDGEWIN10',
        ReportId: 'MSEDGEWIN10:Security:137222',
        AdditionalFields: {
          EventId: 4625,
          LogonProcessName: 'Chrome',
          SubjectUserName: 'IEUser',
          SubjectDomainName: 'MSEDGEWIN10',
        },
      },
    },
  },
  '4648 explicit credentials': {
    // Lateral Movement/LM_WMIC_4648_rpcss.evtx, EventRecordID 433333
    file: 'Lateral Movement/LM_WMIC_4648_rpcss.evtx',
    eventRecordId: 433333,
    identity: {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: '2019-03-18T11:27:23.2312238Z',
        ActionType: 'LogonSuccess',
        LogonType: 'Explicit Credentials',
        AccountName: 'administrator',
        AccountDomain: 'EXAMPLE.CORP',
        DeviceName: 'PC01.example.corp',
        DestinationDeviceName: 'WIN-77LTAPHIQ1R.example.corp',
        ReportId: 'PC01.example.corp:Security:433333',
        AdditionalFields: {
          EventId: 4648,
          SubjectUserName: 'user01',
          SubjectDomainName: 'EXAMPLE',
          TargetServerName: 'WIN-77LTAPHIQ1R.example.corp',
          ProcessName: 'C:\\Windows\\System32\\svchost.exe',
        },
      },
    },
  },
  '4768 TGT request for an unknown account': {
    // Credential Access/kerberos_pwd_spray_4771.evtx, EventRecordID 887107: Status 0x00000006.
    file: sprayFile,
    eventRecordId: 887107,
    identity: {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: '2020-07-22T20:29:36.4148271Z',
        ActionType: 'LogonFailed',
        LogonType: 'Credentials Validation',
        Protocol: 'Kerberos',
        FailureReason: 'PrincipalUnknown',
        AccountName: 'HD01',
        AccountDomain: 'THREEBEESCO.COM',
        IPAddress: '172.16.66.1',
        Port: 55961,
        DestinationDeviceName: dc3b,
        ReportId: `${dc3b}:Security:887107`,
        AdditionalFields: {
          EventId: 4768,
          KerberosRequest: 'AS',
          ServiceName: 'krbtgt/THREEBEESCO.COM',
          ServiceSid: 'S-1-0-0',
          TicketEncryptionType: '0xffffffff',
          TicketOptions: '0x10',
          Status: '0x6',
        },
      },
    },
  },
  '4769 service ticket, user@REALM and ::ffff: address': {
    // Privilege Escalation/samaccount_spoofing_…_DC_securitylogs.evtx, EventRecordID 2982083
    file: samSpoofFile,
    eventRecordId: 2982083,
    identity: {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: '2021-12-12T17:57:52.2770951Z',
        ActionType: 'LogonSuccess',
        LogonType: 'Resource Access',
        Protocol: 'Kerberos',
        AccountName: 'lgrove',
        AccountDomain: 'THREEBEESCO.COM',
        IPAddress: '172.16.66.19',
        Port: 50612,
        DestinationDeviceName: dc3b,
        TargetAccountDisplayName: '01566S-WIN16-IR$',
        ReportId: `${dc3b}:Security:2982083`,
        AdditionalFields: {
          EventId: 4769,
          KerberosRequest: 'TGS',
          ServiceName: '01566S-WIN16-IR$',
          ServiceSid: 'S-1-5-21-308926384-506822093-3341789130-35103',
          TicketEncryptionType: '0x12',
          TicketOptions: '0x40810000',
          Status: '0x0',
        },
      },
    },
  },
  '4771 pre-authentication failed': {
    // Credential Access/kerberos_pwd_spray_4771.evtx, EventRecordID 887114: Status 0x00000018.
    file: sprayFile,
    eventRecordId: 887114,
    identity: {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: '2020-07-22T20:29:36.4253654Z',
        ActionType: 'LogonFailed',
        LogonType: 'Credentials Validation',
        Protocol: 'Kerberos',
        FailureReason: 'WrongPassword',
        AccountName: 'Administrator',
        AccountSid: 'S-1-5-21-308926384-506822093-3341789130-500',
        IPAddress: '172.16.66.1',
        Port: 55967,
        DestinationDeviceName: dc3b,
        ReportId: `${dc3b}:Security:887114`,
        AdditionalFields: {
          EventId: 4771,
          KerberosRequest: 'AS',
          ServiceName: 'krbtgt/THREEBEESCO.COM',
          TicketOptions: '0x10',
          PreAuthType: '2',
          Status: '0x18',
        },
      },
    },
  },
  '4776 NTLM credential validation': {
    // Discovery/dicovery_4661_net_group_domain_admins_target.evtx, EventRecordID 565645
    file: samrFile,
    eventRecordId: 565645,
    identity: {
      table: 'IdentityLogonEvents',
      values: {
        Timestamp: '2019-03-18T23:24:15.6474299Z',
        ActionType: 'LogonSuccess',
        LogonType: 'Credentials Validation',
        Protocol: 'Ntlm',
        AccountName: 'Administrator',
        DeviceName: 'WIN-77LTAPHIQ1R',
        DestinationDeviceName: 'WIN-77LTAPHIQ1R.example.corp',
        ReportId: 'WIN-77LTAPHIQ1R.example.corp:Security:565645',
        AdditionalFields: {
          EventId: 4776,
          Status: '0x0',
          PackageName: 'MICROSOFT_AUTHENTICATION_PACKAGE_V1_0',
        },
      },
    },
  },
  '4661 SAM domain handle': {
    // Discovery/dicovery_4661_net_group_domain_admins_target.evtx, EventRecordID 565602
    file: samrFile,
    eventRecordId: 565602,
    identity: {
      table: 'IdentityQueryEvents',
      values: {
        Timestamp: '2019-03-18T23:23:52.5224623Z',
        ActionType: 'SAMR query',
        Protocol: 'Samr',
        QueryType: 'QueryDomain',
        QueryTarget: 'DC=example,DC=corp',
        AccountName: 'user01',
        AccountDomain: 'EXAMPLE',
        AccountSid: 'S-1-5-21-1587066498-1489273250-1035260531-1106',
        DestinationDeviceName: 'WIN-77LTAPHIQ1R.example.corp',
        ReportId: 'WIN-77LTAPHIQ1R.example.corp:Security:565602',
        AdditionalFields: {
          EventId: 4661,
          ObjectServer: 'Security Account Manager',
          ObjectType: 'SAM_DOMAIN',
          ObjectName: 'DC=example,DC=corp',
          AccessMask: '0x2d',
          ProcessName: 'C:\\Windows\\System32\\lsass.exe',
        },
      },
    },
  },
  '4798 user group membership enumerated': {
    // Discovery/discovery_local_user_or_group_windows_security_4799_4798.evtx, EventRecordID 10089
    file: localEnumFile,
    eventRecordId: 10089,
    identity: {
      table: 'IdentityQueryEvents',
      values: {
        Timestamp: '2019-08-05T09:24:56.7402180Z',
        ActionType: 'SAMR query',
        Protocol: 'Samr',
        QueryType: 'QueryUser',
        QueryTarget: 'Administrator',
        TargetAccountDisplayName: 'Administrator',
        AccountName: 'IEUser',
        AccountDomain: 'MSEDGEWIN10',
        AccountSid: 'S-1-5-21-3461203602-4096304019-2269080069-1000',
        DestinationDeviceName: 'MSEDGEWIN10',
        ReportId: 'MSEDGEWIN10:Security:10089',
        AdditionalFields: {
          EventId: 4798,
          TargetSid: 'S-1-5-21-3461203602-4096304019-2269080069-500',
          TargetDomainName: 'MSEDGEWIN10',
          CallerProcessName: 'C:\\Windows\\System32\\net1.exe',
        },
      },
    },
  },
  '4799 local group membership enumerated': {
    // Discovery/discovery_local_user_or_group_windows_security_4799_4798.evtx, EventRecordID 10091
    file: localEnumFile,
    eventRecordId: 10091,
    identity: {
      table: 'IdentityQueryEvents',
      values: {
        Timestamp: '2019-08-05T09:25:03.8679616Z',
        ActionType: 'SAMR query',
        Protocol: 'Samr',
        QueryType: 'QueryGroup',
        QueryTarget: 'Administrators',
        TargetAccountDisplayName: 'Administrators',
        AccountName: 'IEUser',
        AccountDomain: 'MSEDGEWIN10',
        AccountSid: 'S-1-5-21-3461203602-4096304019-2269080069-1000',
        DestinationDeviceName: 'MSEDGEWIN10',
        ReportId: 'MSEDGEWIN10:Security:10091',
        AdditionalFields: {
          EventId: 4799,
          TargetSid: 'S-1-5-32-544',
          TargetDomainName: 'Builtin',
          CallerProcessName: 'C:\\Windows\\System32\\net1.exe',
        },
      },
    },
  },
  '4662 DCSync (Get-Changes)': {
    // Credential Access/CA_DCSync_4662.evtx, EventRecordID 202791
    file: 'Credential Access/CA_DCSync_4662.evtx',
    eventRecordId: 202791,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2019-05-08T02:10:43.4872170Z',
        ActionType: 'Directory Services replication',
        AccountName: 'Administrator',
        AccountDomain: 'insecurebank',
        AccountSid: 'S-1-5-21-738609754-2819869699-4189121830-500',
        DeviceName: 'DC1.insecurebank.local',
        TargetAccountDisplayName: '%{c6faf700-bfe4-452a-a766-424f84c29583}',
        ReportId: 'DC1.insecurebank.local:Security:202791',
        AdditionalFields: {
          EventId: 4662,
          ObjectServer: 'DS',
          ObjectType: '%{19195a5b-6da0-11d0-afd3-00c04fd930c9}',
          ObjectName: '%{c6faf700-bfe4-452a-a766-424f84c29583}',
          OperationType: 'Object Access',
          AccessMask: '0x100',
          Properties:
            '%%7688\r\n\t\t{1131f6aa-9c07-11d1-f79f-00c04fc2dcd2}\r\n\t{19195a5b-6da0-11d0-afd3-00c04fd930c9}\r\n',
          Guids: ['1131f6aa-9c07-11d1-f79f-00c04fc2dcd2', '19195a5b-6da0-11d0-afd3-00c04fd930c9'],
          ReplicationRights: ['Get-Changes'],
        },
      },
    },
  },
  '5136 attribute value added': {
    // Credential Access/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx, EventRecordID 198238044
    file: aclFile,
    eventRecordId: 198238044,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2019-03-25T10:33:56.4576297Z',
        ActionType: 'Directory attribute changed',
        AccountName: 'bob',
        AccountDomain: 'insecurebank',
        AccountSid: 'S-1-5-21-738609754-2819869699-4189121830-1108',
        DeviceName: 'DC1.insecurebank.local',
        TargetAccountDisplayName: '{6AC1786C-016F-11D2-945F-00C04FB984F9}',
        ReportId: 'DC1.insecurebank.local:Security:198238044',
        AdditionalFields: {
          EventId: 5136,
          ObjectDN:
            'CN={6AC1786C-016F-11D2-945F-00C04FB984F9},CN=POLICIES,CN=SYSTEM,DC=INSECUREBANK,DC=LOCAL',
          ObjectGUID: '{6CDECDB5-7515-4511-8141-C34A7C3D4A0A}',
          ObjectClass: 'groupPolicyContainer',
          AttributeLDAPDisplayName: 'versionNumber',
          AttributeValue: '6',
          OperationType: 'ValueAdded',
          OpCorrelationID: '{780EA6E1-6307-48D6-8B0D-8C45CC7534AE}',
        },
      },
    },
  },
  '4720 user account created': {
    // Defense Evasion/DE_Fake_ComputerAccount_4720.evtx, EventRecordID 769629
    file: 'Defense Evasion/DE_Fake_ComputerAccount_4720.evtx',
    eventRecordId: 769629,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2020-09-16T09:31:19.1332724Z',
        ActionType: 'User Account Created',
        AccountName: '01566S-WIN16-IR$',
        AccountDomain: '3B',
        AccountSid: 'S-1-5-18',
        DeviceName: dc3b,
        TargetAccountDisplayName: '$',
        ReportId: `${dc3b}:Security:769629`,
        AdditionalFields: {
          EventId: 4720,
          TargetSid: 'S-1-5-21-308926384-506822093-3341789130-107103',
          TargetDomainName: '3B',
          SamAccountName: '$',
          DisplayName: '%%1793',
          HomeDirectory: '%%1793',
          HomePath: '%%1793',
          ScriptPath: '%%1793',
          ProfilePath: '%%1793',
          UserWorkstations: '%%1793',
          PasswordLastSet: '%%1794',
          AccountExpires: '%%1794',
          PrimaryGroupId: '513',
          OldUacValue: '0x0',
          NewUacValue: '0x15',
          UserAccountControl: '%%2080\r\n\t\t%%2082\r\n\t\t%%2084',
          UserParameters: '%%1792',
          LogonHours: '%%1793',
        },
      },
    },
  },
  '4722 account enabled': {
    // Privilege Escalation/samaccount_spoofing_…_DC_securitylogs.evtx, EventRecordID 2982086
    file: samSpoofFile,
    eventRecordId: 2982086,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2021-12-12T17:57:52.3137504Z',
        ActionType: 'Account Disabled changed',
        ...lgrove,
        TargetAccountDisplayName: 'DC012$',
        ReportId: `${dc3b}:Security:2982086`,
        AdditionalFields: { EventId: 4722, TargetSid: dc012Sid, TargetDomainName: '3B', Disabled: false },
      },
    },
  },
  '4724 password reset': {
    // Privilege Escalation/samaccount_spoofing_…_DC_securitylogs.evtx, EventRecordID 2982087
    file: samSpoofFile,
    eventRecordId: 2982087,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2021-12-12T17:57:52.3137547Z',
        ActionType: 'Account Password changed',
        ...lgrove,
        TargetAccountDisplayName: 'DC012$',
        ReportId: `${dc3b}:Security:2982087`,
        AdditionalFields: { EventId: 4724, TargetSid: dc012Sid, TargetDomainName: '3B', Reset: true },
      },
    },
  },
  '4732 member added to a local group (MemberName -)': {
    // Persistence/Network_Service_Guest_added_to_admins_4732.evtx, EventRecordID 191029
    file: 'Persistence/Network_Service_Guest_added_to_admins_4732.evtx',
    eventRecordId: 191029,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2019-09-22T11:22:05.2017271Z',
        ActionType: 'Group Membership changed',
        AccountName: 'IEUser',
        AccountDomain: 'MSEDGEWIN10',
        AccountSid: 'S-1-5-21-3461203602-4096304019-2269080069-1000',
        DeviceName: 'MSEDGEWIN10',
        TargetAccountDisplayName: 'S-1-5-21-3461203602-4096304019-2269080069-501',
        ReportId: 'MSEDGEWIN10:Security:191029',
        AdditionalFields: {
          EventId: 4732,
          'TO.GROUP': 'Administrators',
          GroupName: 'Administrators',
          GroupDomain: 'Builtin',
          GroupSid: 'S-1-5-32-544',
          MemberSid: 'S-1-5-21-3461203602-4096304019-2269080069-501',
          Action: 'Added',
        },
      },
    },
  },
  '4738 user changed, no attribute listed': {
    // Credential Access/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx, EventRecordID 198238499
    file: aclFile,
    eventRecordId: 198238499,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2019-03-25T11:15:58.2396011Z',
        ActionType: 'Directory attribute changed',
        AccountName: 'bob',
        AccountDomain: 'insecurebank',
        AccountSid: 'S-1-5-21-738609754-2819869699-4189121830-1108',
        DeviceName: 'DC1.insecurebank.local',
        TargetAccountDisplayName: 'alice',
        ReportId: 'DC1.insecurebank.local:Security:198238499',
        AdditionalFields: {
          EventId: 4738,
          TargetSid: 'S-1-5-21-738609754-2819869699-4189121830-1107',
          TargetDomainName: 'insecurebank',
        },
      },
    },
  },
  '4741 computer account created': {
    // Privilege Escalation/samaccount_spoofing_…_DC_securitylogs.evtx, EventRecordID 2982085
    file: samSpoofFile,
    eventRecordId: 2982085,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2021-12-12T17:57:52.3136732Z',
        ActionType: 'Computer Account Created',
        ...lgrove,
        TargetAccountDisplayName: 'DC012$',
        ReportId: `${dc3b}:Security:2982085`,
        AdditionalFields: {
          EventId: 4741,
          TargetSid: dc012Sid,
          TargetDomainName: '3B',
          SamAccountName: 'DC012$',
          PasswordLastSet: '12/12/2021 9:57:52 AM',
          AccountExpires: '%%1794',
          PrimaryGroupId: '515',
          OldUacValue: '0x0',
          NewUacValue: '0x80',
          UserAccountControl: '%%2087',
          LogonHours: '%%1793',
          DnsHostName: 'DC012.threebeesco.com',
          ServicePrincipalNames:
            'HOST/DC012.threebeesco.com\r\n\t\tRestrictedKrbHost/DC012.threebeesco.com\r\n\t\tHOST/DC012\r\n\t\tRestrictedKrbHost/DC012',
        },
      },
    },
  },
  '4742 computer renamed (SamAccountName)': {
    // Privilege Escalation/samaccount_spoofing_…_DC_securitylogs.evtx, EventRecordID 2982093
    file: samSpoofFile,
    eventRecordId: 2982093,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2021-12-12T17:57:52.3750845Z',
        ActionType: 'SAM Account Name changed',
        ...lgrove,
        TargetAccountDisplayName: '01566s-win16-ir',
        ReportId: `${dc3b}:Security:2982093`,
        AdditionalFields: {
          EventId: 4742,
          TargetSid: dc012Sid,
          TargetDomainName: '3B',
          SamAccountName: '01566s-win16-ir',
        },
      },
    },
  },
  '4742 computer SPNs changed (DCShadow)': {
    // Persistence/persistence_security_dcshadow_4742.evtx, EventRecordID 203054
    file: 'Persistence/persistence_security_dcshadow_4742.evtx',
    eventRecordId: 203054,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2019-05-08T03:00:37.5721768Z',
        ActionType: 'Directory attribute changed',
        AccountName: 'Administrator',
        AccountDomain: 'insecurebank',
        AccountSid: 'S-1-5-21-738609754-2819869699-4189121830-500',
        DeviceName: 'DC1.insecurebank.local',
        TargetAccountDisplayName: 'ALICE$',
        ReportId: 'DC1.insecurebank.local:Security:203054',
        AdditionalFields: {
          EventId: 4742,
          TargetSid: 'S-1-5-21-738609754-2819869699-4189121830-1120',
          TargetDomainName: 'insecurebank',
          ServicePrincipalNames: [
            'HOST/alice.insecurebank.local',
            'RestrictedKrbHost/alice.insecurebank.local',
            'HOST/ALICE',
            'RestrictedKrbHost/ALICE',
            'TERMSRV/alice.insecurebank.local',
            'TERMSRV/ALICE',
            'WSMAN/alice.insecurebank.local',
            'WSMAN/alice',
            'GC/alice.insecurebank.local/insecurebank.local',
          ].join('\r\n\t\t'),
        },
      },
    },
  },
  '4765 SID History added': {
    // Privilege Escalation/4765_sidhistory_add_t1178.evtx, EventRecordID 8075: SidList is `-`, so
    // the SIDs added are the source's own (SourceSid).
    file: 'Privilege Escalation/4765_sidhistory_add_t1178.evtx',
    eventRecordId: 8075,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2017-06-12T23:39:43.5129867Z',
        ActionType: 'SID-History changed',
        AccountName: 'Administrator',
        AccountDomain: 'MAINCORP',
        AccountSid: 'S-1-5-21-2634088540-571122920-1382659128-500',
        DeviceName: '2012r2srv.maincorp.local',
        TargetAccountDisplayName: 'Andrei',
        ReportId: '2012r2srv.maincorp.local:Security:8075',
        AdditionalFields: {
          EventId: 4765,
          TargetSid: 'S-1-5-21-2634088540-571122920-1382659128-1104',
          TargetDomainName: 'MAINCORP',
          SidHistory: ['S-1-5-21-2634088540-571122920-1382659128-512'],
          SourceUserName: 'maincorp.local\\Domain Admins',
          SourceSid: 'S-1-5-21-2634088540-571122920-1382659128-512',
          Success: true,
        },
      },
    },
  },
  '4781 account renamed': {
    // Privilege Escalation/samaccount_spoofing_…_DC_securitylogs.evtx, EventRecordID 2982094
    file: samSpoofFile,
    eventRecordId: 2982094,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2021-12-12T17:57:52.3751054Z',
        ActionType: 'SAM Account Name changed',
        ...lgrove,
        TargetAccountDisplayName: '01566s-win16-ir',
        ReportId: `${dc3b}:Security:2982094`,
        AdditionalFields: {
          EventId: 4781,
          TargetSid: dc012Sid,
          TargetDomainName: '3B',
          OldTargetUserName: 'DC012$',
          NewTargetUserName: '01566s-win16-ir',
        },
      },
    },
  },
  '4794 DSRM password set': {
    // Credential Access/4794_DSRM_password_change_t1098.evtx, EventRecordID 3139859
    file: 'Credential Access/4794_DSRM_password_change_t1098.evtx',
    eventRecordId: 3139859,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2017-06-09T19:21:26.9686699Z',
        ActionType: 'Directory Services Restore Mode password changed',
        AccountName: 'administrator',
        AccountDomain: 'HQCORP',
        AccountSid: 'S-1-5-21-1913345275-1711810662-261465553-500',
        DeviceName: '2016dc.hqcorp.local',
        ReportId: '2016dc.hqcorp.local:Security:3139859',
        AdditionalFields: { EventId: 4794, Status: '0x0', Workstation: '2016DC' },
      },
    },
  },
  '5145 IPC$ named pipe access': {
    // Credential Access/CA_protectedstorage_5145_rpc_masterkey.evtx, EventRecordID 886983
    file: 'Credential Access/CA_protectedstorage_5145_rpc_masterkey.evtx',
    eventRecordId: 886983,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2020-07-19T13:06:52.1998558Z',
        ActionType: 'SMB share access',
        AccountName: 'backdoor',
        AccountDomain: '3B',
        AccountSid: 'S-1-5-21-308926384-506822093-3341789130-107103',
        DeviceName: dc3b,
        IPAddress: '172.16.66.1',
        Port: 52415,
        ReportId: `${dc3b}:Security:886983`,
        AdditionalFields: {
          EventId: 5145,
          ShareName: '\\\\*\\IPC$',
          RelativeTargetName: 'protected_storage',
          AccessMask: '0x12019f',
          AccessList: [
            '%%1538',
            '%%1541',
            '%%4416',
            '%%4417',
            '%%4418',
            '%%4419',
            '%%4420',
            '%%4423',
            '%%4424',
          ].join('\r\n\t\t\t\t'),
        },
      },
    },
  },
  '5805 Netlogon session setup failed': {
    // Credential Access/Zerologon_CVE-2020-1472_DFIR_System_NetLogon_Error_EventID_5805.evtx,
    // EventRecordID 63221: a classic event with two unnamed <Data> and a <Binary>.
    file: 'Credential Access/Zerologon_CVE-2020-1472_DFIR_System_NetLogon_Error_EventID_5805.evtx',
    eventRecordId: 63221,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2020-09-15T19:28:49.3597720Z',
        ActionType: 'Netlogon secure channel denied',
        DeviceName: dc3b,
        ReportId: `${dc3b}:System:63221`,
        AdditionalFields: { EventId: 5805, Data: ['01566S-WIN16-IR', '%%5'] },
      },
    },
    raw: {
      table: 'PalisadeRawEvents',
      values: {
        Timestamp: '2020-09-15T19:28:49.3597720Z',
        Source: 'evtx',
        DeviceName: dc3b,
        Channel: 'System',
        Provider: 'NETLOGON',
        EventId: 5805,
        RecordId: 63221,
        ReportId: `${dc3b}:System:63221`,
        Data: { Data: ['01566S-WIN16-IR', '%%5'], Binary: '220000C0' },
      },
    },
  },
  '7045 service installed': {
    // Lateral Movement/LM_Remote_Service02_7045.evtx, EventRecordID 4480
    file: 'Lateral Movement/LM_Remote_Service02_7045.evtx',
    eventRecordId: 4480,
    identity: {
      table: 'IdentityDirectoryEvents',
      values: {
        Timestamp: '2019-03-03T09:20:28.6214897Z',
        ActionType: 'Service creation',
        AccountSid: 'S-1-5-21-1587066498-1489273250-1035260531-1108',
        DeviceName: 'WIN-77LTAPHIQ1R.example.corp',
        ReportId: 'WIN-77LTAPHIQ1R.example.corp:System:4480',
        AdditionalFields: {
          EventId: 7045,
          ServiceName: 'spoolfool',
          ServiceFileName: 'cmd.exe',
          ServiceType: 'user mode service',
          StartType: 'auto start',
          ServiceAccount: 'LocalSystem',
        },
      },
    },
  },
};

const missing = corpusMissing('Windows normaliser record tests');
const parsed = new Map<string, EvtxEvent[]>();

function recordOf(file: string, eventRecordId: number): EvtxEvent | undefined {
  let events = parsed.get(file);
  if (!events) {
    events = parseEvtx(readFileSync(join(attackSamples, file))).events;
    parsed.set(file, events);
  }
  return events.find((e) => e.system.eventRecordId === eventRecordId);
}

describe.skipIf(missing !== undefined)('normaliseWindowsEvent on real records', () => {
  it.each(Object.entries(cases))('%s', (_name, c) => {
    const event = recordOf(c.file, c.eventRecordId);
    expect(event, `${c.file} has no EventRecordID ${c.eventRecordId}`).toBeDefined();
    const rows = normaliseWindowsEvent(event as EvtxEvent);
    expect(rows.filter((r) => r.table !== 'PalisadeRawEvents')).toStrictEqual([c.identity]);
    const raw = rows.find((r) => r.table === 'PalisadeRawEvents');
    expect(raw?.values.ReportId).toBe(c.identity.values.ReportId);
    if (c.raw) expect(raw).toStrictEqual(c.raw);
  });

  it('covers every mapped event id that occurs in the corpus', () => {
    // The mapped ids found in EVTX-ATTACK-SAMPLES (by dumping every file with `palisade evtx dump`).
    const inCorpus = [
      4624, 4625, 4648, 4661, 4662, 4720, 4722, 4724, 4732, 4738, 4741, 4742, 4765, 4768, 4769, 4771, 4776,
      4781, 4794, 4798, 4799, 5136, 5145, 5805, 7045,
    ];
    const ids = Object.values(cases).map(
      (c) => (c.identity.values.AdditionalFields as { EventId: number }).EventId,
    );
    expect([...new Set(ids)].sort((a, b) => a - b)).toEqual(inCorpus);
  });
});
