// Scalar expressions of the bound tree to IR scalars: literals, column and let references,
// operators by their Kusto spelling, function calls (user functions expanded), dynamic access.
import { KqlError } from './diagnostic.ts';
import type { KustoType, LiteralValue, PathStep, Scalar } from './ir.ts';
import { child, items, kindOf, nameOf, type SyntaxElement, symbolKindOf, textOf } from './kusto-bridge.ts';
import { datetimeMicros, longValue, realValue, timeOfDayMicros, timespanMicros } from './literals.ts';
import {
  aggregateNames,
  atOf,
  columnsOfType,
  kustoTypeOf,
  type LowerContext,
  lookup,
  scalarTypeOf,
  unsupported,
  warn,
} from './lower-context.ts';
import { bindFunctionCall, lowerTabular } from './lower-query.ts';

/** Binary and list operators whose node holds an `Operator` token, by token text. */
const operatorAliases: Readonly<Record<string, string>> = { '<>': '!=' };

export function lowerScalar(ctx: LowerContext, node: SyntaxElement): Scalar {
  const kind = kindOf(node);
  if (kind.endsWith('LiteralExpression') && kind !== 'TypeOfLiteralExpression')
    return lowerLiteral(node, kind);
  switch (kind) {
    case 'TypeOfLiteralExpression': {
      const type = kustoTypeOf(textOf(node).replace(/^typeof\s*\(\s*|\s*\)$/g, ''));
      return { kind: 'literal', value: type ?? 'dynamic', type: 'string' };
    }
    case 'DynamicExpression': {
      const json = jsonOf(child(node, 'Expression'));
      return { kind: 'literal', value: json === null ? null : JSON.stringify(json), type: 'dynamic' };
    }
    case 'ParenthesizedExpression':
      return lowerScalar(ctx, required(child(node, 'Expression'), node));
    case 'NameReference':
    case 'BracketedName':
      return lowerName(ctx, node);
    case 'PathExpression':
    case 'ElementExpression':
      return lowerPath(ctx, node);
    case 'UnaryMinusExpression':
      return call(
        node,
        'neg',
        [lowerScalar(ctx, required(child(node, 'Expression'), node))],
        scalarTypeOf(node),
      );
    // A named argument (`bin(Bin=Timestamp, 5m)`): the binder names the column; the value is the expression.
    case 'SimpleNamedExpression':
      return lowerScalar(ctx, required(child(node, 'Expression'), node));
    case 'UnaryPlusExpression':
      return lowerScalar(ctx, required(child(node, 'Expression'), node));
    case 'BetweenExpression':
    case 'NotBetweenExpression': {
      const couple = required(child(node, 'Right'), node);
      return call(
        node,
        kind === 'BetweenExpression' ? 'between' : '!between',
        [
          lowerScalar(ctx, required(child(node, 'Left'), node)),
          lowerScalar(ctx, required(child(couple, 'First'), node)),
          lowerScalar(ctx, required(child(couple, 'Second'), node)),
        ],
        'bool',
      );
    }
    case 'FunctionCallExpression':
      return lowerCall(ctx, node);
    case 'ToScalarExpression': {
      const inner = required(child(node, 'Expression'), node);
      // toscalar() of a scalar is that scalar.
      if (!columnsOfType(inner.ResultType)) return lowerScalar(ctx, inner);
      const query = lowerTabular(ctx, inner);
      const first = query.columns[0];
      if (!first) throw unsupported(node, 'toscalar() of a query without columns');
      return { kind: 'subquery', query, type: first.type };
    }
    default:
      break;
  }
  const operator = child(node, 'Operator');
  if (operator?.IsToken && child(node, 'Left') && child(node, 'Right'))
    return lowerOperator(ctx, node, operator);
  throw unsupported(node, `the expression ${kind.replace(/Expression$/, '')}`);
}

function call(node: SyntaxElement, name: string, args: readonly Scalar[], type: KustoType): Scalar {
  return { kind: 'call', name, args, type, at: atOf(node) };
}

export function required(value: SyntaxElement | undefined, near: SyntaxElement): SyntaxElement {
  if (!value) throw new KqlError('kql/internal', `incomplete ${kindOf(near)}`, atOf(near));
  return value;
}

function lowerOperator(ctx: LowerContext, node: SyntaxElement, operator: SyntaxElement): Scalar {
  const text = (operator.Text ?? '').toLowerCase().replace(/\s+/g, ' ');
  const name = operatorAliases[text] ?? text;
  const left = lowerScalar(ctx, required(child(node, 'Left'), node));
  const right = required(child(node, 'Right'), node);
  if (kindOf(right) !== 'ExpressionList') {
    return call(node, name, [left, lowerScalar(ctx, right)], scalarTypeOf(node));
  }
  // `x in (…)`, `has_any (…)`: a list of values, one dynamic array, or one tabular expression.
  const elements = items(child(right, 'Expressions'));
  const only = elements[0];
  if (elements.length === 1 && only && columnsOfType(only.ResultType)) {
    const query = lowerTabular(ctx, only);
    return { kind: 'in-query', name, value: left, query, type: 'bool' };
  }
  return call(node, name, [left, ...elements.map((e) => lowerScalar(ctx, e))], 'bool');
}

function lowerName(ctx: LowerContext, node: SyntaxElement): Scalar {
  const symbol = node.ReferencedSymbol;
  const name = nameOf(node);
  const symbolKind = symbol ? symbolKindOf(symbol) : '';
  if (symbolKind === 'Column') return { kind: 'column', name, type: scalarTypeOf(node) };
  const bound = lookup(ctx, name);
  if (bound?.kind === 'scalar') return bound.value;
  if (bound?.kind === 'function' || symbolKind === 'Function') {
    const value = bindFunctionCall(ctx, node, name, []);
    if (value.kind === 'scalar') return value.value;
  }
  if (!symbol) throw new KqlError('kql/semantic', `the name '${name}' is not known here`, atOf(node));
  throw unsupported(node, `using '${name}' (a ${symbolKind.toLowerCase()}) as a value`);
}

function lowerPath(ctx: LowerContext, node: SyntaxElement): Scalar {
  const target = lowerScalar(ctx, required(child(node, 'Expression'), node));
  if (target.type !== 'dynamic') throw unsupported(node, `member access on a ${target.type} value`);
  const selector = required(child(node, 'Selector'), node);
  let step: PathStep;
  if (kindOf(node) === 'PathExpression') step = { kind: 'key', key: nameOf(selector) };
  else {
    const inner = required(child(selector, 'Expression'), selector);
    const value = lowerScalar(ctx, inner);
    if (value.kind === 'literal' && typeof value.value === 'string') step = { kind: 'key', key: value.value };
    else if (value.kind === 'literal' && (typeof value.value === 'bigint' || typeof value.value === 'number'))
      step = { kind: 'index', index: Number(value.value) };
    else if (value.kind === 'call' && value.name === 'neg' && value.args[0]?.kind === 'literal')
      step = { kind: 'index', index: -Number(value.args[0].value) };
    else step = { kind: 'expr', expr: value };
  }
  const steps = target.kind === 'path' ? [...target.steps, step] : [step];
  return { kind: 'path', target: target.kind === 'path' ? target.target : target, steps, type: 'dynamic' };
}

function lowerLiteral(node: SyntaxElement, kind: string): Scalar {
  const type = scalarTypeOf(node);
  const text = textOf(node);
  const fail = (): never => {
    throw new KqlError('kql/syntax', `cannot read the ${type} literal ${text}`, atOf(node));
  };
  let value: LiteralValue | undefined;
  switch (kind) {
    case 'StringLiteralExpression':
    case 'CompoundStringLiteralExpression':
      value = typeof node.LiteralValue === 'string' ? node.LiteralValue : fail();
      break;
    case 'LongLiteralExpression':
      value = longValue(text);
      break;
    case 'IntLiteralExpression': {
      const n = longValue(text);
      value = n === null || n === undefined ? n : Number(n);
      break;
    }
    case 'RealLiteralExpression':
    case 'DecimalLiteralExpression':
      value = realValue(text);
      break;
    case 'BooleanLiteralExpression':
      value = /true/i.test(text) ? true : /false/i.test(text) ? false : /null/i.test(text) ? null : fail();
      break;
    case 'DateTimeLiteralExpression': {
      value = datetimeMicros(text);
      // A time of day alone is that time today: startofday(now()) + the time.
      const time = value === undefined ? timeOfDayMicros(text) : undefined;
      if (time !== undefined) {
        const today = call(node, 'startofday', [call(node, 'now', [], 'datetime')], 'datetime');
        return call(node, '+', [today, { kind: 'literal', value: time, type: 'timespan' }], 'datetime');
      }
      break;
    }
    case 'TimespanLiteralExpression': {
      const ticks = (node.LiteralValue as { ticks?: unknown } | null)?.ticks;
      value =
        /^[0-9.]+[a-z]+$/i.test(text) && ticks !== undefined
          ? BigInt(String(ticks)) / 10n
          : timespanMicros(text);
      break;
    }
    case 'GuidLiteralExpression':
      value = text.replace(/^guid\s*\(\s*|\s*\)$/gi, '');
      value = value === 'null' ? null : value;
      break;
    case 'NullLiteralExpression':
      value = null;
      break;
    default:
      fail();
  }
  if (value === undefined) return fail();
  return { kind: 'literal', value, type };
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A dynamic literal's JSON value. */
function jsonOf(node: SyntaxElement | undefined): Json {
  if (!node) return null;
  const kind = kindOf(node);
  switch (kind) {
    case 'JsonObjectExpression': {
      const out: { [key: string]: Json } = {};
      for (const pair of items(child(node, 'Pairs'))) {
        const name = child(pair, 'Name');
        const key = name?.IsToken ? unquote(name.Text ?? '') : nameOf(name);
        out[key] = jsonOf(child(pair, 'Value'));
      }
      return out;
    }
    case 'JsonArrayExpression':
      return items(child(node, 'Values')).map(jsonOf);
    case 'DynamicExpression':
      return jsonOf(child(node, 'Expression'));
    case 'UnaryMinusExpression': {
      const v = jsonOf(child(node, 'Expression'));
      return typeof v === 'number' ? -v : null;
    }
    case 'NullLiteralExpression':
      return null;
    default: {
      if (!kind.endsWith('LiteralExpression')) throw unsupported(node, `${kind} inside dynamic()`);
      const value = lowerLiteral(node, kind);
      if (value.kind !== 'literal') return null;
      const v = value.value;
      if (typeof v === 'bigint') {
        if (value.type === 'datetime') return new Date(Number(v / 1000n)).toISOString();
        if (value.type === 'timespan') return String(v);
        return Number(v);
      }
      return v;
    }
  }
}

/** The value of a string token used as a dynamic literal's key: `"…"`, `'…'` or `@"…"`. */
function unquote(text: string): string {
  const t = text.trim();
  if (t.startsWith('@')) return t.slice(2, -1);
  try {
    return t.startsWith("'")
      ? (JSON.parse(`"${t.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string)
      : (JSON.parse(t) as string);
  } catch {
    return t.slice(1, -1);
  }
}

const conditionals = new Set(['iff', 'iif']);

function lowerCall(ctx: LowerContext, node: SyntaxElement): Scalar {
  const nameNode = required(child(node, 'Name'), node);
  const name = nameOf(nameNode);
  const argNodes = items(child(required(child(node, 'ArgumentList'), node), 'Expressions'));
  const bound = lookup(ctx, name);
  const symbol = node.ReferencedSymbol;
  if (bound?.kind === 'function' || (symbol && node.GetExpansion?.())) {
    const value = bindFunctionCall(ctx, node, name, argNodes);
    if (value.kind !== 'scalar') throw unsupported(node, `calling the tabular function '${name}' as a value`);
    return value.value;
  }
  const fn = name.toLowerCase();
  const type = scalarTypeOf(node);
  if (ctx.aggregates && aggregateNames.has(fn)) {
    const hidden = `__agg${ctx.aggregates.length}_${ctx.serial++}`;
    const args = argNodes.filter((a) => kindOf(a) !== 'StarExpression').map((a) => lowerScalar(ctx, a));
    ctx.aggregates.push({ name: hidden, fn, args, type, at: atOf(node) });
    return { kind: 'column', name: hidden, type };
  }
  if (fn === 'geo_info_from_ip_address') {
    warn(
      ctx,
      node,
      'geo_info_from_ip_address() needs a geolocation database, which Palisade has not: it returns an empty bag',
    );
    return { kind: 'literal', value: '{}', type: 'dynamic' };
  }
  if ((fn === 'row_number' || fn === 'row_cumsum') && argNodes.length === 2) {
    // The restart flag becomes a group: the running count of restarts, over which the numbering
    // (or the sum) runs afresh.
    const [first, restart] = argNodes.map((a) => lowerScalar(ctx, a)) as [Scalar, Scalar];
    const flag: Scalar = {
      kind: 'case',
      branches: [{ when: restart, value: { kind: 'literal', value: 1n, type: 'long' } }],
      otherwise: { kind: 'literal', value: 0n, type: 'long' },
      type: 'long',
    };
    return call(node, fn, [first, call(node, 'row_cumsum', [flag], 'long')], type);
  }
  if (fn === 'range') {
    const args = argNodes.map((a) => lowerScalar(ctx, a));
    return call(node, 'range', args, type);
  }
  if (conditionals.has(fn) || fn === 'case') {
    const args = argNodes.map((a) => lowerScalar(ctx, a));
    const branches: { when: Scalar; value: Scalar }[] = [];
    for (let i = 0; i + 1 < args.length; i += 2)
      branches.push({ when: args[i] as Scalar, value: args[i + 1] as Scalar });
    const otherwise =
      args.length % 2 === 1
        ? (args[args.length - 1] as Scalar)
        : { kind: 'literal' as const, value: null, type };
    return { kind: 'case', branches, otherwise, type };
  }
  if (fn === 'column_ifexists') {
    const [columnName, fallback] = argNodes.map((a) => lowerScalar(ctx, a));
    const wanted = columnName?.kind === 'literal' ? String(columnName.value) : '';
    const column = ctx.row.find((c) => c.name === wanted);
    if (column) return { kind: 'column', name: column.name, type: column.type };
    if (!fallback) throw unsupported(node, 'column_ifexists() without a default');
    return fallback;
  }
  if (fn === 'pack_all') {
    const args: Scalar[] = [];
    for (const c of ctx.row)
      args.push(
        { kind: 'literal', value: c.name, type: 'string' },
        { kind: 'column', name: c.name, type: c.type },
      );
    return call(node, 'pack', args, 'dynamic');
  }
  if (fn === 'toscalar' || fn === 'materialize') throw unsupported(node, `${fn}() here`);
  const args = argNodes.map((a) => lowerScalar(ctx, a));
  return call(node, fn, args, type);
}

/** A placeholder for the type a function declared as a parameter default, when none is given. */
export function nullOf(type: KustoType): Scalar {
  return { kind: 'literal', value: null, type };
}
