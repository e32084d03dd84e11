// Child process of the event store crash test: opens the DuckDB store under a directory and
// appends crash batches (one by one, or `groupSize` at a time with appendMany), printing
// `stored <batchId>` once each append has resolved (that is, once it would be acknowledged to a
// sensor). The parent SIGKILLs it somewhere mid-batch.
// Usage (bundled by duckdb-event-store.test.ts):
//   node writer.mjs <dir> <first> <count> <rowsPerBatch> [groupSize]
import { DuckDbEventStore } from '../src/duckdb-event-store.ts';
import { duckDbFile, duckDbOptions } from './duckdb-harness.ts';
import { crashBatch } from './sample-rows.ts';

const [dir = '', first = '0', count = '0', rowsPerBatch = '0', groupSize = '1'] = process.argv.slice(2);
const store = await DuckDbEventStore.open(duckDbFile(dir), duckDbOptions);
const end = Number(first) + Number(count);
for (let i = Number(first); i < end; i += Number(groupSize)) {
  const group = [];
  for (let j = i; j < Math.min(end, i + Number(groupSize)); j++) {
    group.push({ batchId: `crash-${j}`, rows: crashBatch(j, Number(rowsPerBatch)) });
  }
  if (group.length === 1) await store.append(group[0]?.batchId ?? '', group[0]?.rows ?? []);
  else await store.appendMany(group);
  for (const { batchId } of group) process.stdout.write(`stored ${batchId}\n`);
}
await store.close();
