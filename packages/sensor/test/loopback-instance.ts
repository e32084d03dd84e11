// An instance on 127.0.0.1 for the sensor's tests: a fresh data directory, identity detectors in
// test mode, logs discarded, no background timers (health and maintenance run when a test asks).
import { join } from 'node:path';
import { createLogger, type RunningInstance, startInstance } from '@palisade/server';

export function startLoopbackInstance(dir: string): Promise<RunningInstance> {
  return startInstance({
    dataDir: join(dir, 'data'),
    domain: 'corp.lab.test',
    adminPassword: 'Quartz-Lantern-Orbit-2291',
    duckDbMemoryLimit: '256MB',
    listen: { host: '127.0.0.1', port: 0 },
    identityConfig: { testMode: true },
    log: createLogger({ write: () => undefined }),
    schedule: { healthCheckMs: 0, maintenanceMs: 0 },
  });
}
