// A DuckDB database in memory with every table of the schema laid out as the event store lays them
// out (Kusto types as DuckDB types, plus `_Batch` and `_Row`, and the batch table), for tests.
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { type TableName, tableNames, tables } from '@palisade/schema';
import { duckDbColumnTypes } from '@palisade/store';

/** The store's own column types, so these tables are the store's. */
const types = duckDbColumnTypes;

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export interface HuntingDb {
  readonly connection: DuckDBConnection;
  /** Inserts rows (column name → value; datetimes as ISO text, dynamic as JSON text) into a table. */
  insert(table: TableName, rows: readonly Record<string, DuckDBValue>[]): Promise<void>;
  close(): void;
}

export async function openHuntingDb(): Promise<HuntingDb> {
  const instance = await DuckDBInstance.create(':memory:', { memory_limit: '256MB', threads: '1' });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(
    'CREATE TABLE "_palisade_batches" (seq BIGINT PRIMARY KEY, batch_id VARCHAR, stored_at TIMESTAMP, source VARCHAR, row_count BIGINT, tables JSON)',
  );
  await connection.run(
    "INSERT INTO \"_palisade_batches\" VALUES (1, 'b1', TIMESTAMP '2024-05-31 12:00:00', NULL, 0, '{}')",
  );
  for (const table of tableNames) {
    const columns = tables[table].columns.map((c) => `${quote(c.name)} ${types[c.type]}`);
    await connection.run(
      `CREATE TABLE ${quote(table)} (${columns.join(', ')}, "_Batch" BIGINT NOT NULL, "_Row" BIGINT)`,
    );
  }
  return {
    connection,
    async insert(table, rows) {
      const specs = new Map(tables[table].columns.map((c) => [c.name, c.type]));
      for (const [i, row] of rows.entries()) {
        const names = Object.keys(row);
        const values = names.map((n, j) => {
          const type = specs.get(n);
          if (!type) throw new Error(`${table} has no column ${n}`);
          return `CAST($v${j} AS ${types[type]})`;
        });
        const params: Record<string, DuckDBValue> = {};
        names.forEach((n, j) => {
          params[`v${j}`] = row[n] ?? null;
        });
        await connection.run(
          `INSERT INTO ${quote(table)} (${[...names.map(quote), '"_Batch"', '"_Row"'].join(', ')}) VALUES (${[...values, '1', String(i)].join(', ')})`,
          params,
        );
      }
    },
    close() {
      connection.disconnectSync();
      instance.closeSync();
    },
  };
}
