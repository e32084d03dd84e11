// `palisade up` without the command line: opens (or creates) the instance, rebuilds the pipeline's
// detector state, and serves the route table over HTTPS with the instance CA's server
// certificate, asking sensors for their client certificate on the same listener.
import type { AddressInfo } from 'node:net';
import type { IdentityEngineConfig, RuleSet } from '@palisade/detect';
import { createLoginRateLimiter } from './auth/rate-limit.ts';
import type { ListenAddress } from './config.ts';
import { stateApiClientStore, stateSessionStore } from './http/credentials.ts';
import { createInstanceServer } from './http/server.ts';
import { type CreatedInstance, type InstanceOptions, type OpenedInstance, openInstance } from './instance.ts';
import { createLogger, type Logger } from './log.ts';
import { Pipeline } from './pipeline.ts';
import { sharedServerOptions } from './pki/tls.ts';
import type { RouteContext } from './routes/context.ts';
import { instanceRoutes } from './routes/route-table.ts';

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
}

export interface RunningInstance {
  /** `https://127.0.0.1:8443`. */
  readonly url: string;
  readonly port: number;
  readonly instance: OpenedInstance;
  readonly pipeline: Pipeline;
  /** What the first run made (the one-time password, the access key); undefined on later runs. */
  readonly created: CreatedInstance | undefined;
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
  const instance = await openInstance({
    ...options,
    serverHosts: [...(options.serverHosts ?? []), ...extraHosts],
  });
  let pipeline: Pipeline | undefined;
  try {
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
    const context: RouteContext = {
      instance,
      pipeline,
      sessions,
      apiClients,
      loginLimiter: createLoginRateLimiter(),
      baseUrl: () => baseUrl,
      now,
      totpSteps: new Map(),
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
    return {
      url: baseUrl,
      port,
      instance,
      pipeline: running,
      created: instance.created,
      async close() {
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
