// The DuckDB event store as the conformance suites and the crash-writer child open it: its file
// under a test directory and its options.
import { join } from 'node:path';
import type { DuckDbEventStoreOptions } from '../src/duckdb-event-store.ts';

export const duckDbFile = (dir: string): string => join(dir, 'events.duckdb');
export const duckDbOptions: DuckDbEventStoreOptions = { memoryLimit: '256MB', threads: 2 };
