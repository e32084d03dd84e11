// Sensor actions: administrators queue one of the types of sensor-action-types.ts and list a
// sensor's actions; the sensor takes its pending ones over mTLS (oldest first; they become
// InProgress until it reports) and reports each result once (a repeat of the same result is a
// no-op, a different one a 409). A sensor only ever sees and answers its own actions.
import type { ActionStatus, JsonObject, SensorActionRecord } from '@palisade/store';
import type { JsonSchema } from '../api/openapi.ts';
import { problemFromBodyIssues } from '../api/problem.ts';
import { fail, failWith, json, type Route } from '../http/route.ts';
import {
  type SensorActionResult,
  type SensorActionTypeName,
  sensorActionParameterProblem,
  sensorActionResults,
  sensorActionTypeNames,
} from '../sensors/sensor-action-types.ts';
import { actorOf, odataPage, type RouteContext } from './context.ts';
import { field, isObject, isString, limitSensor, reader } from './sensor-routes.ts';

const isActionType = (v: unknown): v is SensorActionTypeName =>
  (sensorActionTypeNames as readonly unknown[]).includes(v);
const isResult = (v: unknown): v is SensorActionResult =>
  (sensorActionResults as readonly unknown[]).includes(v);

/** Statuses the sensor still has to act on: new ones, and ones it took but did not answer. */
const openStatuses: readonly ActionStatus[] = ['Pending', 'InProgress'];
const finalStatuses: readonly ActionStatus[] = ['Succeeded', 'Failed', 'TimeOut', 'Cancelled'];

const queueSchema: JsonSchema = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: [...sensorActionTypeNames] },
    parameters: { type: 'object' },
    comment: { type: 'string', maxLength: 1000 },
  },
};

const resultSchema: JsonSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { enum: [...sensorActionResults] }, details: { type: 'object' } },
};

/** An action as the API shows it. */
function actionEntity(action: SensorActionRecord) {
  return {
    id: action.id,
    sensorId: action.sensorId,
    type: action.type,
    parameters: action.parameters,
    status: action.status,
    requestor: action.requestedBy,
    requestorComment: action.comment,
    creationDateTimeUtc: action.requestedAt,
    lastUpdateDateTimeUtc: action.updatedAt,
    result: action.result,
  };
}

export function sensorActionRoutes(context: RouteContext): Route[] {
  const { state } = context.instance;

  /** Actions of one sensor in these statuses, oldest first. */
  async function actionsOf(
    sensorId: string,
    status?: readonly ActionStatus[],
  ): Promise<SensorActionRecord[]> {
    const page = await state.sensorActions.list({ sensorId, top: 10_000, ...(status ? { status } : {}) });
    return [...page.items].sort(
      (a, b) => a.requestedAt.localeCompare(b.requestedAt) || a.id.localeCompare(b.id),
    );
  }

  return [
    {
      method: 'POST',
      path: '/api/sensors/:id/actions',
      permission: 'sensors.manage',
      audience: 'api',
      summary: 'Queue an action for a sensor (collect-diagnostics, update-config, restart, resync-directory)',
      body: 'json',
      requestBody: queueSchema,
      responses: { 201: { description: 'The queued action' } },
      tags: ['sensors'],
      async handler(request) {
        const id = request.params.id ?? '';
        const sensor = await state.sensors.get(id);
        if (sensor === undefined || sensor.revokedAt !== null) fail('not-found', `no sensor ${id}`);
        const r = reader(request.body);
        const type = field(r, 'type', `one of ${sensorActionTypeNames.join(', ')}`, isActionType, true);
        const parameters = field(r, 'parameters', 'an object', isObject, false) ?? {};
        const comment = field(r, 'comment', 'a comment string', isString, false);
        if (type !== undefined) {
          const problem = sensorActionParameterProblem(type, parameters);
          if (problem !== undefined)
            r.issues.push({
              path: ['parameters'],
              expected: problem,
              found: JSON.stringify(parameters).slice(0, 60),
            });
        }
        if (r.issues.length > 0 || type === undefined)
          failWith(problemFromBodyIssues(r.issues, request.url.pathname));
        const actor = actorOf(request.principal);
        const action = await state.transaction(async (tx) => {
          const created = await tx.sensorActions.create({
            sensorId: id,
            type,
            parameters,
            requestedBy: actor,
            ...(comment === undefined ? {} : { comment }),
          });
          await tx.audit.append({
            actor,
            action: 'sensor.action.create',
            target: id,
            details: { actionId: created.id, type, parameters },
          });
          return created;
        });
        return json(201, actionEntity(action));
      },
    },
    {
      method: 'GET',
      path: '/api/sensors/:id/actions',
      permission: 'sensors.read',
      audience: 'api',
      summary: "A sensor's actions, oldest first",
      responses: { 200: { description: 'The actions' } },
      tags: ['sensors'],
      async handler(request) {
        const id = request.params.id ?? '';
        if ((await state.sensors.get(id)) === undefined) fail('not-found', `no sensor ${id}`);
        return json(200, odataPage(context, 'SensorActions', (await actionsOf(id)).map(actionEntity)));
      },
    },
    {
      method: 'GET',
      path: '/api/sensor/actions',
      permission: 'authenticated',
      audience: 'sensor',
      summary: "This sensor's actions still to run, oldest first (taking them marks them InProgress)",
      responses: { 200: { description: 'The actions to run' } },
      tags: ['sensor channel'],
      async handler(request) {
        limitSensor(context, request);
        const sensorId = request.sensor?.sensorId ?? '';
        const open = await actionsOf(sensorId, openStatuses);
        const taken = await state.transaction(async (tx) => {
          const out: SensorActionRecord[] = [];
          for (const action of open) {
            out.push(
              action.status === 'Pending'
                ? ((await tx.sensorActions.setStatus(action.id, 'InProgress')) ?? action)
                : action,
            );
          }
          return out;
        });
        return json(200, { value: taken.map(actionEntity) });
      },
    },
    {
      method: 'POST',
      path: '/api/sensor/actions/:id/result',
      permission: 'authenticated',
      audience: 'sensor',
      summary:
        'Report how an action ended (Succeeded or Failed, with details); repeating the same report is harmless',
      body: 'json',
      requestBody: resultSchema,
      responses: { 200: { description: 'The action as stored' } },
      tags: ['sensor channel'],
      async handler(request) {
        limitSensor(context, request);
        const sensorId = request.sensor?.sensorId ?? '';
        const id = request.params.id ?? '';
        const r = reader(request.body);
        const status = field(r, 'status', `one of ${sensorActionResults.join(', ')}`, isResult, true);
        const details = field(r, 'details', 'an object', isObject, false) ?? {};
        if (r.issues.length > 0 || status === undefined)
          failWith(problemFromBodyIssues(r.issues, request.url.pathname));
        const action = await state.sensorActions.get(id);
        // Another sensor's action is answered as missing: a sensor learns nothing of the others.
        if (action === undefined || action.sensorId !== sensorId)
          fail('not-found', `no action ${id} for this sensor`);
        if (finalStatuses.includes(action.status)) {
          if (action.status === status) return json(200, actionEntity(action));
          fail('conflict', `action ${id} already ended as ${action.status}`);
        }
        const stored = await state.transaction(async (tx) => {
          const updated = await tx.sensorActions.setStatus(id, status, { result: details as JsonObject });
          await tx.audit.append({
            actor: `sensor:${sensorId}`,
            action: 'sensor.action.result',
            target: sensorId,
            outcome: status === 'Succeeded' ? 'success' : 'failure',
            details: { actionId: id, type: action.type, status },
          });
          return updated ?? action;
        });
        return json(200, actionEntity(stored));
      },
    },
  ];
}
