// Entity sets (alerts, incidents, machines, sensors) as data: which properties a client may
// filter and sort on, their types and the `$top` cap. Checking a parsed query against one gives
// the ValidatedQuery that the SQL and in-memory back ends run.
import {
  assertNever,
  type ComparisonOperator,
  describeLiteral,
  type FilterNode,
  type Literal,
  ODataError,
  type ODataErrorCode,
  type ODataQuery,
  type ODataResult,
  odataLimits,
  type PropertyRef,
  parseODataQuery,
} from './odata.ts';

export const propertyTypes = ['string', 'enum', 'datetime', 'integer', 'number', 'boolean', 'guid'] as const;
export type PropertyType = (typeof propertyTypes)[number];

interface PropertyFlags {
  /** May appear in `$filter`; default true. */
  readonly filterable?: boolean;
  /** May appear in `$orderby`; default true. */
  readonly sortable?: boolean;
  readonly description?: string;
}

/**
 * One queryable property. Stored values must match the type: `datetime` as
 * `Date.prototype.toISOString()` text (UTC, milliseconds, so text order is time order), `guid`
 * lower-case, `boolean` as 0/1 in SQL. Enums sort by the order of `values`; `ordered` enums also
 * allow gt/ge/lt/le in that order (`severity ge 'Medium'`).
 */
export type PropertyDefinition =
  | (PropertyFlags & { readonly type: Exclude<PropertyType, 'enum'> })
  | (PropertyFlags & {
      readonly type: 'enum';
      readonly values: readonly string[];
      readonly ordered?: boolean;
    });

export type PropertyMap = Readonly<Record<string, PropertyDefinition>>;

export interface SortKey<Name extends string = string> {
  readonly property: Name;
  readonly direction: 'asc' | 'desc';
}

export interface EntitySetDefinition<P extends PropertyMap> {
  /** The name in the URL: `alerts`. */
  readonly name: string;
  /** A unique property, the last sort key so that paging with `$skip` is stable. */
  readonly key: keyof P & string;
  readonly properties: P;
  /** The largest `$top`, also the page size when `$top` is absent. */
  readonly maxTop: number;
  /** The order when `$orderby` is absent (before the key). */
  readonly defaultOrderBy?: readonly SortKey<keyof P & string>[];
  /** Navigation properties `$expand` accepts; the route fills them in. */
  readonly expand?: readonly string[];
}

/** A checked entity set; covariant in P, so any set is an `EntitySet`. */
export interface EntitySet<P extends PropertyMap = PropertyMap> {
  readonly name: string;
  readonly key: string;
  readonly properties: P;
  readonly maxTop: number;
  readonly defaultOrderBy: readonly SortKey[];
  readonly expand: readonly string[];
}

/**
 * Checks and freezes an entity set definition; a bad definition is a bug, so it throws.
 * @example defineEntitySet({ name: 'sensors', key: 'id', maxTop: 1000,
 *   properties: { id: { type: 'guid' }, lastSeen: { type: 'datetime' } } })
 */
export function defineEntitySet<const P extends PropertyMap>(
  definition: EntitySetDefinition<P>,
): EntitySet<P> {
  const { name, key, properties, maxTop } = definition;
  const defaultOrderBy = definition.defaultOrderBy ?? [];
  const problems: string[] = [];
  if (!Object.hasOwn(properties, key)) problems.push(`key '${key}' is not a property`);
  if (!Number.isSafeInteger(maxTop) || maxTop < 1)
    problems.push(`maxTop ${maxTop} is not a positive integer`);
  for (const { property } of defaultOrderBy) {
    if (!Object.hasOwn(properties, property))
      problems.push(`default order property '${property}' is unknown`);
  }
  for (const [property, def] of Object.entries(properties)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(property))
      problems.push(`property name '${property}' is not an identifier`);
    if (def.type === 'enum' && def.values.length === 0) problems.push(`enum '${property}' has no values`);
  }
  if (problems.length > 0) throw new Error(`entity set ${name}: ${problems.join('; ')}`);
  return Object.freeze({
    name,
    key,
    properties: Object.freeze({ ...properties }),
    maxTop,
    defaultOrderBy: Object.freeze([...defaultOrderBy]),
    expand: Object.freeze([...(definition.expand ?? [])]),
  });
}

/** A value as the back ends compare it (see PropertyDefinition for the stored forms). */
export type ScalarValue = string | number | boolean;

/** `$filter` after checking: values typed and normalised, enum ranges turned into sets. */
export type ValidFilter =
  | {
      readonly kind: 'compare';
      readonly op: ComparisonOperator;
      readonly property: string;
      readonly value: ScalarValue;
    }
  | { readonly kind: 'in'; readonly property: string; readonly values: readonly ScalarValue[] }
  | { readonly kind: 'is-null'; readonly property: string }
  | { readonly kind: 'and' | 'or'; readonly items: readonly ValidFilter[] }
  | { readonly kind: 'not'; readonly item: ValidFilter };

export interface ValidSortKey extends SortKey {
  /** For enums: the values in sort order; values not listed sort like null. */
  readonly rank?: readonly string[];
}

/** A query ready to run: always a page size and an order that ends with the key. */
export interface ValidatedQuery {
  readonly entitySet: string;
  readonly filter?: ValidFilter;
  readonly orderBy: readonly ValidSortKey[];
  readonly top: number;
  readonly skip: number;
  readonly expand: readonly string[];
}

/**
 * Parses and checks the query options of a list request.
 * @example readODataQuery(url.searchParams, alertsEntitySet)
 */
export function readODataQuery(
  params: Iterable<readonly [string, string]>,
  entitySet: EntitySet,
): ODataResult<ValidatedQuery> {
  const parsed = parseODataQuery(params);
  return parsed.ok ? validateODataQuery(parsed.value, entitySet) : parsed;
}

/** Checks a parsed query against an entity set, reporting every problem found. */
export function validateODataQuery(query: ODataQuery, entitySet: EntitySet): ODataResult<ValidatedQuery> {
  const checker = new QueryChecker(entitySet);
  const filter = query.filter === undefined ? undefined : checker.filter(query.filter);
  const orderBy = checker.orderBy(query);
  const expand = query.expand.map((ref) => checker.expand(ref));
  if (query.top !== undefined && query.top > entitySet.maxTop) {
    checker.report(
      'odata/out-of-range',
      '$top',
      0,
      `an integer from 0 to ${entitySet.maxTop}`,
      `${query.top}`,
    );
  }
  if (checker.errors.length > 0) return { ok: false, errors: checker.errors };
  return {
    ok: true,
    value: {
      entitySet: entitySet.name,
      ...(filter === undefined ? {} : { filter }),
      orderBy,
      top: query.top ?? entitySet.maxTop,
      skip: query.skip ?? 0,
      expand,
    },
  };
}

const rangeOperators: ReadonlySet<ComparisonOperator> = new Set(['gt', 'ge', 'lt', 'le']);
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class QueryChecker {
  readonly errors: ODataError[] = [];
  private readonly set: EntitySet;

  constructor(set: EntitySet) {
    this.set = set;
  }

  report(code: ODataErrorCode, option: string, offset: number, expected: string, found: string): undefined {
    if (this.errors.length < odataLimits.maxErrors) {
      this.errors.push(new ODataError({ code, option, offset, expected, found }));
    }
    return undefined;
  }

  /** Checks every node so that all errors are reported; undefined when any was wrong. */
  filter(node: FilterNode): ValidFilter | undefined {
    switch (node.kind) {
      case 'compare':
        return this.compare(node);
      case 'in':
        return this.in(node.property, node.values);
      case 'and':
      case 'or': {
        const items = node.items.map((item) => this.filter(item));
        return items.every((item) => item !== undefined) ? { kind: node.kind, items } : undefined;
      }
      case 'not': {
        const item = this.filter(node.item);
        return item === undefined ? undefined : { kind: 'not', item };
      }
      default:
        return assertNever(node);
    }
  }

  private compare(node: Extract<FilterNode, { kind: 'compare' }>): ValidFilter | undefined {
    const def = this.property(node.property, 'filter');
    if (def === undefined) return undefined;
    const { op, value: literal } = node;
    const name = node.property.name;
    if (literal.kind === 'null') {
      if (op === 'eq') return { kind: 'is-null', property: name };
      if (op === 'ne') return { kind: 'not', item: { kind: 'is-null', property: name } };
      return this.report(
        'odata/type-mismatch',
        '$filter',
        literal.offset,
        `a value (${op} null is never true)`,
        'null',
      );
    }
    if (rangeOperators.has(op) && (def.type === 'boolean' || (def.type === 'enum' && def.ordered !== true))) {
      const kind = def.type === 'enum' ? 'unordered enum' : 'boolean';
      return this.report(
        'odata/type-mismatch',
        '$filter',
        node.offset,
        `eq, ne or in for ${kind} '${name}'`,
        `'${op}'`,
      );
    }
    const value = this.value(literal, name, def);
    if (value === undefined) return undefined;
    if (def.type === 'enum' && rangeOperators.has(op)) {
      // An ordered enum's range is a set of values, which both back ends can test directly.
      const at = def.values.indexOf(String(value));
      const values = def.values.filter((_, i) =>
        op === 'gt' ? i > at : op === 'ge' ? i >= at : op === 'lt' ? i < at : i <= at,
      );
      return { kind: 'in', property: name, values };
    }
    return { kind: 'compare', op, property: name, value };
  }

  private in(property: PropertyRef, literals: readonly Literal[]): ValidFilter | undefined {
    const def = this.property(property, 'filter');
    if (def === undefined) return undefined;
    let withNull = false;
    const values: ScalarValue[] = [];
    let failed = false;
    for (const literal of literals) {
      if (literal.kind === 'null') {
        withNull = true;
        continue;
      }
      const value = this.value(literal, property.name, def);
      if (value === undefined) failed = true;
      else values.push(value);
    }
    if (failed) return undefined;
    // `p in (…, null)` means `p eq …` or `p eq null`, and SQL's IN never matches NULL.
    const isNull: ValidFilter = { kind: 'is-null', property: property.name };
    if (!withNull) return { kind: 'in', property: property.name, values };
    return values.length === 0
      ? isNull
      : { kind: 'or', items: [{ kind: 'in', property: property.name, values }, isNull] };
  }

  /** The literal as the property's type, or undefined after reporting a mismatch. */
  private value(
    literal: Exclude<Literal, { kind: 'null' }>,
    name: string,
    def: PropertyDefinition,
  ): ScalarValue | undefined {
    const mismatch = (expected: string): undefined =>
      this.report(
        'odata/type-mismatch',
        '$filter',
        literal.offset,
        `${expected} for '${name}'`,
        describeLiteral(literal),
      );
    switch (def.type) {
      case 'string':
        return literal.kind === 'string' ? literal.value : mismatch('a string in single quotes');
      case 'enum': {
        if (literal.kind !== 'string') return mismatch(`a string in single quotes`);
        if (def.values.includes(literal.value)) return literal.value;
        const near = def.values.find((v) => v.toLowerCase() === literal.value.toLowerCase());
        return this.report(
          'odata/bad-value',
          '$filter',
          literal.offset,
          `one of ${def.values.map((v) => `'${v}'`).join(', ')} for '${name}'`,
          `${describeLiteral(literal)}${near === undefined ? '' : ` (did you mean '${near}'?)`}`,
        );
      }
      case 'datetime':
        if (literal.kind === 'datetime') return literal.value;
        return mismatch(
          literal.kind === 'string'
            ? 'an unquoted ISO 8601 datetime such as 2019-11-22T00:00:00Z'
            : 'an ISO 8601 datetime such as 2019-11-22T00:00:00Z',
        );
      case 'integer':
        return literal.kind === 'number' && Number.isInteger(literal.value)
          ? literal.value
          : mismatch('an integer');
      case 'number':
        return literal.kind === 'number' ? literal.value : mismatch('a number');
      case 'boolean':
        return literal.kind === 'boolean' ? literal.value : mismatch('true or false');
      case 'guid':
        if (literal.kind === 'guid') return literal.value;
        if (literal.kind === 'string' && guidPattern.test(literal.value)) return literal.value.toLowerCase();
        return mismatch('a GUID');
      default:
        return assertNever(def);
    }
  }

  /** The definition of a property used in `$filter` or `$orderby`, or undefined after reporting. */
  private property(ref: PropertyRef, use: 'filter' | 'sort'): PropertyDefinition | undefined {
    const option = use === 'filter' ? '$filter' : '$orderby';
    const allowed = (def: PropertyDefinition): boolean =>
      (use === 'filter' ? def.filterable : def.sortable) !== false;
    const def = Object.hasOwn(this.set.properties, ref.name) ? this.set.properties[ref.name] : undefined;
    if (def !== undefined && allowed(def)) return def;
    if (this.errors.length >= odataLimits.maxErrors) return undefined;
    const usable = Object.entries(this.set.properties)
      .filter(([, d]) => allowed(d))
      .map(([name]) => name)
      .sort();
    const expected = `one of the ${use === 'filter' ? 'filterable' : 'sortable'} properties of ${this.set.name}: ${usable.join(', ')}`;
    if (def === undefined) {
      const near = usable.find((name) => name.toLowerCase() === ref.name.toLowerCase());
      return this.report(
        'odata/unknown-property',
        option,
        ref.offset,
        expected,
        `'${ref.name}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`,
      );
    }
    const code = use === 'filter' ? 'odata/not-filterable' : 'odata/not-sortable';
    return this.report(
      code,
      option,
      ref.offset,
      expected,
      `'${ref.name}', which cannot be used in ${option}`,
    );
  }

  orderBy(query: ODataQuery): ValidSortKey[] {
    const keys: ValidSortKey[] = [];
    const requested = query.orderBy.length > 0 ? query.orderBy : undefined;
    const items =
      requested ??
      this.set.defaultOrderBy.map(({ property, direction }) => ({
        property: { name: property, offset: 0 },
        direction,
      }));
    for (const { property, direction } of items) {
      const def =
        requested === undefined ? this.set.properties[property.name] : this.property(property, 'sort');
      if (def === undefined) continue;
      keys.push({ property: property.name, direction, ...(def.type === 'enum' ? { rank: def.values } : {}) });
    }
    if (!keys.some((key) => key.property === this.set.key))
      keys.push({ property: this.set.key, direction: 'asc' });
    return keys;
  }

  expand(ref: PropertyRef): string {
    if (!this.set.expand.includes(ref.name)) {
      const expected =
        this.set.expand.length === 0
          ? `no $expand: ${this.set.name} has nothing to expand`
          : `one of ${this.set.expand.join(', ')}`;
      this.report('odata/unknown-property', '$expand', ref.offset, expected, `'${ref.name}'`);
    }
    return ref.name;
  }
}
