// The Defender alert and incident model: MDE's Alert resource, the XDR Incident resource, their
// enumerations, and the checks on PATCH bodies. Names and values are Microsoft's
// (../shared/reference/defender-reference.md §4.3, §4.4, §4.6, §6.1, §6.2); what is Palisade's own
// is marked so.
import type { Dynamic } from '@palisade/schema';
import {
  type Determination as StoredDetermination,
  alertStatuses as storedAlertStatuses,
  classifications as storedClassifications,
  incidentStatuses as storedIncidentStatuses,
  severities as storedSeverities,
} from '@palisade/store';

// ─── Enumerations ────────────────────────────────────────────────────────────────────────────
// The value lists the state store accepts are the ones here; what the API adds (Unknown, the
// determinations per classification, the PATCH subsets) is defined beside them.

/** Alert severity (MDE Alert resource, §4.4); Palisade never produces UnSpecified. */
export const alertSeverities = storedSeverities;
export type AlertSeverity = (typeof alertSeverities)[number];

/** Incident severity (XDR Incident resource, §4.4). */
export const incidentSeverities = ['Informational', 'Low', 'Medium', 'High'] as const;
export type IncidentSeverity = (typeof incidentSeverities)[number];

/** Alert status as read; Unknown is read-only (§4.4). */
export const alertStatuses = ['Unknown', 'New', 'InProgress', 'Resolved'] as const;
export type AlertStatus = (typeof alertStatuses)[number];
/** The statuses `PATCH /api/alerts/{id}` sets (update-alert page). */
export const alertPatchStatuses = storedAlertStatuses;

/** Incident status (§4.3, §6.2). Redirected is set by merging, not by PATCH here. */
export const incidentStatuses = storedIncidentStatuses;
export type IncidentStatus = (typeof incidentStatuses)[number];
export const incidentPatchStatuses = ['Active', 'InProgress', 'Resolved'] as const;

/** Classification (§4.4); null on a record means not classified yet. */
export const classifications = storedClassifications;
export type Classification = (typeof classifications)[number];

/**
 * Determinations per classification, with the Alert resource's enum names (§4.4). The update pages
 * spell some differently; those spellings are accepted on input (`determinationAliases`).
 */
export const determinationsByClassification = {
  TruePositive: [
    'MultiStagedAttack',
    'MaliciousUserActivity',
    'CompromisedUser',
    'Malware',
    'Phishing',
    'UnwantedSoftware',
    'Other',
  ],
  InformationalExpectedActivity: [
    'SecurityTesting',
    'LineOfBusinessApplication',
    'ConfirmedUserActivity',
    'Other',
  ],
  FalsePositive: ['Clean', 'InsufficientData', 'Other'],
} as const satisfies Record<Classification, readonly StoredDetermination[]>;
export type Determination = (typeof determinationsByClassification)[Classification][number];

/** Other spellings of determinations: the update pages' and Graph's description table's (§4.4, §4.6). */
export const determinationAliases: Readonly<Record<string, Determination>> = {
  CompromisedAccount: 'CompromisedUser',
  ConfirmedActivity: 'ConfirmedUserActivity',
  NotMalicious: 'Clean',
  NoEnoughDataToValidate: 'InsufficientData',
  NotEnoughDataToValidate: 'InsufficientData',
};

/** Determinations Microsoft withdrew around 29 August 2022 (§4.4). */
export const deprecatedDeterminations = ['Apt', 'SecurityPersonnel'] as const;

/**
 * Alert categories: MITRE ATT&CK enterprise tactics in kill-chain order, then the legacy names
 * older alerts keep (§6.1).
 */
export const alertCategories = [
  'Reconnaissance',
  'ResourceDevelopment',
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'CommandAndControl',
  'Exfiltration',
  'Impact',
  'SuspiciousActivity',
  'Malware',
] as const;
export type AlertCategory = (typeof alertCategories)[number];

/** Graph alerts_v2 `serviceSource` (§4.6), members after unknownFutureValue included. */
export const serviceSources = [
  'unknown',
  'microsoftDefenderForEndpoint',
  'microsoftDefenderForIdentity',
  'microsoftDefenderForCloudApps',
  'microsoftDefenderForOffice365',
  'microsoft365Defender',
  'azureAdIdentityProtection',
  'microsoftAppGovernance',
  'dataLossPrevention',
  'unknownFutureValue',
  'microsoftDefenderForCloud',
] as const;
export type ServiceSource = (typeof serviceSources)[number];

/** Graph alerts_v2 `detectionSource` (§4.6), in Microsoft's order. */
export const detectionSources = [
  'unknown',
  'microsoftDefenderForEndpoint',
  'antivirus',
  'smartScreen',
  'customTi',
  'microsoftDefenderForOffice365',
  'automatedInvestigation',
  'microsoftThreatExperts',
  'customDetection',
  'microsoftDefenderForIdentity',
  'cloudAppSecurity',
  'microsoft365Defender',
  'azureAdIdentityProtection',
  'manual',
  'microsoftDataLossPrevention',
  'appGovernancePolicy',
  'appGovernanceDetection',
  'unknownFutureValue',
  'microsoftDefenderForCloud',
  'microsoftDefenderForIoT',
  'microsoftDefenderForServers',
  'microsoftDefenderForStorage',
  'microsoftDefenderForDNS',
  'microsoftDefenderForDatabases',
  'microsoftDefenderForContainers',
  'microsoftDefenderForNetwork',
  'microsoftDefenderForAppService',
  'microsoftDefenderForKeyVault',
  'microsoftDefenderForResourceManager',
  'microsoftDefenderForApiManagement',
] as const;
export type DetectionSource = (typeof detectionSources)[number];

/**
 * A Graph evolvable-enum value as a client sees it: members listed after `unknownFutureValue`
 * read as `unknownFutureValue` unless the request sent `Prefer: include-unknown-enum-members` (§4.6).
 */
export function graphEnumValue<T extends string>(
  members: readonly T[],
  value: T,
  includeUnknownEnumMembers: boolean,
): T | 'unknownFutureValue' {
  const sentinel = members.indexOf('unknownFutureValue' as T);
  return !includeUnknownEnumMembers && sentinel >= 0 && members.indexOf(value) > sentinel
    ? 'unknownFutureValue'
    : value;
}

/** Evidence entity types: the Alert resource's, AlertEvidence's Machine, the Incident entity's (§3.4, §4.4). */
export const evidenceEntityTypes = [
  'User',
  'Machine',
  'Ip',
  'Url',
  'File',
  'Process',
  'Registry',
  'MailBox',
  'MailMessage',
  'MailCluster',
  'SecurityGroup',
] as const;
export type EvidenceEntityType = (typeof evidenceEntityTypes)[number];

/** AlertEvidence EvidenceRole and EvidenceDirection (§3.4). */
export const evidenceRoles = ['Impacted', 'Related'] as const;
export type EvidenceRole = (typeof evidenceRoles)[number];
export const evidenceDirections = ['Source', 'Destination'] as const;
export type EvidenceDirection = (typeof evidenceDirections)[number];

// ─── Records ─────────────────────────────────────────────────────────────────────────────────

/** A comment on an alert or incident (§4.4 `comments`). */
export interface Comment {
  readonly comment: string;
  readonly createdBy: string;
  readonly createdTime: string;
}

/**
 * One evidence item, with the Alert resource's evidence property names (§4.4) and the Incident
 * entity's `deviceId`; absent properties are null in the API. `evidenceRole` and
 * `evidenceDirection` are the AlertEvidence columns (§3.4), kept so rows can be made from records.
 */
export interface EvidenceEntity {
  readonly entityType: EvidenceEntityType;
  readonly evidenceCreationTime: string;
  readonly evidenceRole: EvidenceRole;
  readonly evidenceDirection?: EvidenceDirection;
  readonly accountName?: string;
  readonly domainName?: string;
  readonly userSid?: string;
  readonly aadUserId?: string;
  readonly userPrincipalName?: string;
  readonly deviceId?: string;
  /** The device's name as seen (the Incident API's device `deviceDnsName`). */
  readonly deviceDnsName?: string;
  readonly ipAddress?: string;
  readonly url?: string;
  readonly sha1?: string;
  readonly sha256?: string;
  readonly fileName?: string;
  readonly filePath?: string;
  readonly processId?: number;
  readonly processCommandLine?: string;
  readonly processCreationTime?: string;
  readonly registryKey?: string;
  readonly registryHive?: string;
  readonly registryValueType?: string;
  readonly registryValue?: string;
  readonly detectionStatus?: string;
}

/**
 * An alert record: MDE's Alert resource (§4.4) plus Graph's `serviceSource` (§4.6). Palisade's
 * own: `externalId` (the Defender for Identity alert id an identity detector matches, §1.2).
 */
export interface MdeAlert {
  readonly id: string;
  readonly incidentId: number | null;
  readonly title: string;
  readonly description: string;
  readonly alertCreationTime: string;
  readonly firstEventTime: string;
  readonly lastEventTime: string;
  readonly lastUpdateTime: string;
  readonly resolvedTime: string | null;
  readonly assignedTo: string | null;
  readonly severity: AlertSeverity;
  readonly status: AlertStatus;
  readonly classification: Classification | null;
  readonly determination: Determination | null;
  readonly category: AlertCategory;
  readonly detectionSource: DetectionSource;
  readonly serviceSource: ServiceSource;
  /** The rule or detector: `identity/brute-force`, a Sigma rule id or title. */
  readonly detectorId: string;
  readonly externalId?: number;
  /** Technique ids, e.g. `T1003.001` (§4.4 `mitreTechniques`). */
  readonly mitreTechniques: readonly string[];
  readonly computerDnsName: string | null;
  readonly relatedUser: { readonly userName: string; readonly domainName: string } | null;
  readonly comments: readonly Comment[];
  readonly evidence: readonly EvidenceEntity[];
}

/** What an incident's name is made of, bounded: distinct values are kept up to two (one vs many). */
export interface IncidentFacets {
  readonly titles: readonly string[];
  readonly categories: readonly AlertCategory[];
  readonly machines: readonly string[];
  readonly users: readonly string[];
  readonly detectionSources: readonly DetectionSource[];
}

/**
 * An incident record: the XDR Incident resource's fields (§4.4) with its alerts by id. Palisade's
 * own: `alertIds` (the API's `alerts[]` expands them) and `facets` (what the name is made of).
 */
export interface IncidentRecord {
  readonly incidentId: number;
  /** Set when the incident was merged into another (§6.2). */
  readonly redirectIncidentId: number | null;
  readonly incidentName: string;
  readonly createdTime: string;
  readonly lastUpdateTime: string;
  readonly assignedTo: string | null;
  readonly classification: Classification | null;
  readonly determination: Determination | null;
  readonly status: IncidentStatus;
  readonly severity: IncidentSeverity;
  readonly tags: readonly string[];
  readonly comments: readonly Comment[];
  readonly alertIds: readonly string[];
  readonly facets: IncidentFacets;
}

/** One audited change. `before`/`after` hold the changed properties only; null for none. */
export interface AuditEntry {
  readonly actor: string;
  readonly action: AuditAction;
  /** `incident:<id>` or `alert:<id>`. */
  readonly target: string;
  readonly before: Readonly<Record<string, Dynamic>> | null;
  readonly after: Readonly<Record<string, Dynamic>> | null;
  readonly at: string;
}

export const auditActions = [
  'createIncident',
  'linkAlert',
  'mergeIncidents',
  'redirectIncident',
  'assign',
  'classify',
  'setStatus',
  'resolve',
  'reopen',
  'setTags',
  'comment',
] as const;
export type AuditAction = (typeof auditActions)[number];

// ─── Order and views ─────────────────────────────────────────────────────────────────────────

/** Severities from least to most severe. */
export const severityRank: Readonly<Record<AlertSeverity, number>> = {
  UnSpecified: 0,
  Informational: 1,
  Low: 2,
  Medium: 3,
  High: 4,
};

/** The more severe of two severities. */
export function maxSeverity(a: IncidentSeverity, b: AlertSeverity): IncidentSeverity {
  return b !== 'UnSpecified' && severityRank[b] > severityRank[a] ? b : a;
}

/** An alert as the XDR Incident resource lists it (§4.4 "Alert inside an incident"). */
export interface IncidentAlert {
  readonly alertId: string;
  readonly incidentId: number | null;
  readonly serviceSource: ServiceSource;
  readonly creationTime: string;
  readonly lastUpdatedTime: string;
  readonly resolvedTime: string | null;
  readonly firstActivity: string;
  readonly lastActivity: string;
  readonly title: string;
  readonly description: string;
  readonly category: AlertCategory;
  readonly status: AlertStatus;
  readonly severity: AlertSeverity;
  readonly classification: Classification | null;
  readonly determination: Determination | null;
  readonly detectionSource: DetectionSource;
  readonly assignedTo: string | null;
  readonly mitreTechniques: readonly string[];
  readonly devices: readonly { readonly deviceDnsName: string }[];
  readonly entities: readonly EvidenceEntity[];
}

/** The XDR Incident resource (§4.4): unclassified reads as Unknown / NotAvailable there. */
export interface IncidentResource {
  readonly incidentId: number;
  readonly redirectIncidentId: number | null;
  readonly incidentName: string;
  readonly createdTime: string;
  readonly lastUpdateTime: string;
  readonly assignedTo: string | null;
  readonly classification: Classification | 'Unknown';
  readonly determination: Determination | 'NotAvailable';
  readonly status: IncidentStatus;
  readonly severity: IncidentSeverity;
  readonly tags: readonly string[];
  readonly comments: readonly Comment[];
  readonly alerts: readonly IncidentAlert[];
}

/** An incident as the API shows it, with its alerts (those of `alerts` it lists, in its order). */
export function incidentResource(incident: IncidentRecord, alerts: readonly MdeAlert[]): IncidentResource {
  const byId = new Map(alerts.map((a) => [a.id, a]));
  const { facets: _facets, alertIds, classification, determination, ...fields } = incident;
  return {
    ...fields,
    classification: classification ?? 'Unknown',
    determination: determination ?? 'NotAvailable',
    alerts: alertIds.flatMap((id) => {
      const a = byId.get(id);
      return a ? [incidentAlert(a)] : [];
    }),
  };
}

function incidentAlert(a: MdeAlert): IncidentAlert {
  return {
    alertId: a.id,
    incidentId: a.incidentId,
    serviceSource: a.serviceSource,
    creationTime: a.alertCreationTime,
    lastUpdatedTime: a.lastUpdateTime,
    resolvedTime: a.resolvedTime,
    firstActivity: a.firstEventTime,
    lastActivity: a.lastEventTime,
    title: a.title,
    description: a.description,
    category: a.category,
    status: a.status,
    severity: a.severity,
    classification: a.classification,
    determination: a.determination,
    detectionSource: a.detectionSource,
    assignedTo: a.assignedTo,
    mitreTechniques: a.mitreTechniques,
    devices: a.evidence.flatMap((e) =>
      e.entityType === 'Machine' && e.deviceDnsName ? [{ deviceDnsName: e.deviceDnsName }] : [],
    ),
    entities: a.evidence.filter((e) => e.entityType !== 'Machine'),
  };
}

// ─── PATCH validation ────────────────────────────────────────────────────────────────────────

export type IncidentErrorCode =
  | 'incidents/not-an-object'
  | 'incidents/not-updatable'
  | 'incidents/bad-type'
  | 'incidents/bad-value'
  | 'incidents/deprecated-value'
  | 'incidents/determination-mismatch'
  | 'incidents/redirected'
  | 'incidents/not-found'
  | 'incidents/merge-count'
  | 'incidents/merge-closed'
  | 'incidents/merge-conflict';

/** A rejected request, naming the property (or `incidentIds` for merges) it is about. */
export interface IncidentError {
  readonly code: IncidentErrorCode;
  readonly property: string;
  readonly message: string;
}

/** A validated PATCH body: only what was sent. */
export interface Patch<Status extends string> {
  readonly status?: Status;
  readonly assignedTo?: string | null;
  readonly classification?: Classification;
  readonly determination?: Determination | null;
  readonly tags?: readonly string[];
  readonly comment?: string;
}

/** A validated `PATCH /api/alerts/{id}` body (alerts have no tags). */
export type AlertPatch = Omit<Patch<(typeof alertPatchStatuses)[number]>, 'tags'>;

/** A validated `PATCH /api/incidents/{id}` body. */
export type IncidentPatch = Patch<(typeof incidentPatchStatuses)[number]>;

/** What a check returns: the value when there are no errors. */
export interface Checked<T> {
  readonly value?: T;
  readonly errors: readonly IncidentError[];
}

// The updatable properties of each resource (update-alert and update-incidents pages, §4.3).
const alertProperties = ['status', 'assignedTo', 'classification', 'determination', 'comment'] as const;
const incidentProperties = [
  'status',
  'assignedTo',
  'classification',
  'determination',
  'tags',
  'comment',
] as const;

/**
 * Checks a `PATCH /api/alerts/{id}` body against the update-alert page: only status, assignedTo,
 * classification, determination and comment; a comment may come alone. `current` is the alert's
 * classification, against which a determination sent alone is checked.
 */
export function checkAlertPatch(
  body: unknown,
  current: { readonly classification: Classification | null },
): Checked<AlertPatch> {
  return checkPatch(body, 'alert', current) as Checked<AlertPatch>;
}

/**
 * Checks a `PATCH /api/incidents/{id}` body against the update-incidents page: status, assignedTo,
 * classification, determination, tags and comment. Redirected is only ever set by a merge.
 */
export function checkIncidentPatch(
  body: unknown,
  current: { readonly classification: Classification | null },
): Checked<IncidentPatch> {
  return checkPatch(body, 'incident', current) as Checked<IncidentPatch>;
}

type PatchProperty = (typeof incidentProperties)[number];

function checkPatch(
  body: unknown,
  resource: 'alert' | 'incident',
  current: { readonly classification: Classification | null },
): Checked<Patch<string>> {
  const allowed: readonly PatchProperty[] = resource === 'alert' ? alertProperties : incidentProperties;
  const statuses: readonly string[] = resource === 'alert' ? alertPatchStatuses : incidentPatchStatuses;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      errors: [
        err('incidents/not-an-object', '', `expected a JSON object of properties, found ${describe(body)}`),
      ],
    };
  }
  const errors: IncidentError[] = [];
  const patch: { -readonly [K in keyof Patch<string>]: Patch<string>[K] } = {};
  // The update pages spell properties both ways (`Status` in the table, `status` in the example).
  const byLowerName = new Map(allowed.map((p) => [p.toLowerCase(), p]));
  const seen = new Map<PatchProperty, unknown>();
  for (const [name, value] of Object.entries(body)) {
    const property = byLowerName.get(name.toLowerCase());
    if (!property) {
      errors.push(
        err('incidents/not-updatable', name, `${name} cannot be updated; updatable: ${allowed.join(', ')}`),
      );
    } else if (seen.has(property)) {
      errors.push(err('incidents/bad-value', property, `${property} is given twice (as ${name} too)`));
    } else seen.set(property, value);
  }
  for (const [property, value] of seen) {
    switch (property) {
      case 'status': {
        if (resource === 'incident' && typeof value === 'string' && value.toLowerCase() === 'redirected') {
          errors.push(
            err(
              'incidents/bad-value',
              'status',
              'status Redirected is set by merging incidents, not by an update',
            ),
          );
          break;
        }
        const status = enumValue(value, statuses, 'status', errors);
        if (status) patch.status = status;
        break;
      }
      case 'assignedTo':
        if (value === null) patch.assignedTo = null;
        else if (typeof value === 'string' && value.trim() !== '') patch.assignedTo = value.trim();
        else
          errors.push(
            err('incidents/bad-type', 'assignedTo', `expected a user name or null, found ${describe(value)}`),
          );
        break;
      case 'classification': {
        const c = enumValue(value, classifications, 'classification', errors);
        if (c) patch.classification = c;
        break;
      }
      case 'determination':
        break; // after the classification it depends on
      case 'tags':
        if (Array.isArray(value) && value.every((t) => typeof t === 'string' && t.trim() !== '')) {
          patch.tags = [...new Set(value.map((t: string) => t.trim()))];
        } else {
          errors.push(
            err(
              'incidents/bad-type',
              'tags',
              `expected a list of non-empty strings, found ${describe(value)}`,
            ),
          );
        }
        break;
      case 'comment':
        if (typeof value === 'string' && value.trim() !== '') patch.comment = value;
        else
          errors.push(
            err('incidents/bad-type', 'comment', `expected a non-empty string, found ${describe(value)}`),
          );
        break;
    }
  }
  if (seen.has('determination')) {
    const classification = seen.has('classification') ? patch.classification : current.classification;
    const d = determinationValue(
      seen.get('determination'),
      classification,
      seen.has('classification'),
      errors,
    );
    if (d !== undefined) patch.determination = d;
  } else if (patch.classification && current.classification !== patch.classification) {
    // "Omitted properties keep their values unless they have to be recalculated": a determination
    // belongs to one classification, so a new classification alone clears it.
    patch.determination = null;
  }
  return errors.length > 0 ? { errors } : { value: patch, errors };
}

/** A member of `members`, matched case-insensitively (Graph spells them camelCase), or an error. */
function enumValue<T extends string>(
  value: unknown,
  members: readonly T[],
  property: string,
  errors: IncidentError[],
): T | undefined {
  if (typeof value !== 'string') {
    errors.push(
      err('incidents/bad-type', property, `expected one of ${members.join(', ')}, found ${describe(value)}`),
    );
    return undefined;
  }
  const found = members.find((m) => m.toLowerCase() === value.toLowerCase());
  if (found) return found;
  const lower = value.toLowerCase();
  errors.push(
    err(
      'incidents/bad-value',
      property,
      lower === 'unknown'
        ? `${property} ${value} means "not set" and is read-only; expected one of ${members.join(', ')}`
        : lower === 'unknownfuturevalue'
          ? `${property} ${value} is Graph's evolvable-enum placeholder and cannot be set; expected one of ${members.join(', ')}`
          : `expected one of ${members.join(', ')}, found ${JSON.stringify(value)}`,
    ),
  );
  return undefined;
}

function determinationValue(
  value: unknown,
  classification: Classification | undefined | null,
  classificationSent: boolean,
  errors: IncidentError[],
): Determination | null | undefined {
  if (value === null) return null;
  if (typeof value !== 'string') {
    errors.push(
      err('incidents/bad-type', 'determination', `expected a determination, found ${describe(value)}`),
    );
    return undefined;
  }
  const lower = value.toLowerCase();
  if (deprecatedDeterminations.some((d) => d.toLowerCase() === lower)) {
    errors.push(
      err(
        'incidents/deprecated-value',
        'determination',
        `determination ${value} was withdrawn in August 2022; use one of the values for the classification`,
      ),
    );
    return undefined;
  }
  if (!classification) {
    // A classification sent but invalid already has its error.
    if (!classificationSent) {
      errors.push(
        err(
          'incidents/determination-mismatch',
          'determination',
          'a determination needs a classification: send classification in the same request',
        ),
      );
    }
    return undefined;
  }
  const allowed: readonly Determination[] = determinationsByClassification[classification];
  const alias = Object.entries(determinationAliases).find(([k]) => k.toLowerCase() === lower)?.[1];
  const d = alias ?? allowed.find((m) => m.toLowerCase() === lower);
  if (d && allowed.includes(d)) return d;
  errors.push(
    err(
      'incidents/determination-mismatch',
      'determination',
      `expected for classification ${classification} one of ${allowed.join(', ')}, found ${JSON.stringify(value)}`,
    ),
  );
  return undefined;
}

function err(code: IncidentErrorCode, property: string, message: string): IncidentError {
  return { code, property, message };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list ${JSON.stringify(value).slice(0, 60)}`;
  return value === null ? 'null' : `${typeof value} ${JSON.stringify(value).slice(0, 60)}`;
}
