// What a route of the instance is: method, path, the permission it requires, who calls it, its
// body and OpenAPI description, and its handler. The route table is data: the router, the
// OpenAPI document and the access-matrix test all read the same list.
import type { IncomingHttpHeaders } from 'node:http';
import type { EntitySet } from '../api/odata-entity.ts';
import type { JsonSchema, RouteAudience } from '../api/openapi.ts';
import { createProblem, type Problem, type ProblemKind } from '../api/problem.ts';
import type { HttpMethod, Principal } from '../auth/authorize.ts';
import type { RouteRequirement } from '../auth/permissions.ts';
import type { Logger } from '../log.ts';

/** How a route reads its body. */
export type BodyKind = 'none' | 'json' | 'form';

/** The mTLS caller of a sensor route, checked against the CA, the revocation list and its record. */
export interface SensorCaller {
  readonly sensorId: string;
  readonly serialNumber: string;
}

export interface RouteRequest {
  readonly method: HttpMethod;
  readonly url: URL;
  /** Path parameters by name (`:id` → `params.id`), percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON, a form as a record, or undefined for `none`. */
  readonly body: unknown;
  readonly remoteAddress: string;
  /** The user or API client; anonymous on public and sensor routes. */
  readonly principal: Principal;
  /** Set on sensor routes only. */
  readonly sensor: SensorCaller | undefined;
  /** The session token of a cookie-authenticated request (for its CSRF token and logout). */
  readonly sessionToken: string | undefined;
  readonly requestId: string;
  readonly log: Logger;
}

export interface RouteResponse {
  readonly status: number;
  /** Sent as JSON unless `contentType` says otherwise (then it must be a string). */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Route {
  readonly method: HttpMethod;
  /** `/api/alerts/:id`. */
  readonly path: string;
  /** What `authorize` checks; sensor routes declare `authenticated` and are admitted by certificate. */
  readonly permission: RouteRequirement;
  readonly audience: RouteAudience;
  readonly summary: string;
  readonly body?: BodyKind;
  /** Largest body in bytes (default `defaultBodyLimit`). */
  readonly bodyLimit?: number;
  /** List routes: the OData entity set of their query options. */
  readonly query?: EntitySet;
  readonly requestBody?: JsonSchema;
  readonly responses: Readonly<
    Record<number, { readonly description: string; readonly schema?: JsonSchema }>
  >;
  readonly tags?: readonly string[];
  readonly handler: (request: RouteRequest) => Promise<RouteResponse>;
}

/** 1 MiB: every API body is far smaller; sensor batches set their own limit. */
export const defaultBodyLimit = 1_048_576;

/** A problem a handler raises; the server answers it as problem+json with its headers. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly problem: Problem,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.detail ?? problem.title);
  }
}

/** Throws a problem of a known kind. */
export function fail(kind: ProblemKind, detail: string, headers?: Record<string, string>): never {
  throw new HttpProblem(createProblem(kind, { detail }), headers);
}

/** Raises a ready-made problem (OData errors, body issues). */
export function failWith(problem: Problem, headers?: Record<string, string>): never {
  throw new HttpProblem(problem, headers);
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers?: Record<string, string>): RouteResponse {
  return headers === undefined ? { status, body } : { status, body, headers };
}
