// Child process of the event store crash test: opens the DuckDB store under a directory and
// appends crash batches, printing `stored <batchId>` once each append has resolved (that is, once
// it would be acknowledged to a sensor). The parent SIGKILLs it somewhere mid-batch.
// Usage (bundled by duckdb-event-store.test.ts): node writer.mjs <dir> <first> <count> <rowsPerBatch>
import { DuckDbEventStore } from '../src/duckdb-event-store.ts';
import { duckDbFile, duckDbOptions } from './duckdb-harness.ts';
import { crashBatch } from './sample-rows.ts';

const [dir = '', first = '0', count = '0', rowsPerBatch = '0'] = process.argv.slice(2);
const store = await DuckDbEventStore.open(duckDbFile(dir), duckDbOptions);
for (let i = Number(first); i < Number(first) + Number(count); i++) {
  const id = `crash-${i}`;
  await store.append(id, crashBatch(i, Number(rowsPerBatch)));
  process.stdout.write(`stored ${id}\n`);
}
await store.close();
