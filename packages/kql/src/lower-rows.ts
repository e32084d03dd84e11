// Operators that work row by row over an expansion or a ranking: `mv-apply` whose subquery only
// filters and reshapes each expanded row, and `top-nested` with one level.
import type { Column, ExpandItem, Query, Scalar } from './ir.ts';
import { child, items, kindOf, nameOf, type SyntaxElement, textOf } from './kusto-bridge.ts';
import { aggregateNames, atOf, columnsOfType, type LowerContext, unsupported } from './lower-context.ts';
import { lowerOperator, plain, select } from './lower-query.ts';
import { lowerScalar, nullOf, required } from './lower-scalar.ts';

/**
 * `mv-apply x = expr [to typeof(t)] on (subquery)`. A subquery of filters and projections sees one
 * expanded row at a time, so it is the same as expanding every row and running those steps over
 * all of them, the row's other columns carried along; steps that look across rows (take, top,
 * summarize, sort) would need a group per row and are refused.
 */
export function lowerMvApply(
  ctx: LowerContext,
  input: Query,
  op: SyntaxElement,
  columns: readonly Column[],
): Query {
  if (items(child(op, 'Parameters')).length > 0) throw unsupported(op, 'mv-apply with parameters');
  if (child(op, 'RowLimitClause') || child(op, 'ItemIndex')) throw unsupported(op, 'mv-apply with a limit');
  const known = new Set(input.columns.map((c) => c.name));
  const subquery = required(child(required(child(op, 'Subquery'), op), 'Expression'), op);
  // The binder types the expanded names (`to typeof(…)`) in the rows the subquery's first step reads.
  let first = subquery;
  while (kindOf(first) === 'PipeExpression') first = required(child(first, 'Expression'), first);
  const seen = columnsOfType(first.ResultType) ?? [];
  const expanded: ExpandItem[] = items(child(op, 'Expressions')).map((e) => {
    const inner = required(child(e, 'Expression'), e);
    const named = kindOf(inner) === 'SimpleNamedExpression';
    const expr = lowerScalar(ctx, named ? required(child(inner, 'Expression'), inner) : inner);
    const name = named ? nameOf(child(inner, 'Name')) : expr.kind === 'column' ? expr.name : '';
    if (!name) throw unsupported(inner, 'mv-apply of an unnamed expression');
    return { name, type: seen.find((c) => c.name === name)?.type ?? 'dynamic', expr };
  });
  const rowColumns: Column[] = [
    ...input.columns.map((c) => expanded.find((x) => x.name === c.name) ?? c),
    ...expanded.filter((x) => !known.has(x.name)).map((x) => ({ name: x.name, type: x.type })),
  ];
  const base: Query = { kind: 'expand', input, items: expanded, columns: rowColumns };
  const applied = carry(lowerChain(ctx, base, subquery), base, rowColumns, op);
  const have = new Map(applied.columns.map((c) => [c.name, c]));
  return select(
    applied,
    columns,
    columns.map((c) => {
      const found = have.get(c.name);
      return { name: c.name, expr: found ? plain(found) : nullOf(c.type) };
    }),
  );
}

/** The child the syntax tree names `name`, found by position. */
function namedChild(node: SyntaxElement, name: string): SyntaxElement | undefined {
  for (let i = 0; i < node.ChildCount; i++)
    if (node.GetName(i) === name) return node.GetChild(i) ?? undefined;
  return undefined;
}

/** A subquery's operators, the first reading `input`. */
function lowerChain(ctx: LowerContext, input: Query, node: SyntaxElement): Query {
  if (kindOf(node) === 'PipeExpression') {
    const left = lowerChain(ctx, input, required(child(node, 'Expression'), node));
    return lowerOperator(ctx, left, required(child(node, 'Operator'), node), node);
  }
  return lowerOperator(ctx, input, node, node);
}

/** The steps of `query` down to `base`, each keeping the row's columns it would drop. */
function carry(query: Query, base: Query, row: readonly Column[], op: SyntaxElement): Query {
  if (query === base) return query;
  const kept = (columns: readonly Column[]): Column[] => {
    const have = new Set(columns.map((c) => c.name));
    return [...columns, ...row.filter((c) => !have.has(c.name))];
  };
  if (query.kind === 'filter') {
    const input = carry(query.input, base, row, op);
    return { ...query, input, columns: input.columns };
  }
  if (query.kind === 'select' && !query.distinct) {
    const input = carry(query.input, base, row, op);
    const columns = kept(query.columns);
    const named = new Set(query.items.map((i) => i.name));
    const items = [
      ...query.items,
      ...columns.filter((c) => !named.has(c.name)).map((c) => ({ name: c.name, expr: plain(c) })),
    ];
    return { ...query, input, items, columns };
  }
  throw unsupported(op, `mv-apply whose subquery has a ${query.kind} step`);
}

/** `top-nested N of key by aggregate [asc|desc]`, one level: the N keys with the largest (smallest) aggregate. */
export function lowerTopNested(
  ctx: LowerContext,
  input: Query,
  op: SyntaxElement,
  columns: readonly Column[],
): Query {
  const clauses = items(child(op, 'Clauses'));
  const [clause] = clauses;
  if (!clause || clauses.length > 1) throw unsupported(op, 'top-nested with several levels');
  if (namedChild(clause, 'WithOthers')) throw unsupported(op, 'top-nested with others');
  const [keyColumn, valueColumn] = columns;
  if (!keyColumn || !valueColumn || columns.length !== 2)
    throw unsupported(op, 'top-nested with these columns');
  const unname = (n: SyntaxElement): SyntaxElement =>
    kindOf(n) === 'SimpleNamedExpression' ? required(child(n, 'Expression'), n) : n;
  const key = lowerScalar(ctx, unname(required(child(clause, 'OfExpression'), clause)));
  let by = required(child(clause, 'ByExpression'), clause);
  let descending = true;
  if (kindOf(by) === 'OrderedExpression') {
    const ordering = child(by, 'Ordering');
    descending = !(ordering && /^asc/i.test(textOf(ordering)));
    by = required(child(by, 'Expression'), by);
  }
  const call = unname(by);
  const fn = kindOf(call) === 'FunctionCallExpression' ? nameOf(child(call, 'Name')).toLowerCase() : '';
  if (!aggregateNames.has(fn))
    throw unsupported(call, 'top-nested by an expression other than one aggregate');
  const args: Scalar[] = items(child(required(child(call, 'ArgumentList'), call), 'Expressions'))
    .filter((a) => kindOf(a) !== 'StarExpression')
    .map((a) => lowerScalar(ctx, a));
  const summary: Query = {
    kind: 'summarize',
    input,
    keys: [{ name: keyColumn.name, expr: key }],
    values: [{ kind: 'aggregate', name: valueColumn.name, type: valueColumn.type, fn, args, at: atOf(call) }],
    columns,
  };
  const sorted: Query = {
    kind: 'sort',
    input: summary,
    keys: [{ expr: plain(valueColumn), descending, nullsFirst: !descending }],
    columns,
  };
  return {
    kind: 'limit',
    input: sorted,
    count: lowerScalar(ctx, required(child(clause, 'Expression'), clause)),
    columns,
  };
}
