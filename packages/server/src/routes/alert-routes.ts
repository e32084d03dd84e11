// `/api/alerts`: list (OData), get and update alerts, in MDE's Alert shape (reference §4.4).
import type { AlertRecord, CommentRecord, Json, StateStore } from '@palisade/store';
import { readODataQuery } from '../api/odata-entity.ts';
import { alertsEntitySet } from '../api/odata-entity-sets.ts';
import { applyODataQuery } from '../api/odata-evaluate.ts';
import type { JsonSchema } from '../api/openapi.ts';
import { createProblem, problemFromODataErrors } from '../api/problem.ts';
import { fail, failWith, json, type Route } from '../http/route.ts';
import type {
  AlertCategory,
  Comment,
  DetectionSource,
  EvidenceEntity,
  IncidentError,
  MdeAlert,
  ServiceSource,
} from '../incidents/model.ts';
import { updateAlert } from '../incidents/update.ts';
import { appendAudit } from '../pipeline.ts';
import { actorOf, deviceVisibility, odataEntity, odataPage, type RouteContext } from './context.ts';

/** An alert record of the state store as MDE's Alert resource. */
export function mdeAlertOf(record: AlertRecord, comments: readonly CommentRecord[] = []): MdeAlert {
  const extra = objectOf(record.entities);
  const user = objectOf(extra.relatedUser ?? null);
  return {
    id: record.id,
    incidentId: record.incidentId,
    title: record.title,
    description: record.description,
    alertCreationTime: record.createdAt,
    firstEventTime: record.firstActivity,
    lastEventTime: record.lastActivity,
    lastUpdateTime: record.lastUpdate,
    resolvedTime: record.resolvedAt,
    assignedTo: record.assignedTo,
    severity: record.severity,
    status: record.status,
    classification: record.classification,
    determination: record.determination,
    category: record.category as AlertCategory,
    detectionSource: record.detectionSource as DetectionSource,
    serviceSource: record.serviceSource as ServiceSource,
    detectorId: record.detectorId,
    ...(record.externalId === null ? {} : { externalId: record.externalId }),
    mitreTechniques: record.mitreTechniques,
    computerDnsName: typeof extra.computerDnsName === 'string' ? extra.computerDnsName : null,
    relatedUser:
      typeof user.userName === 'string'
        ? { userName: user.userName, domainName: typeof user.domainName === 'string' ? user.domainName : '' }
        : null,
    comments: comments.map(commentOf),
    evidence: Array.isArray(record.evidence) ? (record.evidence as unknown as EvidenceEntity[]) : [],
  };
}

export function commentOf(c: CommentRecord): Comment {
  return { comment: c.text, createdBy: c.author, createdTime: c.createdAt };
}

function objectOf(value: Json): { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
}

/** Every stored alert, page by page (the state store caps a page at 10,000). */
export async function allAlerts(
  state: StateStore,
  filter: { incidentId?: number } = {},
): Promise<AlertRecord[]> {
  const out: AlertRecord[] = [];
  for (let skip = 0; ; skip += 10_000) {
    const page = await state.alerts.list({ ...filter, top: 10_000, skip });
    out.push(...page.items);
    if (out.length >= page.total || page.items.length === 0) return out;
  }
}

/** A 400 naming each refused member of a PATCH body. */
export function patchProblem(errors: readonly IncidentError[]) {
  return createProblem('invalid-body', {
    detail: errors.map((e) => e.message).join('; '),
    errors: errors.map((e) => ({ detail: e.message, code: e.code, pointer: `#/${e.property}` })),
  });
}

const alertSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'title', 'severity', 'status', 'alertCreationTime'],
  properties: {
    id: { type: 'string' },
    incidentId: { type: ['integer', 'null'] },
    title: { type: 'string' },
    severity: { enum: ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'] },
    status: { enum: ['Unknown', 'New', 'InProgress', 'Resolved'] },
    category: { type: 'string' },
    detectionSource: { type: 'string' },
    alertCreationTime: { type: 'string', format: 'date-time' },
    evidence: { type: 'array', items: { type: 'object' } },
  },
};

export const alertPatchSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { enum: ['New', 'InProgress', 'Resolved'] },
    assignedTo: { type: ['string', 'null'] },
    classification: { type: ['string', 'null'] },
    determination: { type: ['string', 'null'] },
    comment: { type: 'string' },
  },
};

const pageOf = (item: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['value'],
  properties: { '@odata.context': { type: 'string' }, value: { type: 'array', items: item } },
});

export function alertRoutes(context: RouteContext): Route[] {
  const { state } = context.instance;

  /** The alert if it exists and the caller may see it; 404 otherwise (existence is not disclosed). */
  const visibleAlert = async (id: string, principal: Parameters<typeof deviceVisibility>[1]) => {
    const record = await state.alerts.get(id);
    const visible = await deviceVisibility(state, principal);
    if (record === undefined || !visible(record.devices)) fail('not-found', `no alert ${id}`);
    return record;
  };

  return [
    {
      method: 'GET',
      path: '/api/alerts',
      permission: 'alerts.read',
      audience: 'api',
      summary: 'List alerts',
      query: alertsEntitySet,
      responses: { 200: { description: 'A page of alerts', schema: pageOf(alertSchema) } },
      tags: ['alerts'],
      async handler(request) {
        const query = readODataQuery(request.url.searchParams, alertsEntitySet);
        if (!query.ok) failWith(problemFromODataErrors(query.errors, request.url.pathname));
        const visible = await deviceVisibility(state, request.principal);
        const alerts = (await allAlerts(state)).filter((a) => visible(a.devices)).map((a) => mdeAlertOf(a));
        const page = applyODataQuery(alerts, query.value);
        const withEvidence = query.value.expand.includes('evidence');
        const value = await Promise.all(
          page.map(async (alert) => {
            const comments = await state.comments.list({ kind: 'alert', id: alert.id });
            const { evidence, ...rest } = alert;
            return { ...rest, comments: comments.map(commentOf), ...(withEvidence ? { evidence } : {}) };
          }),
        );
        return json(200, odataPage(context, 'Alerts', value));
      },
    },
    {
      method: 'GET',
      path: '/api/alerts/:id',
      permission: 'alerts.read',
      audience: 'api',
      summary: 'Get an alert with its evidence',
      responses: { 200: { description: 'The alert', schema: alertSchema } },
      tags: ['alerts'],
      async handler(request) {
        const id = request.params.id ?? '';
        const record = await visibleAlert(id, request.principal);
        const comments = await state.comments.list({ kind: 'alert', id });
        return json(200, odataEntity(context, 'Alerts', mdeAlertOf(record, comments)));
      },
    },
    {
      method: 'PATCH',
      path: '/api/alerts/:id',
      permission: 'alerts.write',
      audience: 'api',
      summary: 'Update an alert: status, assignment, classification, determination, comment',
      body: 'json',
      requestBody: alertPatchSchema,
      responses: { 200: { description: 'The updated alert', schema: alertSchema } },
      tags: ['alerts'],
      async handler(request) {
        const id = request.params.id ?? '';
        const record = await visibleAlert(id, request.principal);
        const actor = actorOf(request.principal);
        const at = context.now().toISOString();
        const updated = updateAlert(mdeAlertOf(record), request.body, actor, at);
        if (!updated.value) failWith(patchProblem(updated.errors));
        const { record: next, audit } = updated.value;
        await state.transaction(async (tx) => {
          await tx.alerts.update(id, {
            status: next.status === 'Unknown' ? 'New' : next.status,
            assignedTo: next.assignedTo,
            classification: next.classification,
            determination: next.determination,
          });
          for (const entry of audit) {
            if (entry.action === 'comment' && typeof entry.after?.comment === 'string') {
              await tx.comments.add({
                target: { kind: 'alert', id },
                author: actor,
                text: entry.after.comment,
              });
            }
          }
          await appendAudit(tx, audit);
        });
        const stored = await state.alerts.get(id);
        const comments = await state.comments.list({ kind: 'alert', id });
        return json(200, odataEntity(context, 'Alerts', mdeAlertOf(stored ?? record, comments)));
      },
    },
  ];
}
