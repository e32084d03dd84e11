// Public surface of @palisade/kql: parse (Microsoft's parser and binder over Palisade's schema),
// the IR, compile to SQL through a dialect, and execute on DuckDB in MDE's result shape.

export type { CompiledQuery, CompileOptions, CompileResult, SchemaColumn } from './compile.ts';
export { compileQuery } from './compile.ts';
export type { DeviceScope } from './device-scope.ts';
export type { Diagnostic, KqlErrorCode, TextSpan } from './diagnostic.ts';
export { formatDiagnostic, kqlErrorCodes } from './diagnostic.ts';
export type { SqlDialect, SqlParam } from './dialects/dialect.ts';
export { type DialectName, dialects } from './dialects/dialects.ts';
export type { ExecuteOptions, ExecuteResult, HuntingResult, JsonValue } from './execute.ts';
export { datetimeText, executeQuery, huntingLimits, timespanText } from './execute.ts';
export type { Binding, Column, JoinKind, KustoType, Query, QueryPlan, Render, Scalar } from './ir.ts';
export { joinKinds, kustoTypes } from './ir.ts';
export type { ParsedQuery, ParseResult } from './parse.ts';
export { parseQuery, warmUp } from './parse.ts';
