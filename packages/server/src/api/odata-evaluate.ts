// The in-memory back end for small entity sets (sensors): the same results, in the same order,
// as odata-sql.ts gives on SQLite. Record values are compared as SQLite would store them.

import { assertNever } from './odata.ts';
import type { ValidatedQuery, ValidFilter, ValidSortKey } from './odata-entity.ts';

/** Reads one property of a record; the default reads an own property of a plain object. */
export type PropertyReader<R> = (record: R, property: string) => unknown;

type Stored = string | number | null;

/**
 * Filters, sorts and pages records. Values are read as SQLite holds them: `Date` as ISO text,
 * booleans as 1/0, `undefined` and NaN as null; anything but strings and numbers counts as null.
 * @example applyODataQuery(sensors, query) // query from readODataQuery(params, sensorsEntitySet)
 */
export function applyODataQuery<R extends object>(
  records: Iterable<R>,
  query: ValidatedQuery,
  read: PropertyReader<R> = readOwnProperty,
): R[] {
  const { filter, orderBy } = query;
  const rows: { record: R; keys: Stored[] }[] = [];
  for (const record of records) {
    if (filter === undefined || matchesFilter(filter, record, read)) {
      rows.push({ record, keys: orderBy.map((key) => sortValue(read(record, key.property), key)) });
    }
  }
  rows.sort((a, b) => {
    for (let i = 0; i < orderBy.length; i++) {
      const order = compareForSort(a.keys[i] ?? null, b.keys[i] ?? null);
      if (order !== 0) return orderBy[i]?.direction === 'desc' ? -order : order;
    }
    return 0;
  });
  return rows.slice(query.skip, query.skip + query.top).map((row) => row.record);
}

/** Whether a record matches a validated `$filter`, with OData's two-valued logic. */
export function matchesFilter<R extends object>(
  filter: ValidFilter,
  record: R,
  read: PropertyReader<R> = readOwnProperty,
): boolean {
  switch (filter.kind) {
    case 'and':
      return filter.items.every((item) => matchesFilter(item, record, read));
    case 'or':
      return filter.items.some((item) => matchesFilter(item, record, read));
    case 'not':
      return !matchesFilter(filter.item, record, read);
    case 'is-null':
      return stored(read(record, filter.property)) === null;
    case 'in': {
      const value = stored(read(record, filter.property));
      return value !== null && filter.values.some((v) => compareValues(value, storedScalar(v)) === 0);
    }
    case 'compare': {
      const value = stored(read(record, filter.property));
      // eq, gt, ge, lt and le are false against null; ne is its negation, so true.
      if (value === null) return filter.op === 'ne';
      const order = compareValues(value, storedScalar(filter.value));
      switch (filter.op) {
        case 'eq':
          return order === 0;
        case 'ne':
          return order !== 0;
        case 'gt':
          return order > 0;
        case 'ge':
          return order >= 0;
        case 'lt':
          return order < 0;
        case 'le':
          return order <= 0;
        default:
          return assertNever(filter.op);
      }
    }
    default:
      return assertNever(filter);
  }
}

function readOwnProperty(record: object, property: string): unknown {
  return Object.hasOwn(record, property) ? (record as Record<string, unknown>)[property] : undefined;
}

function stored(value: unknown): Stored {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isNaN(value) ? null : value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  return null;
}

function storedScalar(value: string | number | boolean): string | number {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/** Enums sort by rank, and a value outside the rank list sorts as null, as the SQL CASE does. */
function sortValue(value: unknown, key: ValidSortKey): Stored {
  const v = stored(value);
  if (key.rank === undefined) return v;
  const rank = typeof v === 'string' ? key.rank.indexOf(v) : -1;
  return rank < 0 ? null : rank;
}

/** SQLite's order: NULL first, then numbers, then text. */
function compareForSort(a: Stored, b: Stored): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return compareValues(a, b);
}

function compareValues(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return compareText(a, b);
  return typeof a === 'number' ? -1 : 1;
}

/**
 * Code point order, which is the byte order of UTF-8 and so SQLite's BINARY collation. JS's
 * `<` compares UTF-16 units, which puts U+10000… (surrogates, D800–DFFF) before U+E000–FFFF.
 */
function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // Move surrogates above E000–FFFF and the rest down, keeping each group's own order.
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
