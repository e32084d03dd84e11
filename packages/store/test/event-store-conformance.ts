// The behaviour every EventStore implementation must show, as one suite run against each of them
// (DuckDB now; ClickHouse later): rows round-trip with their types, batches are idempotent, atomic
// and durable (including across SIGKILL), queries return JSON-safe rows, retention is per table.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ColumnType, columnsOf, type RowValue, type TableRow } from '@palisade/schema';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore, RetentionPolicy } from '../src/event-store.ts';
import { StoreError } from '../src/store-error.ts';
import { corpusMissing, corpusRows, crashBatch, handRows, logonRows } from './sample-rows.ts';

export interface WriterRun {
  /** Index of the first batch to send; batch i has id `crash-<i>`. */
  readonly first: number;
  readonly count: number;
  readonly rowsPerBatch: number;
  /** Batches per `appendMany` group (default 1: one `append` each). */
  readonly groupSize?: number;
}

export interface EventStoreHarness {
  readonly name: string;
  /** Opens the store kept under `dir`; opening the same `dir` again finds the same data. */
  open(dir: string, options?: { retention?: RetentionPolicy }): Promise<EventStore>;
  /** A named query parameter of the store's dialect, e.g. `$account` or `{account:String}`. */
  param(name: string, type: ColumnType): string;
  /**
   * Starts a child process that opens the store under `dir` and appends `run.count` batches
   * (`crashBatch`), `run.groupSize` at a time, printing `stored <batchId>` on stdout once each
   * append (or its group's `appendMany`) has resolved.
   */
  spawnWriter?(dir: string, run: WriterRun): ChildProcess;
}

const MICROS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/;

/** A datetime as the store gives it back: UTC, six fraction digits (a seventh is cut), `Z`. */
export function canonicalTime(text: string): string {
  const m = MICROS.exec(text);
  if (!m) throw new Error(`not an ISO 8601 time: ${text}`);
  const seconds = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  const iso = new Date(seconds).toISOString().slice(0, 19);
  return `${iso}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}Z`;
}

/** A row as the store gives it back: canonical times, JSON-normalised dynamics, no empty values. */
function expected(row: TableRow): TableRow {
  const columns = columnsOf(row.table);
  const values: Record<string, RowValue> = {};
  for (const [name, value] of Object.entries(row.values)) {
    if (value === undefined || value === null) continue;
    const type = columns.get(name)?.type;
    if (type === 'datetime') values[name] = canonicalTime(value as string);
    else if (type === 'dynamic') values[name] = JSON.parse(JSON.stringify(value)) as RowValue;
    else values[name] = typeof value === 'string' ? wellFormed(value) : value;
  }
  return { table: row.table, values };
}

/** UTF-8 cannot hold a lone UTF-16 surrogate: stores give U+FFFD in its place. */
const wellFormed = (text: string) =>
  text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

const byContent = (a: TableRow, b: TableRow) => {
  const x = `${a.table}${JSON.stringify(a.values)}`;
  const y = `${b.table}${JSON.stringify(b.values)}`;
  return x < y ? -1 : x > y ? 1 : 0;
};

function sameRows(actual: readonly TableRow[], rows: readonly TableRow[]): void {
  expect([...actual].sort(byContent)).toEqual(rows.map(expected).sort(byContent));
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreError) return error.code;
    throw error;
  }
  return 'resolved';
}

/** Runs the whole suite against one implementation. */
export function describeEventStore(harness: EventStoreHarness): void {
  describe(`EventStore conformance: ${harness.name}`, () => {
    const dirs: string[] = [];
    const open: EventStore[] = [];
    const fresh = () => {
      const dir = mkdtempSync(join(tmpdir(), 'palisade-events-'));
      dirs.push(dir);
      return dir;
    };
    const openStore = async (dir: string, options?: { retention?: RetentionPolicy }) => {
      const store = await harness.open(dir, options);
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    it('round-trips a row of every table with every column set', async () => {
      const store = await openStore(fresh());
      const rows = handRows();
      const result = await store.append('hand', rows, { source: 'test' });
      expect(result).toEqual({ batchId: 'hand', seq: result.seq, stored: true, rows: rows.length });
      sameRows(await store.readBatch(result.seq), rows);
      const batch = await store.findBatch('hand');
      expect(batch?.source).toBe('test');
      expect(Object.keys(batch?.tables ?? {}).length).toBe(rows.length);
    });

    it('reads a batch back in the order its rows were appended, across tables', async () => {
      const store = await openStore(fresh());
      // Every table's hand row, interleaved with logon rows, in a shuffled but fixed order: the
      // order a replay after a crash must give the detectors again.
      const logons = logonRows(40, 'order');
      const mixed = handRows().flatMap((row, i) => [row, ...logons.slice(i * 2, i * 2 + 2)]);
      const order = mixed.map((_, i) => i).sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101));
      const rows = order.map((i) => mixed[i] as TableRow);
      const { seq } = await store.append('ordered', rows);
      expect((await store.readBatch(seq)).map(expected)).toEqual(rows.map(expected));
    });

    it.skipIf(corpusMissing() !== undefined)(
      'round-trips every row normalised from the lab corpus',
      async () => {
        const store = await openStore(fresh());
        const rows = corpusRows();
        expect(rows.length).toBeGreaterThan(300);
        const { seq } = await store.append('corpus', rows);
        sameRows(await store.readBatch(seq), rows);
      },
    );

    it('keeps types: microsecond times in UTC, JSON dynamics, longs beyond 2^53 as text', async () => {
      const store = await openStore(fresh());
      await store.append('types', [
        {
          table: 'PalisadeRawEvents',
          values: {
            Timestamp: '2026-11-21T23:27:12.5803859+01:00',
            EventId: 4624,
            RecordId: Number.MAX_SAFE_INTEGER,
            Data: { a: [1, 'two', { three: 3 }], b: null },
            Source: '',
          },
        },
        {
          table: 'PalisadeRawEvents',
          values: {
            Timestamp: '2026-11-21T22:27:12Z',
            EventId: -1,
            RecordId: Number.MAX_SAFE_INTEGER,
            Data: 'text',
          },
        },
      ]);
      const result = await store.query(
        'SELECT "Timestamp", "EventId", "RecordId", "Data", "Source" FROM "PalisadeRawEvents" ORDER BY "Timestamp" DESC',
      );
      expect(result.columns).toEqual([
        { name: 'Timestamp', type: 'datetime' },
        { name: 'EventId', type: 'int' },
        { name: 'RecordId', type: 'long' },
        { name: 'Data', type: 'dynamic' },
        { name: 'Source', type: 'string' },
      ]);
      expect(result.rows).toEqual([
        {
          Timestamp: '2026-11-21T22:27:12.580385Z',
          EventId: 4624,
          RecordId: '9007199254740991',
          Data: { a: [1, 'two', { three: 3 }], b: null },
          Source: '',
        },
        {
          Timestamp: '2026-11-21T22:27:12.000000Z',
          EventId: -1,
          RecordId: '9007199254740991',
          Data: 'text',
          Source: null,
        },
      ]);
      const sum = await store.query('SELECT sum("RecordId") AS "Total" FROM "PalisadeRawEvents"');
      expect(sum.rows).toEqual([{ Total: '18014398509481982' }]);
      expect(JSON.parse(JSON.stringify(sum.rows))).toEqual(sum.rows);
    });

    it('stores a batch id once, however often and however concurrently it is sent', async () => {
      const store = await openStore(fresh());
      const rows = logonRows(50, 'dup');
      const [a, b] = await Promise.all([store.append('dup', rows), store.append('dup', rows)]);
      const c = await store.append('dup', logonRows(3, 'other'));
      expect([a.stored, b.stored].sort()).toEqual([false, true]);
      expect(c).toEqual({ batchId: 'dup', seq: a.seq, stored: false, rows: 50 });
      const count = await store.query('SELECT count(*) AS "N" FROM "IdentityLogonEvents"');
      expect(count.rows).toEqual([{ N: '50' }]);
    });

    it('stores a group of batches in one call, each with its own seq, in list order', async () => {
      const store = await openStore(fresh());
      const before = await store.append('g0', logonRows(3, 'g0'), { source: 'dc0' });
      const results = await store.appendMany([
        { batchId: 'g1', rows: logonRows(4, 'g1'), source: 'dc1' },
        { batchId: 'g2', rows: [...handRows(), ...logonRows(2, 'g2')] },
        { batchId: 'g3', rows: [] },
        { batchId: 'g4', rows: logonRows(1, 'g4'), source: 'dc1' },
      ]);
      expect(results.map((r) => [r.batchId, r.stored, r.rows])).toEqual([
        ['g1', true, 4],
        ['g2', true, handRows().length + 2],
        ['g3', true, 0],
        ['g4', true, 1],
      ]);
      const seqs = results.map((r) => r.seq);
      expect(seqs[0]).toBeGreaterThan(before.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(4);
      expect((await store.listBatches(0)).map((b) => [b.batchId, b.seq, b.source, b.rows])).toEqual([
        ['g0', before.seq, 'dc0', 3],
        ['g1', seqs[0], 'dc1', 4],
        ['g2', seqs[1], null, handRows().length + 2],
        ['g3', seqs[2], null, 0],
        ['g4', seqs[3], 'dc1', 1],
      ]);
      expect((await store.readBatch(seqs[0] as number)).map(expected)).toEqual(
        logonRows(4, 'g1').map(expected),
      );
      expect((await store.readBatch(seqs[1] as number)).map(expected)).toEqual(
        [...handRows(), ...logonRows(2, 'g2')].map(expected),
      );
      expect(await store.readBatch(seqs[2] as number)).toEqual([]);
      expect(await store.findBatch('g2')).toMatchObject({ tables: { IdentityLogonEvents: 3 } });
      expect(await store.appendMany([])).toEqual([]);
    });

    it('reports duplicates in a group per batch: stored before, or earlier in the same group', async () => {
      const store = await openStore(fresh());
      const old = await store.append('old', logonRows(5, 'old'));
      const results = await store.appendMany([
        { batchId: 'new', rows: logonRows(2, 'new') },
        { batchId: 'old', rows: logonRows(7, 'old-again') },
        { batchId: 'new', rows: logonRows(9, 'new-again') },
        { batchId: 'other', rows: logonRows(1, 'other') },
      ]);
      const seqOf = (id: string) => results.find((r) => r.batchId === id && r.stored)?.seq;
      expect(results).toEqual([
        { batchId: 'new', seq: seqOf('new'), stored: true, rows: 2 },
        { batchId: 'old', seq: old.seq, stored: false, rows: 5 },
        { batchId: 'new', seq: seqOf('new'), stored: false, rows: 2 },
        { batchId: 'other', seq: seqOf('other'), stored: true, rows: 1 },
      ]);
      // Only what was stored: no row of a duplicate, whichever way it was one.
      const ids = await store.query('SELECT "ReportId" FROM "IdentityLogonEvents" ORDER BY 1');
      expect(ids.rows.map((r) => String(r.ReportId).split('/')[0])).toEqual([
        ...Array(2).fill('new'),
        ...Array(5).fill('old'),
        'other',
      ]);
      // A group of nothing but duplicates writes nothing and still answers.
      const again = await store.appendMany([
        { batchId: 'other', rows: [] },
        { batchId: 'old', rows: [] },
      ]);
      expect(again.map((r) => [r.seq, r.stored])).toEqual([
        [seqOf('other'), false],
        [old.seq, false],
      ]);
      // Concurrent groups and appends naming the same id store it once.
      const rows = logonRows(3, 'race');
      const raced = await Promise.all([
        store.appendMany([{ batchId: 'race', rows }]),
        store.append('race', rows),
        store.appendMany([
          { batchId: 'race', rows },
          { batchId: 'race', rows },
        ]),
      ]);
      expect(raced.flat().filter((r) => 'stored' in r && r.stored).length).toBe(1);
      expect(new Set(raced.flat().map((r) => r.seq)).size).toBe(1);
    });

    it('rejects a whole group for one bad row in one batch, naming that batch', async () => {
      const store = await openStore(fresh());
      const bad: TableRow = {
        table: 'IdentityLogonEvents',
        values: { Timestamp: '2026-11-21T00:00:00Z', Port: '445' },
      };
      const error = await store
        .appendMany([
          { batchId: 'ok', rows: logonRows(3, 'ok') },
          { batchId: 'poisoned', rows: [...logonRows(2, 'p'), bad] },
        ])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('store/bad-row');
      expect((error as StoreError).message).toContain('poisoned');
      expect(await store.findBatch('ok')).toBeUndefined();
      expect(await codeOf(store.appendMany([{ batchId: '', rows: [] }]))).toBe('store/invalid');
      expect((await store.appendMany([{ batchId: 'ok', rows: logonRows(3, 'ok') }]))[0]?.stored).toBe(true);
    });

    it('stores a batch whole or not at all: one bad row rejects it and leaves its id unused', async () => {
      const store = await openStore(fresh());
      const bad: TableRow[] = [
        ...logonRows(10, 'bad'),
        { table: 'IdentityLogonEvents', values: { Timestamp: '2026-11-21T00:00:00Z', Port: '445' } },
      ];
      expect(await codeOf(store.append('b1', bad))).toBe('store/bad-row');
      expect(await codeOf(store.append('b2', [{ table: 'NoSuchTable' as 'AlertInfo', values: {} }]))).toBe(
        'store/bad-row',
      );
      expect(await codeOf(store.append('', logonRows(1, 'x')))).toBe('store/invalid');
      expect(await store.findBatch('b1')).toBeUndefined();
      expect((await store.query('SELECT count(*) AS "N" FROM "IdentityLogonEvents"')).rows).toEqual([
        { N: '0' },
      ]);
      expect((await store.append('b1', logonRows(10, 'good'))).stored).toBe(true);
    });

    it('records an empty batch, so its sender can be acknowledged', async () => {
      const store = await openStore(fresh());
      const { seq, stored } = await store.append('empty', []);
      expect(stored).toBe(true);
      expect(await store.readBatch(seq)).toEqual([]);
      expect((await store.findBatch('empty'))?.rows).toBe(0);
    });

    it('keeps batches and rows across close and reopen, and never reuses a sequence number', async () => {
      const dir = fresh();
      const first = await harness.open(dir);
      const a = await first.append('a', logonRows(100, 'a'));
      const b = await first.append('b', logonRows(100, 'b'));
      await first.close();
      expect(await codeOf(first.append('c', []))).toBe('store/closed');
      const again = await openStore(dir);
      expect((await again.listBatches(0)).map((x) => [x.batchId, x.seq])).toEqual([
        ['a', a.seq],
        ['b', b.seq],
      ]);
      expect((await again.append('a', logonRows(100, 'a'))).stored).toBe(false);
      const c = await again.append('c', []);
      expect(c.seq).toBeGreaterThan(b.seq);
      sameRows(await again.readBatch(b.seq), logonRows(100, 'b'));
    });

    it('lists batches in storage order, after a sequence number, a page at a time', async () => {
      const store = await openStore(fresh());
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) seqs.push((await store.append(`p${i}`, logonRows(2, `p${i}`))).seq);
      const page = await store.listBatches(seqs[1] as number, 2);
      expect(page.map((b) => b.batchId)).toEqual(['p2', 'p3']);
      expect(page[0]).toMatchObject({ rows: 2, tables: { IdentityLogonEvents: 2 }, source: null });
      expect(Date.parse(page[0]?.storedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    });

    it('answers parameterised queries, cuts at maxRows, streams in chunks and reports errors', async () => {
      const store = await openStore(fresh());
      await store.append('q', logonRows(5000, 'q'));
      const account = harness.param('account', 'string');
      const one = await store.query(
        `SELECT "AccountName", "Port" FROM "IdentityLogonEvents" WHERE "AccountName" = ${account} ORDER BY "Port"`,
        { account: 'user42' },
      );
      expect(one.rows).toEqual([
        { AccountName: 'user42', Port: 1066 },
        { AccountName: 'user42', Port: 4066 },
      ]);
      const cut = await store.query('SELECT "ReportId" FROM "IdentityLogonEvents"', undefined, {
        maxRows: 10,
      });
      expect(cut.rows.length).toBe(10);
      expect(cut.truncated).toBe(true);
      let streamed = 0;
      let chunks = 0;
      for await (const chunk of store.stream('SELECT "ReportId", "Timestamp" FROM "IdentityLogonEvents"')) {
        streamed += chunk.length;
        chunks++;
      }
      expect(streamed).toBe(5000);
      expect(chunks).toBeGreaterThan(1);
      let capped = 0;
      for await (const chunk of store.stream('SELECT "ReportId" FROM "IdentityLogonEvents"', undefined, {
        maxRows: 3,
      })) {
        capped += chunk.length;
      }
      expect(capped).toBe(3);
      expect(await codeOf(store.query('SELEC nothing'))).toBe('store/query-failed');
      expect(await codeOf(store.query('SELECT 1', undefined, { signal: AbortSignal.abort() }))).toBe(
        'store/aborted',
      );
    });

    it('deletes rows older than their table keeps them, and forgets batch ids last', async () => {
      const retention: RetentionPolicy = { defaultDays: 180, tables: { PalisadeRawEvents: 30 } };
      const store = await openStore(fresh(), { retention });
      const now = new Date('2026-11-21T00:00:00Z');
      const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
      const raw = (d: number): TableRow => ({
        table: 'PalisadeRawEvents',
        values: { Timestamp: daysAgo(d), ReportId: `raw-${d}`, EventId: 1 },
      });
      const logon = (d: number): TableRow => ({
        table: 'IdentityLogonEvents',
        values: { Timestamp: daysAgo(d), ReportId: `logon-${d}` },
      });
      await store.append('r', [
        raw(10),
        raw(29),
        raw(31),
        raw(200),
        logon(29),
        logon(179),
        logon(181),
        logon(400),
      ]);
      await store.append('tvm', [
        { table: 'DeviceTvmSoftwareInventory', values: { DeviceId: 'd1', SoftwareName: 'x' } },
      ]);
      const result = await store.applyRetention(now);
      expect(result).toEqual({
        deleted: { PalisadeRawEvents: 2, IdentityLogonEvents: 2 },
        batchesForgotten: 0,
      });
      const left = await store.query(
        'SELECT "ReportId" FROM "PalisadeRawEvents" UNION ALL SELECT "ReportId" FROM "IdentityLogonEvents" ORDER BY 1',
      );
      expect(left.rows.map((r) => r.ReportId)).toEqual(['logon-179', 'logon-29', 'raw-10', 'raw-29']);
      // Inventory rows (no Timestamp) age from when they were stored.
      const later = await store.applyRetention(new Date(Date.now() + 181 * 86_400_000));
      expect(later.deleted).toMatchObject({ DeviceTvmSoftwareInventory: 1 });
      expect(later.batchesForgotten).toBe(2);
      expect(await store.findBatch('r')).toBeUndefined();
    });

    it.skipIf(harness.spawnWriter === undefined)(
      'loses no acknowledged batch and half-stores none when the writer is SIGKILLed mid-batch',
      async () => {
        const spawnWriter = harness.spawnWriter;
        if (!spawnWriter) return;
        const dir = fresh();
        const total = 40;
        const rowsPerBatch = 400;
        const acknowledged = new Set<string>();
        // Each round re-sends every batch from the first, as a sensor does after a lost
        // acknowledgement; later rounds append groups of batches (group commit).
        for (const [round, killAfter, groupSize] of [
          [0, 4, 1],
          [1, 9, 4],
          [2, 15, 3],
        ] as const) {
          const child = spawnWriter(dir, { first: 0, count: total, rowsPerBatch, groupSize });
          let acks = 0;
          const exited = new Promise<void>((done) => child.once('exit', () => done()));
          const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
          const killed = new Promise<void>((done) => {
            lines.on('line', (line) => {
              const [word, id] = line.split(' ');
              if (word !== 'stored' || id === undefined) return;
              acknowledged.add(id);
              if (++acks === killAfter) {
                // Kill somewhere inside a later batch: spooling, loading or committing.
                setTimeout(() => child.kill('SIGKILL'), 3 + round * 7);
                done();
              }
            });
            child.once('exit', () => done());
          });
          await killed;
          await exited;
          expect(child.signalCode, `round ${round} ended by itself: raise the batch count`).toBe('SIGKILL');
        }
        const store = await openStore(dir);
        const batches = await store.listBatches(0, 1000);
        const stored = new Set(batches.map((b) => b.batchId));
        for (const id of acknowledged) expect(stored.has(id), `acknowledged ${id} is stored`).toBe(true);
        expect(batches.length).toBe(stored.size);
        // Nothing half-stored: every stored batch has all its rows, and no row is without its batch.
        const counts = await store.query(
          'SELECT "ReportId" FROM "IdentityLogonEvents" UNION ALL SELECT "ReportId" FROM "PalisadeRawEvents"',
        );
        const perBatch = new Map<string, number>();
        for (const r of counts.rows) {
          const id = String(r.ReportId).split('/')[0] as string;
          perBatch.set(id, (perBatch.get(id) ?? 0) + 1);
        }
        const expectedRows = crashBatch(0, rowsPerBatch).length;
        expect([...perBatch.keys()].sort()).toEqual([...stored].sort());
        for (const [id, n] of perBatch) expect(n, `rows of ${id}`).toBe(expectedRows);
        // The rest can still be sent, and every batch ends up stored exactly once.
        for (let i = 0; i < total; i++) await store.append(`crash-${i}`, crashBatch(i, rowsPerBatch));
        const all = await store.query('SELECT count(*) AS "N" FROM "IdentityLogonEvents"');
        expect(all.rows).toEqual([{ N: String(total * rowsPerBatch) }]);
      },
    );
  });
}
