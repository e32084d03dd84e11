// Sysmon events (Microsoft-Windows-Sysmon/Operational) → the Device table MDE would fill for the
// same activity. Field names: Sysmon's event schema (`sysmon -s`); columns and ActionTypes: the
// Defender advanced-hunting reference. Events with no Device counterpart make no row here (the
// raw row the Windows normaliser makes keeps them).
import type { EvtxEvent } from '@palisade/evtx';
import type { TableRow } from '../rows.ts';
import {
  account,
  consumed,
  type DeviceMapping,
  deviceRow,
  type EventFields,
  eventFields,
  type FieldRule,
  hashes,
  long,
  lookup,
  path,
  port,
  text,
  utcTime,
} from './device-row.ts';

export const sysmonChannel = 'Microsoft-Windows-Sysmon/Operational';

/** The process that acted, as Sysmon names it in most events. */
const actingProcess: Readonly<Record<string, FieldRule>> = {
  ProcessId: long('InitiatingProcessId'),
  Image: path('InitiatingProcess'),
  User: account('InitiatingProcess'),
};

// 8 CreateRemoteThread and 10 ProcessAccess: Source* is the acting process, Target* the one acted on.
const sourceAndTarget: Readonly<Record<string, FieldRule>> = {
  SourceProcessId: long('InitiatingProcessId'),
  SourceImage: path('InitiatingProcess'),
  SourceUser: account('InitiatingProcess'),
  TargetProcessId: long('ProcessId'),
  TargetImage: path(''),
  TargetUser: account(''),
};

/** Registry hive abbreviations Sysmon writes, by the root key names MDE writes. */
const hives: Readonly<Record<string, string>> = {
  HKLM: 'HKEY_LOCAL_MACHINE',
  HKU: 'HKEY_USERS',
  HKCU: 'HKEY_CURRENT_USER',
  HKCR: 'HKEY_CLASSES_ROOT',
  HKCC: 'HKEY_CURRENT_CONFIG',
};

function registryPath(v: string): string {
  const slash = v.indexOf('\\');
  const root = slash < 0 ? v : v.slice(0, slash);
  const key = root.toUpperCase();
  return Object.hasOwn(hives, key) ? hives[key] + v.slice(root.length) : v;
}

const registryKey =
  (column: string): FieldRule =>
  (v) => ({ [column]: registryPath(v) });

/** A value's TargetObject, `HKLM\…\Key\ValueName`: the key and the value name. */
const registryValue: FieldRule = (v) => {
  const full = registryPath(v);
  const slash = full.lastIndexOf('\\');
  return slash < 0
    ? undefined
    : { RegistryKey: full.slice(0, slash), RegistryValueName: full.slice(slash + 1) };
};

/**
 * Sysmon's Details of a SetValue: `DWORD (0x00000001)`, `QWORD (0x00000000-0x00000001)`,
 * `Binary Data`, or the string data. Numbers become decimal text, as MDE writes them.
 */
const registryData: FieldRule = (v) => {
  const dword = /^DWORD \(0x([0-9a-f]{1,8})\)$/i.exec(v);
  if (dword)
    return { RegistryValueType: 'Dword', RegistryValueData: String(Number.parseInt(dword[1] as string, 16)) };
  const qword = /^QWORD \(0x([0-9a-f]{1,8})-0x([0-9a-f]{1,8})\)$/i.exec(v);
  if (qword) {
    const n = (BigInt(`0x${qword[1]}`) << 32n) | BigInt(`0x${qword[2]}`);
    return { RegistryValueType: 'Qword', RegistryValueData: n.toString() };
  }
  if (v === 'Binary Data') return { RegistryValueType: 'Binary' };
  return { RegistryValueData: v };
};

/** Registry events by Sysmon's EventType: the ActionType and how TargetObject reads. */
const registryEvents: Readonly<Record<string, { actionType: string; fields: Record<string, FieldRule> }>> = {
  CreateKey: { actionType: 'RegistryKeyCreated', fields: { TargetObject: registryKey('RegistryKey') } },
  DeleteKey: { actionType: 'RegistryKeyDeleted', fields: { TargetObject: registryKey('RegistryKey') } },
  DeleteValue: { actionType: 'RegistryValueDeleted', fields: { TargetObject: registryValue } },
  SetValue: {
    actionType: 'RegistryValueSet',
    fields: { TargetObject: registryValue, Details: registryData },
  },
  RenameKey: {
    actionType: 'RegistryKeyRenamed',
    fields: { TargetObject: registryKey('PreviousRegistryKey'), NewName: registryKey('RegistryKey') },
  },
};

function registryEvent(data: EventFields): DeviceMapping | undefined {
  const type = data.EventType;
  const spec =
    typeof type === 'string' && Object.hasOwn(registryEvents, type) ? registryEvents[type] : undefined;
  if (!spec) return undefined;
  return {
    table: 'DeviceRegistryEvents',
    actionType: spec.actionType,
    fields: { ...actingProcess, ...spec.fields },
  };
}

/**
 * Sysmon event 3. An initiated connection has the local end as Source. For an accepted one,
 * Sysmon versions disagree on which end Source is. The local end of an accepted connection is
 * the listener: the end with a named (well-known) port, else the end whose host name is this
 * computer's, else the lower port.
 */
function networkConnection(data: EventFields, computer: string): DeviceMapping {
  const inbound = data.Initiated === 'false';
  const sourceIsLocal = !inbound || listenerIsSource(data, computer);
  const [local, remote] = sourceIsLocal ? ['Source', 'Destination'] : ['Destination', 'Source'];
  return {
    table: 'DeviceNetworkEvents',
    actionType: inbound ? 'InboundConnectionAccepted' : 'ConnectionSuccess',
    fields: {
      ...actingProcess,
      Initiated: consumed,
      Protocol: protocol,
      [`${local}Ip`]: text('LocalIP'),
      [`${local}Port`]: port('LocalPort'),
      [`${remote}Ip`]: text('RemoteIP'),
      [`${remote}Port`]: port('RemotePort'),
    },
  };
}

function listenerIsSource(data: EventFields, computer: string): boolean {
  const sourceNamed = typeof data.SourcePortName === 'string';
  const destinationNamed = typeof data.DestinationPortName === 'string';
  if (sourceNamed !== destinationNamed) return sourceNamed;
  const host = (v: unknown) => (typeof v === 'string' ? v.split('.')[0]?.toLowerCase() : undefined);
  const self = host(computer);
  const sourceSelf = self !== undefined && host(data.SourceHostname) === self;
  const destinationSelf = self !== undefined && host(data.DestinationHostname) === self;
  if (sourceSelf !== destinationSelf) return sourceSelf;
  return Number(data.SourcePort) <= Number(data.DestinationPort);
}

/** Protocol names as MDE writes them. */
const protocols: Readonly<Record<string, string>> = { tcp: 'Tcp', udp: 'Udp' };
const protocol: FieldRule = (v) => lookup('Protocol', protocols)(v.toLowerCase());

/** The mapping of each Sysmon event id that has a Device counterpart. */
const sysmonEvents: Readonly<
  Record<number, (data: EventFields, computer: string) => DeviceMapping | undefined>
> = {
  // 1 Process creation
  1: () => ({
    table: 'DeviceProcessEvents',
    actionType: 'ProcessCreated',
    fields: {
      ProcessId: long('ProcessId'),
      Image: path(''),
      Hashes: hashes(''),
      Company: text('ProcessVersionInfoCompanyName'),
      Product: text('ProcessVersionInfoProductName'),
      Description: text('ProcessVersionInfoFileDescription'),
      OriginalFileName: text('ProcessVersionInfoOriginalFileName'),
      CommandLine: text('ProcessCommandLine'),
      IntegrityLevel: text('ProcessIntegrityLevel'),
      UtcTime: utcTime('ProcessCreationTime'),
      User: account(''),
      LogonId: long('LogonId'),
      ParentProcessId: long('InitiatingProcessId'),
      ParentImage: path('InitiatingProcess'),
      ParentCommandLine: text('InitiatingProcessCommandLine'),
      ParentUser: account('InitiatingProcess'),
    },
  }),
  // 3 Network connection
  3: networkConnection,
  // 7 Image loaded (DeviceImageLoadEvents has no AdditionalFields: signature fields stay raw)
  7: () => ({
    table: 'DeviceImageLoadEvents',
    actionType: 'ImageLoaded',
    fields: { ...actingProcess, ImageLoaded: path(''), Hashes: hashes('') },
  }),
  // 8 CreateRemoteThread
  8: () => ({ table: 'DeviceEvents', actionType: 'CreateRemoteThreadApiCall', fields: sourceAndTarget }),
  // 10 ProcessAccess
  10: () => ({ table: 'DeviceEvents', actionType: 'OpenProcessApiCall', fields: sourceAndTarget }),
  // 11 FileCreate
  11: () => ({
    table: 'DeviceFileEvents',
    actionType: 'FileCreated',
    fields: { ...actingProcess, TargetFilename: path('') },
  }),
  // 12 Registry object added or deleted, 13 value set, 14 key renamed
  12: registryEvent,
  13: registryEvent,
  14: registryEvent,
  // 17 Pipe created, 18 Pipe connected
  17: () => ({ table: 'DeviceEvents', actionType: 'NamedPipeEvent', fields: actingProcess }),
  18: () => ({ table: 'DeviceEvents', actionType: 'NamedPipeEvent', fields: actingProcess }),
  // 22 DNS query: the name asked for is the URL the process reached
  22: () => ({
    table: 'DeviceEvents',
    actionType: 'DnsQueryResponse',
    fields: { ...actingProcess, QueryName: text('RemoteUrl') },
  }),
  // 23 FileDelete (archived), 26 FileDeleteDetected
  23: () => ({
    table: 'DeviceFileEvents',
    actionType: 'FileDeleted',
    fields: { ...actingProcess, TargetFilename: path(''), Hashes: hashes('') },
  }),
  26: () => ({
    table: 'DeviceFileEvents',
    actionType: 'FileDeleted',
    fields: { ...actingProcess, TargetFilename: path(''), Hashes: hashes('') },
  }),
};

/** The Sysmon event ids that make a Device row. */
export const sysmonDeviceEventIds: readonly number[] = Object.keys(sysmonEvents).map(Number);

/**
 * Normalises one Sysmon event to the Device row MDE would record for it: none for events MDE
 * has no counterpart for (5 process terminated, 2 file time changed, WMI, config changes…).
 *
 * @example
 * for (const event of parseEvtx(bytes).events) rows.push(...normaliseSysmonEvent(event));
 */
export function normaliseSysmonEvent(event: EvtxEvent): TableRow[] {
  if (event?.system?.channel !== sysmonChannel) return [];
  const id = event.system.eventId;
  const build = Object.hasOwn(sysmonEvents, id) ? sysmonEvents[id] : undefined;
  if (!build) return [];
  const data = eventFields(event);
  const mapping = build(data, event.system.computer ?? '');
  return mapping ? [deviceRow(event, data, mapping)] : [];
}
