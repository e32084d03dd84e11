// An instance on 127.0.0.1 for the sensor's tests: a fresh data directory, identity detectors in
// test mode, logs discarded, no background timers (health and maintenance run when a test asks).
import { join } from 'node:path';
import type { TableRow } from '@palisade/schema';
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
    schedule: { healthCheckMs: 0, customDetectionsMs: 0, maintenanceMs: 0 },
  });
}

/** Every row the instance stored from one sensor's batches, batch by batch in storage order. */
export async function* storedRows(instance: RunningInstance, sensorId: string): AsyncGenerator<TableRow> {
  const events = instance.instance.events;
  let after = 0;
  for (;;) {
    const batches = await events.listBatches(after, 100);
    if (batches.length === 0) return;
    for (const batch of batches) {
      after = batch.seq;
      if (batch.source === sensorId) yield* await events.readBatch(batch.seq);
    }
  }
}
