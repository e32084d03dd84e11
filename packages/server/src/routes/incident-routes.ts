// `/api/incidents`: list (OData), get and update incidents in the XDR Incident shape (reference
// §4.4), with their alerts. Updates go through the pipeline, whose correlation may hold the incident.
import type { StateStore, IncidentRecord as StoredIncident } from '@palisade/store';
import { readODataQuery } from '../api/odata-entity.ts';
import { incidentsEntitySet } from '../api/odata-entity-sets.ts';
import { applyODataQuery } from '../api/odata-evaluate.ts';
import type { JsonSchema } from '../api/openapi.ts';
import { problemFromODataErrors } from '../api/problem.ts';
import { fail, failWith, json, type Route } from '../http/route.ts';
import type { IncidentRecord, IncidentResource, IncidentSeverity } from '../incidents/model.ts';
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
    facets: { titles: [], categories: [], machines: [], users: [], detectionSources: [] },
  };
  return {
    record,
    resource: incidentResource(
      record,
      alerts.map((a) => mdeAlertOf(a)),
    ),
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
  ];
}
