// The embedded state store: one SQLite file through better-sqlite3, in WAL mode with
// synchronous=FULL (a resolved write survives a power cut, not only a crash), foreign keys on, and
// the schema brought up to date by numbered migrations. better-sqlite3 is synchronous: calls are
// queued and run one by one, and a transaction holds the queue until its function settles.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  sqliteApiClients,
  sqliteDeviceGroups,
  sqliteRoles,
  sqliteSessions,
  sqliteUserGroups,
  sqliteUsers,
} from './sqlite-access.ts';
import { sqliteAlerts, sqliteComments, sqliteIncidents } from './sqlite-alerts.ts';
import { Filter, json, parseJson, type SqliteContext, SqliteDb, storeErrorOf } from './sqlite-context.ts';
import { sqliteCustomDetections } from './sqlite-custom-detections.ts';
import { migrate } from './sqlite-migrations.ts';
import { sqliteAccessKeys, sqliteSensorActions, sqliteSensors } from './sqlite-sensors.ts';
import { isoTime, oneOf, pageOf, required } from './state-checks.ts';
import {
  type AuditLog,
  type AuditRecord,
  auditOutcomes,
  type BatchLedger,
  type DetectorSnapshot,
  type DetectorSnapshots,
  type Instance,
  type InstanceRecord,
  type JsonObject,
  type ReceivedBatch,
  type StateStore,
} from './state-store.ts';
import { messageOf, StoreError } from './store-error.ts';

export interface SqliteStateStoreOptions {
  /** The clock for created/updated times (tests pass a fixed one). */
  readonly now?: () => Date;
}

type Records = Omit<StateStore, 'transaction' | 'schemaVersion' | 'close'>;

function records(ctx: SqliteContext): Records {
  return {
    instance: sqliteInstance(ctx),
    users: sqliteUsers(ctx),
    userGroups: sqliteUserGroups(ctx),
    apiClients: sqliteApiClients(ctx),
    sessions: sqliteSessions(ctx),
    roles: sqliteRoles(ctx),
    deviceGroups: sqliteDeviceGroups(ctx),
    sensors: sqliteSensors(ctx),
    accessKeys: sqliteAccessKeys(ctx),
    sensorActions: sqliteSensorActions(ctx),
    alerts: sqliteAlerts(ctx),
    incidents: sqliteIncidents(ctx),
    comments: sqliteComments(ctx),
    audit: sqliteAudit(ctx),
    detectorSnapshots: sqliteDetectorSnapshots(ctx),
    batches: sqliteBatchLedger(ctx),
    customDetections: sqliteCustomDetections(ctx),
  };
}

/** Which store's transaction function the current async context runs in (to catch misuse). */
const insideTransaction = new AsyncLocalStorage<SqliteStateStore>();

/** A state store in one SQLite file. Open it with `SqliteStateStore.open`. */
export class SqliteStateStore implements StateStore {
  readonly instance;
  readonly users;
  readonly userGroups;
  readonly apiClients;
  readonly sessions;
  readonly roles;
  readonly deviceGroups;
  readonly sensors;
  readonly accessKeys;
  readonly sensorActions;
  readonly alerts;
  readonly incidents;
  readonly comments;
  readonly audit;
  readonly detectorSnapshots;
  readonly batches;
  readonly customDetections;
  private readonly db: SqliteDb;
  private queue: Promise<unknown> = Promise.resolve();
  private inTransaction = false;
  private closed = false;

  private constructor(
    private readonly path: string,
    raw: Database.Database,
    private readonly clock: () => Date,
  ) {
    this.db = new SqliteDb(raw);
    const r = records({ run: (work) => this.enqueue(work), now: () => this.clock().toISOString() });
    this.instance = r.instance;
    this.users = r.users;
    this.userGroups = r.userGroups;
    this.apiClients = r.apiClients;
    this.sessions = r.sessions;
    this.roles = r.roles;
    this.deviceGroups = r.deviceGroups;
    this.sensors = r.sensors;
    this.accessKeys = r.accessKeys;
    this.sensorActions = r.sensorActions;
    this.alerts = r.alerts;
    this.incidents = r.incidents;
    this.comments = r.comments;
    this.audit = r.audit;
    this.detectorSnapshots = r.detectorSnapshots;
    this.batches = r.batches;
    this.customDetections = r.customDetections;
  }

  /** Opens (creating when absent) the state store in `file` and migrates it to the newest schema. */
  static async open(file: string, options: SqliteStateStoreOptions = {}): Promise<SqliteStateStore> {
    const path = resolve(file);
    let raw: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      raw = new Database(path);
      const mode = raw.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, expected wal`);
      // FULL: each commit fsyncs the WAL. ~100 µs more per autocommit write (storage notes: 8–11k
      // vs 46–50k inserts/s), far above a control plane's needs, and "acknowledged" stays true
      // after a power cut. Transactions of many rows cost the same either way.
      raw.pragma('synchronous = FULL');
      raw.pragma('foreign_keys = ON');
      // Another process (the CLI's admin commands) may hold the write lock for a moment.
      raw.pragma('busy_timeout = 5000');
      migrate(raw);
      return new SqliteStateStore(path, raw, options.now ?? (() => new Date()));
    } catch (error) {
      raw?.close();
      if (error instanceof StoreError) throw error;
      throw new StoreError('store/write-failed', `cannot open state store ${path}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  transaction<T>(fn: (tx: StateStore) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const raw = this.db.raw;
      try {
        raw.exec('BEGIN IMMEDIATE');
      } catch (error) {
        throw storeErrorOf(error);
      }
      this.inTransaction = true;
      const tx = new Transaction(this.db, () => this.clock().toISOString(), 0);
      try {
        const result = await insideTransaction.run(this, () => fn(tx.view));
        try {
          raw.exec('COMMIT');
        } catch (error) {
          throw storeErrorOf(error);
        }
        return result;
      } catch (error) {
        if (raw.inTransaction) raw.exec('ROLLBACK');
        throw error;
      } finally {
        tx.end();
        this.inTransaction = false;
      }
    });
  }

  schemaVersion(): Promise<number> {
    return this.enqueue((db) => schemaVersionOf(db));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => {
      this.closed = true;
      this.db.raw.close();
    });
  }

  /** Runs after everything queued before it (a whole transaction counts as one item). */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(new StoreError('store/closed', `state store ${this.path} is closed`));
    if (this.inTransaction && insideTransaction.getStore() === this) {
      return Promise.reject(
        new StoreError(
          'store/misuse',
          'the state store was called inside its own transaction: use the tx argument',
        ),
      );
    }
    const result = this.queue.then(() => {
      if (this.closed) throw new StoreError('store/closed', `state store ${this.path} is closed`);
      return work();
    });
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private enqueue<T>(work: (db: SqliteDb) => T): Promise<T> {
    return this.exclusive(async () => {
      try {
        return work(this.db);
      } catch (error) {
        throw storeErrorOf(error);
      }
    });
  }
}

/** A transaction's view of the store: its calls run at once, inside the open transaction. */
class Transaction {
  readonly view: StateStore;
  private active = true;
  private nested: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: SqliteDb,
    now: () => string,
    private readonly depth: number,
  ) {
    const ctx: SqliteContext = {
      run: async (work) => {
        if (!this.active)
          throw new StoreError('store/misuse', 'the transaction has ended; its tx can no longer be used');
        try {
          return work(this.db);
        } catch (error) {
          throw storeErrorOf(error);
        }
      },
      now,
    };
    this.view = {
      ...records(ctx),
      transaction: (fn) => this.savepoint(fn, now),
      schemaVersion: () => ctx.run((d) => schemaVersionOf(d)),
      close: () => Promise.reject(new StoreError('store/misuse', 'close the store, not its transaction')),
    };
  }

  end(): void {
    this.active = false;
  }

  /** A nested transaction: a savepoint, released on success and rolled back to on failure. */
  private savepoint<T>(fn: (tx: StateStore) => Promise<T>, now: () => string): Promise<T> {
    const run = async () => {
      if (!this.active)
        throw new StoreError('store/misuse', 'the transaction has ended; its tx can no longer be used');
      const name = `sp${this.depth + 1}`;
      this.db.raw.exec(`SAVEPOINT ${name}`);
      const inner = new Transaction(this.db, now, this.depth + 1);
      try {
        const result = await fn(inner.view);
        this.db.raw.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        this.db.raw.exec(`ROLLBACK TO ${name}`);
        this.db.raw.exec(`RELEASE ${name}`);
        throw error;
      } finally {
        inner.end();
      }
    };
    // Savepoints of one transaction nest, so its nested transactions run one at a time.
    const result = this.nested.then(run);
    this.nested = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

const schemaVersionOf = (db: SqliteDb) =>
  db.get<{ v: number }>('SELECT max(version) AS v FROM schema_migrations')?.v ?? 0;

interface InstanceRow {
  name: string;
  domain: string;
  created_at: string;
  data_dir: string;
  settings: string;
}

const instanceOf = (r: InstanceRow): InstanceRecord => ({
  name: r.name,
  domain: r.domain,
  createdAt: r.created_at,
  dataDir: r.data_dir,
  settings: parseJson<JsonObject>(r.settings),
});

function sqliteInstance(ctx: SqliteContext): Instance {
  const get = (db: SqliteDb) => {
    const row = db.get<InstanceRow>('SELECT * FROM instance WHERE id = 1');
    return row && instanceOf(row);
  };
  return {
    get: () => ctx.run(get),
    create: (input) =>
      ctx.run((db) => {
        if (get(db))
          throw new StoreError('store/conflict', 'the instance already exists: it is created once');
        db.run('INSERT INTO instance VALUES (1, @name, @domain, @now, @data_dir, @settings)', {
          name: required(input.name, 'instance name'),
          domain: required(input.domain, 'domain'),
          now: ctx.now(),
          data_dir: required(input.dataDir, 'data directory'),
          settings: json(input.settings ?? {}),
        });
        return get(db) as InstanceRecord;
      }),
    updateSettings: (patch) =>
      ctx.run((db) => {
        const current = get(db);
        if (!current) throw new StoreError('store/not-found', 'there is no instance yet');
        const settings: JsonObject = { ...current.settings };
        for (const [key, value] of Object.entries(patch)) {
          if (value === null) delete settings[key];
          else settings[key] = value;
        }
        db.run('UPDATE instance SET settings = @settings WHERE id = 1', { settings: json(settings) });
        return { ...current, settings };
      }),
  };
}

interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  details: string;
}

const auditOf = (r: AuditRow): AuditRecord => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  target: r.target,
  outcome: r.outcome as AuditRecord['outcome'],
  details: parseJson<JsonObject>(r.details),
});

function sqliteAudit(ctx: SqliteContext): AuditLog {
  return {
    append: (entry) =>
      ctx.run((db) => {
        const { lastInsertRowid } = db.run(
          'INSERT INTO audit_log (at, actor, action, target, outcome, details) VALUES (@at, @actor, @action, @target, @outcome, @details)',
          {
            at: ctx.now(),
            actor: required(entry.actor, 'actor'),
            action: required(entry.action, 'action'),
            target: entry.target ?? null,
            outcome: oneOf(entry.outcome ?? 'success', auditOutcomes, 'outcome'),
            details: json(entry.details ?? {}),
          },
        );
        return auditOf(
          db.get<AuditRow>('SELECT * FROM audit_log WHERE seq = @seq', {
            seq: Number(lastInsertRowid),
          }) as AuditRow,
        );
      }),
    list: (filter = {}) =>
      ctx.run((db) => {
        const { limit, offset } = pageOf(filter);
        const where = new Filter().range('at', filter.at, (t) => isoTime(t, 'at'));
        if (filter.actor !== undefined) where.add('actor = @actor', { actor: filter.actor });
        if (filter.action !== undefined) where.add('action = @action', { action: filter.action });
        if (filter.target !== undefined) where.add('target = @target', { target: filter.target });
        const items = db.all<AuditRow>(
          `SELECT * FROM audit_log ${where.where()} ORDER BY seq ${filter.ascending ? 'ASC' : 'DESC'} LIMIT @limit OFFSET @offset`,
          { ...where.params, limit, offset },
        );
        const total =
          db.get<{ n: number }>(`SELECT count(*) AS n FROM audit_log ${where.where()}`, where.params)?.n ?? 0;
        return { items: items.map(auditOf), total };
      }),
  };
}

interface SnapshotRow {
  detector_id: string;
  state: Buffer;
  position: string;
  saved_at: string;
}

const snapshotOf = (r: SnapshotRow): DetectorSnapshot => ({
  detectorId: r.detector_id,
  state: new Uint8Array(r.state),
  position: r.position,
  savedAt: r.saved_at,
});

function sqliteDetectorSnapshots(ctx: SqliteContext): DetectorSnapshots {
  const get = (db: SqliteDb, detectorId: string) => {
    const row = db.get<SnapshotRow>('SELECT * FROM detector_snapshots WHERE detector_id = @detectorId', {
      detectorId,
    });
    return row && snapshotOf(row);
  };
  return {
    save: (input) =>
      ctx.run((db) => {
        db.run(
          `INSERT INTO detector_snapshots VALUES (@id, @state, @position, @now)
           ON CONFLICT (detector_id) DO UPDATE SET state = excluded.state, position = excluded.position, saved_at = excluded.saved_at`,
          {
            id: required(input.detectorId, 'detectorId'),
            state: Buffer.from(input.state.buffer, input.state.byteOffset, input.state.byteLength),
            position: input.position,
            now: ctx.now(),
          },
        );
        return get(db, input.detectorId) as DetectorSnapshot;
      }),
    get: (detectorId) => ctx.run((db) => get(db, detectorId)),
    list: () =>
      ctx.run((db) =>
        db.all<SnapshotRow>('SELECT * FROM detector_snapshots ORDER BY detector_id').map(snapshotOf),
      ),
    delete: (detectorId) =>
      ctx.run(
        (db) =>
          db.run('DELETE FROM detector_snapshots WHERE detector_id = @detectorId', { detectorId }).changes >
          0,
      ),
  };
}

interface BatchRow {
  batch_id: string;
  sensor_id: string | null;
  row_count: number;
  received_at: string;
  processed_at: string | null;
}

const batchOf = (r: BatchRow): ReceivedBatch => ({
  batchId: r.batch_id,
  sensorId: r.sensor_id,
  rows: r.row_count,
  receivedAt: r.received_at,
  processedAt: r.processed_at,
});

function sqliteBatchLedger(ctx: SqliteContext): BatchLedger {
  const get = (db: SqliteDb, batchId: string) => {
    const row = db.get<BatchRow>('SELECT * FROM received_batches WHERE batch_id = @batchId', { batchId });
    return row && batchOf(row);
  };
  return {
    record: (input) =>
      ctx.run((db) => {
        const { changes } = db.run(
          'INSERT OR IGNORE INTO received_batches (batch_id, sensor_id, row_count, received_at) VALUES (@id, @sensor, @rows, @now)',
          {
            id: required(input.batchId, 'batchId'),
            sensor: input.sensorId ?? null,
            rows: input.rows,
            now: ctx.now(),
          },
        );
        return { batch: get(db, input.batchId) as ReceivedBatch, created: changes > 0 };
      }),
    get: (batchId) => ctx.run((db) => get(db, batchId)),
    markProcessed: (batchId) =>
      ctx.run((db) => {
        db.run(
          'UPDATE received_batches SET processed_at = coalesce(processed_at, @now) WHERE batch_id = @batchId',
          {
            now: ctx.now(),
            batchId,
          },
        );
        return get(db, batchId);
      }),
    unprocessed: (limit = 1000) =>
      ctx.run((db) =>
        db
          .all<BatchRow>(
            'SELECT * FROM received_batches WHERE processed_at IS NULL ORDER BY received_at, rowid LIMIT @limit',
            { limit },
          )
          .map(batchOf),
      ),
    prune: (before) =>
      ctx.run(
        (db) =>
          db.run('DELETE FROM received_batches WHERE processed_at IS NOT NULL AND received_at < @before', {
            before: isoTime(before, 'before'),
          }).changes,
      ),
  };
}
