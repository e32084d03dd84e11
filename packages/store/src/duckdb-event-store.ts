// The embedded event store: one DuckDB file, one table per schema table (plus `_Batch`, the
// storing batch's sequence number) and `_palisade_batches`, the ids of stored batches. A group of
// batches is spooled to NDJSON files (one per table) off the DuckDB lock and loaded with read_json
// inside one transaction that also records their ids, so each is stored whole, once, and durable
// when the commit returns; one commit (one WAL fsync) serves the whole group.
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
  type AppendBatch,
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

/**
 * The row's values as one JSON line, with `_Row`, its place in the batch, and `_B`, its batch's
 * place in the group, as the last keys.
 */
function ndjsonLine(row: TableRow, index: number, batch: number): string {
  const values = JSON.stringify(row.values);
  const tail = `"_Row":${index},"_B":${batch}}`;
  const line = values.length > 2 ? `${values.slice(0, -1)},${tail}` : `{${tail}`;
  return line.includes('\\ud') ? line.replace(LONE_SURROGATE, '$1\\ufffd') : line;
}

/**
 * Per table: the CREATE statement and the INSERT … SELECT … FROM read_json(…) of a group's spool
 * file, given each batch's seq by its place in the group (null: a duplicate, not stored).
 */
function tableSql(table: TableName): {
  create: string;
  insert: (file: string, seqs: readonly (number | null)[]) => string;
} {
  const columns = tables[table].columns;
  const names = columns.map((c) => quoteName(c.name)).join(', ');
  const create = `CREATE TABLE IF NOT EXISTS ${quoteName(table)} (${columns
    .map((c) => `${quoteName(c.name)} ${duckDbColumnTypes[c.type]}`)
    .join(', ')}, "_Batch" BIGINT NOT NULL, "_Row" BIGINT)`;
  const spec = `{${columns.map((c) => `${quoteText(c.name)}: ${quoteText(duckDbSpoolTypes[c.type])}`).join(', ')}, ${quoteText('_Row')}: 'BIGINT', ${quoteText('_B')}: 'BIGINT'}`;
  return {
    create,
    insert: (file, seqs) => {
      // The seqs are numbers the store drew itself, so they are written into the SQL as a list.
      const seq = `([${seqs.map((n) => n ?? 'NULL').join(', ')}]::BIGINT[])["_B" + 1]`;
      const skip = seqs.includes(null) ? ` WHERE ${seq} IS NOT NULL` : '';
      return `INSERT INTO ${quoteName(table)} (${names}, "_Batch", "_Row") SELECT ${names}, ${seq}, "_Row" FROM read_json(${quoteText(
        file,
      )}, format = 'newline_delimited', columns = ${spec})${skip}`;
    },
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
    /** Opened with `openReadOnly`: appends and retention are refused, nothing is checkpointed. */
    readonly readOnly = false,
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

  /**
   * Opens an existing event store file for reading only (another process's `palisade hunt`
   * beside a stopped instance). DuckDB refuses it while a process holds the file read-write:
   * that is `store/already-open`, as is the file being open in this process.
   */
  static async openReadOnly(
    file: string,
    options: Pick<DuckDbEventStoreOptions, 'memoryLimit' | 'threads'>,
  ): Promise<DuckDbEventStore> {
    const path = resolve(file);
    const ownerPath = `${path}.owner`;
    claimOwnerFile(ownerPath, `event store ${path}`);
    let instance: DuckDBInstance | undefined;
    let reader: DuckDBConnection | undefined;
    try {
      const config: Record<string, string> = { memory_limit: options.memoryLimit, access_mode: 'READ_ONLY' };
      if (options.threads !== undefined) config.threads = String(options.threads);
      instance = await DuckDBInstance.create(path, config);
      reader = await instance.connect();
      await reader.run("SET GLOBAL TimeZone = 'UTC'");
      return new DuckDbEventStore(path, instance, reader, `${path}.spool`, defaultRetention, true);
    } catch (error) {
      reader?.disconnectSync();
      instance?.closeSync();
      releaseOwnerFile(ownerPath);
      const message = messageOf(error);
      const code = message.includes('Conflicting lock') ? 'store/already-open' : 'store/query-failed';
      throw new StoreError(code, `cannot open event store ${path} for reading: ${message}`, { cause: error });
    }
  }

  /**
   * Runs `work` on a connection of its own inside a read-only transaction, so nothing it runs can
   * write; the transaction is rolled back after. For engines that take a DuckDB connection (the
   * KQL executor); close() interrupts it and waits for it.
   */
  async withReadConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.read(async (c) => {
      await c.run('BEGIN TRANSACTION READ ONLY');
      try {
        return await work(c);
      } finally {
        await rollback(c);
      }
    });
  }

  async append(
    batchId: string,
    rows: readonly TableRow[],
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const source = options.source === undefined ? {} : { source: options.source };
    const [result] = await this.appendMany([{ batchId, rows, ...source }]);
    return result as AppendResult;
  }

  async appendMany(batches: readonly AppendBatch[]): Promise<AppendResult[]> {
    this.assertOpen();
    this.assertWritable();
    for (const batch of batches) checkBatchId(batch.batchId);
    if (batches.length === 0) return [];
    // Checking and serialising rows is the JS-thread part of a load: both run in slices, before
    // taking the writer, so queries and other requests run in between.
    const grouped: Map<TableName, PlacedRow[]>[] = [];
    for (const batch of batches) {
      try {
        grouped.push(await groupRows(batch.rows));
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        throw new StoreError(error.code, `batch ${batch.batchId}: ${error.message}`, { cause: error });
      }
    }
    const files = await this.spool(grouped);
    try {
      return await this.serial(() => this.commitGroup(batches, grouped, files));
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
    this.assertWritable();
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
      if (!this.readOnly) await this.writer.run('CHECKPOINT');
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

  private assertWritable(): void {
    if (this.readOnly)
      throw new StoreError('store/write-failed', `event store ${this.path} was opened read-only`);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work);
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Writes a group's rows to one NDJSON file per table, each line naming its batch (`_B`). */
  private async spool(grouped: readonly Map<TableName, PlacedRow[]>[]): Promise<SpoolFile[]> {
    const files: SpoolFile[] = [];
    try {
      const lines = new Map<TableName, string[]>();
      let sliced = 0;
      for (let batch = 0; batch < grouped.length; batch++) {
        for (const [table, rows] of grouped[batch] as Map<TableName, PlacedRow[]>) {
          let list = lines.get(table);
          if (!list) lines.set(table, (list = []));
          for (const placed of rows) {
            list.push(ndjsonLine(placed.row, placed.index, batch));
            if (++sliced % ROWS_PER_SLICE === 0) await nextTurn();
          }
        }
      }
      for (const [table, list] of lines) {
        const path = join(this.spoolDir, `${process.pid}-${++this.spooled}-${table}.ndjson`);
        // No fsync: the spool only carries rows into DuckDB, whose commit is the durable step.
        await writeFile(path, `${list.join('\n')}\n`);
        files.push({ table, path, rows: list.length });
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

  private async commitGroup(
    batches: readonly AppendBatch[],
    grouped: readonly Map<TableName, PlacedRow[]>[],
    files: readonly SpoolFile[],
  ): Promise<AppendResult[]> {
    this.assertOpen();
    const w = this.writer;
    const ids = [...new Set(batches.map((b) => b.batchId))];
    const known = new Map(
      (
        await this.batchRowsOn(
          w,
          `batch_id IN (${ids.map((_, i) => `$id${i}`).join(', ')})`,
          Object.fromEntries(ids.map((id, i) => [`id${i}`, id])),
          ids.length,
        )
      ).map((b) => [b.batchId, b]),
    );
    // The first of each new id is stored; a later one in the group is its duplicate.
    const first = new Map<string, number>();
    batches.forEach((b, k) => {
      if (!known.has(b.batchId) && !first.has(b.batchId)) first.set(b.batchId, k);
    });
    const seqs: (number | null)[] = batches.map(() => null);
    if (first.size > 0) {
      await w.run('BEGIN TRANSACTION');
      try {
        const drawn = await w.runAndReadAll(`SELECT nextval('${BATCH_SEQ}') FROM range(${first.size})`);
        const numbers = drawn
          .getRows()
          .map((r) => Number(r[0]))
          .sort((a, b) => a - b);
        [...first.values()].forEach((k, j) => {
          seqs[k] = numbers[j] ?? null;
        });
        const at = new Date().toISOString();
        const params: Record<string, DuckDBValue> = { at };
        const values: string[] = [];
        for (const k of first.values()) {
          const batch = batches[k] as AppendBatch;
          const counts = Object.fromEntries(
            [...(grouped[k] as Map<TableName, PlacedRow[]>)].map(([t, rows]) => [t, rows.length]),
          );
          Object.assign(params, {
            [`seq${k}`]: BigInt(seqs[k] as number),
            [`id${k}`]: batch.batchId,
            [`source${k}`]: batch.source ?? null,
            [`rows${k}`]: batch.rows.length,
            [`tables${k}`]: JSON.stringify(counts),
          });
          values.push(
            `($seq${k}, $id${k}, CAST($at AS TIMESTAMP), $source${k}, $rows${k}, CAST($tables${k} AS JSON))`,
          );
        }
        await w.run(`INSERT INTO ${BATCHES} VALUES ${values.join(', ')}`, params);
        for (const f of files) await w.run(sqlByTable[f.table].insert(f.path, seqs));
        // DuckDB writes and fsyncs its WAL before COMMIT returns (checked with strace, see README).
        await w.run('COMMIT');
      } catch (error) {
        await rollback(w);
        const named = [...first.keys()];
        const list =
          named.length > 3
            ? `${named.slice(0, 3).join(', ')} and ${named.length - 3} more`
            : named.join(', ');
        throw new StoreError('store/write-failed', `batch ${list} was not stored: ${messageOf(error)}`, {
          cause: error,
        });
      }
    }
    return batches.map((batch, k): AppendResult => {
      const { batchId } = batch;
      const seq = seqs[k];
      if (seq !== null && seq !== undefined) return { batchId, seq, stored: true, rows: batch.rows.length };
      const stored = known.get(batchId);
      if (stored) return { batchId, seq: stored.seq, stored: false, rows: stored.rows };
      const original = first.get(batchId) as number;
      return {
        batchId,
        seq: seqs[original] as number,
        stored: false,
        rows: (batches[original] as AppendBatch).rows.length,
      };
    });
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
