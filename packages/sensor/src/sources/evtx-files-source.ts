// EVTX files and folders as a sensor source: new files in watched folders and new records of
// growing files, as raw events in the JSON form `palisade evtx dump` writes. The checkpoint keeps
// the last record id sent per file, so a restart neither re-sends nor skips a record.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type EvtxDiagnostic, type EvtxEvent, formatDiagnostic, readEvtxChunks } from '@palisade/evtx';
import { chunkLimits, type Source, type SourceChunk, type SourceContext } from '../source.ts';
import { probeEvtxFile } from './evtx-file-probe.ts';
import { messageOf, pause } from './line-tail.ts';

/** The last record id sent, by file path. */
export type EvtxFilesCheckpoint = { readonly files: { readonly [path: string]: number } };

export interface EvtxFilesSourceOptions {
  /** `.evtx` files, and folders searched (recursively) for them. */
  readonly paths: readonly string[];
  /** How often to look for new files and records; default 1 s. */
  readonly pollIntervalMs?: number;
  /** Most events per chunk; default {@link chunkLimits}.maxChunkRecords. */
  readonly maxChunkRecords?: number;
}

/** One event as `palisade evtx dump --format jsonl` writes it: the file, then the typed event. */
export type EvtxDumpEvent = { readonly file: string } & EvtxEvent;

/** The JSON form of an event read from `file`. */
export function dumpEvent(file: string, event: EvtxEvent): EvtxDumpEvent {
  return { file, ...event };
}

interface Seen {
  readonly size: number;
  readonly mtimeMs: number;
  /** Read since it last changed. */
  read: boolean;
}

/**
 * A source reading EVTX files and the `.evtx` files under folders, then following them: a new
 * or changed file is read once its size has stayed the same for one poll (so a file still being
 * copied is not read half-written), and only records past the file's checkpoint are sent.
 * Corrupt chunks and records are `evtx/corrupt-file` health issues naming file and offset; the
 * rest of the file is read.
 *
 * @example
 * const source = evtxFilesSource({ paths: ['C:\\Windows\\System32\\winevt\\Logs\\Archive'] });
 */
export function evtxFilesSource(options: EvtxFilesSourceOptions): Source<EvtxFilesCheckpoint> {
  const interval = options.pollIntervalMs ?? 1_000;
  const max = options.maxChunkRecords ?? chunkLimits.maxChunkRecords;
  return {
    id: `evtx-files:${options.paths.join(';')}`,
    async *run(from, context) {
      const positions = new Map<string, number>(Object.entries(from?.files ?? {}));
      const seen = new Map<string, Seen>();
      const reported = new Set<string>();
      while (!context.signal.aborted) {
        const files = await listEvtxFiles(options.paths, context);
        if (files.complete)
          for (const file of positions.keys()) if (!files.paths.has(file)) positions.delete(file);
        for (const file of files.paths) {
          if (context.signal.aborted) return;
          let size: number;
          let mtimeMs: number;
          try {
            ({ size, mtimeMs } = await stat(file));
          } catch {
            continue;
          }
          const before = seen.get(file);
          if (!before || before.size !== size || before.mtimeMs !== mtimeMs) {
            seen.set(file, { size, mtimeMs, read: false });
            continue;
          }
          if (before.read) continue;
          yield* readNewRecords(file, positions, context, reported, max);
          before.read = true;
        }
        await pause(interval, context.signal);
      }
    },
  };
}

/** The `.evtx` files the configured paths name, sorted; `complete` when every path could be listed. */
async function listEvtxFiles(
  paths: readonly string[],
  context: SourceContext,
): Promise<{ paths: Set<string>; complete: boolean }> {
  const found: string[] = [];
  const missing: string[] = [];
  for (const path of paths) {
    try {
      const s = await stat(path);
      if (s.isDirectory()) {
        const names = await readdir(path, { recursive: true });
        for (const name of names) if (name.toLowerCase().endsWith('.evtx')) found.push(join(path, name));
      } else found.push(path);
    } catch (e) {
      missing.push(`${path} (${messageOf(e)})`);
    }
  }
  if (missing.length === 0) context.clearHealth('evtx/path-missing');
  else
    context.health({
      code: 'evtx/path-missing',
      message: `cannot read ${missing.join(', ')}; waiting for ${missing.length === 1 ? 'it' : 'them'}`,
      details: { paths: missing.join('; ') },
    });
  return { paths: new Set(found.sort()), complete: missing.length === 0 };
}

/**
 * Sends the records of `file` past its position, in record id order, in chunks; each chunk's
 * checkpoint holds every file's position after it.
 */
async function* readNewRecords(
  file: string,
  positions: Map<string, number>,
  context: SourceContext,
  reported: Set<string>,
  max: number,
): AsyncGenerator<SourceChunk<EvtxFilesCheckpoint>> {
  const checkpoint = (): EvtxFilesCheckpoint => ({ files: Object.fromEntries(positions) });
  let last = positions.get(file) ?? 0;
  let wrapped: boolean;
  try {
    const probe = await probeEvtxFile(file);
    const newest = probe.nextRecordId === undefined ? undefined : probe.nextRecordId - 1;
    if (newest !== undefined && !probe.dirty && newest < last) {
      context.health({
        code: 'evtx/file-replaced',
        message: `${file} now ends at record ${newest}, before record ${last} already sent: it was replaced; reading it from its start`,
        details: { file, newest, sent: last },
      });
      last = 0;
    } else if (newest !== undefined && !probe.dirty && newest === last) return;
    wrapped = probe.wrapped;
  } catch (e) {
    report(context, reported, file, `cannot read ${file}: ${messageOf(e)}`, 'evtx/unreadable-file', 0);
    return;
  }
  const onDiagnostic = (d: EvtxDiagnostic) => {
    if (d.severity === 'error')
      report(context, reported, file, formatDiagnostic(d), 'evtx/corrupt-file', d.offset);
  };
  let pending: EvtxDumpEvent[] = [];
  const take = (count: number): SourceChunk<EvtxFilesCheckpoint> => {
    const events = pending.slice(0, count);
    pending = pending.slice(count);
    const end = events[events.length - 1];
    if (end) positions.set(file, end.recordId);
    return { rows: [], events, checkpoint: checkpoint() };
  };
  try {
    for await (const events of readEvtxChunks(file, { onDiagnostic })) {
      for (const event of events) {
        // A record id at or below the last one is a stale copy (or, in a wrapped log, read below).
        if (event.recordId <= last) continue;
        if (!wrapped) last = event.recordId;
        pending.push(dumpEvent(file, event));
      }
      if (!wrapped) while (pending.length >= max && !context.signal.aborted) yield take(max);
      if (context.signal.aborted) return;
    }
  } catch (e) {
    report(context, reported, file, `cannot read ${file}: ${messageOf(e)}`, 'evtx/unreadable-file', 0);
  }
  // A full circular log holds its newest chunks before its oldest: send in record id order.
  if (wrapped) pending = sortedUnique(pending);
  while (pending.length > 0 && !context.signal.aborted) yield take(max);
}

function sortedUnique(events: EvtxDumpEvent[]): EvtxDumpEvent[] {
  const sorted = events.sort((a, b) => a.recordId - b.recordId);
  return sorted.filter((e, i) => i === 0 || e.recordId !== sorted[i - 1]?.recordId);
}

/** Reports a problem with a file once per run (a changed file is read again). */
function report(
  context: SourceContext,
  reported: Set<string>,
  file: string,
  message: string,
  code: 'evtx/corrupt-file' | 'evtx/unreadable-file',
  offset: number,
): void {
  const key = `${code}|${file}|${offset}|${message}`;
  if (reported.has(key)) return;
  reported.add(key);
  context.health({ code, message, details: { file, offset } });
}
