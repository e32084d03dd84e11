// The SQL dialects by name: a plain registry, so a ClickHouse dialect is one more entry.
import type { SqlDialect } from './dialect.ts';
import { duckDbDialect } from './duckdb-dialect.ts';

export const dialects = { duckdb: duckDbDialect } as const satisfies Record<string, SqlDialect>;
export type DialectName = keyof typeof dialects;
