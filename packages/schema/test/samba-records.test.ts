// The Samba audit normaliser on one real record of each kind, from the recorded lab run
// (../shared/corpus/testbed-samples/audit, copied here so the test stands alone). Every expected
// value is read by hand from the raw JSON line above it, with these conventions: Timestamp is the
// record's timestamp in UTC (`+0000` written `Z`); addresses `ipv4:IP:PORT` split into IP and
// port; names from a DN are its first RDN's value. ReportId is a hash of the record: the test
// checks its form and that all rows of a record share it.
import { describe, expect, it } from 'vitest';
import { normaliseSambaAudit } from '../src/normalise/samba-audit.ts';
import { checkRow, type TableRow } from '../src/rows.ts';

const lines = {
  // auth_json.jsonl line 5
  authKdcOk:
    '{"timestamp": "2026-11-21T22:27:09.215502+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4624, "logonId": "18aca2cd285f8eb5", "logonType": 3, "status": "NT_STATUS_OK", "localAddress": null, "remoteAddress": "ipv4:10.99.0.20:44208", "serviceDescription": "Kerberos KDC", "authDescription": "ENC-TS Pre-authentication", "clientDomain": null, "clientAccount": "administrator@CORP.LAB.TEST", "workstation": null, "becameAccount": "Administrator", "becameDomain": "CORP", "becameSid": "S-1-5-21-233618269-2596914436-3104560765-500", "mappedAccount": "Administrator", "mappedDomain": "CORP", "netlogonComputer": null, "netlogonTrustAccount": null, "netlogonNegotiateFlags": "0x00000000", "netlogonSecureChannelType": 0, "netlogonTrustAccountSid": null, "passwordType": "aes256-cts-hmac-sha1-96", "duration": 6494}}',
  // auth_json.jsonl line 71
  authKdcNoPreauth:
    '{"timestamp": "2026-11-21T22:27:12.316735+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4624, "logonId": "a18b270b9dcf2733", "logonType": 3, "status": "NT_STATUS_OK", "localAddress": null, "remoteAddress": "ipv4:10.99.0.20:40880", "serviceDescription": "Kerberos KDC", "authDescription": "Unknown Pre-authentication", "clientDomain": null, "clientAccount": "asrep_user@CORP.LAB.TEST", "workstation": null, "becameAccount": "asrep_user", "becameDomain": "CORP", "becameSid": "S-1-5-21-233618269-2596914436-3104560765-1104", "mappedAccount": "asrep_user", "mappedDomain": "CORP", "netlogonComputer": null, "netlogonTrustAccount": null, "netlogonNegotiateFlags": "0x00000000", "netlogonSecureChannelType": 0, "netlogonTrustAccountSid": null, "passwordType": null, "duration": 4534}}',
  // auth_json.jsonl line 72
  authKdcNoUser:
    '{"timestamp": "2026-11-21T22:27:12.319419+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4625, "logonId": "84a9ffa66474c0", "logonType": 3, "status": "NT_STATUS_NO_SUCH_USER", "localAddress": null, "remoteAddress": "ipv4:10.99.0.20:40886", "serviceDescription": "Kerberos KDC", "authDescription": "AS-REQ", "clientDomain": null, "clientAccount": "nosuchuser@CORP.LAB.TEST", "workstation": null, "becameAccount": null, "becameDomain": null, "becameSid": null, "mappedAccount": null, "mappedDomain": null, "netlogonComputer": null, "netlogonTrustAccount": null, "netlogonNegotiateFlags": "0x00000000", "netlogonSecureChannelType": 0, "netlogonTrustAccountSid": null, "passwordType": null, "duration": 592}}',
  // auth_json.jsonl line 85
  authNtlmBad:
    '{"timestamp": "2026-11-21T22:27:12.580385+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4625, "logonId": "0", "logonType": 3, "status": "NT_STATUS_WRONG_PASSWORD", "localAddress": "ipv4:10.99.0.10:445", "remoteAddress": "ipv4:10.99.0.20:46256", "serviceDescription": "SMB2", "authDescription": "NTLMSSP", "clientDomain": "CORP", "clientAccount": "bob", "workstation": "VM", "becameAccount": null, "becameDomain": null, "becameSid": null, "mappedAccount": "bob", "mappedDomain": "CORP", "netlogonComputer": null, "netlogonTrustAccount": null, "netlogonNegotiateFlags": "0x00000000", "netlogonSecureChannelType": 0, "netlogonTrustAccountSid": null, "passwordType": "NTLMv2", "duration": 3873}}',
  // auth_json.jsonl line 95
  authBindBad:
    '{"timestamp": "2026-11-21T22:27:12.910344+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4625, "logonId": "0", "logonType": 8, "status": "NT_STATUS_WRONG_PASSWORD", "localAddress": "ipv4:10.99.0.10:389", "remoteAddress": "ipv4:10.99.0.20:36472", "serviceDescription": "LDAP", "authDescription": "simple bind", "clientDomain": "CORP", "clientAccount": "alice@corp.lab.test", "workstation": "DC1", "becameAccount": null, "becameDomain": null, "becameSid": null, "mappedAccount": "alice", "mappedDomain": "CORP", "netlogonComputer": null, "netlogonTrustAccount": null, "netlogonNegotiateFlags": "0x00000000", "netlogonSecureChannelType": 0, "netlogonTrustAccountSid": null, "passwordType": "Plaintext", "duration": 2197}}',
  // auth_json.jsonl line 1
  authBindAnon:
    '{"timestamp": "2026-11-21T22:27:08.712832+0000", "type": "Authentication", "Authentication": {"version": {"major": 1, "minor": 2}, "eventId": 4624, "logonId": "0", "logonType": 8, "status": "NT_STATUS_OK", "localAddress": "ipv4:10.99.0.10:389", "remoteAddress": "ipv4:10.99.0.20:54330", "serviceDescription": "LDAP", "authDescription": "simple bind", "clientDomain": "", "clientAccount": "", "workstation": "DC1", "becameAccount": "ANONYMOUS LOGON", "becameDomain": "NT AUTHORITY", "becameSid": "S-1-5-7", "mappedAccount": "", "mappedDomain": "", "netlogonComputer": null, "netlogonTrustAccount": null, "netlogonNegotiateFlags": "0x00000000", "netlogonSecureChannelType": 0, "netlogonTrustAccountSid": null, "passwordType": "Plaintext", "duration": 201}}',
  // auth_json.jsonl line 69
  authzKrb5:
    '{"timestamp": "2026-11-21T22:27:11.812676+0000", "type": "Authorization", "Authorization": {"version": {"major": 1, "minor": 1}, "localAddress": "ipv4:10.99.0.10:389", "remoteAddress": "ipv4:10.99.0.20:36458", "serviceDescription": "LDAP", "authType": "krb5", "domain": "CORP", "account": "alice", "sid": "S-1-5-21-233618269-2596914436-3104560765-1105", "sessionId": "c30203b5-0367-4b24-92ec-1372e557080d", "logonServer": "DC1", "transportProtection": "NONE", "accountFlags": "0x00000010"}}',
  // auth_json.jsonl line 4
  authzNtlm:
    '{"timestamp": "2026-11-21T22:27:08.760805+0000", "type": "Authorization", "Authorization": {"version": {"major": 1, "minor": 1}, "localAddress": "ipv4:10.99.0.10:445", "remoteAddress": "ipv4:10.99.0.20:41368", "serviceDescription": "SMB2", "authType": "NTLMSSP", "domain": "CORP", "account": "Administrator", "sid": "S-1-5-21-233618269-2596914436-3104560765-500", "sessionId": "4cf22f8c-a313-4f11-b2c4-34964c9e9bc3", "logonServer": "DC1", "transportProtection": "SMB", "accountFlags": "0x00000010"}}',
  // dsdb_group_json.jsonl line 11
  groupAdded:
    '{"timestamp": "2026-11-21T22:27:10.732564+0000", "type": "groupChange", "groupChange": {"version": {"major": 1, "minor": 1}, "eventId": 4728, "statusCode": 0, "status": "Success", "action": "Added", "remoteAddress": "ipv4:10.99.0.20:36358", "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "group": "CN=Domain Admins,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "53e716f2-fe0c-48eb-9b3b-5c40c9fddc6d", "sessionId": "7d2c6dcc-3273-45f4-a551-a337980f85d7", "user": "CN=alice,CN=Users,DC=corp,DC=lab,DC=test"}}',
  // dsdb_group_json.jsonl line 1
  groupPrimary:
    '{"timestamp": "2026-11-21T22:27:09.928475+0000", "type": "groupChange", "groupChange": {"version": {"major": 1, "minor": 1}, "statusCode": 0, "status": "Success", "action": "PrimaryGroup", "remoteAddress": "ipv4:10.99.0.20:36284", "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "group": "CN=Domain Users,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "a7b83593-8bc7-4ecc-adb9-9f680680df83", "sessionId": "2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f", "user": "CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test"}}',
  // dsdb_group_json.jsonl line 2
  groupNewUser:
    '{"timestamp": "2026-11-21T22:27:09.928556+0000", "type": "groupChange", "groupChange": {"version": {"major": 1, "minor": 1}, "eventId": 4728, "statusCode": 0, "status": "Success", "action": "Added", "remoteAddress": "ipv4:10.99.0.20:36284", "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "group": "CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "a7b83593-8bc7-4ecc-adb9-9f680680df83", "sessionId": "2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f", "user": "CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test"}}',
  // dsdb_password_json.jsonl line 1
  passwordReset:
    '{"timestamp": "2026-11-21T22:27:09.947971+0000", "type": "passwordChange", "passwordChange": {"version": {"major": 1, "minor": 1}, "eventId": 4724, "statusCode": 0, "status": "Success", "remoteAddress": "ipv4:10.99.0.20:36284", "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "dn": "CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test", "action": "Reset", "transactionId": "fe1cba9a-d715-479e-98a1-53619a13a21e", "sessionId": "2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f"}}',
  // dsdb_password_json.jsonl line 7
  passwordChange:
    '{"timestamp": "2026-11-21T22:27:10.918576+0000", "type": "passwordChange", "passwordChange": {"version": {"major": 1, "minor": 1}, "eventId": 4723, "statusCode": 0, "status": "Success", "remoteAddress": null, "userSid": "S-1-5-21-233618269-2596914436-3104560765-1107", "dn": "CN=carol,CN=Users,DC=corp,DC=lab,DC=test", "action": "Change", "transactionId": "03a3682e-1b33-4196-8426-7379ed92fd62", "sessionId": "b691fffa-b52c-464e-b1d9-f4362894d480"}}',
  // dsdb_json.jsonl line 4
  dsdbAdd:
    '{"timestamp": "2026-11-21T22:27:09.928787+0000", "type": "dsdbChange", "dsdbChange": {"version": {"major": 1, "minor": 0}, "statusCode": 0, "status": "Success", "operation": "Add", "remoteAddress": "ipv4:10.99.0.20:36284", "performedAsSystem": false, "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "dn": "CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "a7b83593-8bc7-4ecc-adb9-9f680680df83", "sessionId": "2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f", "attributes": {"description": {"actions": [{"action": "add", "values": [{"value": "SQL service"}]}]}, "objectClass": {"actions": [{"action": "add", "values": [{"value": "user"}]}]}, "sAMAccountName": {"actions": [{"action": "add", "values": [{"value": "svc_sql"}]}]}, "userPrincipalName": {"actions": [{"action": "add", "values": [{"value": "svc_sql@corp.lab.test"}]}]}}}}',
  // dsdb_json.jsonl line 6
  dsdbUac:
    '{"timestamp": "2026-11-21T22:27:09.950862+0000", "type": "dsdbChange", "dsdbChange": {"version": {"major": 1, "minor": 0}, "statusCode": 0, "status": "Success", "operation": "Modify", "remoteAddress": "ipv4:10.99.0.20:36284", "performedAsSystem": false, "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "dn": "CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "97ebda7b-6dde-46e2-beb2-854cae3ba510", "sessionId": "2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f", "attributes": {"userAccountControl": {"actions": [{"action": "delete", "values": [{"value": "546"}]}, {"action": "add", "values": [{"value": "512"}]}]}}}}',
  // dsdb_json.jsonl line 20
  dsdbUacReplace:
    '{"timestamp": "2026-11-21T22:27:10.607737+0000", "type": "dsdbChange", "dsdbChange": {"version": {"major": 1, "minor": 0}, "statusCode": 0, "status": "Success", "operation": "Modify", "remoteAddress": "ipv4:10.99.0.20:36338", "performedAsSystem": false, "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "dn": "CN=asrep_user,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "33f5ba8f-25be-44e2-9117-3389fba2e75c", "sessionId": "09f23f80-6448-4264-a81f-5b40619c344c", "attributes": {"userAccountControl": {"actions": [{"action": "replace", "values": [{"value": "4194816"}]}]}}}}',
  // dsdb_json.jsonl line 22
  dsdbMember:
    '{"timestamp": "2026-11-21T22:27:10.732670+0000", "type": "dsdbChange", "dsdbChange": {"version": {"major": 1, "minor": 0}, "statusCode": 0, "status": "Success", "operation": "Modify", "remoteAddress": "ipv4:10.99.0.20:36358", "performedAsSystem": false, "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "dn": "CN=Domain Admins,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "53e716f2-fe0c-48eb-9b3b-5c40c9fddc6d", "sessionId": "7d2c6dcc-3273-45f4-a551-a337980f85d7", "attributes": {"member": {"actions": [{"action": "add", "values": [{"value": "<GUID=60ffd360-3140-457a-97b6-76a7697c7054>;<SID=S-1-5-21-233618269-2596914436-3104560765-1105>;CN=alice,CN=Users,DC=corp,DC=lab,DC=test"}]}]}}}}',
  // dsdb_json.jsonl line 1
  dsdbLogon:
    '{"timestamp": "2026-11-21T22:27:08.753759+0000", "type": "dsdbChange", "dsdbChange": {"version": {"major": 1, "minor": 0}, "statusCode": 0, "status": "Success", "operation": "Modify", "remoteAddress": null, "performedAsSystem": false, "userSid": "S-1-5-18", "dn": "CN=Administrator,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "a105fcc4-a657-435a-a04b-0bcffb7b710f", "sessionId": "b89586d0-2937-4bb1-8043-846469067b38", "attributes": {"lastLogonTimestamp": {"actions": [{"action": "replace", "values": [{"value": "134397736287528860"}]}]}}}}',
  // dsdb_json.jsonl line 5
  dsdbPassword:
    '{"timestamp": "2026-11-21T22:27:09.947933+0000", "type": "dsdbChange", "dsdbChange": {"version": {"major": 1, "minor": 0}, "statusCode": 0, "status": "Success", "operation": "Modify", "remoteAddress": "ipv4:10.99.0.20:36284", "performedAsSystem": false, "userSid": "S-1-5-21-233618269-2596914436-3104560765-500", "dn": "CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test", "transactionId": "fe1cba9a-d715-479e-98a1-53619a13a21e", "sessionId": "2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f", "attributes": {"unicodePwd": {"actions": [{"action": "replace", "redacted": true}]}}}}',
};

const dc = 'dc1.corp.lab.test';
const admin = 'S-1-5-21-233618269-2596914436-3104560765-500';
const svcSql = 'CN=svc_sql,CN=Users,DC=corp,DC=lab,DC=test';
const domainAdmins = 'CN=Domain Admins,CN=Users,DC=corp,DC=lab,DC=test';

interface Case {
  readonly name: string;
  readonly line: string;
  readonly source?: string;
  /** The raw row's own values; Source, Provider, DeviceName (the source), Data and ReportId are checked for every case. */
  readonly raw: { Timestamp: string; Channel: string; EventId: number };
  /** The Identity rows, without ReportId. */
  readonly identity: TableRow[];
}

const cases: Case[] = [
  {
    name: 'Authentication: Kerberos AS exchange, success',
    line: lines.authKdcOk,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:09.215502Z', Channel: 'Authentication', EventId: 4624 },
    identity: [
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-11-21T22:27:09.215502Z',
          ActionType: 'LogonSuccess',
          LogonType: 'Credentials Validation',
          Protocol: 'Kerberos',
          AccountName: 'Administrator',
          AccountDomain: 'CORP',
          AccountSid: admin,
          IPAddress: '10.99.0.20',
          Port: 44208,
          DestinationDeviceName: dc,
          AdditionalFields: {
            EventId: 4624,
            SambaType: 'Authentication',
            status: 'NT_STATUS_OK',
            serviceDescription: 'Kerberos KDC',
            authDescription: 'ENC-TS Pre-authentication',
            passwordType: 'aes256-cts-hmac-sha1-96',
            clientAccount: 'administrator@CORP.LAB.TEST',
            KerberosRequest: 'AS',
            // ENC-TS is PA-ENC-TIMESTAMP, padata-type 2 (RFC 4120 §7.5.2).
            PreAuthType: '2',
          },
        },
      },
    ],
  },
  {
    // The AS-REP roasting attack's request: no pre-authentication data (PreAuthType 0).
    name: 'Authentication: Kerberos AS exchange without pre-authentication',
    line: lines.authKdcNoPreauth,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:12.316735Z', Channel: 'Authentication', EventId: 4624 },
    identity: [
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-11-21T22:27:12.316735Z',
          ActionType: 'LogonSuccess',
          LogonType: 'Credentials Validation',
          Protocol: 'Kerberos',
          AccountName: 'asrep_user',
          AccountDomain: 'CORP',
          AccountSid: 'S-1-5-21-233618269-2596914436-3104560765-1104',
          IPAddress: '10.99.0.20',
          Port: 40880,
          DestinationDeviceName: dc,
          AdditionalFields: {
            EventId: 4624,
            SambaType: 'Authentication',
            status: 'NT_STATUS_OK',
            serviceDescription: 'Kerberos KDC',
            authDescription: 'Unknown Pre-authentication',
            clientAccount: 'asrep_user@CORP.LAB.TEST',
            KerberosRequest: 'AS',
            PreAuthType: '0',
          },
        },
      },
    ],
  },
  {
    // Nothing mapped: the account is the client's principal name, split at `@`.
    name: 'Authentication: Kerberos AS exchange, unknown principal',
    line: lines.authKdcNoUser,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:12.319419Z', Channel: 'Authentication', EventId: 4625 },
    identity: [
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-11-21T22:27:12.319419Z',
          ActionType: 'LogonFailed',
          LogonType: 'Credentials Validation',
          Protocol: 'Kerberos',
          FailureReason: 'NoSuchUser',
          AccountName: 'nosuchuser',
          AccountDomain: 'CORP.LAB.TEST',
          IPAddress: '10.99.0.20',
          Port: 40886,
          DestinationDeviceName: dc,
          AdditionalFields: {
            EventId: 4625,
            SambaType: 'Authentication',
            status: 'NT_STATUS_NO_SUCH_USER',
            serviceDescription: 'Kerberos KDC',
            authDescription: 'AS-REQ',
            clientAccount: 'nosuchuser@CORP.LAB.TEST',
            KerberosRequest: 'AS',
          },
        },
      },
    ],
  },
  {
    name: 'Authentication: NTLM over SMB2, wrong password',
    line: lines.authNtlmBad,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:12.580385Z', Channel: 'Authentication', EventId: 4625 },
    identity: [
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-11-21T22:27:12.580385Z',
          ActionType: 'LogonFailed',
          LogonType: 'Credentials Validation',
          Protocol: 'Ntlm',
          FailureReason: 'WrongPassword',
          AccountName: 'bob',
          AccountDomain: 'CORP',
          DeviceName: 'VM',
          IPAddress: '10.99.0.20',
          Port: 46256,
          DestinationDeviceName: dc,
          DestinationIPAddress: '10.99.0.10',
          DestinationPort: 445,
          AdditionalFields: {
            EventId: 4625,
            SambaType: 'Authentication',
            status: 'NT_STATUS_WRONG_PASSWORD',
            serviceDescription: 'SMB2',
            authDescription: 'NTLMSSP',
            passwordType: 'NTLMv2',
            clientAccount: 'bob',
          },
        },
      },
    ],
  },
  {
    // No source given: the workstation of a simple bind is the DC's own name (DC1), so it is the
    // destination, not the client device.
    name: 'Authentication: LDAP simple bind, wrong password',
    line: lines.authBindBad,
    raw: { Timestamp: '2026-11-21T22:27:12.910344Z', Channel: 'Authentication', EventId: 4625 },
    identity: [
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-11-21T22:27:12.910344Z',
          ActionType: 'LogonFailed',
          LogonType: 'LDAP Cleartext',
          Protocol: 'Ldap',
          FailureReason: 'WrongPassword',
          AccountName: 'alice',
          AccountDomain: 'CORP',
          IPAddress: '10.99.0.20',
          Port: 36472,
          DestinationDeviceName: 'DC1',
          DestinationIPAddress: '10.99.0.10',
          DestinationPort: 389,
          AdditionalFields: {
            EventId: 4625,
            SambaType: 'Authentication',
            status: 'NT_STATUS_WRONG_PASSWORD',
            serviceDescription: 'LDAP',
            authDescription: 'simple bind',
            passwordType: 'Plaintext',
            clientAccount: 'alice@corp.lab.test',
          },
        },
      },
    ],
  },
  {
    // Empty client and mapped names: the account is the one it became.
    name: 'Authentication: anonymous LDAP simple bind',
    line: lines.authBindAnon,
    raw: { Timestamp: '2026-11-21T22:27:08.712832Z', Channel: 'Authentication', EventId: 4624 },
    identity: [
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-11-21T22:27:08.712832Z',
          ActionType: 'LogonSuccess',
          LogonType: 'LDAP Cleartext',
          Protocol: 'Ldap',
          AccountName: 'ANONYMOUS LOGON',
          AccountDomain: 'NT AUTHORITY',
          AccountSid: 'S-1-5-7',
          IPAddress: '10.99.0.20',
          Port: 54330,
          DestinationDeviceName: 'DC1',
          DestinationIPAddress: '10.99.0.10',
          DestinationPort: 389,
          AdditionalFields: {
            EventId: 4624,
            SambaType: 'Authentication',
            status: 'NT_STATUS_OK',
            serviceDescription: 'LDAP',
            authDescription: 'simple bind',
            passwordType: 'Plaintext',
          },
        },
      },
    ],
  },
  {
    // A Kerberos service ticket accepted by LDAP: the only record of that logon.
    name: 'Authorization: Kerberos ticket to LDAP',
    line: lines.authzKrb5,
    raw: { Timestamp: '2026-11-21T22:27:11.812676Z', Channel: 'Authorization', EventId: 0 },
    identity: [
      {
        table: 'IdentityLogonEvents',
        values: {
          Timestamp: '2026-11-21T22:27:11.812676Z',
          ActionType: 'LogonSuccess',
          LogonType: 'Resource Access',
          Protocol: 'Kerberos',
          AccountName: 'alice',
          AccountDomain: 'CORP',
          AccountSid: 'S-1-5-21-233618269-2596914436-3104560765-1105',
          IPAddress: '10.99.0.20',
          Port: 36458,
          DestinationDeviceName: 'DC1',
          DestinationIPAddress: '10.99.0.10',
          DestinationPort: 389,
          AdditionalFields: {
            SambaType: 'Authorization',
            serviceDescription: 'LDAP',
            authType: 'krb5',
            transportProtection: 'NONE',
            sessionId: 'c30203b5-0367-4b24-92ec-1372e557080d',
          },
        },
      },
    ],
  },
  {
    name: 'Authorization: NTLM session (its Authentication record made the row)',
    line: lines.authzNtlm,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:08.760805Z', Channel: 'Authorization', EventId: 0 },
    identity: [],
  },
  {
    name: 'groupChange: member added to Domain Admins',
    line: lines.groupAdded,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:10.732564Z', Channel: 'groupChange', EventId: 4728 },
    identity: [
      {
        table: 'IdentityDirectoryEvents',
        values: {
          Timestamp: '2026-11-21T22:27:10.732564Z',
          ActionType: 'Group Membership changed',
          AccountSid: admin,
          DeviceName: dc,
          IPAddress: '10.99.0.20',
          Port: 36358,
          TargetAccountDisplayName: 'alice',
          AdditionalFields: {
            EventId: 4728,
            SambaType: 'groupChange',
            'TO.GROUP': 'Domain Admins',
            GroupName: 'Domain Admins',
            GroupDN: domainAdmins,
            MemberName: 'CN=alice,CN=Users,DC=corp,DC=lab,DC=test',
            Action: 'Added',
            sessionId: '7d2c6dcc-3273-45f4-a551-a337980f85d7',
            transactionId: '53e716f2-fe0c-48eb-9b3b-5c40c9fddc6d',
          },
        },
      },
    ],
  },
  {
    name: 'groupChange: primary group of a new user',
    line: lines.groupPrimary,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:09.928475Z', Channel: 'groupChange', EventId: 0 },
    identity: [
      {
        table: 'IdentityDirectoryEvents',
        values: {
          Timestamp: '2026-11-21T22:27:09.928475Z',
          ActionType: 'Group Membership changed',
          AccountSid: admin,
          DeviceName: dc,
          IPAddress: '10.99.0.20',
          Port: 36284,
          TargetAccountDisplayName: 'svc_sql',
          AdditionalFields: {
            SambaType: 'groupChange',
            GroupName: 'Domain Users',
            GroupDN: 'CN=Domain Users,CN=Users,DC=corp,DC=lab,DC=test',
            MemberName: svcSql,
            Action: 'PrimaryGroup',
            sessionId: '2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f',
            transactionId: 'a7b83593-8bc7-4ecc-adb9-9f680680df83',
          },
        },
      },
    ],
  },
  {
    // Its group is the new user's own DN (Samba's quirk): it names no group.
    name: "groupChange: a new user's Added record",
    line: lines.groupNewUser,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:09.928556Z', Channel: 'groupChange', EventId: 4728 },
    identity: [],
  },
  {
    name: 'passwordChange: reset by an administrator',
    line: lines.passwordReset,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:09.947971Z', Channel: 'passwordChange', EventId: 4724 },
    identity: [
      {
        table: 'IdentityDirectoryEvents',
        values: {
          Timestamp: '2026-11-21T22:27:09.947971Z',
          ActionType: 'Account Password changed',
          AccountSid: admin,
          DeviceName: dc,
          IPAddress: '10.99.0.20',
          Port: 36284,
          TargetAccountDisplayName: 'svc_sql',
          AdditionalFields: {
            EventId: 4724,
            SambaType: 'passwordChange',
            Reset: true,
            ObjectDN: svcSql,
            sessionId: '2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f',
            transactionId: 'fe1cba9a-d715-479e-98a1-53619a13a21e',
          },
        },
      },
    ],
  },
  {
    name: "passwordChange: the user's own change (kpasswd, no remote address)",
    line: lines.passwordChange,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:10.918576Z', Channel: 'passwordChange', EventId: 4723 },
    identity: [
      {
        table: 'IdentityDirectoryEvents',
        values: {
          Timestamp: '2026-11-21T22:27:10.918576Z',
          ActionType: 'Account Password changed',
          AccountSid: 'S-1-5-21-233618269-2596914436-3104560765-1107',
          DeviceName: dc,
          TargetAccountDisplayName: 'carol',
          AdditionalFields: {
            EventId: 4723,
            SambaType: 'passwordChange',
            Reset: false,
            ObjectDN: 'CN=carol,CN=Users,DC=corp,DC=lab,DC=test',
            sessionId: 'b691fffa-b52c-464e-b1d9-f4362894d480',
            transactionId: '03a3682e-1b33-4196-8426-7379ed92fd62',
          },
        },
      },
    ],
  },
  {
    name: 'dsdbChange: user created',
    line: lines.dsdbAdd,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:09.928787Z', Channel: 'dsdbChange', EventId: 0 },
    identity: [
      {
        table: 'IdentityDirectoryEvents',
        values: {
          Timestamp: '2026-11-21T22:27:09.928787Z',
          ActionType: 'User Account Created',
          AccountSid: admin,
          DeviceName: dc,
          IPAddress: '10.99.0.20',
          Port: 36284,
          TargetAccountDisplayName: 'svc_sql',
          AdditionalFields: {
            EventId: 5137,
            ObjectClass: 'user',
            SambaType: 'dsdbChange',
            SambaOperation: 'Add',
            ObjectDN: svcSql,
            sessionId: '2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f',
            transactionId: 'a7b83593-8bc7-4ecc-adb9-9f680680df83',
          },
        },
      },
    ],
  },
  {
    // One row per action, as Windows logs 5136 once for the value deleted and once for the value added.
    name: 'dsdbChange: userAccountControl 546 deleted, 512 added',
    line: lines.dsdbUac,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:09.950862Z', Channel: 'dsdbChange', EventId: 0 },
    identity: ['546', '512'].map((value, i) => ({
      table: 'IdentityDirectoryEvents' as const,
      values: {
        Timestamp: '2026-11-21T22:27:09.950862Z',
        ActionType: 'Directory attribute changed',
        AccountSid: admin,
        DeviceName: dc,
        IPAddress: '10.99.0.20',
        Port: 36284,
        TargetAccountDisplayName: 'svc_sql',
        AdditionalFields: {
          EventId: 5136,
          AttributeLDAPDisplayName: 'userAccountControl',
          AttributeValue: value,
          OperationType: i === 0 ? 'ValueDeleted' : 'ValueAdded',
          SambaType: 'dsdbChange',
          SambaOperation: 'Modify',
          ObjectDN: svcSql,
          sessionId: '2c4b8513-a361-4bc6-b73c-3b4dc0a54c3f',
          transactionId: '97ebda7b-6dde-46e2-beb2-854cae3ba510',
        },
      },
    })),
  },
  {
    // 4194816 = 0x400200, DONT_REQ_PREAUTH | NORMAL_ACCOUNT: no delegation flag.
    name: 'dsdbChange: userAccountControl replaced',
    line: lines.dsdbUacReplace,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:10.607737Z', Channel: 'dsdbChange', EventId: 0 },
    identity: [
      {
        table: 'IdentityDirectoryEvents',
        values: {
          Timestamp: '2026-11-21T22:27:10.607737Z',
          ActionType: 'Directory attribute changed',
          AccountSid: admin,
          DeviceName: dc,
          IPAddress: '10.99.0.20',
          Port: 36338,
          TargetAccountDisplayName: 'asrep_user',
          AdditionalFields: {
            EventId: 5136,
            AttributeLDAPDisplayName: 'userAccountControl',
            AttributeValue: '4194816',
            OperationType: 'Replace',
            SambaType: 'dsdbChange',
            SambaOperation: 'Modify',
            ObjectDN: 'CN=asrep_user,CN=Users,DC=corp,DC=lab,DC=test',
            sessionId: '09f23f80-6448-4264-a81f-5b40619c344c',
            transactionId: '33f5ba8f-25be-44e2-9117-3389fba2e75c',
          },
        },
      },
    ],
  },
  {
    name: 'dsdbChange: member added to Domain Admins',
    line: lines.dsdbMember,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:10.732670Z', Channel: 'dsdbChange', EventId: 0 },
    identity: [
      {
        table: 'IdentityDirectoryEvents',
        values: {
          Timestamp: '2026-11-21T22:27:10.732670Z',
          ActionType: 'Group Membership changed',
          AccountSid: admin,
          DeviceName: dc,
          IPAddress: '10.99.0.20',
          Port: 36358,
          TargetAccountDisplayName: 'Domain Admins',
          AdditionalFields: {
            EventId: 5136,
            AttributeLDAPDisplayName: 'member',
            AttributeValue:
              '<GUID=60ffd360-3140-457a-97b6-76a7697c7054>;<SID=S-1-5-21-233618269-2596914436-3104560765-1105>;CN=alice,CN=Users,DC=corp,DC=lab,DC=test',
            OperationType: 'ValueAdded',
            SambaType: 'dsdbChange',
            SambaOperation: 'Modify',
            ObjectDN: domainAdmins,
            sessionId: '7d2c6dcc-3273-45f4-a551-a337980f85d7',
            transactionId: '53e716f2-fe0c-48eb-9b3b-5c40c9fddc6d',
          },
        },
      },
    ],
  },
  {
    name: 'dsdbChange: logon bookkeeping (raw only)',
    line: lines.dsdbLogon,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:08.753759Z', Channel: 'dsdbChange', EventId: 0 },
    identity: [],
  },
  {
    name: 'dsdbChange: password attribute (its passwordChange record makes the row)',
    line: lines.dsdbPassword,
    source: dc,
    raw: { Timestamp: '2026-11-21T22:27:09.947933Z', Channel: 'dsdbChange', EventId: 0 },
    identity: [],
  },
];

function withoutReportId(row: TableRow): TableRow {
  const { ReportId: _, ...values } = row.values;
  return { table: row.table, values };
}

describe('Samba audit records', () => {
  it.each(cases)('$name', ({ line, source, raw, identity }) => {
    const record: unknown = JSON.parse(line);
    const rows = normaliseSambaAudit(record, source);
    for (const row of rows) expect(checkRow(row)).toEqual([]);
    expect(rows.slice(0, -1).map(withoutReportId)).toEqual(identity);
    expect(rows.at(-1)).toEqual({
      table: 'PalisadeRawEvents',
      values: {
        ...raw,
        Source: 'samba-audit',
        Provider: 'Samba',
        ...(source ? { DeviceName: source } : {}),
        ReportId: expect.stringMatching(/^samba:[0-9a-f]{16}$/),
        Data: record,
      },
    });
    expect(new Set(rows.map((r) => r.values.ReportId)).size).toBe(1);
    // The same record read again gets the same ReportId.
    expect(normaliseSambaAudit(JSON.parse(line), source).at(-1)?.values.ReportId).toBe(
      rows.at(-1)?.values.ReportId,
    );
  });
});
