// Runs a compiled query on a DuckDB connection: read-only (a SELECT or nothing), with a row cap
// and a timeout, returning MDE's `{ Schema, Results }` with values in Kusto's JSON forms.
import {
  type DuckDBConnection,
  type DuckDBTimestampValue,
  type DuckDBValue,
  StatementType,
} from '@duckdb/node-api';
import type { CompiledQuery, SchemaColumn } from './compile.ts';
import type { Diagnostic } from './diagnostic.ts';
import type { KustoType, Render } from './ir.ts';

/** MDE's limits: 100,000 rows through the API, 30,000 in the portal, 10 minutes per query. */
export const huntingLimits = { apiRows: 100_000, portalRows: 30_000, timeoutMs: 600_000 } as const;

export interface ExecuteOptions {
  /** Rows returned at most (default 100,000); `truncated` says when more were available. */
  readonly maxRows?: number;
  /** Interrupts the query after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface HuntingResult {
  readonly Schema: readonly SchemaColumn[];
  readonly Results: Record<string, JsonValue>[];
  readonly truncated: boolean;
  readonly render?: Render;
}

export interface ExecuteResult {
  readonly value?: HuntingResult;
  readonly diagnostics: Diagnostic[];
}

/** Runs `compiled` on `connection` and reads at most `maxRows` rows. */
export async function executeQuery(
  connection: DuckDBConnection,
  compiled: CompiledQuery,
  options: ExecuteOptions = {},
): Promise<ExecuteResult> {
  const maxRows = options.maxRows ?? huntingLimits.apiRows;
  const timeoutMs = options.timeoutMs ?? huntingLimits.timeoutMs;
  let timedOut = false;
  const interrupt = () => connection.interrupt();
  const timer = setTimeout(() => {
    timedOut = true;
    interrupt();
  }, timeoutMs);
  options.signal?.addEventListener('abort', interrupt);
  try {
    const prepared = await connection.prepare(compiled.sql);
    // Compiled SQL is one SELECT; anything else is refused before it runs.
    if (prepared.statementType !== StatementType.SELECT) {
      return failure('kql/runtime', 'only a SELECT statement may run as a hunting query');
    }
    prepared.bind({ ...compiled.params } as Record<string, DuckDBValue>);
    const result = await prepared.stream();
    const rows: Record<string, JsonValue>[] = [];
    let truncated = false;
    const types = compiled.schema.map((c) => c.Type);
    for await (const chunk of result.yieldRows()) {
      for (const values of chunk) {
        if (rows.length >= maxRows) {
          truncated = true;
          break;
        }
        const row: Record<string, JsonValue> = {};
        compiled.schema.forEach((column, i) => {
          row[column.Name] = jsonOf(values[i] ?? null, types[i] ?? 'string');
        });
        rows.push(row);
      }
      if (truncated) break;
    }
    const value: HuntingResult = compiled.render
      ? { Schema: compiled.schema, Results: rows, truncated, render: compiled.render }
      : { Schema: compiled.schema, Results: rows, truncated };
    return { value, diagnostics: [] };
  } catch (error) {
    if (timedOut)
      return failure('kql/timeout', `the query ran longer than ${timeoutMs / 1000} s and was stopped`);
    if (options.signal?.aborted) return failure('kql/timeout', 'the query was cancelled');
    return failure('kql/runtime', error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', interrupt);
  }
}

function failure(code: 'kql/runtime' | 'kql/timeout', message: string): ExecuteResult {
  return { diagnostics: [{ severity: 'error', code, message }] };
}

const DAY = 86_400_000_000n;

/** Microseconds as Kusto's timespan text, `[-][d.]hh:mm:ss[.fffffff]`. */
export function timespanText(micros: bigint): string {
  const sign = micros < 0n ? '-' : '';
  const a = micros < 0n ? -micros : micros;
  const days = a / DAY;
  const two = (n: bigint) => n.toString().padStart(2, '0');
  const clock = `${two((a / 3_600_000_000n) % 24n)}:${two((a / 60_000_000n) % 60n)}:${two((a / 1_000_000n) % 60n)}`;
  const fraction = a % 1_000_000n;
  return `${sign}${days > 0n ? `${days}.` : ''}${clock}${fraction > 0n ? `.${fraction.toString().padStart(6, '0')}0` : ''}`;
}

/** Microseconds since the epoch as ISO 8601 with Kusto's seven fraction digits and `Z`. */
export function datetimeText(micros: bigint): string {
  let seconds = micros / 1_000_000n;
  let fraction = micros % 1_000_000n;
  if (fraction < 0n) {
    fraction += 1_000_000n;
    seconds -= 1n;
  }
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) return micros > 0n ? 'infinity' : '-infinity';
  return `${date.toISOString().slice(0, 19)}.${fraction.toString().padStart(6, '0')}0Z`;
}

function numberOf(value: bigint): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value.toString();
}

/** A DuckDB value of a column of Kusto type `type` in the JSON form MDE's API returns. */
function jsonOf(value: DuckDBValue, type: KustoType): JsonValue {
  if (value === null) return type === 'string' ? '' : null;
  switch (type) {
    case 'datetime':
      return typeof value === 'object' && 'micros' in value
        ? datetimeText((value as DuckDBTimestampValue).micros)
        : String(value);
    case 'timespan':
      return typeof value === 'bigint' ? timespanText(value) : String(value);
    case 'dynamic':
      if (typeof value !== 'string') return String(value);
      try {
        return JSON.parse(value) as JsonValue;
      } catch {
        return value;
      }
    case 'long':
    case 'int':
      return typeof value === 'bigint' ? numberOf(value) : typeof value === 'number' ? value : String(value);
    case 'real':
    case 'decimal':
      if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
      return typeof value === 'bigint' ? numberOf(value) : Number(String(value));
    case 'bool':
      return typeof value === 'boolean' ? value : String(value) === 'true';
    default:
      return typeof value === 'string' ? value : String(value);
  }
}
