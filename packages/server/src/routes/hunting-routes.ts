// Advanced hunting over HTTP: MDE's `POST /api/advancedqueries/run` and the XDR variant
// `POST /api/advancedhunting/run`, both `{ "Query": "<KQL>" }` → `{ Schema, Results }` (the XDR
// one adds `Stats`), scoped to the caller's device groups. A query that does not compile or run
// is a 400 naming the diagnostic's line and column.
import type { Diagnostic } from '@palisade/kql';
import type { JsonSchema } from '../api/openapi.ts';
import { createProblem } from '../api/problem.ts';
import { BodyReader } from '../http/body-reader.ts';
import { fail, failWith, json, type Route, type RouteRequest } from '../http/route.ts';
import { huntingAnswer } from '../hunting/hunting-engine.ts';
import { huntingScopeOf } from '../hunting/hunting-scope.ts';
import type { RouteContext } from './context.ts';

/** The longest query text accepted (MDE's portal editor has no stated limit; this is generous). */
export const maxQueryLength = 100_000;

const querySchema: JsonSchema = {
  type: 'object',
  required: ['Query'],
  additionalProperties: false,
  properties: { Query: { type: 'string', maxLength: maxQueryLength } },
};

const answerSchema: JsonSchema = {
  type: 'object',
  required: ['Schema', 'Results'],
  properties: {
    Schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: { Name: { type: 'string' }, Type: { type: 'string' } },
      },
    },
    Results: { type: 'array', items: { type: 'object' } },
  },
};

/** A 400 (a 500 for a compiler bug) naming each error diagnostic with its place in the query. */
export function huntingProblem(diagnostics: readonly Diagnostic[], instance: string) {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const internal = errors.some((d) => d.code === 'kql/internal');
  return createProblem(internal ? 'internal' : 'invalid-query', {
    detail: errors
      .map((d) => (d.span ? `${d.message} (line ${d.span.line}, column ${d.span.column})` : d.message))
      .join('; '),
    instance,
    errors: errors.map((d) => ({
      detail: d.message,
      code: d.code,
      pointer: '#/Query',
      ...(d.span ? { offset: d.span.start, line: d.span.line, column: d.span.column } : {}),
    })),
  });
}

export function huntingRoutes(context: RouteContext): Route[] {
  const { state, events } = context.instance;

  const run = async (request: RouteRequest) => {
    const body = new BodyReader(request.body, ['Query']);
    const query = body.string('Query', { required: true, max: maxQueryLength });
    body.check(request);
    const started = performance.now();
    const scope = await huntingScopeOf(request.principal, state, events);
    const outcome = await context.hunting.run(query as string, {
      now: context.now(),
      ...(scope === undefined ? {} : { scope }),
    });
    if ('busy' in outcome) {
      fail('too-many-requests', `${context.hunting.limits.maxConcurrent} hunting queries are running`, {
        'retry-after': '5',
      });
    }
    if (!outcome.value) return failWith(huntingProblem(outcome.diagnostics, request.url.pathname));
    const answer = huntingAnswer(outcome.value);
    const text = JSON.stringify(answer);
    if (Buffer.byteLength(text) > context.hunting.limits.maxResultBytes) {
      fail(
        'invalid-query',
        `the result is larger than ${context.hunting.limits.maxResultBytes} bytes; project fewer columns or take fewer rows`,
      );
    }
    request.log.info('hunting query run', {
      rows: answer.Results.length,
      truncated: outcome.value.truncated,
      scoped: scope !== undefined,
      ms: Math.round(performance.now() - started),
    });
    return { answer, text, truncated: outcome.value.truncated, ms: performance.now() - started };
  };

  return [
    {
      method: 'POST',
      path: '/api/advancedqueries/run',
      permission: 'hunting.run',
      audience: 'api',
      summary: 'Run an advanced hunting query (KQL) over the devices the caller may see',
      body: 'json',
      requestBody: querySchema,
      responses: {
        200: { description: "MDE's Schema and Results", schema: answerSchema },
        400: { description: 'The query does not compile or run: the line and column of each error' },
        429: { description: 'Too many queries are running' },
      },
      tags: ['hunting'],
      async handler(request) {
        // Sent as the text measured against the size limit, not serialised twice.
        return {
          status: 200,
          body: (await run(request)).text,
          contentType: 'application/json; charset=utf-8',
        };
      },
    },
    {
      method: 'POST',
      path: '/api/advancedhunting/run',
      permission: 'hunting.run',
      audience: 'api',
      summary: 'Run an advanced hunting query (XDR form: adds Stats)',
      body: 'json',
      requestBody: querySchema,
      responses: {
        200: { description: 'Stats, Schema and Results', schema: answerSchema },
        400: { description: 'The query does not compile or run: the line and column of each error' },
        429: { description: 'Too many queries are running' },
      },
      tags: ['hunting'],
      async handler(request) {
        const { answer, truncated, ms } = await run(request);
        return json(200, {
          Stats: { ExecutionTime: Number((ms / 1000).toFixed(3)), Truncated: truncated },
          ...answer,
        });
      },
    },
  ];
}
