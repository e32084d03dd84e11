// `/api/custom-detections`: custom detection rules (saved KQL queries run on a schedule, raising
// alerts with the rule's title, severity, category, techniques and mapped entities). Listing
// needs the hunting permission; saving, deleting and running one needs detection tuning. A rule
// is saved only when its query compiles and returns Timestamp and the mapped columns. Audited.
import {
  type CustomDetectionPatch,
  type CustomDetectionRecord,
  detectionFrequencies,
  type JsonObject,
  type StateStore,
  severities,
} from '@palisade/store';
import type { JsonSchema } from '../api/openapi.ts';
import { createProblem } from '../api/problem.ts';
import {
  checkRuleQuery,
  type EntityMapping,
  entityMappingOf,
  mappedEntities,
} from '../custom-detections/custom-detection-rule.ts';
import { BodyReader, describe } from '../http/body-reader.ts';
import { fail, failWith, json, type Route, type RouteRequest } from '../http/route.ts';
import { alertCategories } from '../incidents/model.ts';
import { actorOf, type RouteContext } from './context.ts';
import { maxQueryLength } from './hunting-routes.ts';

const members = [
  'title',
  'description',
  'query',
  'frequency',
  'severity',
  'category',
  'mitreTechniques',
  'entityMapping',
  'recommendedActions',
  'enabled',
] as const;

const techniquePattern = /^T\d{4}(?:\.\d{3})?$/;

const ruleSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    title: { type: 'string', maxLength: 256 },
    description: { type: ['string', 'null'] },
    query: { type: 'string', maxLength: maxQueryLength },
    frequency: { enum: [...detectionFrequencies] },
    severity: { enum: [...severities] },
    category: { enum: [...alertCategories] },
    mitreTechniques: { type: 'array', items: { type: 'string', pattern: techniquePattern.source } },
    entityMapping: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(mappedEntities.map((e) => [e, { type: 'string' }])),
    },
    recommendedActions: { type: ['string', 'null'] },
    enabled: { type: 'boolean' },
  },
};

/** The members of a create (all required ones) or PATCH body, every wrong one reported together. */
function readRule(request: RouteRequest, creating: boolean): CustomDetectionPatch {
  const body = new BodyReader(request.body, members);
  const required = { required: creating };
  const title = body.string('title', required);
  const description = body.has('description') ? body.nullableString('description') : undefined;
  const query = body.string('query', { ...required, max: maxQueryLength });
  const frequency = body.oneOf('frequency', detectionFrequencies, creating);
  const severity = body.oneOf('severity', severities, creating);
  const category = body.oneOf('category', alertCategories, creating);
  const techniques = body.strings('mitreTechniques');
  techniques?.forEach((t, i) => {
    if (!techniquePattern.test(t))
      body.issue(
        ['mitreTechniques', i],
        'a technique id such as T1059.001',
        describe(t),
        'body/type-mismatch',
      );
  });
  let entityMapping: EntityMapping | undefined;
  const mapping = body.fields.entityMapping;
  if (mapping === undefined) {
    if (creating) body.issue(['entityMapping'], 'an object', 'nothing', 'body/missing-field');
  } else if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) {
    body.issue(['entityMapping'], 'an object', describe(mapping), 'body/type-mismatch');
  } else {
    entityMapping = {};
    for (const [entity, column] of Object.entries(mapping)) {
      if (!(mappedEntities as readonly string[]).includes(entity)) {
        body.issue(
          ['entityMapping', entity],
          `one of ${mappedEntities.join(', ')}`,
          'no such entity',
          'body/unknown-field',
        );
      } else if (typeof column !== 'string' || column.trim() === '') {
        body.issue(['entityMapping', entity], 'a column name', describe(column), 'body/type-mismatch');
      } else {
        entityMapping = { ...entityMapping, [entity]: column };
      }
    }
  }
  const recommendedActions = body.has('recommendedActions')
    ? body.nullableString('recommendedActions')
    : undefined;
  const enabled = body.boolean('enabled');
  body.check(request);
  const patch: { -readonly [K in keyof CustomDetectionPatch]: CustomDetectionPatch[K] } = {};
  if (title !== undefined) patch.title = title;
  if (description !== undefined) patch.description = description;
  if (query !== undefined) patch.query = query;
  if (frequency !== undefined) patch.frequency = frequency;
  if (severity !== undefined) patch.severity = severity;
  if (category !== undefined) patch.category = category;
  if (techniques !== undefined) patch.mitreTechniques = techniques;
  if (entityMapping !== undefined) patch.entityMapping = entityMapping as JsonObject;
  if (recommendedActions !== undefined) patch.recommendedActions = recommendedActions;
  if (enabled !== undefined) patch.enabled = enabled;
  return patch;
}

/** A 400 when the rule's query does not compile or does not return what its alerts need. */
function checkRule(
  request: RouteRequest,
  rule: Pick<CustomDetectionRecord, 'query' | 'frequency' | 'entityMapping'>,
) {
  const problems = checkRuleQuery(rule.query, rule.frequency, entityMappingOf(rule));
  if (problems.length === 0) return;
  failWith(
    createProblem('invalid-body', {
      detail: problems
        .map(
          (p) =>
            `${p.member}: ${p.message}${p.line === undefined ? '' : ` (line ${p.line}, column ${p.column})`}`,
        )
        .join('; '),
      instance: request.url.pathname,
      errors: problems.map((p) => ({
        detail: p.message,
        code: 'custom-detection/bad-rule',
        pointer: `#/${p.member}`,
        ...(p.line === undefined ? {} : { line: p.line, column: p.column }),
      })),
    }),
  );
}

async function ruleOrFail(state: StateStore, id: string): Promise<CustomDetectionRecord> {
  const rule = await state.customDetections.get(id);
  if (rule === undefined) return fail('not-found', `no custom detection rule ${id}`);
  return rule;
}

export function customDetectionRoutes(context: RouteContext): Route[] {
  const { state } = context.instance;
  const audit = (
    tx: StateStore,
    request: RouteRequest,
    action: string,
    target: string,
    details: JsonObject,
  ) => tx.audit.append({ actor: actorOf(request.principal), action, target, details });

  return [
    {
      method: 'GET',
      path: '/api/custom-detections',
      permission: 'hunting.run',
      audience: 'api',
      summary: 'List custom detection rules',
      responses: { 200: { description: 'The rules' } },
      tags: ['hunting'],
      async handler() {
        return json(200, { value: await state.customDetections.list() });
      },
    },
    {
      method: 'GET',
      path: '/api/custom-detections/:id',
      permission: 'hunting.run',
      audience: 'api',
      summary: 'Get a custom detection rule',
      responses: { 200: { description: 'The rule' } },
      tags: ['hunting'],
      async handler(request) {
        return json(200, await ruleOrFail(state, request.params.id ?? ''));
      },
    },
    {
      method: 'POST',
      path: '/api/custom-detections',
      permission: 'detections.manage',
      audience: 'api',
      summary: 'Create a custom detection rule',
      body: 'json',
      requestBody: {
        ...ruleSchema,
        required: ['title', 'query', 'frequency', 'severity', 'category', 'entityMapping'],
      },
      responses: {
        201: { description: 'The rule' },
        400: {
          description:
            'A member is wrong, or the query does not compile or lacks Timestamp or a mapped column',
        },
      },
      tags: ['hunting'],
      async handler(request) {
        const patch = readRule(request, true);
        const input = { ...patch, createdBy: actorOf(request.principal) } as Parameters<
          StateStore['customDetections']['create']
        >[0];
        checkRule(request, {
          query: input.query,
          frequency: input.frequency,
          entityMapping: input.entityMapping,
        });
        const created = await state.transaction(async (tx) => {
          const rule = await tx.customDetections.create(input);
          await audit(tx, request, 'customDetection.create', rule.id, {
            title: rule.title,
            query: rule.query,
          });
          return rule;
        });
        return json(201, created);
      },
    },
    {
      method: 'PATCH',
      path: '/api/custom-detections/:id',
      permission: 'detections.manage',
      audience: 'api',
      summary: 'Change a custom detection rule (enable, disable, edit)',
      body: 'json',
      requestBody: ruleSchema,
      responses: { 200: { description: 'The rule' }, 404: { description: 'No such rule' } },
      tags: ['hunting'],
      async handler(request) {
        const before = await ruleOrFail(state, request.params.id ?? '');
        const patch = readRule(request, false);
        if (patch.query !== undefined || patch.frequency !== undefined || patch.entityMapping !== undefined) {
          checkRule(request, { ...before, ...patch } as CustomDetectionRecord);
        }
        const updated = await state.transaction(async (tx) => {
          const rule = await tx.customDetections.update(before.id, patch);
          await audit(tx, request, 'customDetection.update', before.id, {
            before: Object.fromEntries(
              Object.keys(patch).map((k) => [k, before[k as keyof CustomDetectionRecord]]),
            ) as JsonObject,
            after: patch as JsonObject,
          });
          return rule;
        });
        return json(200, updated);
      },
    },
    {
      method: 'DELETE',
      path: '/api/custom-detections/:id',
      permission: 'detections.manage',
      audience: 'api',
      summary: 'Delete a custom detection rule (its alerts stay)',
      responses: { 204: { description: 'Deleted' }, 404: { description: 'No such rule' } },
      tags: ['hunting'],
      async handler(request) {
        const rule = await ruleOrFail(state, request.params.id ?? '');
        await state.transaction(async (tx) => {
          await tx.customDetections.delete(rule.id);
          await audit(tx, request, 'customDetection.delete', rule.id, { title: rule.title });
        });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/custom-detections/:id/run',
      permission: 'detections.manage',
      audience: 'api',
      summary: 'Run a custom detection rule now (its schedule counts from this run)',
      responses: { 200: { description: 'What the run did' }, 404: { description: 'No such rule' } },
      tags: ['hunting'],
      async handler(request) {
        const rule = await ruleOrFail(state, request.params.id ?? '');
        return json(200, await context.customDetections.run(rule));
      },
    },
  ];
}
