// The sensor channel, server half: registration with the access key (a CSR in, a certificate
// out), then mTLS-only batches and heartbeats; and the administrators' side: list sensors,
// delete one (its certificate is revoked at once), regenerate the access key.
import { randomUUID, X509Certificate } from 'node:crypto';
import { type JsonObject, type SensorRecord, type SensorType, sensorTypes } from '@palisade/store';
import { readODataQuery } from '../api/odata-entity.ts';
import { sensorsEntitySet } from '../api/odata-entity-sets.ts';
import { applyODataQuery } from '../api/odata-evaluate.ts';
import type { JsonSchema } from '../api/openapi.ts';
import { type BodyIssue, problemFromBodyIssues, problemFromODataErrors } from '../api/problem.ts';
import { fail, failWith, json, type Route, type RouteRequest } from '../http/route.ts';
import type { SensorBatch } from '../pipeline.ts';
import { generateAccessKey, verifyAccessKey } from '../pki/access-key.ts';
import { signSensorCsr } from '../pki/ca.ts';
import { normalizeSerialNumber } from '../pki/revocation.ts';
import { effectiveSensorConfig } from '../sensors/sensor-config.ts';
import { checkHeartbeat, healthStatusOf, type SensorHealthIssue } from '../sensors/sensor-health.ts';
import { actorOf, odataPage, type RouteContext } from './context.ts';

/** The header a sensor may send its access key in (instead of the body). */
export const accessKeyHeader = 'x-palisade-access-key';

/** Sensor batches may be large; past this they are refused with 413 (split them). */
export const batchBodyLimit = 64 * 1_048_576;

/**
 * A sensor may send several buffered batches in one request (`{ batches: [...] }`), so one round
 * trip and one group commit carry them; they are acknowledged together, in order.
 */
export const maxBatchesPerRequest = 16;

/** A sensor silent for longer than this shows as Disconnected (MDI's Sensors page, reference §2.4). */
export const sensorSilenceMs = 10 * 60_000;

/** Refuses a sensor over its request rate with 429 and Retry-After. */
export function limitSensor(context: RouteContext, request: RouteRequest): void {
  const decision = context.sensorLimiter.take(request.sensor?.sensorId ?? '', context.now().getTime());
  if (!decision.allowed) {
    fail(
      'too-many-requests',
      `this sensor is over its request rate; retry in ${decision.retryAfterSeconds} s`,
      {
        'retry-after': String(decision.retryAfterSeconds),
      },
    );
  }
}

export type BodyReader = { issues: BodyIssue[]; object: Record<string, unknown> };

export function reader(body: unknown): BodyReader {
  const issues: BodyIssue[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    issues.push({ path: [], expected: 'a JSON object', found: describe(body), code: 'body/type-mismatch' });
    return { issues, object: {} };
  }
  return { issues, object: body as Record<string, unknown> };
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

export function field<T>(
  r: BodyReader,
  name: string,
  expected: string,
  test: (v: unknown) => v is T,
  required: boolean,
): T | undefined {
  const value = r.object[name];
  if (value === undefined && !required) return undefined;
  if (test(value)) return value;
  r.issues.push({
    path: [name],
    expected,
    found: describe(value),
    code: value === undefined ? 'body/missing-field' : 'body/type-mismatch',
  });
  return undefined;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isBatchId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 256;
const isName = (v: unknown): v is string => typeof v === 'string' && v.trim().length >= 1 && v.length <= 256;
const isSensorType = (v: unknown): v is SensorType => (sensorTypes as readonly unknown[]).includes(v);

/**
 * A sensor as `GET /api/sensors` lists it (columns of MDI's Sensors page, reference §2.4), with
 * its open health issues; the health status is that of the highest open issue.
 */
export function sensorEntity(
  sensor: SensorRecord,
  domain: string,
  now: number,
  openIssues: readonly SensorHealthIssue[],
) {
  const lastSeen = sensor.lastSeenAt === null ? null : Date.parse(sensor.lastSeenAt);
  const silent = lastSeen === null || now - lastSeen > sensorSilenceMs;
  return {
    id: sensor.id,
    name: sensor.name,
    type: sensor.type,
    domain,
    serviceStatus: silent ? 'Unknown' : 'Running',
    sensorStatus: silent ? 'Disconnected' : 'UpToDate',
    healthStatus: healthStatusOf(openIssues),
    healthIssues: openIssues.length,
    openHealthIssues: openIssues.map((i) => ({
      id: i.id,
      type: i.type,
      title: i.title,
      severity: i.severity,
      openedAt: i.openedAt,
    })),
    version: sensor.version,
    delayedUpdate: false,
    createdTime: sensor.registeredAt,
    lastSeen: sensor.lastSeenAt,
    host: sensor.host,
  };
}

const registrationSchema: JsonSchema = {
  type: 'object',
  required: ['csr', 'name'],
  properties: {
    accessKey: { type: 'string', description: `or the ${accessKeyHeader} header` },
    csr: { type: 'string', description: 'PKCS#10 certificate signing request, PEM' },
    name: { type: 'string' },
    type: { enum: [...sensorTypes] },
    host: { type: 'object' },
    version: { type: 'string' },
  },
};

const oneBatchSchema: JsonSchema = {
  type: 'object',
  required: ['batchId'],
  properties: {
    batchId: { type: 'string', minLength: 1, maxLength: 256 },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['table', 'values'],
        properties: { table: { type: 'string' }, values: { type: 'object' } },
      },
    },
    events: { type: 'array', items: { type: 'object' }, description: 'raw Windows events as JSON' },
  },
};

const batchSchema: JsonSchema = {
  oneOf: [
    oneBatchSchema,
    {
      type: 'object',
      required: ['batches'],
      properties: {
        batches: { type: 'array', minItems: 1, maxItems: maxBatchesPerRequest, items: oneBatchSchema },
      },
    },
  ],
};

const ackSchema: JsonSchema = {
  type: 'object',
  required: ['batchId', 'duplicate', 'accepted', 'rejected', 'rejectedCount', 'alerts'],
  properties: {
    batchId: { type: 'string' },
    duplicate: { type: 'boolean' },
    accepted: { type: 'object' },
    rejected: { type: 'array', items: { type: 'object' } },
    rejectedCount: { type: 'integer' },
    alerts: { type: 'integer' },
  },
};

const count = { type: 'integer', minimum: 0 } as const;
const heartbeatSchema: JsonSchema = {
  type: 'object',
  properties: {
    sensorTime: { type: 'string', format: 'date-time', description: "the sensor's clock (clock-skew check)" },
    version: { type: 'string' },
    status: { enum: ['Starting', 'Running', 'Degraded', 'Stopping'] },
    lagSeconds: { type: 'number', minimum: 0 },
    bufferedBatches: count,
    bufferCapacityBatches: count,
    dropped: { type: 'object', properties: { events: count, packets: count } },
    capture: {
      type: 'object',
      properties: {
        packetsReceived: count,
        packetsDropped: count,
        failing: { type: 'boolean' },
        error: { type: 'string' },
      },
    },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['message'],
        properties: { source: { type: 'string' }, message: { type: 'string' } },
      },
    },
    health: { type: 'object', description: 'free-form health facts, stored as sent' },
  },
};

export function sensorRoutes(context: RouteContext): Route[] {
  const { state, ca, revocations } = context.instance;

  return [
    {
      method: 'POST',
      path: '/api/sensors/register',
      permission: 'public',
      audience: 'public',
      summary: 'Register a sensor with the access key: a CSR in, a client certificate out',
      body: 'json',
      bodyLimit: 65_536,
      requestBody: registrationSchema,
      responses: { 201: { description: 'The sensor id, its certificate and the CA to pin' } },
      tags: ['sensors'],
      async handler(request) {
        const r = reader(request.body);
        const csr = field(r, 'csr', 'a PEM certificate signing request', isString, true);
        const name = field(r, 'name', 'a sensor name of 1 to 256 characters', isName, true);
        const type =
          field(r, 'type', `one of ${sensorTypes.join(', ')}`, isSensorType, false) ?? 'standalone';
        const host = field(r, 'host', 'an object of host facts', isObject, false) ?? {};
        const version = field(r, 'version', 'a version string', isString, false);
        const bodyKey = field(r, 'accessKey', 'the access key', isString, false);
        if (r.issues.length > 0) failWith(problemFromBodyIssues(r.issues, request.url.pathname));
        const headerKey = request.headers[accessKeyHeader];
        const presented = bodyKey ?? (typeof headerKey === 'string' ? headerKey : '');
        const key = await state.accessKeys.get();
        const valid =
          key !== undefined &&
          verifyAccessKey(
            { digest: key.hash, generation: key.generation, createdAt: key.createdAt },
            presented,
          );
        if (!valid) {
          await state.audit.append({
            actor: 'anonymous',
            action: 'sensor.register',
            outcome: 'failure',
            details: { name: name ?? '', remoteAddress: request.remoteAddress, reason: 'wrong access key' },
          });
          fail('unauthorized', 'the access key is wrong or was regenerated');
        }
        const sensorId = randomUUID();
        const issued = await signSensorCsr(ca, csr ?? '', sensorId);
        if (issued.kind === 'rejected') {
          failWith(
            problemFromBodyIssues(
              [
                {
                  path: ['csr'],
                  expected: 'a CSR the instance CA can sign',
                  found: issued.message,
                  code: issued.code,
                },
              ],
              request.url.pathname,
            ),
          );
        }
        const fingerprint = new X509Certificate(issued.certificatePem).fingerprint256;
        await state.transaction(async (tx) => {
          await tx.sensors.register({
            id: sensorId,
            name: name ?? sensorId,
            type,
            certificateSerial: issued.serialNumber,
            certificateFingerprint: fingerprint,
            host,
            ...(version === undefined ? {} : { version }),
          });
          await tx.audit.append({
            actor: `sensor:${sensorId}`,
            action: 'sensor.register',
            target: sensorId,
            details: {
              name: name ?? '',
              type,
              certificateSerial: issued.serialNumber,
              accessKeyGeneration: key?.generation ?? 0,
              remoteAddress: request.remoteAddress,
            },
          });
        });
        request.log.info('sensor registered', { sensorId, name, type });
        return json(201, {
          sensorId,
          certificate: issued.certificatePem,
          chain: issued.chainPem,
          caCertificate: issued.caCertificatePem,
          notAfter: issued.notAfter.toISOString(),
        });
      },
    },
    {
      method: 'POST',
      path: '/api/sensor/batches',
      permission: 'authenticated',
      audience: 'sensor',
      summary: 'Send a batch of rows and raw events; the answer comes once it is durably stored',
      body: 'json',
      bodyLimit: batchBodyLimit,
      requestBody: batchSchema,
      responses: {
        200: { description: 'The acknowledgement, with rows and events refused', schema: ackSchema },
      },
      tags: ['sensor channel'],
      async handler(request) {
        limitSensor(context, request);
        const sensorId = request.sensor?.sensorId ?? '';
        const body = request.body as { batches?: unknown } | undefined;
        const several = typeof body === 'object' && body !== null && 'batches' in body;
        const parts = several ? body.batches : [request.body];
        if (!Array.isArray(parts) || parts.length === 0 || parts.length > maxBatchesPerRequest) {
          failWith(
            problemFromBodyIssues(
              [
                {
                  path: ['batches'],
                  expected: `an array of 1 to ${maxBatchesPerRequest} batches`,
                  found: describe(parts),
                  code: 'body/type-mismatch',
                },
              ],
              request.url.pathname,
            ),
          );
        }
        const batches: SensorBatch[] = [];
        const issues: BodyIssue[] = [];
        parts.forEach((part, index) => {
          const r = reader(part);
          const batchId = field(r, 'batchId', 'a batch id of 1 to 256 characters', isBatchId, true);
          const rows = field(r, 'rows', 'an array of rows', isArray, false) ?? [];
          const events = field(r, 'events', 'an array of raw events', isArray, false) ?? [];
          const at = several ? ['batches', index] : [];
          issues.push(...r.issues.map((issue) => ({ ...issue, path: [...at, ...issue.path] })));
          // Batch ids are the sensor's own; the store's are per instance, so they are namespaced.
          if (batchId !== undefined)
            batches.push({ batchId: `${sensorId}:${batchId}`, sensorId, rows, events });
        });
        if (issues.length > 0) failWith(problemFromBodyIssues(issues, request.url.pathname));
        // Queued together, the batches of one request are detected in order and committed as one group.
        const acks = await Promise.all(batches.map((batch) => context.pipeline.ingest(batch)));
        await state.sensors.heartbeat(sensorId);
        const answers = acks.map((ack) => ({ ...ack, batchId: ack.batchId.slice(sensorId.length + 1) }));
        return json(200, several ? { acks: answers } : answers[0]);
      },
    },
    {
      method: 'POST',
      path: '/api/sensor/heartbeat',
      permission: 'authenticated',
      audience: 'sensor',
      summary: "Report the sensor's health and version; answers the server time and pending work",
      body: 'json',
      requestBody: heartbeatSchema,
      responses: {
        200: {
          description: 'Configuration version and ETag, server time, pending actions, open health issues',
        },
      },
      tags: ['sensor channel'],
      async handler(request) {
        limitSensor(context, request);
        const sensorId = request.sensor?.sensorId ?? '';
        const r = reader(request.body ?? {});
        const health = field(r, 'health', 'an object', isObject, false);
        const report = checkHeartbeat(request.body ?? {});
        const issues = [...r.issues, ...report.issues];
        if (issues.length > 0) failWith(problemFromBodyIssues(issues, request.url.pathname));
        const { version } = report.value;
        const sensor = await state.sensors.heartbeat(sensorId, {
          health: {
            ...(health ?? {}),
            ...(report.value as JsonObject),
            receivedAt: context.now().toISOString(),
          },
          ...(version === undefined ? {} : { version }),
        });
        const open = await context.sensorHealth.heartbeat(sensorId, report.value);
        const pending = await state.sensorActions.pendingFor(sensorId);
        const { etag } = await effectiveSensorConfig(state, sensorId);
        return json(200, {
          configVersion: sensor?.configVersion ?? 0,
          configEtag: etag,
          serverTime: context.now().toISOString(),
          pendingActions: pending.length,
          healthIssues: open.map((i) => ({
            type: i.type,
            title: i.title,
            severity: i.severity,
            details: i.details,
          })),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/sensors',
      permission: 'sensors.read',
      audience: 'api',
      summary: 'List sensors with their status',
      query: sensorsEntitySet,
      responses: { 200: { description: 'A page of sensors' } },
      tags: ['sensors'],
      async handler(request) {
        const query = readODataQuery(request.url.searchParams, sensorsEntitySet);
        if (!query.ok) failWith(problemFromODataErrors(query.errors, request.url.pathname));
        const now = context.now().getTime();
        const domain = context.instance.record.domain;
        const sensors = await Promise.all(
          (await state.sensors.list()).map(async (s) =>
            sensorEntity(s, domain, now, await context.sensorHealth.open(s.id)),
          ),
        );
        return json(200, odataPage(context, 'Sensors', applyODataQuery(sensors, query.value)));
      },
    },
    {
      method: 'DELETE',
      path: '/api/sensors/:id',
      permission: 'sensors.manage',
      audience: 'api',
      summary: 'Delete a sensor: its certificate is revoked at once',
      responses: { 204: { description: 'Deleted' } },
      tags: ['sensors'],
      async handler(request) {
        const id = request.params.id ?? '';
        const sensor = await state.sensors.get(id);
        if (sensor === undefined || sensor.revokedAt !== null) fail('not-found', `no sensor ${id}`);
        await state.transaction(async (tx) => {
          await tx.sensors.revoke(id);
          await tx.audit.append({
            actor: actorOf(request.principal),
            action: 'sensor.revoke',
            target: id,
            details: { name: sensor.name, certificateSerial: sensor.certificateSerial },
          });
        });
        revocations.add(normalizeSerialNumber(sensor.certificateSerial));
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/settings/access-key/regenerate',
      permission: 'sensors.manage',
      audience: 'api',
      summary: 'Regenerate the access key: the old one no longer registers; registered sensors keep working',
      responses: { 200: { description: 'The new key, shown this once' } },
      tags: ['sensors'],
      async handler(request) {
        const fresh = generateAccessKey();
        const stored = await state.transaction(async (tx) => {
          const rotated = await tx.accessKeys.rotate(fresh.record.digest);
          await tx.audit.append({
            actor: actorOf(request.principal),
            action: 'accessKey.rotate',
            details: { generation: rotated.generation },
          });
          return rotated;
        });
        return json(200, {
          accessKey: fresh.key,
          generation: stored.generation,
          createdAt: stored.createdAt,
        });
      },
    },
  ];
}
