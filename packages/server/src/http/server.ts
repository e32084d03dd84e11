// The HTTPS front of the instance: each request gets an id and a child logger, its route, its
// caller (authorised before the body is read), its body, and the handler's answer. Every error
// is problem+json; error codes of the libraries map to problem kinds in one table.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import { StoreError } from '@palisade/store';
import { createProblem, type Problem, type ProblemKind, problemResponse } from '../api/problem.ts';
import type { Logger } from '../log.ts';
import { PipelineError } from '../pipeline.ts';
import { parseBody } from './body.ts';
import { type Caller, type CallerContext, resolveCaller } from './caller.ts';
import { defaultBodyLimit, HttpProblem, type Route, type RouteResponse } from './route.ts';
import { createRouter } from './router.ts';

/** Error codes of the stores and the pipeline as problem kinds: the one status table. */
export const errorCodeKinds: Readonly<Record<string, ProblemKind>> = {
  'store/bad-row': 'invalid-body',
  'store/invalid': 'invalid-body',
  'store/conflict': 'conflict',
  'store/not-found': 'not-found',
  'store/aborted': 'unavailable',
  'store/closed': 'unavailable',
  'pipeline/busy': 'unavailable',
  'pipeline/recovering': 'unavailable',
};

/** Seconds a client should wait before retrying a 503. */
export const retryAfterSeconds = 5;

export interface InstanceServerOptions {
  readonly routes: readonly Route[];
  readonly tls: ServerOptions;
  readonly callers: CallerContext;
  readonly log: Logger;
}

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000',
} as const;

/** An HTTPS server answering the route table; call `listen` on it. */
export function createInstanceServer(options: InstanceServerOptions): Server {
  const router = createRouter(options.routes);
  const log = options.log.child({ component: 'http' });
  return createServer(options.tls, (request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const started = performance.now();
    const requestLog = log.child({ reqId: requestId });
    const url = new URL(request.url ?? '/', 'https://instance.invalid');
    let caller = 'anonymous';
    try {
      const match = router.match(request.method ?? 'GET', url.pathname);
      if (match.kind === 'not-found')
        throw new HttpProblem(createProblem('not-found', { detail: `no route ${url.pathname}` }));
      if (match.kind === 'method-not-allowed') {
        throw new HttpProblem(
          createProblem('method-not-allowed', {
            detail: `${request.method} is not allowed on ${url.pathname}; use ${match.allow.join(', ')}`,
          }),
          { allow: match.allow.join(', ') },
        );
      }
      const { route, params } = match;
      const who = await resolveCaller(route, request, options.callers);
      caller = describeCaller(who);
      const body = await parseBody(request, route.body ?? 'none', route.bodyLimit ?? defaultBodyLimit);
      const answer = await route.handler({
        method: route.method,
        url,
        params,
        headers: request.headers,
        body,
        remoteAddress: request.socket.remoteAddress ?? '',
        principal: who.principal,
        sensor: who.sensor,
        sessionToken: who.sessionToken,
        requestId,
        log: requestLog,
      });
      send(response, answer);
    } catch (error) {
      sendProblem(response, problemOf(error, url.pathname, requestLog));
    } finally {
      requestLog.info('request', {
        method: request.method,
        path: url.pathname,
        status: response.statusCode,
        caller,
        ms: Math.round(performance.now() - started),
      });
    }
  }
}

function describeCaller(caller: Caller): string {
  if (caller.sensor) return `sensor:${caller.sensor.sensorId}`;
  const p = caller.principal;
  return p.kind === 'user'
    ? `user:${p.name}`
    : p.kind === 'api-client'
      ? `client:${p.clientId}`
      : 'anonymous';
}

interface ProblemAnswer {
  readonly problem: Problem;
  readonly headers: Readonly<Record<string, string>>;
}

function problemOf(error: unknown, path: string, log: Logger): ProblemAnswer {
  if (error instanceof HttpProblem) {
    return { problem: { ...error.problem, instance: path }, headers: error.headers };
  }
  if (error instanceof StoreError || error instanceof PipelineError) {
    const kind = errorCodeKinds[error.code];
    if (kind !== undefined) {
      return {
        problem: createProblem(kind, { detail: error.message, instance: path }),
        headers: kind === 'unavailable' ? { 'retry-after': String(retryAfterSeconds) } : {},
      };
    }
  }
  log.error('request failed', { path, err: error });
  return {
    problem: createProblem('internal', { detail: 'the request failed; see the server log', instance: path }),
    headers: {},
  };
}

function send(response: ServerResponse, answer: RouteResponse): void {
  const headers: Record<string, string> = { ...securityHeaders, ...answer.headers };
  if (answer.body === undefined) {
    response.writeHead(answer.status, headers).end();
    return;
  }
  const text = answer.contentType === undefined ? JSON.stringify(answer.body) : String(answer.body);
  headers['content-type'] = answer.contentType ?? 'application/json; charset=utf-8';
  response.writeHead(answer.status, headers).end(text);
}

function sendProblem(response: ServerResponse, answer: ProblemAnswer): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const { status, headers, body } = problemResponse(answer.problem);
  response.writeHead(status, { ...securityHeaders, ...headers, ...answer.headers }).end(body);
}
