// Security-log events of an endpoint → the Device tables: 4688 process creation, 4624/4625
// logons, 5156 connections the Windows Filtering Platform permitted. Field names and message
// tokens: Microsoft's "Advanced security audit policy" event documentation.
import type { EvtxEvent } from '@palisade/evtx';
import type { TableRow } from '../rows.ts';
import {
  all,
  consumed,
  type DeviceMapping,
  deviceRow,
  type EventFields,
  eventFields,
  type FieldRule,
  integrityLevels,
  long,
  lookup,
  path,
  port,
  sid,
  text,
} from './device-row.ts';
import { ntstatusFailure } from './ntstatus.ts';

/** 4688 TokenElevationType tokens (%%1936 = type 1 …) by the names MDE uses. */
export const tokenElevationTypes: Readonly<Record<string, string>> = {
  '%%1936': 'TokenElevationTypeDefault',
  '%%1937': 'TokenElevationTypeFull',
  '%%1938': 'TokenElevationTypeLimited',
};

/** Windows logon types by the names DeviceLogonEvents uses. */
export const deviceLogonTypes: Readonly<Record<string, string>> = {
  '2': 'Interactive',
  '3': 'Network',
  '4': 'Batch',
  '5': 'Service',
  '7': 'Unlock',
  '8': 'NetworkCleartext',
  '9': 'NewCredentials',
  '10': 'RemoteInteractive',
  '11': 'CachedInteractive',
};

/** 5156 Direction tokens. */
const directions: Readonly<Record<string, 'Inbound' | 'Outbound'>> = {
  '%%14592': 'Inbound',
  '%%14593': 'Outbound',
};

/** IANA protocol numbers by the names MDE writes. */
const protocols: Readonly<Record<string, string>> = { '6': 'Tcp', '17': 'Udp' };

// 4688 A new process has been created. Subject* created it; Target* (version 2) is the account
// the new process runs as, and versions 0 and 1, which have no Target*, mean the Subject.
function processCreated(data: EventFields, event: EvtxEvent): DeviceMapping {
  const ownAccount = typeof data.TargetUserName !== 'string';
  const subject = (rule: FieldRule, also: FieldRule) => (ownAccount ? all(rule, also) : rule);
  return {
    table: 'DeviceProcessEvents',
    actionType: 'ProcessCreated',
    fields: {
      NewProcessName: path(''),
      NewProcessId: long('ProcessId'),
      CommandLine: text('ProcessCommandLine'),
      TokenElevationType: lookup('ProcessTokenElevation', tokenElevationTypes),
      MandatoryLabel: lookup('ProcessIntegrityLevel', integrityLevels),
      TargetUserSid: sid('AccountSid'),
      TargetUserName: text('AccountName'),
      TargetDomainName: text('AccountDomain'),
      TargetLogonId: long('LogonId'),
      ParentProcessName: path('InitiatingProcess'),
      ProcessId: long('InitiatingProcessId'),
      SubjectUserSid: subject(sid('InitiatingProcessAccountSid'), sid('AccountSid')),
      SubjectUserName: subject(text('InitiatingProcessAccountName'), text('AccountName')),
      SubjectDomainName: subject(text('InitiatingProcessAccountDomain'), text('AccountDomain')),
      SubjectLogonId: subject(long('InitiatingProcessLogonId'), long('LogonId')),
    },
    // The event is written as the process starts.
    columns: { ProcessCreationTime: typeof event?.timestamp === 'string' ? event.timestamp : undefined },
  };
}

// 4624 An account was successfully logged on; 4625 An account failed to log on. Target* is the
// account logged on; Subject* and Process* the local process that asked for the logon.
function logon(data: EventFields, event: EvtxEvent): DeviceMapping {
  const failed = event.system.eventId === 4625;
  // SubStatus has the precise reason; Status alone when SubStatus is absent or 0x0.
  const sub =
    typeof data.SubStatus === 'string' && !/^0x0+$/i.test(data.SubStatus) ? data.SubStatus : undefined;
  const status = sub ?? (typeof data.Status === 'string' ? data.Status : undefined);
  return {
    table: 'DeviceLogonEvents',
    actionType: failed ? 'LogonFailed' : 'LogonSuccess',
    fields: {
      TargetUserSid: sid('AccountSid'),
      TargetUserName: text('AccountName'),
      TargetDomainName: text('AccountDomain'),
      TargetLogonId: long('LogonId'),
      LogonType: lookup('LogonType', deviceLogonTypes),
      AuthenticationPackageName: text('Protocol'),
      WorkstationName: text('RemoteDeviceName'),
      IpAddress: text('RemoteIP'),
      IpPort: port('RemotePort'),
      ProcessId: long('InitiatingProcessId'),
      ProcessName: path('InitiatingProcess'),
      SubjectUserSid: sid('InitiatingProcessAccountSid'),
      SubjectUserName: text('InitiatingProcessAccountName'),
      SubjectDomainName: text('InitiatingProcessAccountDomain'),
    },
    columns: { FailureReason: failed ? ntstatusFailure(status) : undefined },
  };
}

// 5156 The Windows Filtering Platform has permitted a connection. Source* is the local end in
// both directions ("Source Address: local IP address on which application received the
// connection" for inbound ones).
function connectionPermitted(data: EventFields): DeviceMapping | undefined {
  const token = data.Direction;
  const direction =
    typeof token === 'string' && Object.hasOwn(directions, token) ? directions[token] : undefined;
  if (direction === undefined) return undefined;
  return {
    table: 'DeviceNetworkEvents',
    actionType: direction === 'Inbound' ? 'InboundConnectionAccepted' : 'ConnectionSuccess',
    fields: {
      Direction: consumed,
      Application: path('InitiatingProcess'),
      ProcessID: long('InitiatingProcessId'),
      SourceAddress: text('LocalIP'),
      SourcePort: port('LocalPort'),
      DestAddress: text('RemoteIP'),
      DestPort: port('RemotePort'),
      Protocol: lookup('Protocol', protocols),
    },
  };
}

const securityEvents: Readonly<
  Record<number, (data: EventFields, event: EvtxEvent) => DeviceMapping | undefined>
> = {
  4688: processCreated,
  4624: logon,
  4625: logon,
  5156: connectionPermitted,
};

/** The Security event ids that make a Device row. */
export const securityDeviceEventIds: readonly number[] = Object.keys(securityEvents).map(Number);

/**
 * Normalises one Security-log event to the Device row MDE would record for it, or none.
 *
 * @example
 * for (const event of parseEvtx(bytes).events) rows.push(...normaliseSecurityDeviceEvent(event));
 */
export function normaliseSecurityDeviceEvent(event: EvtxEvent): TableRow[] {
  if (event?.system?.channel !== 'Security') return [];
  const id = event.system.eventId;
  const build = Object.hasOwn(securityEvents, id) ? securityEvents[id] : undefined;
  if (!build) return [];
  const data = eventFields(event);
  const mapping = build(data, event);
  return mapping ? [deviceRow(event, data, mapping)] : [];
}
