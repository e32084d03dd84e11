// A validated OData query as SQLite clauses for the state store. Every value is a bound
// parameter; column expressions come from the caller. Semantics match odata-evaluate.ts.

import { assertNever } from './odata.ts';
import type { ValidatedQuery, ValidFilter } from './odata-entity.ts';

/** What better-sqlite3 binds; booleans become 1 and 0. */
export type SqlValue = string | number | null;

/**
 * Maps a property to a SQL expression (e.g. `"last_update_time"`), parenthesised if it has
 * operators that bind looser than comparisons. The expression is trusted text. It must give the stored form the property's type asks for: datetimes as
 * `toISOString()` text (text order is then time order), GUIDs lower-case, booleans 0/1,
 * strings in the default BINARY collation (OData's `eq` is case-sensitive).
 */
export type ColumnMapping = (property: string) => string;

export interface SqlQuery {
  /** A boolean expression, safe to combine with AND; `1` when there is no filter. */
  readonly where: string;
  /** The values for the placeholders of `where`, in order. */
  readonly params: readonly SqlValue[];
  /** ORDER BY terms without the keywords; never empty, since the order ends with the key. */
  readonly orderBy: string;
  /** The values for the placeholders of `orderBy` (enum ranks), in order. */
  readonly orderByParams: readonly SqlValue[];
  readonly limit: number;
  readonly offset: number;
}

/**
 * Compiles a validated query.
 * @example const q = compileSqlQuery(query, (p) => columns[p]);
 *   db.prepare(`SELECT * FROM alerts WHERE ${q.where} ORDER BY ${q.orderBy} LIMIT ? OFFSET ?`)
 *     .all(...q.params, ...q.orderByParams, q.limit, q.offset);
 */
export function compileSqlQuery(query: ValidatedQuery, column: ColumnMapping): SqlQuery {
  const params: SqlValue[] = [];
  const where = query.filter === undefined ? '1' : compileFilter(query.filter, true, column, params);
  const orderByParams: SqlValue[] = [];
  const orderBy = query.orderBy
    .map(({ property, direction, rank }) => {
      const dir = direction === 'asc' ? 'ASC' : 'DESC';
      if (rank === undefined) return `${column(property)} ${dir}`;
      // Enums sort in their declared order; values outside it get NULL, like a missing value.
      const whens = rank.map((value, i) => {
        orderByParams.push(value);
        return `WHEN ? THEN ${i}`;
      });
      return `CASE ${column(property)} ${whens.join(' ')} END ${dir}`;
    })
    .join(', ');
  return { where, params, orderBy, orderByParams, limit: query.top, offset: query.skip };
}

/** `WHERE … ORDER BY … LIMIT ? OFFSET ?` and all its values, to append to `SELECT … FROM t`. */
export function sqlClauses(sql: SqlQuery): { readonly text: string; readonly params: readonly SqlValue[] } {
  return {
    text: `WHERE ${sql.where} ORDER BY ${sql.orderBy} LIMIT ? OFFSET ?`,
    params: [...sql.params, ...sql.orderByParams, sql.limit, sql.offset],
  };
}

function bind(params: SqlValue[], value: string | number | boolean): '?' {
  params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  return '?';
}

/**
 * Returns an expression that can stand as an operand of AND or OR without more parentheses.
 * OData logic has two values: a comparison with null is false, and `not` of it is true. SQL's
 * NULL is unknown, and NOT(unknown) is still unknown. Without NOT, unknown behaves as false
 * under AND, OR and WHERE, so `not` is pushed down to the comparisons (De Morgan), and each
 * negated comparison says explicitly what a NULL column gives.
 */
function compileFilter(
  node: ValidFilter,
  positive: boolean,
  column: ColumnMapping,
  params: SqlValue[],
): string {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const joiner = (node.kind === 'and') === positive ? ' AND ' : ' OR ';
      return `(${node.items.map((item) => compileFilter(item, positive, column, params)).join(joiner)})`;
    }
    case 'not':
      return compileFilter(node.item, !positive, column, params);
    case 'is-null':
      return `${column(node.property)} ${positive ? 'IS NULL' : 'IS NOT NULL'}`;
    case 'in': {
      if (node.values.length === 0) return positive ? '0' : '1';
      const col = column(node.property);
      const list = node.values.map((value) => bind(params, value)).join(', ');
      return positive ? `${col} IN (${list})` : `(${col} IS NULL OR ${col} NOT IN (${list}))`;
    }
    case 'compare': {
      const col = column(node.property);
      const op = positive ? node.op : negated[node.op];
      const value = bind(params, node.value);
      switch (op) {
        case 'eq':
          return `${col} = ${value}`;
        // `IS NOT` is SQLite's null-safe inequality: true when the column is NULL.
        case 'ne':
          return `${col} IS NOT ${value}`;
        default: {
          const sql = `${col} ${sqlOperators[op]} ${value}`;
          return positive ? sql : `(${col} IS NULL OR ${sql})`;
        }
      }
    }
    default:
      return assertNever(node);
  }
}

const negated = { eq: 'ne', ne: 'eq', gt: 'le', ge: 'lt', lt: 'ge', le: 'gt' } as const;
const sqlOperators = { gt: '>', ge: '>=', lt: '<', le: '<=' } as const;
