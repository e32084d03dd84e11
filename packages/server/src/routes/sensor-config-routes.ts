// Sensor configuration: the sensor pulls its merged document over mTLS (ETag, 304 when unchanged);
// administrators read and set the instance default and a sensor's own override. Every change is
// audited and bumps the configuration version of the sensors it reaches.
import type { JsonObject, StateStore } from '@palisade/store';
import type { JsonSchema } from '../api/openapi.ts';
import { problemFromBodyIssues } from '../api/problem.ts';
import { fail, failWith, json, type Route } from '../http/route.ts';
import {
  checkSensorConfig,
  effectiveSensorConfig,
  etagMatches,
  mergeSensorConfig,
  readSensorConfigOverrides,
  type SensorConfigDocument,
  sensorConfigEtag,
  sensorConfigSections,
  sensorConfigSettings,
} from '../sensors/sensor-config.ts';
import { actorOf, type RouteContext } from './context.ts';
import { limitSensor } from './sensor-routes.ts';

const configSchema: JsonSchema = {
  type: 'object',
  description:
    'Sections to override; each field left out keeps the layer below (built-in < instance default < sensor).',
  properties: Object.fromEntries(sensorConfigSections.map((s) => [s, { type: 'object' }])),
  additionalProperties: false,
};

export function sensorConfigRoutes(context: RouteContext): Route[] {
  const { state } = context.instance;

  /** Replaces one override, bumping the version of the sensors it reaches, audited. */
  async function store(
    actor: string,
    target: { kind: 'default' } | { kind: 'sensor'; sensorId: string },
    document: SensorConfigDocument,
  ): Promise<void> {
    await state.transaction(async (tx) => {
      const settings = (await tx.instance.get())?.settings ?? {};
      if (target.kind === 'default') {
        await tx.instance.updateSettings({ [sensorConfigSettings.default]: document as JsonObject });
      } else {
        const current = settings[sensorConfigSettings.perSensor];
        const perSensor =
          typeof current === 'object' && current !== null && !Array.isArray(current) ? current : {};
        await tx.instance.updateSettings({
          [sensorConfigSettings.perSensor]: { ...perSensor, [target.sensorId]: document as JsonObject },
        });
      }
      const reached =
        target.kind === 'default' ? await tx.sensors.list() : [await tx.sensors.get(target.sensorId)];
      for (const sensor of reached) {
        if (sensor) await tx.sensors.setConfigVersion(sensor.id, sensor.configVersion + 1);
      }
      await tx.audit.append({
        actor,
        action: target.kind === 'default' ? 'settings.sensorConfig.update' : 'sensor.config.update',
        ...(target.kind === 'sensor' ? { target: target.sensorId } : {}),
        details: { config: document as JsonObject },
      });
    });
  }

  async function sensorOrFail(tx: StateStore, id: string) {
    const sensor = await tx.sensors.get(id);
    if (sensor === undefined || sensor.revokedAt !== null) fail('not-found', `no sensor ${id}`);
    return sensor;
  }

  return [
    {
      method: 'GET',
      path: '/api/sensor/config',
      permission: 'authenticated',
      audience: 'sensor',
      summary: "Pull this sensor's configuration; answers 304 when If-None-Match names its ETag",
      responses: {
        200: { description: 'The configuration document, its version and ETag' },
        304: { description: 'Unchanged since the ETag sent' },
      },
      tags: ['sensor channel'],
      async handler(request) {
        limitSensor(context, request);
        const sensorId = request.sensor?.sensorId ?? '';
        const sensor = await sensorOrFail(state, sensorId);
        const { config, etag } = await effectiveSensorConfig(state, sensorId);
        const headers = { etag, 'cache-control': 'no-cache' };
        const ifNoneMatch = request.headers['if-none-match'];
        if (etagMatches(typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, etag)) {
          return { status: 304, headers };
        }
        return json(200, { sensorId, version: sensor.configVersion, etag, config }, headers);
      },
    },
    {
      method: 'GET',
      path: '/api/settings/sensor-config',
      permission: 'sensors.read',
      audience: 'api',
      summary: 'The instance default sensor configuration: the override and the document it gives',
      responses: { 200: { description: 'The override and the merged document' } },
      tags: ['sensors'],
      async handler() {
        const { instanceDefault } = await readSensorConfigOverrides(state, undefined);
        const effective = mergeSensorConfig(instanceDefault);
        return json(200, { override: instanceDefault, effective, etag: sensorConfigEtag(effective) });
      },
    },
    {
      method: 'PUT',
      path: '/api/settings/sensor-config',
      permission: 'sensors.manage',
      audience: 'api',
      summary: 'Replace the instance default sensor configuration (sections override the built-in defaults)',
      body: 'json',
      bodyLimit: 1_048_576,
      requestBody: configSchema,
      responses: { 200: { description: 'The stored override and the document it gives' } },
      tags: ['sensors'],
      async handler(request) {
        const checked = checkSensorConfig(request.body);
        if (checked.value === undefined)
          failWith(problemFromBodyIssues(checked.issues, request.url.pathname));
        await store(actorOf(request.principal), { kind: 'default' }, checked.value);
        const effective = mergeSensorConfig(checked.value);
        return json(200, { override: checked.value, effective, etag: sensorConfigEtag(effective) });
      },
    },
    {
      method: 'GET',
      path: '/api/sensors/:id/config',
      permission: 'sensors.read',
      audience: 'api',
      summary: "A sensor's configuration: its own override and the document it pulls",
      responses: { 200: { description: 'The override, the merged document, its version and ETag' } },
      tags: ['sensors'],
      async handler(request) {
        const id = request.params.id ?? '';
        const sensor = await sensorOrFail(state, id);
        const { sensor: override } = await readSensorConfigOverrides(state, id);
        const { config, etag } = await effectiveSensorConfig(state, id);
        return json(200, { sensorId: id, version: sensor.configVersion, override, effective: config, etag });
      },
    },
    {
      method: 'PUT',
      path: '/api/sensors/:id/config',
      permission: 'sensors.manage',
      audience: 'api',
      summary: "Replace a sensor's own configuration override (sections override the instance default)",
      body: 'json',
      bodyLimit: 1_048_576,
      requestBody: configSchema,
      responses: { 200: { description: 'The stored override, the merged document, its version and ETag' } },
      tags: ['sensors'],
      async handler(request) {
        const id = request.params.id ?? '';
        await sensorOrFail(state, id);
        const checked = checkSensorConfig(request.body);
        if (checked.value === undefined)
          failWith(problemFromBodyIssues(checked.issues, request.url.pathname));
        await store(actorOf(request.principal), { kind: 'sensor', sensorId: id }, checked.value);
        const sensor = await sensorOrFail(state, id);
        const { config, etag } = await effectiveSensorConfig(state, id);
        return json(200, {
          sensorId: id,
          version: sensor.configVersion,
          override: checked.value,
          effective: config,
          etag,
        });
      },
    },
  ];
}
