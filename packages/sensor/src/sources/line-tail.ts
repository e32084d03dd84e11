// Follows an appended-to text log by polling: complete lines with their byte offsets and a
// resumable position (device + inode + a hash of the first bytes + the next line's offset), across
// rotation, truncation and restarts. Generic: the Samba audit and Linux audit sources build on it.
import { createHash } from 'node:crypto';
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where to resume a followed file: which file it was and the offset of its next unread line. */
export type LineTailCheckpoint = {
  readonly dev: string;
  readonly ino: string;
  /** Birth time in ns where the file system keeps it (else 0): tells a reused inode apart. */
  readonly born: string;
  /** Bytes hashed for `head` (the file's first bytes, at most {@link headBytes}). */
  readonly headLength: number;
  /** SHA-256 (hex) of the file's first `headLength` bytes: tells a reused inode from the same file. */
  readonly head: string;
  /** Byte offset of the first line not yet handed out. */
  readonly offset: number;
};

/** One complete line, without its `\n` (and without a `\r` before it). */
export interface TailLine {
  readonly text: string;
  /** Byte offset of the line's first byte in its file. */
  readonly offset: number;
  /** The path the line was read from: the followed path, or the name a rotated file has now. */
  readonly file: string;
}

/** Lines read together, and where to resume after the last of them. */
export interface TailBatch {
  readonly lines: readonly TailLine[];
  readonly checkpoint: LineTailCheckpoint;
}

/** What happened to the followed file, for the source to report as health. */
export type TailEvent =
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'found'; readonly path: string }
  | { readonly kind: 'unreadable'; readonly path: string; readonly message: string }
  | { readonly kind: 'truncated'; readonly path: string; readonly size: number; readonly offset: number }
  | { readonly kind: 'rotated'; readonly path: string; readonly rotatedTo: string | undefined }
  | { readonly kind: 'rotated-away'; readonly path: string; readonly offset: number }
  | {
      readonly kind: 'incomplete-line';
      readonly path: string;
      readonly offset: number;
      readonly bytes: number;
    }
  | { readonly kind: 'long-line'; readonly path: string; readonly offset: number; readonly bytes: number };

export interface LineTailOptions {
  readonly signal: AbortSignal;
  /** How often to look for new lines; default 250 ms. */
  readonly pollIntervalMs?: number;
  /** Most lines per batch; default 1,000. */
  readonly maxLines?: number;
  /** Longest line kept; a longer one is skipped and reported. Default 16 MiB. */
  readonly maxLineBytes?: number;
  readonly onEvent?: (event: TailEvent) => void;
}

/** Bytes of a file's start that identify it beside its device and inode. */
export const headBytes = 1024;
const readSize = 1 << 20;

interface Identity {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly born: bigint;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.born === b.born;
}

function identityOfCheckpoint(c: LineTailCheckpoint): Identity {
  return { dev: BigInt(c.dev), ino: BigInt(c.ino), born: BigInt(c.born) };
}

/** The file being read: its descriptor, identity and the state of its partial last line. */
interface OpenFile {
  readonly handle: FileHandle;
  readonly identity: Identity;
  /** Where the lines came from (changes when a rotated file is found by its new name). */
  name: string;
  headLength: number;
  head: string;
  /** Next byte to read. */
  readPos: number;
  /** Offset of the next line to hand out (the start of `carry`). */
  lineStart: number;
  /** Bytes read after the last newline: the start of an incomplete line. */
  carry: Buffer[];
  carryBytes: number;
  /** Skipping the rest of an over-long line up to its newline. */
  skipping: boolean;
  /** The followed path now names another file (or none): finish this one, then switch. */
  rotated: boolean;
}

/**
 * Follows the text file at `path` from `from` (undefined: from its start), yielding batches of
 * complete lines until the signal aborts. A partial last line waits for its newline. A file
 * renamed away is finished through its open descriptor before the new file is read from its
 * start; a file shorter than the position is read again from its start; a file not there yet is
 * waited for. Each of these is told to `onEvent`.
 *
 * @example
 * for await (const { lines, checkpoint } of tailLines('/var/log/audit/audit.log', saved, { signal }))
 *   handle(lines, checkpoint);
 */
export async function* tailLines(
  path: string,
  from: LineTailCheckpoint | undefined,
  options: LineTailOptions,
): AsyncGenerator<TailBatch> {
  const { signal } = options;
  const interval = options.pollIntervalMs ?? 250;
  const maxLines = options.maxLines ?? 1_000;
  const maxLineBytes = options.maxLineBytes ?? 16 << 20;
  const emit = (event: TailEvent) => options.onEvent?.(event);
  const block = Buffer.allocUnsafe(readSize);
  let file: OpenFile | undefined;
  let missingReported = false;
  try {
    if (from) file = await resume(path, from, emit);
    while (!signal.aborted) {
      if (!file) {
        file = await openAt(path, 0, emit);
        if (!file) {
          if (!missingReported) emit({ kind: 'missing', path });
          missingReported = true;
        } else if (missingReported) {
          emit({ kind: 'found', path });
          missingReported = false;
        }
      }
      if (file) {
        const current = file;
        // Look at the path before draining the descriptor: lines written to the old file up to
        // the rename are then read before the switch.
        const named = await identityOf(path);
        await checkTruncation(current, emit);
        const lines: TailLine[] = [];
        let grew = false;
        for (;;) {
          const got = await readMore(current, block, lines, maxLineBytes, emit);
          grew ||= got > 0;
          while (lines.length >= maxLines && !signal.aborted)
            yield batch(current, lines.splice(0, maxLines), lines);
          if (got < readSize || signal.aborted) break;
        }
        if (signal.aborted) break;
        if (lines.length > 0) yield batch(current, lines, []);
        const moved = named === undefined || !sameIdentity(named, current.identity);
        if (moved && current.rotated && !grew) {
          // The old file was quiet for a whole interval after the rename: its writer has moved on.
          if (current.carryBytes > 0)
            emit({
              kind: 'incomplete-line',
              path: current.name,
              offset: offsetOf(current),
              bytes: current.carryBytes,
            });
          await current.handle.close();
          file = undefined;
          const next = named === undefined ? undefined : await openAt(path, 0, emit);
          if (next) {
            file = next;
            yield { lines: [], checkpoint: checkpointOf(next) };
          }
          continue;
        }
        if (moved && !current.rotated) {
          current.rotated = true;
          emit({ kind: 'rotated', path, rotatedTo: await findByIdentity(path, current.identity) });
        }
      }
      await pause(interval, signal);
    }
  } finally {
    await file?.handle.close();
  }
}

function batch(file: OpenFile, lines: TailLine[], rest: readonly TailLine[]): TailBatch {
  // The checkpoint is the start of the first line not in this batch (or the carry).
  const next = rest[0]?.offset ?? offsetOf(file);
  return { lines, checkpoint: { ...checkpointOf(file), offset: next } };
}

function offsetOf(file: OpenFile): number {
  return file.lineStart;
}

function checkpointOf(file: OpenFile): LineTailCheckpoint {
  return {
    dev: file.identity.dev.toString(),
    ino: file.identity.ino.toString(),
    born: file.identity.born.toString(),
    headLength: file.headLength,
    head: file.head,
    offset: offsetOf(file),
  };
}

async function identityOf(path: string): Promise<Identity | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return s.isFile() ? { dev: s.dev, ino: s.ino, born: s.birthtimeNs } : undefined;
  } catch {
    return undefined;
  }
}

async function hashHead(handle: FileHandle, length: number): Promise<string> {
  const bytes = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return createHash('sha256').update(bytes.subarray(0, done)).digest('hex');
}

/** Opens `path` to read from `offset`; undefined when it is not there or cannot be read. */
async function openAt(
  path: string,
  offset: number,
  emit: (e: TailEvent) => void,
): Promise<OpenFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if (!isMissing(e)) emit({ kind: 'unreadable', path, message: messageOf(e) });
    return undefined;
  }
  const s = await handle.stat({ bigint: true });
  const headLength = Math.min(Number(s.size), headBytes);
  return {
    handle,
    identity: { dev: s.dev, ino: s.ino, born: s.birthtimeNs },
    name: path,
    headLength,
    head: await hashHead(handle, headLength),
    readPos: offset,
    lineStart: offset,
    carry: [],
    carryBytes: 0,
    skipping: false,
    rotated: false,
  };
}

/** Whether the open file starts with the bytes a checkpoint names. */
async function sameHead(file: OpenFile, from: LineTailCheckpoint): Promise<boolean> {
  return (await hashHead(file.handle, from.headLength)) === from.head;
}

/**
 * Finds the file a checkpoint names: at the path (truncated when shorter than the offset or
 * rewritten in place), else under a rotated name beside it (finished before the path is read from
 * its start); gone is reported as `rotated-away`.
 */
async function resume(
  path: string,
  from: LineTailCheckpoint,
  emit: (e: TailEvent) => void,
): Promise<OpenFile | undefined> {
  const identity = identityOfCheckpoint(from);
  const current = await openAt(path, from.offset, emit);
  if (current && sameIdentity(current.identity, identity)) {
    const size = Number((await current.handle.stat()).size);
    if (size >= from.offset && (await sameHead(current, from))) {
      await refreshHead(current);
      return current;
    }
    emit({ kind: 'truncated', path, size, offset: from.offset });
    current.readPos = 0;
    current.lineStart = 0;
    return current;
  }
  await current?.handle.close();
  const rotatedName = await findByIdentity(path, identity);
  if (rotatedName !== undefined) {
    const old = await openAt(rotatedName, from.offset, emit);
    const size = old ? Number((await old.handle.stat()).size) : 0;
    if (old && sameIdentity(old.identity, identity) && size >= from.offset && (await sameHead(old, from))) {
      emit({ kind: 'rotated', path, rotatedTo: rotatedName });
      old.rotated = true;
      return old;
    }
    await old?.handle.close();
  }
  emit({ kind: 'rotated-away', path, offset: from.offset });
  return undefined;
}

/**
 * The name of the file with this identity beside `path` whose name starts with the path's name
 * (`audit.log.1`, `audit.log-20260101`), where rotation moves it.
 */
async function findByIdentity(path: string, identity: Identity): Promise<string | undefined> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names.sort()) {
    if (name === base || !name.startsWith(base)) continue;
    const candidate = join(dir, name);
    const id = await identityOf(candidate);
    if (id && sameIdentity(id, identity)) return candidate;
  }
  return undefined;
}

/** Extends the head hash while the file is shorter than {@link headBytes}. */
async function refreshHead(file: OpenFile): Promise<void> {
  if (file.headLength >= headBytes) return;
  const size = Number((await file.handle.stat()).size);
  const length = Math.min(size, headBytes);
  if (length === file.headLength) return;
  file.head = await hashHead(file.handle, length);
  file.headLength = length;
}

/**
 * Detects a file truncated under the descriptor (shorter than what was read, or its first bytes
 * rewritten) and starts it over.
 */
async function checkTruncation(file: OpenFile, emit: (e: TailEvent) => void): Promise<void> {
  const size = Number((await file.handle.stat()).size);
  if (size === file.readPos) return;
  const rewritten =
    size < file.readPos ||
    (file.headLength > 0 && (await hashHead(file.handle, file.headLength)) !== file.head);
  if (rewritten) {
    emit({ kind: 'truncated', path: file.name, size, offset: offsetOf(file) });
    file.readPos = 0;
    file.lineStart = 0;
    file.carry = [];
    file.carryBytes = 0;
    file.skipping = false;
    file.headLength = 0;
  }
  await refreshHead(file);
}

/** Reads the next block into `block`, appends its complete lines to `lines`; returns the bytes read. */
async function readMore(
  file: OpenFile,
  block: Buffer,
  lines: TailLine[],
  maxLineBytes: number,
  emit: (e: TailEvent) => void,
): Promise<number> {
  const { bytesRead } = await file.handle.read(block, 0, readSize, file.readPos);
  if (bytesRead === 0) return 0;
  const bytes = block.subarray(0, bytesRead);
  let start = 0;
  for (let nl = bytes.indexOf(10); nl >= 0; nl = bytes.indexOf(10, start)) {
    if (file.skipping) file.skipping = false;
    else {
      const piece = bytes.subarray(start, nl);
      const whole = file.carryBytes > 0 ? Buffer.concat([...file.carry, piece]) : piece;
      const end = whole.length > 0 && whole[whole.length - 1] === 13 ? whole.length - 1 : whole.length;
      lines.push({ text: whole.toString('utf8', 0, end), offset: file.lineStart, file: file.name });
    }
    file.carry = [];
    file.carryBytes = 0;
    start = nl + 1;
    file.lineStart = file.readPos + start;
  }
  if (start < bytes.length && !file.skipping) {
    // Copied: the block buffer is not kept.
    file.carry.push(Buffer.from(bytes.subarray(start)));
    file.carryBytes += bytes.length - start;
    if (file.carryBytes > maxLineBytes) {
      // Skipped up to its newline; the position stays before it, so a resume skips it again.
      emit({ kind: 'long-line', path: file.name, offset: file.lineStart, bytes: file.carryBytes });
      file.carry = [];
      file.carryBytes = 0;
      file.skipping = true;
    }
  }
  file.readPos += bytesRead;
  return bytesRead;
}

/** Waits `ms`, returning early (without throwing) when the signal aborts. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch (e) {
    if (!signal.aborted) throw e;
  }
}

function isMissing(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && (e.code === 'ENOENT' || e.code === 'ENOTDIR');
}

/** The message of a caught error. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
