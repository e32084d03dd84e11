// The state store conformance suite on SQLite, and what only the SQLite store has to show: WAL with
// synchronous=FULL and foreign keys on, migrations applied in order and a newer schema refused,
// and an audit table that refuses UPDATE and DELETE even from raw SQL.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { latestVersion, migrate, migrations } from '../src/sqlite-migrations.ts';
import { SqliteStateStore } from '../src/sqlite-state-store.ts';
import { StoreError } from '../src/store-error.ts';
import { describeStateStore } from './state-store-conformance.ts';

const stateFile = (dir: string) => join(dir, 'state.sqlite');

describeStateStore({
  name: 'SQLite',
  open: (dir, options) => SqliteStateStore.open(stateFile(dir), options?.now ? { now: options.now } : {}),
});

describe('SqliteStateStore', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-sqlite-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs in WAL mode and leaves the migrations recorded', async () => {
    const file = stateFile(fresh());
    const store = await SqliteStateStore.open(file);
    await store.users.create({ name: 'alice' });
    expect(existsSync(`${file}-wal`)).toBe(true);
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version, description FROM schema_migrations').all()).toEqual(
      migrations.map((m) => ({ version: m.version, description: m.description })),
    );
    raw.close();
    await store.close();
  });

  it('applies new migrations in order on open, once each', () => {
    const raw = new Database(':memory:');
    const list = [
      { version: 1, description: 'one', sql: 'CREATE TABLE a (x INTEGER)' },
      { version: 2, description: 'two', sql: 'ALTER TABLE a ADD COLUMN y TEXT' },
    ];
    expect(migrate(raw, list.slice(0, 1))).toBe(1);
    expect(migrate(raw, list)).toBe(2);
    expect(migrate(raw, list)).toBe(2);
    expect(raw.prepare('SELECT name FROM pragma_table_info(?)').all('a')).toEqual([
      { name: 'x' },
      { name: 'y' },
    ]);
    raw.close();
  });

  it('rolls back a failing migration whole', () => {
    const raw = new Database(':memory:');
    const bad = [
      { version: 1, description: 'bad', sql: 'CREATE TABLE a (x INTEGER); CREATE TABLE a (y INTEGER);' },
    ];
    expect(() => migrate(raw, bad)).toThrow();
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'a'").all()).toEqual([]);
    expect(migrate(raw, [])).toBe(0);
    raw.close();
  });

  it('refuses a database migrated by a newer Palisade', async () => {
    const file = stateFile(fresh());
    await (await SqliteStateStore.open(file)).close();
    const raw = new Database(file);
    raw
      .prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)')
      .run(latestVersion + 1, 'future', '2030-01-01');
    raw.close();
    const error = await SqliteStateStore.open(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store/schema-too-new');
  });

  it('keeps the audit log append-only even against raw SQL', async () => {
    const file = stateFile(fresh());
    const store = await SqliteStateStore.open(file);
    await store.audit.append({ actor: 'alice', action: 'login' });
    await store.close();
    const raw = new Database(file);
    expect(() => raw.prepare("UPDATE audit_log SET actor = 'mallory'").run()).toThrow('append-only');
    expect(() => raw.prepare('DELETE FROM audit_log').run()).toThrow('append-only');
    expect(raw.prepare('SELECT actor FROM audit_log').all()).toEqual([{ actor: 'alice' }]);
    raw.close();
  });
});
