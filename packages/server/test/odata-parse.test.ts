// The OData query option parser: every operator, precedence, literals, the other options, and
// errors with the option, the offset, what was expected and what was found.
import { describe, expect, it } from 'vitest';
import { type FilterNode, formatFilter, ODataError, parseFilter, parseODataQuery } from '../src/api/odata.ts';

/** The filter written back canonically (every and/or operand in parentheses), or the error messages. */
function show(text: string): string {
  const result = parseFilter(text);
  return result.ok ? formatFilter(result.value) : result.errors.map((e) => e.message).join('\n');
}

function tree(text: string): FilterNode {
  const result = parseFilter(text);
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.value;
}

function errorOf(text: string): ODataError {
  const result = parseFilter(text);
  if (result.ok) throw new Error(`'${text}' parsed`);
  const [error] = result.errors;
  if (!(error instanceof ODataError)) throw new Error('no ODataError');
  return error;
}

describe('$filter comparisons', () => {
  it.each([
    ['severity eq 1', 'severity eq 1'],
    ['severity ne 1', 'severity ne 1'],
    ['severity gt 1', 'severity gt 1'],
    ['severity ge 1', 'severity ge 1'],
    ['severity lt 1', 'severity lt 1'],
    ['severity le 1', 'severity le 1'],
  ])('%s', (text, shown) => {
    expect(show(text)).toBe(shown);
  });

  it('gives the tree with offsets of the property, the operator and the literal', () => {
    expect(tree("riskScore eq 'High'")).toEqual({
      kind: 'compare',
      op: 'eq',
      property: { name: 'riskScore', offset: 0 },
      value: { kind: 'string', value: 'High', offset: 13 },
      offset: 10,
    });
  });

  it('moves a literal on the left to the right and mirrors the operator', () => {
    expect(show("'High' eq riskScore")).toBe("riskScore eq 'High'");
    expect(show('5 lt incidentId')).toBe('incidentId gt 5');
    expect(show('5 ge incidentId')).toBe('incidentId le 5');
    expect(show('5 ne incidentId')).toBe('incidentId ne 5');
  });

  it('reads in lists', () => {
    expect(tree("status in ('New', 'InProgress')")).toEqual({
      kind: 'in',
      property: { name: 'status', offset: 0 },
      values: [
        { kind: 'string', value: 'New', offset: 11 },
        { kind: 'string', value: 'InProgress', offset: 18 },
      ],
    });
    expect(show("status in ('New')")).toBe("status in ('New')");
    expect(show('incidentId in (1,2,3)')).toBe('incidentId in (1, 2, 3)');
    expect(show("assignedTo in ('a', null)")).toBe("assignedTo in ('a', null)");
  });
});

describe('$filter logic and precedence', () => {
  it('binds and tighter than or', () => {
    expect(show('a eq 1 or b eq 2 and c eq 3')).toBe('(a eq 1) or ((b eq 2) and (c eq 3))');
    expect(show('a eq 1 and b eq 2 or c eq 3')).toBe('((a eq 1) and (b eq 2)) or (c eq 3)');
  });

  it('lets parentheses override precedence', () => {
    expect(show('(a eq 1 or b eq 2) and c eq 3')).toBe('((a eq 1) or (b eq 2)) and (c eq 3)');
    expect(show('((a eq 1))')).toBe('a eq 1');
  });

  it('flattens chains of the same operator', () => {
    expect(tree('a eq 1 and b eq 2 and c eq 3')).toMatchObject({ kind: 'and', items: [{}, {}, {}] });
    expect(tree('a eq 1 or b eq 2 or c eq 3')).toMatchObject({ kind: 'or', items: [{}, {}, {}] });
  });

  it('reads not with parentheses', () => {
    expect(show("not (status eq 'Resolved')")).toBe("not (status eq 'Resolved')");
    expect(show("not (status eq 'Resolved') and a eq 1")).toBe("(not (status eq 'Resolved')) and (a eq 1)");
    expect(show('not (not (a eq 1))')).toBe('not (not (a eq 1))');
  });

  it('accepts any amount of spaces and tabs between tokens', () => {
    expect(show('  a\teq   1   and(b eq 2)  ')).toBe('(a eq 1) and (b eq 2)');
    expect(show("status in('New','Resolved')")).toBe("status in ('New', 'Resolved')");
  });
});

describe('$filter literals', () => {
  it('reads strings with doubled quotes as escapes', () => {
    expect(tree("title eq 'it''s'")).toMatchObject({ value: { kind: 'string', value: "it's" } });
    expect(tree("title eq ''''")).toMatchObject({ value: { kind: 'string', value: "'" } });
    expect(tree("title eq ''")).toMatchObject({ value: { kind: 'string', value: '' } });
    expect(tree("title eq 'a (b), c eq d'")).toMatchObject({
      value: { kind: 'string', value: 'a (b), c eq d' },
    });
    expect(tree("title eq 'ünï 😀'")).toMatchObject({ value: { kind: 'string', value: 'ünï 😀' } });
  });

  it('reads numbers', () => {
    expect(tree('a eq 42')).toMatchObject({ value: { kind: 'number', value: 42 } });
    expect(tree('a eq -7')).toMatchObject({ value: { kind: 'number', value: -7 } });
    expect(tree('a eq 1.25')).toMatchObject({ value: { kind: 'number', value: 1.25 } });
    expect(tree('a eq 2.5e3')).toMatchObject({ value: { kind: 'number', value: 2500 } });
    expect(tree('a eq 9007199254740991')).toMatchObject({ value: { kind: 'number', value: 2 ** 53 - 1 } });
  });

  it('reads true, false and null', () => {
    expect(tree('a eq true')).toMatchObject({ value: { kind: 'boolean', value: true } });
    expect(tree('a eq false')).toMatchObject({ value: { kind: 'boolean', value: false } });
    expect(tree('a eq null')).toMatchObject({ value: { kind: 'null' } });
  });

  it('reads GUIDs unquoted and lower-cases them', () => {
    expect(tree('aadDeviceId eq 80C2A8F9-1B3E-4C2D-9E6F-0A1B2C3D4E5F')).toMatchObject({
      value: { kind: 'guid', value: '80c2a8f9-1b3e-4c2d-9e6f-0a1b2c3d4e5f' },
    });
  });

  it.each([
    ['2019-11-22T00:00:00Z', '2019-11-22T00:00:00.000Z'],
    ['2019-11-22T10:30Z', '2019-11-22T10:30:00.000Z'],
    ['2019-11-22T10:30:15.5Z', '2019-11-22T10:30:15.500Z'],
    // MDE writes seven fraction digits; Palisade keeps milliseconds.
    ['2020-01-26T20:33:57.7220239Z', '2020-01-26T20:33:57.722Z'],
    ['2019-11-22T02:00:00+02:00', '2019-11-22T00:00:00.000Z'],
    ['2019-11-21T22:30:00-01:30', '2019-11-22T00:00:00.000Z'],
    ['2019-11-22T00:00:00', '2019-11-22T00:00:00.000Z'],
    // From MDE's own examples: a bare date with Z.
    ['2018-08-01Z', '2018-08-01T00:00:00.000Z'],
    ['2018-08-01', '2018-08-01T00:00:00.000Z'],
    ['2020-02-29T23:59:59.999Z', '2020-02-29T23:59:59.999Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ])('reads the datetime %s as %s', (text, iso) => {
    expect(tree(`lastUpdateTime ge ${text}`)).toMatchObject({ value: { kind: 'datetime', value: iso } });
  });

  it('reads the MDE documentation examples as a query string decodes them', () => {
    const examples = [
      ['$filter=lastUpdateTime+ge+2019-11-22T00:00:00Z', 'lastUpdateTime ge 2019-11-22T00:00:00.000Z'],
      ["$filter=riskScore+eq+'High'", "riskScore eq 'High'"],
      ["$filter=healthStatus+ne+'Active'&$top=100", "healthStatus ne 'Active'"],
      ['$filter=lastSeen gt 2018-08-01Z', 'lastSeen gt 2018-08-01T00:00:00.000Z'],
    ];
    for (const [query, shown] of examples) {
      const result = parseODataQuery(new URLSearchParams(query));
      expect(result.ok && result.value.filter && formatFilter(result.value.filter)).toBe(shown);
    }
  });
});

describe('$filter errors', () => {
  it.each([
    [
      "severity eq 'High' and status xx 'New'",
      "$filter at 30: expected a comparison operator (eq, ne, gt, ge, lt, le or in), found 'xx'",
    ],
    [
      'a EQ 1',
      "$filter at 2: expected a comparison operator (eq, ne, gt, ge, lt, le or in); operators are lower-case, found 'EQ'",
    ],
    ['a has 1', "$filter at 2: expected a comparison operator (eq, ne, gt, ge, lt, le or in), found 'has'"],
    ['a eq', '$filter at 4: expected a property or a literal, found end of input'],
    ['', "$filter at 0: expected a property, a literal, 'not' or '(', found end of input"],
    ['and', "$filter at 0: expected a property, a literal, 'not' or '(', found 'and'"],
    ['a eq 1 and', "$filter at 10: expected a property, a literal, 'not' or '(', found end of input"],
    ['a eq 1 b eq 2', "$filter at 7: expected 'and', 'or' or end of input, found 'b'"],
    ['a eq 1)', "$filter at 6: expected 'and', 'or' or end of input, found ')'"],
    ['((a eq 1)', "$filter at 9: expected 'and', 'or' or ')', found end of input"],
    ['(a) eq 1', "$filter at 2: expected a comparison operator (eq, ne, gt, ge, lt, le or in), found ')'"],
    [
      "title eq 'abc",
      "$filter at 13: expected ' to close the string that starts at 9 (a quote inside a string is written ''), found end of input",
    ],
    [
      "title eq 'it's'",
      "$filter at 15: expected ' to close the string that starts at 14 (a quote inside a string is written ''), found end of input",
    ],
    ["not status eq 'New'", "$filter at 4: expected '(' after 'not', found 'status'"],
    ["status in 'New'", "$filter at 10: expected '(' after 'in', found 'New'"],
    ['status in ()', "$filter at 11: expected a literal, found ')'"],
    ["status in ('a',)", "$filter at 15: expected a literal, found ')'"],
    ["status in ('a' 'b')", "$filter at 15: expected ',' or ')', found 'b'"],
    ['status in (a)', "$filter at 11: expected a literal, found property 'a'"],
    ["'a' in ('a')", "$filter at 0: expected a property before 'in', found string 'a'"],
    [
      'a eq b',
      "$filter at 5: expected a literal (comparing two properties is not supported), found property 'b'",
    ],
    ['1 eq 2', '$filter at 0: expected a property on one side of the comparison, found number 1'],
    ['a eq 1x', "$filter at 5: expected a property or a literal, found '1x'"],
    ['a eq "x"', `$filter at 5: expected a property or a literal, found '"x"'`],
    ['a eq 2019-11', "$filter at 5: expected a property or a literal, found '2019-11'"],
    [
      'a eq 2019-11-22T00:00:00ZZ',
      "$filter at 5: expected an ISO 8601 datetime such as 2019-11-22T00:00:00Z, found '2019-11-22T00:00:00ZZ'",
    ],
    [
      'a eq 2019-02-29T00:00:00Z',
      "$filter at 5: expected a valid date and time between years 0000 and 9999, found '2019-02-29T00:00:00Z'",
    ],
    [
      'a eq 2019-11-22T24:00:00Z',
      "$filter at 5: expected a valid date and time between years 0000 and 9999, found '2019-11-22T24:00:00Z'",
    ],
    [
      'a eq 0000-01-01T00:00:00+01:00',
      "$filter at 5: expected a valid date and time between years 0000 and 9999, found '0000-01-01T00:00:00+01:00'",
    ],
    [
      'a ge 2019-11-22T10:00:00 01:00',
      "$filter at 25: expected 'and', 'or' or end of input (a '+' in a URL means a space: write +01:00 as %2B01:00), found '01:00'",
    ],
    [
      'a eq 9007199254740993',
      "$filter at 5: expected a number between -2^53 and 2^53 (for integers) or a finite number, found '9007199254740993'",
    ],
    [
      'a eq 1e999',
      "$filter at 5: expected a number between -2^53 and 2^53 (for integers) or a finite number, found '1e999'",
    ],
  ])('%s', (text, message) => {
    expect(show(text)).toBe(message);
  });

  it('names functions, paths and lambdas as unsupported', () => {
    expect(errorOf("contains(title, 'x')")).toMatchObject({
      code: 'odata/unsupported',
      offset: 0,
      message:
        "$filter at 0: expected a property, a literal, 'not' or '(', found 'contains(', a function, which this API does not support",
    });
    expect(errorOf("evidence/any(e: e/sha1 eq 'x')")).toMatchObject({
      code: 'odata/unsupported',
      message:
        "$filter at 0: expected a property of the entity itself, found 'evidence/any': property paths and any()/all() are not supported",
    });
    expect(errorOf("relatedUser/userName eq 'x'").code).toBe('odata/unsupported');
  });

  it('carries the option, offset, expected and found as fields', () => {
    const error = errorOf("severity eq 'High' and status xx 'New'");
    expect(error).toBeInstanceOf(ODataError);
    expect({ ...error, message: error.message }).toEqual({
      name: 'ODataError',
      code: 'odata/syntax',
      option: '$filter',
      offset: 30,
      expected: 'a comparison operator (eq, ne, gt, ge, lt, le or in)',
      found: "'xx'",
      message: "$filter at 30: expected a comparison operator (eq, ne, gt, ge, lt, le or in), found 'xx'",
    });
  });

  it('shortens long tokens in messages', () => {
    expect(show(`a eq ${'x'.repeat(100)}-y`)).toBe(
      `$filter at 5: expected a property or a literal, found '${'x'.repeat(37)}…'`,
    );
  });

  it('limits nesting and length', () => {
    const deep = `${'('.repeat(33)}a eq 1${')'.repeat(33)}`;
    expect(errorOf(deep)).toMatchObject({ code: 'odata/too-complex', offset: 32 });
    expect(show(`${'('.repeat(32)}a eq 1${')'.repeat(32)}`)).toBe('a eq 1');
    expect(errorOf(`${'not ('.repeat(40)}a eq 1${')'.repeat(40)}`).code).toBe('odata/too-complex');
    expect(errorOf(`a eq '${'x'.repeat(9000)}'`)).toMatchObject({
      code: 'odata/too-complex',
      message: '$filter at 8192: expected at most 8192 characters, found 9007 characters',
    });
  });
});

describe('other options', () => {
  function parse(query: string) {
    return parseODataQuery(new URLSearchParams(query));
  }
  function messages(query: string): string[] {
    const result = parse(query);
    return result.ok ? [] : result.errors.map((e) => e.message);
  }

  it('reads $top, $skip, $orderby and $expand', () => {
    expect(parse('$top=10&$skip=20&$orderby=severity desc, lastUpdateTime,id asc&$expand=evidence')).toEqual({
      ok: true,
      value: {
        top: 10,
        skip: 20,
        orderBy: [
          { property: { name: 'severity', offset: 0 }, direction: 'desc' },
          { property: { name: 'lastUpdateTime', offset: 15 }, direction: 'asc' },
          { property: { name: 'id', offset: 30 }, direction: 'asc' },
        ],
        expand: [{ name: 'evidence', offset: 0 }],
      },
    });
  });

  it('gives an empty query for no options, and leaves options without $ to the route', () => {
    expect(parse('')).toEqual({ ok: true, value: { orderBy: [], expand: [] } });
    expect(parse('api-version=1.0&foo=bar')).toEqual({ ok: true, value: { orderBy: [], expand: [] } });
  });

  it('matches option names case-insensitively', () => {
    expect(parse('$TOP=5&$Filter=a eq 1')).toMatchObject({
      ok: true,
      value: { top: 5, filter: { kind: 'compare' } },
    });
  });

  it('reports every bad option at once', () => {
    expect(
      messages(
        '$top=-1&$skip=1x&$orderby=severity up&$select=id&$foo=1&$top=2&$expand=evidence($select=sha1)',
      ),
    ).toEqual([
      "$top at 0: expected a non-negative integer, found '-1'",
      "$skip at 1: expected a non-negative integer, found 'x'",
      "$orderby at 9: expected asc, desc, ',' or end of input, found 'up'",
      "$select at 0: expected one of the options $filter, $top, $skip, $orderby, $expand, found '$select', which this API does not support",
      "$foo at 0: expected one of the options $filter, $top, $skip, $orderby, $expand, found '$foo'",
      '$top at 0: expected $top at most once, found it again',
      "$expand at 0: expected a navigation property name, found 'evidence(', which this API does not support",
    ]);
  });

  it('gives each option error its code', () => {
    const result = parse('$top=&$count=true&$bar=1&$skip=99999999999999999&$filter=a eq 1&$filter=b eq 2');
    expect(result.ok ? [] : result.errors.map((e) => [e.option, e.code])).toEqual([
      ['$top', 'odata/syntax'],
      ['$count', 'odata/unsupported'],
      ['$bar', 'odata/unknown-option'],
      ['$skip', 'odata/out-of-range'],
      ['$filter', 'odata/duplicate-option'],
    ]);
  });

  it('reports $orderby and $expand syntax', () => {
    expect(messages('$orderby=')).toEqual(['$orderby at 0: expected a property name, found end of input']);
    expect(messages('$orderby=a desc asc')).toEqual([
      "$orderby at 7: expected ',' or end of input, found 'asc'",
    ]);
    expect(messages('$orderby=a,')).toEqual(['$orderby at 2: expected a property name, found end of input']);
    expect(messages("$orderby='a'")).toEqual(["$orderby at 0: expected a property name, found 'a'"]);
    expect(messages('$orderby=relatedUser/userName')).toEqual([
      "$orderby at 0: expected a property name, found 'relatedUser/userName': property paths are not supported",
    ]);
    expect(messages('$expand=evidence evidence')).toEqual([
      "$expand at 9: expected ',' or end of input, found 'evidence'",
    ]);
  });
});
