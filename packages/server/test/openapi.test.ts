// The OpenAPI document: structurally valid OpenAPI 3.1 (checked here against the specification's
// required fields, without a network or a validator package), every route present with its
// permission, OData parameters from the entity sets, problem+json errors.
import { describe, expect, it } from 'vitest';
import {
  alertsEntitySet,
  incidentsEntitySet,
  machinesEntitySet,
  sensorsEntitySet,
} from '../src/api/odata-entity-sets.ts';
import {
  type ApiRoute,
  buildOpenApiDocument,
  type JsonSchema,
  type OpenApiDocument,
} from '../src/api/openapi.ts';

const alert: JsonSchema = {
  type: 'object',
  required: ['id', 'severity', 'status'],
  properties: { id: { type: 'string' }, severity: { type: 'string' }, status: { type: 'string' } },
};
const page = (item: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['value'],
  properties: { '@odata.context': { type: 'string' }, value: { type: 'array', items: item } },
});
const alertPatch: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: ['New', 'InProgress', 'Resolved'] },
    assignedTo: { type: 'string' },
    classification: { type: ['string', 'null'] },
    determination: { type: ['string', 'null'] },
    comment: { type: 'string' },
  },
};

/** Issue 6's routes, plus a sensor route and a public one. */
const routes: ApiRoute[] = [
  {
    method: 'get',
    path: '/api/alerts',
    summary: 'List alerts',
    permission: 'Alert.Read.All',
    query: alertsEntitySet,
    responses: { 200: { description: 'A page of alerts', schema: page(alert) } },
    tags: ['alerts'],
  },
  {
    method: 'get',
    path: '/api/alerts/{id}',
    summary: 'Get an alert',
    permission: 'Alert.Read.All',
    responses: { 200: { description: 'The alert', schema: alert } },
  },
  {
    method: 'patch',
    path: '/api/alerts/:id',
    summary: 'Update an alert',
    permission: 'Alert.ReadWrite.All',
    requestBody: alertPatch,
    responses: { 200: { description: 'The updated alert', schema: alert } },
  },
  {
    method: 'get',
    path: '/api/incidents',
    summary: 'List incidents',
    permission: 'Incident.Read.All',
    query: incidentsEntitySet,
    responses: { 200: { description: 'A page of incidents', schema: page({ type: 'object' }) } },
  },
  {
    method: 'get',
    path: '/api/incidents/{id}',
    summary: 'Get an incident',
    permission: 'Incident.Read.All',
    responses: { 200: { description: 'The incident', schema: { type: 'object' } } },
  },
  {
    method: 'patch',
    path: '/api/incidents/{id}',
    summary: 'Update an incident',
    permission: 'Incident.ReadWrite.All',
    requestBody: { type: 'object' },
    responses: { 200: { description: 'The updated incident', schema: { type: 'object' } } },
  },
  {
    method: 'get',
    path: '/api/machines',
    summary: 'List machines',
    permission: 'Machine.Read.All',
    query: machinesEntitySet,
    responses: { 200: { description: 'A page of machines', schema: page({ type: 'object' }) } },
  },
  {
    method: 'get',
    path: '/api/machines/{id}',
    summary: 'Get a machine',
    permission: 'Machine.Read.All',
    responses: { 200: { description: 'The machine', schema: { type: 'object' } } },
  },
  {
    method: 'get',
    path: '/api/sensors',
    summary: 'List sensors',
    permission: 'Sensor.Read.All',
    query: sensorsEntitySet,
    responses: { 200: { description: 'A page of sensors', schema: page({ type: 'object' }) } },
  },
  {
    method: 'post',
    path: '/sensor/v1/heartbeat',
    summary: 'Sensor heartbeat',
    permission: null,
    audience: 'sensor',
    requestBody: { type: 'object' },
    responses: { 204: { description: 'Accepted' } },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    permission: null,
    audience: 'public',
    responses: { 200: { description: 'The OpenAPI document', schema: { type: 'object' } } },
  },
];

const doc = buildOpenApiDocument({
  title: 'Palisade API',
  version: '0.1.0',
  servers: [{ url: 'https://palisade.example' }],
  routes,
});

// ---------------------------------------------------------------------------------------------
// A structural check written from the OpenAPI 3.1.1 specification (§4.8): required fields,
// allowed fields, parameter rules, security requirement names and $ref targets.

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const operationFields = new Set([
  'tags',
  'summary',
  'description',
  'externalDocs',
  'operationId',
  'parameters',
  'requestBody',
  'responses',
  'callbacks',
  'deprecated',
  'security',
  'servers',
]);
const parameterFields = new Set([
  'name',
  'in',
  'description',
  'required',
  'deprecated',
  'allowEmptyValue',
  'style',
  'explode',
  'allowReserved',
  'schema',
  'example',
  'examples',
  'content',
]);
const componentKinds = new Set([
  'schemas',
  'responses',
  'parameters',
  'examples',
  'requestBodies',
  'headers',
  'securitySchemes',
  'links',
  'callbacks',
  'pathItems',
]);

function resolvePointer(root: Json, ref: string): Json {
  if (!ref.startsWith('#')) return undefined;
  let node: Json = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!isObject(node) || !(part in node)) return undefined;
    node = node[part];
  }
  return node;
}

function checkOpenApi31(doc: Json): string[] {
  const problems: string[] = [];
  const fail = (where: string, what: string) => problems.push(`${where}: ${what}`);
  const unknownFields = (where: string, value: Record<string, Json>, allowed: Set<string>) => {
    for (const key of Object.keys(value)) {
      if (!allowed.has(key) && !key.startsWith('x-')) fail(where, `unknown field ${key}`);
    }
  };
  if (!isObject(doc)) return ['document: not an object'];
  if (JSON.stringify(JSON.parse(JSON.stringify(doc))) !== JSON.stringify(doc))
    fail('document', 'not plain JSON');
  unknownFields(
    'document',
    doc,
    new Set([
      'openapi',
      'info',
      'jsonSchemaDialect',
      'servers',
      'paths',
      'webhooks',
      'components',
      'security',
      'tags',
      'externalDocs',
    ]),
  );
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi)) fail('openapi', 'must be 3.1.x');
  const info = doc.info;
  if (!isObject(info) || typeof info.title !== 'string' || typeof info.version !== 'string') {
    fail('info', 'needs title and version strings');
  }
  if (doc.paths === undefined && doc.components === undefined && doc.webhooks === undefined) {
    fail('document', 'needs paths, components or webhooks');
  }
  if (doc.servers !== undefined) {
    if (!Array.isArray(doc.servers)) fail('servers', 'not an array');
    else
      for (const s of doc.servers)
        if (!isObject(s) || typeof s.url !== 'string') fail('servers', 'server without url');
  }

  const components = isObject(doc.components) ? doc.components : {};
  for (const [kind, map] of Object.entries(components)) {
    if (!componentKinds.has(kind)) fail('components', `unknown kind ${kind}`);
    if (!isObject(map)) fail(`components.${kind}`, 'not an object');
    else
      for (const name of Object.keys(map))
        if (!/^[a-zA-Z0-9.\-_]+$/.test(name)) fail(`components.${kind}`, `bad name ${name}`);
  }
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  for (const [name, scheme] of Object.entries(schemes)) {
    const where = `securitySchemes.${name}`;
    if (!isObject(scheme)) {
      fail(where, 'not an object');
      continue;
    }
    switch (scheme.type) {
      case 'apiKey':
        if (typeof scheme.name !== 'string' || !['query', 'header', 'cookie'].includes(String(scheme.in))) {
          fail(where, 'apiKey needs name and in (query, header or cookie)');
        }
        break;
      case 'http':
        if (typeof scheme.scheme !== 'string') fail(where, 'http needs scheme');
        break;
      case 'mutualTLS':
        break;
      case 'oauth2':
        if (!isObject(scheme.flows)) fail(where, 'oauth2 needs flows');
        break;
      case 'openIdConnect':
        if (typeof scheme.openIdConnectUrl !== 'string') fail(where, 'openIdConnect needs openIdConnectUrl');
        break;
      default:
        fail(where, `unknown type ${String(scheme.type)}`);
    }
  }

  const checkSecurity = (where: string, security: Json) => {
    if (!Array.isArray(security)) return fail(where, 'security is not an array');
    for (const requirement of security) {
      if (!isObject(requirement)) {
        fail(where, 'security requirement is not an object');
        continue;
      }
      for (const [name, scopes] of Object.entries(requirement)) {
        if (!(name in schemes)) fail(where, `security scheme ${name} is not declared`);
        if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))
          fail(where, `${name} roles not strings`);
      }
    }
  };
  if (doc.security !== undefined) checkSecurity('document', doc.security);

  const operationIds = new Set<string>();
  const paths = isObject(doc.paths) ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith('/')) fail(path, 'path must start with /');
    if (!isObject(item)) {
      fail(path, 'path item is not an object');
      continue;
    }
    unknownFields(
      path,
      item,
      new Set([...methods, '$ref', 'summary', 'description', 'servers', 'parameters']),
    );
    const templateNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of methods) {
      const op = item[method];
      if (op === undefined) continue;
      const where = `${method} ${path}`;
      if (!isObject(op)) {
        fail(where, 'operation is not an object');
        continue;
      }
      unknownFields(where, op, operationFields);
      if (typeof op.operationId === 'string') {
        if (operationIds.has(op.operationId)) fail(where, `operationId ${op.operationId} is not unique`);
        operationIds.add(op.operationId);
      }
      const parameters = op.parameters === undefined ? [] : op.parameters;
      if (!Array.isArray(parameters)) fail(where, 'parameters is not an array');
      const seen = new Set<string>();
      for (const p of Array.isArray(parameters) ? parameters : []) {
        if (!isObject(p)) {
          fail(where, 'parameter is not an object');
          continue;
        }
        unknownFields(`${where} parameter`, p, parameterFields);
        if (typeof p.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(String(p.in))) {
          fail(where, 'parameter needs name and in');
        }
        if ((p.schema === undefined) === (p.content === undefined))
          fail(where, `${String(p.name)}: exactly one of schema, content`);
        const key = `${String(p.in)}:${String(p.name)}`;
        if (seen.has(key)) fail(where, `duplicate parameter ${key}`);
        seen.add(key);
        if (p.in === 'path') {
          if (p.required !== true) fail(where, `path parameter ${String(p.name)} must be required`);
          if (!templateNames.includes(String(p.name)))
            fail(where, `path parameter ${String(p.name)} not in the path`);
        }
      }
      for (const name of templateNames)
        if (!seen.has(`path:${name}`)) fail(where, `no parameter for {${name}}`);
      if (op.requestBody !== undefined) {
        if (
          !isObject(op.requestBody) ||
          !isObject(op.requestBody.content) ||
          Object.keys(op.requestBody.content).length === 0
        ) {
          fail(where, 'requestBody needs content');
        }
      }
      if (!isObject(op.responses) || Object.keys(op.responses).length === 0) {
        fail(where, 'responses must list at least one response');
      } else {
        for (const [status, response] of Object.entries(op.responses)) {
          if (status !== 'default' && !/^[1-5](?:[0-9]{2}|XX)$/.test(status))
            fail(where, `bad status ${status}`);
          if (!isObject(response)) {
            fail(where, `response ${status} is not an object`);
            continue;
          }
          if (typeof response.$ref === 'string') continue;
          if (typeof response.description !== 'string') fail(where, `response ${status} needs a description`);
          if (response.content !== undefined && !isObject(response.content))
            fail(where, `response ${status} content`);
        }
      }
      if (op.security !== undefined) checkSecurity(where, op.security);
    }
  }
  for (const [name, response] of Object.entries(isObject(components.responses) ? components.responses : {})) {
    if (!isObject(response) || typeof response.description !== 'string')
      fail(`components.responses.${name}`, 'needs a description');
  }

  const visit = (node: Json, where: string): void => {
    if (Array.isArray(node)) {
      for (const [i, child] of node.entries()) visit(child, `${where}/${i}`);
    } else if (isObject(node)) {
      if (typeof node.$ref === 'string' && resolvePointer(doc, node.$ref) === undefined) {
        fail(where, `$ref ${node.$ref} does not resolve`);
      }
      for (const [key, child] of Object.entries(node)) visit(child, `${where}/${key}`);
    }
  };
  visit(doc, '#');
  return problems;
}

function operation(path: string, method: 'get' | 'patch' | 'post') {
  const op = doc.paths[path]?.[method];
  if (op === undefined) throw new Error(`no ${method} ${path}`);
  return op;
}

// ---------------------------------------------------------------------------------------------

describe('the OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.1');
    expect(checkOpenApi31(doc)).toEqual([]);
  });

  it('fails the structural check when broken, so the check is not empty', () => {
    const broken = JSON.parse(JSON.stringify(doc)) as Record<
      string,
      Record<string, Record<string, Record<string, Json>>>
    >;
    const getAlert = broken.paths?.['/api/alerts/{id}']?.get;
    if (getAlert === undefined) throw new Error('no get alert');
    getAlert.parameters = [];
    getAlert.security = [{ apiKey: [] }];
    getAlert.responses = { '200': {}, '4x4': { $ref: '#/components/responses/Nope' } };
    getAlert.operationId = 'getAlerts';
    expect(checkOpenApi31({ ...broken, openapi: '3.0.3' })).toEqual([
      'openapi: must be 3.1.x',
      'get /api/alerts/{id}: operationId getAlerts is not unique',
      'get /api/alerts/{id}: no parameter for {id}',
      'get /api/alerts/{id}: response 200 needs a description',
      'get /api/alerts/{id}: bad status 4x4',
      'get /api/alerts/{id}: security scheme apiKey is not declared',
      '#/paths//api/alerts/{id}/get/responses/4x4: $ref #/components/responses/Nope does not resolve',
    ]);
  });

  it('lists every route with its permission as x-palisade-permission', () => {
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      const op = doc.paths[path]?.[route.method];
      expect(op, `${route.method} ${path}`).toBeDefined();
      expect(op?.['x-palisade-permission']).toBe(route.permission);
      expect(op?.summary).toBe(route.summary);
    }
    const count = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(count).toBe(routes.length);
  });

  it('offers bearer token or portal session for API routes, the client certificate for sensors, nothing for public routes', () => {
    expect(operation('/api/alerts/{id}', 'patch').security).toEqual([
      { bearerToken: ['Alert.ReadWrite.All'] },
      { portalSession: ['Alert.ReadWrite.All'] },
    ]);
    expect(operation('/sensor/v1/heartbeat', 'post').security).toEqual([{ sensorCertificate: [] }]);
    expect(operation('/api/openapi.json', 'get').security).toEqual([]);
    expect(doc.components.securitySchemes).toEqual({
      bearerToken: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      portalSession: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'palisade_session' }),
      sensorCertificate: expect.objectContaining({ type: 'mutualTLS' }),
    });
  });

  it('gives list routes the OData parameters of their entity set', () => {
    const parameters = (path: string) => operation(path, 'get').parameters ?? [];
    const byName = (path: string, name: string) => parameters(path).find((p) => p.name === name);
    expect(parameters('/api/alerts').map((p) => p.name)).toEqual([
      '$filter',
      '$top',
      '$skip',
      '$orderby',
      '$expand',
    ]);
    expect(byName('/api/alerts', '$filter')).toMatchObject({
      in: 'query',
      example: 'alertCreationTime ge 2019-11-22T00:00:00Z',
      'x-palisade-filterable': [
        'id',
        'alertCreationTime',
        'lastUpdateTime',
        'lastEventTime',
        'incidentId',
        'investigationId',
        'assignedTo',
        'detectionSource',
        'status',
        'severity',
        'category',
      ],
    });
    expect(String(byName('/api/alerts', '$filter')?.description)).toContain(
      'severity (UnSpecified < Informational < Low < Medium < High)',
    );
    expect(byName('/api/alerts', '$top')).toMatchObject({
      schema: { type: 'integer', minimum: 0, maximum: 10_000 },
    });
    expect(byName('/api/incidents', '$top')).toMatchObject({ schema: { maximum: 100 } });
    expect(byName('/api/incidents', '$filter')).toMatchObject({
      'x-palisade-filterable': ['lastUpdateTime', 'createdTime', 'status', 'assignedTo'],
    });
    expect(String(byName('/api/incidents', '$orderby')?.description)).toContain(
      'Default: lastUpdateTime desc, incidentId asc',
    );
    expect(parameters('/api/machines').map((p) => p.name)).toEqual(['$filter', '$top', '$skip', '$orderby']);
    expect(operation('/api/alerts/{id}', 'get').parameters).toEqual([
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  it('answers errors as problem+json', () => {
    expect(doc.components.responses.BadRequest).toEqual({
      description: 'Invalid query options',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
    expect(Object.keys(operation('/api/alerts', 'get').responses)).toEqual([
      '200',
      '400',
      '401',
      '403',
      'default',
    ]);
    expect(Object.keys(operation('/api/openapi.json', 'get').responses)).toEqual(['200', 'default']);
    expect(Object.keys(operation('/sensor/v1/heartbeat', 'post').responses)).toEqual([
      '204',
      '400',
      '401',
      '413',
      '415',
      'default',
    ]);
  });

  it('writes a whole operation', () => {
    expect(operation('/api/alerts/{id}', 'patch')).toEqual({
      operationId: 'patchAlertsById',
      summary: 'Update an alert',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: { 'application/json': { schema: alertPatch } } },
      responses: {
        '200': { description: 'The updated alert', content: { 'application/json': { schema: alert } } },
        '400': { $ref: '#/components/responses/BadRequest' },
        '401': { $ref: '#/components/responses/Unauthorized' },
        '403': { $ref: '#/components/responses/Forbidden' },
        '404': { $ref: '#/components/responses/NotFound' },
        '413': { $ref: '#/components/responses/PayloadTooLarge' },
        '415': { $ref: '#/components/responses/UnsupportedMediaType' },
        default: { $ref: '#/components/responses/Error' },
      },
      security: [{ bearerToken: ['Alert.ReadWrite.All'] }, { portalSession: ['Alert.ReadWrite.All'] }],
      'x-palisade-permission': 'Alert.ReadWrite.All',
    });
  });

  it('refuses a route list with duplicates or bad statuses', () => {
    const [first] = routes;
    if (first === undefined) throw new Error('no routes');
    const build = (list: ApiRoute[]): OpenApiDocument =>
      buildOpenApiDocument({ title: 't', version: '1', routes: list });
    expect(() => build([first, first])).toThrow('route get /api/alerts is listed twice');
    expect(() => build([first, { ...first, path: '/api/alerts2', operationId: 'getAlerts' }])).toThrow(
      'operationId getAlerts is used twice',
    );
    expect(() => build([{ ...first, responses: { 999: { description: 'x' } } }])).toThrow('bad status 999');
    expect(() => build([{ ...first, path: 'api/x' }])).toThrow('the path must start with /');
  });
});
