// KQL text to one parameterised SQL statement for a dialect, with the result's schema in Kusto
// type names and the render request. Every failure is a diagnostic with a position.
import type { DeviceScope } from './device-scope.ts';
import { type Diagnostic, KqlError, spanAt } from './diagnostic.ts';
import type { SqlParam } from './dialects/dialect.ts';
import { type DialectName, dialects } from './dialects/dialects.ts';
import type { KustoType, QueryPlan, Render } from './ir.ts';
import { newContext } from './lower-context.ts';
import { lowerPlan } from './lower-query.ts';
import { parseQuery } from './parse.ts';
import { writeSql } from './sql-writer.ts';

export interface CompileOptions {
  /** The SQL dialect (default `duckdb`). */
  readonly dialect?: DialectName;
  /** The query's `now()` (default: the time of compilation). */
  readonly now?: Date;
  /** The devices the caller may see; absent, no device filter is applied. */
  readonly scope?: DeviceScope;
  /** The folder `externaldata` may read local files from; absent, it reads none. */
  readonly files?: { readonly root: string };
}

/** One result column, as MDE's hunting API names it: `{ Name, Type }` with Kusto type names. */
export interface SchemaColumn {
  readonly Name: string;
  readonly Type: KustoType;
}

export interface CompiledQuery {
  readonly sql: string;
  readonly params: Readonly<Record<string, SqlParam>>;
  readonly schema: readonly SchemaColumn[];
  /** The query's final `render`, for the caller to draw; not part of the SQL. */
  readonly render?: Render;
  readonly plan: QueryPlan;
}

export interface CompileResult {
  readonly value?: CompiledQuery;
  readonly diagnostics: Diagnostic[];
}

/**
 * Compiles KQL to SQL.
 *
 * @example
 * const { value, diagnostics } = compileQuery('DeviceProcessEvents | where FileName has "cmd.exe" | take 10');
 * // value.sql: WITH q1 AS (…) SELECT …; value.params: { p1: 'cmd.exe', p2: '(?i)…', … }
 */
export function compileQuery(text: string, options: CompileOptions = {}): CompileResult {
  const dialectName = options.dialect ?? 'duckdb';
  const dialect = dialects[dialectName];
  if (!dialect) {
    return {
      diagnostics: [
        { severity: 'error', code: 'kql/unknown-dialect', message: `no SQL dialect '${dialectName}'` },
      ],
    };
  }
  const parsed = parseQuery(text);
  if (!parsed.value) return { diagnostics: parsed.diagnostics };
  const ctx = newContext(text, parsed.value.aliases);
  try {
    const plan = lowerPlan(ctx, parsed.value.code.Syntax);
    const now = BigInt((options.now ?? new Date()).getTime()) * 1000n;
    const sql = writeSql(plan, dialect, {
      now,
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.files ? { files: options.files } : {}),
    });
    const schema = plan.body.columns.map((c) => ({ Name: c.name, Type: c.type }));
    const value: CompiledQuery = plan.render
      ? { ...sql, schema, render: plan.render, plan }
      : { ...sql, schema, plan };
    return { value, diagnostics: ctx.warnings };
  } catch (error) {
    return { diagnostics: [...ctx.warnings, diagnosticOf(text, error)] };
  }
}

function diagnosticOf(text: string, error: unknown): Diagnostic {
  if (error instanceof KqlError) {
    return {
      severity: 'error',
      code: error.code,
      message: error.message,
      ...(error.at ? { span: spanAt(text, error.at.start, error.at.length) } : {}),
    };
  }
  // A bug in the compiler (or the language service): reported as a diagnostic, never thrown.
  const message = error instanceof Error ? error.message : String(error);
  return { severity: 'error', code: 'kql/internal', message: `internal error: ${message}` };
}
