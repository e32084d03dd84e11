// The IR as one SQL statement: each tabular step becomes a CTE selecting exactly the binder's
// columns from the step before, literals become parameters, names are quoted. Dialect-neutral:
// everything an engine spells its own way is asked of the dialect.
import { isAbsolute, relative, resolve } from 'node:path';
import { type DeviceScope, scopeCondition } from './device-scope.ts';
import { KqlError } from './diagnostic.ts';
import type {
  RenderTools,
  SqlArg,
  SqlDialect,
  SqlJoin,
  SqlParam,
  WindowRenderer,
} from './dialects/dialect.ts';
import type { At, Column, JoinKind, Query, QueryPlan, Scalar } from './ir.ts';

export interface WriteOptions {
  /** now() for the whole query, in microseconds since the epoch. */
  readonly now: bigint;
  readonly scope?: DeviceScope;
  /** The folder externaldata may read local files from; without it, externaldata fails. */
  readonly files?: { readonly root: string };
}

export interface SqlQuery {
  readonly sql: string;
  readonly params: Readonly<Record<string, SqlParam>>;
}

/**
 * A written step: its CTE name, columns, whether rows still carry their ingestion time, and
 * whether they carry their place in a serialized order (Kusto's row order after sort, top or
 * serialize, kept by where, extend, project, take and mv-expand).
 */
interface Rel {
  readonly name: string;
  readonly columns: readonly Column[];
  readonly ingestion: boolean;
  readonly order?: boolean;
}

const INGESTION = '__palisade_ingestion_time';
const ORDER = '__palisade_row';

const sqlJoinOf: Readonly<Record<JoinKind, { join: SqlJoin; swap: boolean; unique: boolean }>> = {
  innerunique: { join: 'inner', swap: false, unique: true },
  inner: { join: 'inner', swap: false, unique: false },
  leftouter: { join: 'left', swap: false, unique: false },
  rightouter: { join: 'right', swap: false, unique: false },
  fullouter: { join: 'full', swap: false, unique: false },
  leftsemi: { join: 'semi', swap: false, unique: false },
  leftanti: { join: 'anti', swap: false, unique: false },
  rightsemi: { join: 'semi', swap: true, unique: false },
  rightanti: { join: 'anti', swap: true, unique: false },
};

/** Writes a query plan as one parameterised statement in `dialect`. */
export function writeSql(plan: QueryPlan, dialect: SqlDialect, options: WriteOptions): SqlQuery {
  const writer = new SqlWriter(dialect, options, usesIngestionTime(plan), usesRowOrder(plan, dialect));
  for (const b of plan.bindings) writer.bind(b.name, b.query, b.materialized);
  return writer.finish(writer.rel(plan.body));
}

const planText = (plan: QueryPlan): string =>
  JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

function usesIngestionTime(plan: QueryPlan): boolean {
  return planText(plan).includes('"name":"ingestion_time"');
}

/** Whether a window function reads the row order, which is then carried only for such plans. */
function usesRowOrder(plan: QueryPlan, dialect: SqlDialect): boolean {
  const text = planText(plan);
  return Object.keys(dialect.windows).some((name) => text.includes(`"kind":"call","name":"${name}"`));
}

type Call = Extract<Scalar, { kind: 'call' }>;

/** Whether `expr` reads one of the columns `names`. */
function reads(expr: Scalar, names: ReadonlySet<string>): boolean {
  if (names.size === 0) return false;
  switch (expr.kind) {
    case 'column':
      return names.has(expr.name);
    case 'literal':
    case 'subquery':
      return false;
    case 'call':
      return expr.args.some((a) => reads(a, names));
    case 'path':
      return reads(expr.target, names) || expr.steps.some((s) => s.kind === 'expr' && reads(s.expr, names));
    case 'case':
      return (
        reads(expr.otherwise, names) ||
        expr.branches.some((b) => reads(b.when, names) || reads(b.value, names))
      );
    case 'in-query':
      return reads(expr.value, names);
  }
}

/** `expr` with each call `replace` answers for replaced, bottom-up. */
function mapCalls(expr: Scalar, replace: (call: Call) => Scalar | undefined): Scalar {
  const map = (e: Scalar) => mapCalls(e, replace);
  switch (expr.kind) {
    case 'column':
    case 'literal':
    case 'subquery':
      return expr;
    case 'call': {
      const args = expr.args.map(map);
      const call = args.every((a, i) => a === expr.args[i]) ? expr : { ...expr, args };
      return replace(call) ?? call;
    }
    case 'path':
      return {
        ...expr,
        target: map(expr.target),
        steps: expr.steps.map((s) => (s.kind === 'expr' ? { kind: 'expr', expr: map(s.expr) } : s)),
      };
    case 'case':
      return {
        ...expr,
        branches: expr.branches.map((b) => ({ when: map(b.when), value: map(b.value) })),
        otherwise: map(expr.otherwise),
      };
    case 'in-query':
      return { ...expr, value: map(expr.value) };
  }
}

class SqlWriter {
  private readonly ctes: string[] = [];
  private readonly params: Record<string, SqlParam> = {};
  private readonly refs = new Map<string, Rel>();
  private paramCount = 0;
  private cteCount = 0;
  private windowCount = 0;
  private nowSql: string | undefined;

  constructor(
    private readonly dialect: SqlDialect,
    private readonly options: WriteOptions,
    private readonly ingestion: boolean,
    private readonly ordered: boolean,
  ) {}

  private q(name: string): string {
    return this.dialect.quoteName(name);
  }

  param(value: SqlParam): string {
    const name = `p${++this.paramCount}`;
    this.params[name] = value;
    return this.dialect.placeholder(name);
  }

  private now(): string {
    this.nowSql ??= this.dialect.literal(this.options.now, 'datetime', this.tools({ start: 0, length: 0 }));
    return this.nowSql;
  }

  private tools(at: At, rel?: Rel): RenderTools {
    return {
      param: (v) => this.param(v),
      now: () => this.now(),
      fail: (message) => {
        throw new KqlError('kql/unsupported', message, at);
      },
      ...(rel?.ingestion ? { ingestionTime: this.q(INGESTION) } : {}),
    };
  }

  private cte(
    sql: string,
    columns: readonly Column[],
    ingestion: boolean,
    materialized = false,
    order = false,
  ): Rel {
    const name = `q${++this.cteCount}`;
    this.ctes.push(`${name} AS ${materialized ? 'MATERIALIZED ' : ''}(${sql})`);
    return order ? { name, columns, ingestion, order } : { name, columns, ingestion };
  }

  bind(name: string, query: Query, materialized: boolean): void {
    const rel = this.rel(query);
    if (!materialized) {
      this.refs.set(name, rel);
      return;
    }
    this.refs.set(
      name,
      this.cte(`SELECT * FROM ${rel.name}`, rel.columns, rel.ingestion, true, rel.order ?? false),
    );
  }

  finish(rel: Rel): SqlQuery {
    const orderBy = rel.order ? ` ORDER BY ${this.q(ORDER)}` : '';
    const select = `SELECT ${rel.columns.map((c) => this.q(c.name)).join(', ')} FROM ${rel.name}${orderBy}`;
    const sql = this.ctes.length > 0 ? `WITH ${this.ctes.join(', ')} ${select}` : select;
    return { sql, params: this.params };
  }

  /** The column list of a step (`columns`, by default its own), with the hidden columns it carries. */
  private list(rel: Rel, columns = rel.columns, keepOrder = true): string {
    const names = columns.map((c) => this.q(c.name));
    names.push(...this.hidden(rel, keepOrder));
    return names.join(', ');
  }

  /** The hidden columns a step carries: ingestion time and row order. */
  private hidden(rel: Rel, keepOrder = true): string[] {
    const names: string[] = [];
    if (rel.ingestion) names.push(this.q(INGESTION));
    if (keepOrder && rel.order) names.push(this.q(ORDER));
    return names;
  }

  /**
   * Computes the window functions of `exprs` over `input`'s serialized rows as hidden columns,
   * innermost first (`row_number(1, prev(x) != x)` reads prev() from a step before), and returns
   * the last step with `exprs` reading those columns.
   */
  private windows(exprs: readonly Scalar[], input: Rel): { rel: Rel; exprs: Scalar[] } {
    const windows = this.dialect.windows;
    let rel = input;
    let current = [...exprs];
    for (;;) {
      const found: { call: Call; name: string }[] = [];
      const made = new Set<string>();
      current = current.map((e) =>
        mapCalls(e, (call) => {
          // A window over a window made in this step waits for the next step.
          if (!windows[call.name] || call.args.some((a) => reads(a, made))) return undefined;
          const name = `__window${++this.windowCount}`;
          found.push({ call, name });
          made.add(name);
          return { kind: 'column', name, type: call.type };
        }),
      );
      const [first] = found;
      if (!first) return { rel, exprs: current };
      if (!rel.order)
        throw new KqlError(
          'kql/unsupported',
          `${first.call.name}() needs serialized rows (sort, order by, top or serialize before it)`,
          first.call.at,
        );
      const items = found.map(({ call, name }) => {
        const render = windows[call.name] as WindowRenderer;
        const args = call.args.map((a) => this.lazy(a, rel));
        return `${render(args, this.q(ORDER), this.tools(call.at, rel), call.type)} AS ${this.q(name)}`;
      });
      const columns = [...rel.columns, ...found.map(({ call, name }) => ({ name, type: call.type }))];
      const sql = `SELECT ${this.list(rel)}, ${items.join(', ')} FROM ${rel.name}`;
      rel = this.cte(sql, columns, rel.ingestion, false, true);
    }
  }

  scalar(expr: Scalar, rel: Rel): SqlArg {
    const d = this.dialect;
    switch (expr.kind) {
      case 'column':
        return { sql: this.q(expr.name), type: expr.type, expr };
      case 'literal': {
        const at = { start: 0, length: 0 };
        return { sql: d.literal(expr.value, expr.type, this.tools(at, rel)), type: expr.type, expr };
      }
      case 'call': {
        const render = d.functions[expr.name];
        if (!render && d.windows[expr.name])
          throw new KqlError(
            'kql/unsupported',
            `${expr.name}() outside where, extend and project is not supported`,
            expr.at,
          );
        if (!render)
          throw new KqlError('kql/unsupported', `the function ${expr.name}() is not supported`, expr.at);
        const args = expr.args.map((a) => this.lazy(a, rel));
        return { sql: render(args, this.tools(expr.at, rel), expr.type), type: expr.type, expr };
      }
      case 'path': {
        const target = this.scalar(expr.target, rel);
        const sql = d.path(
          d.convert(target.sql, target.type, 'dynamic'),
          expr.steps,
          this.tools({ start: 0, length: 0 }, rel),
          (s) => this.scalar(s, rel),
        );
        return { sql, type: 'dynamic', expr };
      }
      case 'case': {
        const whens = expr.branches.map((b) => {
          const when = this.scalar(b.when, rel);
          const value = this.scalar(b.value, rel);
          return `WHEN ${d.convert(when.sql, when.type, 'bool')} THEN ${d.convert(value.sql, value.type, expr.type)}`;
        });
        const otherwise = this.scalar(expr.otherwise, rel);
        return {
          sql: `CASE ${whens.join(' ')} ELSE ${d.convert(otherwise.sql, otherwise.type, expr.type)} END`,
          type: expr.type,
          expr,
        };
      }
      case 'in-query': {
        const sub = this.rel(expr.query);
        const first = sub.columns[0];
        if (!first) throw new KqlError('kql/unsupported', 'in (…) over a query without columns');
        const value = this.scalar(expr.value, rel);
        const caseless = expr.name.endsWith('~');
        const negated = expr.name.startsWith('!');
        if (!['in', '!in', 'in~', '!in~'].includes(expr.name)) {
          // has_any/has_all over a query: the query's first column as one dynamic array.
          const render = d.functions[expr.name];
          if (!render) throw new KqlError('kql/unsupported', `${expr.name} over a query is not supported`);
          const list: Scalar = { kind: 'subquery', query: expr.query, type: 'dynamic' };
          const array: SqlArg = {
            sql: d.arrayOf(this.q(first.name), sub.name),
            type: 'dynamic',
            expr: list,
          };
          const at = { start: 0, length: 0 };
          return { sql: render([value, array], this.tools(at, rel), 'bool'), type: 'bool', expr };
        }
        const text = (sql: string, type: Column['type']) => {
          const t = `coalesce(${d.convert(sql, type, 'string')}, '')`;
          return caseless ? `lower(${t})` : t;
        };
        const stringy = value.type === 'string' || first.type === 'string' || caseless;
        const left = stringy ? text(value.sql, value.type) : value.sql;
        const right = stringy ? text(this.q(first.name), first.type) : this.q(first.name);
        const test = `${left} IN (SELECT ${right} FROM ${sub.name})`;
        return { sql: negated ? `(NOT coalesce(${test}, false))` : `(${test})`, type: 'bool', expr };
      }
      case 'subquery': {
        const sub = this.rel(expr.query);
        const first = sub.columns[0];
        if (!first) throw new KqlError('kql/unsupported', 'toscalar() over a query without columns');
        return { sql: `(SELECT ${this.q(first.name)} FROM ${sub.name} LIMIT 1)`, type: first.type, expr };
      }
    }
  }

  /**
   * An argument rendered only when a renderer reads its SQL: renderers that use a literal's value
   * directly (a precomputed pattern) must not leave an unused parameter behind.
   */
  private lazy(expr: Scalar, rel: Rel): SqlArg {
    let sql: string | undefined;
    const render = () => this.scalar(expr, rel).sql;
    return {
      type: expr.type,
      expr,
      get sql() {
        sql ??= render();
        return sql;
      },
    };
  }

  /** An expression as a value of the column's type. */
  private valueAs(expr: Scalar, column: Column, rel: Rel): string {
    const v = this.scalar(expr, rel);
    return this.dialect.convert(v.sql, v.type, column.type);
  }

  rel(query: Query): Rel {
    const d = this.dialect;
    switch (query.kind) {
      case 'table':
        return this.table(query);
      case 'ref': {
        const rel = this.refs.get(query.name);
        if (!rel) throw new KqlError('kql/internal', `unknown binding ${query.name}`);
        return rel;
      }
      case 'filter': {
        const input = this.rel(query.input);
        const { rel, exprs } = this.windows([query.predicate], input);
        const where = this.scalar(exprs[0] as Scalar, rel);
        return this.cte(
          `SELECT ${this.list(rel, query.columns)} FROM ${rel.name} WHERE ${d.convert(where.sql, where.type, 'bool')}`,
          query.columns,
          rel.ingestion,
          false,
          rel.order,
        );
      }
      case 'select': {
        const input = this.rel(query.input);
        const { rel, exprs } = this.windows(
          query.items.map((item) => item.expr),
          input,
        );
        const items = query.items.map((item, i) => {
          const column = query.columns[i] ?? { name: item.name, type: item.expr.type };
          return `${this.valueAs(exprs[i] as Scalar, column, rel)} AS ${this.q(item.name)}`;
        });
        if (query.distinct)
          return this.cte(`SELECT DISTINCT ${items.join(', ')} FROM ${rel.name}`, query.columns, false);
        items.push(...this.hidden(rel));
        return this.cte(
          `SELECT ${items.join(', ')} FROM ${rel.name}`,
          query.columns,
          rel.ingestion,
          false,
          rel.order,
        );
      }
      case 'summarize':
        return this.summarize(query);
      case 'sort': {
        const input = this.rel(query.input);
        // No keys: `serialize`, which keeps the order rows already have or numbers them as they come.
        if (query.keys.length === 0 && (input.order || !this.ordered)) return input;
        const keys = query.keys.map((k) => {
          const v = this.scalar(k.expr, input);
          return `${v.sql} ${k.descending ? 'DESC' : 'ASC'} NULLS ${k.nullsFirst ? 'FIRST' : 'LAST'}`;
        });
        if (this.ordered) {
          const row = `row_number() OVER (${keys.length > 0 ? `ORDER BY ${keys.join(', ')}` : ''}) AS ${this.q(ORDER)}`;
          return this.cte(
            `SELECT ${this.list(input, input.columns, false)}, ${row} FROM ${input.name}`,
            query.columns,
            input.ingestion,
            false,
            true,
          );
        }
        return this.cte(
          `SELECT ${this.list(input)} FROM ${input.name} ORDER BY ${keys.join(', ')}`,
          query.columns,
          input.ingestion,
        );
      }
      case 'limit': {
        const input = this.rel(query.input);
        const count = this.scalar(query.count, input);
        const orderBy = input.order ? ` ORDER BY ${this.q(ORDER)}` : '';
        return this.cte(
          `SELECT ${this.list(input)} FROM ${input.name}${orderBy} LIMIT ${d.convert(count.sql, count.type, 'long')}`,
          query.columns,
          input.ingestion,
          false,
          input.order,
        );
      }
      case 'join':
        return this.join(query);
      case 'union':
        return this.union(query);
      case 'expand':
        return this.expand(query);
      case 'values':
        return this.values(query);
      case 'file':
        return this.file(query);
      case 'series':
        throw new KqlError('kql/unsupported', 'make-series is not supported');
    }
  }

  private table(query: Extract<Query, { kind: 'table' }>): Rel {
    const alias = 't';
    const qualify = (c: string) => `${alias}.${this.q(c)}`;
    const items = query.columns.map((c, i) => `${qualify(query.sources[i] ?? c.name)} AS ${this.q(c.name)}`);
    let from = `${this.q(query.table)} AS ${alias}`;
    if (this.ingestion) {
      const joined = this.dialect.ingestionTime(query.table, alias);
      from = joined.from;
      items.push(`${joined.column} AS ${this.q(INGESTION)}`);
    }
    const scope = this.options.scope
      ? scopeCondition(query.sources, this.options.scope, this.dialect, (v) => this.param(v), qualify)
      : undefined;
    return this.cte(
      `SELECT ${items.join(', ')} FROM ${from}${scope ? ` WHERE ${scope}` : ''}`,
      query.columns,
      this.ingestion,
    );
  }

  private summarize(query: Extract<Query, { kind: 'summarize' }>): Rel {
    const d = this.dialect;
    const input = this.rel(query.input);
    const items: string[] = [];
    const outer = new Map<string, string>();
    query.keys.forEach((k, i) => {
      const column = query.columns[i] ?? { name: k.name, type: k.expr.type };
      let sql = this.valueAs(k.expr, column, input);
      // Strings are never null in Kusto: a missing key groups with "".
      if (column.type === 'string') sql = `coalesce(${sql}, '')`;
      items.push(`${sql} AS ${this.q(k.name)}`);
      outer.set(k.name, this.q(k.name));
    });
    query.values.forEach((v, i) => {
      if (v.kind === 'aggregate') {
        const render = d.aggregates[v.fn];
        if (!render) throw new KqlError('kql/unsupported', `the aggregate ${v.fn}() is not supported`, v.at);
        const args = v.args.map((a) => this.lazy(a, input));
        const sql = render(args, this.tools(v.at, input), v.type);
        items.push(
          `${v.type === 'dynamic' ? sql : `CAST(${sql} AS ${d.sqlType(v.type)})`} AS ${this.q(v.name)}`,
        );
        outer.set(v.name, this.q(v.name));
        return;
      }
      const struct = `__arg${i}`;
      const fields = v.outputs.map((o, j) => ({ name: `f${j}`, sql: this.valueAs(o.expr, o, input) }));
      const by = this.scalar(v.by, input);
      items.push(`${d.argExtreme(v.fn, fields, by.sql)} AS ${this.q(struct)}`);
      v.outputs.forEach((o, j) => {
        outer.set(o.name, d.structField(this.q(struct), `f${j}`));
      });
    });
    const groupBy = query.keys.length > 0 ? ` GROUP BY ${query.keys.map((_, i) => i + 1).join(', ')}` : '';
    const inner = this.cte(`SELECT ${items.join(', ')} FROM ${input.name}${groupBy}`, query.columns, false);
    if (query.values.every((v) => v.kind === 'aggregate')) return inner;
    const columns = query.columns.map((c) => `${outer.get(c.name) ?? 'NULL'} AS ${this.q(c.name)}`);
    return this.cte(`SELECT ${columns.join(', ')} FROM ${inner.name}`, query.columns, false);
  }

  private join(query: Extract<Query, { kind: 'join' }>): Rel {
    const d = this.dialect;
    const left = this.rel(query.left);
    const right = this.rel(query.right);
    const { join, swap, unique } = sqlJoinOf[query.join];
    const key = (s: Scalar, rel: Rel, alias: string) => {
      const v = this.scalar(s, rel);
      const sql = `${alias}.${v.sql}`;
      return v.type === 'string' ? `coalesce(${sql}, '')` : sql;
    };
    const conditions = query.on.map((k) => `${key(k.left, left, 'l')} = ${key(k.right, right, 'r')}`);
    if (query.inRange) {
      const inRange = d.functions.ipv4_is_in_range;
      if (!inRange) throw new KqlError('kql/unsupported', 'ipv4_lookup is not supported by this dialect');
      const side = (s: Scalar, rel: Rel, alias: string): SqlArg => {
        const v = this.scalar(s, rel);
        return { ...v, sql: `${alias}.${v.sql}` };
      };
      const args = [side(query.inRange.address, left, 'l'), side(query.inRange.range, right, 'r')];
      conditions.push(inRange(args, this.tools({ start: 0, length: 0 }), 'bool'));
    }
    const on = conditions.length > 0 ? conditions.join(' AND ') : 'true';
    let leftFrom = left.name;
    if (unique) {
      const keys = query.on.map((k) => key(k.left, left, left.name));
      leftFrom = `(${d.firstPerKey(left.name, keys)})`;
    }
    const outputs = query.outputs.map(
      (o) => `${o.side === 'left' ? 'l' : 'r'}.${this.q(o.source)} AS ${this.q(o.name)}`,
    );
    const from = swap
      ? `${right.name} AS r ${d.joins[join]} ${leftFrom} AS l ON ${on}`
      : `${leftFrom} AS l ${d.joins[join]} ${right.name} AS r ON ${on}`;
    return this.cte(`SELECT ${outputs.join(', ')} FROM ${from}`, query.columns, false);
  }

  private union(query: Extract<Query, { kind: 'union' }>): Rel {
    const d = this.dialect;
    const legs = query.inputs.map((input, i) => {
      const rel = this.rel(input);
      const types = new Map(rel.columns.map((c) => [c.name, c.type]));
      const items = query.columns.map((c) => {
        if (query.source && c.name === query.source.name) {
          return `CAST(${this.param(query.source.labels[i] ?? '')} AS ${d.sqlType('string')}) AS ${this.q(c.name)}`;
        }
        const type = types.get(c.name);
        const sql = type ? d.convert(this.q(c.name), type, c.type) : `CAST(NULL AS ${d.sqlType(c.type)})`;
        return `${sql} AS ${this.q(c.name)}`;
      });
      return `SELECT ${items.join(', ')} FROM ${rel.name}`;
    });
    if (legs.length === 0) {
      const nulls = query.columns.map((c) => `CAST(NULL AS ${d.sqlType(c.type)}) AS ${this.q(c.name)}`);
      return this.cte(`SELECT ${nulls.join(', ')} WHERE false`, query.columns, false);
    }
    return this.cte(legs.join(' UNION ALL '), query.columns, false);
  }

  private expand(query: Extract<Query, { kind: 'expand' }>): Rel {
    const d = this.dialect;
    const input = this.rel(query.input);
    const expanded = new Map(query.items.map((item, i) => [item.name, i]));
    const limit = query.limit ? this.scalar(query.limit, input) : undefined;
    const items = input.columns.filter((c) => !expanded.has(c.name)).map((c) => this.q(c.name));
    query.items.forEach((item, i) => {
      const v = this.scalar(item.expr, input);
      const list = d.expandList(d.convert(v.sql, v.type, 'dynamic'), limit?.sql);
      items.push(`unnest(${list}) AS ${this.q(`__e${i}`)}`);
      // Serialized rows: each element's place in its row's list orders it after the row's place.
      if (i === 0 && input.order) items.push(`${d.expandIndex(list)} AS ${this.q('__i')}`);
    });
    items.push(...this.hidden(input));
    const unnested = this.cte(
      `SELECT ${items.join(', ')} FROM ${input.name}`,
      query.columns,
      input.ingestion,
      false,
      input.order,
    );
    const outer = query.columns.map((c) => {
      const i = expanded.get(c.name);
      const sql = i === undefined ? this.q(c.name) : d.convert(this.q(`__e${i}`), 'dynamic', c.type);
      return `${sql} AS ${this.q(c.name)}`;
    });
    outer.push(...this.hidden(input, false));
    if (input.order)
      outer.push(`row_number() OVER (ORDER BY ${this.q(ORDER)}, ${this.q('__i')}) AS ${this.q(ORDER)}`);
    return this.cte(
      `SELECT ${outer.join(', ')} FROM ${unnested.name}`,
      query.columns,
      input.ingestion,
      false,
      input.order,
    );
  }

  private values(query: Extract<Query, { kind: 'values' }>): Rel {
    const d = this.dialect;
    const empty: Rel = { name: '', columns: [], ingestion: false };
    if (query.rows.length === 0) {
      const nulls = query.columns.map((c) => `CAST(NULL AS ${d.sqlType(c.type)}) AS ${this.q(c.name)}`);
      return this.cte(`SELECT ${nulls.join(', ')} WHERE false`, query.columns, false);
    }
    const rows = query.rows.map(
      (row) =>
        `(${row.map((v, i) => this.valueAs(v, query.columns[i] ?? { name: '', type: v.type }, empty)).join(', ')})`,
    );
    const names = query.columns.map((c) => this.q(c.name)).join(', ');
    return this.cte(`SELECT * FROM (VALUES ${rows.join(', ')}) AS v(${names})`, query.columns, false);
  }

  private file(query: Extract<Query, { kind: 'file' }>): Rel {
    const d = this.dialect;
    const root = this.options.files?.root;
    if (!root) {
      throw new KqlError(
        'kql/unsupported',
        'externaldata from a local file needs a data folder configured for hunting',
      );
    }
    const path = resolve(root, query.path);
    const inside = relative(resolve(root), path);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new KqlError(
        'kql/unsupported',
        `externaldata may only read files under the hunting data folder, not ${query.path}`,
      );
    }
    const source = d.readFile(this.param(path), query.format, query.skipFirst, query.columns.length);
    const items = query.columns.map(
      (c, i) => `${d.convert(this.q(`c${i}`), 'string', c.type)} AS ${this.q(c.name)}`,
    );
    return this.cte(`SELECT ${items.join(', ')} FROM ${source}`, query.columns, false);
  }
}
