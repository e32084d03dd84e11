// `/api/incidents`: list (OData), get, update and merge incidents in the XDR Incident shape
// (reference §4.4), with their alerts. Updates and merges go through the pipeline, whose
// correlation may hold the incidents.
import type { StateStore, IncidentRecord as StoredIncident } from '@palisade/store';
import { readODataQuery } from '../api/odata-entity.ts';
import { incidentsEntitySet } from '../api/odata-entity-sets.ts';
import { applyODataQuery } from '../api/odata-evaluate.ts';
import type { JsonSchema } from '../api/openapi.ts';
import {
  type BodyIssue,
  createProblem,
  type ProblemKind,
  problemFromBodyIssues,
  problemFromODataErrors,
} from '../api/problem.ts';
import { fail, failWith, json, type Route } from '../http/route.ts';
import { facetsOfAlerts, MAX_MANUAL_MERGE } from '../incidents/correlate.ts';
import type {
  IncidentError,
  IncidentErrorCode,
  IncidentRecord,
  IncidentResource,
  IncidentSeverity,
} from '../incidents/model.ts';
import { incidentResource } from '../incidents/model.ts';
import { allAlerts, commentOf, mdeAlertOf, patchProblem } from './alert-routes.ts';
import { actorOf, deviceVisibility, odataEntity, odataPage, type RouteContext } from './context.ts';

/** A stored incident with its alerts and comments, as correlation and the Incident resource read it. */
async function incidentOf(
  state: StateStore,
  stored: StoredIncident,
): Promise<{ record: IncidentRecord; resource: IncidentResource; devices: string[] }> {
  const alerts = await allAlerts(state, { incidentId: stored.id });
  // Oldest first: the order alerts joined the incident.
  alerts.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  const comments = await state.comments.list({ kind: 'incident', id: stored.id });
  const mdeAlerts = alerts.map((a) => mdeAlertOf(a));
  const record: IncidentRecord = {
    incidentId: stored.id,
    redirectIncidentId: stored.redirectIncidentId,
    incidentName: stored.name,
    createdTime: stored.createdAt,
    lastUpdateTime: stored.lastUpdate,
    assignedTo: stored.assignedTo,
    classification: stored.classification,
    determination: stored.determination,
    status: stored.status,
    severity: (stored.severity === 'UnSpecified' ? 'Informational' : stored.severity) as IncidentSeverity,
    tags: stored.tags,
    comments: comments.map(commentOf),
    alertIds: alerts.map((a) => a.id),
    facets: facetsOfAlerts(mdeAlerts),
  };
  return {
    record,
    resource: incidentResource(record, mdeAlerts),
    devices: [...new Set(alerts.flatMap((a) => a.devices))],
  };
}

/** Every stored incident, page by page. */
async function allIncidents(state: StateStore): Promise<StoredIncident[]> {
  const out: StoredIncident[] = [];
  for (let skip = 0; ; skip += 10_000) {
    const page = await state.incidents.list({ top: 10_000, skip });
    out.push(...page.items);
    if (out.length >= page.total || page.items.length === 0) return out;
  }
}

const incidentSchema: JsonSchema = {
  type: 'object',
  required: ['incidentId', 'incidentName', 'status', 'severity', 'alerts'],
  properties: {
    incidentId: { type: 'integer' },
    incidentName: { type: 'string' },
    status: { enum: ['Active', 'InProgress', 'Resolved', 'Redirected'] },
    severity: { enum: ['Informational', 'Low', 'Medium', 'High'] },
    alerts: { type: 'array', items: { type: 'object' } },
  },
};

const incidentPatchSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: ['Active', 'InProgress', 'Resolved'] },
    assignedTo: { type: ['string', 'null'] },
    classification: { type: ['string', 'null'] },
    determination: { type: ['string', 'null'] },
    tags: { type: 'array', items: { type: 'string' } },
    comment: { type: 'string' },
  },
};

const incidentMergeSchema: JsonSchema = {
  type: 'object',
  required: ['incidentIds'],
  additionalProperties: false,
  properties: {
    incidentIds: { type: 'array', items: { type: 'integer' }, minItems: 2, maxItems: MAX_MANUAL_MERGE },
  },
};

/** How a refused merge is answered: a wrong count is a bad body, a closed or differing incident a conflict. */
const mergeProblemKinds: Partial<Record<IncidentErrorCode, ProblemKind>> = {
  'incidents/merge-count': 'invalid-body',
  'incidents/not-found': 'not-found',
  'incidents/redirected': 'conflict',
  'incidents/merge-closed': 'conflict',
  'incidents/merge-conflict': 'conflict',
};

function mergeProblem(errors: readonly IncidentError[]) {
  const kind = mergeProblemKinds[errors[0]?.code ?? 'incidents/merge-count'] ?? 'invalid-body';
  return createProblem(kind, {
    detail: errors.map((e) => e.message).join('; '),
    errors: errors.map((e) => ({ detail: e.message, code: e.code, pointer: `#/${e.property}` })),
  });
}

/** The ids of a merge body, or a 400 naming each member that is wrong. */
function mergeIds(body: unknown, instance: string): number[] {
  const issues: BodyIssue[] = [];
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  const fields: Record<string, unknown> = isObject ? (body as Record<string, unknown>) : {};
  const ids = fields.incidentIds;
  if (!isObject) {
    issues.push({ path: [], expected: 'a JSON object', found: JSON.stringify(body) ?? 'nothing' });
  } else if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) {
    issues.push({
      path: ['incidentIds'],
      expected: 'an array of incident ids',
      found: JSON.stringify(ids) ?? 'nothing',
      code: ids === undefined ? 'body/missing-field' : 'body/type-mismatch',
    });
  }
  for (const key of Object.keys(fields)) {
    if (key !== 'incidentIds')
      issues.push({ path: [key], expected: 'no such member', found: 'a value', code: 'body/unknown-field' });
  }
  if (issues.length > 0) failWith(problemFromBodyIssues(issues, instance));
  return ids as number[];
}

export function incidentRoutes(context: RouteContext): Route[] {
  const { state } = context.instance;

  const visibleIncident = async (idText: string, principal: Parameters<typeof deviceVisibility>[1]) => {
    const id = Number(idText);
    const stored = Number.isSafeInteger(id) ? await state.incidents.get(id) : undefined;
    if (stored === undefined) fail('not-found', `no incident ${idText}`);
    const incident = await incidentOf(state, stored);
    const visible = await deviceVisibility(state, principal);
    if (!visible(incident.devices)) fail('not-found', `no incident ${idText}`);
    return incident;
  };

  return [
    {
      method: 'GET',
      path: '/api/incidents',
      permission: 'incidents.read',
      audience: 'api',
      summary: 'List incidents with their alerts',
      query: incidentsEntitySet,
      responses: {
        200: {
          description: 'A page of incidents',
          schema: { type: 'object', properties: { value: { type: 'array', items: incidentSchema } } },
        },
      },
      tags: ['incidents'],
      async handler(request) {
        const query = readODataQuery(request.url.searchParams, incidentsEntitySet);
        if (!query.ok) failWith(problemFromODataErrors(query.errors, request.url.pathname));
        const visible = await deviceVisibility(state, request.principal);
        const rows = (await allIncidents(state)).map((i) => ({
          stored: i,
          incidentId: i.id,
          lastUpdateTime: i.lastUpdate,
          createdTime: i.createdAt,
          status: i.status,
          assignedTo: i.assignedTo,
        }));
        const value: IncidentResource[] = [];
        // Scope needs each incident's alerts; pages are filled until $top visible incidents are found.
        const all = applyODataQuery(rows, { ...query.value, top: rows.length, skip: 0 });
        let skip = query.value.skip;
        for (const row of all) {
          if (value.length >= query.value.top) break;
          const incident = await incidentOf(state, row.stored);
          if (!visible(incident.devices)) continue;
          if (skip > 0) {
            skip--;
            continue;
          }
          value.push(incident.resource);
        }
        return json(200, odataPage(context, 'Incidents', value));
      },
    },
    {
      method: 'GET',
      path: '/api/incidents/:id',
      permission: 'incidents.read',
      audience: 'api',
      summary: 'Get an incident with its alerts',
      responses: { 200: { description: 'The incident', schema: incidentSchema } },
      tags: ['incidents'],
      async handler(request) {
        const incident = await visibleIncident(request.params.id ?? '', request.principal);
        return json(200, odataEntity(context, 'Incidents', incident.resource));
      },
    },
    {
      method: 'PATCH',
      path: '/api/incidents/:id',
      permission: 'incidents.write',
      audience: 'api',
      summary: 'Update an incident: status, assignment, classification, determination, tags, comment',
      body: 'json',
      requestBody: incidentPatchSchema,
      responses: { 200: { description: 'The updated incident', schema: incidentSchema } },
      tags: ['incidents'],
      async handler(request) {
        const idText = request.params.id ?? '';
        const incident = await visibleIncident(idText, request.principal);
        const id = incident.record.incidentId;
        const result = await context.pipeline.updateIncident(
          id,
          request.body,
          actorOf(request.principal),
          incident.record,
        );
        if (result.errors.length > 0) failWith(patchProblem(result.errors));
        const updated = await visibleIncident(idText, request.principal);
        return json(200, odataEntity(context, 'Incidents', updated.resource));
      },
    },
    {
      method: 'POST',
      path: '/api/incidents/merge',
      permission: 'incidents.write',
      audience: 'api',
      summary:
        'Merge 2 to 5 open incidents of one classification into the oldest (lowest id); the others become Redirected',
      body: 'json',
      requestBody: incidentMergeSchema,
      responses: { 200: { description: 'The incident merged into', schema: incidentSchema } },
      tags: ['incidents'],
      async handler(request) {
        const ids = [...new Set(mergeIds(request.body, request.url.pathname))];
        // Each incident must be one the caller sees (404 otherwise, as for GET); a wrong count is
        // left to correlation, which answers it before looking anything up.
        const stored = new Map<number, IncidentRecord>();
        if (ids.length >= 2 && ids.length <= MAX_MANUAL_MERGE) {
          for (const id of ids) {
            stored.set(id, (await visibleIncident(String(id), request.principal)).record);
          }
        }
        const result = await context.pipeline.mergeIncidents(ids, actorOf(request.principal), (id) =>
          stored.get(id),
        );
        if (result.value === undefined) failWith(mergeProblem(result.errors));
        const merged = await visibleIncident(String(result.value), request.principal);
        return json(200, odataEntity(context, 'Incidents', merged.resource));
      },
    },
  ];
}
