// Checking parsed query options against entity sets: properties, types, enums, null, $top caps
// and the defaults a validated query gets.
import { describe, expect, it } from 'vitest';
import { defineEntitySet, type EntitySet, readODataQuery } from '../src/api/odata-entity.ts';
import {
  alertsEntitySet,
  incidentsEntitySet,
  machinesEntitySet,
  sensorsEntitySet,
} from '../src/api/odata-entity-sets.ts';

function read(query: string, set: EntitySet = alertsEntitySet) {
  return readODataQuery(new URLSearchParams(query), set);
}

function errors(query: string, set: EntitySet = alertsEntitySet): string[] {
  const result = read(query, set);
  return result.ok ? [] : result.errors.map((e) => `${e.code}: ${e.message}`);
}

const things = defineEntitySet({
  name: 'things',
  key: 'id',
  maxTop: 50,
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    hidden: { type: 'string', filterable: false, sortable: false },
    active: { type: 'boolean' },
    score: { type: 'number' },
    owner: { type: 'guid' },
    seen: { type: 'datetime' },
    kind: { type: 'enum', values: ['A', 'B'] },
  },
});

describe('a valid query', () => {
  it('becomes typed values, enum ranges as sets, and an order ending with the key', () => {
    const result = read(
      "$filter=severity ge 'Medium' and not (status eq 'Resolved') and lastUpdateTime ge 2019-11-22T00:00:00Z&$orderby=severity desc&$top=10&$skip=5&$expand=evidence",
    );
    expect(result).toEqual({
      ok: true,
      value: {
        entitySet: 'alerts',
        filter: {
          kind: 'and',
          items: [
            { kind: 'in', property: 'severity', values: ['Medium', 'High'] },
            { kind: 'not', item: { kind: 'compare', op: 'eq', property: 'status', value: 'Resolved' } },
            { kind: 'compare', op: 'ge', property: 'lastUpdateTime', value: '2019-11-22T00:00:00.000Z' },
          ],
        },
        orderBy: [
          {
            property: 'severity',
            direction: 'desc',
            rank: ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'],
          },
          { property: 'id', direction: 'asc' },
        ],
        top: 10,
        skip: 5,
        expand: ['evidence'],
      },
    });
  });

  it('gets the entity set defaults: maxTop, no skip, the default order then the key', () => {
    expect(read('')).toEqual({
      ok: true,
      value: {
        entitySet: 'alerts',
        orderBy: [
          { property: 'alertCreationTime', direction: 'desc' },
          { property: 'id', direction: 'asc' },
        ],
        top: 10_000,
        skip: 0,
        expand: [],
      },
    });
    expect(read('', incidentsEntitySet)).toMatchObject({
      value: {
        top: 100,
        orderBy: [
          { property: 'lastUpdateTime', direction: 'desc' },
          { property: 'incidentId', direction: 'asc' },
        ],
      },
    });
    expect(read('$orderby=id desc')).toMatchObject({
      value: { orderBy: [{ property: 'id', direction: 'desc' }] },
    });
  });

  it('turns null comparisons and in lists with null into null tests', () => {
    const filterOf = (text: string) => {
      const result = read(`$filter=${encodeURIComponent(text)}`);
      return result.ok ? result.value.filter : result.errors.map((e) => e.message);
    };
    expect(filterOf('assignedTo eq null')).toEqual({ kind: 'is-null', property: 'assignedTo' });
    expect(filterOf('null ne assignedTo')).toEqual({
      kind: 'not',
      item: { kind: 'is-null', property: 'assignedTo' },
    });
    expect(filterOf("assignedTo in ('a', null)")).toEqual({
      kind: 'or',
      items: [
        { kind: 'in', property: 'assignedTo', values: ['a'] },
        { kind: 'is-null', property: 'assignedTo' },
      ],
    });
    expect(filterOf('assignedTo in (null)')).toEqual({ kind: 'is-null', property: 'assignedTo' });
  });

  it('turns each range on an ordered enum into the set of values it covers', () => {
    const valuesOf = (text: string) => {
      const result = read(`$filter=${encodeURIComponent(text)}`);
      return result.ok && result.value.filter?.kind === 'in' ? result.value.filter.values : result;
    };
    expect(valuesOf("severity gt 'Low'")).toEqual(['Medium', 'High']);
    expect(valuesOf("severity ge 'Low'")).toEqual(['Low', 'Medium', 'High']);
    expect(valuesOf("severity lt 'Low'")).toEqual(['UnSpecified', 'Informational']);
    expect(valuesOf("severity le 'Low'")).toEqual(['UnSpecified', 'Informational', 'Low']);
    expect(valuesOf("severity gt 'High'")).toEqual([]);
    expect(valuesOf("'Low' lt severity")).toEqual(['Medium', 'High']);
  });

  it('accepts each type its own literal, GUIDs also quoted', () => {
    const result = read(
      `$filter=${encodeURIComponent(
        "id eq 3 and name eq 'x' and active eq true and score lt 1.5 and owner eq 80C2A8F9-1B3E-4C2D-9E6F-0A1B2C3D4E5F and owner ne '80C2A8F9-1B3E-4C2D-9E6F-0A1B2C3D4E5F' and seen ge 2020-01-01 and kind in ('A', 'B')",
      )}`,
      things,
    );
    expect(result.ok && result.value.filter).toEqual({
      kind: 'and',
      items: [
        { kind: 'compare', op: 'eq', property: 'id', value: 3 },
        { kind: 'compare', op: 'eq', property: 'name', value: 'x' },
        { kind: 'compare', op: 'eq', property: 'active', value: true },
        { kind: 'compare', op: 'lt', property: 'score', value: 1.5 },
        { kind: 'compare', op: 'eq', property: 'owner', value: '80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f' },
        { kind: 'compare', op: 'ne', property: 'owner', value: '80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f' },
        { kind: 'compare', op: 'ge', property: 'seen', value: '2020-01-01T00:00:00.000Z' },
        { kind: 'in', property: 'kind', values: ['A', 'B'] },
      ],
    });
  });

  it('accepts the MDE documentation examples on their entity sets', () => {
    for (const [query, set] of [
      ['$top=10&$expand=evidence', alertsEntitySet],
      ['$filter=lastUpdateTime+ge+2019-11-22T00:00:00Z', alertsEntitySet],
      ["$filter=riskScore+eq+'High'", machinesEntitySet],
      ["$filter=healthStatus+ne+'Active'&$top=100", machinesEntitySet],
      ['$filter=lastSeen gt 2018-08-01Z', machinesEntitySet],
      ["$filter=lastUpdateTime ge 2024-01-01T00:00:00Z and status eq 'Active'&$top=100", incidentsEntitySet],
      ["$filter=delayedUpdate eq true and healthStatus ge 'NotHealthyMedium'", sensorsEntitySet],
    ] as const) {
      expect(read(query, set), query).toMatchObject({ ok: true });
    }
  });
});

describe('errors', () => {
  it('lists the allowed properties for an unknown one and suggests a near spelling', () => {
    expect(errors("$filter=Severity eq 'High'")).toEqual([
      "odata/unknown-property: $filter at 0: expected one of the filterable properties of alerts: alertCreationTime, assignedTo, category, detectionSource, id, incidentId, investigationId, lastEventTime, lastUpdateTime, severity, status, found 'Severity' (did you mean 'severity'?)",
    ]);
    expect(errors("$filter=title eq 'x'&$orderby=title", incidentsEntitySet)).toEqual([
      "odata/unknown-property: $filter at 0: expected one of the filterable properties of incidents: assignedTo, createdTime, lastUpdateTime, status, found 'title'",
      "odata/unknown-property: $orderby at 0: expected one of the sortable properties of incidents: assignedTo, createdTime, incidentId, lastUpdateTime, status, found 'title'",
    ]);
  });

  it('refuses properties that exist but are not filterable or sortable', () => {
    expect(errors('$filter=incidentId eq 5', incidentsEntitySet)).toEqual([
      "odata/not-filterable: $filter at 0: expected one of the filterable properties of incidents: assignedTo, createdTime, lastUpdateTime, status, found 'incidentId', which cannot be used in $filter",
    ]);
    expect(errors('$orderby=name, hidden desc', things)).toEqual([
      "odata/not-sortable: $orderby at 6: expected one of the sortable properties of things: active, id, kind, name, owner, score, seen, found 'hidden', which cannot be used in $orderby",
    ]);
  });

  it('does not take prototype members for properties', () => {
    expect(errors('$filter=constructor eq 1&$orderby=toString', things)).toEqual([
      expect.stringContaining(
        'odata/unknown-property: $filter at 0: expected one of the filterable properties of things',
      ),
      expect.stringContaining(
        'odata/unknown-property: $orderby at 0: expected one of the sortable properties of things',
      ),
    ]);
  });

  it.each([
    [
      "lastUpdateTime ge '2019-11-22T00:00:00Z'",
      "odata/type-mismatch: $filter at 18: expected an unquoted ISO 8601 datetime such as 2019-11-22T00:00:00Z for 'lastUpdateTime', found string '2019-11-22T00:00:00Z'",
    ],
    [
      'lastUpdateTime ge 5',
      "odata/type-mismatch: $filter at 18: expected an ISO 8601 datetime such as 2019-11-22T00:00:00Z for 'lastUpdateTime', found number 5",
    ],
    [
      'assignedTo eq 5',
      "odata/type-mismatch: $filter at 14: expected a string in single quotes for 'assignedTo', found number 5",
    ],
    [
      'assignedTo eq 80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f',
      "odata/type-mismatch: $filter at 14: expected a string in single quotes for 'assignedTo', found guid 80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f",
    ],
    [
      "incidentId eq '5'",
      "odata/type-mismatch: $filter at 14: expected an integer for 'incidentId', found string '5'",
    ],
    [
      'incidentId eq 1.5',
      "odata/type-mismatch: $filter at 14: expected an integer for 'incidentId', found number 1.5",
    ],
    [
      'severity eq 3',
      "odata/type-mismatch: $filter at 12: expected a string in single quotes for 'severity', found number 3",
    ],
    [
      "severity eq 'high'",
      "odata/bad-value: $filter at 12: expected one of 'UnSpecified', 'Informational', 'Low', 'Medium', 'High' for 'severity', found string 'high' (did you mean 'High'?)",
    ],
    [
      "status in ('New', 'Closed')",
      "odata/bad-value: $filter at 18: expected one of 'Unknown', 'New', 'InProgress', 'Resolved' for 'status', found string 'Closed'",
    ],
    [
      "status gt 'New'",
      "odata/type-mismatch: $filter at 7: expected eq, ne or in for unordered enum 'status', found 'gt'",
    ],
    [
      'assignedTo gt null',
      'odata/type-mismatch: $filter at 14: expected a value (gt null is never true), found null',
    ],
  ])('%s', (filter, message) => {
    expect(errors(`$filter=${encodeURIComponent(filter)}`)).toEqual([message]);
  });

  it('checks booleans, numbers and GUIDs', () => {
    expect(
      errors(
        `$filter=${encodeURIComponent("active lt true or active eq 'true' or score eq true or owner eq 'x'")}`,
        things,
      ),
    ).toEqual([
      "odata/type-mismatch: $filter at 7: expected eq, ne or in for boolean 'active', found 'lt'",
      "odata/type-mismatch: $filter at 28: expected true or false for 'active', found string 'true'",
      "odata/type-mismatch: $filter at 47: expected a number for 'score', found boolean true",
      "odata/type-mismatch: $filter at 64: expected a GUID for 'owner', found string 'x'",
    ]);
  });

  it('caps $top per entity set and checks $expand', () => {
    expect(errors('$top=10001')).toEqual([
      'odata/out-of-range: $top at 0: expected an integer from 0 to 10000, found 10001',
    ]);
    expect(errors('$top=101', incidentsEntitySet)).toEqual([
      'odata/out-of-range: $top at 0: expected an integer from 0 to 100, found 101',
    ]);
    expect(read('$top=100', incidentsEntitySet).ok).toBe(true);
    expect(read('$top=0').ok).toBe(true);
    expect(errors('$expand=evidence,comments')).toEqual([
      "odata/unknown-property: $expand at 9: expected one of evidence, found 'comments'",
    ]);
    expect(errors('$expand=evidence', machinesEntitySet)).toEqual([
      "odata/unknown-property: $expand at 0: expected no $expand: machines has nothing to expand, found 'evidence'",
    ]);
  });

  it('reports every problem in one answer', () => {
    expect(
      errors(
        `$filter=${encodeURIComponent("severity eq 'high' and lastUpdateTime eq '2019-01-01' or nope eq 1")}&$orderby=title&$top=20000`,
      ).map((m) => m.slice(0, m.indexOf(':', m.indexOf(':') + 1))),
    ).toEqual([
      'odata/bad-value: $filter at 12',
      'odata/type-mismatch: $filter at 41',
      'odata/unknown-property: $filter at 57',
      'odata/unknown-property: $orderby at 0',
      'odata/out-of-range: $top at 0',
    ]);
  });
});

describe('defineEntitySet', () => {
  it('refuses a definition with a bad key, cap, order or property', () => {
    expect(() =>
      defineEntitySet({
        name: 'bad',
        // @ts-expect-error the key must be a property
        key: 'nope',
        maxTop: 0,
        // @ts-expect-error the default order must name properties
        defaultOrderBy: [{ property: 'missing', direction: 'asc' }],
        properties: { 'a-b': { type: 'string' }, e: { type: 'enum', values: [] } },
      }),
    ).toThrow(
      "entity set bad: key 'nope' is not a property; maxTop 0 is not a positive integer; default order property 'missing' is unknown; property name 'a-b' is not an identifier; enum 'e' has no values",
    );
  });

  it('freezes the set', () => {
    expect(Object.isFrozen(alertsEntitySet)).toBe(true);
    expect(Object.isFrozen(alertsEntitySet.properties)).toBe(true);
  });
});
