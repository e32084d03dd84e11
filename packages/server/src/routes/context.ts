// What the route handlers share: the opened instance, the pipeline, the credential stores, the
// login limiter, the clock, and a few helpers every group of routes uses.
import type { StateStore } from '@palisade/store';
import type { ApiClientStore } from '../auth/api-clients.ts';
import { type Principal, scopeOf } from '../auth/authorize.ts';
import { deviceGroupOf } from '../auth/device-groups.ts';
import type { LoginRateLimiter } from '../auth/rate-limit.ts';
import type { SessionStore } from '../auth/sessions.ts';
import type { CustomDetectionRunner } from '../custom-detections/custom-detection-runner.ts';
import { loadDeviceGroups } from '../http/credentials.ts';
import type { HuntingService } from '../hunting/hunting-engine.ts';
import type { OpenedInstance } from '../instance.ts';
import type { Pipeline } from '../pipeline.ts';
import type { SensorHealthMonitor } from '../sensors/sensor-health.ts';
import type { SensorRateLimiter } from '../sensors/sensor-rate-limit.ts';

export interface RouteContext {
  readonly instance: OpenedInstance;
  readonly pipeline: Pipeline;
  readonly sessions: SessionStore;
  readonly apiClients: ApiClientStore;
  readonly loginLimiter: LoginRateLimiter;
  /** The instance's base URL (`https://127.0.0.1:8443`), once it listens. */
  readonly baseUrl: () => string;
  readonly now: () => Date;
  /** The last TOTP step accepted per user (RFC 6238 §5.2 replay check); kept in memory. */
  readonly totpSteps: Map<string, number>;
  /** Sensor health issues, from heartbeats and the periodic evaluation. */
  readonly sensorHealth: SensorHealthMonitor;
  /** Per-sensor request limiting on the sensor channel (429 + Retry-After). */
  readonly sensorLimiter: SensorRateLimiter;
  /** Hunting queries with the instance's limits (timeout, rows, concurrency, result size). */
  readonly hunting: HuntingService;
  /** Custom detection rules: checked when saved, run on schedule. */
  readonly customDetections: CustomDetectionRunner;
}

/** Who a change is attributed to in the audit log and on records: a user's name or a client's id. */
export function actorOf(principal: Principal): string {
  if (principal.kind === 'user') return principal.name;
  if (principal.kind === 'api-client') return principal.clientId;
  return 'anonymous';
}

/** `{ "@odata.context": …, value }`, MDE's list shape. */
export function odataPage(context: RouteContext, entitySet: string, value: readonly unknown[]): unknown {
  return { '@odata.context': `${context.baseUrl()}/api/$metadata#${entitySet}`, value };
}

/** MDE's single-entity shape: the entity with its `@odata.context`. */
export function odataEntity(context: RouteContext, entitySet: string, entity: object): unknown {
  return { '@odata.context': `${context.baseUrl()}/api/$metadata#${entitySet}/$entity`, ...entity };
}

/**
 * Whether the caller may see something about these devices: every device group for unrestricted
 * callers; otherwise one of the devices must fall in a visible group (something about no device
 * at all is hidden, as the Scope rules say).
 */
export async function deviceVisibility(
  state: StateStore,
  principal: Principal,
): Promise<(devices: readonly string[]) => boolean> {
  const scope = scopeOf(principal);
  if (scope.unrestricted) return () => true;
  const config = await loadDeviceGroups(state);
  return (devices) =>
    devices.length > 0 && scope.canSeeAny(devices.map((name) => deviceGroupOf({ name }, config).id));
}
