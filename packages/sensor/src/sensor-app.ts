// The sensor as a running program: credentials from its directory, its configuration merged with
// the instance's (pulled over mTLS, pulled again when its ETag changes), the delivery buffer, the
// sources and the runner. `palisade sensor run` calls `startSensor` and stops it on a signal.
import { join } from 'node:path';
import { type SensorConfig, type SourceName, sourceNames } from './config.ts';
import { DeliveryBuffer } from './delivery-buffer.ts';
import { readSensorIdentity, type SensorIdentity, sensorChannel, sensorFiles } from './registration.ts';
import { type RunnerEvent, SensorRunner } from './sensor-runner.ts';
import type { ServerChannel } from './server-channel.ts';
import { chunkLimits } from './source.ts';
import { buildSources } from './sources/registry.ts';

/** The parts of the instance's sensor configuration (GET /api/sensor/config) the sensor applies. */
export interface InstanceSensorConfig {
  readonly etag: string;
  readonly sources: Partial<Record<SourceName, boolean>>;
  readonly bufferMaxMegabytes?: number;
  readonly heartbeatIntervalSeconds?: number;
  readonly batchMaxEvents?: number;
}

export interface StartSensorOptions {
  readonly config: SensorConfig;
  readonly version: string;
  readonly onEvent?: (event: RunnerEvent | { kind: 'config'; etag: string; sources: string[] }) => void;
}

export interface RunningSensor {
  readonly identity: SensorIdentity;
  /** The runner of the current configuration. */
  readonly runner: () => SensorRunner;
  stop(): Promise<void>;
}

/** Pulls the instance's configuration for this sensor; undefined when the server cannot be reached. */
export async function pullInstanceConfig(channel: ServerChannel): Promise<InstanceSensorConfig | undefined> {
  const reply = await channel.call('GET', '/api/sensor/config').catch(() => undefined);
  if (reply?.status !== 200) return undefined;
  const body = reply.body as {
    etag?: unknown;
    config?: {
      sources?: Record<string, unknown>;
      delivery?: { bufferMaxMegabytes?: unknown; batchMaxEvents?: unknown };
      heartbeat?: { intervalSeconds?: unknown };
    };
  };
  const sources: Partial<Record<SourceName, boolean>> = {};
  for (const name of sourceNames) {
    const value = body.config?.sources?.[name];
    if (typeof value === 'boolean') sources[name] = value;
  }
  const buffer = body.config?.delivery?.bufferMaxMegabytes;
  const batchMaxEvents = body.config?.delivery?.batchMaxEvents;
  const heartbeat = body.config?.heartbeat?.intervalSeconds;
  return {
    etag: typeof body.etag === 'string' ? body.etag : '',
    sources,
    ...(typeof buffer === 'number' ? { bufferMaxMegabytes: buffer } : {}),
    ...(typeof heartbeat === 'number' ? { heartbeatIntervalSeconds: heartbeat } : {}),
    ...(typeof batchMaxEvents === 'number' ? { batchMaxEvents } : {}),
  };
}

/** Starts the sensor of `config.dir`; it runs until `stop`. */
export async function startSensor(options: StartSensorOptions): Promise<RunningSensor> {
  const { config } = options;
  const identity = await readSensorIdentity(config.dir);
  const channel = sensorChannel(identity);
  // Without the server the sensor still reads and buffers; the instance's settings come later.
  let instance = await pullInstanceConfig(channel);
  let runner: SensorRunner | undefined;
  let stopping = false;
  let restarting: Promise<void> = Promise.resolve();

  const launch = async () => {
    const capacityBytes = (instance?.bufferMaxMegabytes ?? 0) * 1_048_576 || config.bufferCapacityBytes;
    const buffer = await DeliveryBuffer.open(join(config.dir, sensorFiles.buffer), { capacityBytes });
    const built = await buildSources(config.sources, instance?.sources ?? {}, {
      // The host's own setting, else the instance's, else the default.
      maxChunkRecords: config.batchMaxEvents ?? instance?.batchMaxEvents ?? chunkLimits.maxChunkRecords,
    });
    options.onEvent?.({
      kind: 'config',
      etag: instance?.etag ?? '',
      sources: built.sources.map((s) => s.id),
    });
    const next = new SensorRunner({
      dir: config.dir,
      channel,
      buffer,
      sources: built.sources,
      deviceName: identity.registration.name,
      version: options.version,
      heartbeatIntervalMs: (instance?.heartbeatIntervalSeconds ?? 0) * 1000 || config.heartbeatIntervalMs,
      heartbeatExtras: built.heartbeat,
      maxBackoffMs: config.retryMaxMs,
      onEvent: (event) => {
        options.onEvent?.(event);
        // The instance's configuration changed: run with the new one.
        if (
          event.kind === 'heartbeat' &&
          event.configEtag &&
          event.configEtag !== instance?.etag &&
          !stopping
        )
          restarting = restarting.then(reconfigure);
      },
    });
    runner = next;
    next.start();
  };

  const reconfigure = async () => {
    const pulled = await pullInstanceConfig(channel);
    if (!pulled || pulled.etag === instance?.etag || stopping) return;
    instance = pulled;
    await runner?.stop();
    if (!stopping) await launch();
  };

  await launch();
  return {
    identity,
    runner: () => runner as SensorRunner,
    async stop() {
      stopping = true;
      await restarting;
      await runner?.stop();
      channel.close();
    },
  };
}
