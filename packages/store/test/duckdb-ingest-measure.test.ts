// Measures ingest into the DuckDB event store: rows/s for lab-like IdentityLogonEvents rows at two
// batch sizes, the event loop's longest stall meanwhile, and RSS. Prints, asserts nothing timed
// (speed targets belong in bench/). Skipped unless PALISADE_MEASURE=1:
//   PALISADE_MEASURE=1 npx vitest run packages/store/test/duckdb-ingest-measure.test.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { DuckDbEventStore } from '../src/duckdb-event-store.ts';
import { logonRows } from './sample-rows.ts';

const ROWS = 100_000;

describe.skipIf(!process.env.PALISADE_MEASURE)('DuckDB ingest measurement', () => {
  for (const batchSize of [1_000, 10_000]) {
    it(`appends ${ROWS} IdentityLogonEvents rows in batches of ${batchSize}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'palisade-measure-'));
      const store = await DuckDbEventStore.open(join(dir, 'events.duckdb'), { memoryLimit: '512MB' });
      const rows = logonRows(ROWS, 'm');
      const delay = monitorEventLoopDelay({ resolution: 1 });
      let worst = 0;
      let last = performance.now();
      const probe = setInterval(() => {
        const now = performance.now();
        worst = Math.max(worst, now - last - 2);
        last = now;
      }, 2);
      delay.enable();
      const start = performance.now();
      for (let i = 0; i < ROWS; i += batchSize) await store.append(`m-${i}`, rows.slice(i, i + batchSize));
      const seconds = (performance.now() - start) / 1000;
      delay.disable();
      clearInterval(probe);
      const count = await store.query('SELECT count(*) AS n FROM "IdentityLogonEvents"');
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      expect(count.rows).toEqual([{ n: String(ROWS) }]);
      console.log(
        JSON.stringify({
          rows: ROWS,
          batchSize,
          seconds: Number(seconds.toFixed(2)),
          rowsPerSecond: Math.round(ROWS / seconds),
          eventLoopMaxStallMs: Number(worst.toFixed(1)),
          eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(1)),
          eventLoopDelayMaxMs: Number((delay.max / 1e6).toFixed(1)),
          rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        }),
      );
    });
  }
});
