// The state store contract: the instance's small, transactional records (instance, users, roles,
// sensors, alerts, incidents, comments, audit, detector state, batch ledger, sensor actions). SQLite
// implements it embedded; PostgreSQL will implement it distributed, so every method is async.
// test/state-store-conformance.ts holds every implementation to it. Times are ISO 8601 text (UTC,
// milliseconds); ids are text unless the MDE API makes them numbers (incidents, comments, audit).
import type { Json } from './event-store.ts';

export type JsonObject = { [key: string]: Json };

// Value lists (MDE API names, see defender-reference §4.4 and §5); the store rejects others.

/** MDE alert severities, least to most severe. */
export const severities = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'] as const;
export type Severity = (typeof severities)[number];
export const alertStatuses = ['New', 'InProgress', 'Resolved'] as const;
export type AlertStatus = (typeof alertStatuses)[number];
export const classifications = ['TruePositive', 'InformationalExpectedActivity', 'FalsePositive'] as const;
export type Classification = (typeof classifications)[number];
export const determinations = [
  'MultiStagedAttack',
  'MaliciousUserActivity',
  'CompromisedUser',
  'Malware',
  'Phishing',
  'UnwantedSoftware',
  'SecurityTesting',
  'LineOfBusinessApplication',
  'ConfirmedUserActivity',
  'Clean',
  'InsufficientData',
  'Other',
] as const;
export type Determination = (typeof determinations)[number];
export const incidentStatuses = ['Active', 'InProgress', 'Resolved', 'Redirected'] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];
export const sensorTypes = ['domain-controller', 'standalone', 'endpoint', 'file'] as const;
export type SensorType = (typeof sensorTypes)[number];
/** MDE machine action statuses, plus PendingApproval for semi-automatic remediation. */
export const actionStatuses = [
  'PendingApproval',
  'Pending',
  'InProgress',
  'Succeeded',
  'Failed',
  'TimeOut',
  'Cancelled',
] as const;
export type ActionStatus = (typeof actionStatuses)[number];
/** MDE device group remediation levels: none, semi (approval for all / non-temp / core folders), full. */
export const remediationLevels = ['none', 'semi-all', 'semi-non-temp', 'semi-core', 'full'] as const;
export type RemediationLevel = (typeof remediationLevels)[number];
export const auditOutcomes = ['success', 'failure'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

// Shared query shapes.

export interface Page<T> {
  readonly items: T[];
  /** How many records match the filter, all pages together. */
  readonly total: number;
}

export interface PageOptions {
  /** At most this many items (default 100, at most 10,000 as MDE's `$top`). */
  readonly top?: number;
  readonly skip?: number;
}

/** A time range: `from` inclusive, `to` exclusive; either may be open. */
export interface TimeRange {
  readonly from?: string;
  readonly to?: string;
}

/**
 * The devices a caller may see (from its device groups). A record is in scope when one of its
 * devices is listed (names compared case-insensitively); records about no device (identity-only
 * alerts) are in scope only with `includeDeviceless`.
 */
export interface DeviceScope {
  readonly devices: readonly string[];
  readonly includeDeviceless?: boolean;
}

// Instance.

export interface InstanceRecord {
  readonly name: string;
  readonly domain: string;
  readonly createdAt: string;
  /** Fixed at creation, as MDI's workspace location: there is no method to move it. */
  readonly dataDir: string;
  readonly settings: JsonObject;
}

export interface Instance {
  get(): Promise<InstanceRecord | undefined>;
  /** Creates the instance once; a second call fails with `store/conflict`. */
  create(input: {
    name: string;
    domain: string;
    dataDir: string;
    settings?: JsonObject;
  }): Promise<InstanceRecord>;
  /** Merges top-level keys into the settings (a `null` value removes the key). */
  updateSettings(patch: JsonObject): Promise<InstanceRecord>;
}

// Users, groups, API clients, sessions.

export interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly displayName: string | null;
  readonly email: string | null;
  /** argon2id hash; null for users who sign in through OIDC only. */
  readonly passwordHash: string | null;
  readonly totpSecret: string | null;
  readonly disabled: boolean;
  /** The password is a one-time one (first administrator, creation, reset): change it before anything else. */
  readonly mustChangePassword: boolean;
  readonly createdAt: string;
  readonly lastLoginAt: string | null;
}

export interface NewUser {
  readonly id?: string;
  readonly name: string;
  readonly displayName?: string;
  readonly email?: string;
  readonly passwordHash?: string;
  readonly totpSecret?: string;
  readonly disabled?: boolean;
  readonly mustChangePassword?: boolean;
}

export interface UserPatch {
  readonly name?: string;
  readonly displayName?: string | null;
  readonly email?: string | null;
  readonly passwordHash?: string | null;
  readonly totpSecret?: string | null;
  readonly disabled?: boolean;
  readonly mustChangePassword?: boolean;
  readonly lastLoginAt?: string | null;
}

export interface Users {
  /** Fails with `store/conflict` when the name (case-insensitive) is taken. */
  create(input: NewUser): Promise<UserRecord>;
  get(id: string): Promise<UserRecord | undefined>;
  getByName(name: string): Promise<UserRecord | undefined>;
  /** Users by name; disabled ones too unless `includeDisabled` is false. */
  list(options?: PageOptions & { includeDisabled?: boolean }): Promise<Page<UserRecord>>;
  update(id: string, patch: UserPatch): Promise<UserRecord | undefined>;
  /** Deletes the user with its sessions, group memberships and role assignments. */
  delete(id: string): Promise<boolean>;
}

export interface UserGroupRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly createdAt: string;
}

export interface UserGroups {
  create(input: { id?: string; name: string; description?: string }): Promise<UserGroupRecord>;
  get(id: string): Promise<UserGroupRecord | undefined>;
  list(): Promise<UserGroupRecord[]>;
  delete(id: string): Promise<boolean>;
  addMember(groupId: string, userId: string): Promise<void>;
  removeMember(groupId: string, userId: string): Promise<boolean>;
  members(groupId: string): Promise<UserRecord[]>;
  groupsOf(userId: string): Promise<UserGroupRecord[]>;
}

export interface ApiClientRecord {
  readonly id: string;
  readonly name: string;
  readonly secretHash: string;
  /** MDE application permissions, e.g. `Alert.Read.All`, `AdvancedQuery.Read.All`. */
  readonly scopes: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

export interface ApiClients {
  create(input: {
    id?: string;
    name: string;
    secretHash: string;
    scopes: readonly string[];
  }): Promise<ApiClientRecord>;
  get(id: string): Promise<ApiClientRecord | undefined>;
  list(): Promise<ApiClientRecord[]>;
  update(
    id: string,
    patch: {
      name?: string;
      secretHash?: string;
      scopes?: readonly string[];
      disabled?: boolean;
      lastUsedAt?: string;
    },
  ): Promise<ApiClientRecord | undefined>;
  delete(id: string): Promise<boolean>;
}

export interface SessionRecord {
  readonly tokenHash: string;
  readonly userId: string;
  readonly csrfToken: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastSeenAt: string;
}

export interface Sessions {
  /** Fails with `store/not-found` when the user does not exist. */
  create(input: {
    tokenHash: string;
    userId: string;
    csrfToken: string;
    expiresAt: string;
  }): Promise<SessionRecord>;
  /** The session if it has not expired at `now` (default: the store's clock). */
  get(tokenHash: string, now?: string): Promise<SessionRecord | undefined>;
  /** Marks the session used now and optionally extends it (sliding expiry). */
  touch(tokenHash: string, expiresAt?: string): Promise<SessionRecord | undefined>;
  delete(tokenHash: string): Promise<boolean>;
  deleteForUser(userId: string): Promise<number>;
  deleteExpired(now?: string): Promise<number>;
}

// Roles and device groups (MDE RBAC: roles hold permissions and go to users or user groups;
// device groups, ranked, decide which devices a user group sees).

export type Principal =
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'group'; readonly id: string };

export interface RoleRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  /** Permission names, e.g. MDE's `View data`, `Alerts investigation`, or MDI role-group rights. */
  readonly permissions: readonly string[];
  readonly builtIn: boolean;
  readonly createdAt: string;
}

export interface Roles {
  create(input: {
    id?: string;
    name: string;
    description?: string;
    permissions: readonly string[];
    builtIn?: boolean;
  }): Promise<RoleRecord>;
  get(id: string): Promise<RoleRecord | undefined>;
  getByName(name: string): Promise<RoleRecord | undefined>;
  list(): Promise<RoleRecord[]>;
  update(
    id: string,
    patch: { name?: string; description?: string | null; permissions?: readonly string[] },
  ): Promise<RoleRecord | undefined>;
  delete(id: string): Promise<boolean>;
  /** Fails with `store/not-found` when the role or the principal does not exist. */
  assign(roleId: string, principal: Principal): Promise<void>;
  unassign(roleId: string, principal: Principal): Promise<boolean>;
  assignments(roleId: string): Promise<Principal[]>;
  /** The roles a user holds, directly or through its groups. */
  rolesOf(userId: string): Promise<RoleRecord[]>;
  /** The union of the permissions of `rolesOf(userId)`, sorted. */
  permissionsOf(userId: string): Promise<string[]>;
}

export interface DeviceGroupRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  /** 1 is the highest; a device joins only the highest-ranked group it matches. */
  readonly rank: number;
  readonly remediationLevel: RemediationLevel;
  /** The matching rules (device name, domain, tags, OS platform) as the server defines them. */
  readonly rules: Json;
  /** User groups that see this device group; none means everyone with access sees it. */
  readonly userGroupIds: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface DeviceGroups {
  /** Without a rank the group goes last. */
  create(input: {
    id?: string;
    name: string;
    description?: string;
    rank?: number;
    remediationLevel: RemediationLevel;
    rules: Json;
    userGroupIds?: readonly string[];
  }): Promise<DeviceGroupRecord>;
  get(id: string): Promise<DeviceGroupRecord | undefined>;
  /** All groups by rank. */
  list(): Promise<DeviceGroupRecord[]>;
  update(
    id: string,
    patch: {
      name?: string;
      description?: string | null;
      remediationLevel?: RemediationLevel;
      rules?: Json;
      userGroupIds?: readonly string[];
    },
  ): Promise<DeviceGroupRecord | undefined>;
  delete(id: string): Promise<boolean>;
  /** Ranks the groups 1… in the order given; every group must be listed once. */
  rerank(ids: readonly string[]): Promise<DeviceGroupRecord[]>;
  /** The groups a user sees: those without user groups and those shared with one of its groups. */
  visibleTo(userId: string): Promise<DeviceGroupRecord[]>;
}

// Sensors, the access key, sensor actions.

export interface SensorRecord {
  readonly id: string;
  readonly name: string;
  readonly type: SensorType;
  readonly certificateSerial: string;
  /** SHA-256 of the client certificate, as the TLS layer reports it. */
  readonly certificateFingerprint: string;
  /** Facts the sensor reported about its host at registration (OS, DC role, addresses…). */
  readonly host: JsonObject;
  readonly version: string | null;
  readonly registeredAt: string;
  readonly lastSeenAt: string | null;
  /** The last health report (status, issues, lag, drops, capture stats). */
  readonly health: JsonObject;
  readonly configVersion: number;
  /** Set when the sensor was deleted in the portal: its certificate is no longer accepted. */
  readonly revokedAt: string | null;
}

export interface Sensors {
  /** Fails with `store/conflict` when the id or the certificate fingerprint is known. */
  register(input: {
    id?: string;
    name: string;
    type: SensorType;
    certificateSerial: string;
    certificateFingerprint: string;
    host?: JsonObject;
    version?: string;
  }): Promise<SensorRecord>;
  get(id: string): Promise<SensorRecord | undefined>;
  getByFingerprint(fingerprint: string): Promise<SensorRecord | undefined>;
  list(options?: { type?: SensorType; includeRevoked?: boolean }): Promise<SensorRecord[]>;
  /** Records a heartbeat: last seen now, and the health report and version when given. */
  heartbeat(
    id: string,
    report?: { health?: JsonObject; version?: string },
  ): Promise<SensorRecord | undefined>;
  setConfigVersion(id: string, configVersion: number): Promise<SensorRecord | undefined>;
  revoke(id: string): Promise<SensorRecord | undefined>;
  /** Deletes the sensor and its actions. */
  delete(id: string): Promise<boolean>;
}

export interface AccessKeyRecord {
  /** Hash of the access key (the key itself is shown once and never stored). */
  readonly hash: string;
  /** 1 for the first key, +1 on each regeneration. */
  readonly generation: number;
  readonly createdAt: string;
}

export interface AccessKeys {
  get(): Promise<AccessKeyRecord | undefined>;
  /** Replaces the key: the old one stops working for new registrations. */
  rotate(hash: string): Promise<AccessKeyRecord>;
}

export interface SensorActionRecord {
  readonly id: string;
  readonly sensorId: string;
  /** What to do, e.g. `DisableUser`, `ResetPassword`, `Isolate`, `CollectInvestigationPackage`. */
  readonly type: string;
  readonly parameters: JsonObject;
  readonly status: ActionStatus;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly updatedAt: string;
  readonly comment: string | null;
  /** What the sensor reported back. */
  readonly result: Json;
}

export interface SensorActions {
  /** Queues an action (status `Pending`, or `PendingApproval` for semi-automatic remediation). */
  create(input: {
    id?: string;
    sensorId: string;
    type: string;
    parameters?: JsonObject;
    requestedBy: string;
    comment?: string;
    status?: 'Pending' | 'PendingApproval';
  }): Promise<SensorActionRecord>;
  get(id: string): Promise<SensorActionRecord | undefined>;
  list(
    filter?: PageOptions & { sensorId?: string; status?: readonly ActionStatus[]; requested?: TimeRange },
  ): Promise<Page<SensorActionRecord>>;
  /** What a sensor should run next: its `Pending` actions, oldest first. */
  pendingFor(sensorId: string): Promise<SensorActionRecord[]>;
  setStatus(
    id: string,
    status: ActionStatus,
    update?: { result?: Json; comment?: string },
  ): Promise<SensorActionRecord | undefined>;
}

// Alerts, incidents, comments (MDE alert and incident models).

export interface AlertRecord {
  readonly id: string;
  readonly incidentId: number | null;
  readonly title: string;
  readonly description: string;
  readonly severity: Severity;
  readonly status: AlertStatus;
  readonly classification: Classification | null;
  readonly determination: Determination | null;
  /** MITRE-aligned category, e.g. `CredentialAccess`. */
  readonly category: string;
  /** The kind of detection that raised it, e.g. `identity`, `sigma`, `customDetection`. */
  readonly detectionSource: string;
  readonly serviceSource: string;
  /** The detector or rule that raised it. */
  readonly detectorId: string;
  /** The Defender for Identity external id it corresponds to, when there is one. */
  readonly externalId: number | null;
  readonly mitreTechniques: readonly string[];
  readonly assignedTo: string | null;
  readonly firstActivity: string;
  readonly lastActivity: string;
  readonly createdAt: string;
  readonly lastUpdate: string;
  readonly resolvedAt: string | null;
  /** Device names the alert is about (lower case); they decide its device-group scope. */
  readonly devices: readonly string[];
  readonly entities: Json;
  readonly evidence: Json;
}

export interface NewAlert {
  /** Chosen by the pipeline and derived from what raised it, so a replayed batch raises no second alert. */
  readonly id: string;
  readonly incidentId?: number;
  readonly title: string;
  readonly description?: string;
  readonly severity: Severity;
  readonly status?: AlertStatus;
  readonly category: string;
  readonly detectionSource: string;
  readonly serviceSource: string;
  readonly detectorId: string;
  readonly externalId?: number;
  readonly mitreTechniques?: readonly string[];
  readonly assignedTo?: string;
  readonly firstActivity: string;
  readonly lastActivity: string;
  readonly devices?: readonly string[];
  readonly entities?: Json;
  readonly evidence?: Json;
}

export interface AlertPatch {
  readonly incidentId?: number | null;
  readonly title?: string;
  readonly description?: string;
  readonly severity?: Severity;
  readonly status?: AlertStatus;
  readonly classification?: Classification | null;
  readonly determination?: Determination | null;
  readonly assignedTo?: string | null;
  readonly lastActivity?: string;
  readonly devices?: readonly string[];
  readonly entities?: Json;
  readonly evidence?: Json;
}

export type AlertOrder = 'createdAt' | 'lastUpdate' | 'severity';

export interface AlertFilter extends PageOptions {
  readonly status?: readonly AlertStatus[];
  readonly severity?: readonly Severity[];
  readonly incidentId?: number;
  /** A name, or null for unassigned alerts. */
  readonly assignedTo?: string | null;
  readonly detectorId?: string;
  readonly created?: TimeRange;
  readonly updated?: TimeRange;
  readonly scope?: DeviceScope;
  /** Default: newest `createdAt` first. */
  readonly orderBy?: AlertOrder;
  readonly ascending?: boolean;
}

export interface Alerts {
  /** Stores a new alert; an id already stored is left as it is (`created: false`), so replays are harmless. */
  create(input: NewAlert): Promise<{ alert: AlertRecord; created: boolean }>;
  get(id: string): Promise<AlertRecord | undefined>;
  list(filter?: AlertFilter): Promise<Page<AlertRecord>>;
  /** Updates fields and `lastUpdate`; resolving sets `resolvedAt`, reopening clears it. */
  update(id: string, patch: AlertPatch): Promise<AlertRecord | undefined>;
}

export interface IncidentRecord {
  readonly id: number;
  readonly name: string;
  readonly severity: Severity;
  readonly status: IncidentStatus;
  readonly classification: Classification | null;
  readonly determination: Determination | null;
  readonly assignedTo: string | null;
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly lastUpdate: string;
  readonly resolvedAt: string | null;
  /** Set when merged into another incident (status `Redirected`). */
  readonly redirectIncidentId: number | null;
  readonly alertCount: number;
}

export interface IncidentPatch {
  readonly name?: string;
  readonly severity?: Severity;
  readonly status?: Exclude<IncidentStatus, 'Redirected'>;
  readonly classification?: Classification | null;
  readonly determination?: Determination | null;
  readonly assignedTo?: string | null;
  readonly tags?: readonly string[];
}

export interface IncidentFilter extends PageOptions {
  readonly status?: readonly IncidentStatus[];
  readonly severity?: readonly Severity[];
  readonly assignedTo?: string | null;
  readonly created?: TimeRange;
  readonly updated?: TimeRange;
  /** An incident is in scope when one of its alerts is. */
  readonly scope?: DeviceScope;
  /** Default: most recently updated first (MDE's incident list order). */
  readonly orderBy?: 'createdAt' | 'lastUpdate' | 'severity';
  readonly ascending?: boolean;
}

export interface Incidents {
  create(input: {
    name: string;
    severity: Severity;
    status?: Exclude<IncidentStatus, 'Redirected'>;
    assignedTo?: string;
    tags?: readonly string[];
  }): Promise<IncidentRecord>;
  get(id: number): Promise<IncidentRecord | undefined>;
  list(filter?: IncidentFilter): Promise<Page<IncidentRecord>>;
  update(id: number, patch: IncidentPatch): Promise<IncidentRecord | undefined>;
  /**
   * Moves the alerts of `sourceIds` into `targetId`, marks the sources `Redirected` to it and
   * raises the target's severity to its highest alert's. All or nothing.
   */
  merge(sourceIds: readonly number[], targetId: number): Promise<IncidentRecord>;
}

export type CommentTarget =
  | { readonly kind: 'alert'; readonly id: string }
  | { readonly kind: 'incident'; readonly id: number };

export interface CommentRecord {
  readonly id: number;
  readonly target: CommentTarget;
  readonly author: string;
  readonly text: string;
  readonly createdAt: string;
}

export interface Comments {
  /** Fails with `store/not-found` when the alert or incident does not exist. */
  add(input: { target: CommentTarget; author: string; text: string }): Promise<CommentRecord>;
  /** Oldest first, as MDE lists them. */
  list(target: CommentTarget): Promise<CommentRecord[]>;
}

// Audit log: append-only (the SQLite table refuses UPDATE and DELETE by trigger).

export interface AuditRecord {
  readonly seq: number;
  readonly at: string;
  /** Who: a user name, an API client id, `sensor:<id>` or `system`. */
  readonly actor: string;
  /** What, as a dotted verb: `user.create`, `alert.update`, `sensor.revoke`, `accessKey.rotate`. */
  readonly action: string;
  readonly target: string | null;
  readonly outcome: AuditOutcome;
  readonly details: JsonObject;
}

export interface AuditFilter extends PageOptions {
  readonly actor?: string;
  readonly action?: string;
  readonly target?: string;
  readonly at?: TimeRange;
  /** Default: newest first. */
  readonly ascending?: boolean;
}

export interface AuditLog {
  append(entry: {
    actor: string;
    action: string;
    target?: string;
    outcome?: AuditOutcome;
    details?: JsonObject;
  }): Promise<AuditRecord>;
  list(filter?: AuditFilter): Promise<Page<AuditRecord>>;
}

// Detector state and the batch ledger: what lets detection resume after a restart.

export interface DetectorSnapshot {
  readonly detectorId: string;
  readonly state: Uint8Array;
  /** Where in the input the state stands: the event store's batch sequence number, a stream offset… */
  readonly position: string;
  readonly savedAt: string;
}

export interface DetectorSnapshots {
  save(input: { detectorId: string; state: Uint8Array; position: string }): Promise<DetectorSnapshot>;
  get(detectorId: string): Promise<DetectorSnapshot | undefined>;
  list(): Promise<DetectorSnapshot[]>;
  delete(detectorId: string): Promise<boolean>;
}

export interface ReceivedBatch {
  readonly batchId: string;
  readonly sensorId: string | null;
  readonly rows: number;
  readonly receivedAt: string;
  /** When the pipeline finished detection on it; null while pending. */
  readonly processedAt: string | null;
}

/**
 * Batches received from sensors and whether detection has run on them. The event store decides
 * whether a batch is stored (atomically with its rows); this ledger tells the pipeline what is
 * left to process after a restart and keeps per-sensor receipt history.
 */
export interface BatchLedger {
  /** Records a received batch; a known id is left as it is (`created: false`). */
  record(input: {
    batchId: string;
    sensorId?: string;
    rows: number;
  }): Promise<{ batch: ReceivedBatch; created: boolean }>;
  get(batchId: string): Promise<ReceivedBatch | undefined>;
  markProcessed(batchId: string): Promise<ReceivedBatch | undefined>;
  /** Batches not processed yet, oldest first. */
  unprocessed(limit?: number): Promise<ReceivedBatch[]>;
  /** Forgets processed batches received before `before`. */
  prune(before: string): Promise<number>;
}

// Custom detection rules: saved hunting queries the instance runs on a schedule.

/** Defender's custom detection frequencies; `continuous` is its near-real-time one. */
export const detectionFrequencies = ['continuous', '1h', '3h', '12h', '24h'] as const;
export type DetectionFrequency = (typeof detectionFrequencies)[number];
export const detectionRunStatuses = ['succeeded', 'failed'] as const;
export type DetectionRunStatus = (typeof detectionRunStatuses)[number];

export interface CustomDetectionRecord {
  readonly id: string;
  /** The title of the alerts it raises. */
  readonly title: string;
  readonly description: string | null;
  /** The KQL query. */
  readonly query: string;
  readonly frequency: DetectionFrequency;
  readonly severity: Severity;
  /** MDE alert category (`Execution`, `CredentialAccess`, …). */
  readonly category: string;
  readonly mitreTechniques: readonly string[];
  /** Which result columns name the alert's entities, e.g. `{ "device": "DeviceName" }`. */
  readonly entityMapping: JsonObject;
  readonly recommendedActions: string | null;
  readonly enabled: boolean;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly lastUpdate: string;
  readonly lastRunAt: string | null;
  readonly lastRunStatus: DetectionRunStatus | null;
  /** Why the last run failed, or what it raised. */
  readonly lastRunMessage: string | null;
}

export interface NewCustomDetection {
  readonly id?: string;
  readonly title: string;
  readonly description?: string | null;
  readonly query: string;
  readonly frequency: DetectionFrequency;
  readonly severity: Severity;
  readonly category: string;
  readonly mitreTechniques?: readonly string[];
  readonly entityMapping: JsonObject;
  readonly recommendedActions?: string | null;
  readonly enabled?: boolean;
  readonly createdBy: string;
}

export type CustomDetectionPatch = Partial<Omit<NewCustomDetection, 'id' | 'createdBy'>>;

export interface CustomDetections {
  create(input: NewCustomDetection): Promise<CustomDetectionRecord>;
  get(id: string): Promise<CustomDetectionRecord | undefined>;
  /** Every rule, oldest first (in creation order). */
  list(): Promise<CustomDetectionRecord[]>;
  update(id: string, patch: CustomDetectionPatch): Promise<CustomDetectionRecord | undefined>;
  /** Records a run's outcome (the schedule counts from `at`). */
  recordRun(
    id: string,
    run: { at: string; status: DetectionRunStatus; message?: string | null },
  ): Promise<CustomDetectionRecord | undefined>;
  delete(id: string): Promise<boolean>;
}

export interface StateStore {
  readonly instance: Instance;
  readonly users: Users;
  readonly userGroups: UserGroups;
  readonly apiClients: ApiClients;
  readonly sessions: Sessions;
  readonly roles: Roles;
  readonly deviceGroups: DeviceGroups;
  readonly sensors: Sensors;
  readonly accessKeys: AccessKeys;
  readonly sensorActions: SensorActions;
  readonly alerts: Alerts;
  readonly incidents: Incidents;
  readonly comments: Comments;
  readonly audit: AuditLog;
  readonly detectorSnapshots: DetectorSnapshots;
  readonly batches: BatchLedger;
  readonly customDetections: CustomDetections;
  /**
   * Runs `fn` in one transaction: all its writes commit together or none do. Inside, use `tx`,
   * not the store (the store waits for the transaction to end; calling it inside fails with
   * `store/misuse` instead of deadlocking). Transactions run one at a time; `tx.transaction`
   * nests (a savepoint).
   */
  transaction<T>(fn: (tx: StateStore) => Promise<T>): Promise<T>;
  /** The schema version the database is at (after migrations). */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
