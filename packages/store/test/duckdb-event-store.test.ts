// The event store conformance suite on DuckDB, and what only the DuckDB store has to show: one
// open per file per process (threads included), UTC whatever the machine's zone, spool clean-up,
// schema columns added to an older file, and text UTF-8 cannot hold.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DuckDbEventStore } from '../src/duckdb-event-store.ts';
import { StoreError } from '../src/store-error.ts';
import { duckDbFile, duckDbOptions } from './duckdb-harness.ts';
import { bundleScript, removeBundles, spawnDuckDbWriter } from './duckdb-scripts.ts';
import { describeEventStore } from './event-store-conformance.ts';
import { logonRows } from './sample-rows.ts';

const writer = await bundleScript('duckdb-crash-writer.ts');
const openWorker = await bundleScript('duckdb-open-worker.ts');
afterAll(removeBundles);

describeEventStore({
  name: 'DuckDB',
  open: (dir, options) =>
    DuckDbEventStore.open(
      duckDbFile(dir),
      options?.retention ? { ...duckDbOptions, retention: options.retention } : duckDbOptions,
    ),
  param: (name) => `$${name}`,
  spawnWriter: (dir, run) => spawnDuckDbWriter(writer, dir, run),
});

describe('DuckDbEventStore', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-duckdb-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second open of the same file in this process, and allows it after close', async () => {
    const file = duckDbFile(fresh());
    const store = await DuckDbEventStore.open(file, duckDbOptions);
    const second = await DuckDbEventStore.open(file, duckDbOptions).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(StoreError);
    expect((second as StoreError).code).toBe('store/already-open');
    await store.close();
    const again = await DuckDbEventStore.open(file, duckDbOptions);
    await again.close();
    expect(existsSync(`${file}.owner`)).toBe(false);
  });

  it('refuses an open from a worker thread while the main thread has the file', async () => {
    const file = duckDbFile(fresh());
    const store = await DuckDbEventStore.open(file, duckDbOptions);
    await store.append('before', logonRows(10, 'before'));
    const worker = new Worker(openWorker, { workerData: file });
    const answer = await new Promise((done) => worker.once('message', done));
    await worker.terminate();
    expect(answer).toBe('store/already-open');
    // The main thread still holds its lock and its data.
    expect((await store.query('SELECT count(*) AS n FROM "IdentityLogonEvents"')).rows).toEqual([
      { n: '10' },
    ]);
    await store.close();
  });

  it('takes over an owner file left by a process that is gone', async () => {
    const file = duckDbFile(fresh());
    writeFileSync(`${file}.owner`, JSON.stringify({ pid: 2 ** 22 + 12345, threadId: 0, started: '1' }));
    const store = await DuckDbEventStore.open(file, duckDbOptions);
    await store.close();
  });

  it('refuses a file another process holds', async () => {
    const dir = fresh();
    const child = spawnDuckDbWriter(writer, dir, { first: 0, count: 1000, rowsPerBatch: 10 });
    await new Promise<void>((done) => {
      child.stdout?.once('data', () => done());
      child.once('exit', () => done());
    });
    const error = await DuckDbEventStore.open(duckDbFile(dir), duckDbOptions).catch((e: unknown) => e);
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
    expect((error as StoreError).code).toBe('store/already-open');
  });

  it('runs work on a read-only connection: reads see stored rows, writes are refused', async () => {
    const store = await DuckDbEventStore.open(duckDbFile(fresh()), duckDbOptions);
    await store.append('b1', logonRows(5, 'b1'));
    const count = await store.withReadConnection(async (c) => {
      const reader = await c.runAndReadAll('SELECT count(*) FROM "IdentityLogonEvents"');
      return Number(reader.getRows()[0]?.[0]);
    });
    expect(count).toBe(5);
    const write = await store
      .withReadConnection((c) => c.run('DELETE FROM "IdentityLogonEvents"'))
      .catch((e: unknown) => e);
    expect(String(write)).toMatch(/read-only/);
    expect((await store.query('SELECT count(*) AS n FROM "IdentityLogonEvents"')).rows).toEqual([{ n: '5' }]);
    await store.close();
  });

  it('opens a closed store read-only, refuses writes there, and is refused while the file is open', async () => {
    const file = duckDbFile(fresh());
    const store = await DuckDbEventStore.open(file, duckDbOptions);
    await store.append('b1', logonRows(3, 'b1'));
    const busy = await DuckDbEventStore.openReadOnly(file, duckDbOptions).catch((e: unknown) => e);
    expect((busy as StoreError).code).toBe('store/already-open');
    await store.close();
    const reader = await DuckDbEventStore.openReadOnly(file, duckDbOptions);
    expect((await reader.query('SELECT count(*) AS n FROM "IdentityLogonEvents"')).rows).toEqual([
      { n: '3' },
    ]);
    const write = await reader.append('b2', logonRows(1, 'b2')).catch((e: unknown) => e);
    expect((write as StoreError).code).toBe('store/write-failed');
    await reader.close();
    const again = await DuckDbEventStore.open(file, duckDbOptions);
    expect((await again.query('SELECT count(*) AS n FROM "IdentityLogonEvents"')).rows).toEqual([{ n: '3' }]);
    await again.close();
  });

  it('sets memory_limit and reads and writes times in UTC', async () => {
    const store = await DuckDbEventStore.open(duckDbFile(fresh()), duckDbOptions);
    const settings = await store.query(
      "SELECT current_setting('memory_limit') AS m, current_setting('TimeZone') AS tz, TIMESTAMP '2026-01-01 00:00:00' AS t",
    );
    expect(settings.rows).toEqual([{ m: '244.1 MiB', tz: 'UTC', t: '2026-01-01T00:00:00.000000Z' }]);
    await store.close();
  });

  it('interrupts a running query when its signal aborts, and stays usable', async () => {
    const store = await DuckDbEventStore.open(duckDbFile(fresh()), duckDbOptions);
    const started = Date.now();
    const error = await store
      .query('SELECT count(*) FROM range(100000000000)', undefined, { signal: AbortSignal.timeout(200) })
      .catch((e: unknown) => e);
    expect((error as StoreError).code).toBe('store/aborted');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await store.query('SELECT 42 AS n')).rows).toEqual([{ n: 42 }]);
    await store.close();
  });

  it('clears spool files a crash left behind, and leaves none after a load', async () => {
    const file = duckDbFile(fresh());
    const spool = `${file}.spool`;
    const first = await DuckDbEventStore.open(file, duckDbOptions);
    await first.append('x', logonRows(10, 'x'));
    expect(readdirSync(spool)).toEqual([]);
    await first.close();
    writeFileSync(join(spool, '1-1-IdentityLogonEvents.ndjson'), '{"half":');
    const second = await DuckDbEventStore.open(file, duckDbOptions);
    expect(readdirSync(spool)).toEqual([]);
    await second.close();
  });

  it('adds columns the schema gained to a file made before', async () => {
    const file = duckDbFile(fresh());
    const old = await DuckDBInstance.create(file);
    const c = await old.connect();
    await c.run(
      'CREATE TABLE "AlertInfo" ("Timestamp" TIMESTAMP, "AlertId" VARCHAR, "_Batch" BIGINT NOT NULL)',
    );
    c.disconnectSync();
    old.closeSync();
    const store = await DuckDbEventStore.open(file, duckDbOptions);
    await store.append('a', [
      {
        table: 'AlertInfo',
        values: { Timestamp: '2026-11-21T00:00:00Z', AlertId: 'a1', Title: 'T', Severity: 'High' },
      },
    ]);
    const rows = await store.query(
      'SELECT "AlertId", "Title", "Severity", "AttackTechniques" FROM "AlertInfo"',
    );
    expect(rows.rows).toEqual([{ AlertId: 'a1', Title: 'T', Severity: 'High', AttackTechniques: null }]);
    await store.close();
  });

  it('stores text with lone UTF-16 surrogates (Windows strings) with U+FFFD in their place', async () => {
    const store = await DuckDbEventStore.open(duckDbFile(fresh()), duckDbOptions);
    const { seq } = await store.append('s', [
      {
        table: 'PalisadeRawEvents',
        values: { Timestamp: '2026-11-21T00:00:00Z', Channel: 'a\ud800b \\ud800 😀', Data: { k: 'x\udc00' } },
      },
    ]);
    expect(await store.readBatch(seq)).toEqual([
      {
        table: 'PalisadeRawEvents',
        values: {
          Timestamp: '2026-11-21T00:00:00.000000Z',
          Channel: 'a\ufffdb \\ud800 😀',
          Data: { k: 'x\ufffd' },
        },
      },
    ]);
    await store.close();
  });
});
