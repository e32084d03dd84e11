// Rows of the tables: what normalisers produce, detectors read and stores keep. A row names
// its table and holds values by column name; columns it lacks are empty.
import { type ColumnType, columnsOf, type TableName } from './tables.ts';

/** A JSON value, for dynamic columns. */
export type Dynamic = null | boolean | number | string | Dynamic[] | { [key: string]: Dynamic };

/** A column value: datetimes are ISO 8601 text, ints and longs are numbers, dynamic is JSON. */
export type RowValue = string | number | boolean | Dynamic;

export interface TableRow {
  readonly table: TableName;
  readonly values: Readonly<Record<string, RowValue | undefined>>;
}

/** One problem with a row: a column the table lacks, or a value of the wrong type. */
export interface RowProblem {
  readonly column: string;
  readonly message: string;
}

const checks: Record<ColumnType, (v: RowValue) => boolean> = {
  string: (v) => typeof v === 'string',
  int: (v) => typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31,
  long: (v) => typeof v === 'number' && Number.isInteger(v),
  real: (v) => typeof v === 'number',
  bool: (v) => typeof v === 'boolean',
  datetime: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
  dynamic: () => true,
};

/**
 * Rows already found good. Rows are immutable, and one row is often checked twice on its way in
 * (the instance checks what a sensor sent, the event store what it writes): the second costs nothing.
 */
const good = new WeakSet<TableRow>();

/** Checks a row against its table: every column exists and every value has the column's type. */
export function checkRow(row: TableRow): RowProblem[] {
  if (good.has(row)) return [];
  const columns = columnsOf(row.table);
  const problems: RowProblem[] = [];
  const values = row.values;
  for (const name in values) {
    const value = values[name];
    if (value === undefined) continue;
    const column = columns.get(name);
    if (!column) {
      problems.push({ column: name, message: `${row.table} has no column ${name}` });
      continue;
    }
    if (!checks[column.type](value)) {
      problems.push({
        column: name,
        message: `${row.table}.${name} is ${column.type}, found ${JSON.stringify(value)}`,
      });
    }
  }
  if (problems.length === 0) good.add(row);
  return problems;
}
