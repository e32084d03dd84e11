// Alerts, incidents and their comments on SQLite (MDE's alert and incident models), with the
// filters the API needs: status, severity, time, assignment, incident, and device-group scope.
import { Filter, json, type Params, parseJson, type SqliteContext, type SqliteDb } from './sqlite-context.ts';
import { isoTime, oneOf, pageOf, required } from './state-checks.ts';
import {
  type AlertRecord,
  type Alerts,
  alertStatuses,
  type CommentRecord,
  type Comments,
  type CommentTarget,
  classifications,
  type DeviceScope,
  determinations,
  type IncidentRecord,
  type Incidents,
  incidentStatuses,
  type Severity,
  severities,
} from './state-store.ts';
import { StoreError } from './store-error.ts';

/** `CASE severity WHEN 'UnSpecified' THEN 0 … END`: severities sort by their rank, not their name. */
const severityRank = (column: string) =>
  `CASE ${column} ${severities.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`;

const optionalOneOf = <T extends string>(
  value: T | null | undefined,
  allowed: readonly T[],
  field: string,
) => (value === undefined || value === null ? value : oneOf(value, allowed, field));

const lowerDevices = (devices: readonly string[]) => [...new Set(devices.map((d) => d.toLowerCase()))];

/** Adds a device scope to a filter; `alert` is the SQL naming the alert's id. */
function addScope(filter: Filter, scope: DeviceScope | undefined, alert: string, n: string): void {
  if (scope === undefined) return;
  const devices = `scope${n}`;
  const deviceless = `deviceless${n}`;
  filter.add(
    `(EXISTS (SELECT 1 FROM alert_devices d WHERE d.alert_id = ${alert}
              AND d.device IN (SELECT value FROM json_each(@${devices})))
      OR (@${deviceless} = 1 AND NOT EXISTS (SELECT 1 FROM alert_devices d WHERE d.alert_id = ${alert})))`,
    { [devices]: JSON.stringify(lowerDevices(scope.devices)), [deviceless]: scope.includeDeviceless ? 1 : 0 },
  );
}

interface AlertRow {
  id: string;
  incident_id: number | null;
  title: string;
  description: string;
  severity: string;
  status: string;
  classification: string | null;
  determination: string | null;
  category: string;
  detection_source: string;
  service_source: string;
  detector_id: string;
  external_id: number | null;
  mitre_techniques: string;
  assigned_to: string | null;
  first_activity: string;
  last_activity: string;
  created_at: string;
  last_update: string;
  resolved_at: string | null;
  entities: string;
  evidence: string;
  devices: string;
}

const alertOf = (r: AlertRow): AlertRecord => ({
  id: r.id,
  incidentId: r.incident_id,
  title: r.title,
  description: r.description,
  severity: r.severity as AlertRecord['severity'],
  status: r.status as AlertRecord['status'],
  classification: r.classification as AlertRecord['classification'],
  determination: r.determination as AlertRecord['determination'],
  category: r.category,
  detectionSource: r.detection_source,
  serviceSource: r.service_source,
  detectorId: r.detector_id,
  externalId: r.external_id,
  mitreTechniques: parseJson<string[]>(r.mitre_techniques),
  assignedTo: r.assigned_to,
  firstActivity: r.first_activity,
  lastActivity: r.last_activity,
  createdAt: r.created_at,
  lastUpdate: r.last_update,
  resolvedAt: r.resolved_at,
  devices: parseJson<string[]>(r.devices).sort(),
  entities: parseJson(r.entities),
  evidence: parseJson(r.evidence),
});

const ALERTS = `SELECT a.*, (SELECT json_group_array(device) FROM alert_devices d WHERE d.alert_id = a.id) AS devices
  FROM alerts a`;

const getAlert = (db: SqliteDb, id: string) => {
  const row = db.get<AlertRow>(`${ALERTS} WHERE a.id = @id`, { id });
  return row && alertOf(row);
};

function setDevices(db: SqliteDb, alertId: string, devices: readonly string[] | undefined): void {
  if (devices === undefined) return;
  db.run('DELETE FROM alert_devices WHERE alert_id = @alertId', { alertId });
  for (const device of lowerDevices(devices)) {
    db.run('INSERT INTO alert_devices VALUES (@alertId, @device)', { alertId, device });
  }
}

const alertOrders = {
  createdAt: 'a.created_at',
  lastUpdate: 'a.last_update',
  severity: severityRank('a.severity'),
};

export function sqliteAlerts(ctx: SqliteContext): Alerts {
  return {
    create: (input) =>
      ctx.run((db) =>
        db.atomic(() => {
          const id = required(input.id, 'alert id');
          const known = getAlert(db, id);
          if (known) return { alert: known, created: false };
          const now = ctx.now();
          db.run(
            `INSERT INTO alerts (id, incident_id, title, description, severity, status, category, detection_source,
               service_source, detector_id, external_id, mitre_techniques, assigned_to, first_activity, last_activity,
               created_at, last_update, entities, evidence)
             VALUES (@id, @incident_id, @title, @description, @severity, @status, @category, @detection_source,
               @service_source, @detector_id, @external_id, @mitre_techniques, @assigned_to, @first_activity,
               @last_activity, @now, @now, @entities, @evidence)`,
            {
              id,
              incident_id: input.incidentId ?? null,
              title: required(input.title, 'title'),
              description: input.description ?? '',
              severity: oneOf(input.severity, severities, 'severity'),
              status: oneOf(input.status ?? 'New', alertStatuses, 'status'),
              category: input.category,
              detection_source: input.detectionSource,
              service_source: input.serviceSource,
              detector_id: required(input.detectorId, 'detectorId'),
              external_id: input.externalId ?? null,
              mitre_techniques: json(input.mitreTechniques ?? []),
              assigned_to: input.assignedTo ?? null,
              first_activity: isoTime(input.firstActivity, 'firstActivity'),
              last_activity: isoTime(input.lastActivity, 'lastActivity'),
              now,
              entities: json(input.entities ?? []),
              evidence: json(input.evidence ?? []),
            },
          );
          setDevices(db, id, input.devices ?? []);
          return { alert: getAlert(db, id) as AlertRecord, created: true };
        }),
      ),
    get: (id) => ctx.run((db) => getAlert(db, id)),
    list: (filter = {}) =>
      ctx.run((db) => {
        const { limit, offset } = pageOf(filter);
        const where = new Filter()
          .in(
            'a.status',
            filter.status?.map((s) => oneOf(s, alertStatuses, 'status')),
          )
          .in(
            'a.severity',
            filter.severity?.map((s) => oneOf(s, severities, 'severity')),
          )
          .range('a.created_at', filter.created, (t) => isoTime(t, 'created'))
          .range('a.last_update', filter.updated, (t) => isoTime(t, 'updated'));
        if (filter.incidentId !== undefined)
          where.add('a.incident_id = @incidentId', { incidentId: filter.incidentId });
        if (filter.assignedTo === null) where.add('a.assigned_to IS NULL');
        else if (filter.assignedTo !== undefined)
          where.add('a.assigned_to = @assignedTo', { assignedTo: filter.assignedTo });
        if (filter.detectorId !== undefined)
          where.add('a.detector_id = @detectorId', { detectorId: filter.detectorId });
        addScope(where, filter.scope, 'a.id', '');
        const direction = filter.ascending ? 'ASC' : 'DESC';
        const order = alertOrders[filter.orderBy ?? 'createdAt'];
        const items = db.all<AlertRow>(
          `${ALERTS} ${where.where()} ORDER BY ${order} ${direction}, a.created_at ${direction}, a.id LIMIT @limit OFFSET @offset`,
          { ...where.params, limit, offset },
        );
        const total =
          db.get<{ n: number }>(`SELECT count(*) AS n FROM alerts a ${where.where()}`, where.params)?.n ?? 0;
        return { items: items.map(alertOf), total };
      }),
    update: (id, patch) =>
      ctx.run((db) =>
        db.atomic(() => {
          const now = ctx.now();
          const status = patch.status && oneOf(patch.status, alertStatuses, 'status');
          const found = db.update('alerts', 'id', id, {
            incident_id: patch.incidentId,
            title: patch.title,
            description: patch.description,
            severity: patch.severity && oneOf(patch.severity, severities, 'severity'),
            status,
            classification: optionalOneOf(patch.classification, classifications, 'classification'),
            determination: optionalOneOf(patch.determination, determinations, 'determination'),
            assigned_to: patch.assignedTo,
            last_activity: patch.lastActivity && isoTime(patch.lastActivity, 'lastActivity'),
            entities: patch.entities === undefined ? undefined : json(patch.entities),
            evidence: patch.evidence === undefined ? undefined : json(patch.evidence),
            last_update: now,
          });
          if (!found) return undefined;
          if (status === 'Resolved') {
            db.run('UPDATE alerts SET resolved_at = coalesce(resolved_at, @now) WHERE id = @id', { now, id });
          } else if (status !== undefined) {
            db.run('UPDATE alerts SET resolved_at = NULL WHERE id = @id', { id });
          }
          setDevices(db, id, patch.devices);
          return getAlert(db, id);
        }),
      ),
  };
}

interface IncidentRow {
  id: number;
  name: string;
  severity: string;
  status: string;
  classification: string | null;
  determination: string | null;
  assigned_to: string | null;
  tags: string;
  created_at: string;
  last_update: string;
  resolved_at: string | null;
  redirect_incident_id: number | null;
  alert_count: number;
}

const incidentOf = (r: IncidentRow): IncidentRecord => ({
  id: r.id,
  name: r.name,
  severity: r.severity as Severity,
  status: r.status as IncidentRecord['status'],
  classification: r.classification as IncidentRecord['classification'],
  determination: r.determination as IncidentRecord['determination'],
  assignedTo: r.assigned_to,
  tags: parseJson<string[]>(r.tags),
  createdAt: r.created_at,
  lastUpdate: r.last_update,
  resolvedAt: r.resolved_at,
  redirectIncidentId: r.redirect_incident_id,
  alertCount: r.alert_count,
});

const INCIDENTS = `SELECT i.*, (SELECT count(*) FROM alerts a WHERE a.incident_id = i.id) AS alert_count FROM incidents i`;

const getIncident = (db: SqliteDb, id: number) => {
  const row = db.get<IncidentRow>(`${INCIDENTS} WHERE i.id = @id`, { id });
  return row && incidentOf(row);
};

const incidentOrders = {
  createdAt: 'i.created_at',
  lastUpdate: 'i.last_update',
  severity: severityRank('i.severity'),
};
const openStatuses = ['Active', 'InProgress', 'Resolved'] as const;

export function sqliteIncidents(ctx: SqliteContext): Incidents {
  return {
    create: (input) =>
      ctx.run((db) => {
        const now = ctx.now();
        const { lastInsertRowid } = db.run(
          `INSERT INTO incidents (name, severity, status, assigned_to, tags, created_at, last_update)
           VALUES (@name, @severity, @status, @assigned_to, @tags, @now, @now)`,
          {
            name: required(input.name, 'incident name'),
            severity: oneOf(input.severity, severities, 'severity'),
            status: oneOf(input.status ?? 'Active', openStatuses, 'status'),
            assigned_to: input.assignedTo ?? null,
            tags: json(input.tags ?? []),
            now,
          },
        );
        return getIncident(db, Number(lastInsertRowid)) as IncidentRecord;
      }),
    get: (id) => ctx.run((db) => getIncident(db, id)),
    list: (filter = {}) =>
      ctx.run((db) => {
        const { limit, offset } = pageOf(filter);
        const where = new Filter()
          .in(
            'i.status',
            filter.status?.map((s) => oneOf(s, incidentStatuses, 'status')),
          )
          .in(
            'i.severity',
            filter.severity?.map((s) => oneOf(s, severities, 'severity')),
          )
          .range('i.created_at', filter.created, (t) => isoTime(t, 'created'))
          .range('i.last_update', filter.updated, (t) => isoTime(t, 'updated'));
        if (filter.assignedTo === null) where.add('i.assigned_to IS NULL');
        else if (filter.assignedTo !== undefined)
          where.add('i.assigned_to = @assignedTo', { assignedTo: filter.assignedTo });
        if (filter.scope !== undefined) {
          // In scope when one of its alerts is; an incident with no alert on any device counts as deviceless.
          const alerts = new Filter();
          addScope(alerts, filter.scope, 'a.id', 'i');
          where.add(
            `(EXISTS (SELECT 1 FROM alerts a WHERE a.incident_id = i.id AND ${alerts.clauses.join(' AND ')})
              OR (@devicelessi = 1 AND NOT EXISTS (SELECT 1 FROM alerts a JOIN alert_devices d ON d.alert_id = a.id
                                                  WHERE a.incident_id = i.id)))`,
            alerts.params,
          );
        }
        const direction = filter.ascending ? 'ASC' : 'DESC';
        const order = incidentOrders[filter.orderBy ?? 'lastUpdate'];
        const items = db.all<IncidentRow>(
          `${INCIDENTS} ${where.where()} ORDER BY ${order} ${direction}, i.id ${direction} LIMIT @limit OFFSET @offset`,
          { ...where.params, limit, offset },
        );
        const total =
          db.get<{ n: number }>(`SELECT count(*) AS n FROM incidents i ${where.where()}`, where.params)?.n ??
          0;
        return { items: items.map(incidentOf), total };
      }),
    update: (id, patch) =>
      ctx.run((db) => {
        const now = ctx.now();
        const status = patch.status && oneOf(patch.status, openStatuses, 'status');
        const found = db.update('incidents', 'id', id, {
          name: patch.name === undefined ? undefined : required(patch.name, 'incident name'),
          severity: patch.severity && oneOf(patch.severity, severities, 'severity'),
          status,
          classification: optionalOneOf(patch.classification, classifications, 'classification'),
          determination: optionalOneOf(patch.determination, determinations, 'determination'),
          assigned_to: patch.assignedTo,
          tags: patch.tags && json(patch.tags),
          last_update: now,
          resolved_at: status === undefined ? undefined : status === 'Resolved' ? now : null,
        });
        return found ? getIncident(db, id) : undefined;
      }),
    merge: (sourceIds, targetId) =>
      ctx.run((db) =>
        db.atomic(() => {
          const target = getIncident(db, targetId);
          if (!target || target.status === 'Redirected') {
            throw new StoreError('store/not-found', `no incident ${targetId} to merge into`);
          }
          const sources = [...new Set(sourceIds)].filter((id) => id !== targetId);
          for (const id of sources) {
            const source = getIncident(db, id);
            if (!source || source.status === 'Redirected') {
              throw new StoreError('store/not-found', `no incident ${id} to merge into ${targetId}`);
            }
          }
          const now = ctx.now();
          const params: Params = { ids: JSON.stringify(sources), targetId, now };
          db.run(
            'UPDATE alerts SET incident_id = @targetId, last_update = @now WHERE incident_id IN (SELECT value FROM json_each(@ids))',
            params,
          );
          db.run(
            `UPDATE incidents SET status = 'Redirected', redirect_incident_id = @targetId, last_update = @now
             WHERE id IN (SELECT value FROM json_each(@ids))`,
            params,
          );
          // The incident is as severe as its most severe alert (or as it already was).
          db.run(
            `UPDATE incidents SET last_update = @now, severity = (
               SELECT s FROM (SELECT severity AS s FROM alerts WHERE incident_id = @targetId
                              UNION ALL SELECT severity FROM incidents WHERE id = @targetId)
               ORDER BY ${severityRank('s')} DESC LIMIT 1)
             WHERE id = @targetId`,
            { targetId, now },
          );
          return getIncident(db, targetId) as IncidentRecord;
        }),
      ),
  };
}

interface CommentRow {
  id: number;
  alert_id: string | null;
  incident_id: number | null;
  author: string;
  text: string;
  created_at: string;
}

const commentOf = (r: CommentRow): CommentRecord => ({
  id: r.id,
  target:
    r.alert_id !== null ? { kind: 'alert', id: r.alert_id } : { kind: 'incident', id: r.incident_id ?? 0 },
  author: r.author,
  text: r.text,
  createdAt: r.created_at,
});

const targetParams = (target: CommentTarget): Params =>
  target.kind === 'alert'
    ? { alert_id: target.id, incident_id: null }
    : { alert_id: null, incident_id: target.id };

export function sqliteComments(ctx: SqliteContext): Comments {
  return {
    add: (input) =>
      ctx.run((db) => {
        const { lastInsertRowid } = db.run(
          'INSERT INTO comments (alert_id, incident_id, author, text, created_at) VALUES (@alert_id, @incident_id, @author, @text, @now)',
          {
            ...targetParams(input.target),
            author: required(input.author, 'author'),
            text: required(input.text, 'comment'),
            now: ctx.now(),
          },
        );
        return commentOf(
          db.get<CommentRow>('SELECT * FROM comments WHERE id = @id', {
            id: Number(lastInsertRowid),
          }) as CommentRow,
        );
      }),
    list: (target) =>
      ctx.run((db) => {
        const column = target.kind === 'alert' ? 'alert_id' : 'incident_id';
        return db
          .all<CommentRow>(`SELECT * FROM comments WHERE ${column} = @id ORDER BY created_at, id`, {
            id: target.id,
          })
          .map(commentOf);
      }),
  };
}
