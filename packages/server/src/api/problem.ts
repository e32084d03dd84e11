// Error answers as RFC 9457 problem details (`application/problem+json`): one table from problem
// kind to status and title, and the mappings from OData query errors and request body errors.
import type { ODataError } from './odata.ts';

export const problemContentType = 'application/problem+json';

/** Every kind of problem the API answers, with its HTTP status and title: the one table. */
export const problemKinds = {
  'invalid-query': { status: 400, title: 'Invalid query options' },
  'invalid-body': { status: 400, title: 'Invalid request body' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Permission denied' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { readonly status: number; readonly title: string }>;

export type ProblemKind = keyof typeof problemKinds;

/**
 * The `type` URI of a problem kind. It is a relative reference, so it resolves against the
 * instance's own origin (RFC 9457 §3.1.1 allows this); Palisade is self-hosted and has no
 * shared domain to mint absolute URIs under.
 */
export function problemTypeUri(kind: ProblemKind): string {
  return `/problems/${kind}`;
}

/** One item of the `errors` extension member, as in RFC 9457 §3's example. */
export interface ProblemError {
  readonly detail: string;
  /** A machine-readable code: `odata/syntax`, `body/type-mismatch`. */
  readonly code?: string;
  /** Where in the JSON body, as a JSON Pointer in URI fragment form (`#/status`). */
  readonly pointer?: string;
  /** Which query parameter (`$filter`). */
  readonly parameter?: string;
  /** 0-based character offset in the query parameter's decoded value (or the query text). */
  readonly offset?: number;
  /** 1-based line and column in a query text (hunting queries). */
  readonly line?: number;
  readonly column?: number;
}

/** RFC 9457 §3.1 members plus `errors` for validation problems. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly ProblemError[];
}

export interface ProblemOptions {
  readonly detail?: string;
  /** Usually the request path. */
  readonly instance?: string;
  readonly errors?: readonly ProblemError[];
}

/**
 * A problem of a known kind.
 * @example createProblem('not-found', { detail: "no alert 'da63…'", instance: '/api/alerts/da63…' })
 */
export function createProblem(kind: ProblemKind, options: ProblemOptions = {}): Problem {
  const { status, title } = problemKinds[kind];
  return {
    type: problemTypeUri(kind),
    title,
    status,
    ...(options.detail === undefined ? {} : { detail: options.detail }),
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    ...(options.errors === undefined || options.errors.length === 0 ? {} : { errors: options.errors }),
  };
}

/** A 400 naming each refused query option, its offset, and what was expected and found. */
export function problemFromODataErrors(errors: readonly ODataError[], instance?: string): Problem {
  return createProblem('invalid-query', {
    detail: summarise(
      errors.map((e) => e.message),
      'query option',
    ),
    ...(instance === undefined ? {} : { instance }),
    errors: errors.map((e) => ({ detail: e.message, code: e.code, parameter: e.option, offset: e.offset })),
  });
}

/** One thing wrong in a JSON request body; `path` leads from the root to the value. */
export interface BodyIssue {
  readonly path: readonly (string | number)[];
  readonly expected: string;
  readonly found: string;
  /** e.g. `body/missing-field`, `body/unknown-field`, `body/type-mismatch`. */
  readonly code?: string;
}

/** A 400 naming each wrong member of a JSON body by JSON Pointer. */
export function problemFromBodyIssues(issues: readonly BodyIssue[], instance?: string): Problem {
  const errors = issues.map((issue) => {
    const pointer = jsonPointer(issue.path);
    return {
      detail: `${pointer === '#' ? 'body' : pointer}: expected ${issue.expected}, found ${issue.found}`,
      ...(issue.code === undefined ? {} : { code: issue.code }),
      pointer,
    };
  });
  return createProblem('invalid-body', {
    detail: summarise(
      errors.map((e) => e.detail),
      'body member',
    ),
    ...(instance === undefined ? {} : { instance }),
    errors,
  });
}

/** A 400 for a body that is not JSON at all, with the parser's message (which has the position). */
export function problemFromJsonSyntax(error: SyntaxError, instance?: string): Problem {
  return createProblem('invalid-body', {
    detail: `the body is not valid JSON: ${error.message}`,
    ...(instance === undefined ? {} : { instance }),
    errors: [{ detail: error.message, code: 'body/json-syntax', pointer: '#' }],
  });
}

/** RFC 6901 JSON Pointer in URI fragment form: `['tags', 0]` → `#/tags/0`. */
export function jsonPointer(path: readonly (string | number)[]): string {
  // encodeURIComponent leaves `~` alone, so the RFC 6901 escapes survive.
  const parts = path.map((part) =>
    encodeURIComponent(String(part).replaceAll('~', '~0').replaceAll('/', '~1')),
  );
  return `#${parts.map((part) => `/${part}`).join('')}`;
}

/** Status, headers and body text for any HTTP layer. */
export function problemResponse(problem: Problem): {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
} {
  return {
    status: problem.status,
    headers: { 'content-type': problemContentType },
    body: JSON.stringify(problem),
  };
}

function summarise(messages: readonly string[], what: string): string {
  if (messages.length === 1) return messages[0] ?? '';
  return `${messages.length} problems with the ${what}s; see errors`;
}
