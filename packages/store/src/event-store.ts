// The event store contract: table rows in by batch (idempotent, durable when acknowledged), SQL out
// as JSON-safe rows, retention per table. DuckDB implements it embedded; ClickHouse will implement
// it distributed. test/event-store-conformance.ts holds every implementation to it.
import type { ColumnType, Dynamic, TableName, TableRow } from '@palisade/schema';

/** A JSON value: what every query result holds. */
export type Json = Dynamic;
export type JsonRow = Record<string, Json>;

/** Days each table keeps rows; tables not named keep `defaultDays`. */
export interface RetentionPolicy {
  readonly defaultDays: number;
  readonly tables?: Partial<Readonly<Record<TableName, number>>>;
}

/** MDE keeps hunting data for 180 days; so do we unless told otherwise. */
export const defaultRetention: RetentionPolicy = { defaultDays: 180 };

/** The days a table keeps its rows under a policy. */
export function retentionDays(policy: RetentionPolicy, table: TableName): number {
  return policy.tables?.[table] ?? policy.defaultDays;
}

/** How long batch ids are remembered: as long as the longest-kept table, so a re-sent batch whose rows are still stored is never stored twice. */
export function batchMemoryDays(policy: RetentionPolicy): number {
  return Math.max(policy.defaultDays, ...Object.values(policy.tables ?? {}).map((d) => d ?? 0));
}

export interface AppendOptions {
  /** Who sent the batch (a sensor id, `pipeline` for alert rows); kept with the batch. */
  readonly source?: string;
}

/** One batch of an `appendMany` group. */
export interface AppendBatch {
  readonly batchId: string;
  readonly rows: readonly TableRow[];
  /** Who sent the batch, as `AppendOptions.source`. */
  readonly source?: string;
}

export interface AppendResult {
  readonly batchId: string;
  /** The store's sequence number of the batch: increasing in storage order, never reused. */
  readonly seq: number;
  /** False when the batch id was already stored: nothing was written this time. */
  readonly stored: boolean;
  readonly rows: number;
}

/** What the store remembers of a stored batch. */
export interface StoredBatch {
  readonly batchId: string;
  readonly seq: number;
  /** ISO 8601 time the batch was committed. */
  readonly storedAt: string;
  readonly source: string | null;
  readonly rows: number;
  /** Rows per table. */
  readonly tables: Readonly<Partial<Record<TableName, number>>>;
}

export interface QueryColumn {
  readonly name: string;
  /** The column's type in the schema's terms (Kusto): what `{ Schema, Results }` reports. */
  readonly type: ColumnType;
}

export interface QueryResult {
  readonly columns: readonly QueryColumn[];
  /**
   * Rows with JSON-safe values: datetimes as ISO 8601 text with microseconds and `Z`, longs as
   * decimal text (they may exceed 2^53), ints and reals as numbers, dynamic as parsed JSON.
   */
  readonly rows: readonly JsonRow[];
  /** True when the result had more than `maxRows` rows and was cut there. */
  readonly truncated: boolean;
}

/** Named query parameters: `$name` in DuckDB SQL, `{name:Type}` in ClickHouse SQL. */
export type QueryParams = Readonly<Record<string, string | number | bigint | boolean | null>>;

export interface QueryOptions {
  /** Stop after this many rows (the result says `truncated`). */
  readonly maxRows?: number;
  /** Interrupts the query (e.g. `AbortSignal.timeout(600_000)` for MDE's 10-minute limit). */
  readonly signal?: AbortSignal;
}

export interface RetentionResult {
  /** Rows deleted per table (tables with none deleted are absent). */
  readonly deleted: Readonly<Partial<Record<TableName, number>>>;
  /** Batch ids forgotten (older than the longest-kept table). */
  readonly batchesForgotten: number;
}

/** The SQL dialect `query` speaks, for the KQL compiler to pick its target. */
export type SqlDialect = 'duckdb' | 'clickhouse';

export interface EventStore {
  readonly dialect: SqlDialect;
  readonly retention: RetentionPolicy;
  /**
   * Stores a batch of rows in one transaction with its id. A batch id already stored is not stored
   * again (`stored: false`). When the promise resolves the batch is durable: acknowledge it then.
   * A row that names no table or breaks its column types rejects the whole batch (`store/bad-row`).
   */
  append(batchId: string, rows: readonly TableRow[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Stores several batches in one transaction (group commit: one durable commit for all), each
   * with its own id and sequence number, increasing in list order; one result per batch, in order.
   * A batch id already stored, or earlier in the list, is not stored again (`stored: false`, the
   * stored batch's seq). A bad row in any batch rejects the whole group (`store/bad-row`).
   */
  appendMany(batches: readonly AppendBatch[]): Promise<AppendResult[]>;
  /** The stored batch with this id, if any. */
  findBatch(batchId: string): Promise<StoredBatch | undefined>;
  /** Stored batches after a sequence number, in storage order (for replay after a restart). */
  listBatches(afterSeq: number, limit?: number): Promise<StoredBatch[]>;
  /**
   * The rows of a stored batch in the order they were appended (each row keeps its place in
   * `_Row`), so a batch replayed after a crash meets the detectors as it did the first time;
   * rows retention removed are gone.
   */
  readBatch(seq: number): Promise<TableRow[]>;
  /** Runs one SQL statement of the store's dialect and returns all its rows (up to `maxRows`). */
  query(sql: string, params?: QueryParams, options?: QueryOptions): Promise<QueryResult>;
  /** Runs one SQL statement and yields its rows in chunks as the engine produces them. */
  stream(sql: string, params?: QueryParams, options?: QueryOptions): AsyncIterable<readonly JsonRow[]>;
  /** Deletes rows older than their table's retention at `now`, and batch ids older than the longest retention. */
  applyRetention(now: Date): Promise<RetentionResult>;
  /** Waits for writes in progress, makes everything durable and releases the store. */
  close(): Promise<void>;
}
