// `search` and `find`: a predicate over several tables (or the piped rows), written as one filtered
// leg per table and a union naming each row's table. A column a table lacks reads as null there;
// a bare term in `search` matches any string or dynamic column that has it.
import { tableNames } from '@palisade/schema';
import type { Column, Query, Scalar } from './ir.ts';
import { child, items, kindOf, nameOf, type SyntaxElement } from './kusto-bridge.ts';
import { atOf, columnsOf, type LowerContext } from './lower-context.ts';
import { lowerTabular, plain, select, substitute, tableQuery, withRow } from './lower-query.ts';
import { lowerScalar, nullOf, required } from './lower-scalar.ts';

/** The tables of an `in (…)` clause, or every table when there is none. */
function legsOf(ctx: LowerContext, op: SyntaxElement): { query: Query; label: string }[] {
  const clause = child(op, 'InClause');
  if (!clause) return tableNames.map((t) => ({ query: tableQuery(ctx, t), label: t }));
  return items(child(clause, 'Expressions')).map((e) => {
    const query = withRow(ctx, [], () => lowerTabular(ctx, e));
    return { query, label: query.kind === 'table' ? query.table : nameOf(e) };
  });
}

/** Reads the columns of `all` that `leg` lacks as nulls. */
function nullsFor(leg: readonly Column[], all: readonly Column[]): Map<string, Scalar> {
  const have = new Set(leg.map((c) => c.name));
  return new Map(all.filter((c) => !have.has(c.name)).map((c) => [c.name, nullOf(c.type)]));
}

const call = (node: SyntaxElement, name: string, args: Scalar[]): Scalar => ({
  kind: 'call',
  name,
  args,
  type: 'bool',
  at: atOf(node),
});

/** A term of `search`: whole-term `has`, or `contains` when it has wildcards. */
function termTest(node: SyntaxElement, column: Scalar, term: string): Scalar {
  const wild = term.includes('*');
  const value: Scalar = { kind: 'literal', value: term.replaceAll('*', ''), type: 'string' };
  return call(node, wild ? 'contains' : 'has', [column, value]);
}

/** search's predicate over the columns of the rows being read. */
function searchPredicate(ctx: LowerContext, node: SyntaxElement): Scalar {
  const kind = kindOf(node);
  if (kind === 'AndExpression' || kind === 'OrExpression') {
    const left = searchPredicate(ctx, required(child(node, 'Left'), node));
    const right = searchPredicate(ctx, required(child(node, 'Right'), node));
    return call(node, kind === 'AndExpression' ? 'and' : 'or', [left, right]);
  }
  if (kind === 'ParenthesizedExpression')
    return searchPredicate(ctx, required(child(node, 'Expression'), node));
  if (kind === 'StringLiteralExpression') {
    const term = String(node.LiteralValue ?? '');
    const tests = ctx.row
      .filter((c) => c.type === 'string' || c.type === 'dynamic')
      .map((c) => termTest(node, plain(c), term));
    if (tests.length === 0) return { kind: 'literal', value: false, type: 'bool' };
    return tests.reduce((a, b) => call(node, 'or', [a, b]));
  }
  if (kind === 'SearchExpression') {
    // Column:"term"
    const column = lowerScalar(ctx, required(child(node, 'Left'), node));
    const right = required(child(node, 'Right'), node);
    return termTest(node, column, String(right.LiteralValue ?? ''));
  }
  return lowerScalar(ctx, node);
}

/** `search [in (T, …)] predicate`, or `T | search predicate`. */
export function lowerSearch(
  ctx: LowerContext,
  input: Query | undefined,
  op: SyntaxElement,
  out: SyntaxElement,
): Query {
  const columns = columnsOf(out);
  const legs = input ? [{ query: input, label: input.kind === 'table' ? input.table : '' }] : legsOf(ctx, op);
  const condition = required(child(op, 'Condition'), op);
  const inputs = legs.map(({ query }) =>
    withRow(ctx, query.columns, (): Query => {
      const predicate = substitute(searchPredicate(ctx, condition), nullsFor(query.columns, columns));
      return { kind: 'filter', input: query, predicate, columns: query.columns };
    }),
  );
  const source = columns[0]?.name ?? '$table';
  return { kind: 'union', inputs, source: { name: source, labels: legs.map((l) => l.label) }, columns };
}

/** `find [in (T, …)] where predicate [project …]`: the matching rows, their table in `source_`, and the rest in `pack_`. */
export function lowerFind(ctx: LowerContext, op: SyntaxElement): Query {
  const columns = columnsOf(op);
  const [sourceColumn, ...outputs] = columns;
  const legs = legsOf(ctx, op);
  const condition = required(child(op, 'Condition'), op);
  const inputs = legs.map(({ query }) =>
    withRow(ctx, query.columns, (): Query => {
      const missing = nullsFor(query.columns, columns);
      const predicate = substitute(lowerScalar(ctx, condition), missing);
      const filtered: Query = { kind: 'filter', input: query, predicate, columns: query.columns };
      const named = new Set(outputs.map((c) => c.name));
      return select(
        filtered,
        outputs,
        outputs.map((c) => {
          if (c.name === 'pack_') {
            const rest = query.columns.filter((x) => !named.has(x.name));
            const args = rest.flatMap((x): Scalar[] => [
              { kind: 'literal', value: x.name, type: 'string' },
              plain(x),
            ]);
            return {
              name: c.name,
              expr: { kind: 'call', name: 'pack', args, type: 'dynamic', at: atOf(op) },
            };
          }
          return { name: c.name, expr: missing.get(c.name) ?? plain(c) };
        }),
      );
    }),
  );
  return {
    kind: 'union',
    inputs,
    source: { name: sourceColumn?.name ?? 'source_', labels: legs.map((l) => l.label) },
    columns,
  };
}
