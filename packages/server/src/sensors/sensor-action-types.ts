// The actions an administrator can queue for a sensor, as data: the admin route checks a queued
// action against this table, and the sensor (issue 7) keeps a handler per key.

export interface SensorActionType {
  readonly description: string;
  /** Parameter names and what each holds; none are required. */
  readonly parameters: Readonly<Record<string, 'string' | 'integer' | 'boolean'>>;
}

export const sensorActionTypes = {
  'collect-diagnostics': {
    description: 'Collect logs, buffer and source state into a diagnostics package and upload it',
    parameters: { includeBuffer: 'boolean' },
  },
  'update-config': {
    description: 'Pull the configuration now instead of at the next heartbeat',
    parameters: {},
  },
  restart: {
    description: 'Restart the sensor service',
    parameters: { delaySeconds: 'integer' },
  },
  'resync-directory': {
    description: 'Run a full directory sync instead of an incremental one (uSNChanged from 0)',
    parameters: {},
  },
} as const satisfies Record<string, SensorActionType>;

export type SensorActionTypeName = keyof typeof sensorActionTypes;
export const sensorActionTypeNames = Object.keys(sensorActionTypes) as SensorActionTypeName[];

/** The final states a sensor may report for an action. */
export const sensorActionResults = ['Succeeded', 'Failed'] as const;
export type SensorActionResult = (typeof sensorActionResults)[number];

/** What is wrong with an action's parameters, or undefined when they fit its type. */
export function sensorActionParameterProblem(
  type: SensorActionTypeName,
  parameters: Readonly<Record<string, unknown>>,
): string | undefined {
  const allowed: Readonly<Record<string, string>> = sensorActionTypes[type].parameters;
  for (const [name, value] of Object.entries(parameters)) {
    const kind = allowed[name];
    if (kind === undefined) {
      const known = Object.keys(allowed);
      return `parameter ${name} is not one of ${type}'s (${known.length > 0 ? known.join(', ') : 'it takes none'})`;
    }
    const fits =
      kind === 'integer' ? Number.isSafeInteger(value) && (value as number) >= 0 : typeof value === kind;
    if (!fits)
      return `parameter ${name} of ${type} should be ${kind === 'integer' ? 'a non-negative integer' : `a ${kind}`}`;
  }
  return undefined;
}
