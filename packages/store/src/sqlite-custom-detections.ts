// Custom detection rules in SQLite: the saved query, its schedule, the alert it raises (title,
// severity, category, techniques, entity mapping) and the outcome of its last run.
import { randomUUID } from 'node:crypto';
import { flag, json, parseJson, type SqliteContext, type SqliteDb } from './sqlite-context.ts';
import { isoTime, oneOf, required } from './state-checks.ts';
import {
  type CustomDetectionPatch,
  type CustomDetectionRecord,
  type CustomDetections,
  detectionFrequencies,
  detectionRunStatuses,
  type JsonObject,
  severities,
} from './state-store.ts';
import { StoreError } from './store-error.ts';

interface DetectionRow {
  id: string;
  title: string;
  description: string | null;
  query: string;
  frequency: string;
  severity: string;
  category: string;
  mitre_techniques: string;
  entity_mapping: string;
  recommended_actions: string | null;
  enabled: number;
  created_by: string;
  created_at: string;
  last_update: string;
  last_run_at: string | null;
  last_run_status: string | null;
  last_run_message: string | null;
}

const detectionOf = (r: DetectionRow): CustomDetectionRecord => ({
  id: r.id,
  title: r.title,
  description: r.description,
  query: r.query,
  frequency: r.frequency as CustomDetectionRecord['frequency'],
  severity: r.severity as CustomDetectionRecord['severity'],
  category: r.category,
  mitreTechniques: parseJson<string[]>(r.mitre_techniques),
  entityMapping: parseJson<JsonObject>(r.entity_mapping),
  recommendedActions: r.recommended_actions,
  enabled: r.enabled === 1,
  createdBy: r.created_by,
  createdAt: r.created_at,
  lastUpdate: r.last_update,
  lastRunAt: r.last_run_at,
  lastRunStatus: r.last_run_status as CustomDetectionRecord['lastRunStatus'],
  lastRunMessage: r.last_run_message,
});

function mappingOf(value: JsonObject): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreError('store/invalid', `entityMapping must be an object, found ${JSON.stringify(value)}`);
  }
  return json(value);
}

/** The columns a patch sets, checked as `create` checks them. */
function patchColumns(patch: CustomDetectionPatch): Record<string, string | number | null | undefined> {
  return {
    title: patch.title === undefined ? undefined : required(patch.title, 'title'),
    description: patch.description,
    query: patch.query === undefined ? undefined : required(patch.query, 'query'),
    frequency:
      patch.frequency === undefined ? undefined : oneOf(patch.frequency, detectionFrequencies, 'frequency'),
    severity: patch.severity === undefined ? undefined : oneOf(patch.severity, severities, 'severity'),
    category: patch.category === undefined ? undefined : required(patch.category, 'category'),
    mitre_techniques: patch.mitreTechniques === undefined ? undefined : json(patch.mitreTechniques),
    entity_mapping: patch.entityMapping === undefined ? undefined : mappingOf(patch.entityMapping),
    recommended_actions: patch.recommendedActions,
    enabled: flag(patch.enabled),
  };
}

export function sqliteCustomDetections(ctx: SqliteContext): CustomDetections {
  const get = (db: SqliteDb, id: string) => {
    const row = db.get<DetectionRow>('SELECT * FROM custom_detections WHERE id = @id', { id });
    return row && detectionOf(row);
  };
  return {
    create: (input) =>
      ctx.run((db) => {
        const id = input.id ?? randomUUID();
        const now = ctx.now();
        db.run(
          `INSERT INTO custom_detections (id, title, description, query, frequency, severity, category,
             mitre_techniques, entity_mapping, recommended_actions, enabled, created_by, created_at, last_update)
           VALUES (@id, @title, @description, @query, @frequency, @severity, @category, @mitre_techniques,
             @entity_mapping, @recommended_actions, @enabled, @created_by, @now, @now)`,
          {
            id,
            title: required(input.title, 'title'),
            query: required(input.query, 'query'),
            frequency: oneOf(input.frequency, detectionFrequencies, 'frequency'),
            severity: oneOf(input.severity, severities, 'severity'),
            category: required(input.category, 'category'),
            description: input.description ?? null,
            mitre_techniques: json(input.mitreTechniques ?? []),
            entity_mapping: mappingOf(input.entityMapping),
            recommended_actions: input.recommendedActions ?? null,
            enabled: input.enabled === false ? 0 : 1,
            created_by: required(input.createdBy, 'createdBy'),
            now,
          },
        );
        return get(db, id) as CustomDetectionRecord;
      }),
    get: (id) => ctx.run((db) => get(db, id)),
    list: () =>
      ctx.run((db) =>
        db.all<DetectionRow>('SELECT * FROM custom_detections ORDER BY created_at, rowid').map(detectionOf),
      ),
    update: (id, patch) =>
      ctx.run((db) => {
        const columns = patchColumns(patch);
        const changes = Object.values(columns).some((v) => v !== undefined);
        const found = db.update('custom_detections', 'id', id, {
          ...columns,
          last_update: changes ? ctx.now() : undefined,
        });
        return found ? get(db, id) : undefined;
      }),
    recordRun: (id, run) =>
      ctx.run((db) => {
        const found = db.update('custom_detections', 'id', id, {
          last_run_at: isoTime(run.at, 'at'),
          last_run_status: oneOf(run.status, detectionRunStatuses, 'status'),
          last_run_message: run.message ?? null,
        });
        return found ? get(db, id) : undefined;
      }),
    delete: (id) =>
      ctx.run((db) => db.run('DELETE FROM custom_detections WHERE id = @id', { id }).changes > 0),
  };
}
