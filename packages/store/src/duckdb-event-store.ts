// The embedded event store: one DuckDB file, one table per schema table (plus `_Batch`, the
// storing batch's sequence number) and `_palisade_batches`, the ids of stored batches. A batch is
// spooled to NDJSON files off the DuckDB lock and loaded with read_json inside one transaction
// that also records its id, so it is stored whole, once, and durable when the commit returns.
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api';
import { type RowValue, type TableName, type TableRow, tableNames, tables } from '@palisade/schema';
import { checkBatchId, groupRows, type PlacedRow } from './batch-rows.ts';
import {
  columnTypeOf,
  duckDbColumnTypes,
  duckDbSpoolTypes,
  jsonRowsOf,
  rowValueOf,
} from './duckdb-values.ts';
import {
  type AppendOptions,
  type AppendResult,
  batchMemoryDays,
  defaultRetention,
  type EventStore,
  type JsonRow,
  type QueryColumn,
  type QueryOptions,
  type QueryParams,
  type QueryResult,
  type RetentionPolicy,
  type RetentionResult,
  retentionDays,
  type StoredBatch,
} from './event-store.ts';
import { claimOwnerFile, releaseOwnerFile } from './owner-file.ts';
import { messageOf, StoreError } from './store-error.ts';

export interface DuckDbEventStoreOptions {
  /** DuckDB's `memory_limit` (e.g. `'1GB'`). Required: DuckDB's default is 80% of the machine's RAM. */
  readonly memoryLimit: string;
  /** DuckDB's worker threads (default: one per core). */
  readonly threads?: number;
  readonly retention?: RetentionPolicy;
  /** Where batches are spooled before loading (default: `<file>.spool`). */
  readonly spoolDir?: string;
}

const BATCHES = '_palisade_batches';
const BATCH_SEQ = '_palisade_batch_seq';
/** Rows serialised between two yields to the event loop while spooling. */
const ROWS_PER_SLICE = 1024;
const DAY_MS = 86_400_000;

const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const quoteText = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const nextTurn = (): Promise<void> => new Promise((done) => setImmediate(done));

/**
 * JSON.stringify writes a lone UTF-16 surrogate as a `\udXXX` escape (a paired one is written as
 * is), and DuckDB's JSON reader rejects the whole file for one. Windows strings can hold them; UTF-8
 * cannot, so they become U+FFFD. A backslash before the escape must not itself be escaped.
 */
const LONE_SURROGATE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

/** The row's values as one JSON line, with `_Row`, its place in the batch, as the last key. */
function ndjsonLine(row: TableRow, index: number): string {
  const values = JSON.stringify(row.values);
  const line = values.length > 2 ? `${values.slice(0, -1)},"_Row":${index}}` : `{"_Row":${index}}`;
  return line.includes('\\ud') ? line.replace(LONE_SURROGATE, '$1\\ufffd') : line;
}

/** Per table: the CREATE statement and the INSERT … SELECT … FROM read_json(…) head. */
function tableSql(table: TableName): { create: string; insert: (file: string, seq: number) => string } {
  const columns = tables[table].columns;
  const names = columns.map((c) => quoteName(c.name)).join(', ');
  const create = `CREATE TABLE IF NOT EXISTS ${quoteName(table)} (${columns
    .map((c) => `${quoteName(c.name)} ${duckDbColumnTypes[c.type]}`)
    .join(', ')}, "_Batch" BIGINT NOT NULL, "_Row" BIGINT)`;
  const spec = `{${columns.map((c) => `${quoteText(c.name)}: ${quoteText(duckDbSpoolTypes[c.type])}`).join(', ')}, ${quoteText('_Row')}: 'BIGINT'}`;
  return {
    create,
    insert: (file, seq) =>
      `INSERT INTO ${quoteName(table)} (${names}, "_Batch", "_Row") SELECT ${names}, ${seq}, "_Row" FROM read_json(${quoteText(
        file,
      )}, format = 'newline_delimited', columns = ${spec})`,
  };
}

const sqlByTable = Object.fromEntries(tableNames.map((t) => [t, tableSql(t)])) as Record<
  TableName,
  ReturnType<typeof tableSql>
>;

interface SpoolFile {
  readonly table: TableName;
  readonly path: string;
  readonly rows: number;
}

/** An event store in one DuckDB file. Open it once per process with `DuckDbEventStore.open`. */
export class DuckDbEventStore implements EventStore {
  readonly dialect = 'duckdb';
  private closed = false;
  /** Appends and retention run one at a time on the writer connection. */
  private writes: Promise<unknown> = Promise.resolve();
  private readonly readers = new Set<DuckDBConnection>();
  private readonly inflight = new Set<Promise<unknown>>();
  private spooled = 0;

  private constructor(
    private readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly spoolDir: string,
    readonly retention: RetentionPolicy,
  ) {}

  /**
   * Opens (creating when absent) the event store in `file`: creates missing tables and columns,
   * sets the session time zone to UTC, and clears spool files a crash left behind. Throws
   * `store/already-open` when this process or another has the file open.
   */
  static async open(file: string, options: DuckDbEventStoreOptions): Promise<DuckDbEventStore> {
    const path = resolve(file);
    const ownerPath = `${path}.owner`;
    await mkdir(dirname(path), { recursive: true });
    claimOwnerFile(ownerPath, `event store ${path}`);
    let instance: DuckDBInstance | undefined;
    let writer: DuckDBConnection | undefined;
    try {
      const config: Record<string, string> = { memory_limit: options.memoryLimit };
      if (options.threads !== undefined) config.threads = String(options.threads);
      instance = await DuckDBInstance.create(path, config);
      writer = await instance.connect();
      // DuckDB's default follows the machine's TZ; times are UTC here whatever the machine says.
      await writer.run("SET GLOBAL TimeZone = 'UTC'");
      await createTables(writer);
      const spoolDir = resolve(options.spoolDir ?? `${path}.spool`);
      await mkdir(spoolDir, { recursive: true });
      for (const name of await readdir(spoolDir)) {
        if (name.endsWith('.ndjson')) await unlink(join(spoolDir, name));
      }
      return new DuckDbEventStore(path, instance, writer, spoolDir, options.retention ?? defaultRetention);
    } catch (error) {
      writer?.disconnectSync();
      instance?.closeSync();
      releaseOwnerFile(ownerPath);
      if (error instanceof StoreError) throw error;
      const message = messageOf(error);
      const code = message.includes('Conflicting lock') ? 'store/already-open' : 'store/write-failed';
      throw new StoreError(code, `cannot open event store ${path}: ${message}`, { cause: error });
    }
  }

  async append(
    batchId: string,
    rows: readonly TableRow[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    checkBatchId(batchId);
    const byTable = await groupRows(rows);
    // Checking and serialising rows is the JS-thread part of a load: both run in slices, before
    // taking the writer, so queries and other requests run in between.
    const files = await this.spool(byTable);
    try {
      return await this.serial(() => this.commitBatch(batchId, files, rows.length, options.source ?? null));
    } finally {
      await removeFiles(files);
    }
  }

  async findBatch(batchId: string): Promise<StoredBatch | undefined> {
    const [batch] = await this.batchRows('batch_id = $id', { id: batchId }, 1);
    return batch;
  }

  listBatches(afterSeq: number, limit = 1000): Promise<StoredBatch[]> {
    return this.batchRows('seq > $after', { after: BigInt(Math.floor(afterSeq)) }, limit);
  }

  async readBatch(seq: number): Promise<TableRow[]> {
    const [batch] = await this.batchRows('seq = $seq', { seq: BigInt(seq) }, 1);
    if (!batch) return [];
    const placed: { row: TableRow; index: number }[] = [];
    for (const table of Object.keys(batch.tables) as TableName[]) {
      const columns = tables[table].columns;
      const rows = await this.read(async (c) => {
        const reader = await c.runAndReadAll(
          `SELECT ${columns.map((col) => quoteName(col.name)).join(', ')}, "_Row" FROM ${quoteName(table)} WHERE "_Batch" = $seq`,
          { seq: BigInt(seq) },
        );
        return reader.getRows();
      });
      for (const values of rows) {
        const row: Record<string, RowValue> = {};
        columns.forEach((column, i) => {
          const value = rowValueOf(values[i] ?? null, column.type);
          if (value !== undefined) row[column.name] = value;
        });
        // Files written before `_Row` existed have none: those rows keep their table's turn.
        const index = values[columns.length];
        placed.push({
          row: { table, values: row },
          index: typeof index === 'bigint' ? Number(index) : placed.length,
        });
      }
    }
    return placed.sort((a, b) => a.index - b.index).map((p) => p.row);
  }

  async query(sql: string, params?: QueryParams, options: QueryOptions = {}): Promise<QueryResult> {
    const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
    let columns: QueryColumn[] = [];
    const rows: JsonRow[] = [];
    let truncated = false;
    for await (const chunk of this.chunks(sql, params, options, (c) => (columns = c))) {
      for (const row of chunk) {
        if (rows.length >= maxRows) {
          truncated = true;
          break;
        }
        rows.push(row);
      }
      if (truncated) break;
    }
    return { columns, rows, truncated };
  }

  async *stream(
    sql: string,
    params?: QueryParams,
    options: QueryOptions = {},
  ): AsyncIterable<readonly JsonRow[]> {
    let left = options.maxRows ?? Number.POSITIVE_INFINITY;
    for await (const chunk of this.chunks(sql, params, options)) {
      if (chunk.length >= left) {
        yield chunk.slice(0, left);
        return;
      }
      left -= chunk.length;
      yield chunk;
    }
  }

  applyRetention(now: Date): Promise<RetentionResult> {
    this.assertOpen();
    return this.serial(async () => {
      const deleted: Partial<Record<TableName, number>> = {};
      const cutoff = (days: number) => new Date(now.getTime() - days * DAY_MS).toISOString();
      for (const table of tableNames) {
        const at = cutoff(retentionDays(this.retention, table));
        // Inventory tables have no Timestamp: their rows age from when they were stored, and batch
        // sequence numbers grow in storage order.
        const where = tables[table].columns.some((c) => c.name === 'Timestamp')
          ? '"Timestamp" < CAST($at AS TIMESTAMP)'
          : `"_Batch" <= (SELECT max(seq) FROM ${BATCHES} WHERE stored_at < CAST($at AS TIMESTAMP))`;
        const n = await this.write(`DELETE FROM ${quoteName(table)} WHERE ${where}`, { at });
        if (n > 0) deleted[table] = n;
      }
      const batchesForgotten = await this.write(
        `DELETE FROM ${BATCHES} WHERE stored_at < CAST($at AS TIMESTAMP)`,
        { at: cutoff(batchMemoryDays(this.retention)) },
      );
      return { deleted, batchesForgotten };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes;
    for (const c of this.readers) c.interrupt();
    await Promise.allSettled([...this.inflight]);
    for (const c of this.readers) c.disconnectSync();
    this.readers.clear();
    try {
      // Fold the WAL into the file so the next open replays nothing.
      await this.writer.run('CHECKPOINT');
    } finally {
      // Every connection must be gone before the instance, or the file stays locked until GC.
      this.writer.disconnectSync();
      this.instance.closeSync();
      releaseOwnerFile(`${this.path}.owner`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreError('store/closed', `event store ${this.path} is closed`);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work);
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async spool(byTable: Map<TableName, PlacedRow[]>): Promise<SpoolFile[]> {
    const files: SpoolFile[] = [];
    try {
      for (const [table, rows] of byTable) {
        const lines: string[] = [];
        for (let i = 0; i < rows.length; i++) {
          const placed = rows[i] as PlacedRow;
          lines.push(ndjsonLine(placed.row, placed.index));
          if (i % ROWS_PER_SLICE === ROWS_PER_SLICE - 1) await nextTurn();
        }
        const path = join(this.spoolDir, `${process.pid}-${++this.spooled}-${table}.ndjson`);
        // No fsync: the spool only carries rows into DuckDB, whose commit is the durable step.
        await writeFile(path, `${lines.join('\n')}\n`);
        files.push({ table, path, rows: rows.length });
      }
    } catch (error) {
      await removeFiles(files);
      throw new StoreError(
        'store/write-failed',
        `cannot spool a batch to ${this.spoolDir}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    return files;
  }

  private async commitBatch(
    batchId: string,
    files: readonly SpoolFile[],
    rowCount: number,
    source: string | null,
  ): Promise<AppendResult> {
    this.assertOpen();
    const w = this.writer;
    const [known] = await this.batchRowsOn(w, 'batch_id = $id', { id: batchId }, 1);
    if (known) return { batchId, seq: known.seq, stored: false, rows: known.rows };
    await w.run('BEGIN TRANSACTION');
    try {
      const seqReader = await w.runAndReadAll(`SELECT nextval('${BATCH_SEQ}')`);
      const seq = Number(seqReader.getRows()[0]?.[0]);
      const counts = Object.fromEntries(files.map((f) => [f.table, f.rows]));
      await w.run(
        `INSERT INTO ${BATCHES} VALUES ($seq, $id, CAST($at AS TIMESTAMP), $source, $rows, CAST($tables AS JSON))`,
        {
          seq: BigInt(seq),
          id: batchId,
          at: new Date().toISOString(),
          source,
          rows: rowCount,
          tables: JSON.stringify(counts),
        },
      );
      for (const f of files) await w.run(sqlByTable[f.table].insert(f.path, seq));
      // DuckDB writes and fsyncs its WAL before COMMIT returns (checked with strace, see README).
      await w.run('COMMIT');
      return { batchId, seq, stored: true, rows: rowCount };
    } catch (error) {
      await rollback(w);
      throw new StoreError('store/write-failed', `batch ${batchId} was not stored: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  private async write(sql: string, params: Record<string, DuckDBValue>): Promise<number> {
    try {
      return (await this.writer.run(sql, params)).rowsChanged;
    } catch (error) {
      throw new StoreError('store/write-failed', `${messageOf(error)} in ${sql}`, { cause: error });
    }
  }

  private batchRows(
    where: string,
    params: Record<string, DuckDBValue>,
    limit: number,
  ): Promise<StoredBatch[]> {
    return this.read((c) => this.batchRowsOn(c, where, params, limit));
  }

  private async batchRowsOn(
    c: DuckDBConnection,
    where: string,
    params: Record<string, DuckDBValue>,
    limit: number,
  ): Promise<StoredBatch[]> {
    const reader = await c.runAndReadAll(
      `SELECT seq, batch_id, stored_at, source, row_count, tables FROM ${BATCHES} WHERE ${where} ORDER BY seq LIMIT ${Math.max(0, Math.floor(limit))}`,
      params,
    );
    return jsonRowsOf(reader.getRows(), reader.deduplicatedColumnNames(), reader.columnTypes()).map((r) => ({
      batchId: String(r.batch_id),
      seq: Number(r.seq),
      storedAt: String(r.stored_at),
      source: r.source === null ? null : String(r.source),
      rows: Number(r.row_count),
      tables: (r.tables ?? {}) as StoredBatch['tables'],
    }));
  }

  /** Runs reads on a connection of their own, so they neither wait for nor join a write. */
  private async read<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    this.assertOpen();
    const c = await this.instance.connect();
    this.readers.add(c);
    try {
      return await this.track(work(c));
    } finally {
      this.release(c);
    }
  }

  private async *chunks(
    sql: string,
    params: QueryParams | undefined,
    options: QueryOptions,
    onColumns?: (columns: QueryColumn[]) => void,
  ): AsyncGenerator<JsonRow[]> {
    this.assertOpen();
    const { signal } = options;
    if (signal?.aborted) throw aborted(sql);
    const c = await this.instance.connect();
    this.readers.add(c);
    const interrupt = () => c.interrupt();
    signal?.addEventListener('abort', interrupt);
    try {
      let result: DuckDBResult;
      try {
        result = await this.track(c.stream(sql, params && { ...params }));
      } catch (error) {
        throw queryError(error, sql, signal);
      }
      const names = result.deduplicatedColumnNames();
      const types = result.columnTypes();
      onColumns?.(types.map((t, i) => ({ name: names[i] ?? '', type: columnTypeOf(t) })));
      const batches = result.yieldRows();
      while (true) {
        if (this.closed)
          throw new StoreError('store/closed', `event store ${this.path} closed during a query`);
        let next: IteratorResult<DuckDBValue[][]>;
        try {
          next = await this.track(batches.next());
        } catch (error) {
          throw queryError(error, sql, signal);
        }
        if (next.done) return;
        yield jsonRowsOf(next.value, names, types);
      }
    } finally {
      signal?.removeEventListener('abort', interrupt);
      this.release(c);
    }
  }

  /** Remembers an engine call in flight, so close() can wait for it before closing the instance. */
  private track<T>(pending: Promise<T>): Promise<T> {
    this.inflight.add(pending);
    const forget = () => this.inflight.delete(pending);
    pending.then(forget, forget);
    return pending;
  }

  private release(c: DuckDBConnection): void {
    // close() may have disconnected it already.
    if (this.readers.delete(c)) c.disconnectSync();
  }
}

async function createTables(c: DuckDBConnection): Promise<void> {
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run(`CREATE SEQUENCE IF NOT EXISTS ${BATCH_SEQ} START 1`);
    await c.run(
      `CREATE TABLE IF NOT EXISTS ${BATCHES} (seq BIGINT PRIMARY KEY, batch_id VARCHAR NOT NULL UNIQUE, stored_at TIMESTAMP NOT NULL, source VARCHAR, row_count BIGINT NOT NULL, tables JSON NOT NULL)`,
    );
    for (const table of tableNames) await c.run(sqlByTable[table].create);
    // A column the schema gained since the file was made is added (never dropped or retyped).
    const existing = await c.runAndReadAll(
      "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'",
    );
    const have = new Set(existing.getRows().map(([t, col]) => `${t}.${col}`));
    for (const table of tableNames) {
      if (!have.has(`${table}._Row`)) await c.run(`ALTER TABLE ${quoteName(table)} ADD COLUMN "_Row" BIGINT`);
      for (const col of tables[table].columns) {
        if (have.has(`${table}.${col.name}`)) continue;
        await c.run(
          `ALTER TABLE ${quoteName(table)} ADD COLUMN ${quoteName(col.name)} ${duckDbColumnTypes[col.type]}`,
        );
      }
    }
    await c.run('COMMIT');
  } catch (error) {
    await rollback(c);
    throw error;
  }
}

async function removeFiles(files: readonly SpoolFile[]): Promise<void> {
  // A file that cannot be removed is cleared at the next open.
  await Promise.allSettled(files.map((f) => unlink(f.path)));
}

async function rollback(c: DuckDBConnection): Promise<void> {
  try {
    await c.run('ROLLBACK');
  } catch {
    // A failed COMMIT has already ended the transaction; there is nothing left to roll back.
  }
}

function aborted(sql: string): StoreError {
  return new StoreError('store/aborted', `query interrupted: ${sql.slice(0, 200)}`);
}

function queryError(error: unknown, sql: string, signal: AbortSignal | undefined): StoreError {
  if (error instanceof StoreError) return error;
  if (signal?.aborted) return aborted(sql);
  return new StoreError('store/query-failed', `${messageOf(error)} in ${sql.slice(0, 200)}`, {
    cause: error,
  });
}
