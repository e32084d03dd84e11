// Detection alerts (packages/detect) as Defender alerts: the MDE alert record, and the AlertInfo
// and AlertEvidence rows hunting sees. The pipeline writes both for every alert it raises.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Alert } from '@palisade/detect';
import type { RowValue, TableRow } from '@palisade/schema';
import type { SigmaLevel } from '@palisade/sigma';
import type {
  AlertCategory,
  AlertSeverity,
  DetectionSource,
  EvidenceDirection,
  EvidenceEntity,
  EvidenceRole,
  MdeAlert,
  ServiceSource,
} from './model.ts';

/** Where one kind of Palisade detection stands among Defender's sources. */
export interface SourceInfo {
  /** Graph alerts_v2 values (§4.6), which the alert record keeps. */
  readonly detectionSource: DetectionSource;
  readonly serviceSource: ServiceSource;
  /** MDE `/api/alerts` `detectionSource` (§6.1); null where only Graph has a value. */
  readonly apiDetectionSource: string | null;
  /** AlertInfo/AlertEvidence `DetectionSource` and `ServiceSource`: the portal's display names. */
  readonly huntingDetectionSource: string;
  readonly huntingServiceSource: string;
}

/**
 * Palisade's detections as Defender sources. Sigma rules (and their correlations) over endpoint
 * and Windows log events are Palisade's EDR; identity detectors are its Defender for Identity.
 * `customDetection` is kept for scheduled KQL custom detections, as in Defender (§6.1 "Custom
 * detection → CustomDetection"), so analysts can tell their own rules from the built-in engines.
 */
export const detectionSourceMap = {
  sigma: {
    detectionSource: 'microsoftDefenderForEndpoint',
    serviceSource: 'microsoftDefenderForEndpoint',
    apiDetectionSource: 'WindowsDefenderAtp',
    huntingDetectionSource: 'EDR',
    huntingServiceSource: 'Microsoft Defender for Endpoint',
  },
  correlation: {
    detectionSource: 'microsoftDefenderForEndpoint',
    serviceSource: 'microsoftDefenderForEndpoint',
    apiDetectionSource: 'WindowsDefenderAtp',
    huntingDetectionSource: 'EDR',
    huntingServiceSource: 'Microsoft Defender for Endpoint',
  },
  identity: {
    detectionSource: 'microsoftDefenderForIdentity',
    serviceSource: 'microsoftDefenderForIdentity',
    apiDetectionSource: null,
    huntingDetectionSource: 'Microsoft Defender for Identity',
    huntingServiceSource: 'Microsoft Defender for Identity',
  },
  custom: {
    detectionSource: 'customDetection',
    serviceSource: 'microsoft365Defender',
    apiDetectionSource: 'CustomDetection',
    huntingDetectionSource: 'Custom detection',
    huntingServiceSource: 'Microsoft Defender XDR',
  },
} as const satisfies Record<Alert['kind'] | 'custom', SourceInfo>;

/** The source whose `detectionSource` a record carries. */
export function sourceInfo(detectionSource: DetectionSource): SourceInfo | undefined {
  return Object.values(detectionSourceMap).find((s) => s.detectionSource === detectionSource);
}

/** Sigma levels (and identity severities) as MDE severities; MDE has no Critical (§6.1). */
export const levelSeverity: Readonly<Record<SigmaLevel, AlertSeverity>> = {
  informational: 'Informational',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'High',
};

/**
 * ATT&CK tactic tags (`attack.credential_access`, SigmaHQ's `attack.credential-access`) as MDE
 * categories, keyed without separators. ATT&CK v18 split Defense Evasion into Stealth and Defense
 * Impairment; MDE's categories keep DefenseEvasion for both.
 */
export const tacticCategories: Readonly<Record<string, AlertCategory>> = {
  reconnaissance: 'Reconnaissance',
  resourcedevelopment: 'ResourceDevelopment',
  initialaccess: 'InitialAccess',
  execution: 'Execution',
  persistence: 'Persistence',
  privilegeescalation: 'PrivilegeEscalation',
  defenseevasion: 'DefenseEvasion',
  stealth: 'DefenseEvasion',
  defenseimpairment: 'DefenseEvasion',
  credentialaccess: 'CredentialAccess',
  discovery: 'Discovery',
  lateralmovement: 'LateralMovement',
  collection: 'Collection',
  commandandcontrol: 'CommandAndControl',
  exfiltration: 'Exfiltration',
  impact: 'Impact',
};

/** The categories of an alert's tactic tags, primary first; SuspiciousActivity when it has none. */
export function alertCategoriesOf(alert: Alert): AlertCategory[] {
  const out = new Set<AlertCategory>();
  for (const tag of alert.tags) {
    const m = /^attack\.([a-z_\- ]+)$/i.exec(tag);
    const c = m ? tacticCategories[(m[1] as string).toLowerCase().replace(/[-_ ]/g, '')] : undefined;
    if (c) out.add(c);
  }
  return out.size > 0 ? [...out] : ['SuspiciousActivity'];
}

/** Technique ids: the detector's, then those of `attack.tNNNN[.NNN]` tags, upper case, once each. */
export function techniquesOf(alert: Alert): string[] {
  const fromTags = alert.tags.flatMap((t) => {
    const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t);
    return m ? [(m[1] as string).toUpperCase()] : [];
  });
  return [...new Set([...(alert.techniques ?? []), ...fromTags])];
}

/**
 * A stable alert id: `pa` and a hash of the rule or detector, the first event behind the alert and
 * the alert's time, so a batch delivered twice gives the same ids (MDE ids look like `da6374…_136…`).
 */
export function alertIdOf(alert: Alert): string {
  const first = alert.events[0];
  const parts = [
    alert.detectorId ?? alert.ruleId ?? alert.title,
    first
      ? [first.computer, first.channel, first.eventId, first.recordId ?? '', instantOf(first.timestamp)].join(
          '|',
        )
      : '',
    instantOf(alert.timestamp),
  ];
  return `pa${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 30)}`;
}

const ISO_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * An ISO 8601 time as microseconds since the epoch, so that one instant written two ways — seven
 * fractional digits as sent, six as the event store gives them back, an offset or Z — gives one
 * alert id whether a batch was detected on live or replayed after a crash. Other text as it is.
 */
function instantOf(text: string): string {
  const m = ISO_TIME.exec(text);
  if (!m) return text;
  const seconds = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(seconds)) return text;
  const micros = Number(`${m[2] ?? ''}000000`.slice(0, 6));
  return String(BigInt(seconds) * 1000n + BigInt(micros));
}

export interface AlertRecordOptions {
  /** When the record is made (`alertCreationTime`); the alert's own time when absent, as in a scan. */
  readonly createdAt?: string;
}

/** A detection alert as an MDE alert record: New, unassigned, unclassified, in no incident yet. */
export function toMdeAlert(alert: Alert, options: AlertRecordOptions = {}): MdeAlert {
  const source = detectionSourceMap[alert.kind];
  const times = [...alert.events.map((e) => e.timestamp), alert.timestamp].filter(
    (t) => !Number.isNaN(Date.parse(t)),
  );
  const byTime = (a: string, b: string) => Date.parse(a) - Date.parse(b);
  times.sort(byTime);
  const firstEventTime = times[0] ?? alert.timestamp;
  const lastEventTime = times[times.length - 1] ?? alert.timestamp;
  const createdAt = options.createdAt ?? lastEventTime;
  const evidence = evidenceOf(alert, createdAt);
  const user = evidence.find(
    (e) => e.entityType === 'User' && e.evidenceRole === 'Impacted' && e.accountName,
  );
  return {
    id: alertIdOf(alert),
    incidentId: null,
    title: alert.title,
    description: alert.description ?? describeSigmaAlert(alert),
    alertCreationTime: createdAt,
    firstEventTime,
    lastEventTime,
    lastUpdateTime: createdAt,
    resolvedTime: null,
    assignedTo: null,
    severity: levelSeverity[alert.level],
    status: 'New',
    classification: null,
    determination: null,
    category: alertCategoriesOf(alert)[0] ?? 'SuspiciousActivity',
    detectionSource: source.detectionSource,
    serviceSource: source.serviceSource,
    detectorId: alert.detectorId ?? alert.ruleId ?? alert.title,
    ...(alert.externalId === undefined ? {} : { externalId: alert.externalId }),
    mitreTechniques: techniquesOf(alert),
    computerDnsName:
      evidence.find((e) => e.entityType === 'Machine' && e.evidenceRole === 'Impacted')?.deviceDnsName ??
      null,
    relatedUser: user?.accountName ? { userName: user.accountName, domainName: user.domainName ?? '' } : null,
    comments: [],
    evidence,
  };
}

function describeSigmaAlert(alert: Alert): string {
  const first = alert.events[0];
  if (alert.kind === 'correlation') {
    const group = Object.entries(alert.group ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return `Sigma correlation "${alert.title}" over ${alert.events.length} events${group ? ` sharing ${group}` : ''}`;
  }
  return first
    ? `Sigma rule "${alert.title}" matched event ${first.eventId} of ${first.channel}${first.computer ? ` on ${first.computer}` : ''}`
    : `Sigma rule "${alert.title}" matched`;
}

/**
 * The entities an alert names, as evidence. Identity alerts: the acting accounts and devices are
 * Impacted (the assets to investigate), their IPs Related, all as the Source; what they targeted is
 * Related, the Destination. Sigma alerts: the computer that logged each event is Impacted, and a
 * correlation's group-by values are Related. Each entity appears once, in its first role.
 */
export function evidenceOf(alert: Alert, at: string): EvidenceEntity[] {
  const out: EvidenceEntity[] = [];
  const seen = new Set<string>();
  const add = (e: EvidenceEntity | undefined) => {
    if (!e) return;
    const {
      evidenceRole: _role,
      evidenceDirection: _direction,
      evidenceCreationTime: _time,
      ...identity
    } = e;
    const key = JSON.stringify(identity).toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    out.push(e);
  };
  if (alert.kind === 'identity') {
    const { entities, targets } = alert;
    for (const a of entities?.accounts ?? []) add(userEvidence(a, 'Impacted', 'Source', at));
    for (const d of entities?.devices ?? []) add(deviceEvidence(d, 'Impacted', 'Source', at));
    for (const ip of entities?.ips ?? []) add(ipEvidence(ip, 'Source', at));
    for (const a of targets?.accounts ?? []) add(userEvidence(a, 'Related', 'Destination', at));
    for (const d of targets?.devices ?? []) add(deviceEvidence(d, 'Related', 'Destination', at));
    for (const ip of targets?.ips ?? []) add(ipEvidence(ip, 'Destination', at));
    return out;
  }
  for (const e of alert.events) if (e.computer) add(deviceEvidence(e.computer, 'Impacted', undefined, at));
  for (const [field, value] of Object.entries(alert.group ?? {})) {
    const kind = groupFieldEntities[field.toLowerCase()];
    if (!kind || !value) continue;
    const [type, direction] = kind;
    add(
      type === 'User'
        ? userEvidence(value, 'Related', direction, at)
        : type === 'Machine'
          ? deviceEvidence(value, 'Related', direction, at)
          : type === 'Ip'
            ? ipEvidence(value, direction, at)
            : fileEvidence(value, at),
    );
  }
  return out;
}

/** Sigma field names (Windows event data, Sysmon) whose values name an entity, lower case. */
const groupFieldEntities: Readonly<
  Record<string, readonly ['User' | 'Machine' | 'Ip' | 'File', EvidenceDirection | undefined]>
> = {
  targetusername: ['User', 'Destination'],
  subjectusername: ['User', 'Source'],
  user: ['User', undefined],
  username: ['User', undefined],
  accountname: ['User', undefined],
  samaccountname: ['User', undefined],
  computer: ['Machine', undefined],
  computername: ['Machine', undefined],
  workstationname: ['Machine', 'Source'],
  workstation: ['Machine', 'Source'],
  hostname: ['Machine', undefined],
  ipaddress: ['Ip', 'Source'],
  sourceip: ['Ip', 'Source'],
  sourceaddress: ['Ip', 'Source'],
  clientaddress: ['Ip', 'Source'],
  destinationip: ['Ip', 'Destination'],
  destaddress: ['Ip', 'Destination'],
  image: ['File', undefined],
  targetfilename: ['File', undefined],
};

function dir(direction: EvidenceDirection | undefined): { evidenceDirection?: EvidenceDirection } {
  return direction ? { evidenceDirection: direction } : {};
}

/** `DOMAIN\user`, `user@domain` (a UPN), a SID or a bare name, split into MDE's user properties. */
export function userEvidence(
  name: string,
  role: EvidenceRole,
  direction: EvidenceDirection | undefined,
  at: string,
): EvidenceEntity | undefined {
  const n = name.trim();
  if (!n) return undefined;
  const base = {
    entityType: 'User',
    evidenceCreationTime: at,
    evidenceRole: role,
    ...dir(direction),
  } as const;
  if (/^S-1-\d+(-\d+)+$/i.test(n)) return { ...base, userSid: n.toUpperCase() };
  const slash = n.indexOf('\\');
  if (slash > 0) return { ...base, accountName: n.slice(slash + 1), domainName: n.slice(0, slash) };
  const at_ = n.lastIndexOf('@');
  // A service principal name (`ldap/dc1.corp`) is kept whole.
  if (at_ > 0 && !n.includes('/')) return { ...base, accountName: n.slice(0, at_), userPrincipalName: n };
  return { ...base, accountName: n };
}

/** A device by name; an address where a name was not resolved is an Ip entity. */
export function deviceEvidence(
  name: string,
  role: EvidenceRole,
  direction: EvidenceDirection | undefined,
  at: string,
): EvidenceEntity | undefined {
  const n = name.trim();
  if (!n) return undefined;
  if (isIP(n) !== 0) return ipEvidence(n, direction, at);
  return {
    entityType: 'Machine',
    evidenceCreationTime: at,
    evidenceRole: role,
    ...dir(direction),
    deviceDnsName: n.toLowerCase(),
  };
}

export function ipEvidence(
  ip: string,
  direction: EvidenceDirection | undefined,
  at: string,
): EvidenceEntity | undefined {
  const n = ip.trim();
  if (!n) return undefined;
  return {
    entityType: 'Ip',
    evidenceCreationTime: at,
    evidenceRole: 'Related',
    ...dir(direction),
    ipAddress: n,
  };
}

/** A file by path: MDE keeps the folder in `filePath` and the name in `fileName`. */
export function fileEvidence(path: string, at: string): EvidenceEntity | undefined {
  const n = path.trim();
  if (!n) return undefined;
  const cut = Math.max(n.lastIndexOf('\\'), n.lastIndexOf('/'));
  return {
    entityType: 'File',
    evidenceCreationTime: at,
    evidenceRole: 'Related',
    fileName: n.slice(cut + 1),
    ...(cut > 0 ? { filePath: n.slice(0, cut) } : {}),
  };
}

/**
 * The hunting rows of an alert record: one AlertInfo row and one AlertEvidence row per evidence
 * entity, with Microsoft's column names (§3.4). Techniques and categories are JSON arrays of ids
 * and category names.
 */
export function alertRows(alert: MdeAlert): TableRow[] {
  const source = sourceInfo(alert.detectionSource);
  const common = {
    Timestamp: alert.alertCreationTime,
    AlertId: alert.id,
    Title: alert.title,
    AttackTechniques: JSON.stringify(alert.mitreTechniques),
    ServiceSource: source?.huntingServiceSource ?? alert.serviceSource,
    DetectionSource: source?.huntingDetectionSource ?? alert.detectionSource,
  };
  const info: TableRow = {
    table: 'AlertInfo',
    values: { ...common, Category: alert.category, Severity: alert.severity },
  };
  return [
    info,
    ...alert.evidence.map(
      (e): TableRow => ({
        table: 'AlertEvidence',
        values: {
          ...common,
          Categories: JSON.stringify([alert.category]),
          EntityType: e.entityType,
          EvidenceRole: e.evidenceRole,
          ...(e.evidenceDirection ? { EvidenceDirection: e.evidenceDirection } : {}),
          ...evidenceColumns(e),
          Severity: alert.severity,
        },
      }),
    ),
  ];
}

/** An evidence entity's own AlertEvidence columns; absent properties leave columns empty. */
function evidenceColumns(e: EvidenceEntity): Record<string, RowValue> {
  const columns: Record<string, RowValue | undefined> = {
    AccountName: e.accountName,
    AccountDomain: e.domainName,
    AccountSid: e.userSid,
    AccountObjectId: e.aadUserId,
    AccountUpn: e.userPrincipalName,
    DeviceId: e.deviceId,
    DeviceName: e.deviceDnsName,
    RemoteIP: e.ipAddress,
    RemoteUrl: e.url,
    FileName: e.fileName,
    FolderPath: e.filePath,
    SHA1: e.sha1,
    SHA256: e.sha256,
    ProcessCommandLine: e.processCommandLine,
    RegistryKey: e.registryKey,
    RegistryValueData: e.registryValue,
  };
  return Object.fromEntries(
    Object.entries(columns).filter((kv): kv is [string, RowValue] => kv[1] !== undefined),
  );
}
