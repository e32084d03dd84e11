// Worker-thread script of the one-open-per-process test: tries to open the event store file the
// main thread holds and posts back the error code (or 'opened', which would be the hazard).
// Usage (bundled by duckdb-event-store.test.ts): new Worker(script, { workerData: file })
import { parentPort, workerData } from 'node:worker_threads';
import { DuckDbEventStore } from '../src/duckdb-event-store.ts';
import { StoreError } from '../src/store-error.ts';
import { duckDbOptions } from './duckdb-harness.ts';

try {
  const store = await DuckDbEventStore.open(String(workerData), duckDbOptions);
  await store.close();
  parentPort?.postMessage('opened');
} catch (error) {
  parentPort?.postMessage(error instanceof StoreError ? error.code : String(error));
}
