// Turns one YAML document into a typed Sigma document (detection rule, correlation rule or
// meta-filter). Problems throw SigmaError with the YAML path they concern, so the loader can
// name the line.
import { parseCondition } from './condition.ts';
import { SigmaError } from './diagnostics.ts';
import { buildValueTests, type Placeholders, type RawValue } from './modifiers.ts';
import {
  type Condition,
  type CorrelationComparison,
  type CorrelationCondition,
  type CorrelationRule,
  type CorrelationType,
  correlationTypes,
  type DetectionRule,
  type FieldTest,
  type FilterRule,
  type LogSource,
  type RuleMeta,
  type Search,
  type SigmaDocument,
  type SigmaLevel,
  type SourceLocation,
  sigmaLevels,
} from './rule.ts';

type Json = RawValue | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is RawValue {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function stringList(v: Json | undefined, path: (string | number)[]): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return v.map(String);
  throw new SigmaError('sigma/bad-field', `expected a string or a list of strings`, path);
}

function optionalString(doc: Obj, key: string): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  throw new SigmaError('sigma/bad-field', `'${key}' must be a string`, [key]);
}

function parseMeta(doc: Obj, source: SourceLocation): RuleMeta {
  const title = doc.title;
  if (typeof title !== 'string' || title.trim() === '')
    throw new SigmaError('sigma/missing-field', `a rule needs a 'title'`, []);
  const levelText = optionalString(doc, 'level') ?? 'medium';
  if (!(sigmaLevels as readonly string[]).includes(levelText)) {
    throw new SigmaError(
      'sigma/bad-field',
      `level must be one of ${sigmaLevels.join(', ')}, found '${levelText}'`,
      ['level'],
    );
  }
  const meta: { -readonly [K in keyof RuleMeta]: RuleMeta[K] } = {
    title,
    level: levelText as SigmaLevel,
    tags: stringList(doc.tags, ['tags']),
    references: stringList(doc.references, ['references']),
    falsepositives: stringList(doc.falsepositives, ['falsepositives']),
    source,
  };
  for (const key of ['id', 'name', 'status', 'description', 'author', 'date'] as const) {
    const v = optionalString(doc, key);
    if (v !== undefined) meta[key] = v;
  }
  return meta;
}

function parseLogSource(v: Json | undefined, required: boolean): LogSource {
  if (v === undefined || v === null) {
    if (required) throw new SigmaError('sigma/missing-field', `a detection rule needs a 'logsource'`, []);
    return {};
  }
  if (!isObj(v)) throw new SigmaError('sigma/bad-field', `'logsource' must be a map`, ['logsource']);
  const ls: { -readonly [K in keyof LogSource]: LogSource[K] } = {};
  for (const key of ['product', 'category', 'service'] as const) {
    const x = v[key];
    if (typeof x === 'string') ls[key] = x.toLowerCase();
  }
  return ls;
}

/** Options for reading rules. */
export interface ParseOptions {
  /** Values for `expand` placeholders. */
  readonly placeholders?: Placeholders;
}

function parseSearches(detection: Obj, placeholders: Placeholders, base: string[]): Record<string, Search> {
  const searches: Record<string, Search> = {};
  for (const [name, value] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    searches[name] = parseSearch(value, placeholders, [...base, name]);
  }
  return searches;
}

function parseSearch(value: Json, placeholders: Placeholders, path: (string | number)[]): Search {
  if (isScalar(value)) {
    if (value === null) throw new SigmaError('sigma/bad-value', `a search identifier cannot be empty`, path);
    return { kind: 'keywords', tests: buildValueTests([], [value], placeholders).tests, all: false };
  }
  if (Array.isArray(value)) {
    if (value.length === 0)
      throw new SigmaError('sigma/bad-value', `a search identifier cannot be an empty list`, path);
    if (value.every(isScalar)) {
      return {
        kind: 'keywords',
        tests: buildValueTests([], value as RawValue[], placeholders).tests,
        all: false,
      };
    }
    if (value.every(isObj)) {
      return {
        kind: 'fields',
        groups: value.map((map, i) => parseFieldMap(map as Obj, placeholders, [...path, i])),
      };
    }
    throw new SigmaError('sigma/bad-value', `a list mixes keywords and field maps`, path);
  }
  const keys = Object.keys(value);
  // `'|all': [...]` and other field-less keys are keyword searches with modifiers.
  if (keys.length > 0 && keys.every((k) => k.startsWith('|'))) {
    if (keys.length !== 1)
      throw new SigmaError('sigma/bad-value', `a keyword search takes one modifier key`, path);
    const key = keys[0] as string;
    const { tests, all } = withPath([...path, key], () =>
      buildValueTests(key.slice(1).split('|'), toValues(value[key] as Json, [...path, key]), placeholders),
    );
    return { kind: 'keywords', tests, all };
  }
  return { kind: 'fields', groups: [parseFieldMap(value, placeholders, path)] };
}

function parseFieldMap(map: Obj, placeholders: Placeholders, path: (string | number)[]): FieldTest[] {
  return Object.entries(map).map(([key, value]) => {
    const [field, ...modifiers] = key.split('|');
    if (field === undefined || field === '')
      throw new SigmaError('sigma/bad-field', `field name missing in '${key}'`, [...path, key]);
    const values = toValues(value, [...path, key]);
    const { tests, all } = withPath([...path, key], () => buildValueTests(modifiers, values, placeholders));
    return { field, modifiers, tests, all };
  });
}

function toValues(value: Json, path: (string | number)[]): RawValue[] {
  if (isScalar(value)) return [value];
  if (Array.isArray(value) && value.every(isScalar)) {
    if (value.length === 0) throw new SigmaError('sigma/bad-value', `empty list of values`, path);
    return value as RawValue[];
  }
  throw new SigmaError(
    'sigma/bad-value',
    `a field takes a value or a list of values, not a nested map`,
    path,
  );
}

function withPath<T>(path: (string | number)[], f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SigmaError && e.path.length === 0) throw new SigmaError(e.code, e.message, path);
    throw e;
  }
}

function parseConditionField(
  v: Json | undefined,
  searchNames: string[],
  path: (string | number)[],
): Condition {
  if (v === undefined || v === null)
    throw new SigmaError('sigma/missing-field', `a detection needs a 'condition'`, path.slice(0, -1));
  const texts =
    typeof v === 'string'
      ? [v]
      : Array.isArray(v) && v.every((x) => typeof x === 'string')
        ? (v as string[])
        : undefined;
  if (!texts || texts.length === 0)
    throw new SigmaError('sigma/bad-condition', `'condition' must be a string or a list of strings`, path);
  const parsed = texts.map((t) => withPath(path, () => parseCondition(t, searchNames)));
  return parsed.length === 1 ? (parsed[0] as Condition) : { kind: 'or', items: parsed };
}

function parseDetection(doc: Obj, source: SourceLocation, placeholders: Placeholders): DetectionRule {
  const meta = parseMeta(doc, source);
  const logsource = parseLogSource(doc.logsource, true);
  const detection = doc.detection;
  if (!isObj(detection))
    throw new SigmaError('sigma/missing-field', `a detection rule needs a 'detection' map`, []);
  if (detection.timeframe !== undefined) {
    throw new SigmaError(
      'sigma/unsupported',
      `'timeframe' with aggregations is Sigma 1 syntax; write a correlation rule instead`,
      ['detection', 'timeframe'],
    );
  }
  const searches = parseSearches(detection, placeholders, ['detection']);
  const condition = parseConditionField(detection.condition, Object.keys(searches), [
    'detection',
    'condition',
  ]);
  return {
    ...meta,
    kind: 'detection',
    logsource,
    searches,
    condition,
    fields: stringList(doc.fields, ['fields']),
  };
}

const timespanUnits: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses a Sigma timespan such as `90s`, `5m`, `1h`, `2d` into milliseconds. */
export function parseTimespan(text: string): number | undefined {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (timespanUnits[m[2] as string] as number);
}

const conditionOps = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;

function parseCorrelation(doc: Obj, source: SourceLocation): CorrelationRule {
  const meta = parseMeta(doc, source);
  const c = doc.correlation;
  if (!isObj(c))
    throw new SigmaError('sigma/bad-correlation', `'correlation' must be a map`, ['correlation']);
  const type = c.type;
  if (typeof type !== 'string' || !(correlationTypes as readonly string[]).includes(type)) {
    throw new SigmaError(
      'sigma/bad-correlation',
      `correlation type must be one of ${correlationTypes.join(', ')}, found ${JSON.stringify(type)}`,
      ['correlation', 'type'],
    );
  }
  const rules = stringList(c.rules, ['correlation', 'rules']);
  if (rules.length === 0)
    throw new SigmaError('sigma/bad-correlation', `a correlation needs 'rules'`, ['correlation']);
  const timespanText = c.timespan ?? c.timeframe;
  const timespanMs = typeof timespanText === 'string' ? parseTimespan(timespanText) : undefined;
  if (timespanMs === undefined) {
    throw new SigmaError(
      'sigma/bad-correlation',
      `'timespan' must be a number with unit s, m, h, d or w, found ${JSON.stringify(timespanText)}`,
      ['correlation', 'timespan'],
    );
  }
  const groupBy = stringList(c['group-by'], ['correlation', 'group-by']);
  let condition: CorrelationCondition | undefined;
  if (c.condition !== undefined) {
    if (!isObj(c.condition))
      throw new SigmaError('sigma/bad-correlation', `'condition' must be a map like { gte: 10 }`, [
        'correlation',
        'condition',
      ]);
    // One comparison, or several that must all hold: a range such as { gt: 100, lte: 200 }.
    const names = Object.keys(c.condition).filter((k) => k !== 'field');
    if (names.length === 0 || !names.every((n) => (conditionOps as readonly string[]).includes(n))) {
      throw new SigmaError(
        'sigma/bad-correlation',
        `condition takes ${conditionOps.join(', ')}, found ${names.join(', ') || 'none'}`,
        ['correlation', 'condition'],
      );
    }
    const ops = names.map((name) => {
      const value = Number((c.condition as Obj)[name]);
      if (Number.isNaN(value))
        throw new SigmaError('sigma/bad-correlation', `condition value must be a number`, [
          'correlation',
          'condition',
          name,
        ]);
      return { op: name as CorrelationComparison['op'], value };
    });
    const field = c.condition.field;
    condition = { ops, ...(typeof field === 'string' ? { field } : {}) };
  }
  if ((type === 'event_count' || type === 'value_count') && !condition) {
    throw new SigmaError('sigma/bad-correlation', `${type} needs a 'condition'`, ['correlation']);
  }
  if (type === 'value_count' && !condition?.field) {
    throw new SigmaError('sigma/bad-correlation', `value_count needs 'condition.field'`, [
      'correlation',
      'condition',
    ]);
  }
  const aliases: Record<string, Record<string, string>> = {};
  if (c.aliases !== undefined) {
    if (!isObj(c.aliases))
      throw new SigmaError('sigma/bad-correlation', `'aliases' must be a map`, ['correlation', 'aliases']);
    for (const [alias, mapping] of Object.entries(c.aliases)) {
      if (!isObj(mapping) || !Object.values(mapping).every((x) => typeof x === 'string')) {
        throw new SigmaError('sigma/bad-correlation', `alias '${alias}' must map rule names to field names`, [
          'correlation',
          'aliases',
          alias,
        ]);
      }
      aliases[alias] = mapping as Record<string, string>;
    }
  }
  const generate = c.generate === true || doc.generate === true;
  return {
    ...meta,
    kind: 'correlation',
    type: type as CorrelationType,
    rules,
    groupBy,
    timespanMs,
    aliases,
    generate,
    ...(condition ? { condition } : {}),
  };
}

function parseFilter(doc: Obj, source: SourceLocation, placeholders: Placeholders): FilterRule {
  const meta = parseMeta(doc, source);
  const f = doc.filter;
  if (!isObj(f)) throw new SigmaError('sigma/bad-filter', `'filter' must be a map`, ['filter']);
  const rules = stringList(f.rules, ['filter', 'rules']);
  if (rules.length === 0) throw new SigmaError('sigma/bad-filter', `a filter needs 'rules'`, ['filter']);
  const { rules: _rules, condition: _condition, ...rest } = f;
  const searches = parseSearches(rest as Obj, placeholders, ['filter']);
  const condition = parseConditionField(f.condition, Object.keys(searches), ['filter', 'condition']);
  return {
    ...meta,
    kind: 'filter',
    logsource: parseLogSource(doc.logsource, false),
    rules,
    searches,
    condition,
  };
}

/** Reads one YAML document's value into a Sigma document. */
export function parseSigmaDocument(
  doc: unknown,
  source: SourceLocation,
  options: ParseOptions = {},
): SigmaDocument {
  if (!isObj(doc as Json)) throw new SigmaError('sigma/not-a-rule', `a Sigma document must be a map`, []);
  const obj = doc as Obj;
  const placeholders = options.placeholders ?? {};
  if (obj.correlation !== undefined) return parseCorrelation(obj, source);
  if (obj.filter !== undefined) return parseFilter(obj, source, placeholders);
  if (obj.detection === undefined)
    throw new SigmaError('sigma/not-a-rule', `no 'detection', 'correlation' or 'filter' section`, []);
  return parseDetection(obj, source, placeholders);
}
