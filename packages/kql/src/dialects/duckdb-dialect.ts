// The DuckDB dialect: quoting, Kusto types as DuckDB types (timespans as BIGINT microseconds,
// dynamic as JSON), parameters as `$name`, and DuckDB's spelling of the constructs that differ.
import type { KustoType, PathStep } from '../ir.ts';
import type {
  AggregateRenderer,
  RenderTools,
  SqlArg,
  SqlDialect,
  SqlParam,
  WindowRenderer,
} from './dialect.ts';
import { convert, duckDbFunctions, duckDbTypes, sqlText } from './duckdb-functions.ts';

const quoteName = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function literal(value: SqlParam, type: KustoType, tools: RenderTools): string {
  const sqlType = duckDbTypes[type];
  if (value === null) return `CAST(NULL AS ${sqlType})`;
  switch (type) {
    case 'datetime':
      return `make_timestamp(CAST(${tools.param(value)} AS BIGINT))`;
    case 'dynamic':
      return `CAST(CAST(${tools.param(value)} AS VARCHAR) AS JSON)`;
    case 'guid':
      return `CAST(${tools.param(value)} AS VARCHAR)`;
    default:
      return `CAST(${tools.param(value)} AS ${sqlType})`;
  }
}

/** A JSON path step: `."key"` or `[n]` (`[#-n]` from the end). */
function pathText(step: PathStep): string {
  if (step.kind === 'key') return `."${step.key.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  if (step.kind === 'index') return step.index < 0 ? `[#${step.index}]` : `[${step.index}]`;
  return '';
}

function path(
  target: string,
  steps: readonly PathStep[],
  tools: RenderTools,
  step: (s: import('../ir.ts').Scalar) => SqlArg,
): string {
  if (steps.every((s) => s.kind !== 'expr')) {
    return `json_extract(${target}, ${tools.param(`$${steps.map(pathText).join('')}`)})`;
  }
  const parts = steps.map((s) => {
    if (s.kind !== 'expr') return tools.param(pathText(s));
    const arg = step(s.expr);
    if (arg.type === 'string' || arg.type === 'dynamic') {
      const key = convert(arg.sql, arg.type, 'string');
      return `'."' || replace(replace(${key}, '\\', '\\\\'), '"', '\\"') || '"'`;
    }
    return `'[' || CASE WHEN ${arg.sql} < 0 THEN '#' || CAST(${arg.sql} AS VARCHAR) ELSE CAST(${arg.sql} AS VARCHAR) END || ']'`;
  });
  return `json_extract(${target}, '$' || ${parts.join(' || ')})`;
}

function expandList(target: string, limit: string | undefined): string {
  const list = `CASE json_type(${target}) WHEN 'ARRAY' THEN CAST(${target} AS JSON[]) WHEN 'OBJECT' THEN list_transform(map_entries(CAST(${target} AS MAP(VARCHAR, JSON))), lambda e: json_object(e.key, e.value)) ELSE [${target}] END`;
  return limit ? `list_slice(${list}, 1, ${limit})` : list;
}

const filtered = (sql: string, condition: SqlArg | undefined): string =>
  condition ? `${sql} FILTER (WHERE ${convert(condition.sql, condition.type, 'bool')})` : sql;

/** Values of a set/list aggregate: strings never null (a missing one is ""), other nulls skipped. */
function collect(distinct: boolean): AggregateRenderer {
  return ([x, ...rest], tools) => {
    if (!x) return tools.fail('make_set/make_list needs a value');
    const [condition, max] =
      rest.length === 2 ? rest : rest[0]?.type === 'bool' ? [rest[0], undefined] : [undefined, rest[0]];
    const value = x.type === 'string' ? `coalesce(${x.sql}, '')` : x.sql;
    const kept = [`${value} IS NOT NULL`];
    if (condition) kept.push(convert(condition.sql, condition.type, 'bool'));
    const where = `FILTER (WHERE ${kept.join(' AND ')})`;
    let list: string;
    if (x.type === 'dynamic') {
      // A dynamic array contributes its elements.
      const elements = `CASE json_type(${x.sql}) WHEN 'ARRAY' THEN CAST(${x.sql} AS JSON[]) ELSE [${x.sql}] END`;
      const all = `flatten(list(${elements}) ${where})`;
      list = distinct ? `list_distinct(${all})` : all;
    } else list = `list(${distinct ? 'DISTINCT ' : ''}${value}) ${where}`;
    if (max) list = `list_slice(${list}, 1, ${max.sql})`;
    return `coalesce(to_json(${list}), CAST('[]' AS JSON))`;
  };
}

const simple =
  (fn: string, conditional = false): AggregateRenderer =>
  ([x, condition], tools) => {
    if (!x) return tools.fail(`${fn} needs a value`);
    return filtered(`${fn}(${x.sql})`, conditional ? condition : undefined);
  };

const aggregates: Readonly<Record<string, AggregateRenderer>> = {
  // count(x) of a value that is not a condition (which the engine accepts): the rows where x is
  // not null, and strings are never null.
  count: ([x]) =>
    !x || x.type === 'string'
      ? 'count(*)'
      : x.type === 'bool'
        ? `count(*) FILTER (WHERE ${x.sql})`
        : `count(${x.sql})`,
  countif: ([p], tools) => (p ? filtered('count(*)', p) : tools.fail('countif needs a condition')),
  dcount: ([x], tools) => (x ? `count(DISTINCT ${x.sql})` : tools.fail('dcount needs a value')),
  dcountif: ([x, p], tools) =>
    x && p ? filtered(`count(DISTINCT ${x.sql})`, p) : tools.fail('dcountif needs a value and a condition'),
  count_distinct: ([x], tools) =>
    x ? `count(DISTINCT ${x.sql})` : tools.fail('count_distinct needs a value'),
  count_distinctif: ([x, p], tools) =>
    x && p
      ? filtered(`count(DISTINCT ${x.sql})`, p)
      : tools.fail('count_distinctif needs a value and a condition'),
  sum: simple('sum'),
  sumif: simple('sum', true),
  avg: simple('avg'),
  avgif: simple('avg', true),
  min: simple('min'),
  minif: simple('min', true),
  max: simple('max'),
  maxif: simple('max', true),
  stdev: simple('stddev_samp'),
  stdevif: simple('stddev_samp', true),
  stdevp: simple('stddev_pop'),
  variance: simple('var_samp'),
  varianceif: simple('var_samp', true),
  variancep: simple('var_pop'),
  take_any: simple('any_value'),
  any: simple('any_value'),
  take_anyif: simple('any_value', true),
  anyif: simple('any_value', true),
  make_set: collect(true),
  makeset: collect(true),
  make_set_if: collect(true),
  make_list: collect(false),
  makelist: collect(false),
  make_list_if: collect(false),
  make_list_with_nulls: ([x], tools) =>
    x ? `to_json(list(${x.sql}))` : tools.fail('make_list_with_nulls needs a value'),
  percentile: ([x, p], tools) =>
    x && p
      ? `quantile_disc(${x.sql}, ${p.sql} / 100.0)`
      : tools.fail('percentile needs a value and a percentage'),
};

/** `lag`/`lead` of a value by an offset (default 1); strings are never null, so a missing one is "". */
function shift(fn: 'lag' | 'lead'): WindowRenderer {
  return ([x, offset, fallback], order, tools, result) => {
    if (!x) return tools.fail(`${fn === 'lag' ? 'prev' : 'next'}() needs a column`);
    const otherwise = fallback
      ? `, ${convert(fallback.sql, fallback.type, result)}`
      : result === 'string'
        ? ", ''"
        : '';
    const by = offset ? convert(offset.sql, offset.type, 'long') : '1';
    return `${fn}(${convert(x.sql, x.type, result)}, ${by}${otherwise}) OVER (ORDER BY ${order})`;
  };
}

/** The window of a running function: the restart group (the lowering's running count of restarts), then the order. */
const running = (order: string, group: SqlArg | undefined): string =>
  `${group ? `PARTITION BY ${group.sql} ` : ''}ORDER BY ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`;

const windows: Readonly<Record<string, WindowRenderer>> = {
  prev: shift('lag'),
  next: shift('lead'),
  row_number: ([start, group], order) =>
    `CAST(count(*) OVER (${running(order, group)}) + ${start ? convert(start.sql, start.type, 'long') : '1'} - 1 AS BIGINT)`,
  row_cumsum: ([term, group], order, tools, result) =>
    term
      ? `CAST(coalesce(sum(${term.sql}) OVER (${running(order, group)}), 0) AS ${duckDbTypes[result]})`
      : tools.fail('row_cumsum() needs a term'),
};

export const duckDbDialect: SqlDialect = {
  name: 'duckdb',
  quoteName,
  placeholder: (name) => `$${name}`,
  sqlType: (type) => duckDbTypes[type],
  literal,
  convert,
  path,
  expandList,
  expandIndex: (list) => `generate_subscripts(${list}, 1)`,
  functions: duckDbFunctions,
  windows,
  aggregates,
  joins: {
    inner: 'JOIN',
    left: 'LEFT JOIN',
    right: 'RIGHT JOIN',
    full: 'FULL OUTER JOIN',
    semi: 'SEMI JOIN',
    anti: 'ANTI JOIN',
  },
  argExtreme: (fn, fields, by) =>
    `${fn}(struct_pack(${fields.map((f) => `${quoteName(f.name)} := ${f.sql}`).join(', ')}), ${by})`,
  structField: (struct, name) => `(${struct}).${quoteName(name)}`,
  firstPerKey: (from, keys) =>
    `SELECT * FROM ${from} QUALIFY row_number() OVER (PARTITION BY ${keys.join(', ')}) = 1`,
  readFile: (path, format, skipFirst, count) => {
    const columns = Array.from({ length: count }, (_, i) => `'c${i}': 'VARCHAR'`).join(', ');
    const delimiter = format === 'tsv' ? "'\\t'" : "','";
    return `read_csv(${path}, header = false, skip = ${skipFirst ? 1 : 0}, delim = ${delimiter}, quote = '"', columns = {${columns}})`;
  },
  ingestionTime: (table, alias) => ({
    // The store records when each batch was stored; a row's batch is its `_Batch`.
    from: `${quoteName(table)} AS ${alias} LEFT JOIN "_palisade_batches" AS ${alias}_b ON ${alias}_b.seq = ${alias}."_Batch"`,
    column: `${alias}_b.stored_at`,
  }),
  arrayOf: (column, from) => `(SELECT coalesce(to_json(list(${column})), CAST('[]' AS JSON)) FROM ${from})`,
  valuesFromJson: (json, type) => `SELECT unnest(CAST(CAST(${json} AS JSON) AS ${duckDbTypes[type]}[]))`,
};

export { sqlText };
