// Advanced hunting over the event store: KQL compiled by @palisade/kql for the store's SQL
// dialect, scoped to the caller's devices, and run read-only with a timeout and a row cap. The
// engine is the seam per event store (DuckDB today); the service adds the instance's limits.
import {
  compileQuery,
  type DeviceScope,
  type Diagnostic,
  type DialectName,
  executeQuery,
  type HuntingResult,
  huntingLimits,
  type KustoType,
} from '@palisade/kql';
import type { DuckDbEventStore } from '@palisade/store';

/** Runs compiled hunting queries on one event store. */
export interface HuntingEngine {
  readonly dialect: DialectName;
  execute(
    compiled: NonNullable<ReturnType<typeof compileQuery>['value']>,
    options: { readonly maxRows: number; readonly timeoutMs: number },
  ): Promise<{ readonly value?: HuntingResult; readonly diagnostics: Diagnostic[] }>;
}

/** The DuckDB event store as a hunting engine: each query in a read-only transaction of its own. */
export function duckDbHuntingEngine(store: DuckDbEventStore): HuntingEngine {
  return {
    dialect: 'duckdb',
    execute: (compiled, options) =>
      store.withReadConnection((connection) => executeQuery(connection, compiled, options)),
  };
}

/** What one hunting query may use. */
export interface HuntingLimits {
  /** Interrupts a query after this long (default 10 minutes, MDE's limit). */
  readonly timeoutMs: number;
  /** Rows returned at most (default 100,000, MDE's API limit). */
  readonly maxRows: number;
  /** Queries running at once; more are answered 429 (default 2: hunting shares the cores with ingest). */
  readonly maxConcurrent: number;
  /** The largest result as JSON text (default 124 MB, MDE's limit); a larger one is an error. */
  readonly maxResultBytes: number;
}

export const defaultHuntingLimits: HuntingLimits = {
  timeoutMs: huntingLimits.timeoutMs,
  maxRows: huntingLimits.apiRows,
  maxConcurrent: 2,
  maxResultBytes: 124 * 1024 * 1024,
};

/** Kusto type names as MDE's hunting API writes them in `Schema[].Type`. */
export const mdeTypeNames: Readonly<Record<KustoType, string>> = {
  bool: 'Boolean',
  int: 'Int32',
  long: 'Int64',
  real: 'Double',
  decimal: 'Decimal',
  string: 'String',
  datetime: 'DateTime',
  timespan: 'TimeSpan',
  dynamic: 'Object',
  guid: 'Guid',
};

/** MDE's answer: `Schema` with MDE type names and `Results` keyed by column name. */
export interface HuntingAnswer {
  readonly Schema: readonly { readonly Name: string; readonly Type: string }[];
  readonly Results: HuntingResult['Results'];
}

export interface HuntingRunOptions {
  /** The devices the caller may see; absent for callers who see every device. */
  readonly scope?: DeviceScope;
  /** The query's `now()` (default: the time of compilation). */
  readonly now?: Date;
  readonly maxRows?: number;
  readonly timeoutMs?: number;
}

export interface HuntingOutcome {
  readonly value?: HuntingResult;
  /** Errors and warnings, each with the query's line and column where it has one. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Compiles and runs one query: a value, or diagnostics saying why not. */
export async function runHuntingQuery(
  engine: HuntingEngine,
  text: string,
  options: HuntingRunOptions = {},
): Promise<HuntingOutcome> {
  const compiled = compileQuery(text, {
    dialect: engine.dialect,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  if (!compiled.value) return { diagnostics: compiled.diagnostics };
  const executed = await engine.execute(compiled.value, {
    maxRows: options.maxRows ?? defaultHuntingLimits.maxRows,
    timeoutMs: options.timeoutMs ?? defaultHuntingLimits.timeoutMs,
  });
  const diagnostics = [...compiled.diagnostics, ...executed.diagnostics];
  return executed.value ? { value: executed.value, diagnostics } : { diagnostics };
}

/** A result in MDE's shape. */
export function huntingAnswer(result: HuntingResult): HuntingAnswer {
  return {
    Schema: result.Schema.map((c) => ({ Name: c.Name, Type: mdeTypeNames[c.Type] })),
    Results: result.Results,
  };
}

/** Hunting with the instance's limits: a query runs only while fewer than `maxConcurrent` do. */
export class HuntingService {
  #running = 0;

  constructor(
    readonly engine: HuntingEngine,
    readonly limits: HuntingLimits = defaultHuntingLimits,
  ) {}

  /** Runs a query, or answers `busy` when `maxConcurrent` are running already. */
  async run(
    text: string,
    options: Omit<HuntingRunOptions, 'timeoutMs'>,
  ): Promise<HuntingOutcome | { readonly busy: true }> {
    if (this.#running >= this.limits.maxConcurrent) return { busy: true };
    this.#running++;
    try {
      return await runHuntingQuery(this.engine, text, {
        ...options,
        maxRows: Math.min(options.maxRows ?? this.limits.maxRows, this.limits.maxRows),
        timeoutMs: this.limits.timeoutMs,
      });
    } finally {
      this.#running--;
    }
  }
}
