// RFC 9457 problem details: the kind table, the mappings from OData and body errors, and the
// response shape.
import { describe, expect, it } from 'vitest';
import { readODataQuery } from '../src/api/odata-entity.ts';
import { alertsEntitySet } from '../src/api/odata-entity-sets.ts';
import {
  createProblem,
  jsonPointer,
  problemContentType,
  problemFromBodyIssues,
  problemFromJsonSyntax,
  problemFromODataErrors,
  problemKinds,
  problemResponse,
} from '../src/api/problem.ts';

describe('problems', () => {
  it('gives each kind a status in the 4xx or 5xx range, a title and a type', () => {
    for (const [kind, { status, title }] of Object.entries(problemKinds)) {
      expect(status, kind).toBeGreaterThanOrEqual(400);
      expect(status, kind).toBeLessThan(600);
      expect(title, kind).not.toBe('');
    }
    expect(createProblem('not-found', { detail: "no alert 'a1'", instance: '/api/alerts/a1' })).toEqual({
      type: '/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: "no alert 'a1'",
      instance: '/api/alerts/a1',
    });
    expect(createProblem('forbidden')).toEqual({
      type: '/problems/forbidden',
      title: 'Permission denied',
      status: 403,
    });
  });

  it('maps OData errors to a 400 naming parameter, offset and code', () => {
    const result = readODataQuery(
      new URLSearchParams("$filter=severity eq 'High' and status xx 'New'&$top=20000"),
      alertsEntitySet,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(problemFromODataErrors(result.errors, '/api/alerts')).toEqual({
      type: '/problems/invalid-query',
      title: 'Invalid query options',
      status: 400,
      detail: "$filter at 30: expected a comparison operator (eq, ne, gt, ge, lt, le or in), found 'xx'",
      instance: '/api/alerts',
      errors: [
        {
          detail: "$filter at 30: expected a comparison operator (eq, ne, gt, ge, lt, le or in), found 'xx'",
          code: 'odata/syntax',
          parameter: '$filter',
          offset: 30,
        },
      ],
    });
    const two = readODataQuery(new URLSearchParams('$top=x&$skip=y'), alertsEntitySet);
    expect(two.ok ? undefined : problemFromODataErrors(two.errors).detail).toBe(
      '2 problems with the query options; see errors',
    );
  });

  it('maps body issues to a 400 with JSON pointers', () => {
    expect(
      problemFromBodyIssues(
        [
          {
            path: ['status'],
            expected: "one of 'New', 'InProgress', 'Resolved'",
            found: "'Closed'",
            code: 'body/bad-value',
          },
          { path: ['tags', 2], expected: 'a string', found: 'number 5' },
          { path: [], expected: 'an object', found: 'an array' },
        ],
        '/api/alerts/a1',
      ),
    ).toEqual({
      type: '/problems/invalid-body',
      title: 'Invalid request body',
      status: 400,
      detail: '3 problems with the body members; see errors',
      instance: '/api/alerts/a1',
      errors: [
        {
          detail: "#/status: expected one of 'New', 'InProgress', 'Resolved', found 'Closed'",
          code: 'body/bad-value',
          pointer: '#/status',
        },
        { detail: '#/tags/2: expected a string, found number 5', pointer: '#/tags/2' },
        { detail: 'body: expected an object, found an array', pointer: '#' },
      ],
    });
  });

  it('escapes JSON pointers as RFC 6901 and the URI fragment ask', () => {
    expect(jsonPointer([])).toBe('#');
    expect(jsonPointer(['a/b', 'm~n', 'c d', 0])).toBe('#/a~1b/m~0n/c%20d/0');
  });

  it('maps a JSON syntax error with the parser message', () => {
    let error: unknown;
    try {
      JSON.parse('{"status": }');
    } catch (e) {
      error = e;
    }
    if (!(error instanceof SyntaxError)) throw new Error('JSON.parse accepted bad JSON');
    const problem = problemFromJsonSyntax(error, '/api/incidents/7');
    expect(problem).toMatchObject({
      type: '/problems/invalid-body',
      status: 400,
      instance: '/api/incidents/7',
      errors: [{ code: 'body/json-syntax', pointer: '#' }],
    });
    expect(problem.detail).toMatch(/^the body is not valid JSON: .+/);
  });

  it('answers with application/problem+json', () => {
    const problem = createProblem('too-many-requests', { detail: 'at most 100 calls a minute' });
    expect(problemResponse(problem)).toEqual({
      status: 429,
      headers: { 'content-type': 'application/problem+json' },
      body: '{"type":"/problems/too-many-requests","title":"Too many requests","status":429,"detail":"at most 100 calls a minute"}',
    });
    expect(problemContentType).toBe('application/problem+json');
  });
});
