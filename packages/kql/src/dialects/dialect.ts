// The seam between the dialect-neutral SQL writer and one SQL engine: quoting, types, how each
// Kusto function, operator and aggregate is spelled, and the few constructs engines spell apart.
import type { KustoType, PathStep, Scalar } from '../ir.ts';

/** A value bound to a statement parameter. */
export type SqlParam = string | number | bigint | boolean | null;

/** A rendered argument: its SQL, its Kusto type and the IR it came from (to read literal values). */
export interface SqlArg {
  readonly sql: string;
  readonly type: KustoType;
  readonly expr: Scalar;
}

/** What a renderer may use besides its arguments. */
export interface RenderTools {
  /** Binds `value` as a new parameter and returns its placeholder. */
  param(value: SqlParam): string;
  /** The SQL of the query's one `now()`, fixed for the whole query. */
  now(): string;
  /** The SQL of the row's ingestion time, when the row still has one. */
  readonly ingestionTime?: string;
  /** Fails the compilation with a diagnostic at the call. */
  fail(message: string): never;
}

export type ScalarRenderer = (args: readonly SqlArg[], tools: RenderTools, result: KustoType) => string;

/**
 * A window function over the serialized rows (`prev`, `next`, `row_number`, `row_cumsum`): its
 * arguments (none of them a window function) and the SQL of the row order to read them in.
 */
export type WindowRenderer = (
  args: readonly SqlArg[],
  order: string,
  tools: RenderTools,
  result: KustoType,
) => string;

/** An aggregate: its arguments, and the SQL of an optional `FILTER (WHERE …)` condition already split off. */
export type AggregateRenderer = (args: readonly SqlArg[], tools: RenderTools, result: KustoType) => string;

export const sqlJoins = ['inner', 'left', 'right', 'full', 'semi', 'anti'] as const;
export type SqlJoin = (typeof sqlJoins)[number];

export interface SqlDialect {
  readonly name: string;
  quoteName(name: string): string;
  /** The placeholder of the named parameter. */
  placeholder(name: string): string;
  sqlType(type: KustoType): string;
  /** A literal as SQL of its Kusto type, binding the value as a parameter. */
  literal(value: SqlParam, type: KustoType, tools: RenderTools): string;
  /** `sql` (of Kusto type `from`) as a value of Kusto type `to`. */
  convert(sql: string, from: KustoType, to: KustoType): string;
  /** Dynamic access into `target` (a dynamic value). */
  path(target: string, steps: readonly PathStep[], tools: RenderTools, step: (s: Scalar) => SqlArg): string;
  /** The elements of a dynamic value as an engine list, for mv-expand (arrays, bags as key/value bags, scalars as one). */
  expandList(target: string, limit: string | undefined): string;
  /** Beside `unnest(list)` in a select list: each element's 1-based place in the list. */
  expandIndex(list: string): string;
  readonly functions: Readonly<Record<string, ScalarRenderer>>;
  readonly windows: Readonly<Record<string, WindowRenderer>>;
  readonly aggregates: Readonly<Record<string, AggregateRenderer>>;
  /** `FROM a <join> b`, by kind. */
  readonly joins: Readonly<Record<SqlJoin, string>>;
  /** An aggregate over a struct of `fields` taken from the row where `by` is largest (or smallest). */
  argExtreme(fn: 'arg_max' | 'arg_min', fields: readonly { name: string; sql: string }[], by: string): string;
  /** Reads field `name` of a struct made by argExtreme. */
  structField(struct: string, name: string): string;
  /** Keeps one row per key (innerunique's left side). */
  firstPerKey(from: string, keys: readonly string[]): string;
  /** A table function reading a local CSV/TSV file with `count` text columns named c0, c1, …. */
  readFile(path: string, format: 'csv' | 'tsv' | 'json', skipFirst: boolean, count: number): string;
  /** The stored ingestion time joined to a table's rows: a FROM item and the column's SQL. */
  ingestionTime(table: string, alias: string): { from: string; column: string };
  /** The values of `column` in `from` as one dynamic array (a scalar subquery). */
  arrayOf(column: string, from: string): string;
  /** A list of values given as JSON text (one parameter), as a subquery for `IN`. */
  valuesFromJson(json: string, type: KustoType): string;
}
