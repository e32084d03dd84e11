// One open database file per process. DuckDB's own lock is a POSIX lock, which is per process: a
// worker thread can open the same file again, and when it closes, the process loses its lock
// (storage-notes §1). An owner file beside the database, created exclusively and naming the
// process and thread, refuses a second open anywhere in the process.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { StoreError } from './store-error.ts';

interface Owner {
  readonly pid: number;
  readonly threadId: number;
  /** The process's start time in clock ticks (Linux), so a reused pid is not taken for the owner. */
  readonly started: string | null;
}

/** The start time of a process from /proc/<pid>/stat (field 22), or null where there is no /proc. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isRunning(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but is not ours to signal.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return owner.started === null || startTime(owner.pid) === owner.started;
}

function readOwner(path: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

/**
 * Claims `path` (the database file plus `.owner`) for this thread, or throws `store/already-open`
 * naming who has it. An owner file left by a process that is gone is taken over.
 */
export function claimOwnerFile(path: string, what: string): void {
  const me: Owner = { pid: process.pid, threadId, started: startTime(process.pid) };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(path);
    if (owner?.pid === process.pid) {
      throw new StoreError(
        'store/already-open',
        `${what} is already open in this process (thread ${owner.threadId}); open one store per file per process and share it`,
      );
    }
    if (owner !== undefined && isRunning(owner)) {
      throw new StoreError('store/already-open', `${what} is open in process ${owner.pid}`);
    }
    // Left by a process that is gone (or unreadable: it died while writing it).
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new StoreError('store/already-open', `${what}: could not claim ${path}`);
}

/** Releases a claim made by this thread (leaves another's file alone). */
export function releaseOwnerFile(path: string): void {
  const owner = readOwner(path);
  if (owner?.pid === process.pid && owner.threadId === threadId) unlinkSync(path);
}
