// What every event store does to a batch before writing it: check each row against its table and
// group the rows by table. One bad row rejects the batch, so a batch is stored whole or not at all.
import { checkRow, type TableName, type TableRow, tables } from '@palisade/schema';
import { StoreError } from './store-error.ts';

const MAX_PROBLEMS = 5;
/** Rows checked between two yields to the event loop (10,000 rows take 8–18 ms). */
const ROWS_PER_SLICE = 1024;
const nextTurn = (): Promise<void> => new Promise((done) => setImmediate(done));

/** A row and its place in the batch, which the store keeps so the batch reads back in order. */
export interface PlacedRow {
  readonly row: TableRow;
  readonly index: number;
}

/** The rows of a batch by table, in their order; rejects with `store/bad-row` naming the first problems. */
export async function groupRows(rows: readonly TableRow[]): Promise<Map<TableName, PlacedRow[]>> {
  const byTable = new Map<TableName, PlacedRow[]>();
  const problems: string[] = [];
  let bad = 0;
  for (let index = 0; index < rows.length; index++) {
    if (index % ROWS_PER_SLICE === ROWS_PER_SLICE - 1) await nextTurn();
    const row = rows[index] as TableRow;
    // Rows come from the network: the table name is only a string until checked.
    if (!Object.hasOwn(tables, row.table)) {
      bad++;
      if (problems.length < MAX_PROBLEMS)
        problems.push(`row ${index}: no table ${JSON.stringify(row.table)}`);
      continue;
    }
    const rowProblems = checkRow(row);
    if (rowProblems.length > 0) {
      bad++;
      for (const p of rowProblems)
        if (problems.length < MAX_PROBLEMS) problems.push(`row ${index}: ${p.message}`);
      continue;
    }
    let list = byTable.get(row.table);
    if (!list) byTable.set(row.table, (list = []));
    list.push({ row, index });
  }
  if (bad > 0) {
    throw new StoreError(
      'store/bad-row',
      `${bad} of ${rows.length} rows do not fit their table, nothing was stored: ${problems.join('; ')}`,
    );
  }
  return byTable;
}

/** Checks a batch id: any text of 1–512 characters (sensors use `<sensor id>:<sequence>`). */
export function checkBatchId(batchId: string): void {
  if (typeof batchId !== 'string' || batchId.length === 0 || batchId.length > 512) {
    throw new StoreError(
      'store/invalid',
      `expected a batch id of 1–512 characters, found ${JSON.stringify(batchId)}`,
    );
  }
}
