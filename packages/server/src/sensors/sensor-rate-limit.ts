// Per-sensor request limiting on the sensor channel: a token bucket per sensor (a burst, then a
// steady rate), so one sensor replaying its buffer cannot starve the others. Refused calls
// answer 429 with Retry-After; a sensor backs off and resends (batch ids make that safe).

export interface SensorRateLimit {
  /** Requests a sensor may make at once after a quiet spell. */
  readonly burst: number;
  /** Tokens added back per second. */
  readonly perSecond: number;
}

/** Generous: a sensor sends a batch every few seconds, faster only while it catches up. */
export const defaultSensorRateLimit: SensorRateLimit = { burst: 200, perSecond: 50 };

export type SensorRateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export interface SensorRateLimiter {
  take(sensorId: string, nowMs: number): SensorRateDecision;
}

/** A limiter with one bucket per sensor (sensors are few: no eviction is needed). */
export function createSensorRateLimiter(limit: SensorRateLimit = defaultSensorRateLimit): SensorRateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(sensorId, nowMs) {
      const bucket = buckets.get(sensorId) ?? { tokens: limit.burst, at: nowMs };
      bucket.tokens = Math.min(
        limit.burst,
        bucket.tokens + (Math.max(0, nowMs - bucket.at) / 1000) * limit.perSecond,
      );
      bucket.at = nowMs;
      buckets.set(sensorId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond)),
      };
    },
  };
}
