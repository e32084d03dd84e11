// State shared while lowering one query from the bound syntax tree to the IR: the let scopes, the
// bindings written so far, warnings, and the helpers that read types and positions off nodes.
import { type Diagnostic, KqlError, spanAt } from './diagnostic.ts';
import type { Binding, Column, KustoType, Query, Scalar } from './ir.ts';
import { type KustoTypeSymbol, kindOf, listOf, type SyntaxElement } from './kusto-bridge.ts';

/** What a name in scope stands for. */
export type NameBinding =
  | { readonly kind: 'scalar'; readonly value: Scalar }
  | { readonly kind: 'table'; readonly query: Query }
  | { readonly kind: 'function'; readonly declaration: SyntaxElement; readonly scope: Scope };

export interface Scope {
  readonly parent?: Scope;
  readonly names: Map<string, NameBinding>;
}

export interface LowerContext {
  readonly text: string;
  /** The other spellings of columns the query uses, as bound (kusto-globals.ts). */
  readonly aliases: readonly string[];
  readonly bindings: Binding[];
  readonly warnings: Diagnostic[];
  scope: Scope;
  /** The columns of the rows being read by the operator being lowered (for `*`, `pack_all()`). */
  row: readonly Column[];
  /** Counts bindings, for unique CTE names. */
  serial: number;
  /** While lowering an expression over aggregates in summarize: the aggregates met, as hidden columns. */
  aggregates?: HiddenAggregate[];
}

export interface HiddenAggregate {
  readonly name: string;
  readonly fn: string;
  readonly args: readonly Scalar[];
  readonly type: KustoType;
  readonly at: { readonly start: number; readonly length: number };
}

/** Kusto aggregate functions that may appear inside a larger expression in summarize. */
export const aggregateNames: ReadonlySet<string> = new Set([
  'count',
  'countif',
  'dcount',
  'dcountif',
  'count_distinct',
  'count_distinctif',
  'sum',
  'sumif',
  'avg',
  'avgif',
  'min',
  'minif',
  'max',
  'maxif',
  'make_set',
  'make_set_if',
  'makeset',
  'make_list',
  'make_list_if',
  'makelist',
  'take_any',
  'any',
  'take_anyif',
  'anyif',
  'percentile',
  'stdev',
  'stdevif',
  'stdevp',
  'variance',
  'varianceif',
  'variancep',
]);

export function newContext(text: string, aliases: readonly string[]): LowerContext {
  return { text, aliases, bindings: [], warnings: [], scope: { names: new Map() }, row: [], serial: 0 };
}

export function lookup(ctx: LowerContext, name: string): NameBinding | undefined {
  for (let s: Scope | undefined = ctx.scope; s; s = s.parent) {
    const b = s.names.get(name);
    if (b) return b;
  }
  return undefined;
}

/** Runs `work` in a new scope whose parent is `parent` (default: the current scope). */
export function inScope<T>(ctx: LowerContext, work: () => T, parent: Scope = ctx.scope): T {
  const saved = ctx.scope;
  ctx.scope = { parent, names: new Map() };
  try {
    return work();
  } finally {
    ctx.scope = saved;
  }
}

export function atOf(node: SyntaxElement): { start: number; length: number } {
  return { start: node.TextStart, length: node.Width };
}

/** An error naming the feature that cannot be compiled, at `node`. */
export function unsupported(node: SyntaxElement, feature: string): KqlError {
  return new KqlError('kql/unsupported', `${feature} is not supported`, atOf(node));
}

export function warn(ctx: LowerContext, node: SyntaxElement, message: string): void {
  if (ctx.warnings.some((w) => w.message === message)) return;
  ctx.warnings.push({
    severity: 'warning',
    code: 'kql/unsupported',
    message,
    span: spanAt(ctx.text, node.TextStart, node.Width),
  });
}

const typeNames: Readonly<Record<string, KustoType>> = {
  bool: 'bool',
  boolean: 'bool',
  int: 'int',
  long: 'long',
  real: 'real',
  double: 'real',
  decimal: 'decimal',
  string: 'string',
  datetime: 'datetime',
  date: 'datetime',
  timespan: 'timespan',
  time: 'timespan',
  dynamic: 'dynamic',
  guid: 'guid',
  uniqueid: 'guid',
};

/** The Kusto type of a type name (`string`, `dynamic(array)` → `dynamic`), or undefined. */
export function kustoTypeOf(name: string): KustoType | undefined {
  return typeNames[name.toLowerCase().replace(/\(.*$/, '')];
}

/** The scalar type the binder gave a node. */
export function scalarTypeOf(node: SyntaxElement): KustoType {
  const name = node.ResultType?.Name ?? '';
  const type = kustoTypeOf(name);
  if (!type)
    throw new KqlError(
      'kql/unsupported',
      `a value of type '${name || 'unknown'}' is not supported`,
      atOf(node),
    );
  return type;
}

/** The columns of a tabular type, or undefined when the type is not a table. */
export function columnsOfType(type: KustoTypeSymbol | null | undefined): Column[] | undefined {
  if (!type?.Columns) return undefined;
  return listOf(type.Columns).map((c) => ({ name: c.Name, type: kustoTypeOf(c.Type.Name) ?? 'dynamic' }));
}

/** The output columns the binder gave a tabular node. */
export function columnsOf(node: SyntaxElement): Column[] {
  const columns = columnsOfType(node.ResultType);
  if (!columns) throw new KqlError('kql/internal', `no columns for ${kindOf(node)}`, atOf(node));
  return columns;
}

export function nextName(ctx: LowerContext, base: string): string {
  ctx.serial += 1;
  return `${base.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}_${ctx.serial}`;
}
