// The sensor's on-disk delivery buffer: every chunk a source reads becomes one batch file (written
// to a temporary name, fsynced, renamed, directory fsynced) before anything is sent, and is deleted
// only after the server acknowledged it. The batch file also carries the source's checkpoint, so it
// is the one commit point: a restart resumes each source after its last buffered chunk. A file is
// two lines: what the sensor keeps (seq, source, checkpoint, …) and the batch exactly as it is sent,
// so delivery puts the second line into the request as it is, without parsing it again.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checkpoint, SourceChunk } from './source.ts';

/** A buffered batch: what the sensor keeps of it, and the batch as it is sent. */
export interface BufferedBatch {
  /** Position in the buffer: batches are sent in this order. */
  readonly seq: number;
  /** Unique per batch file; a re-send after a lost acknowledgement carries the same id. */
  readonly batchId: string;
  readonly sourceId: string;
  readonly checkpoint: Checkpoint;
  /** Rows and events in the batch. */
  readonly records: number;
  /** When the chunk was buffered (ISO 8601). */
  readonly bufferedAt: string;
  /** `{ batchId, rows, events }` as JSON text: the batch as the server takes it. */
  readonly body: string;
}

/** The first line of a batch file. */
type BatchHead = Omit<BufferedBatch, 'body'>;

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
/** Bytes of freshly put batches also kept in memory for delivery. */
const cachedBytes = 32 * 1_048_576;
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
  /**
   * Batches put since the start, kept in memory too (up to `cachedBytes`): delivery sends them
   * without reading their files back. The files stay the record; a restart reads them.
   */
  readonly #cached = new Map<number, BufferedBatch>();
  #cachedBytes = 0;
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
      const batch = await readBatchFile(path);
      const { size } = await stat(path);
      buffer.#add({
        seq: batch.seq,
        records: batch.records,
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
    const head: BatchHead = {
      seq,
      batchId: randomUUID(),
      sourceId,
      checkpoint: chunk.checkpoint,
      records: chunk.rows.length + chunk.events.length,
      bufferedAt: new Date().toISOString(),
    };
    const body = JSON.stringify({ batchId: head.batchId, rows: chunk.rows, events: chunk.events });
    const name = `${String(seq).padStart(seqWidth, '0')}${batchSuffix}`;
    const bytes = await writeDurably(join(this.#dir, 'batches'), name, `${JSON.stringify(head)}\n${body}`);
    this.#add({
      seq,
      records: head.records,
      sourceId,
      checkpoint: chunk.checkpoint,
      bytes,
      bufferedAt: head.bufferedAt,
    });
    const batch = { ...head, body };
    if (this.#cachedBytes + bytes <= cachedBytes) {
      this.#cached.set(seq, batch);
      this.#cachedBytes += bytes;
    }
    return batch;
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
      picked.map((entry) => this.#cached.get(entry.seq) ?? readBatchFile(this.#path(entry.seq))),
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
    this.#cached.clear();
    this.#cachedBytes = 0;
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
    if (this.#cached.delete(entry.seq)) this.#cachedBytes -= entry.bytes;
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

/** A batch file: its first line parsed, the rest (the batch as sent) kept as text. */
async function readBatchFile(path: string): Promise<BufferedBatch> {
  const text = await readFile(path, 'utf8');
  const newline = text.indexOf('\n');
  return { ...(JSON.parse(text.slice(0, newline)) as BatchHead), body: text.slice(newline + 1) };
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
