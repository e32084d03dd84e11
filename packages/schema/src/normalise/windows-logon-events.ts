// Windows authentication events → IdentityLogonEvents: logons (4624, 4625, 4648), the KDC's
// Kerberos events (4768–4771), NTLM credential validation (4776) and NTLM audit on DCs (8004).
// Field names: Microsoft's "Advanced security audit" event documentation.
import { LogonAction } from '../action-types.ts';
import { kerberosFailure } from './kerberos-codes.ts';
import { ntstatusFailure } from './ntstatus.ts';
import {
  fields,
  hexValue,
  type IdentityBuilder,
  type IdentityDraft,
  ipAddress,
  port,
  sid,
  splitAccount,
  type WindowsRecord,
} from './windows-fields.ts';

/** LogonType text by Windows logon type number; others read `Logon type N`. */
export const logonTypeNames: Readonly<Record<string, string>> = {
  '2': 'Interactive Logon',
  '3': 'Resource Access',
  '8': 'LDAP Cleartext',
  '10': 'Remote Desktop',
};

/** Protocol by AuthenticationPackageName (lower case); other packages keep their name. */
export const packageProtocols: Readonly<Record<string, string>> = {
  kerberos: 'Kerberos',
  ntlm: 'Ntlm',
  negotiate: 'Negotiate',
};

const credentialsValidation = 'Credentials Validation';
const resourceAccess = 'Resource Access';

/** The KDC's events: which request they audit and the LogonType they stand for. */
export const kerberosEvents: Readonly<Record<number, { request: 'AS' | 'TGS'; logonType: string }>> = {
  4768: { request: 'AS', logonType: credentialsValidation }, // TGT requested
  4769: { request: 'TGS', logonType: resourceAccess }, // service ticket requested
  4770: { request: 'TGS', logonType: resourceAccess }, // service ticket renewed
  4771: { request: 'AS', logonType: credentialsValidation }, // pre-authentication failed
};

function logon(values: IdentityDraft['values']): IdentityDraft {
  return { table: 'IdentityLogonEvents', values };
}

function logonTypeName(v: string | undefined): string | undefined {
  return v === undefined ? undefined : (logonTypeNames[v] ?? `Logon type ${v}`);
}

/** The account a record names in `nameField`/`domainField`; a domain inside the name fills a missing domain field. */
function account(r: WindowsRecord, nameField: string, domainField: string) {
  const split = splitAccount(r.text(nameField));
  return { AccountName: split.name, AccountDomain: r.text(domainField) ?? split.domain };
}

/** Whether a Status field says the attempt failed: any value but 0; a missing one only when `missingFails`. */
function failed(status: string | undefined, missingFails: boolean): boolean {
  if (status === undefined) return missingFails;
  return hexValue(status) !== 0;
}

// 4624 An account was successfully logged on; 4625 An account failed to log on.
const logonEvent: IdentityBuilder = (r) => {
  const failure = r.eventId === 4625;
  // SubStatus carries the precise reason; Status alone when SubStatus is absent or 0x0.
  const subStatus = r.text('SubStatus');
  const reason = subStatus !== undefined && hexValue(subStatus) !== 0 ? subStatus : r.text('Status');
  const pkg = r.text('AuthenticationPackageName');
  return logon({
    ActionType: failure ? LogonAction.failure : LogonAction.success,
    LogonType: logonTypeName(r.text('LogonType')),
    Protocol: pkg === undefined ? undefined : (packageProtocols[pkg.toLowerCase()] ?? pkg),
    FailureReason: failure ? ntstatusFailure(reason) : undefined,
    ...account(r, 'TargetUserName', 'TargetDomainName'),
    AccountSid: sid(r.text('TargetUserSid')),
    DeviceName: r.text('WorkstationName'),
    IPAddress: ipAddress(r.text('IpAddress')),
    Port: port(r.text('IpPort')),
    DestinationDeviceName: r.computer,
    AdditionalFields: fields({
      EventId: r.eventId,
      LogonProcessName: r.text('LogonProcessName'),
      LmPackageName: r.text('LmPackageName'),
      TargetLogonId: r.text('TargetLogonId'),
      SubjectUserName: r.text('SubjectUserName'),
      SubjectDomainName: r.text('SubjectDomainName'),
      ElevatedToken: r.text('ElevatedToken'),
    }),
  });
};

// 4648 A logon was attempted using explicit credentials. It is logged where the process ran;
// its network address is the target server's ("Network Address: IP address of machine to which
// logon attempt was performed").
const explicitCredentials: IdentityBuilder = (r) =>
  logon({
    ActionType: LogonAction.success,
    LogonType: 'Explicit Credentials',
    ...account(r, 'TargetUserName', 'TargetDomainName'),
    DeviceName: r.computer,
    DestinationDeviceName: r.text('TargetServerName'),
    DestinationIPAddress: ipAddress(r.text('IpAddress')),
    DestinationPort: port(r.text('IpPort')),
    AdditionalFields: fields({
      EventId: r.eventId,
      SubjectUserName: r.text('SubjectUserName'),
      SubjectDomainName: r.text('SubjectDomainName'),
      TargetServerName: r.text('TargetServerName'),
      ProcessName: r.text('ProcessName'),
    }),
  });

// 4768, 4769, 4770, 4771: logged by the KDC, so the destination is the DC itself.
const kerberosEvent: IdentityBuilder = (r) => {
  const kind = kerberosEvents[r.eventId ?? 0];
  if (!kind) return undefined;
  const status = r.text('Status');
  // 4771 exists only for failures; the others audit both outcomes and always carry Status.
  const failure = failed(status, r.eventId === 4771);
  return logon({
    ActionType: failure ? LogonAction.failure : LogonAction.success,
    LogonType: kind.logonType,
    Protocol: 'Kerberos',
    FailureReason: failure ? kerberosFailure(status) : undefined,
    ...account(r, 'TargetUserName', 'TargetDomainName'),
    AccountSid: sid(r.text('TargetSid')),
    IPAddress: ipAddress(r.text('IpAddress')),
    Port: port(r.text('IpPort')),
    DestinationDeviceName: r.computer,
    TargetAccountDisplayName: kind.request === 'TGS' ? r.text('ServiceName') : undefined,
    AdditionalFields: fields({
      EventId: r.eventId,
      KerberosRequest: kind.request,
      ServiceName: r.text('ServiceName'),
      ServiceSid: r.text('ServiceSid'),
      TicketEncryptionType: r.text('TicketEncryptionType'),
      TicketOptions: r.text('TicketOptions'),
      PreAuthType: r.text('PreAuthType'),
      Status: status,
      CertIssuerName: r.text('CertIssuerName'),
    }),
  });
};

// 4776 The computer attempted to validate the credentials for an account (NTLM).
const ntlmValidation: IdentityBuilder = (r) => {
  const status = r.text('Status');
  const failure = failed(status, false);
  const split = splitAccount(r.text('TargetUserName'));
  return logon({
    ActionType: failure ? LogonAction.failure : LogonAction.success,
    LogonType: credentialsValidation,
    Protocol: 'Ntlm',
    FailureReason: failure ? ntstatusFailure(status) : undefined,
    AccountName: split.name,
    AccountDomain: split.domain,
    DeviceName: r.text('Workstation'),
    DestinationDeviceName: r.computer,
    AdditionalFields: fields({ EventId: r.eventId, Status: status, PackageName: r.text('PackageName') }),
  });
};

// 8004 (Microsoft-Windows-NTLM/Operational) Domain Controller Blocked Audit: NTLM authentication
// to this domain controller; logged by the DC that validated it.
const ntlmAudit: IdentityBuilder = (r) =>
  logon({
    ActionType: LogonAction.success,
    LogonType: credentialsValidation,
    Protocol: 'Ntlm',
    ...account(r, 'UserName', 'DomainName'),
    DeviceName: r.text('WorkstationName'),
    DestinationDeviceName: r.computer,
    AdditionalFields: fields({
      EventId: r.eventId,
      SChannelName: r.text('SChannelName'),
      SChannelType: r.text('SChannelType'),
    }),
  });

/** Security-log builders by event id. */
export const securityLogonBuilders: Readonly<Record<number, IdentityBuilder>> = {
  4624: logonEvent,
  4625: logonEvent,
  4648: explicitCredentials,
  4768: kerberosEvent,
  4769: kerberosEvent,
  4770: kerberosEvent,
  4771: kerberosEvent,
  4776: ntlmValidation,
};

/** Microsoft-Windows-NTLM/Operational builders by event id. */
export const ntlmLogonBuilders: Readonly<Record<number, IdentityBuilder>> = {
  8004: ntlmAudit,
};
