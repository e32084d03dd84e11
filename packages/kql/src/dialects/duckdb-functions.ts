// Kusto operators and scalar functions in DuckDB SQL, by Kusto name. Each renderer keeps KQL's
// semantics where SQL differs: whole-term `has`, case-insensitive `=~`/`contains`/`in~`, negations
// true on empty strings, strings never null, epoch-aligned `bin`, timespans as microseconds.
import type { KustoType } from '../ir.ts';
import type { RenderTools, ScalarRenderer, SqlArg } from './dialect.ts';

/** DuckDB SQL text of a constant written by the compiler itself (never user text). */
export const sqlText = (text: string): string => `'${text.replaceAll("'", "''")}'`;

export const duckDbTypes: Readonly<Record<KustoType, string>> = {
  bool: 'BOOLEAN',
  int: 'INTEGER',
  long: 'BIGINT',
  real: 'DOUBLE',
  decimal: 'DOUBLE',
  string: 'VARCHAR',
  datetime: 'TIMESTAMP',
  timespan: 'BIGINT',
  dynamic: 'JSON',
  guid: 'VARCHAR',
};

const numeric = new Set<KustoType>(['int', 'long', 'real', 'decimal']);
const textual = new Set<KustoType>(['string', 'guid']);

const DAY = 86_400_000_000;

/** KQL's timespan text, `[-][d.]hh:mm:ss[.fffffff]`, of microseconds. */
function timespanText(x: string): string {
  const a = `abs(${x})`;
  const two = (v: string) => `lpad(CAST(${v} AS VARCHAR), 2, '0')`;
  return `CASE WHEN ${x} IS NULL THEN NULL ELSE (CASE WHEN ${x} < 0 THEN '-' ELSE '' END) || (CASE WHEN ${a} >= ${DAY} THEN CAST(${a} // ${DAY} AS VARCHAR) || '.' ELSE '' END) || ${two(`(${a} // 3600000000) % 24`)} || ':' || ${two(`(${a} // 60000000) % 60`)} || ':' || ${two(`(${a} // 1000000) % 60`)} || (CASE WHEN ${a} % 1000000 <> 0 THEN '.' || lpad(CAST(${a} % 1000000 AS VARCHAR), 6, '0') || '0' ELSE '' END) END`;
}

/** Text to datetime: ISO with or without a zone; other forms DuckDB reads. */
function textToDatetime(x: string): string {
  return `CASE WHEN regexp_matches(${x}, '[+-][0-9]{2}:?[0-9]{2}$') THEN make_timestamp(epoch_us(TRY_CAST(${x} AS TIMESTAMPTZ))) ELSE TRY_CAST(${x} AS TIMESTAMP) END`;
}

function textToDynamic(x: string): string {
  return `CASE WHEN ${x} IS NULL THEN NULL WHEN json_valid(${x}) THEN CAST(${x} AS JSON) ELSE to_json(${x}) END`;
}

/** `sql` of Kusto type `from` as Kusto type `to`. */
export function convert(sql: string, from: KustoType, to: KustoType): string {
  if (from === to || (textual.has(from) && textual.has(to))) return sql;
  if (from === 'dynamic') {
    const text = `json_extract_string(${sql}, '$')`;
    if (textual.has(to)) return text;
    return convert(text, 'string', to);
  }
  switch (to) {
    case 'dynamic':
      if (textual.has(from)) return `to_json(${sql})`;
      if (from === 'datetime') return `to_json(${convert(sql, from, 'string')})`;
      if (from === 'timespan') return `to_json(${convert(sql, from, 'string')})`;
      return `to_json(${sql})`;
    case 'string':
    case 'guid':
      if (from === 'datetime') return `strftime(${sql}, '%Y-%m-%dT%H:%M:%S.%fZ')`;
      if (from === 'timespan') return timespanText(sql);
      if (from === 'bool') return `CASE WHEN ${sql} THEN 'true' WHEN NOT ${sql} THEN 'false' END`;
      return `CAST(${sql} AS VARCHAR)`;
    case 'datetime':
      if (textual.has(from)) return textToDatetime(sql);
      if (from === 'long' || from === 'int')
        return `make_timestamp((CAST(${sql} AS BIGINT) - 621355968000000000) // 10)`;
      return `CAST(NULL AS TIMESTAMP)`;
    case 'timespan':
      if (numeric.has(from)) return `CAST(trunc(${sql}) AS BIGINT)`;
      return 'CAST(NULL AS BIGINT)';
    case 'bool':
      if (textual.has(from))
        return `CASE lower(trim(${sql})) WHEN 'true' THEN true WHEN 'false' THEN false WHEN '1' THEN true WHEN '0' THEN false END`;
      return `TRY_CAST(${sql} AS BOOLEAN)`;
    case 'int':
    case 'long':
      if (textual.has(from)) return `TRY_CAST(TRY_CAST(${sql} AS DOUBLE) AS ${duckDbTypes[to]})`;
      if (from === 'real' || from === 'decimal') return `TRY_CAST(trunc(${sql}) AS ${duckDbTypes[to]})`;
      if (from === 'datetime') return `(epoch_us(${sql}) * 10 + 621355968000000000)`;
      if (from === 'timespan') return `(${sql} * 10)`;
      return `TRY_CAST(${sql} AS ${duckDbTypes[to]})`;
    default:
      return `TRY_CAST(${sql} AS ${duckDbTypes[to]})`;
  }
}

const text = (a: SqlArg): string => convert(a.sql, a.type, 'string');
const orEmpty = (a: SqlArg): string => `coalesce(${text(a)}, '')`;

/** The literal string value of an argument, when it is one. */
function literalText(a: SqlArg | undefined): string | undefined {
  const e = a?.expr;
  return e?.kind === 'literal' && typeof e.value === 'string' ? e.value : undefined;
}

function literalNumber(a: SqlArg | undefined): number | undefined {
  const e = a?.expr;
  if (e?.kind !== 'literal') return undefined;
  return typeof e.value === 'bigint' || typeof e.value === 'number' ? Number(e.value) : undefined;
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ALNUM = '0-9A-Za-z';

/** A regex matching `needle` as whole terms: a term boundary where the needle starts or ends with a letter or digit. */
function termRegex(needle: string, prefix = true, suffix = true): string {
  const start = prefix && /^[0-9A-Za-z]/.test(needle) ? `(?:^|[^${ALNUM}])` : '';
  const end = suffix && /[0-9A-Za-z]$/.test(needle) ? `(?:$|[^${ALNUM}])` : '';
  return `${start}${escapeRegex(needle)}${end}`;
}

function termRegexSql(needle: string, prefix: boolean, suffix: boolean): string {
  const start = prefix ? sqlText(`(?:^|[^${ALNUM}])`) : "''";
  const end = suffix ? sqlText(`(?:$|[^${ALNUM}])`) : "''";
  return `${start} || regexp_escape(${needle}) || ${end}`;
}

const isAscii = (s: string): boolean => !/\P{ASCII}/u.test(s);

/**
 * A string literal lower-cased as DuckDB's `lower()` would, as a bound parameter: done here when the
 * text is ASCII (where the two agree), else by `lower()` on the parameter, so a match never depends
 * on two different case tables.
 */
function lowered(value: string, tools: RenderTools): string {
  return isAscii(value) ? tools.param(value.toLowerCase()) : `lower(${tools.param(value)})`;
}

/** The text searched by a match: never null (a missing string is ""), lower-cased unless case-sensitive. */
const haystack = (h: SqlArg, cs: boolean): string => (cs ? orEmpty(h) : `lower(${orEmpty(h)})`);

/** What a match looks for, cased like `haystack`: a literal stays a bound parameter. */
function needleOf(n: SqlArg, cs: boolean, tools: RenderTools): string {
  const literal = literalText(n);
  if (literal !== undefined) return cs ? tools.param(literal) : lowered(literal, tools);
  return haystack(n, cs);
}

type TermKind = 'has' | 'hasprefix' | 'hassuffix';

function termMatch(kind: TermKind, cs: boolean): ScalarRenderer {
  const prefix = kind !== 'hassuffix';
  const suffix = kind !== 'hasprefix';
  return ([h, n], tools) => {
    if (!h || !n) return tools.fail(`${kind} needs two operands`);
    const needle = literalText(n);
    const flags = cs ? '' : '(?i)';
    if (needle !== undefined) {
      // A plain substring test first: cheap, and it rules out most rows before the regex runs.
      // Where the needle neither starts nor ends with a letter or digit, it is the whole test.
      const found = `contains(${haystack(h, cs)}, ${needleOf(n, cs, tools)})`;
      const regex = termRegex(needle, prefix, suffix);
      if (regex === escapeRegex(needle)) return found;
      return `(${found} AND regexp_matches(${text(h)}, ${tools.param(flags + regex)}))`;
    }
    return `regexp_matches(${text(h)}, ${sqlText(flags)} || ${termRegexSql(text(n), prefix, suffix)})`;
  };
}

/**
 * `contains`, `startswith`, `endswith`: DuckDB's substring functions on lower-cased text. Faster than
 * ILIKE with a bound pattern (which DuckDB cannot specialise), and never null.
 */
function substringMatch(where: 'contains' | 'startswith' | 'endswith', cs: boolean): ScalarRenderer {
  const fn = where === 'contains' ? 'contains' : where === 'startswith' ? 'starts_with' : 'ends_with';
  return ([h, n], tools) => {
    if (!h || !n) return tools.fail(`${where} needs two operands`);
    return `${fn}(${haystack(h, cs)}, ${needleOf(n, cs, tools)})`;
  };
}

/** The negation of a match: true where the match is false or null (an empty string). */
const negate =
  (positive: ScalarRenderer): ScalarRenderer =>
  (args, tools, result) =>
    `(NOT coalesce(${positive(args, tools, result)}, false))`;

/** The two operands converted to a common type: a dynamic side takes the other side's type. */
function unify(a: SqlArg, b: SqlArg): [string, string, KustoType] {
  if (a.type === b.type) return [a.sql, b.sql, a.type];
  if (a.type === 'dynamic') return [convert(a.sql, 'dynamic', b.type), b.sql, b.type];
  if (b.type === 'dynamic') return [a.sql, convert(b.sql, 'dynamic', a.type), a.type];
  if (textual.has(a.type) && textual.has(b.type)) return [a.sql, b.sql, 'string'];
  if (a.type === 'datetime' && textual.has(b.type))
    return [a.sql, convert(b.sql, b.type, 'datetime'), 'datetime'];
  if (b.type === 'datetime' && textual.has(a.type))
    return [convert(a.sql, a.type, 'datetime'), b.sql, 'datetime'];
  return [a.sql, b.sql, numeric.has(a.type) ? b.type : a.type];
}

function compare(op: '=' | '<>' | '<' | '<=' | '>' | '>='): ScalarRenderer {
  return ([a, b], tools) => {
    if (!a || !b) return tools.fail('a comparison needs two operands');
    const [l, r, type] = unify(a, b);
    if (textual.has(type) && (op === '=' || op === '<>')) {
      // Strings are never null in Kusto: a missing value equals "".
      const la = literalText(a);
      const lb = literalText(b);
      // Against a non-empty literal, a missing value is simply unequal: IS NOT DISTINCT FROM says
      // false (never null, so not() of it is true) and filters as fast as `=`.
      if (op === '=' && ((la !== undefined && la !== '') || (lb !== undefined && lb !== '')))
        return `(${l} IS NOT DISTINCT FROM ${r})`;
      return `(coalesce(${l}, '') ${op} coalesce(${r}, ''))`;
    }
    // Kusto: a null and a non-null value are unequal (true); two nulls are not (null, so filtered out).
    if (op === '<>') return `(${l} IS DISTINCT FROM ${r})`;
    return `(${l} ${op} ${r})`;
  };
}

const equalsTilde: ScalarRenderer = ([a, b], tools) => {
  if (!a || !b) return tools.fail('=~ needs two operands');
  return `(${needleOf(a, false, tools)} = ${needleOf(b, false, tools)})`;
};

/** One value of an `in`/`has_any` list: an argument, or an element of a JSON array literal. */
type ListValue = { readonly arg: SqlArg } | { readonly literal: string | number | bigint | boolean };

/** The values of an `in`/`has_any` list: JSON array literals are opened, other dynamic values kept whole. */
function listValues(args: readonly SqlArg[]): { values: ListValue[]; arrays: SqlArg[] } {
  const values: ListValue[] = [];
  const arrays: SqlArg[] = [];
  for (const a of args) {
    const e = a.expr;
    if (a.type !== 'dynamic') {
      values.push(e.kind === 'literal' && e.value !== null ? { literal: e.value } : { arg: a });
    } else if (e.kind === 'literal' && typeof e.value === 'string') {
      const parsed: unknown = JSON.parse(e.value);
      for (const v of Array.isArray(parsed) ? parsed : [parsed]) {
        if (typeof v === 'string' || typeof v === 'boolean') values.push({ literal: v });
        else if (typeof v === 'number') values.push({ literal: Number.isInteger(v) ? BigInt(v) : v });
      }
    } else arrays.push(a);
  }
  return { values, arrays };
}

/** The elements of a dynamic array as text, for membership tests. */
const arrayTexts = (sql: string): string =>
  `list_transform(CAST(${sql} AS JSON[]), lambda e: json_extract_string(e, '$'))`;

function inList(caseless: boolean): ScalarRenderer {
  return ([x, ...rest], tools) => {
    if (!x) return tools.fail('in needs a value');
    const { values, arrays } = listValues(rest);
    const parts: string[] = [];
    const stringy = textual.has(x.type) || x.type === 'dynamic' || caseless;
    const cased = (sql: string) => (caseless ? `lower(${sql})` : sql);
    const hasEmpty = values.some((v) => 'literal' in v && v.literal === '');
    const value = stringy ? cased(text(x)) : x.sql;
    const subject = hasEmpty ? `coalesce(${value}, '')` : value;
    const sqlValues = values.map((v) => {
      if ('arg' in v) return stringy ? cased(text(v.arg)) : convert(v.arg.sql, v.arg.type, x.type);
      if (stringy) return caseless ? lowered(String(v.literal), tools) : tools.param(String(v.literal));
      return `CAST(${tools.param(v.literal)} AS ${duckDbTypes[x.type]})`;
    });
    if (sqlValues.length > 0) parts.push(`${subject} IN (${sqlValues.join(', ')})`);
    for (const a of arrays) {
      const list = caseless ? `list_transform(${arrayTexts(a.sql)}, lambda e: lower(e))` : arrayTexts(a.sql);
      parts.push(`list_contains(${list}, ${stringy ? subject : `CAST(${subject} AS VARCHAR)`})`);
    }
    return parts.length === 0 ? 'false' : `(${parts.join(' OR ')})`;
  };
}

function hasAny(all: boolean): ScalarRenderer {
  return ([h, ...rest], tools) => {
    if (!h) return tools.fail('has_any needs a value');
    const { values, arrays } = listValues(rest);
    const parts: string[] = [];
    const literals = values.flatMap((v) => ('literal' in v ? [String(v.literal)] : []));
    const args = values.flatMap((v) => ('arg' in v ? [v.arg] : []));
    const has = termMatch('has', false);
    if (!all && literals.length > 0) {
      // One regex with an alternative per term: one pass over the text whatever the list's length.
      parts.push(
        `regexp_matches(${text(h)}, ${tools.param(`(?i)(?:${literals.map((n) => termRegex(n)).join('|')})`)})`,
      );
    } else {
      for (const n of literals) {
        parts.push(`regexp_matches(${text(h)}, ${tools.param(`(?i)${termRegex(n)}`)})`);
      }
    }
    for (const a of args) parts.push(has([h, a], tools, 'bool'));
    for (const a of arrays) {
      const test = `regexp_matches(${text(h)}, '(?i)' || ${termRegexSql('e', true, true)})`;
      parts.push(
        `${all ? 'list_bool_and' : 'list_bool_or'}(list_transform(${arrayTexts(a.sql)}, lambda e: ${test}))`,
      );
    }
    return parts.length === 0 ? (all ? 'true' : 'false') : `(${parts.join(all ? ' AND ' : ' OR ')})`;
  };
}

const between: ScalarRenderer = ([x, lo, hi], tools) => {
  if (!x || !lo || !hi) return tools.fail('between needs a range');
  const [a, l] = unify(x, lo);
  if (x.type === 'datetime' && hi.type === 'timespan')
    return `(${a} BETWEEN ${l} AND ${l} + to_microseconds(${hi.sql}))`;
  const [, h] = unify(x, hi);
  return `(${a} BETWEEN ${l} AND ${h})`;
};

const bool = (a: SqlArg): string => convert(a.sql, a.type, 'bool');

function arithmetic(op: '+' | '-' | '*' | '/' | '%'): ScalarRenderer {
  return ([a, b], tools, result) => {
    if (!a || !b) return tools.fail(`${op} needs two operands`);
    const l =
      a.type === 'dynamic' ? convert(a.sql, 'dynamic', b.type === 'dynamic' ? 'real' : b.type) : a.sql;
    const r =
      b.type === 'dynamic' ? convert(b.sql, 'dynamic', a.type === 'dynamic' ? 'real' : a.type) : b.sql;
    if (a.type === 'datetime' && b.type === 'datetime' && op === '-')
      return `(epoch_us(${l}) - epoch_us(${r}))`;
    if (a.type === 'datetime' && b.type === 'timespan') return `(${l} ${op} to_microseconds(${r}))`;
    if (a.type === 'timespan' && b.type === 'datetime' && op === '+') return `(${r} + to_microseconds(${l}))`;
    if (op === '/') {
      if (a.type === 'timespan' && b.type === 'timespan') return `(CAST(${l} AS DOUBLE) / ${r})`;
      if (result === 'timespan') return `CAST(trunc(${l} / ${r}) AS BIGINT)`;
      if ((result === 'long' || result === 'int') && !numericReal(a, b)) return `(${l} // NULLIF(${r}, 0))`;
      return `(${l} / ${r})`;
    }
    if (op === '*' && result === 'timespan') return `CAST(trunc(${l} * ${r}) AS BIGINT)`;
    return `(${l} ${op} ${r})`;
  };
}

const numericReal = (a: SqlArg, b: SqlArg): boolean =>
  a.type === 'real' || b.type === 'real' || a.type === 'decimal' || b.type === 'decimal';

/** `bin(x, size)` from zero (the epoch for datetimes). */
const bin: ScalarRenderer = ([x, size], tools) => {
  if (!x || !size) return tools.fail('bin needs a value and a bin size');
  if (x.type === 'datetime') {
    const us = `epoch_us(${x.sql})`;
    return `make_timestamp(${us} - (((${us} % ${size.sql}) + ${size.sql}) % ${size.sql}))`;
  }
  if (x.type === 'real' || x.type === 'decimal' || size.type === 'real')
    return `(floor(${x.sql} / ${size.sql}) * ${size.sql})`;
  return `(${x.sql} - (((${x.sql} % ${size.sql}) + ${size.sql}) % ${size.sql}))`;
};

const binAt: ScalarRenderer = ([x, size, at], tools) => {
  if (!x || !size || !at) return tools.fail('bin_at needs a value, a bin size and a start');
  if (x.type === 'datetime') {
    const us = `(epoch_us(${x.sql}) - epoch_us(${at.sql}))`;
    return `make_timestamp(epoch_us(${x.sql}) - (((${us} % ${size.sql}) + ${size.sql}) % ${size.sql}))`;
  }
  const d = `(${x.sql} - ${at.sql})`;
  return `(${x.sql} - (((${d} % ${size.sql}) + ${size.sql}) % ${size.sql}))`;
};

/** Calendar parts accepted by datetime_diff/datetime_add/datetime_part, as DuckDB names. */
const dateParts: Readonly<Record<string, string>> = {
  year: 'year',
  quarter: 'quarter',
  month: 'month',
  week: 'week',
  day: 'day',
  hour: 'hour',
  minute: 'minute',
  second: 'second',
  millisecond: 'millisecond',
  microsecond: 'microsecond',
};

function partOf(a: SqlArg | undefined, tools: RenderTools): string {
  const part = dateParts[(literalText(a) ?? '').toLowerCase()];
  if (!part) return tools.fail('the date part must be a literal such as "day"');
  return part;
}

/** KQL format_datetime patterns to strftime, token by token. */
const datetimeTokens: readonly [string, string][] = [
  ['yyyy', '%Y'],
  ['yy', '%y'],
  ['MM', '%m'],
  ['dd', '%d'],
  ['HH', '%H'],
  ['hh', '%I'],
  ['mm', '%M'],
  ['ss', '%S'],
  ['fffffff', '%f0'],
  ['ffffff', '%f'],
  ['fff', '%g'],
  ['tt', '%p'],
];

function strftimeOf(format: string): string {
  let out = '';
  for (let i = 0; i < format.length; ) {
    const token = datetimeTokens.find(([k]) => format.startsWith(k, i));
    if (token) {
      out += token[1];
      i += token[0].length;
    } else {
      const ch = format[i] ?? '';
      out += ch === '%' ? '%%' : ch;
      i += 1;
    }
  }
  return out;
}

/**
 * KQL format_timespan of a timespan (microseconds) as one string: each run of a specifier letter
 * (`d`… days zero-padded to the run's length, `h`/`H`, `m`, `s` one or two digits, `f`… the
 * fraction's leading digits, `F`… the same without trailing zeros) is a number, anything else is
 * copied. Like .NET's custom formats, there is no sign.
 */
function formatTimespan(x: string, format: string, tools: RenderTools): string {
  const a = `abs(${x})`;
  const parts: string[] = [];
  for (let i = 0; i < format.length; ) {
    const ch = format[i] ?? '';
    let n = 1;
    while (format[i + n] === ch) n++;
    const number = (value: string, width: number) => `printf('%0${width}d', ${value})`;
    const ticks = `((${a} % 1000000) * 10)`;
    if (ch === 'd') parts.push(number(`${a} // ${DAY}`, Math.min(n, 8)));
    else if (ch === 'h' || ch === 'H') parts.push(number(`(${a} // 3600000000) % 24`, Math.min(n, 2)));
    else if (ch === 'm') parts.push(number(`(${a} // 60000000) % 60`, Math.min(n, 2)));
    else if (ch === 's') parts.push(number(`(${a} // 1000000) % 60`, Math.min(n, 2)));
    else if (ch === 'f' || ch === 'F') {
      const digits = Math.min(n, 7);
      const fraction = number(`${ticks} // ${10 ** (7 - digits)}`, digits);
      parts.push(ch === 'f' ? fraction : `rtrim(${fraction}, '0')`);
    } else {
      parts.push(tools.param(format.slice(i, i + n)));
    }
    i += n;
  }
  return `CASE WHEN ${x} IS NULL THEN NULL ELSE ${parts.length > 0 ? parts.join(' || ') : "''"} END`;
}

const call =
  (fn: string, convertTo?: KustoType): ScalarRenderer =>
  (args) =>
    `${fn}(${args.map((a) => (convertTo ? convert(a.sql, a.type, convertTo) : a.sql)).join(', ')})`;

const toType =
  (to: KustoType): ScalarRenderer =>
  ([a], tools) =>
    a ? convert(a.sql, a.type, to) : tools.fail('a conversion needs a value');

const ipv4ToLong = (ip: string): string =>
  `CASE WHEN regexp_matches(${ip}, '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$') THEN (CAST(split_part(${ip}, '.', 1) AS BIGINT) << 24) + (CAST(split_part(${ip}, '.', 2) AS BIGINT) << 16) + (CAST(split_part(${ip}, '.', 3) AS BIGINT) << 8) + CAST(split_part(${ip}, '.', 4) AS BIGINT) END`;

function ipv4InRange(ip: string, range: string): string {
  const base = ipv4ToLong(`split_part(${range}, '/', 1)`);
  const bits = `coalesce(TRY_CAST(NULLIF(split_part(${range}, '/', 2), '') AS INTEGER), 32)`;
  const mask = `((4294967295 >> (32 - ${bits})) << (32 - ${bits}))`;
  return `((${ipv4ToLong(ip)} & ${mask}) = (${base} & ${mask}))`;
}

const privateRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

const dynamicArray = (a: SqlArg): string => `CAST(${convert(a.sql, a.type, 'dynamic')} AS JSON[])`;

/** The renderers, by Kusto operator or function name. */
export const duckDbFunctions: Readonly<Record<string, ScalarRenderer>> = {
  '==': compare('='),
  '!=': compare('<>'),
  '<': compare('<'),
  '<=': compare('<='),
  '>': compare('>'),
  '>=': compare('>='),
  '=~': equalsTilde,
  '!~': negate(equalsTilde),
  and: ([a, b], tools) => (a && b ? `(${bool(a)} AND ${bool(b)})` : tools.fail('and needs two operands')),
  or: ([a, b], tools) => (a && b ? `(${bool(a)} OR ${bool(b)})` : tools.fail('or needs two operands')),
  not: ([a], tools) => (a ? `(NOT ${bool(a)})` : tools.fail('not needs a value')),
  '+': arithmetic('+'),
  '-': arithmetic('-'),
  '*': arithmetic('*'),
  '/': arithmetic('/'),
  '%': arithmetic('%'),
  neg: ([a], tools) =>
    a
      ? `(-${a.type === 'dynamic' ? convert(a.sql, 'dynamic', 'real') : a.sql})`
      : tools.fail('- needs a value'),
  has: termMatch('has', false),
  '!has': negate(termMatch('has', false)),
  has_cs: termMatch('has', true),
  '!has_cs': negate(termMatch('has', true)),
  hasprefix: termMatch('hasprefix', false),
  '!hasprefix': negate(termMatch('hasprefix', false)),
  hasprefix_cs: termMatch('hasprefix', true),
  '!hasprefix_cs': negate(termMatch('hasprefix', true)),
  hassuffix: termMatch('hassuffix', false),
  '!hassuffix': negate(termMatch('hassuffix', false)),
  hassuffix_cs: termMatch('hassuffix', true),
  '!hassuffix_cs': negate(termMatch('hassuffix', true)),
  contains: substringMatch('contains', false),
  '!contains': negate(substringMatch('contains', false)),
  contains_cs: substringMatch('contains', true),
  '!contains_cs': negate(substringMatch('contains', true)),
  startswith: substringMatch('startswith', false),
  '!startswith': negate(substringMatch('startswith', false)),
  startswith_cs: substringMatch('startswith', true),
  '!startswith_cs': negate(substringMatch('startswith', true)),
  endswith: substringMatch('endswith', false),
  '!endswith': negate(substringMatch('endswith', false)),
  endswith_cs: substringMatch('endswith', true),
  '!endswith_cs': negate(substringMatch('endswith', true)),
  'matches regex': ([h, r], tools) =>
    h && r ? `regexp_matches(${text(h)}, ${text(r)})` : tools.fail('matches regex needs a pattern'),
  in: inList(false),
  '!in': negate(inList(false)),
  'in~': inList(true),
  '!in~': negate(inList(true)),
  has_any: hasAny(false),
  has_all: hasAny(true),
  between,
  '!between': negate(between),
  // Conversions.
  tostring: ([a], tools) => (a ? `coalesce(${text(a)}, '')` : tools.fail('tostring needs a value')),
  toint: toType('int'),
  tolong: toType('long'),
  todouble: toType('real'),
  toreal: toType('real'),
  todecimal: toType('real'),
  tobool: toType('bool'),
  toboolean: toType('bool'),
  todatetime: toType('datetime'),
  toguid: toType('string'),
  totimespan: ([a], tools) =>
    a?.type === 'timespan' ? a.sql : tools.fail('totimespan of a non-timespan value is not supported'),
  todynamic: ([a], tools) =>
    a ? (a.type === 'dynamic' ? a.sql : textToDynamic(text(a))) : tools.fail('todynamic needs a value'),
  parse_json: ([a], tools) =>
    a ? (a.type === 'dynamic' ? a.sql : textToDynamic(text(a))) : tools.fail('parse_json needs a value'),
  parsejson: ([a], tools) =>
    a ? (a.type === 'dynamic' ? a.sql : textToDynamic(text(a))) : tools.fail('parsejson needs a value'),
  dynamic_to_json: ([a], tools) =>
    a ? `CAST(${convert(a.sql, a.type, 'dynamic')} AS VARCHAR)` : tools.fail('dynamic_to_json needs a value'),
  // Strings.
  tolower: ([a]) => `lower(${a ? text(a) : 'NULL'})`,
  toupper: ([a]) => `upper(${a ? text(a) : 'NULL'})`,
  strlen: ([a]) => `length(${a ? orEmpty(a) : "''"})`,
  string_size: ([a]) => `octet_length(encode(${a ? orEmpty(a) : "''"}))`,
  strcat: (args) => `concat(${args.map(orEmpty).join(', ')})`,
  strcat_delim: ([d, ...args], tools) =>
    d
      ? `concat_ws(${orEmpty(d)}, ${args.map(orEmpty).join(', ')})`
      : tools.fail('strcat_delim needs a delimiter'),
  substring: ([s, start, length], tools) => {
    if (!s || !start) return tools.fail('substring needs a string and a start');
    const from = `greatest(${start.sql}, 0) + 1`;
    return length ? `substr(${orEmpty(s)}, ${from}, ${length.sql})` : `substr(${orEmpty(s)}, ${from})`;
  },
  split: ([s, d, index], tools) => {
    if (!s || !d) return tools.fail('split needs a string and a delimiter');
    const parts = `string_split(${orEmpty(s)}, ${text(d)})`;
    return index ? `to_json(list_slice(${parts}, ${index.sql} + 1, ${index.sql} + 1))` : `to_json(${parts})`;
  },
  replace_string: ([s, a, b], tools) =>
    s && a && b
      ? `replace(${orEmpty(s)}, ${text(a)}, ${text(b)})`
      : tools.fail('replace_string needs three arguments'),
  replace_regex: ([s, r, w], tools) =>
    s && r && w
      ? `regexp_replace(${orEmpty(s)}, ${text(r)}, ${text(w)}, 'g')`
      : tools.fail('replace_regex needs three arguments'),
  replace: ([r, w, s], tools) =>
    s && r && w
      ? `regexp_replace(${orEmpty(s)}, ${text(r)}, ${text(w)}, 'g')`
      : tools.fail('replace needs three arguments'),
  trim: ([r, s], tools) =>
    r && s
      ? `regexp_replace(${orEmpty(s)}, '^(?:' || ${text(r)} || ')+|(?:' || ${text(r)} || ')+$', '', 'g')`
      : tools.fail('trim needs a pattern and a string'),
  trim_start: ([r, s], tools) =>
    r && s
      ? `regexp_replace(${orEmpty(s)}, '^(?:' || ${text(r)} || ')+', '')`
      : tools.fail('trim_start needs a pattern and a string'),
  trim_end: ([r, s], tools) =>
    r && s
      ? `regexp_replace(${orEmpty(s)}, '(?:' || ${text(r)} || ')+$', '')`
      : tools.fail('trim_end needs a pattern and a string'),
  indexof: ([s, n], tools) =>
    s && n ? `(strpos(${orEmpty(s)}, ${text(n)}) - 1)` : tools.fail('indexof needs a string and a lookup'),
  countof: ([s, n, kind], tools) => {
    if (!s || !n) return tools.fail('countof needs a string and a search');
    if (literalText(kind) === 'regex') return `len(regexp_extract_all(${orEmpty(s)}, ${text(n)}))`;
    return `((length(${orEmpty(s)}) - length(replace(${orEmpty(s)}, ${text(n)}, ''))) // NULLIF(length(${text(n)}), 0))`;
  },
  reverse: ([s]) => `reverse(${s ? orEmpty(s) : "''"})`,
  strrep: ([s, n, d], tools) => {
    if (!s || !n) return tools.fail('strrep needs a string and a count');
    if (!d) return `repeat(${orEmpty(s)}, ${n.sql})`;
    return `array_to_string(list_transform(range(${n.sql}), lambda i: ${orEmpty(s)}), ${text(d)})`;
  },
  extract: ([r, g, s, t], tools, result) => {
    if (!r || !g || !s) return tools.fail('extract needs a pattern, a group and a string');
    const group = literalNumber(g);
    if (group === undefined) return tools.fail('the group of extract must be a number');
    // The engine needs the group as a constant: a number the compiler checked, never text.
    if (!Number.isInteger(group) || group < 0 || group > 99)
      return tools.fail('the group of extract must be 0–99');
    const found = `regexp_extract(${orEmpty(s)}, ${text(r)}, ${group})`;
    if (result === 'string' || !t) return found;
    return convert(`NULLIF(${found}, '')`, 'string', result);
  },
  extract_all: ([r, s], tools) => {
    if (!r || !s) return tools.fail('extract_all needs a pattern and a string');
    const pattern = literalText(r);
    const groups = pattern === undefined ? 0 : (pattern.match(/\((?!\?)/g) ?? []).length;
    if (groups > 1) return tools.fail('extract_all with several capture groups is not supported');
    return `to_json(regexp_extract_all(${orEmpty(s)}, ${text(r)}, ${groups}))`;
  },
  extractjson: ([p, j], tools) =>
    p && j
      ? `json_extract_string(${convert(j.sql, j.type, 'dynamic')}, ${text(p)})`
      : tools.fail('extractjson needs a path and a value'),
  extract_json: ([p, j], tools) =>
    p && j
      ? `json_extract_string(${convert(j.sql, j.type, 'dynamic')}, ${text(p)})`
      : tools.fail('extract_json needs a path and a value'),
  base64_decode_tostring: ([s]) => `try(decode(from_base64(${s ? text(s) : 'NULL'})))`,
  base64_decodestring: ([s]) => `try(decode(from_base64(${s ? text(s) : 'NULL'})))`,
  base64_decode_toarray: ([s]) => {
    const hex = `hex(from_base64(${s ? text(s) : 'NULL'}))`;
    return `try(to_json(list_transform(range(0, length(${hex}), 2), lambda i: CAST('0x' || substr(${hex}, i + 1, 2) AS INTEGER))))`;
  },
  make_string: (args) =>
    `concat(${args
      .map((a) =>
        a.type === 'dynamic'
          ? `coalesce(list_aggr(list_transform(CAST(${a.sql} AS INTEGER[]), lambda c: chr(c)), 'string_agg', ''), '')`
          : `chr(CAST(${a.sql} AS INTEGER))`,
      )
      .join(', ')})`,
  base64_encode_tostring: ([s]) => `to_base64(encode(${s ? orEmpty(s) : "''"}))`,
  url_decode: ([s]) => `try(url_decode(${s ? text(s) : 'NULL'}))`,
  url_encode: ([s]) => `url_encode(${s ? orEmpty(s) : "''"})`,
  isempty: ([a], tools) =>
    a ? `(${text(a)} IS NULL OR ${text(a)} = '')` : tools.fail('isempty needs a value'),
  isnotempty: ([a], tools) =>
    a ? `(${text(a)} IS NOT NULL AND ${text(a)} <> '')` : tools.fail('isnotempty needs a value'),
  notempty: ([a], tools) =>
    a ? `(${text(a)} IS NOT NULL AND ${text(a)} <> '')` : tools.fail('notempty needs a value'),
  isnull: ([a], tools) => (a ? `(${a.sql} IS NULL)` : tools.fail('isnull needs a value')),
  isnotnull: ([a], tools) => (a ? `(${a.sql} IS NOT NULL)` : tools.fail('isnotnull needs a value')),
  notnull: ([a], tools) => (a ? `(${a.sql} IS NOT NULL)` : tools.fail('notnull needs a value')),
  coalesce: (args, _tools, result) =>
    textual.has(result)
      ? `coalesce(${args.map((a) => `NULLIF(${text(a)}, '')`).join(', ')}, '')`
      : `coalesce(${args.map((a) => convert(a.sql, a.type, result)).join(', ')})`,
  // Numbers.
  abs: call('abs'),
  round: ([x, d]) => (d ? `round(${x?.sql}, ${d.sql})` : `round(${x?.sql})`),
  floor: ([x, size], tools, result) => (size ? bin([x as SqlArg, size], tools, result) : `floor(${x?.sql})`),
  ceiling: call('ceiling'),
  sqrt: call('sqrt'),
  exp: call('exp'),
  log: call('ln'),
  log10: call('log10'),
  log2: call('log2'),
  pow: call('pow'),
  sign: call('sign'),
  max_of: (args, _t, result) => `greatest(${args.map((a) => convert(a.sql, a.type, result)).join(', ')})`,
  min_of: (args, _t, result) => `least(${args.map((a) => convert(a.sql, a.type, result)).join(', ')})`,
  rand: ([n]) => (n ? `CAST(floor(random() * ${n.sql}) AS BIGINT)` : 'random()'),
  isnan: call('isnan'),
  isfinite: call('isfinite'),
  isinf: call('isinf'),
  binary_and: ([a, b]) => `(${a?.sql} & ${b?.sql})`,
  binary_or: ([a, b]) => `(${a?.sql} | ${b?.sql})`,
  binary_xor: ([a, b]) => `xor(${a?.sql}, ${b?.sql})`,
  binary_not: ([a]) => `(~${a?.sql})`,
  binary_shift_left: ([a, b]) => `(${a?.sql} << ${b?.sql})`,
  binary_shift_right: ([a, b]) => `(${a?.sql} >> ${b?.sql})`,
  bin,
  bin_at: binAt,
  // Times.
  now: ([offset], tools) => (offset ? `(${tools.now()} + to_microseconds(${offset.sql}))` : tools.now()),
  ago: ([span], tools) =>
    span ? `(${tools.now()} - to_microseconds(${span.sql}))` : tools.fail('ago needs a timespan'),
  ingestion_time: (_args, tools) => tools.ingestionTime ?? 'CAST(NULL AS TIMESTAMP)',
  startofday: ([d, n]) =>
    n ? `date_trunc('day', ${d?.sql}) + to_days(CAST(${n.sql} AS INTEGER))` : `date_trunc('day', ${d?.sql})`,
  startofmonth: ([d]) => `CAST(date_trunc('month', ${d?.sql}) AS TIMESTAMP)`,
  startofyear: ([d]) => `CAST(date_trunc('year', ${d?.sql}) AS TIMESTAMP)`,
  startofweek: ([d]) => `(date_trunc('day', ${d?.sql}) - to_days(CAST(dayofweek(${d?.sql}) AS INTEGER)))`,
  endofday: ([d]) => `(date_trunc('day', ${d?.sql}) + INTERVAL 1 DAY - INTERVAL 1 MICROSECOND)`,
  endofmonth: ([d]) =>
    `(CAST(date_trunc('month', ${d?.sql}) AS TIMESTAMP) + INTERVAL 1 MONTH - INTERVAL 1 MICROSECOND)`,
  dayofweek: ([d]) => `(CAST(dayofweek(${d?.sql}) AS BIGINT) * ${DAY})`,
  dayofmonth: ([d]) => `CAST(day(${d?.sql}) AS INTEGER)`,
  dayofyear: ([d]) => `CAST(dayofyear(${d?.sql}) AS INTEGER)`,
  hourofday: ([d]) => `CAST(hour(${d?.sql}) AS INTEGER)`,
  getmonth: ([d]) => `CAST(month(${d?.sql}) AS INTEGER)`,
  monthofyear: ([d]) => `CAST(month(${d?.sql}) AS INTEGER)`,
  getyear: ([d]) => `CAST(year(${d?.sql}) AS INTEGER)`,
  datetime_part: ([p, d], tools) => `CAST(date_part(${sqlText(partOf(p, tools))}, ${d?.sql}) AS INTEGER)`,
  datetime_diff: ([p, a, b], tools) => `date_diff(${sqlText(partOf(p, tools))}, ${b?.sql}, ${a?.sql})`,
  datetime_add: ([p, n, d], tools) =>
    `(${d?.sql} + CAST(${n?.sql} AS BIGINT) * INTERVAL 1 ${partOf(p, tools).toUpperCase()})`,
  format_datetime: ([d, f], tools) => {
    const format = literalText(f);
    if (format === undefined) return tools.fail('the format of format_datetime must be a literal');
    return `strftime(${d?.sql}, ${tools.param(strftimeOf(format))})`;
  },
  format_timespan: ([t, f], tools) => {
    const format = literalText(f);
    if (!t || format === undefined) return tools.fail('the format of format_timespan must be a literal');
    return formatTimespan(convert(t.sql, t.type, 'timespan'), format, tools);
  },
  unixtime_seconds_todatetime: ([s]) => `make_timestamp(CAST(${s?.sql} * 1000000 AS BIGINT))`,
  unixtime_milliseconds_todatetime: ([s]) => `make_timestamp(CAST(${s?.sql} * 1000 AS BIGINT))`,
  // Dynamic values.
  array_length: ([a]) =>
    `CASE WHEN json_type(${a?.sql}) = 'ARRAY' THEN CAST(json_array_length(${a?.sql}) AS BIGINT) END`,
  pack_array: (args) => `json_array(${args.map((a) => convert(a.sql, a.type, 'dynamic')).join(', ')})`,
  pack: (args) =>
    `json_object(${args.map((a, i) => (i % 2 === 0 ? text(a) : convert(a.sql, a.type, 'dynamic'))).join(', ')})`,
  bag_pack: (args) =>
    `json_object(${args.map((a, i) => (i % 2 === 0 ? text(a) : convert(a.sql, a.type, 'dynamic'))).join(', ')})`,
  pack_dictionary: (args) =>
    `json_object(${args.map((a, i) => (i % 2 === 0 ? text(a) : convert(a.sql, a.type, 'dynamic'))).join(', ')})`,
  bag_keys: ([a]) => `to_json(json_keys(${a?.sql}))`,
  array_concat: (args) => `to_json(list_concat(${args.map(dynamicArray).join(', ')}))`,
  array_slice: ([a, s, e], tools) =>
    a && s && e
      ? `to_json(list_slice(${dynamicArray(a)}, ${s.sql} + 1, ${e.sql} + 1))`
      : tools.fail('array_slice needs an array, a start and an end'),
  array_index_of: ([a, v], tools) =>
    a && v
      ? `(coalesce(list_position(${arrayTexts(a.sql)}, ${text(v)}), 0) - 1)`
      : tools.fail('array_index_of needs an array and a value'),
  set_has_element: ([a, v], tools) =>
    a && v
      ? `list_contains(${arrayTexts(a.sql)}, ${text(v)})`
      : tools.fail('set_has_element needs an array and a value'),
  strcat_array: ([a, d], tools) =>
    a && d
      ? `array_to_string(${arrayTexts(a.sql)}, ${text(d)})`
      : tools.fail('strcat_array needs an array and a delimiter'),
  set_intersect: ([a, b], tools) =>
    a && b
      ? `to_json(list_intersect(${dynamicArray(a)}, ${dynamicArray(b)}))`
      : tools.fail('set_intersect needs two arrays'),
  jaccard_index: ([a, b], tools, result) => {
    if (!a || !b) return tools.fail('jaccard_index needs two arrays');
    const ratio = `(CAST(len(list_intersect(${dynamicArray(a)}, ${dynamicArray(b)})) AS DOUBLE) / NULLIF(len(list_distinct(list_concat(${dynamicArray(a)}, ${dynamicArray(b)}))), 0))`;
    // Some versions of the binder type it dynamic.
    return result === 'dynamic' ? `to_json(${ratio})` : ratio;
  },
  has_any_index: ([s, a], tools) => {
    if (!s || !a) return tools.fail('has_any_index needs a string and an array');
    const test = `regexp_matches(${orEmpty(s)}, '(?i)' || ${termRegexSql('e', true, true)})`;
    return `coalesce(list_position(list_transform(${arrayTexts(a.sql)}, lambda e: ${test}), true) - 1, -1)`;
  },
  set_union: (args) => `to_json(list_distinct(list_concat(${args.map(dynamicArray).join(', ')})))`,
  // Network.
  ipv4_is_private: ([ip]) =>
    `(${privateRanges.map((r) => ipv4InRange(ip ? text(ip) : 'NULL', sqlText(r))).join(' OR ')})`,
  ipv4_is_in_range: ([ip, range], tools) =>
    ip && range
      ? ipv4InRange(text(ip), text(range))
      : tools.fail('ipv4_is_in_range needs an address and a range'),
  ipv4_is_match: ([a, b], tools) =>
    a && b ? ipv4InRange(text(a), text(b)) : tools.fail('ipv4_is_match needs two addresses'),
  parse_ipv4: ([ip]) => ipv4ToLong(ip ? text(ip) : 'NULL'),
  unicode_codepoints_from_string: ([s]) =>
    `to_json(list_transform(string_split(${s ? orEmpty(s) : "''"}, ''), lambda ch: unicode(ch)))`,
  new_guid: () => 'CAST(uuid() AS VARCHAR)',
  // Equal inputs hash equal, which is what partitioning by hash needs; the values are not Kusto's.
  hash: ([x, mod], tools) => {
    if (!x) return tools.fail('hash needs a value');
    return mod
      ? `CAST(hash(${x.sql}) % CAST(${mod.sql} AS UBIGINT) AS BIGINT)`
      : `CAST(hash(${x.sql}) >> 1 AS BIGINT)`;
  },
  range: ([start, stop, step], tools) => {
    if (!start || !stop) return tools.fail('range needs a start and a stop');
    if (!numeric.has(start.type)) return tools.fail('range() over datetimes or timespans is not supported');
    return `to_json(generate_series(${start.sql}, ${stop.sql}, ${step ? step.sql : '1'}))`;
  },
  parse_url: ([u], tools) => (u ? parseUrl(text(u)) : tools.fail('parse_url needs a URL')),
  parse_command_line: ([c], tools) =>
    c ? parseCommandLine(orEmpty(c)) : tools.fail('parse_command_line needs a command line'),
  notcontains: negate(substringMatch('contains', false)),
  notcontainscs: negate(substringMatch('contains', true)),
};

/** parse_url's bag: Scheme, Host, Port, Path, Username, Password, Query Parameters, Fragment ("" when absent or not a URL). */
function parseUrl(u: string): string {
  const pattern = sqlText(
    '^([A-Za-z][A-Za-z0-9+.-]*)://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?#]*)(?::([0-9]+))?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$',
  );
  const part = (group: number) => `coalesce(regexp_extract(${u}, ${pattern}, ${group}), '')`;
  const query = `regexp_extract(${u}, ${pattern}, 7)`;
  const parameters = `CASE WHEN coalesce(${query}, '') = '' THEN CAST('{}' AS JSON) ELSE to_json(map_from_entries(list_transform(string_split(${query}, '&'), lambda kv: struct_pack(k := url_decode(split_part(kv, '=', 1)), v := url_decode(split_part(kv, '=', 2)))))) END`;
  return `json_object('Scheme', ${part(1)}, 'Host', ${part(4)}, 'Port', ${part(5)}, 'Path', ${part(6)}, 'Username', ${part(2)}, 'Password', ${part(3)}, 'Query Parameters', ${parameters}, 'Fragment', ${part(8)})`;
}

/** A Windows command line split into arguments: runs of unquoted text and quoted sections, quotes removed. */
function parseCommandLine(c: string): string {
  return `to_json(list_transform(regexp_extract_all(${c}, '(?:[^\\s"]+|"[^"]*")+'), lambda a: replace(a, '"', '')))`;
}
