// The entity sets of the public API with the `$filter` properties and `$top` caps that Microsoft
// documents for MDE and the XDR incidents API (reference §4.5), so that MDE clients keep working.
// `$orderby` is not documented there; Palisade lets every listed property be sorted on.
import { defineEntitySet } from './odata-entity.ts';

/** Alert severities, least to most severe (reference §4.4). */
export const alertSeverities = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'] as const;
export const alertStatuses = ['Unknown', 'New', 'InProgress', 'Resolved'] as const;

/** `GET /api/alerts`: MDE's Alert filter properties; `$top` at most 10,000; `$expand=evidence`. */
export const alertsEntitySet = defineEntitySet({
  name: 'alerts',
  key: 'id',
  maxTop: 10_000,
  defaultOrderBy: [{ property: 'alertCreationTime', direction: 'desc' }],
  expand: ['evidence'],
  properties: {
    id: { type: 'string' },
    alertCreationTime: { type: 'datetime' },
    lastUpdateTime: { type: 'datetime' },
    lastEventTime: { type: 'datetime' },
    incidentId: { type: 'integer' },
    // The reference spells it "InvestigationId"; the Alert object and this API use camelCase.
    investigationId: { type: 'integer' },
    assignedTo: { type: 'string' },
    detectionSource: { type: 'string' },
    status: { type: 'enum', values: alertStatuses },
    severity: { type: 'enum', values: alertSeverities, ordered: true },
    category: { type: 'string' },
  },
});

export const incidentStatuses = ['Active', 'InProgress', 'Resolved', 'Redirected'] as const;

/**
 * `GET /api/incidents`: the XDR API filters on lastUpdateTime, createdTime, status and
 * assignedTo only (no severity: clients poll on lastUpdateTime), `$top` at most 100, most
 * recent first.
 */
export const incidentsEntitySet = defineEntitySet({
  name: 'incidents',
  key: 'incidentId',
  maxTop: 100,
  defaultOrderBy: [{ property: 'lastUpdateTime', direction: 'desc' }],
  properties: {
    incidentId: { type: 'integer', filterable: false },
    lastUpdateTime: { type: 'datetime' },
    createdTime: { type: 'datetime' },
    status: { type: 'enum', values: incidentStatuses },
    assignedTo: { type: 'string' },
  },
});

export const riskScores = ['None', 'Informational', 'Low', 'Medium', 'High'] as const;
export const exposureLevels = ['None', 'Low', 'Medium', 'High'] as const;
export const deviceValues = ['Low', 'Normal', 'High'] as const;
export const onboardingStatuses = ['onboarded', 'CanBeOnboarded', 'Unsupported', 'InsufficientInfo'] as const;
export const machineHealthStatuses = [
  'Active',
  'Inactive',
  'ImpairedCommunication',
  'NoSensorData',
  'NoSensorDataImpairedCommunication',
  'Unknown',
] as const;

/**
 * `GET /api/machines`: MDE's Machine filter properties, `$top` at most 10,000. `machineTags` is
 * a collection, which needs `any()`; it is left out until lambda operators are supported.
 */
export const machinesEntitySet = defineEntitySet({
  name: 'machines',
  key: 'id',
  maxTop: 10_000,
  properties: {
    id: { type: 'string' },
    computerDnsName: { type: 'string' },
    version: { type: 'string' },
    deviceValue: { type: 'enum', values: deviceValues, ordered: true },
    aadDeviceId: { type: 'guid' },
    lastSeen: { type: 'datetime' },
    exposureLevel: { type: 'enum', values: exposureLevels, ordered: true },
    onboardingStatus: { type: 'enum', values: onboardingStatuses },
    lastIpAddress: { type: 'string' },
    healthStatus: { type: 'enum', values: machineHealthStatuses },
    osPlatform: { type: 'string' },
    riskScore: { type: 'enum', values: riskScores, ordered: true },
    rbacGroupId: { type: 'integer' },
  },
});

export const sensorServiceStatuses = ['Running', 'Starting', 'Disabled', 'Stopped', 'Unknown'] as const;
export const sensorStatuses = [
  'UpToDate',
  'Outdated',
  'Updating',
  'UpdateFailed',
  'NotConfigured',
  'StartFailed',
  'Syncing',
  'Disconnected',
  'Unreachable',
] as const;
/** Healthy, or not healthy with the severity of the highest open health issue. */
export const sensorHealthStatuses = [
  'Healthy',
  'NotHealthyLow',
  'NotHealthyMedium',
  'NotHealthyHigh',
] as const;

/**
 * `GET /api/sensors`: Palisade's own set, after the columns of MDI's Sensors page (reference
 * §2.4). Sensors are few (MDI allows 350 by default), so they are filtered in memory.
 */
export const sensorsEntitySet = defineEntitySet({
  name: 'sensors',
  key: 'id',
  maxTop: 1000,
  defaultOrderBy: [{ property: 'name', direction: 'asc' }],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    domain: { type: 'string' },
    serviceStatus: { type: 'enum', values: sensorServiceStatuses },
    sensorStatus: { type: 'enum', values: sensorStatuses },
    healthStatus: { type: 'enum', values: sensorHealthStatuses, ordered: true },
    healthIssues: { type: 'integer' },
    version: { type: 'string' },
    delayedUpdate: { type: 'boolean' },
    createdTime: { type: 'datetime' },
    lastSeen: { type: 'datetime' },
  },
});
