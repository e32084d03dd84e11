// Types and values between the schema (Kusto types, TableRow values) and DuckDB: the column type
// each schema type gets, and the conversions of results to JSON-safe rows and back to TableRows.
import {
  type DuckDBDateValue,
  type DuckDBDecimalValue,
  type DuckDBTimestampMillisecondsValue,
  type DuckDBTimestampNanosecondsValue,
  type DuckDBTimestampSecondsValue,
  type DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBValueConverter,
  JsonDuckDBValueConverter,
} from '@duckdb/node-api';
import type { ColumnType, RowValue } from '@palisade/schema';
import type { Json, JsonRow } from './event-store.ts';

/** The DuckDB column type of each schema type. TIMESTAMP keeps microseconds (a 7th digit is cut). */
export const duckDbColumnTypes: Readonly<Record<ColumnType, string>> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  long: 'BIGINT',
  real: 'DOUBLE',
  bool: 'BOOLEAN',
  datetime: 'TIMESTAMP',
  dynamic: 'JSON',
};

/**
 * The type read_json parses each schema type as. Datetimes go through TIMESTAMPTZ: a plain
 * TIMESTAMP cast drops a UTC offset (`…T02:00:00+02:00` would stay 02:00), TIMESTAMPTZ applies it
 * and the insert converts to TIMESTAMP in the session's time zone, which the store sets to UTC.
 */
export const duckDbSpoolTypes: Readonly<Record<ColumnType, string>> = {
  ...duckDbColumnTypes,
  datetime: 'TIMESTAMPTZ',
};

const MICROS_PER_SECOND = 1_000_000n;

/** Microseconds since the epoch as ISO 8601 with six fraction digits and `Z`. */
export function isoFromMicros(micros: bigint): string {
  let seconds = micros / MICROS_PER_SECOND;
  let fraction = micros % MICROS_PER_SECOND;
  if (fraction < 0n) {
    fraction += MICROS_PER_SECOND;
    seconds -= 1n;
  }
  const date = new Date(Number(seconds) * 1000);
  // ±infinity and years past 275760 have no ISO form.
  if (Number.isNaN(date.getTime())) return micros > 0n ? 'infinity' : '-infinity';
  return `${date.toISOString().slice(0, 19)}.${fraction.toString().padStart(6, '0')}Z`;
}

function microsOf(value: DuckDBValue, typeId: DuckDBTypeId): bigint {
  switch (typeId) {
    case DuckDBTypeId.TIMESTAMP_S:
      return (value as DuckDBTimestampSecondsValue).seconds * MICROS_PER_SECOND;
    case DuckDBTypeId.TIMESTAMP_MS:
      return (value as DuckDBTimestampMillisecondsValue).millis * 1000n;
    case DuckDBTypeId.TIMESTAMP_NS:
      return (value as DuckDBTimestampNanosecondsValue).nanos / 1000n;
    case DuckDBTypeId.DATE:
      return BigInt((value as DuckDBDateValue).days) * 86_400n * MICROS_PER_SECOND;
    default:
      // TIMESTAMP and TIMESTAMP WITH TIME ZONE hold micros.
      return (value as DuckDBTimestampValue).micros;
  }
}

const timeTypes = new Set<DuckDBTypeId>([
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.DATE,
]);

function isJsonType(type: DuckDBType): boolean {
  return type.typeId === DuckDBTypeId.VARCHAR && type.alias === 'JSON';
}

function parseJson(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/**
 * DuckDB values → JSON-safe values: the library's JSON conversion (BIGINT and HUGEINT as text,
 * nested types as arrays and objects) with times as ISO 8601 and JSON columns parsed.
 */
export const jsonValueConverter: DuckDBValueConverter<Json> = (value, type, converter) => {
  if (value === null) return null;
  if (timeTypes.has(type.typeId)) return isoFromMicros(microsOf(value, type.typeId));
  if (isJsonType(type)) return parseJson(value as string);
  if (type.typeId === DuckDBTypeId.DECIMAL) return (value as DuckDBDecimalValue).toDouble();
  return JsonDuckDBValueConverter(value, type, converter);
};

const logicalTypes: Partial<Record<DuckDBTypeId, ColumnType>> = {
  [DuckDBTypeId.BOOLEAN]: 'bool',
  [DuckDBTypeId.TINYINT]: 'int',
  [DuckDBTypeId.SMALLINT]: 'int',
  [DuckDBTypeId.INTEGER]: 'int',
  [DuckDBTypeId.UTINYINT]: 'int',
  [DuckDBTypeId.USMALLINT]: 'int',
  [DuckDBTypeId.UINTEGER]: 'long',
  [DuckDBTypeId.BIGINT]: 'long',
  [DuckDBTypeId.UBIGINT]: 'long',
  [DuckDBTypeId.HUGEINT]: 'long',
  [DuckDBTypeId.UHUGEINT]: 'long',
  [DuckDBTypeId.FLOAT]: 'real',
  [DuckDBTypeId.DOUBLE]: 'real',
  [DuckDBTypeId.DECIMAL]: 'real',
  [DuckDBTypeId.TIMESTAMP]: 'datetime',
  [DuckDBTypeId.TIMESTAMP_TZ]: 'datetime',
  [DuckDBTypeId.TIMESTAMP_S]: 'datetime',
  [DuckDBTypeId.TIMESTAMP_MS]: 'datetime',
  [DuckDBTypeId.TIMESTAMP_NS]: 'datetime',
  [DuckDBTypeId.DATE]: 'datetime',
  [DuckDBTypeId.LIST]: 'dynamic',
  [DuckDBTypeId.ARRAY]: 'dynamic',
  [DuckDBTypeId.STRUCT]: 'dynamic',
  [DuckDBTypeId.MAP]: 'dynamic',
  [DuckDBTypeId.UNION]: 'dynamic',
};

/**
 * Result rows as JSON-safe objects. The types must be the result's column types: the vectors of a
 * chunk lose type aliases, so a JSON column would read as plain VARCHAR there.
 */
export function jsonRowsOf(
  rows: readonly (readonly DuckDBValue[])[],
  names: readonly string[],
  types: readonly DuckDBType[],
): JsonRow[] {
  return rows.map((values) => {
    const row: JsonRow = {};
    values.forEach((value, i) => {
      const type = types[i];
      row[names[i] ?? String(i)] = type ? jsonValueConverter(value, type, jsonValueConverter) : null;
    });
    return row;
  });
}

/** The schema type a DuckDB result column reports as (anything else is a string). */
export function columnTypeOf(type: DuckDBType): ColumnType {
  if (isJsonType(type)) return 'dynamic';
  return logicalTypes[type.typeId] ?? 'string';
}

/** A value read from a table column back into the TableRow form it was appended in. */
export function rowValueOf(value: DuckDBValue, type: ColumnType): RowValue | undefined {
  if (value === null) return undefined;
  switch (type) {
    case 'datetime':
      return isoFromMicros((value as DuckDBTimestampValue).micros);
    case 'long':
      // Rows hold longs as numbers; a value appended from a row fits in one.
      return Number(value as bigint);
    case 'dynamic':
      return parseJson(value as string);
    default:
      return value as RowValue;
  }
}
