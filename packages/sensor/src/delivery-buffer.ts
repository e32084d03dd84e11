// The sensor's on-disk delivery buffer: every chunk a source reads becomes one batch file (written
// to a temporary name, fsynced, renamed, directory fsynced) before anything is sent, and is deleted
// only after the server acknowledged it. The batch file also carries the source's checkpoint, so it
// is the one commit point: a restart resumes each source after its last buffered chunk.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableRow } from '@palisade/schema';
import type { Checkpoint, SourceChunk } from './source.ts';

/** A buffered batch as it is sent: the sensor's batch id, the source and its records. */
export interface BufferedBatch {
  /** Position in the buffer: batches are sent in this order. */
  readonly seq: number;
  /** Unique per batch file; a re-send after a lost acknowledgement carries the same id. */
  readonly batchId: string;
  readonly sourceId: string;
  readonly checkpoint: Checkpoint;
  readonly rows: readonly TableRow[];
  readonly events: readonly unknown[];
  /** When the chunk was buffered (ISO 8601). */
  readonly bufferedAt: string;
}

/** What the buffer holds, for heartbeats and `palisade sensor status`. */
export interface BufferStats {
  readonly batches: number;
  readonly bytes: number;
  readonly capacityBytes: number;
  /** The oldest batch's buffering time, when there is one. */
  readonly oldestBufferedAt?: string;
}

interface Entry {
  readonly seq: number;
  readonly records: number;
  readonly sourceId: string;
  readonly checkpoint: Checkpoint;
  readonly bytes: number;
  readonly bufferedAt: string;
}

const batchSuffix = '.batch.json';
const seqWidth = 12;

/**
 * The buffer in a folder of the sensor's directory: `batches/` (one file a batch),
 * `checkpoints/` (each source's position after its last acknowledged batch) and `refused/`
 * (batches the server refused as malformed, kept for inspection instead of being retried forever).
 */
export class DeliveryBuffer {
  readonly #dir: string;
  readonly #capacityBytes: number;
  /** Buffered batches by seq, in order. */
  readonly #entries = new Map<number, Entry>();
  /** Checkpoints of sources after their last acknowledged batch. */
  readonly #acknowledged = new Map<string, Checkpoint>();
  #nextSeq = 1;
  #bytes = 0;
  #waiters: (() => void)[] = [];

  private constructor(dir: string, capacityBytes: number) {
    this.#dir = dir;
    this.#capacityBytes = capacityBytes;
  }

  /** Opens (or creates) the buffer in `dir`, dropping temporary files a crash left behind. */
  static async open(dir: string, options: { readonly capacityBytes: number }): Promise<DeliveryBuffer> {
    const buffer = new DeliveryBuffer(dir, options.capacityBytes);
    for (const sub of ['batches', 'checkpoints', 'refused'])
      await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
    for (const name of (await readdir(join(dir, 'checkpoints'))).sort()) {
      if (!name.endsWith('.json')) continue;
      const saved = JSON.parse(await readFile(join(dir, 'checkpoints', name), 'utf8')) as {
        sourceId: string;
        checkpoint: Checkpoint;
      };
      buffer.#acknowledged.set(saved.sourceId, saved.checkpoint);
    }
    const names = (await readdir(join(dir, 'batches'))).sort();
    for (const name of names) {
      const path = join(dir, 'batches', name);
      // A crash between writing and renaming leaves a temporary file: it was never buffered.
      if (!name.endsWith(batchSuffix)) {
        await unlink(path);
        continue;
      }
      const batch = JSON.parse(await readFile(path, 'utf8')) as BufferedBatch;
      const { size } = await stat(path);
      buffer.#add({
        seq: batch.seq,
        records: batch.rows.length + batch.events.length,
        sourceId: batch.sourceId,
        checkpoint: batch.checkpoint,
        bytes: size,
        bufferedAt: batch.bufferedAt,
      });
      buffer.#nextSeq = Math.max(buffer.#nextSeq, batch.seq + 1);
    }
    return buffer;
  }

  /** Where `sourceId` resumes: after its last buffered batch, else after its last acknowledged one. */
  resumePoint(sourceId: string): Checkpoint | undefined {
    let last: Entry | undefined;
    for (const entry of this.#entries.values()) if (entry.sourceId === sourceId) last = entry;
    return last ? last.checkpoint : this.#acknowledged.get(sourceId);
  }

  /** True when the buffer holds its capacity or more: sources wait (`whenRoom`) before adding. */
  get full(): boolean {
    return this.#bytes >= this.#capacityBytes;
  }

  stats(): BufferStats {
    const first = this.#entries.values().next();
    return {
      batches: this.#entries.size,
      bytes: this.#bytes,
      capacityBytes: this.#capacityBytes,
      ...(first.done ? {} : { oldestBufferedAt: first.value.bufferedAt }),
    };
  }

  /** Writes a chunk as the next batch, durably; resolves once it survives a crash. */
  async put(sourceId: string, chunk: SourceChunk): Promise<BufferedBatch> {
    const seq = this.#nextSeq++;
    const batch: BufferedBatch = {
      seq,
      batchId: randomUUID(),
      sourceId,
      checkpoint: chunk.checkpoint,
      rows: chunk.rows,
      events: chunk.events,
      bufferedAt: new Date().toISOString(),
    };
    const text = JSON.stringify(batch);
    const name = `${String(seq).padStart(seqWidth, '0')}${batchSuffix}`;
    const bytes = await writeDurably(join(this.#dir, 'batches'), name, text);
    this.#add({
      seq,
      records: chunk.rows.length + chunk.events.length,
      sourceId,
      checkpoint: chunk.checkpoint,
      bytes,
      bufferedAt: batch.bufferedAt,
    });
    return batch;
  }

  /** The oldest buffered batch, read from its file; undefined when the buffer is empty. */
  async oldest(): Promise<BufferedBatch | undefined> {
    const first = this.#entries.values().next();
    if (first.done) return undefined;
    return JSON.parse(await readFile(this.#path(first.value.seq), 'utf8')) as BufferedBatch;
  }

  /**
   * The oldest buffered batches, in order: at most `limit` of them and `maxRecords` records in all
   * (always at least one when the buffer is not empty).
   */
  async oldestBatches(limit: number, maxRecords: number): Promise<BufferedBatch[]> {
    const picked: Entry[] = [];
    let records = 0;
    for (const entry of this.#entries.values()) {
      if (picked.length > 0 && (picked.length >= limit || records + entry.records > maxRecords)) break;
      picked.push(entry);
      records += entry.records;
    }
    return Promise.all(
      picked.map(async (entry) => JSON.parse(await readFile(this.#path(entry.seq), 'utf8')) as BufferedBatch),
    );
  }

  /** Resolves when a batch is added (or at once when there is one). */
  whenNotEmpty(signal: AbortSignal): Promise<void> {
    if (this.#entries.size > 0 || signal.aborted) return Promise.resolve();
    return this.#wait(signal);
  }

  /** Resolves when the buffer is below its capacity again. */
  async whenRoom(signal: AbortSignal): Promise<void> {
    while (this.full && !signal.aborted) await this.#wait(signal);
  }

  /**
   * The server acknowledged batch `seq`: its source's checkpoint is saved first, then the file
   * deleted, so a crash in between re-sends the batch (the server answers it as a duplicate).
   */
  async acknowledge(seq: number): Promise<void> {
    const entry = this.#entries.get(seq);
    if (!entry) return;
    await this.#saveCheckpoint(entry);
    await unlink(this.#path(seq));
    this.#remove(entry);
  }

  /**
   * The server refused batch `seq` for good (malformed): it moves to `refused/` and the source's
   * checkpoint moves past it, so one bad batch cannot hold up the rest. Returns the new path.
   */
  async refuse(seq: number): Promise<string> {
    const entry = this.#entries.get(seq);
    const target = join(this.#dir, 'refused', `${String(seq).padStart(seqWidth, '0')}${batchSuffix}`);
    if (!entry) return target;
    await this.#saveCheckpoint(entry);
    await rename(this.#path(seq), target);
    this.#remove(entry);
    return target;
  }

  async #saveCheckpoint(entry: Entry): Promise<void> {
    const name = `${createHash('sha256').update(entry.sourceId).digest('hex').slice(0, 24)}.json`;
    await writeDurably(
      join(this.#dir, 'checkpoints'),
      name,
      JSON.stringify({ sourceId: entry.sourceId, checkpoint: entry.checkpoint }),
    );
    this.#acknowledged.set(entry.sourceId, entry.checkpoint);
  }

  /** Deletes every buffered batch and checkpoint (a sensor registering anew starts clean). */
  async clear(): Promise<void> {
    await rm(this.#dir, { recursive: true, force: true });
    this.#entries.clear();
    this.#acknowledged.clear();
    this.#bytes = 0;
  }

  #path(seq: number): string {
    return join(this.#dir, 'batches', `${String(seq).padStart(seqWidth, '0')}${batchSuffix}`);
  }

  #add(entry: Entry): void {
    this.#entries.set(entry.seq, entry);
    this.#bytes += entry.bytes;
    this.#wake();
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.seq);
    this.#bytes -= entry.bytes;
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.#waiters.push(done);
    });
  }
}

/** Writes `name` in `dir` so that after a crash it holds either nothing or all of `text`. */
async function writeDurably(dir: string, name: string, text: string): Promise<number> {
  const temporary = join(dir, `.${name}.${process.pid}.tmp`);
  const data = Buffer.from(text, 'utf8');
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, join(dir, name));
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return data.length;
}
