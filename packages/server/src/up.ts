// `palisade up` without the command line: opens (or creates) the instance, rebuilds the pipeline's
// detector state, and serves the route table over HTTPS with the instance CA's server
// certificate, asking sensors for their client certificate on the same listener. Timers evaluate
// sensor health every minute, run the custom detection rules that are due every minute, and run
// daily maintenance (event retention, server certificate).
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { IdentityEngineConfig, RuleSet } from '@palisade/detect';
import { warmUp } from '@palisade/kql';
import type { RetentionResult } from '@palisade/store';
import { createLoginRateLimiter } from './auth/rate-limit.ts';
import type { ListenAddress } from './config.ts';
import { CustomDetectionRunner } from './custom-detections/custom-detection-runner.ts';
import { stateApiClientStore, stateSessionStore } from './http/credentials.ts';
import { createInstanceServer } from './http/server.ts';
import { defaultHuntingLimits, type HuntingLimits, HuntingService } from './hunting/hunting-engine.ts';
import {
  type CreatedInstance,
  dataLayout,
  type InstanceOptions,
  type OpenedInstance,
  openInstance,
} from './instance.ts';
import { createLogger, type Logger } from './log.ts';
import { Pipeline } from './pipeline.ts';
import { ensureServerCertificate, type ServerCertificate } from './pki/ca.ts';
import { sharedServerOptions } from './pki/tls.ts';
import type { RouteContext } from './routes/context.ts';
import { instanceRoutes } from './routes/route-table.ts';
import { SensorHealthMonitor, type SensorHealthThresholds } from './sensors/sensor-health.ts';
import { createSensorRateLimiter, type SensorRateLimit } from './sensors/sensor-rate-limit.ts';

/**
 * How often sensor health is evaluated, custom detection rules are checked for being due (each
 * runs at its own frequency), and maintenance runs (retention, server certificate).
 */
export const defaultSchedule = {
  healthCheckMs: 60_000,
  customDetectionsMs: 60_000,
  maintenanceMs: 24 * 3_600_000,
} as const;

/** What one maintenance run did. */
export interface MaintenanceResult {
  readonly retention: RetentionResult;
  /** `current`, or why the server certificate was reissued (the listener then serves the new one). */
  readonly serverCertificate: ServerCertificate['status'];
}

export interface StartOptions extends InstanceOptions {
  readonly listen: ListenAddress;
  /** Sigma rules compiled once for the pipeline. */
  readonly ruleSet?: RuleSet | undefined;
  readonly identityConfig?: IdentityEngineConfig | undefined;
  readonly correlationWindowMs?: number | undefined;
  readonly log?: Logger | undefined;
  /** Reported in the OpenAPI document. */
  readonly version?: string | undefined;
  /** The clock (tests). */
  readonly now?: (() => Date) | undefined;
  readonly sensorRateLimit?: SensorRateLimit | undefined;
  readonly sensorHealthThresholds?: SensorHealthThresholds | undefined;
  /** Hunting limits (timeout, rows, concurrent queries, result size); MDE's by default. */
  readonly hunting?: Partial<HuntingLimits> | undefined;
  /**
   * Timer periods; tests turn the timers off with 0 and call `evaluateHealth`,
   * `customDetections.runDue` and `maintain`.
   */
  readonly schedule?:
    | {
        readonly healthCheckMs?: number;
        readonly customDetectionsMs?: number;
        readonly maintenanceMs?: number;
      }
    | undefined;
}

export interface RunningInstance {
  /** `https://127.0.0.1:8443`. */
  readonly url: string;
  readonly port: number;
  readonly instance: OpenedInstance;
  readonly pipeline: Pipeline;
  /** What the first run made (the one-time password, the access key); undefined on later runs. */
  readonly created: CreatedInstance | undefined;
  readonly sensorHealth: SensorHealthMonitor;
  /** Runs the health evaluation now (the timer's work). */
  evaluateHealth(): Promise<void>;
  /** Hunting queries with the instance's limits. */
  readonly hunting: HuntingService;
  /** Custom detection rules: `runDue()` is the timer's work. */
  readonly customDetections: CustomDetectionRunner;
  /** Runs maintenance now (the daily timer's work). */
  maintain(): Promise<MaintenanceResult>;
  /** Stops listening, lets queued batches finish and closes the stores. */
  close(): Promise<void>;
}

const wildcardHosts = new Set(['0.0.0.0', '::']);
const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);

/** Opens the instance and serves it; resolves once it listens. */
export async function startInstance(options: StartOptions): Promise<RunningInstance> {
  const log = options.log ?? createLogger();
  const now = options.now ?? (() => new Date());
  const { host } = options.listen;
  const extraHosts = wildcardHosts.has(host) || loopbackHosts.has(host) ? [] : [host.replace(/^\[|\]$/g, '')];
  const serverHosts = [...(options.serverHosts ?? []), ...extraHosts];
  const instance = await openInstance({ ...options, serverHosts });
  let pipeline: Pipeline | undefined;
  try {
    // The language service loads in about half a second: once now, not in the first query.
    warmUp();
    pipeline = await Pipeline.open({
      events: instance.events,
      state: instance.state,
      log: log.child({ component: 'pipeline' }),
      ruleSet: options.ruleSet,
      identityConfig: options.identityConfig,
      correlationWindowMs: options.correlationWindowMs,
      now,
    });
    let baseUrl = '';
    const sessions = stateSessionStore(instance.state);
    const apiClients = stateApiClientStore(instance.state, () => now().getTime());
    const sensorHealth = new SensorHealthMonitor(instance.state, {
      now,
      thresholds: options.sensorHealthThresholds,
    });
    const hunting = new HuntingService(instance.hunting, { ...defaultHuntingLimits, ...options.hunting });
    const customDetections = new CustomDetectionRunner({
      state: instance.state,
      hunting: instance.hunting,
      limits: hunting.limits,
      pipeline,
      now,
      log: log.child({ component: 'custom-detections' }),
    });
    const context: RouteContext = {
      instance,
      pipeline,
      sessions,
      apiClients,
      loginLimiter: createLoginRateLimiter(),
      baseUrl: () => baseUrl,
      now,
      totpSteps: new Map(),
      sensorHealth,
      sensorLimiter: createSensorRateLimiter(options.sensorRateLimit),
      hunting,
      customDetections,
    };
    let origins: string[] = [];
    const server = createInstanceServer({
      routes: instanceRoutes(context, options.version ?? 'development'),
      tls: sharedServerOptions(instance.serverCertificate, instance.ca),
      callers: {
        state: instance.state,
        ca: instance.ca,
        revocations: instance.revocations,
        sessions,
        apiClients,
        allowedOrigins: () => origins,
        now: () => now().getTime(),
      },
      log,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listen.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    baseUrl = `https://${urlHost}:${port}`;
    origins = [baseUrl, `https://localhost:${port}`, `https://127.0.0.1:${port}`, `https://[::1]:${port}`];
    log.info('instance listening', {
      url: baseUrl,
      domain: instance.record.domain,
      dataDir: instance.dataDir,
      created: instance.created !== undefined,
    });
    const running = pipeline;

    const evaluateHealth = async () => {
      const opened = await sensorHealth.evaluate();
      for (const issue of opened) {
        log.warn('sensor health issue opened', {
          sensorId: issue.sensorId,
          type: issue.type,
          details: issue.details,
        });
      }
    };
    const pkiDir = join(instance.dataDir, dataLayout.pki);
    const maintain = async (): Promise<MaintenanceResult> => {
      const retention = await instance.events.applyRetention(now());
      // Reissued when it nears expiry or the names changed: new TLS handshakes get the new one.
      const certificate = await ensureServerCertificate(pkiDir, instance.ca, {
        passphrase: options.keyPassphrase,
        hosts: serverHosts,
        now: now(),
      });
      if (certificate.status !== 'current') {
        server.setSecureContext(sharedServerOptions(certificate, instance.ca));
        log.info('server certificate reissued', {
          reason: certificate.status,
          notAfter: certificate.notAfter.toISOString(),
        });
      }
      log.info('maintenance done', {
        deleted: retention.deleted,
        batchesForgotten: retention.batchesForgotten,
      });
      return { retention, serverCertificate: certificate.status };
    };
    const schedule = { ...defaultSchedule, ...options.schedule };
    const timers = [
      every(schedule.healthCheckMs, evaluateHealth, log, 'sensor health evaluation'),
      every(schedule.customDetectionsMs, () => customDetections.runDue(), log, 'custom detection rules'),
      every(schedule.maintenanceMs, maintain, log, 'maintenance'),
    ];

    return {
      url: baseUrl,
      port,
      instance,
      pipeline: running,
      created: instance.created,
      sensorHealth,
      evaluateHealth,
      hunting,
      customDetections,
      maintain,
      async close() {
        for (const timer of timers) if (timer) clearInterval(timer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await running.close();
        server.closeAllConnections();
        await closed;
        await instance.close();
        log.info('instance stopped', { domain: instance.record.domain });
      },
    };
  } catch (error) {
    await pipeline?.close();
    await instance.close();
    throw error;
  }
}

/** Runs `task` every `ms` (not at all for 0), one run at a time, logging failures. */
function every(
  ms: number,
  task: () => Promise<unknown>,
  log: Logger,
  what: string,
): ReturnType<typeof setInterval> | undefined {
  if (ms <= 0) return undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((error: unknown) => log.error(`${what} failed`, { err: error }))
      .finally(() => {
        running = false;
      });
  }, ms);
  timer.unref();
  return timer;
}
