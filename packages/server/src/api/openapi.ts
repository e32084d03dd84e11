// The OpenAPI 3.1 document served at /api/openapi.json, built from the server's route list:
// OData parameters from each list route's entity set, the three ways in (bearer token, portal
// session cookie, sensor client certificate) and problem+json for every error.
import { odataLimits } from './odata.ts';
import type { EntitySet, PropertyDefinition } from './odata-entity.ts';
import { type ProblemKind, problemContentType, problemKinds, problemTypeUri } from './problem.ts';

export const httpMethods = ['get', 'put', 'post', 'delete', 'patch'] as const;
export type HttpMethod = (typeof httpMethods)[number];

/** Who calls a route: API clients and the portal, sensors over mutual TLS, or anyone. */
export const routeAudiences = ['api', 'sensor', 'public'] as const;
export type RouteAudience = (typeof routeAudiences)[number];

/** A JSON Schema (2020-12, OpenAPI 3.1's dialect). */
export type JsonSchema = { readonly [keyword: string]: unknown };

export interface RouteResponse {
  readonly description: string;
  readonly schema?: JsonSchema;
  /** Default `application/json`. */
  readonly contentType?: string;
}

export interface ApiRoute {
  readonly method: HttpMethod;
  /** `/api/alerts/{id}`; `:id` is accepted and written as `{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  /** The permission the caller needs (`Alert.Read.All`), or null when being signed in is enough. */
  readonly permission: string | null;
  /** Default `api`. */
  readonly audience?: RouteAudience;
  /** For list routes: the entity set whose OData options the route takes. */
  readonly query?: EntitySet;
  /** Schema of the JSON body, for routes that take one. */
  readonly requestBody?: JsonSchema;
  /** Success responses by status; error responses are added. */
  readonly responses: Readonly<Record<number, RouteResponse>>;
  readonly operationId?: string;
  readonly tags?: readonly string[];
}

export interface OpenApiOptions {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
  readonly servers?: readonly { readonly url: string; readonly description?: string }[];
  /** The portal's session cookie; default `palisade_session`. */
  readonly sessionCookie?: string;
  readonly routes: readonly ApiRoute[];
}

type JsonObject = { readonly [key: string]: unknown };

export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly parameters?: readonly JsonObject[];
  readonly requestBody?: JsonObject;
  readonly responses: Readonly<Record<string, JsonObject>>;
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly 'x-palisade-permission': string | null;
}

export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  readonly servers?: readonly JsonObject[];
  readonly paths: Readonly<Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly responses: Readonly<Record<string, JsonObject>>;
    readonly securitySchemes: Readonly<Record<string, JsonObject>>;
  };
}

export const openApiVersion = '3.1.1';

/** Error responses every operation may list, and when it lists them. */
const errorResponses: readonly {
  readonly status: string;
  readonly component: string;
  readonly kind: ProblemKind;
  readonly applies: (route: ApiRoute, hasPathParams: boolean) => boolean;
}[] = [
  {
    status: '400',
    component: 'BadRequest',
    kind: 'invalid-query',
    applies: (r) => r.query !== undefined || r.requestBody !== undefined,
  },
  {
    status: '401',
    component: 'Unauthorized',
    kind: 'unauthorized',
    applies: (r) => audienceOf(r) !== 'public',
  },
  { status: '403', component: 'Forbidden', kind: 'forbidden', applies: (r) => r.permission !== null },
  { status: '404', component: 'NotFound', kind: 'not-found', applies: (_, hasPathParams) => hasPathParams },
  {
    status: '413',
    component: 'PayloadTooLarge',
    kind: 'payload-too-large',
    applies: (r) => r.requestBody !== undefined,
  },
  {
    status: '415',
    component: 'UnsupportedMediaType',
    kind: 'unsupported-media-type',
    applies: (r) => r.requestBody !== undefined,
  },
  { status: 'default', component: 'Error', kind: 'internal', applies: () => true },
];

const securitySchemeNames = {
  bearer: 'bearerToken',
  session: 'portalSession',
  certificate: 'sensorCertificate',
} as const;

/**
 * Builds the document. A malformed route list (duplicate route or operationId, a bad path or
 * status) is a bug and throws.
 * @example buildOpenApiDocument({ title: 'Palisade API', version: '0.1.0', routes })
 */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>> = {};
  const operationIds = new Set<string>();
  for (const route of options.routes) {
    const path = route.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
    if (!path.startsWith('/'))
      throw new Error(`route ${route.method} ${route.path}: the path must start with /`);
    const pathItem = paths[path] ?? {};
    paths[path] = pathItem;
    if (pathItem[route.method] !== undefined)
      throw new Error(`route ${route.method} ${path} is listed twice`);
    const operation = buildOperation(route, path);
    if (operationIds.has(operation.operationId)) {
      throw new Error(`route ${route.method} ${path}: operationId ${operation.operationId} is used twice`);
    }
    operationIds.add(operation.operationId);
    pathItem[route.method] = operation;
  }
  return {
    openapi: openApiVersion,
    info: {
      title: options.title,
      version: options.version,
      ...(options.description === undefined ? {} : { description: options.description }),
    },
    ...(options.servers === undefined ? {} : { servers: options.servers }),
    paths,
    components: {
      schemas: { Problem: problemSchema, ProblemError: problemErrorSchema },
      responses: Object.fromEntries(
        errorResponses.map(({ component, kind, status }) => [
          component,
          {
            description: status === 'default' ? 'Any other error' : problemKinds[kind].title,
            content: { [problemContentType]: { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        ]),
      ),
      securitySchemes: {
        [securitySchemeNames.bearer]: {
          type: 'http',
          scheme: 'bearer',
          description:
            "API client token, sent as `Authorization: Bearer <token>`. The token's permissions must include the operation's x-palisade-permission.",
        },
        [securitySchemeNames.session]: {
          type: 'apiKey',
          in: 'cookie',
          name: options.sessionCookie ?? 'palisade_session',
          description:
            "The portal's session cookie; the signed-in user's role must grant x-palisade-permission.",
        },
        [securitySchemeNames.certificate]: {
          type: 'mutualTLS',
          description: 'Sensors present the client certificate issued when they registered.',
        },
      },
    },
  };
}

function audienceOf(route: ApiRoute): RouteAudience {
  return route.audience ?? 'api';
}

function buildOperation(route: ApiRoute, path: string): OpenApiOperation {
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  const parameters = [
    ...pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...(route.query === undefined ? [] : odataParameters(route.query)),
  ];
  const responses: Record<string, JsonObject> = {};
  for (const [status, response] of Object.entries(route.responses)) {
    if (!/^[1-5][0-9]{2}$/.test(status))
      throw new Error(`route ${route.method} ${path}: bad status ${status}`);
    responses[status] = {
      description: response.description,
      ...(response.schema === undefined
        ? {}
        : { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } }),
    };
  }
  for (const error of errorResponses) {
    if (responses[error.status] === undefined && error.applies(route, pathParams.length > 0)) {
      responses[error.status] = { $ref: `#/components/responses/${error.component}` };
    }
  }
  return {
    operationId: route.operationId ?? operationIdFor(route.method, path),
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    ...(route.tags === undefined ? {} : { tags: route.tags }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.requestBody === undefined
      ? {}
      : { requestBody: { required: true, content: { 'application/json': { schema: route.requestBody } } } }),
    responses,
    security: securityFor(route),
    'x-palisade-permission': route.permission,
  };
}

/**
 * OpenAPI 3.1 lets a non-OAuth requirement list role names (§4.8.30.2); the permission goes
 * there as well as in x-palisade-permission.
 */
function securityFor(route: ApiRoute): Record<string, readonly string[]>[] {
  const roles = route.permission === null ? [] : [route.permission];
  switch (audienceOf(route)) {
    case 'api':
      return [{ [securitySchemeNames.bearer]: roles }, { [securitySchemeNames.session]: roles }];
    case 'sensor':
      return [{ [securitySchemeNames.certificate]: roles }];
    case 'public':
      return [];
    default:
      throw new Error(`route ${route.method} ${route.path}: unknown audience ${String(route.audience)}`);
  }
}

/** `get /api/alerts/{id}` → `getAlertsById`. */
function operationIdFor(method: HttpMethod, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment !== '' && segment !== 'api')
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment);
      return param === null ? pascal(segment) : `By${pascal(param[1] ?? '')}`;
    });
  return `${method}${words.join('')}`;
}

function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

function describeProperty(name: string, def: PropertyDefinition): string {
  if (def.type !== 'enum') return `${name} (${def.type})`;
  return `${name} (${def.values.join(def.ordered === true ? ' < ' : ' | ')})`;
}

function odataParameters(set: EntitySet): JsonObject[] {
  const entries = Object.entries(set.properties);
  const filterable = entries.filter(([, def]) => def.filterable !== false);
  const sortable = entries.filter(([, def]) => def.sortable !== false).map(([name]) => name);
  const keyIsSorted = set.defaultOrderBy.some(({ property }) => property === set.key);
  const defaultOrder = [
    ...set.defaultOrderBy,
    ...(keyIsSorted ? [] : [{ property: set.key, direction: 'asc' }]),
  ]
    .map(({ property, direction }) => `${property} ${direction}`)
    .join(', ');
  const example = filterable.find(([, def]) => def.type === 'datetime')?.[0];
  const parameters: JsonObject[] = [
    {
      name: '$filter',
      in: 'query',
      description: [
        `OData filter on: ${filterable.map(([name, def]) => describeProperty(name, def)).join(', ')}.`,
        'Operators: eq, ne, gt, ge, lt, le, in (…), and, or, not (…), parentheses; and binds tighter than or.',
        "Strings in single quotes ('' for a quote), datetimes unquoted in ISO 8601 (UTC unless an offset is given), GUIDs unquoted.",
        'gt, ge, lt and le on an ordered enum follow the order shown; null compares only with eq and ne.',
      ].join(' '),
      schema: { type: 'string', maxLength: odataLimits.maxOptionLength },
      ...(example === undefined ? {} : { example: `${example} ge 2019-11-22T00:00:00Z` }),
      'x-palisade-filterable': filterable.map(([name]) => name),
    },
    {
      name: '$top',
      in: 'query',
      description: `Page size, at most ${set.maxTop}.`,
      schema: { type: 'integer', minimum: 0, maximum: set.maxTop, default: set.maxTop },
    },
    {
      name: '$skip',
      in: 'query',
      description: 'Items to skip before the page.',
      schema: { type: 'integer', minimum: 0, default: 0 },
    },
    {
      name: '$orderby',
      in: 'query',
      description: `Comma-separated properties, each optionally followed by asc or desc: ${sortable.join(', ')}. Enums sort in their declared order and null sorts first. Default: ${defaultOrder}; ${set.key} always breaks ties.`,
      schema: { type: 'string', maxLength: odataLimits.maxOptionLength },
      'x-palisade-sortable': sortable,
    },
  ];
  if (set.expand.length > 0) {
    parameters.push({
      name: '$expand',
      in: 'query',
      description: `Comma-separated related items to include: ${set.expand.join(', ')}.`,
      schema: { type: 'string' },
    });
  }
  return parameters;
}

const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details, served as application/problem+json.',
  required: ['type', 'title', 'status'],
  properties: {
    type: {
      type: 'string',
      format: 'uri-reference',
      description: 'The kind of problem, relative to the server.',
      examples: Object.keys(problemKinds).map((kind) => problemTypeUri(kind as ProblemKind)),
    },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string', format: 'uri-reference' },
    errors: { type: 'array', items: { $ref: '#/components/schemas/ProblemError' } },
  },
};

const problemErrorSchema: JsonSchema = {
  type: 'object',
  required: ['detail'],
  properties: {
    detail: { type: 'string' },
    code: { type: 'string', examples: ['odata/syntax', 'odata/unknown-property', 'body/type-mismatch'] },
    pointer: {
      type: 'string',
      description: 'JSON Pointer into the request body, in URI fragment form (#/status).',
    },
    parameter: { type: 'string', description: 'The query parameter, e.g. $filter.' },
    offset: {
      type: 'integer',
      minimum: 0,
      description: "0-based character offset in the parameter's decoded value.",
    },
  },
};
