// What every sensor source is: something that reads records from where it left off and hands
// them over in chunks, each with the position after it. The delivery side writes a chunk to the
// on-disk buffer together with that checkpoint (one atomic write), so a restart resumes every
// source from the last chunk it buffered: nothing is re-sent that was acknowledged and nothing
// read is skipped. Sources never talk to the server; they never see batches or acknowledgements.
import type { TableRow } from '@palisade/schema';

/** A source's position, as plain JSON it chooses (file + offset, record id, uSN, …). */
export type Checkpoint =
  | null
  | boolean
  | number
  | string
  | readonly Checkpoint[]
  | { readonly [key: string]: Checkpoint };

/** Records read from one place, and where to resume after them. */
export interface SourceChunk<C extends Checkpoint = Checkpoint> {
  /** Rows the sensor normalised itself (Samba audit, packets, directory, Linux endpoint). */
  readonly rows: readonly TableRow[];
  /**
   * Raw Windows events as JSON in the form `palisade evtx dump` writes (the server normalises them
   * and runs the Sigma rules over them).
   */
  readonly events: readonly unknown[];
  /** Resuming from this reads the record after the last one of this chunk. */
  readonly checkpoint: C;
}

/** A named problem a source has now (MDI-style health issue); cleared by `clearHealth`. */
export interface SourceHealthIssue {
  /** Stable, e.g. `evtx/corrupt-file`, `samba-audit/rotated-away`, `directory/bind-failed`. */
  readonly code: string;
  /** One sentence naming what and where (file and offset, server and error, …). */
  readonly message: string;
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

export interface SourceContext {
  /** Aborted when the sensor stops: a source returns promptly (its last chunk may be partial). */
  readonly signal: AbortSignal;
  /** The sensor's device name (DeviceName of rows it makes). */
  readonly deviceName: string;
  /** Reports a problem; the sensor keeps running this and the other sources. */
  health(issue: SourceHealthIssue): void;
  /** The problem with this code is over. */
  clearHealth(code: string): void;
}

export interface Source<C extends Checkpoint = Checkpoint> {
  /** Stable across restarts (checkpoints are kept under it), e.g. `samba-audit:/var/log/samba/audit.json`. */
  readonly id: string;
  /**
   * Reads from `from` (undefined: from the start or the source's default) and yields chunks until
   * the signal aborts, following new records as they appear. A chunk holds at most
   * `maxChunkRecords` records; a following source yields what it has at least every
   * `maxChunkDelayMs` when records trickle in. Errors on one record or file are reported through
   * `health` and skipped past; `run` only rejects when it cannot go on at all.
   */
  run(from: C | undefined, context: SourceContext): AsyncIterable<SourceChunk<C>>;
}

export const chunkLimits = { maxChunkRecords: 1_000, maxChunkDelayMs: 1_000 } as const;

/**
 * How the sensor sends its buffer: each chunk is one batch; up to `batchesPerRequest` buffered
 * batches (at most `recordsPerRequest` records in all) go in one request, acknowledged together.
 */
export const deliveryLimits = {
  recordsPerBatch: chunkLimits.maxChunkRecords,
  batchesPerRequest: 8,
  recordsPerRequest: 10_000,
} as const;
