// The state store's SQLite schema as numbered migrations. A shipped migration is never edited: a
// change is a new entry. Value lists in CHECK constraints are written out (not generated from
// state-store.ts) so an old migration keeps meaning what it meant; the conformance suite checks
// that every listed value is accepted.
import type { Database } from 'better-sqlite3';
import { StoreError } from './store-error.ts';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'instance, access, sensors, alerts and incidents, audit, detector state, batch ledger',
    sql: `
CREATE TABLE instance (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL,
  domain TEXT NOT NULL,
  created_at TEXT NOT NULL,
  data_dir TEXT NOT NULL,
  settings TEXT NOT NULL CHECK (json_valid(settings))
);

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT,
  email TEXT,
  password_hash TEXT,
  totp_secret TEXT,
  disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
  created_at TEXT NOT NULL,
  last_login_at TEXT
);

CREATE TABLE user_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  description TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE user_group_members (
  group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX user_group_members_user ON user_group_members (user_id);

CREATE TABLE api_clients (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  scopes TEXT NOT NULL CHECK (json_valid(scopes)),
  disabled INTEGER NOT NULL CHECK (disabled IN (0, 1)),
  created_at TEXT NOT NULL,
  last_used_at TEXT
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE roles (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  description TEXT,
  permissions TEXT NOT NULL CHECK (json_valid(permissions)),
  built_in INTEGER NOT NULL CHECK (built_in IN (0, 1)),
  created_at TEXT NOT NULL
);

-- A role goes to a user or to a user group: one of the two references is set.
CREATE TABLE role_assignments (
  id INTEGER PRIMARY KEY,
  role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
  group_id TEXT REFERENCES user_groups (id) ON DELETE CASCADE,
  CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX role_assignments_user ON role_assignments (role_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX role_assignments_group ON role_assignments (role_id, group_id) WHERE group_id IS NOT NULL;
CREATE INDEX role_assignments_by_user ON role_assignments (user_id);
CREATE INDEX role_assignments_by_group ON role_assignments (group_id);

CREATE TABLE device_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  description TEXT,
  rank INTEGER NOT NULL,
  remediation_level TEXT NOT NULL CHECK (remediation_level IN ('none', 'semi-all', 'semi-non-temp', 'semi-core', 'full')),
  rules TEXT NOT NULL CHECK (json_valid(rules)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE device_group_access (
  device_group_id TEXT NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
  user_group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
  PRIMARY KEY (device_group_id, user_group_id)
) WITHOUT ROWID;
CREATE INDEX device_group_access_user_group ON device_group_access (user_group_id);

CREATE TABLE sensors (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('domain-controller', 'standalone', 'endpoint', 'file')),
  certificate_serial TEXT NOT NULL,
  certificate_fingerprint TEXT NOT NULL UNIQUE,
  host TEXT NOT NULL CHECK (json_valid(host)),
  version TEXT,
  registered_at TEXT NOT NULL,
  last_seen_at TEXT,
  health TEXT NOT NULL CHECK (json_valid(health)),
  config_version INTEGER NOT NULL,
  revoked_at TEXT
);

CREATE TABLE access_key (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  key_hash TEXT NOT NULL,
  generation INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE sensor_actions (
  id TEXT PRIMARY KEY,
  sensor_id TEXT NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  parameters TEXT NOT NULL CHECK (json_valid(parameters)),
  status TEXT NOT NULL CHECK (status IN ('PendingApproval', 'Pending', 'InProgress', 'Succeeded', 'Failed', 'TimeOut', 'Cancelled')),
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  comment TEXT,
  result TEXT CHECK (result IS NULL OR json_valid(result))
);
CREATE INDEX sensor_actions_by_sensor ON sensor_actions (sensor_id, status, requested_at);
CREATE INDEX sensor_actions_requested ON sensor_actions (requested_at);

CREATE TABLE incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('UnSpecified', 'Informational', 'Low', 'Medium', 'High')),
  status TEXT NOT NULL CHECK (status IN ('Active', 'InProgress', 'Resolved', 'Redirected')),
  classification TEXT CHECK (classification IN ('TruePositive', 'InformationalExpectedActivity', 'FalsePositive')),
  determination TEXT CHECK (determination IN ('MultiStagedAttack', 'MaliciousUserActivity', 'CompromisedUser', 'Malware', 'Phishing', 'UnwantedSoftware', 'SecurityTesting', 'LineOfBusinessApplication', 'ConfirmedUserActivity', 'Clean', 'InsufficientData', 'Other')),
  assigned_to TEXT,
  tags TEXT NOT NULL CHECK (json_valid(tags)),
  created_at TEXT NOT NULL,
  last_update TEXT NOT NULL,
  resolved_at TEXT,
  redirect_incident_id INTEGER REFERENCES incidents (id),
  CHECK ((status = 'Redirected') = (redirect_incident_id IS NOT NULL))
);
CREATE INDEX incidents_updated ON incidents (last_update);
CREATE INDEX incidents_created ON incidents (created_at);
CREATE INDEX incidents_status ON incidents (status, last_update);

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  incident_id INTEGER REFERENCES incidents (id),
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('UnSpecified', 'Informational', 'Low', 'Medium', 'High')),
  status TEXT NOT NULL CHECK (status IN ('New', 'InProgress', 'Resolved')),
  classification TEXT CHECK (classification IN ('TruePositive', 'InformationalExpectedActivity', 'FalsePositive')),
  determination TEXT CHECK (determination IN ('MultiStagedAttack', 'MaliciousUserActivity', 'CompromisedUser', 'Malware', 'Phishing', 'UnwantedSoftware', 'SecurityTesting', 'LineOfBusinessApplication', 'ConfirmedUserActivity', 'Clean', 'InsufficientData', 'Other')),
  category TEXT NOT NULL,
  detection_source TEXT NOT NULL,
  service_source TEXT NOT NULL,
  detector_id TEXT NOT NULL,
  external_id INTEGER,
  mitre_techniques TEXT NOT NULL CHECK (json_valid(mitre_techniques)),
  assigned_to TEXT,
  first_activity TEXT NOT NULL,
  last_activity TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_update TEXT NOT NULL,
  resolved_at TEXT,
  entities TEXT NOT NULL CHECK (json_valid(entities)),
  evidence TEXT NOT NULL CHECK (json_valid(evidence))
);
CREATE INDEX alerts_created ON alerts (created_at);
CREATE INDEX alerts_updated ON alerts (last_update);
CREATE INDEX alerts_status ON alerts (status, created_at);
CREATE INDEX alerts_incident ON alerts (incident_id);
CREATE INDEX alerts_assigned ON alerts (assigned_to);
CREATE INDEX alerts_detector ON alerts (detector_id);

-- The devices of an alert, lower case: what a device-group scope filters on.
CREATE TABLE alert_devices (
  alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
  device TEXT NOT NULL,
  PRIMARY KEY (alert_id, device)
) WITHOUT ROWID;
CREATE INDEX alert_devices_device ON alert_devices (device);

-- A comment is on an alert or on an incident: one of the two references is set.
CREATE TABLE comments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id TEXT REFERENCES alerts (id) ON DELETE CASCADE,
  incident_id INTEGER REFERENCES incidents (id) ON DELETE CASCADE,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CHECK ((alert_id IS NULL) <> (incident_id IS NULL))
);
CREATE INDEX comments_alert ON comments (alert_id);
CREATE INDEX comments_incident ON comments (incident_id);

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
  details TEXT NOT NULL CHECK (json_valid(details))
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE detector_snapshots (
  detector_id TEXT PRIMARY KEY,
  state BLOB NOT NULL,
  position TEXT NOT NULL,
  saved_at TEXT NOT NULL
);

CREATE TABLE received_batches (
  batch_id TEXT PRIMARY KEY,
  sensor_id TEXT,
  row_count INTEGER NOT NULL,
  received_at TEXT NOT NULL,
  processed_at TEXT
);
CREATE INDEX received_batches_unprocessed ON received_batches (received_at) WHERE processed_at IS NULL;
CREATE INDEX received_batches_received ON received_batches (received_at);
`,
  },
  {
    version: 2,
    description: 'users: a one-time password must be changed at the next sign-in',
    sql: `
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
`,
  },
  {
    version: 3,
    description: 'custom detection rules: saved hunting queries run on a schedule',
    sql: `
CREATE TABLE custom_detections (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT,
  query TEXT NOT NULL,
  frequency TEXT NOT NULL CHECK (frequency IN ('continuous', '1h', '3h', '12h', '24h')),
  severity TEXT NOT NULL CHECK (severity IN ('UnSpecified', 'Informational', 'Low', 'Medium', 'High')),
  category TEXT NOT NULL,
  mitre_techniques TEXT NOT NULL CHECK (json_valid(mitre_techniques)),
  entity_mapping TEXT NOT NULL CHECK (json_valid(entity_mapping)),
  recommended_actions TEXT,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  last_update TEXT NOT NULL,
  last_run_at TEXT,
  last_run_status TEXT CHECK (last_run_status IN ('succeeded', 'failed')),
  last_run_message TEXT
);
`,
  },
];

/** The version the newest known migration brings a database to. */
export const latestVersion = Math.max(0, ...migrations.map((m) => m.version));

/**
 * Brings the database to the newest version, one migration per transaction, recording each in
 * `schema_migrations`. Refuses (`store/schema-too-new`) a database a newer Palisade migrated.
 */
export function migrate(db: Database, list: readonly Migration[] = migrations): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)',
  );
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  const current = row.v ?? 0;
  const known = Math.max(0, ...list.map((m) => m.version));
  if (current > known) {
    throw new StoreError(
      'store/schema-too-new',
      `the state store is at schema version ${current}, this Palisade knows up to ${known}: upgrade Palisade`,
    );
  }
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)',
  );
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.description, new Date().toISOString());
    }).immediate();
  }
  return Math.max(current, known);
}
