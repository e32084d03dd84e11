// The two back ends of a validated query: the SQL it compiles to, and a property test that the
// SQL run on a real SQLite (better-sqlite3, the state store's driver) returns the same records
// in the same order as the in-memory evaluator, for random data and random queries.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type ComparisonOperator, type FilterNode, formatFilter, type Literal } from '../src/api/odata.ts';
import {
  defineEntitySet,
  type PropertyDefinition,
  readODataQuery,
  type ValidatedQuery,
} from '../src/api/odata-entity.ts';
import { alertsEntitySet } from '../src/api/odata-entity-sets.ts';
import { applyODataQuery, matchesFilter } from '../src/api/odata-evaluate.ts';
import { compileSqlQuery, type SqlValue, sqlClauses } from '../src/api/odata-sql.ts';

// The server's library code must not depend on the driver; only this test loads it, resolved
// from the store package that owns the dependency.
const requireFromStore = createRequire(new URL('../../store/package.json', import.meta.url));
const Database = requireFromStore('better-sqlite3') as typeof import('better-sqlite3');

function validated(query: string | [string, string][]): ValidatedQuery {
  const result = readODataQuery(
    typeof query === 'string' ? new URLSearchParams(query) : query,
    alertsEntitySet,
  );
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.value;
}

const quoteColumn = (property: string): string => `"${property}"`;

describe('SQL', () => {
  it('binds every value and pushes not down to the comparisons', () => {
    const sql = compileSqlQuery(
      validated(
        `$filter=${encodeURIComponent(
          "severity ge 'Medium' and not (status eq 'Resolved' or assignedTo eq null or incidentId gt 5 or category in ('a', 'b')) and lastUpdateTime ge 2019-11-22T00:00:00Z",
        )}&$orderby=severity desc,lastUpdateTime&$top=10&$skip=20`,
      ),
      quoteColumn,
    );
    expect(sql).toEqual({
      where:
        '("severity" IN (?, ?) AND ("status" IS NOT ? AND "assignedTo" IS NOT NULL AND ("incidentId" IS NULL OR "incidentId" <= ?) AND ("category" IS NULL OR "category" NOT IN (?, ?))) AND "lastUpdateTime" >= ?)',
      params: ['Medium', 'High', 'Resolved', 5, 'a', 'b', '2019-11-22T00:00:00.000Z'],
      orderBy:
        'CASE "severity" WHEN ? THEN 0 WHEN ? THEN 1 WHEN ? THEN 2 WHEN ? THEN 3 WHEN ? THEN 4 END DESC, "lastUpdateTime" ASC, "id" ASC',
      orderByParams: ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'],
      limit: 10,
      offset: 20,
    });
  });

  it.each([
    ["status eq 'New'", '"status" = ?', ['New']],
    ["status ne 'New'", '"status" IS NOT ?', ['New']],
    ["not (status ne 'New')", '"status" = ?', ['New']],
    ['incidentId gt 1', '"incidentId" > ?', [1]],
    ['incidentId ge 1', '"incidentId" >= ?', [1]],
    ['incidentId lt 1', '"incidentId" < ?', [1]],
    ['incidentId le 1', '"incidentId" <= ?', [1]],
    ['not (incidentId lt 1)', '("incidentId" IS NULL OR "incidentId" >= ?)', [1]],
    ['assignedTo ne null', '"assignedTo" IS NOT NULL', []],
    ["severity gt 'High'", '0', []],
    ["not (severity gt 'High')", '1', []],
    ["not (status eq 'New' and incidentId eq 1)", '("status" IS NOT ? OR "incidentId" IS NOT ?)', ['New', 1]],
  ])('%s', (filter, where, params) => {
    const sql = compileSqlQuery(validated(`$filter=${encodeURIComponent(filter)}`), quoteColumn);
    expect([sql.where, sql.params]).toEqual([where, params]);
  });

  it('uses 1 without a filter, binds booleans as 1/0 and gives the clauses whole', () => {
    const sensors = defineEntitySet({
      name: 'sensors',
      key: 'id',
      maxTop: 5,
      properties: { id: { type: 'string' }, delayedUpdate: { type: 'boolean' } },
    });
    const query = readODataQuery([['$filter', 'delayedUpdate eq true or delayedUpdate ne false']], sensors);
    const sql = compileSqlQuery(query.ok ? query.value : validated(''), (p) => `s.${p}`);
    expect(sqlClauses(sql)).toEqual({
      text: 'WHERE (s.delayedUpdate = ? OR s.delayedUpdate IS NOT ?) ORDER BY s.id ASC LIMIT ? OFFSET ?',
      params: [1, 0, 5, 0],
    });
    expect(compileSqlQuery(validated('$top=1'), quoteColumn)).toMatchObject({ where: '1', params: [] });
  });

  it('never splices a value into the SQL text', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE alerts (id TEXT, assignedTo TEXT)');
    db.prepare('INSERT INTO alerts VALUES (?, ?)').run('a1', "x'); DROP TABLE alerts; --");
    const sql = compileSqlQuery(
      validated([['$filter', "assignedTo eq 'x''); DROP TABLE alerts; --'"]]),
      (p) => (p === 'id' || p === 'assignedTo' ? `"${p}"` : 'NULL'),
    );
    expect(sql.where).toBe('"assignedTo" = ?');
    const { text, params } = sqlClauses(sql);
    expect(db.prepare(`SELECT id FROM alerts ${text}`).all(...params)).toEqual([{ id: 'a1' }]);
    db.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Property test: SQLite and the evaluator agree.

const things = defineEntitySet({
  name: 'things',
  key: 'id',
  maxTop: 40,
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    label: { type: 'string' },
    level: { type: 'enum', values: ['Low', 'Medium', 'High'], ordered: true },
    state: { type: 'enum', values: ['New', 'Active', 'Resolved'] },
    seen: { type: 'datetime' },
    score: { type: 'number' },
    count: { type: 'integer' },
    active: { type: 'boolean' },
    owner: { type: 'guid' },
  },
});
type ThingProperty = keyof typeof things.properties;
const propertyNames = Object.keys(things.properties) as ThingProperty[];

const sqlTypes: Record<PropertyDefinition['type'], string> = {
  string: 'TEXT',
  enum: 'TEXT',
  datetime: 'TEXT',
  guid: 'TEXT',
  integer: 'INTEGER',
  number: 'REAL',
  boolean: 'INTEGER',
};

// Small pools so that comparisons hit stored values. The strings cover case, quotes, accents,
// U+E000 against astral characters (UTF-16 and UTF-8 order differ there) and NUL.
const stringPool = [
  '',
  'a',
  'A',
  'ab',
  'b',
  'a b',
  "it's",
  'é',
  'z',
  '😀',
  '\uE000',
  '\uFFFD',
  'Ab',
  'a\u0000b',
];
const anyString = fc.oneof(fc.constantFrom(...stringPool), fc.string({ unit: 'binary', maxLength: 3 }));
const instantPool = [
  '2019-11-22T00:00:00.000Z',
  '2019-11-22T00:00:00.001Z',
  '2019-11-21T23:59:59.999Z',
  '2024-02-29T12:30:00.000Z',
  '0001-01-01T00:00:00.000Z',
];
const anyInstant = fc.oneof(
  fc.constantFrom(...instantPool),
  fc
    .date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2030-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
);
const guidPool = [
  '00000000-0000-0000-0000-000000000000',
  '80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
];
const anyInteger = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
);
const anyNumber = fc.oneof(
  anyInteger,
  fc.constantFrom(0.5, -0.5, 1.25, -0),
  fc.double({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true }),
);

/** Stored values of one type; enums include one value outside the enum. */
function storedValue(name: ThingProperty): fc.Arbitrary<string | number | boolean> {
  const def: PropertyDefinition = things.properties[name];
  switch (def.type) {
    case 'string':
      return anyString;
    case 'enum':
      return fc.constantFrom(...def.values, 'Bogus');
    case 'datetime':
      return anyInstant;
    case 'guid':
      return fc.constantFrom(...guidPool);
    case 'integer':
      return anyInteger;
    case 'number':
      return anyNumber;
    case 'boolean':
      return fc.boolean();
  }
}

function literalOf(name: ThingProperty): fc.Arbitrary<Literal> {
  const def: PropertyDefinition = things.properties[name];
  switch (def.type) {
    case 'string':
      return anyString.map((value) => ({ kind: 'string', value, offset: 0 }));
    case 'enum':
      return fc.constantFrom(...def.values).map((value) => ({ kind: 'string', value, offset: 0 }));
    case 'datetime':
      return anyInstant.map((value) => ({ kind: 'datetime', value, offset: 0 }));
    case 'guid':
      return fc.constantFrom(...guidPool).map((value) => ({ kind: 'guid', value, offset: 0 }));
    case 'integer':
      return anyInteger.map((value) => ({ kind: 'number', value, offset: 0 }));
    case 'number':
      return anyNumber.map((value) => ({ kind: 'number', value, offset: 0 }));
    case 'boolean':
      return fc.boolean().map((value) => ({ kind: 'boolean', value, offset: 0 }));
  }
}

function operatorsFor(name: ThingProperty): ComparisonOperator[] {
  const def: PropertyDefinition = things.properties[name];
  const ordered = def.type !== 'boolean' && (def.type !== 'enum' || def.ordered === true);
  return ordered ? ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] : ['eq', 'ne'];
}

const nullLiteral: Literal = { kind: 'null', offset: 0 };

const leaf: fc.Arbitrary<FilterNode> = fc.constantFrom(...propertyNames).chain((name) => {
  const property = { name, offset: 0 };
  const compare = (op: ComparisonOperator, value: Literal): FilterNode => ({
    kind: 'compare',
    op,
    property,
    value,
    offset: 0,
  });
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(fc.constantFrom(...operatorsFor(name)), literalOf(name))
        .map(([op, v]) => compare(op, v)),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('eq' as const, 'ne' as const).map((op) => compare(op, nullLiteral)),
    },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.oneof({ weight: 5, arbitrary: literalOf(name) }, fc.constant(nullLiteral)), {
          minLength: 1,
          maxLength: 4,
        })
        .map((values): FilterNode => ({ kind: 'in', property, values })),
    },
  );
});

const { filter: filterArbitrary } = fc.letrec<{ filter: FilterNode }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc
      .array(tie('filter'), { minLength: 2, maxLength: 3 })
      .map((items): FilterNode => ({ kind: 'and', items })),
    fc
      .array(tie('filter'), { minLength: 2, maxLength: 3 })
      .map((items): FilterNode => ({ kind: 'or', items })),
    tie('filter').map((item): FilterNode => ({ kind: 'not', item })),
  ),
}));

const thing = (id: number) =>
  fc
    .record(
      Object.fromEntries(
        propertyNames
          .filter((name) => name !== 'id')
          .map((name) => [name, fc.option(storedValue(name), { freq: 5, nil: null })]),
      ) as Record<Exclude<ThingProperty, 'id'>, fc.Arbitrary<string | number | boolean | null>>,
    )
    .map((values) => ({ id, ...values }));

const dataset = fc
  .integer({ min: 0, max: 30 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => thing(i))))
  .map((rows) => rows as { id: number; [property: string]: string | number | boolean | null }[]);

const queryOptions = fc.record({
  filter: fc.option(filterArbitrary, { freq: 2, nil: undefined }),
  orderBy: fc.array(fc.tuple(fc.constantFrom(...propertyNames), fc.constantFrom('', ' asc', ' desc')), {
    maxLength: 3,
  }),
  top: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  skip: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
});

/** The in-memory form of a stored row: datetimes sometimes as Date, nulls sometimes missing. */
function inMemory(row: Record<string, unknown>, variant: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value === null && variant % 2 === 0) continue;
    out[key] = key === 'seen' && typeof value === 'string' && variant % 3 === 0 ? new Date(value) : value;
  }
  return out;
}

describe('SQLite and the in-memory evaluator', () => {
  const db = new Database(':memory:');
  db.exec(
    `CREATE TABLE things (${propertyNames.map((n) => `"${n}" ${sqlTypes[things.properties[n].type]}`).join(', ')})`,
  );
  const insert = db.prepare(
    `INSERT INTO things (${propertyNames.map((n) => `"${n}"`).join(', ')}) VALUES (${propertyNames.map(() => '?').join(', ')})`,
  );
  const load = db.transaction((rows: Record<string, unknown>[]) => {
    db.exec('DELETE FROM things');
    for (const row of rows) {
      insert.run(
        ...propertyNames.map((n): SqlValue => {
          const value = row[n];
          return typeof value === 'boolean' ? (value ? 1 : 0) : (value as SqlValue);
        }),
      );
    }
  });
  afterAll(() => db.close());

  it('return the same records in the same order for random data and queries', () => {
    let matched = 0;
    let compared = 0;
    let ordered = 0;
    fc.assert(
      fc.property(dataset, queryOptions, fc.nat(), (rows, options, variant) => {
        const params: [string, string][] = [];
        if (options.filter !== undefined) params.push(['$filter', formatFilter(options.filter)]);
        if (options.orderBy.length > 0) {
          params.push(['$orderby', options.orderBy.map(([name, dir]) => `${name}${dir}`).join(',')]);
        }
        if (options.top !== undefined) params.push(['$top', String(options.top)]);
        if (options.skip !== undefined) params.push(['$skip', String(options.skip)]);
        const result = readODataQuery(params, things);
        if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
        const query = result.value;

        load(rows);
        const { text, params: values } = sqlClauses(compileSqlQuery(query, (p) => `"${p}"`));
        const fromSql = db
          .prepare(`SELECT id FROM things ${text}`)
          .all(...values)
          .map((row) => (row as { id: number }).id);
        const fromMemory = applyODataQuery(
          rows.map((row) => inMemory(row, variant)),
          query,
        ).map((row) => row.id);
        expect(fromMemory).toEqual(fromSql);
        if (fromSql.length >= 2) ordered++;

        // Also compare the bare filter on every row, so that paging cannot hide a difference.
        if (query.filter !== undefined) {
          const filter = query.filter;
          const sql = compileSqlQuery(query, (p) => `"${p}"`);
          const matching = new Set(
            db
              .prepare(`SELECT id FROM things WHERE ${sql.where}`)
              .all(...sql.params)
              .map((row) => (row as { id: number }).id),
          );
          for (const row of rows) {
            expect(matchesFilter(filter, inMemory(row, variant)), `row ${JSON.stringify(row)}`).toBe(
              matching.has(row.id),
            );
          }
          matched += matching.size;
          compared += rows.length;
        }
      }),
      { numRuns: 1500, seed: 20_240_611 },
    );
    // The pools are small so that filters select some rows and reject others.
    expect(matched).toBeGreaterThan(compared * 0.1);
    expect(matched).toBeLessThan(compared * 0.9);
    // …and most pages have several rows, so that their order is compared too.
    expect(ordered).toBeGreaterThan(1500 * 0.5);
  });
});
