// The configuration document a sensor pulls (`GET /api/sensor/config`): capture, sources, identity
// settings, delivery and heartbeat. Built-in defaults < the instance default (Settings › Sensors)
// < the sensor's own override, merged per section; the ETag is a hash of the merged document.
import { createHash } from 'node:crypto';
import type { Json, JsonObject, StateStore } from '@palisade/store';
import type { BodyIssue } from '../api/problem.ts';

/** What a field of a section holds; the validator and the OpenAPI schema read this. */
type FieldKind =
  | { readonly kind: 'boolean' }
  | { readonly kind: 'string'; readonly maxLength: number }
  | { readonly kind: 'strings'; readonly maxItems: number }
  /** Detector id (or `*`) → entity names: MDI's per-detection exclusions. */
  | { readonly kind: 'strings-by-key'; readonly maxItems: number }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number };

/**
 * The sources a sensor can run: each is a switch over what the sensor's own configuration (or its
 * type's defaults) runs on its host; `false` turns that source off on the sensors it applies to.
 */
export const sensorSourceNames = [
  'evtx',
  'windowsEvents',
  'sambaAudit',
  'capture',
  'directorySync',
  'auditd',
  'inventory',
] as const;

/** Sections and their fields: the document's whole shape, as data. */
export const sensorConfigShape = {
  capture: {
    interfaces: { kind: 'strings', maxItems: 32 },
    /** A BPF filter, as tcpdump takes it. */
    filter: { kind: 'string', maxLength: 4096 },
    snapLength: { kind: 'integer', min: 64, max: 262_144 },
  },
  sources: Object.fromEntries(sensorSourceNames.map((name) => [name, { kind: 'boolean' }])) as Record<
    (typeof sensorSourceNames)[number],
    FieldKind
  >,
  identity: {
    honeytokens: { kind: 'strings', maxItems: 10_000 },
    sensitiveGroups: { kind: 'strings', maxItems: 10_000 },
    exclusions: { kind: 'strings-by-key', maxItems: 10_000 },
  },
  delivery: {
    batchMaxEvents: { kind: 'integer', min: 1, max: 100_000 },
    batchIntervalSeconds: { kind: 'integer', min: 1, max: 3_600 },
    bufferMaxMegabytes: { kind: 'integer', min: 16, max: 1_048_576 },
  },
  heartbeat: {
    intervalSeconds: { kind: 'integer', min: 10, max: 3_600 },
  },
} as const satisfies Record<string, Record<string, FieldKind>>;

export type SensorConfigSection = keyof typeof sensorConfigShape;
export const sensorConfigSections = Object.keys(sensorConfigShape) as SensorConfigSection[];

/** A configuration document (or an override of some of it): sections of plain JSON values. */
export type SensorConfigDocument = { [S in SensorConfigSection]?: JsonObject };

/** What a sensor runs with when nobody set anything. */
export const defaultSensorConfig: Required<SensorConfigDocument> = {
  capture: { interfaces: [], filter: '', snapLength: 65_535 },
  sources: {
    evtx: true,
    windowsEvents: true,
    sambaAudit: true,
    capture: true,
    directorySync: true,
    auditd: true,
    inventory: true,
  },
  identity: { honeytokens: [], sensitiveGroups: [], exclusions: {} },
  delivery: { batchMaxEvents: 1_000, batchIntervalSeconds: 5, bufferMaxMegabytes: 1_024 },
  heartbeat: { intervalSeconds: 60 },
};

/** Instance settings keys: the default override, and the per-sensor overrides by sensor id. */
export const sensorConfigSettings = { default: 'sensorConfig', perSensor: 'sensorConfigs' } as const;

/**
 * Checks an override: known sections and fields only, each of its kind. Returns the override as
 * given, or the issues found (JSON Pointer paths).
 */
export function checkSensorConfig(body: unknown): { value?: SensorConfigDocument; issues: BodyIssue[] } {
  const issues: BodyIssue[] = [];
  if (!isObject(body)) {
    return {
      issues: [
        { path: [], expected: 'a configuration object', found: describe(body), code: 'body/type-mismatch' },
      ],
    };
  }
  const value: SensorConfigDocument = {};
  for (const [section, content] of Object.entries(body)) {
    const shape = (sensorConfigShape as Record<string, Record<string, FieldKind>>)[section];
    if (shape === undefined) {
      issues.push({
        path: [section],
        expected: `one of ${sensorConfigSections.join(', ')}`,
        found: section,
        code: 'body/unknown-field',
      });
      continue;
    }
    if (!isObject(content)) {
      issues.push({
        path: [section],
        expected: 'an object',
        found: describe(content),
        code: 'body/type-mismatch',
      });
      continue;
    }
    for (const [name, field] of Object.entries(content)) {
      const kind = shape[name];
      if (kind === undefined) {
        issues.push({
          path: [section, name],
          expected: `one of ${Object.keys(shape).join(', ')}`,
          found: name,
          code: 'body/unknown-field',
        });
        continue;
      }
      const expected = fieldProblem(kind, field);
      if (expected !== undefined) {
        issues.push({ path: [section, name], expected, found: describe(field), code: 'body/type-mismatch' });
      }
    }
    value[section as SensorConfigSection] = content;
  }
  return issues.length > 0 ? { issues } : { value, issues };
}

function fieldProblem(kind: FieldKind, value: unknown): string | undefined {
  const strings = (v: unknown, max: number) =>
    Array.isArray(v) && v.length <= max && v.every((s) => typeof s === 'string' && s.length <= 1024);
  switch (kind.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'string':
      return typeof value === 'string' && value.length <= kind.maxLength
        ? undefined
        : `a string of at most ${kind.maxLength} characters`;
    case 'strings':
      return strings(value, kind.maxItems) ? undefined : `an array of at most ${kind.maxItems} strings`;
    case 'strings-by-key':
      return isObject(value) && Object.values(value).every((v) => strings(v, kind.maxItems))
        ? undefined
        : 'an object of detector id (or *) to an array of entity names';
    case 'integer':
      return Number.isSafeInteger(value) && (value as number) >= kind.min && (value as number) <= kind.max
        ? undefined
        : `an integer from ${kind.min} to ${kind.max}`;
  }
}

/** Layers merged section by section: a later layer's field wins. */
export function mergeSensorConfig(
  ...layers: readonly SensorConfigDocument[]
): Required<SensorConfigDocument> {
  const merged = structuredClone(defaultSensorConfig);
  for (const layer of layers) {
    for (const section of sensorConfigSections) {
      const content = layer[section];
      if (content !== undefined) merged[section] = { ...merged[section], ...content };
    }
  }
  return merged;
}

/** A strong ETag of a document: the same content always gives the same tag. */
export function sensorConfigEtag(document: SensorConfigDocument): string {
  return `"${createHash('sha256')
    .update(canonicalJson(document as Json))
    .digest('hex')
    .slice(0, 32)}"`;
}

function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Json)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The stored overrides: the instance default and the sensor's own. */
export async function readSensorConfigOverrides(
  state: StateStore,
  sensorId: string | undefined,
): Promise<{ instanceDefault: SensorConfigDocument; sensor: SensorConfigDocument }> {
  const settings = (await state.instance.get())?.settings ?? {};
  const instanceDefault = settings[sensorConfigSettings.default];
  const perSensor = settings[sensorConfigSettings.perSensor];
  const own = sensorId !== undefined && isObject(perSensor) ? perSensor[sensorId] : undefined;
  return {
    instanceDefault: isObject(instanceDefault) ? (instanceDefault as SensorConfigDocument) : {},
    sensor: isObject(own) ? (own as SensorConfigDocument) : {},
  };
}

/** The document a sensor runs with, and its ETag. */
export async function effectiveSensorConfig(
  state: StateStore,
  sensorId: string,
): Promise<{ config: Required<SensorConfigDocument>; etag: string }> {
  const { instanceDefault, sensor } = await readSensorConfigOverrides(state, sensorId);
  const config = mergeSensorConfig(instanceDefault, sensor);
  return { config, etag: sensorConfigEtag(config) };
}

/** Whether an `If-None-Match` header names this ETag (or is `*`). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === '*' || t === etag);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
