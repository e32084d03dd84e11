// Malformed query options must give an ODataError, never another exception, and quickly:
// 10,000 random and mutated inputs, plus the largest inputs the limits allow.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FilterNode, formatFilter, ODataError, parseFilter } from '../src/api/odata.ts';
import { readODataQuery } from '../src/api/odata-entity.ts';
import { alertsEntitySet } from '../src/api/odata-entity-sets.ts';

const validFilters = [
  'lastUpdateTime ge 2019-11-22T00:00:00Z',
  "severity eq 'High' and status ne 'Resolved'",
  "severity ge 'Medium' or (assignedTo eq null and not (category in ('Execution', 'Persistence')))",
  "title eq 'it''s' or incidentId in (1, 2, 3)",
  'lastEventTime lt 2020-01-26T20:33:57.7220239Z and alertCreationTime gt 2018-08-01Z',
  'incidentId le -5 or investigationId eq 2.5e3 or id eq 80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f',
  "('High' eq severity) and (detectionSource eq 'WindowsDefenderAv' or detectionSource eq true)",
  'not (not (lastUpdateTime ge 2019-11-22T10:00:00+02:00))',
];

const fragments = [
  '(',
  ')',
  "'",
  "''",
  ',',
  ' ',
  '\t',
  ' and ',
  ' or ',
  'not ',
  ' eq ',
  ' in ',
  ' gt ',
  'null',
  'true',
  '-',
  '+',
  '/',
  ':',
  '.',
  'e',
  '0',
  '9',
  'Z',
  'T',
  'x',
  'severity',
  '2019-11-22',
  'T00:00:00',
  '80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f',
  'any(',
  '$',
  '\u0000',
  '😀',
  '\uD800',
  '\\',
  '"',
  '%27',
];

const fragment = fc.constantFrom(...fragments);

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fragment }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fragment }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(text: string, m: Mutation): string {
  const at = text.length === 0 ? 0 : m.at % (text.length + 1);
  switch (m.kind) {
    case 'delete':
      return text.slice(0, at) + text.slice(at + m.length);
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at);
    case 'replace':
      return text.slice(0, at) + m.text + text.slice(at + 1);
    case 'duplicate':
      return text.slice(0, at + m.length) + text.slice(at, at + m.length) + text.slice(at + m.length);
    case 'truncate':
      return text.slice(0, at);
  }
}

const inputs = [
  // Mutated valid filters: near misses, the interesting kind.
  ...fc.sample(
    fc
      .tuple(fc.constantFrom(...validFilters), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([text, ms]) => ms.reduce(mutate, text)),
    { numRuns: 4000, seed: 6 },
  ),
  // Token soup.
  ...fc.sample(fc.string({ unit: fragment, maxLength: 30 }), { numRuns: 3000, seed: 7 }),
  // Any code units at all, including lone surrogates.
  ...fc.sample(
    fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 60,
    }),
    {
      numRuns: 3000,
      seed: 8,
    },
  ),
];

/** The tree without offsets, to compare a tree with the tree of its own formatting. */
function withoutOffsets(node: FilterNode): unknown {
  return JSON.parse(JSON.stringify(node, (key, value) => (key === 'offset' ? undefined : value)));
}

function checkOutcome(text: string, option: string): void {
  const result = readODataQuery([[option, text]], alertsEntitySet);
  if (result.ok) return;
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(error).toBeInstanceOf(ODataError);
    expect(error.offset).toBeGreaterThanOrEqual(0);
    expect(error.offset).toBeLessThanOrEqual(text.length);
    expect(error.message).toMatch(/^\$[a-z]+ at \d+: expected .+, found .+$/s);
  }
}

describe('fuzzing', () => {
  it('has 10,000 inputs, some of which still parse', () => {
    expect(inputs).toHaveLength(10_000);
    const parsed = inputs.filter((text) => parseFilter(text).ok).length;
    expect(parsed).toBeGreaterThan(200);
    expect(parsed).toBeLessThan(9_000);
  });

  it('gives a tree or ODataErrors for every input, each within a few milliseconds', () => {
    for (const text of inputs) checkOutcome(text, '$filter');
    const time = (text: string): number => {
      const started = performance.now();
      readODataQuery([['$filter', text]], alertsEntitySet);
      return performance.now() - started;
    };
    // An input over the bound is timed again, so that a garbage collection pause cannot fail it.
    const slow = inputs.filter((text) => time(text) >= 5 && time(text) >= 5);
    expect(slow).toEqual([]);
  });

  it('gives ODataErrors when the same inputs are sent as other options', () => {
    for (const text of inputs.slice(0, 3000)) {
      for (const option of ['$orderby', '$expand', '$top', '$skip', '$select']) checkOutcome(text, option);
    }
  });

  it('writes every tree it reads back as text that reads to the same tree', () => {
    for (const text of inputs) {
      const first = parseFilter(text);
      if (!first.ok) continue;
      const again = parseFilter(formatFilter(first.value));
      expect(again.ok && withoutOffsets(again.value), text).toEqual(withoutOffsets(first.value));
    }
  });

  it('stays fast on the largest inputs the limits allow', () => {
    const max = 8192;
    const big = [
      '('.repeat(max),
      'not ('.repeat(max / 5),
      "'".repeat(max - 1),
      `${'a eq 1 and '.repeat(744)}a eq 1`,
      `${'a eq 1 or '.repeat(800)}a eq 1`,
      `a in (${'1,'.repeat(4000)}1)`,
      `title eq '${"''".repeat(4000)}'`,
      `severity in (${"'High',".repeat(1000)}'High')`,
      '2019-11-22T00:00:00.'.padEnd(max, '1'),
      'x'.repeat(max),
      ' '.repeat(max),
    ];
    for (const text of big) {
      expect(text.length).toBeLessThanOrEqual(max);
      const started = performance.now();
      checkOutcome(text, '$filter');
      checkOutcome(text, '$orderby');
      expect(performance.now() - started, text.slice(0, 20)).toBeLessThan(20);
    }
    const over = readODataQuery([['$filter', 'x'.repeat(max + 1)]], alertsEntitySet);
    expect(over.ok ? '' : over.errors[0]?.code).toBe('odata/too-complex');
    // Hundreds of wrong properties give the first 20 errors.
    const many = readODataQuery([['$filter', big[3] ?? '']], alertsEntitySet);
    expect(many.ok ? 0 : many.errors.length).toBe(20);
  });
});
