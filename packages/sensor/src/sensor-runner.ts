// `palisade sensor run`: each source reads from where its last buffered chunk ended and writes its
// chunks to the delivery buffer; one delivery loop sends the buffer's batches in order and deletes
// each only after the server acknowledged it; a heartbeat reports health and checks the clock. The
// sources wait while the buffer is full (file sources lose nothing; a live capture's kernel buffer
// overflows and tcpdump counts the drops, which the heartbeat reports): a full buffer is never
// silent. A status file lets `palisade sensor status` read the state without talking to the server.
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { BufferedBatch, DeliveryBuffer } from './delivery-buffer.ts';
import { ChannelError, type ChannelReply, type ServerChannel } from './server-channel.ts';
import { deliveryLimits, type Source, type SourceHealthIssue } from './source.ts';

/** What the runner reports about itself (status file, logs). */
export type RunnerEvent =
  | {
      readonly kind: 'buffered';
      readonly sourceId: string;
      readonly batchId: string;
      readonly records: number;
    }
  | {
      readonly kind: 'acknowledged';
      readonly batchId: string;
      readonly records: number;
      readonly duplicate: boolean;
      readonly rejected: number;
    }
  | { readonly kind: 'refused'; readonly batchId: string; readonly status: number; readonly path: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs: number }
  | { readonly kind: 'health'; readonly sourceId: string; readonly issue: SourceHealthIssue }
  | { readonly kind: 'health-cleared'; readonly sourceId: string; readonly code: string }
  | { readonly kind: 'source-ended'; readonly sourceId: string; readonly error?: string }
  | { readonly kind: 'heartbeat'; readonly skewMs: number; readonly configEtag?: string };

export interface RunnerOptions {
  readonly dir: string;
  readonly channel: ServerChannel;
  readonly buffer: DeliveryBuffer;
  readonly sources: readonly Source[];
  readonly deviceName: string;
  readonly version: string;
  readonly heartbeatIntervalMs?: number | undefined;
  /** Largest wait between delivery retries (default 60 s). */
  readonly maxBackoffMs?: number | undefined;
  /** How long a failed source waits before it is started again (default 10 s). */
  readonly sourceRestartMs?: number | undefined;
  readonly onEvent?: ((event: RunnerEvent) => void) | undefined;
  /** Extra heartbeat members (capture counters, …), read at each heartbeat. */
  readonly heartbeatExtras?: (() => Record<string, unknown>) | undefined;
}

/** A source's state, as the status file shows it. */
export interface SourceStatus {
  readonly id: string;
  records: number;
  chunks: number;
  lastChunkAt?: string;
  running: boolean;
  health: Record<string, SourceHealthIssue>;
}

/** What `status.json` holds. */
export interface RunnerStatus {
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly sources: readonly SourceStatus[];
  readonly buffer: ReturnType<DeliveryBuffer['stats']>;
  readonly delivered: { readonly batches: number; readonly records: number; readonly lastAt?: string };
  /** Seconds between the oldest buffered batch and now (0 when the buffer is empty). */
  readonly lagSeconds: number;
  readonly lastError?: { readonly at: string; readonly message: string };
  readonly clockSkewMs?: number;
  readonly lastHeartbeatAt?: string;
}

/** Kerberos' default maximum skew: past it the sensor reports a clock problem. */
export const maxClockSkewMs = 5 * 60_000;

export class SensorRunner {
  readonly #options: RunnerOptions;
  readonly #controller = new AbortController();
  readonly #sources = new Map<string, SourceStatus>();
  readonly #startedAt = new Date().toISOString();
  #delivered = { batches: 0, records: 0, lastAt: undefined as string | undefined };
  #lastError: { at: string; message: string } | undefined;
  #clockSkewMs: number | undefined;
  #lastHeartbeatAt: string | undefined;
  /** Problems of the runner itself (delivery, clock), reported like a source's. */
  readonly #own = new Map<string, SourceHealthIssue>();
  #tasks: Promise<unknown>[] = [];

  constructor(options: RunnerOptions) {
    this.#options = options;
    for (const source of options.sources)
      this.#sources.set(source.id, { id: source.id, records: 0, chunks: 0, running: false, health: {} });
  }

  /** Starts the sources, delivery and heartbeats; `stop` ends them. */
  start(): void {
    const signal = this.#controller.signal;
    this.#tasks = [
      ...this.#options.sources.map((source) => this.#runSource(source, signal)),
      this.#deliver(signal),
      this.#heartbeats(signal),
      this.#writeStatusEvery(signal),
    ];
  }

  /** Stops reading, lets the batch in flight finish or fail, and writes the status once more. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await Promise.allSettled(this.#tasks);
    await this.writeStatus();
  }

  status(): RunnerStatus {
    const buffer = this.#options.buffer.stats();
    const oldest = buffer.oldestBufferedAt ? Date.parse(buffer.oldestBufferedAt) : undefined;
    return {
      pid: process.pid,
      startedAt: this.#startedAt,
      updatedAt: new Date().toISOString(),
      sources: [...this.#sources.values()],
      buffer,
      delivered: {
        batches: this.#delivered.batches,
        records: this.#delivered.records,
        ...(this.#delivered.lastAt ? { lastAt: this.#delivered.lastAt } : {}),
      },
      lagSeconds: oldest === undefined ? 0 : Math.max(0, Math.round((Date.now() - oldest) / 1000)),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      ...(this.#clockSkewMs === undefined ? {} : { clockSkewMs: this.#clockSkewMs }),
      ...(this.#lastHeartbeatAt ? { lastHeartbeatAt: this.#lastHeartbeatAt } : {}),
    };
  }

  async writeStatus(): Promise<void> {
    const path = join(this.#options.dir, 'status.json');
    const temporary = `${path}.${process.pid}.tmp`;
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(`${JSON.stringify(this.status(), null, 2)}\n`);
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  }

  async #runSource(source: Source, signal: AbortSignal): Promise<void> {
    const status = this.#sources.get(source.id) as SourceStatus;
    const { buffer } = this.#options;
    const context = {
      signal,
      deviceName: this.#options.deviceName,
      health: (issue: SourceHealthIssue) => {
        status.health[issue.code] = issue;
        this.#emit({ kind: 'health', sourceId: source.id, issue });
      },
      clearHealth: (code: string) => {
        if (!(code in status.health)) return;
        delete status.health[code];
        this.#emit({ kind: 'health-cleared', sourceId: source.id, code });
      },
    };
    while (!signal.aborted) {
      status.running = true;
      try {
        for await (const chunk of source.run(buffer.resumePoint(source.id) as never, context)) {
          const records = chunk.rows.length + chunk.events.length;
          if (buffer.full) {
            context.health({
              code: 'sensor/buffer-full',
              message: `the delivery buffer holds ${buffer.stats().bytes} bytes, its capacity: ${source.id} waits until the server takes some`,
            });
            await buffer.whenRoom(signal);
            context.clearHealth('sensor/buffer-full');
          }
          // A chunk read as the sensor stops is still buffered: its records were read.
          const batch = await buffer.put(source.id, chunk);
          // Started again after a failure, and reading: that problem is over.
          if ('sensor/source-failed' in status.health) context.clearHealth('sensor/source-failed');
          status.records += records;
          status.chunks++;
          status.lastChunkAt = batch.bufferedAt;
          this.#emit({ kind: 'buffered', sourceId: source.id, batchId: batch.batchId, records });
          if (signal.aborted) break;
        }
        status.running = false;
        this.#emit({ kind: 'source-ended', sourceId: source.id });
        return;
      } catch (error) {
        status.running = false;
        const message = error instanceof Error ? error.message : String(error);
        context.health({ code: 'sensor/source-failed', message: `${source.id} stopped: ${message}` });
        this.#emit({ kind: 'source-ended', sourceId: source.id, error: message });
        await sleep(this.#options.sourceRestartMs ?? 10_000, signal);
      }
    }
  }

  async #deliver(signal: AbortSignal): Promise<void> {
    const { buffer, channel } = this.#options;
    let attempt = 0;
    /** After the server refused a request of several batches: send one at a time to find the bad one. */
    let oneByOne = 0;
    while (!signal.aborted) {
      await buffer.whenNotEmpty(signal);
      if (signal.aborted) return;
      const batches = await buffer.oldestBatches(
        oneByOne > 0 ? 1 : deliveryLimits.batchesPerRequest,
        deliveryLimits.recordsPerRequest,
      );
      if (batches.length === 0) continue;
      const outcome = await this.#send(channel, batches);
      if (outcome.kind === 'split') {
        oneByOne = batches.length;
        continue;
      }
      if (outcome.kind === 'done') {
        oneByOne = Math.max(0, oneByOne - batches.length);
        attempt = 0;
        this.#own.delete('delivery');
        continue;
      }
      attempt++;
      const cap = this.#options.maxBackoffMs ?? 60_000;
      // Full jitter: sensors that lost the server together do not come back together.
      const backoff = Math.min(cap, 500 * 2 ** Math.min(attempt, 16)) * Math.random();
      const delayMs = Math.max(outcome.retryAfterMs ?? 0, Math.max(250, backoff));
      this.#failed(outcome.reason);
      this.#emit({ kind: 'retry', reason: outcome.reason, delayMs: Math.round(delayMs) });
      await sleep(delayMs, signal);
    }
  }

  /** Sends buffered batches in one request (one batch alone in the single-batch form). */
  async #send(
    channel: ServerChannel,
    batches: readonly BufferedBatch[],
  ): Promise<
    { kind: 'done' } | { kind: 'split' } | { kind: 'retry'; reason: string; retryAfterMs?: number }
  > {
    const { buffer } = this.#options;
    const records = (b: BufferedBatch) => b.records;
    // Only the source's position moved (e.g. past a corrupt record): nothing to send.
    const empty = batches.filter((b) => records(b) === 0);
    for (const b of empty) await buffer.acknowledge(b.seq);
    const sending = batches.filter((b) => records(b) > 0);
    if (sending.length === 0) return { kind: 'done' };
    // The batches' JSON goes into the request as it was buffered.
    const parts =
      sending.length === 1
        ? [(sending[0] as BufferedBatch).body]
        : ['{"batches":[', ...sending.flatMap((b, k) => (k === 0 ? [b.body] : [',', b.body])), ']}'];
    let reply: ChannelReply;
    try {
      reply = await channel.postJsonParts('/api/sensor/batches', parts);
    } catch (error) {
      const reason = error instanceof ChannelError ? error.message : `delivery failed: ${String(error)}`;
      return { kind: 'retry', reason };
    }
    if (reply.status === 200) {
      const body = reply.body as { acks?: unknown } | undefined;
      const acks = (sending.length === 1 ? [body] : Array.isArray(body?.acks) ? body.acks : []) as {
        batchId?: string;
        duplicate?: boolean;
        rejectedCount?: number;
        rejected?: unknown[];
      }[];
      if (acks.length !== sending.length)
        return {
          kind: 'retry',
          reason: `the server acknowledged ${acks.length} of ${sending.length} batches`,
        };
      for (const [k, batch] of sending.entries()) {
        const ack = acks[k];
        await buffer.acknowledge(batch.seq);
        this.#delivered.batches++;
        this.#delivered.records += records(batch);
        this.#delivered.lastAt = new Date().toISOString();
        const rejected = ack?.rejectedCount ?? 0;
        if (rejected > 0) {
          this.#failed(
            `the server refused ${rejected} of ${records(batch)} records of batch ${batch.batchId} from ${batch.sourceId}: ${JSON.stringify(ack?.rejected?.[0])}`,
          );
        }
        this.#emit({
          kind: 'acknowledged',
          batchId: batch.batchId,
          records: records(batch),
          duplicate: ack?.duplicate === true,
          rejected,
        });
      }
      return { kind: 'done' };
    }
    if (reply.status === 400 || reply.status === 413 || reply.status === 422) {
      if (sending.length > 1) return { kind: 'split' };
      // Sending it again cannot help: keep it aside, say so, and go on with the next one.
      const batch = sending[0] as BufferedBatch;
      const path = await buffer.refuse(batch.seq);
      this.#own.set('delivery-refused', {
        code: 'sensor/batch-refused',
        message: `the server refused batch ${batch.batchId} of ${batch.sourceId} (${reply.status}): kept in ${path}`,
      });
      this.#failed(`batch ${batch.batchId} refused with ${reply.status}: ${reply.text.slice(0, 200)}`);
      this.#emit({ kind: 'refused', batchId: batch.batchId, status: reply.status, path });
      return { kind: 'done' };
    }
    const retryAfter = Number(reply.headers['retry-after']);
    const reason =
      reply.status === 401 || reply.status === 403
        ? `the server refused this sensor's certificate (${reply.status}); was the sensor deleted? Register it again`
        : `the server answered ${reply.status} to ${sending.length} batches`;
    this.#own.set('delivery', { code: 'sensor/delivery-failing', message: reason });
    return {
      kind: 'retry',
      reason,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  }

  async #heartbeats(signal: AbortSignal): Promise<void> {
    const interval = this.#options.heartbeatIntervalMs ?? 60_000;
    while (!signal.aborted) {
      await this.heartbeat().catch((error: unknown) =>
        this.#failed(`heartbeat failed: ${error instanceof Error ? error.message : String(error)}`),
      );
      await sleep(interval, signal);
    }
  }

  /** Sends one heartbeat and checks the clock against the server's answer. */
  async heartbeat(): Promise<void> {
    const status = this.status();
    const errors = [
      ...[...this.#sources.values()].flatMap((s) =>
        Object.values(s.health).map((issue) => ({
          source: s.id,
          message: `${issue.code}: ${issue.message}`,
        })),
      ),
      ...[...this.#own.values()].map((issue) => ({
        source: 'sensor',
        message: `${issue.code}: ${issue.message}`,
      })),
    ];
    const sentAt = Date.now();
    const capacityBatches =
      status.buffer.batches === 0
        ? undefined
        : Math.max(
            status.buffer.batches,
            Math.floor((status.buffer.capacityBytes / status.buffer.bytes) * status.buffer.batches),
          );
    const reply = await this.#options.channel.call('POST', '/api/sensor/heartbeat', {
      sensorTime: new Date(sentAt).toISOString(),
      version: this.#options.version,
      status: errors.length > 0 ? 'Degraded' : 'Running',
      lagSeconds: status.lagSeconds,
      bufferedBatches: status.buffer.batches,
      ...(capacityBatches === undefined ? {} : { bufferCapacityBatches: capacityBatches }),
      errors,
      ...(this.#options.heartbeatExtras?.() ?? {}),
    });
    const receivedAt = Date.now();
    if (reply.status !== 200)
      throw new Error(`the server answered ${reply.status}: ${reply.text.slice(0, 200)}`);
    const body = reply.body as { serverTime?: unknown; configEtag?: unknown };
    this.#lastHeartbeatAt = new Date(receivedAt).toISOString();
    const serverTime = typeof body?.serverTime === 'string' ? Date.parse(body.serverTime) : Number.NaN;
    if (!Number.isNaN(serverTime)) {
      // The server read its clock about halfway through the call.
      const skew = Math.round(sentAt + (receivedAt - sentAt) / 2 - serverTime);
      this.#clockSkewMs = skew;
      if (Math.abs(skew) > maxClockSkewMs) {
        this.#own.set('clock', {
          code: 'sensor/clock-skew',
          message: `this host's clock is ${Math.round(skew / 1000)} s off the server's (Kerberos allows 300 s)`,
        });
      } else this.#own.delete('clock');
      this.#emit({
        kind: 'heartbeat',
        skewMs: skew,
        ...(typeof body.configEtag === 'string' ? { configEtag: body.configEtag } : {}),
      });
    }
  }

  async #writeStatusEvery(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.writeStatus().catch((error: unknown) => this.#failed(`status file: ${String(error)}`));
      await sleep(2_000, signal);
    }
  }

  #failed(message: string): void {
    this.#lastError = { at: new Date().toISOString(), message };
  }

  #emit(event: RunnerEvent): void {
    this.#options.onEvent?.(event);
  }
}

/** Waits `ms`, or less when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
