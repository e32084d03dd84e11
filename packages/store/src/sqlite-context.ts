// What the SQLite record groups share: a context that runs synchronous better-sqlite3 work at the
// right moment (queued behind an open transaction, or at once inside it) with SQLite errors mapped
// to StoreError codes, and small helpers for statements, JSON columns, updates and filters.
import type { Database, Statement } from 'better-sqlite3';
import type { Json } from './event-store.ts';
import { messageOf, StoreError } from './store-error.ts';

/** SQLite parameters: better-sqlite3 binds no booleans or undefined. */
export type Params = Record<string, string | number | bigint | Buffer | null>;

export interface SqliteContext {
  /** Runs `work` on the database in order with other work; rejects with a StoreError. */
  run<T>(work: (db: SqliteDb) => T): Promise<T>;
  /** The store's clock, as ISO 8601. */
  now(): string;
}

/** A database with a statement cache. */
export class SqliteDb {
  private readonly statements = new Map<string, Statement>();
  constructor(readonly raw: Database) {}

  statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, params: Params = {}): T | undefined {
    return this.statement(sql).get(params) as T | undefined;
  }

  all<T>(sql: string, params: Params = {}): T[] {
    return this.statement(sql).all(params) as T[];
  }

  run(sql: string, params: Params = {}): { changes: number; lastInsertRowid: number | bigint } {
    return this.statement(sql).run(params);
  }

  /** Runs `work` atomically (a savepoint when a transaction is already open). */
  atomic<T>(work: () => T): T {
    return this.raw.transaction(work)();
  }

  /**
   * `UPDATE table SET … WHERE key = value` for the columns whose value is not undefined. Returns
   * whether a row matched (also when there was nothing to set).
   */
  update(
    table: string,
    key: string,
    value: string | number,
    columns: Record<string, Params[string] | undefined>,
  ): boolean {
    const set = Object.entries(columns).filter((e): e is [string, Params[string]] => e[1] !== undefined);
    if (set.length === 0)
      return this.get(`SELECT 1 AS x FROM ${table} WHERE ${key} = @key`, { key: value }) !== undefined;
    const sql = `UPDATE ${table} SET ${set.map(([c]) => `${c} = @${c}`).join(', ')} WHERE ${key} = @key`;
    return this.run(sql, { ...Object.fromEntries(set), key: value }).changes > 0;
  }
}

/** Maps a better-sqlite3 error to the store's codes. */
export function storeErrorOf(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const message = messageOf(error);
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreError('store/conflict', `already exists: ${message}`, { cause: error });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new StoreError('store/not-found', 'a record it refers to does not exist', { cause: error });
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    return new StoreError('store/invalid', message, { cause: error });
  }
  return new StoreError('store/write-failed', message, { cause: error });
}

export const json = (value: Json | readonly string[]): string => JSON.stringify(value);
export const parseJson = <T = Json>(text: string | null): T => (text === null ? null : JSON.parse(text)) as T;
export const flag = (value: boolean | undefined): number | undefined =>
  value === undefined ? undefined : value ? 1 : 0;

/** WHERE clauses and their parameters, built up filter by filter. */
export class Filter {
  readonly clauses: string[] = [];
  readonly params: Params = {};
  private n = 0;

  add(clause: string, params: Params = {}): this {
    this.clauses.push(clause);
    Object.assign(this.params, params);
    return this;
  }

  /** `column IN (…)` for a non-empty list; an empty list matches nothing. */
  in(column: string, values: readonly string[] | undefined): this {
    if (values === undefined) return this;
    const name = `in${this.n++}`;
    return this.add(`${column} IN (SELECT value FROM json_each(@${name}))`, {
      [name]: JSON.stringify(values),
    });
  }

  /** `column >= from AND column < to` for the ends given. */
  range(
    column: string,
    range: { from?: string; to?: string } | undefined,
    check: (t: string) => string,
  ): this {
    if (range?.from !== undefined) {
      const name = `from${this.n++}`;
      this.add(`${column} >= @${name}`, { [name]: check(range.from) });
    }
    if (range?.to !== undefined) {
      const name = `to${this.n++}`;
      this.add(`${column} < @${name}`, { [name]: check(range.to) });
    }
    return this;
  }

  where(): string {
    return this.clauses.length === 0 ? '' : `WHERE ${this.clauses.join(' AND ')}`;
  }
}
