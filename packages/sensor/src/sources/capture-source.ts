// The network capture source of a DC or standalone sensor: tcpdump on an interface (the network
// issue's LiveCapture), frames through the flow decoder and the network normaliser, rows handed
// over in chunks. A capture cannot be replayed, so its checkpoint is null; when the sensor falls
// behind, reading stops, the kernel's capture buffer overflows and tcpdump's drop counters (sent
// with every heartbeat) say so.
import {
  type CapturedFrame,
  CaptureError,
  FlowDecoder,
  LiveCapture,
  type LiveCaptureOptions,
  type LiveCaptureStats,
} from '@palisade/protocols';
import { NetworkNormaliser, type TableRow } from '@palisade/schema';
import { chunkLimits, type Source, type SourceChunk, type SourceContext } from '../source.ts';

export interface CaptureSourceOptions {
  readonly interface: string;
  readonly filter?: string | undefined;
  readonly dcAddresses?: readonly string[] | undefined;
  readonly snapLength?: number | undefined;
  /** The tcpdump command (e.g. inside a network namespace); default `['tcpdump']`. */
  readonly command?: readonly string[] | undefined;
  /** Rows held while the buffer is full before reading frames pauses (default 20,000). */
  readonly maxPendingRows?: number | undefined;
}

/** Heartbeat counters of a capture source (MDI: "Some network traffic could not be analyzed"). */
export interface CaptureHealth {
  readonly packetsReceived?: number;
  readonly packetsDropped?: number;
  readonly failing?: boolean;
  readonly error?: string;
}

export class CaptureSource implements Source<null> {
  readonly id: string;
  readonly #options: CaptureSourceOptions;
  #stats: LiveCaptureStats | undefined;
  #error: string | undefined;

  constructor(options: CaptureSourceOptions) {
    this.#options = options;
    this.id = `capture:${options.interface}`;
  }

  /** What the heartbeat's `capture` member carries. */
  health(): CaptureHealth {
    const counters = this.#stats?.tcpdump;
    return {
      ...(counters
        ? { packetsReceived: counters.receivedByFilter, packetsDropped: counters.droppedByKernel }
        : {}),
      failing: this.#error !== undefined,
      ...(this.#error ? { error: this.#error } : {}),
    };
  }

  async *run(_from: null | undefined, context: SourceContext): AsyncIterable<SourceChunk<null>> {
    const options = this.#options;
    let capture: LiveCapture;
    try {
      capture = await LiveCapture.start({
        interface: options.interface,
        ...(options.filter ? { filter: options.filter } : {}),
        ...(options.dcAddresses ? { dcAddresses: options.dcAddresses } : {}),
        ...(options.snapLength ? { snapLength: options.snapLength } : {}),
        ...(options.command ? { command: options.command } : {}),
        statsIntervalMs: 10_000,
        onEvent: (event) => {
          if (event.kind === 'stats') this.#stats = event.stats;
        },
      } satisfies LiveCaptureOptions);
    } catch (error) {
      this.#error = error instanceof Error ? error.message : String(error);
      context.health({
        code: 'capture/cannot-start',
        message: `capture on ${options.interface} cannot start: ${this.#error}`,
        ...(error instanceof CaptureError ? { details: { code: error.code } } : {}),
      });
      throw error;
    }
    this.#error = undefined;
    context.clearHealth('capture/cannot-start');
    const stop = () => void capture.stop();
    context.signal.addEventListener('abort', stop, { once: true });
    const pending: TableRow[] = [];
    const maxPending = options.maxPendingRows ?? 20_000;
    let wake: (() => void) | undefined;
    let room: (() => void) | undefined;
    let ended = false;
    let failure: unknown;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    // Frames are read in the background; the generator below hands rows over in chunks.
    const reading = (async () => {
      const decoder = new FlowDecoder({});
      const normaliser = new NetworkNormaliser();
      const take = (items: ReturnType<FlowDecoder['push']>) => {
        for (const item of items) for (const row of normaliser.push(item)) pending.push(row);
      };
      for await (const frame of capture as AsyncIterable<CapturedFrame>) {
        take(decoder.push(frame));
        if (pending.length >= chunkLimits.maxChunkRecords) notify();
        while (pending.length >= maxPending && !context.signal.aborted)
          await new Promise<void>((resolve) => {
            room = resolve;
          });
      }
      take(decoder.finish());
    })()
      .catch((error: unknown) => {
        failure = error;
      })
      .finally(() => {
        ended = true;
        notify();
      });
    try {
      for (;;) {
        if (pending.length < chunkLimits.maxChunkRecords && !ended) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, chunkLimits.maxChunkDelayMs);
          });
        }
        if (pending.length > 0) {
          const rows = pending.splice(0, chunkLimits.maxChunkRecords);
          room?.();
          room = undefined;
          yield { rows, events: [], checkpoint: null };
          continue;
        }
        if (ended) break;
      }
      await reading;
      this.#stats = capture.stats();
      if (failure !== undefined) throw failure;
      if (!context.signal.aborted) {
        // tcpdump ended by itself (interface gone, killed): the runner starts it again.
        throw new Error(`tcpdump on ${options.interface} ended`);
      }
    } finally {
      context.signal.removeEventListener('abort', stop);
      await capture.stop().catch(() => undefined);
    }
  }
}
