// Statements and tabular expressions of the bound tree to the IR: lets, table references, user
// and Defender functions (expanded with their arguments), and every supported query operator, each
// step taking its output columns from the binder.
import { type TableName, tableNames } from '@palisade/schema';
import { KqlError } from './diagnostic.ts';
import type {
  Column,
  ExpandItem,
  JoinKind,
  JoinOutput,
  KustoType,
  NamedScalar,
  Query,
  QueryPlan,
  Render,
  Scalar,
  SortKey,
  SummaryValue,
} from './ir.ts';
import { joinKinds } from './ir.ts';
import { child, items, kindOf, nameOf, type SyntaxElement, symbolKindOf, textOf } from './kusto-bridge.ts';
import { columnsWithAliases } from './kusto-globals.ts';
import {
  aggregateNames,
  atOf,
  columnsOf,
  columnsOfType,
  inScope,
  type LowerContext,
  lookup,
  type NameBinding,
  nextName,
  type Scope,
  unsupported,
  warn,
} from './lower-context.ts';
import { lowerMvApply, lowerTopNested } from './lower-rows.ts';
import { lowerScalar, nullOf, required } from './lower-scalar.ts';
import { lowerFind, lowerSearch } from './lower-search.ts';
import { mdeFunctions } from './mde-functions.ts';

/** Lowers a whole query block: its let statements, then its one result expression. */
export function lowerPlan(ctx: LowerContext, root: SyntaxElement): QueryPlan {
  let body: Query | undefined;
  let render: Render | undefined;
  for (const statement of items(child(root, 'Statements'))) {
    const kind = kindOf(statement);
    if (kind === 'LetStatement') lowerLet(ctx, statement);
    else if (kind === 'ExpressionStatement') {
      if (body) throw unsupported(statement, 'a query with more than one result');
      const expression = required(child(statement, 'Expression'), statement);
      const split = splitRender(ctx, expression);
      render = split.render;
      body = split.query;
    } else if (kind === 'SetOptionStatement') warn(ctx, statement, `${textOf(statement)} is ignored`);
    else throw unsupported(statement, `the ${kind.replace(/Statement$/, '')} statement`);
  }
  if (!body)
    throw new KqlError('kql/semantic', 'the query has no result expression', { start: 0, length: 0 });
  return render ? { bindings: ctx.bindings, body, render } : { bindings: ctx.bindings, body };
}

/** The query and its final `render`, which is passed to the caller rather than run. */
function splitRender(ctx: LowerContext, expression: SyntaxElement): { query: Query; render?: Render } {
  const op = kindOf(expression) === 'PipeExpression' ? child(expression, 'Operator') : undefined;
  if (!op || kindOf(op) !== 'RenderOperator') return { query: lowerTabular(ctx, expression) };
  const query = lowerTabular(ctx, required(child(expression, 'Expression'), expression));
  const properties: Record<string, string> = {};
  const withClause = child(op, 'WithClause');
  for (const p of items(child(withClause ?? op, 'Properties'))) {
    properties[nameOf(child(p, 'Name'))] = textOf(required(child(p, 'Expression'), p)).replace(
      /^(['"])(.*)\1$/s,
      '$2',
    );
  }
  const chart = child(op, 'ChartType');
  return { query, render: { visualization: chart ? textOf(chart) : 'table', properties } };
}

function lowerLet(ctx: LowerContext, statement: SyntaxElement): void {
  const name = nameOf(child(statement, 'Name'));
  const expression = required(child(statement, 'Expression'), statement);
  let binding: NameBinding;
  if (kindOf(expression) === 'FunctionDeclaration') {
    binding = { kind: 'function', declaration: expression, scope: ctx.scope };
  } else if (columnsOfType(expression.ResultType)) {
    binding = { kind: 'table', query: bindTable(ctx, name, lowerTabular(ctx, expression), false) };
  } else {
    binding = { kind: 'scalar', value: lowerScalar(ctx, expression) };
  }
  ctx.scope.names.set(name, binding);
}

/** Writes `query` once as a named binding (a CTE) and returns a reference to it. */
function bindTable(ctx: LowerContext, name: string, query: Query, materialized: boolean): Query {
  if (query.kind === 'ref' || query.kind === 'table') return query;
  const bound = nextName(ctx, `let_${name}`);
  ctx.bindings.push({ name: bound, query, materialized });
  return { kind: 'ref', name: bound, columns: query.columns };
}

/** A table expression: a table, a let name, a function call, a pipe, datatable, externaldata, … */
export function lowerTabular(ctx: LowerContext, node: SyntaxElement): Query {
  const kind = kindOf(node);
  switch (kind) {
    case 'PipeExpression': {
      const input = lowerTabular(ctx, required(child(node, 'Expression'), node));
      return lowerOperator(ctx, input, required(child(node, 'Operator'), node), node);
    }
    case 'ParenthesizedExpression':
      return lowerTabular(ctx, required(child(node, 'Expression'), node));
    case 'NameReference':
    case 'BracketedName':
      return lowerTableName(ctx, node);
    case 'FunctionCallExpression': {
      const name = nameOf(child(node, 'Name'));
      const argNodes = items(child(required(child(node, 'ArgumentList'), node), 'Expressions'));
      const value = bindFunctionCall(ctx, node, name, argNodes);
      if (value.kind !== 'table') throw unsupported(node, `using the scalar function '${name}' as a table`);
      return value.query;
    }
    case 'MaterializeExpression':
      return bindTable(
        ctx,
        'materialize',
        lowerTabular(ctx, required(child(node, 'Expression'), node)),
        true,
      );
    case 'DataTableExpression':
      return lowerDataTable(ctx, node);
    case 'ExternalDataExpression':
      return lowerExternalData(ctx, node);
    case 'UnionOperator':
      return lowerUnion(ctx, undefined, node, node);
    case 'PrintOperator':
      return lowerPrint(ctx, node);
    case 'SearchOperator':
      return lowerSearch(ctx, undefined, node, node);
    case 'FindOperator':
      return lowerFind(ctx, node);
    default:
      throw unsupported(node, `the table expression ${kind.replace(/(Expression|Operator)$/, '')}`);
  }
}

export function tableQuery(ctx: LowerContext, table: TableName): Query {
  const all = columnsWithAliases(table, ctx.aliases);
  const columns: Column[] = all.map((c) => ({ name: c.name, type: c.type }));
  return { kind: 'table', table, sources: all.map((c) => c.source), columns };
}

export function isTableName(name: string): name is TableName {
  return (tableNames as readonly string[]).includes(name);
}

function lowerTableName(ctx: LowerContext, node: SyntaxElement): Query {
  const name = nameOf(node);
  const bound = lookup(ctx, name);
  if (bound?.kind === 'table') return bound.query;
  const symbol = node.ReferencedSymbol;
  const symbolKind = symbol ? symbolKindOf(symbol) : '';
  if (symbolKind === 'Table' && isTableName(name) && !bound) return tableQuery(ctx, name);
  if (bound?.kind === 'function' || symbolKind === 'Function') {
    const value = bindFunctionCall(ctx, node, name, []);
    if (value.kind === 'table') return value.query;
  }
  throw new KqlError('kql/semantic', `'${name}' is not a table here`, atOf(node));
}

/**
 * Calls a user-defined (let) or Defender function: binds its parameters to the arguments (the
 * first to `input` for `invoke`) and lowers its body (the binder's expansion when it made one).
 */
export function bindFunctionCall(
  ctx: LowerContext,
  node: SyntaxElement,
  name: string,
  argNodes: readonly SyntaxElement[],
  input?: Query,
): { kind: 'scalar'; value: Scalar } | { kind: 'table'; query: Query } {
  const bound = lookup(ctx, name);
  const mde = mdeFunctions.find((f) => f.name === name);
  let parameters: { name: string; fallback?: SyntaxElement }[];
  let body: SyntaxElement | undefined;
  let scope: Scope;
  if (bound?.kind === 'function') {
    parameters = items(child(required(child(bound.declaration, 'Parameters'), node), 'Parameters')).map(
      (p) => {
        const fallback = child(child(p, 'DefaultValue') ?? p, 'Value');
        const parameter = { name: nameOf(child(child(p, 'NameAndType') ?? p, 'Name')) };
        return fallback ? { ...parameter, fallback } : parameter;
      },
    );
    body = node.GetExpansion?.() ?? child(bound.declaration, 'Body');
    scope = bound.scope;
  } else if (mde) {
    parameters = [...mde.parameters.matchAll(/(\w+)\s*:/g)].map((m) => ({ name: m[1] ?? '' }));
    body = node.GetExpansion?.() ?? undefined;
    scope = ctx.scope;
    if (mde.warning) warn(ctx, node, mde.warning);
  } else {
    throw unsupported(node, `the function '${name}'`);
  }
  if (!body) throw unsupported(node, `calling '${name}' here`);
  const values: NameBinding[] = [];
  const all = input ? [undefined, ...argNodes] : [...argNodes];
  parameters.forEach((p, i) => {
    if (i === 0 && input) {
      values.push({ kind: 'table', query: input });
      return;
    }
    const arg = all[i];
    if (mde?.columnNameParameters?.includes(i - (input ? 1 : 0))) {
      values.push({
        kind: 'scalar',
        value: { kind: 'literal', value: arg ? textOf(arg) : null, type: 'string' },
      });
      return;
    }
    const source = arg ?? p.fallback;
    if (!source) values.push({ kind: 'scalar', value: nullOf('string') });
    else if (columnsOfType(source.ResultType))
      values.push({ kind: 'table', query: lowerTabular(ctx, source) });
    else values.push({ kind: 'scalar', value: lowerScalar(ctx, source) });
  });
  return inScope(
    ctx,
    () => {
      parameters.forEach((p, i) => {
        ctx.scope.names.set(p.name, values[i] as NameBinding);
      });
      for (const statement of items(child(body, 'Statements'))) {
        if (kindOf(statement) === 'LetStatement') lowerLet(ctx, statement);
      }
      const expression = required(child(body, 'Expression'), body);
      if (columnsOfType(expression.ResultType))
        return { kind: 'table', query: lowerTabular(ctx, expression) };
      return { kind: 'scalar', value: lowerScalar(ctx, expression) };
    },
    scope,
  );
}

/** Runs `work` with the input's columns as the row being read (for `*` and `pack_all()`). */
export function withRow<T>(ctx: LowerContext, row: readonly Column[], work: () => T): T {
  const saved = ctx.row;
  ctx.row = row;
  try {
    return work();
  } finally {
    ctx.row = saved;
  }
}

export function lowerOperator(ctx: LowerContext, input: Query, op: SyntaxElement, out: SyntaxElement): Query {
  return withRow(ctx, input.columns, () => lowerOperatorOn(ctx, input, op, out));
}

export const plain = (c: Column): Scalar => ({ kind: 'column', name: c.name, type: c.type });

export function select(
  input: Query,
  columns: readonly Column[],
  items: readonly NamedScalar[],
  distinct = false,
): Query {
  return { kind: 'select', input, items, distinct, columns };
}

/** Every output column read by name from the input (project-away, -keep, -reorder). */
function pick(input: Query, columns: readonly Column[], op: SyntaxElement): Query {
  const known = new Set(input.columns.map((c) => c.name));
  for (const c of columns)
    if (!known.has(c.name)) throw unsupported(op, `the column '${c.name}' made by ${kindOf(op)}`);
  return select(
    input,
    columns,
    columns.map((c) => ({ name: c.name, expr: plain(c) })),
  );
}

function lowerOperatorOn(ctx: LowerContext, input: Query, op: SyntaxElement, out: SyntaxElement): Query {
  const kind = kindOf(op);
  switch (kind) {
    case 'FilterOperator':
      return {
        kind: 'filter',
        input,
        predicate: lowerScalar(ctx, required(child(op, 'Condition'), op)),
        columns: input.columns,
      };
    case 'ExtendOperator':
      return lowerExtend(ctx, input, op, columnsOf(out));
    case 'ProjectOperator':
      return lowerProject(ctx, input, op, columnsOf(out));
    case 'ProjectAwayOperator':
    case 'ProjectKeepOperator':
    case 'ProjectReorderOperator':
      return pick(input, columnsOf(out), op);
    case 'ProjectRenameOperator': {
      const renamed = new Map<string, string>();
      for (const e of items(child(op, 'Expressions'))) {
        renamed.set(nameOf(child(e, 'Name')), nameOf(child(e, 'Expression')));
      }
      const types = new Map(input.columns.map((c) => [c.name, c.type]));
      return select(
        input,
        columnsOf(out),
        columnsOf(out).map((c) => {
          const source = renamed.get(c.name) ?? c.name;
          return { name: c.name, expr: { kind: 'column', name: source, type: types.get(source) ?? c.type } };
        }),
      );
    }
    case 'SummarizeOperator':
      return lowerSummarize(ctx, input, op, columnsOf(out));
    case 'CountOperator':
      return {
        kind: 'summarize',
        input,
        keys: [],
        values: [
          {
            kind: 'aggregate',
            name: columnsOf(out)[0]?.name ?? 'Count',
            type: 'long',
            fn: 'count',
            args: [],
            at: atOf(op),
          },
        ],
        columns: columnsOf(out),
      };
    case 'SortOperator':
      return {
        kind: 'sort',
        input,
        keys: items(child(op, 'Expressions')).map((e) => sortKey(ctx, e)),
        columns: input.columns,
      };
    case 'TopOperator': {
      const by = required(child(op, 'ByExpression'), op);
      const sorted: Query = { kind: 'sort', input, keys: [sortKey(ctx, by)], columns: input.columns };
      return {
        kind: 'limit',
        input: sorted,
        count: lowerScalar(ctx, required(child(op, 'Expression'), op)),
        columns: input.columns,
      };
    }
    case 'TakeOperator':
      return {
        kind: 'limit',
        input,
        count: lowerScalar(ctx, required(child(op, 'Expression'), op)),
        columns: input.columns,
      };
    case 'DistinctOperator':
      return lowerDistinct(ctx, input, op, columnsOf(out));
    case 'JoinOperator':
    case 'LookupOperator':
      return lowerJoin(ctx, input, op, columnsOf(out));
    case 'UnionOperator':
      return lowerUnion(ctx, input, op, out);
    case 'MvExpandOperator':
      return lowerMvExpand(ctx, input, op, columnsOf(out));
    case 'MvApplyOperator':
      return lowerMvApply(ctx, input, op, columnsOf(out));
    case 'SearchOperator':
      return lowerSearch(ctx, input, op, out);
    case 'TopNestedOperator':
      return lowerTopNested(ctx, input, op, columnsOf(out));
    case 'ParseOperator':
      return lowerParse(ctx, input, op, columnsOf(out));
    case 'InvokeOperator': {
      const call = required(child(op, 'Function'), op);
      const argNodes = items(child(required(child(call, 'ArgumentList'), call), 'Expressions'));
      const value = bindFunctionCall(ctx, call, nameOf(child(call, 'Name')), argNodes, input);
      if (value.kind !== 'table') throw unsupported(op, 'invoking a scalar function');
      return value.query;
    }
    case 'SerializeOperator': {
      // `serialize [Name = Expr, …]`: the rows keep their order, then the columns are extended.
      const serialized: Query = { kind: 'sort', input, keys: [], columns: input.columns };
      if (items(child(op, 'Expressions')).length === 0) return serialized;
      return lowerExtend(ctx, serialized, op, columnsOf(out));
    }
    case 'AsOperator':
      return input;
    case 'RenderOperator':
      warn(ctx, op, 'render is only used as the last operator; this one is ignored');
      return input;
    case 'MakeSeriesOperator':
      throw unsupported(op, 'make-series');
    case 'EvaluateOperator': {
      const call = child(op, 'FunctionCall') ?? op;
      const plugin = nameOf(child(call, 'Name'));
      if (plugin === 'ipv4_lookup') return lowerIpv4Lookup(ctx, input, call, columnsOf(out));
      throw unsupported(op, `evaluate ${plugin}() (its columns depend on the data)`);
    }
    case 'PartitionOperator':
      return lowerPartition(ctx, input, op);
    default:
      throw unsupported(op, `the ${keywordOf(op) ?? kind} operator`);
  }
}

/** The operator's keyword (`mv-apply`, `evaluate`, …) as written. */
function keywordOf(op: SyntaxElement): string | undefined {
  const first = op.GetChild(0);
  return first?.IsToken ? first.Text : undefined;
}

function sortKey(ctx: LowerContext, node: SyntaxElement): SortKey {
  const ordered = kindOf(node) === 'OrderedExpression';
  const expr = lowerScalar(ctx, ordered ? required(child(node, 'Expression'), node) : node);
  const ordering = ordered ? child(node, 'Ordering') : undefined;
  const direction = ordering ? textOf(child(ordering, 'AscOrDescKeyword') ?? ordering).toLowerCase() : '';
  const descending = !direction.startsWith('asc');
  const nulls = ordering ? child(ordering, 'NullsClause') : undefined;
  const nullsText = nulls ? textOf(nulls).toLowerCase() : '';
  // Kusto: nulls last when descending, first when ascending, unless said otherwise.
  const nullsFirst = nullsText ? nullsText.includes('first') : !descending;
  return { expr, descending, nullsFirst };
}

/** The named and unnamed expressions of extend/project, in order. */
function namedItems(
  ctx: LowerContext,
  op: SyntaxElement,
): { name?: string; expr: Scalar; node: SyntaxElement }[] {
  const earlier = new Map<string, Scalar>();
  return items(child(op, 'Expressions')).map((e) => {
    const kind = kindOf(e);
    if (kind === 'CompoundNamedExpression') throw unsupported(e, 'assigning several columns at once');
    const named = kind === 'SimpleNamedExpression';
    const expr = substitute(lowerScalar(ctx, named ? required(child(e, 'Expression'), e) : e), earlier);
    const name = named ? nameOf(child(e, 'Name')) : undefined;
    if (name) earlier.set(name, expr);
    return name ? { name, expr, node: e } : { expr, node: e };
  });
}

/** Replaces references to columns made earlier in the same operator by their expressions. */
export function substitute(expr: Scalar, earlier: ReadonlyMap<string, Scalar>): Scalar {
  if (earlier.size === 0) return expr;
  switch (expr.kind) {
    case 'column':
      return earlier.get(expr.name) ?? expr;
    case 'literal':
    case 'subquery':
      return expr;
    case 'call':
      return { ...expr, args: expr.args.map((a) => substitute(a, earlier)) };
    case 'path':
      return {
        ...expr,
        target: substitute(expr.target, earlier),
        steps: expr.steps.map((s) =>
          s.kind === 'expr' ? { kind: 'expr', expr: substitute(s.expr, earlier) } : s,
        ),
      };
    case 'case':
      return {
        ...expr,
        branches: expr.branches.map((b) => ({
          when: substitute(b.when, earlier),
          value: substitute(b.value, earlier),
        })),
        otherwise: substitute(expr.otherwise, earlier),
      };
    case 'in-query':
      return { ...expr, value: substitute(expr.value, earlier) };
  }
}

function lowerExtend(ctx: LowerContext, input: Query, op: SyntaxElement, columns: readonly Column[]): Query {
  const known = new Set(input.columns.map((c) => c.name));
  const added = columns.filter((c) => !known.has(c.name)).map((c) => c.name);
  const made = new Map<string, Scalar>();
  for (const item of namedItems(ctx, op)) {
    let name = item.name;
    if (!name && item.expr.kind === 'column' && known.has(item.expr.name)) name = item.expr.name;
    if (!name || !known.has(name)) {
      const next = added.shift();
      if (!next || (name && name !== next))
        throw new KqlError('kql/internal', 'extend: columns out of step with the binder', atOf(item.node));
      name = next;
    }
    made.set(name, item.expr);
  }
  return select(
    input,
    columns,
    columns.map((c) => ({ name: c.name, expr: made.get(c.name) ?? plain(c) })),
  );
}

function lowerProject(ctx: LowerContext, input: Query, op: SyntaxElement, columns: readonly Column[]): Query {
  const list = namedItems(ctx, op);
  if (list.length !== columns.length) throw unsupported(op, 'project with wildcards');
  return select(
    input,
    columns,
    list.map((item, i) => ({ name: (columns[i] as Column).name, expr: item.expr })),
  );
}

function lowerDistinct(
  ctx: LowerContext,
  input: Query,
  op: SyntaxElement,
  columns: readonly Column[],
): Query {
  const list = items(child(op, 'Expressions'));
  if (list.length === 1 && kindOf(list[0] as SyntaxElement) === 'StarExpression') {
    return select(
      input,
      columns,
      columns.map((c) => ({ name: c.name, expr: plain(c) })),
      true,
    );
  }
  if (list.length !== columns.length) throw unsupported(op, 'distinct with wildcards');
  return select(
    input,
    columns,
    list.map((e, i) => {
      const named = kindOf(e) === 'SimpleNamedExpression';
      return {
        name: (columns[i] as Column).name,
        expr: lowerScalar(ctx, named ? required(child(e, 'Expression'), e) : e),
      };
    }),
    true,
  );
}

const argExtremes: Readonly<Record<string, 'arg_max' | 'arg_min'>> = {
  arg_max: 'arg_max',
  arg_min: 'arg_min',
  argmax: 'arg_max',
  argmin: 'arg_min',
};

function lowerSummarize(
  ctx: LowerContext,
  input: Query,
  op: SyntaxElement,
  columns: readonly Column[],
): Query {
  const byClause = child(op, 'ByClause');
  const byNodes = items(child(byClause ?? op, 'Expressions'));
  const keys: NamedScalar[] = byNodes.map((e, i) => {
    const named = kindOf(e) === 'SimpleNamedExpression';
    const expr = lowerScalar(ctx, named ? required(child(e, 'Expression'), e) : e);
    return { name: (columns[i] as Column).name, expr };
  });
  const keyNames = new Set(keys.map((k) => k.name));
  let cursor = keys.length;
  const next = (near: SyntaxElement): Column => {
    const c = columns[cursor++];
    if (!c) throw new KqlError('kql/internal', 'summarize: columns out of step with the binder', atOf(near));
    return c;
  };
  const values: SummaryValue[] = [];
  const post = new Map<string, Scalar>();
  for (const node of items(child(op, 'Aggregates'))) {
    const named = kindOf(node) === 'SimpleNamedExpression' || kindOf(node) === 'CompoundNamedExpression';
    const callNode = named ? required(child(node, 'Expression'), node) : node;
    const fn =
      kindOf(callNode) === 'FunctionCallExpression' ? nameOf(child(callNode, 'Name')).toLowerCase() : '';
    if (!aggregateNames.has(fn) && !argExtremes[fn] && fn !== 'percentiles') {
      // An expression over aggregates: each aggregate becomes a hidden column, the expression a final select.
      ctx.aggregates = [];
      try {
        const expr = lowerScalar(ctx, callNode);
        for (const h of ctx.aggregates) values.push({ kind: 'aggregate', ...h });
        post.set(next(callNode).name, expr);
      } finally {
        delete ctx.aggregates;
      }
      continue;
    }
    const argNodes = items(child(required(child(callNode, 'ArgumentList'), callNode), 'Expressions'));
    const isStar = (n: SyntaxElement | undefined) => n !== undefined && kindOf(n) === 'StarExpression';
    const extreme = argExtremes[fn];
    if (extreme) {
      const [byNode, ...rest] = argNodes;
      if (!byNode) throw unsupported(callNode, `${fn}() without arguments`);
      const by = lowerScalar(ctx, byNode);
      const first = next(callNode);
      const outputs: (Column & { expr: Scalar })[] = [{ ...first, expr: by }];
      const restExprs: Scalar[] = [];
      for (const r of rest) {
        if (isStar(r)) {
          for (const c of input.columns) {
            if (keyNames.has(c.name) || (by.kind === 'column' && by.name === c.name)) continue;
            restExprs.push(plain(c));
          }
        } else
          restExprs.push(
            lowerScalar(ctx, kindOf(r) === 'SimpleNamedExpression' ? required(child(r, 'Expression'), r) : r),
          );
      }
      for (const expr of restExprs) outputs.push({ ...next(callNode), expr });
      values.push({ kind: 'arg', fn: extreme, by, outputs });
      continue;
    }
    if (fn === 'percentiles') {
      const [value, ...percents] = argNodes.map((a) => lowerScalar(ctx, a));
      if (!value) throw unsupported(callNode, 'percentiles() without arguments');
      for (const p of percents) {
        const c = next(callNode);
        values.push({
          kind: 'aggregate',
          name: c.name,
          type: c.type,
          fn: 'percentile',
          args: [value, p],
          at: atOf(callNode),
        });
      }
      continue;
    }
    if ((fn === 'take_any' || fn === 'any') && (argNodes.length > 1 || isStar(argNodes[0]))) {
      const exprs = isStar(argNodes[0]) ? input.columns.map(plain) : argNodes.map((a) => lowerScalar(ctx, a));
      for (const expr of exprs) {
        const c = next(callNode);
        values.push({
          kind: 'aggregate',
          name: c.name,
          type: c.type,
          fn: 'take_any',
          args: [expr],
          at: atOf(callNode),
        });
      }
      continue;
    }
    const args = argNodes.filter((a) => !isStar(a)).map((a) => lowerScalar(ctx, a));
    const c = next(callNode);
    values.push({ kind: 'aggregate', name: c.name, type: c.type, fn, args, at: atOf(callNode) });
  }
  if (cursor !== columns.length)
    throw new KqlError('kql/internal', 'summarize: columns out of step with the binder', atOf(op));
  if (post.size === 0) return { kind: 'summarize', input, keys, values, columns };
  const made: Column[] = [
    ...keys.map((k, i) => columns[i] ?? { name: k.name, type: k.expr.type }),
    ...values.flatMap((v): Column[] =>
      v.kind === 'aggregate'
        ? [{ name: v.name, type: v.type }]
        : v.outputs.map((o) => ({ name: o.name, type: o.type })),
    ),
  ];
  const summary: Query = { kind: 'summarize', input, keys, values, columns: made };
  return select(
    summary,
    columns,
    columns.map((c) => ({ name: c.name, expr: post.get(c.name) ?? plain(c) })),
  );
}

function parameterValues(op: SyntaxElement): Map<string, string> {
  const values = new Map<string, string>();
  for (const p of items(child(op, 'Parameters'))) {
    const value = child(p, 'Expression');
    values.set(
      nameOf(child(p, 'Name')).toLowerCase(),
      value ? textOf(value).replace(/^(['"])(.*)\1$/s, '$2') : '',
    );
  }
  return values;
}

function joinSide(node: SyntaxElement): 'left' | 'right' | undefined {
  if (kindOf(node) !== 'PathExpression') return undefined;
  const target = textOf(required(child(node, 'Expression'), node));
  return target === '$left' ? 'left' : target === '$right' ? 'right' : undefined;
}

function lowerJoin(ctx: LowerContext, left: Query, op: SyntaxElement, columns: readonly Column[]): Query {
  const lookupOp = kindOf(op) === 'LookupOperator';
  const params = parameterValues(op);
  const kindText = (params.get('kind') ?? (lookupOp ? 'leftouter' : 'innerunique')).toLowerCase();
  const aliases: Record<string, JoinKind> = {
    left: 'leftouter',
    anti: 'leftanti',
    leftantisemi: 'leftanti',
    semi: 'leftsemi',
    rightantisemi: 'rightanti',
    full: 'fullouter',
    right: 'rightouter',
  };
  const join = aliases[kindText] ?? joinKinds.find((k) => k === kindText);
  if (!join) throw unsupported(op, `join kind=${kindText}`);
  const right = withRow(ctx, [], () => lowerTabular(ctx, required(child(op, 'Expression'), op)));
  const clause = required(child(op, lookupOp ? 'LookupClause' : 'ConditionClause'), op);
  const conditions: SyntaxElement[] = [];
  const flatten = (e: SyntaxElement): void => {
    if (kindOf(e) === 'AndExpression') {
      flatten(required(child(e, 'Left'), e));
      flatten(required(child(e, 'Right'), e));
    } else conditions.push(e);
  };
  for (const e of kindOf(clause) === 'JoinOnClause'
    ? items(child(clause, 'Expressions'))
    : [required(child(clause, 'Expression'), clause)])
    flatten(e);
  const columnOf = (side: Query, name: string, near: SyntaxElement): Scalar => {
    const c = side.columns.find((x) => x.name === name);
    if (!c) throw new KqlError('kql/semantic', `no column '${name}' on that side of the join`, atOf(near));
    return plain(c);
  };
  const on: { left: Scalar; right: Scalar }[] = [];
  const rightKeys = new Set<string>();
  for (const cond of conditions) {
    if (kindOf(cond) === 'NameReference') {
      const name = nameOf(cond);
      on.push({ left: columnOf(left, name, cond), right: columnOf(right, name, cond) });
      rightKeys.add(name);
      continue;
    }
    const a = child(cond, 'Left');
    const b = child(cond, 'Right');
    if (kindOf(cond) !== 'EqualExpression' || !a || !b)
      throw unsupported(cond, 'a join condition other than equality');
    const sides = [a, b].map((x) => ({ side: joinSide(x), name: nameOf(child(x, 'Selector')) }));
    const l = sides.find((s) => s.side === 'left');
    const r = sides.find((s) => s.side === 'right');
    if (!l || !r) throw unsupported(cond, 'a join condition without $left and $right');
    on.push({ left: columnOf(left, l.name, cond), right: columnOf(right, r.name, cond) });
    rightKeys.add(r.name);
  }
  const sources: { side: 'left' | 'right'; column: Column }[] = [];
  if (join !== 'rightsemi' && join !== 'rightanti')
    for (const c of left.columns) sources.push({ side: 'left', column: c });
  if (join !== 'leftsemi' && join !== 'leftanti') {
    for (const c of right.columns)
      if (!(lookupOp && rightKeys.has(c.name))) sources.push({ side: 'right', column: c });
  }
  if (sources.length !== columns.length)
    throw new KqlError('kql/internal', 'join: columns out of step with the binder', atOf(op));
  const outputs: JoinOutput[] = columns.map((c, i) => {
    const s = sources[i] as { side: 'left' | 'right'; column: Column };
    return { name: c.name, type: c.type, side: s.side, source: s.column.name };
  });
  return {
    kind: 'join',
    join: lookupOp && join === 'leftouter' ? 'leftouter' : join,
    left,
    right,
    on,
    outputs,
    columns,
  };
}

/**
 * `evaluate ipv4_lookup(Table, address, rangeColumn [, return_unmatched])`: each row joined with the
 * lookup rows whose CIDR range holds its address; unmatched rows are kept only when asked.
 */
function lowerIpv4Lookup(
  ctx: LowerContext,
  left: Query,
  call: SyntaxElement,
  columns: readonly Column[],
): Query {
  const args = items(child(required(child(call, 'ArgumentList'), call), 'Expressions'));
  const [tableNode, addressNode, rangeNode, ...rest] = args;
  if (!tableNode || !addressNode || !rangeNode)
    throw unsupported(call, 'ipv4_lookup without its three arguments');
  const keepUnmatched = rest.some((a) => /^(return_unmatched\s*=\s*)?true$/i.test(textOf(a)));
  const right = withRow(ctx, [], () => lowerTabular(ctx, tableNode));
  const rangeName = nameOf(rangeNode);
  const range = right.columns.find((c) => c.name === rangeName);
  const address = lowerScalar(ctx, addressNode);
  if (!range || address.kind !== 'column') throw unsupported(call, 'ipv4_lookup over expressions');
  const sources = [
    ...left.columns.map((c) => ({ side: 'left' as const, column: c })),
    ...right.columns.map((c) => ({ side: 'right' as const, column: c })),
  ];
  if (sources.length !== columns.length)
    throw new KqlError('kql/internal', 'ipv4_lookup: columns out of step with the binder', atOf(call));
  const outputs: JoinOutput[] = columns.map((c, i) => {
    const s = sources[i] as { side: 'left' | 'right'; column: Column };
    return { name: c.name, type: c.type, side: s.side, source: s.column.name };
  });
  return {
    kind: 'join',
    join: keepUnmatched ? 'leftouter' : 'inner',
    left,
    right,
    on: [],
    inRange: { address, range: plain(range) },
    outputs,
    columns,
  };
}

/**
 * `partition by Key (top 1 by Expr)`: one row per key, the one with the largest (or smallest)
 * value, which is what arg_max/arg_min keep; other subqueries are refused.
 */
function lowerPartition(ctx: LowerContext, input: Query, op: SyntaxElement): Query {
  const byNode = child(op, 'ByExpression');
  const sub = child(child(op, 'Operand') ?? op, 'Subquery');
  const countNode = sub && kindOf(sub) === 'TopOperator' ? child(sub, 'Expression') : undefined;
  if (!byNode || !sub || !countNode || textOf(countNode) !== '1')
    throw unsupported(op, 'the partition operator other than partition by Key (top 1 by Expr)');
  const key = lowerScalar(ctx, byNode);
  const order = sortKey(ctx, required(child(sub, 'ByExpression'), sub));
  const keyName = key.kind === 'column' ? key.name : '__partition';
  const orderName = '__partition_by';
  const outputs = input.columns.filter((c) => c.name !== keyName);
  const summary: Query = {
    kind: 'summarize',
    input,
    keys: [{ name: keyName, expr: key }],
    values: [
      {
        kind: 'arg',
        fn: order.descending ? 'arg_max' : 'arg_min',
        by: order.expr,
        outputs: [
          { name: orderName, type: order.expr.type, expr: order.expr },
          ...outputs.map((c) => ({ ...c, expr: plain(c) })),
        ],
      },
    ],
    columns: [{ name: keyName, type: key.type }, { name: orderName, type: order.expr.type }, ...outputs],
  };
  return pick(summary, input.columns, op);
}

function lowerUnion(
  ctx: LowerContext,
  input: Query | undefined,
  op: SyntaxElement,
  out: SyntaxElement,
): Query {
  const params = parameterValues(op);
  const inputs: Query[] = input ? [input] : [];
  const labels: string[] = input ? ['union_arg0'] : [];
  const fuzzy = params.get('isfuzzy') === 'true';
  for (const e of items(child(op, 'Expressions'))) {
    const text = textOf(e);
    if (text.includes('*')) {
      const pattern = new RegExp(`^${text.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      for (const name of tableNames.filter((t) => pattern.test(t))) {
        inputs.push(tableQuery(ctx, name));
        labels.push(name);
      }
      continue;
    }
    if (fuzzy && !columnsOfType(e.ResultType)) continue;
    const query = withRow(ctx, [], () => lowerTabular(ctx, e));
    inputs.push(query);
    labels.push(
      query.kind === 'table'
        ? query.table
        : kindOf(e) === 'NameReference'
          ? nameOf(e)
          : `union_arg${labels.length}`,
    );
  }
  const columns = columnsOf(out);
  const withSource = params.get('withsource');
  if (withSource) return { kind: 'union', inputs, source: { name: withSource, labels }, columns };
  return { kind: 'union', inputs, columns };
}

export function lowerMvExpand(
  ctx: LowerContext,
  input: Query,
  op: SyntaxElement,
  columns: readonly Column[],
): Query {
  const params = parameterValues(op);
  if (params.has('with_itemindex')) throw unsupported(op, 'mv-expand with_itemindex');
  if (params.get('bagexpansion') === 'array') throw unsupported(op, 'mv-expand bagexpansion=array');
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const expanded: ExpandItem[] = items(child(op, 'Expressions')).map((e) => {
    const inner = kindOf(e) === 'MvExpandExpression' ? required(child(e, 'Expression'), e) : e;
    const named = kindOf(inner) === 'SimpleNamedExpression';
    const expr = lowerScalar(ctx, named ? required(child(inner, 'Expression'), inner) : inner);
    // Unnamed, `mv-expand todynamic(Col)` expands into the column it reads.
    const name = named ? nameOf(child(inner, 'Name')) : firstColumn(expr)?.name;
    if (!name || !types.has(name)) throw unsupported(inner, 'mv-expand of an unnamed expression');
    return { name, type: types.get(name) ?? 'dynamic', expr };
  });
  const limitClause = child(op, 'RowLimitClause');
  const limit = limitClause
    ? lowerScalar(ctx, required(child(limitClause, 'RowLimit'), limitClause))
    : undefined;
  return limit
    ? { kind: 'expand', input, items: expanded, limit, columns }
    : { kind: 'expand', input, items: expanded, columns };
}

/** The first column an expression reads, depth first. */
function firstColumn(expr: Scalar): Extract<Scalar, { kind: 'column' }> | undefined {
  switch (expr.kind) {
    case 'column':
      return expr;
    case 'call':
      for (const a of expr.args) {
        const found = firstColumn(a);
        if (found) return found;
      }
      return undefined;
    case 'path':
      return firstColumn(expr.target);
    default:
      return undefined;
  }
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Regex pieces for a typed column of `parse` (simple mode). */
const parseCaptures: Partial<Record<KustoType, string>> = {
  int: '(-?\\d+)',
  long: '(-?\\d+)',
  real: '(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)',
  decimal: '(-?\\d+(?:\\.\\d+)?)',
  bool: '(true|false|True|False|TRUE|FALSE|0|1)',
};

function lowerParse(ctx: LowerContext, input: Query, op: SyntaxElement, columns: readonly Column[]): Query {
  const params = parameterValues(op);
  const mode = (params.get('kind') ?? 'simple').toLowerCase();
  if (mode !== 'simple' && mode !== 'regex' && mode !== 'relaxed')
    throw unsupported(op, `parse kind=${mode}`);
  const source = lowerScalar(ctx, required(child(op, 'Expression'), op));
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const patterns = items(child(op, 'Patterns'));
  let regex = '';
  const made: { name: string; group: number; type: KustoType }[] = [];
  patterns.forEach((p, i) => {
    const kind = kindOf(p);
    const last = i === patterns.length - 1;
    if (kind === 'StarExpression') regex += last ? '.*' : '.*?';
    else if (kind.endsWith('LiteralExpression')) {
      const lit = lowerScalar(ctx, p);
      const text = lit.kind === 'literal' ? String(lit.value ?? '') : '';
      regex += mode === 'regex' ? text : escapeRegex(text);
    } else {
      const name = nameOf(child(p, 'Name') ?? p);
      const type = types.get(name) ?? 'string';
      regex += (mode !== 'regex' && parseCaptures[type]) || (last ? '(.*)' : '(.*?)');
      made.push({ name, group: made.length + 1, type });
    }
  });
  const pattern = mode === 'regex' ? regex : `^${regex}$`;
  const byName = new Map(
    made.map((m) => [
      m.name,
      {
        kind: 'call' as const,
        name: 'extract',
        args: [
          { kind: 'literal' as const, value: pattern, type: 'string' as const },
          { kind: 'literal' as const, value: BigInt(m.group), type: 'long' as const },
          source,
          { kind: 'literal' as const, value: m.type, type: 'string' as const },
        ],
        type: m.type,
        at: atOf(op),
      },
    ]),
  );
  return select(
    input,
    columns,
    columns.map((c) => ({ name: c.name, expr: byName.get(c.name) ?? plain(c) })),
  );
}

function lowerDataTable(ctx: LowerContext, node: SyntaxElement): Query {
  const columns = columnsOf(node);
  const values = items(child(node, 'Values')).map((v) => lowerScalar(ctx, v));
  if (columns.length === 0 || values.length % columns.length !== 0) {
    throw new KqlError('kql/semantic', 'datatable: the values do not fill whole rows', atOf(node));
  }
  const rows: Scalar[][] = [];
  for (let i = 0; i < values.length; i += columns.length) rows.push(values.slice(i, i + columns.length));
  return { kind: 'values', rows, columns };
}

function lowerExternalData(ctx: LowerContext, node: SyntaxElement): Query {
  const uris = items(child(node, 'URIs')).map((u) => {
    const value = lowerScalar(ctx, u);
    return value.kind === 'literal' ? String(value.value ?? '') : '';
  });
  const remote = uris.find((u) => /^[a-z][a-z0-9+.-]*:\/\//i.test(u) && !/^file:\/\//i.test(u));
  if (remote !== undefined) {
    throw new KqlError(
      'kql/offline',
      `externaldata cannot fetch ${remote.replace(/\?.*$/, '')}: Palisade runs offline; use a local file or a datatable`,
      atOf(node),
    );
  }
  if (uris.length !== 1) throw unsupported(node, 'externaldata with several files');
  const properties = new Map<string, string>();
  for (const p of items(child(child(node, 'WithClause') ?? node, 'Properties'))) {
    const value = child(p, 'Expression');
    properties.set(
      nameOf(child(p, 'Name')).toLowerCase(),
      value ? textOf(value).replace(/^(['"])(.*)\1$/s, '$2') : '',
    );
  }
  const format = (properties.get('format') ?? 'csv').toLowerCase();
  if (
    format !== 'csv' &&
    format !== 'tsv' &&
    format !== 'json' &&
    format !== 'multijson' &&
    format !== 'txt'
  ) {
    throw unsupported(node, `externaldata format=${format}`);
  }
  return {
    kind: 'file',
    path: (uris[0] as string).replace(/^file:\/\//i, ''),
    format: format === 'multijson' ? 'json' : format === 'txt' ? 'tsv' : format,
    skipFirst: (properties.get('ignorefirstrecord') ?? 'false').toLowerCase() === 'true',
    columns: columnsOf(node),
  };
}

function lowerPrint(ctx: LowerContext, node: SyntaxElement): Query {
  const columns = columnsOf(node);
  const list = items(child(node, 'Expressions'));
  if (list.length !== columns.length)
    throw unsupported(node, 'print with several columns from one expression');
  const row = list.map((e) =>
    lowerScalar(ctx, kindOf(e) === 'SimpleNamedExpression' ? required(child(e, 'Expression'), e) : e),
  );
  return { kind: 'values', rows: [row], columns };
}
