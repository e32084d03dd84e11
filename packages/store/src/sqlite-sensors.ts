// Sensors on SQLite: registered sensors with their certificates and health, the access key that
// registers them, and the actions queued for them.
import { randomUUID } from 'node:crypto';
import { Filter, json, parseJson, type SqliteContext, type SqliteDb } from './sqlite-context.ts';
import { isoTime, oneOf, pageOf, required } from './state-checks.ts';
import {
  type AccessKeys,
  actionStatuses,
  type JsonObject,
  type SensorActionRecord,
  type SensorActions,
  type SensorRecord,
  type Sensors,
  sensorTypes,
} from './state-store.ts';

interface SensorRow {
  id: string;
  name: string;
  type: string;
  certificate_serial: string;
  certificate_fingerprint: string;
  host: string;
  version: string | null;
  registered_at: string;
  last_seen_at: string | null;
  health: string;
  config_version: number;
  revoked_at: string | null;
}

const sensorOf = (r: SensorRow): SensorRecord => ({
  id: r.id,
  name: r.name,
  type: r.type as SensorRecord['type'],
  certificateSerial: r.certificate_serial,
  certificateFingerprint: r.certificate_fingerprint,
  host: parseJson<JsonObject>(r.host),
  version: r.version,
  registeredAt: r.registered_at,
  lastSeenAt: r.last_seen_at,
  health: parseJson<JsonObject>(r.health),
  configVersion: r.config_version,
  revokedAt: r.revoked_at,
});

const getSensor = (db: SqliteDb, id: string) => {
  const row = db.get<SensorRow>('SELECT * FROM sensors WHERE id = @id', { id });
  return row && sensorOf(row);
};

export function sqliteSensors(ctx: SqliteContext): Sensors {
  const change = (id: string, sql: string, params: Record<string, string | number | null> = {}) =>
    ctx.run((db) =>
      db.run(sql, { ...params, id, now: ctx.now() }).changes > 0 ? getSensor(db, id) : undefined,
    );
  return {
    register: (input) =>
      ctx.run((db) => {
        const id = input.id ?? randomUUID();
        db.run(
          `INSERT INTO sensors (id, name, type, certificate_serial, certificate_fingerprint, host, version, registered_at, health, config_version)
           VALUES (@id, @name, @type, @serial, @fingerprint, @host, @version, @now, '{}', 0)`,
          {
            id,
            name: required(input.name, 'sensor name'),
            type: oneOf(input.type, sensorTypes, 'sensor type'),
            serial: required(input.certificateSerial, 'certificate serial'),
            fingerprint: required(input.certificateFingerprint, 'certificate fingerprint'),
            host: json(input.host ?? {}),
            version: input.version ?? null,
            now: ctx.now(),
          },
        );
        return getSensor(db, id) as SensorRecord;
      }),
    get: (id) => ctx.run((db) => getSensor(db, id)),
    getByFingerprint: (fingerprint) =>
      ctx.run((db) => {
        const row = db.get<SensorRow>('SELECT * FROM sensors WHERE certificate_fingerprint = @fingerprint', {
          fingerprint,
        });
        return row && sensorOf(row);
      }),
    list: (options) =>
      ctx.run((db) => {
        const filter = new Filter();
        if (options?.type !== undefined)
          filter.add('type = @type', { type: oneOf(options.type, sensorTypes, 'sensor type') });
        if (!options?.includeRevoked) filter.add('revoked_at IS NULL');
        return db
          .all<SensorRow>(`SELECT * FROM sensors ${filter.where()} ORDER BY name, id`, filter.params)
          .map(sensorOf);
      }),
    heartbeat: (id, report) =>
      change(
        id,
        'UPDATE sensors SET last_seen_at = @now, health = coalesce(@health, health), version = coalesce(@version, version) WHERE id = @id',
        { health: report?.health ? json(report.health) : null, version: report?.version ?? null },
      ),
    setConfigVersion: (id, configVersion) =>
      change(id, 'UPDATE sensors SET config_version = @configVersion WHERE id = @id', { configVersion }),
    revoke: (id) => change(id, 'UPDATE sensors SET revoked_at = coalesce(revoked_at, @now) WHERE id = @id'),
    delete: (id) => ctx.run((db) => db.run('DELETE FROM sensors WHERE id = @id', { id }).changes > 0),
  };
}

export function sqliteAccessKeys(ctx: SqliteContext): AccessKeys {
  const current = (db: SqliteDb) => {
    const row = db.get<{ key_hash: string; generation: number; created_at: string }>(
      'SELECT key_hash, generation, created_at FROM access_key WHERE id = 1',
    );
    return row && { hash: row.key_hash, generation: row.generation, createdAt: row.created_at };
  };
  return {
    get: () => ctx.run(current),
    rotate: (hash) =>
      ctx.run((db) => {
        db.run(
          `INSERT INTO access_key VALUES (1, @hash, 1, @now)
           ON CONFLICT (id) DO UPDATE SET key_hash = excluded.key_hash, generation = generation + 1, created_at = excluded.created_at`,
          { hash: required(hash, 'access key hash'), now: ctx.now() },
        );
        return current(db) as NonNullable<ReturnType<typeof current>>;
      }),
  };
}

interface ActionRow {
  id: string;
  sensor_id: string;
  type: string;
  parameters: string;
  status: string;
  requested_by: string;
  requested_at: string;
  updated_at: string;
  comment: string | null;
  result: string | null;
}

const actionOf = (r: ActionRow): SensorActionRecord => ({
  id: r.id,
  sensorId: r.sensor_id,
  type: r.type,
  parameters: parseJson<JsonObject>(r.parameters),
  status: r.status as SensorActionRecord['status'],
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  updatedAt: r.updated_at,
  comment: r.comment,
  result: parseJson(r.result),
});

const getAction = (db: SqliteDb, id: string) => {
  const row = db.get<ActionRow>('SELECT * FROM sensor_actions WHERE id = @id', { id });
  return row && actionOf(row);
};

export function sqliteSensorActions(ctx: SqliteContext): SensorActions {
  return {
    create: (input) =>
      ctx.run((db) => {
        const id = input.id ?? randomUUID();
        const now = ctx.now();
        db.run(
          `INSERT INTO sensor_actions (id, sensor_id, type, parameters, status, requested_by, requested_at, updated_at, comment)
           VALUES (@id, @sensor_id, @type, @parameters, @status, @requested_by, @now, @now, @comment)`,
          {
            id,
            sensor_id: input.sensorId,
            type: required(input.type, 'action type'),
            parameters: json(input.parameters ?? {}),
            status: oneOf(input.status ?? 'Pending', ['Pending', 'PendingApproval'] as const, 'status'),
            requested_by: required(input.requestedBy, 'requestedBy'),
            now,
            comment: input.comment ?? null,
          },
        );
        return getAction(db, id) as SensorActionRecord;
      }),
    get: (id) => ctx.run((db) => getAction(db, id)),
    list: (filter) =>
      ctx.run((db) => {
        const { limit, offset } = pageOf(filter);
        const where = new Filter()
          .in(
            'status',
            filter?.status?.map((s) => oneOf(s, actionStatuses, 'status')),
          )
          .range('requested_at', filter?.requested, (t) => isoTime(t, 'requested'));
        if (filter?.sensorId !== undefined) where.add('sensor_id = @sensorId', { sensorId: filter.sensorId });
        const items = db.all<ActionRow>(
          `SELECT * FROM sensor_actions ${where.where()} ORDER BY requested_at DESC, id LIMIT @limit OFFSET @offset`,
          { ...where.params, limit, offset },
        );
        const total =
          db.get<{ n: number }>(`SELECT count(*) AS n FROM sensor_actions ${where.where()}`, where.params)
            ?.n ?? 0;
        return { items: items.map(actionOf), total };
      }),
    pendingFor: (sensorId) =>
      ctx.run((db) =>
        db
          .all<ActionRow>(
            "SELECT * FROM sensor_actions WHERE sensor_id = @sensorId AND status = 'Pending' ORDER BY requested_at, rowid",
            { sensorId },
          )
          .map(actionOf),
      ),
    setStatus: (id, status, update) =>
      ctx.run((db) => {
        const found = db.update('sensor_actions', 'id', id, {
          status: oneOf(status, actionStatuses, 'status'),
          updated_at: ctx.now(),
          result: update?.result === undefined ? undefined : json(update.result),
          comment: update?.comment,
        });
        return found ? getAction(db, id) : undefined;
      }),
  };
}
