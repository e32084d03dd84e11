// The log follower on real files in a temporary folder: partial lines, a file that appears late,
// rotation and truncation while running and while stopped, resuming from checkpoints.
import {
  appendFileSync,
  mkdtempSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type LineTailCheckpoint,
  type TailBatch,
  type TailEvent,
  type TailLine,
  tailLines,
} from './line-tail.ts';

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'line-tail-'));
  log = join(dir, 'audit.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Follows `path` in the background, keeping what it gives. */
function follow(path: string, from?: LineTailCheckpoint) {
  const controller = new AbortController();
  const lines: TailLine[] = [];
  const events: TailEvent[] = [];
  const batches: TailBatch[] = [];
  const done = (async () => {
    const options = {
      signal: controller.signal,
      pollIntervalMs: 10,
      onEvent: (e: TailEvent) => events.push(e),
    };
    for await (const batch of tailLines(path, from, options)) {
      batches.push(batch);
      lines.push(...batch.lines);
    }
  })();
  return {
    lines,
    events,
    batches,
    texts: () => lines.map((l) => l.text),
    /** The last checkpoint given. */
    checkpoint: () => batches.at(-1)?.checkpoint,
    async until(done: () => boolean, what: string): Promise<void> {
      const end = Date.now() + 5_000;
      while (!done()) {
        if (Date.now() > end)
          throw new Error(
            `timed out waiting for ${what}; lines: ${JSON.stringify(lines.map((l) => l.text))}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    /** Waits a few polls, then stops. */
    async stop(): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 60));
      controller.abort();
      await done;
    },
  };
}

describe('tailLines', () => {
  it('gives complete lines with their byte offsets and holds a partial last line until its newline', async () => {
    writeFileSync(log, 'first\r\nsecond é\nthi');
    const f = follow(log);
    await f.until(() => f.lines.length >= 2, 'two lines');
    expect(f.lines).toEqual([
      { text: 'first', offset: 0, file: log },
      { text: 'second é', offset: 7, file: log },
    ]);
    expect(f.checkpoint()?.offset).toBe(17);
    appendFileSync(log, 'rd\n');
    await f.until(() => f.lines.length >= 3, 'the completed line');
    await f.stop();
    expect(f.lines[2]).toEqual({ text: 'third', offset: 17, file: log });
    expect(f.checkpoint()?.offset).toBe(23);
  });

  it('waits for a file that does not exist yet', async () => {
    const f = follow(log);
    await f.until(() => f.events.length > 0, 'the missing event');
    writeFileSync(log, 'a\nb\n');
    await f.until(() => f.lines.length >= 2, 'the lines');
    await f.stop();
    expect(f.texts()).toEqual(['a', 'b']);
    expect(f.events).toEqual([
      { kind: 'missing', path: log },
      { kind: 'found', path: log },
    ]);
  });

  it('finishes a rotated file by its descriptor, then reads the new file from its start', async () => {
    writeFileSync(log, '1\n2\n');
    const f = follow(log);
    await f.until(() => f.lines.length >= 2, 'the first lines');
    renameSync(log, `${log}.1`);
    // The writer still holds the old file until it reopens its log.
    appendFileSync(`${log}.1`, '3\n');
    writeFileSync(log, '4\n5\n');
    await f.until(() => f.lines.length >= 5, 'all lines');
    await f.stop();
    expect(f.lines.map((l) => [l.text, l.file])).toEqual([
      ['1', log],
      ['2', log],
      ['3', log],
      ['4', log],
      ['5', log],
    ]);
    expect(f.events).toEqual([{ kind: 'rotated', path: log, rotatedTo: `${log}.1` }]);
    // The switch was kept as a position on its own: the new file at 0.
    expect(f.batches.some((b) => b.lines.length === 0 && b.checkpoint.offset === 0)).toBe(true);
  });

  it('starts a file truncated under it again from its start, and says so', async () => {
    writeFileSync(log, 'old 1\nold 2\n');
    const f = follow(log);
    await f.until(() => f.lines.length >= 2, 'the old lines');
    truncateSync(log, 0);
    appendFileSync(log, 'new\n');
    await f.until(() => f.lines.length >= 3, 'the new line');
    await f.stop();
    expect(f.texts()).toEqual(['old 1', 'old 2', 'new']);
    expect(f.lines[2]?.offset).toBe(0);
    expect(f.events).toEqual([{ kind: 'truncated', path: log, size: 4, offset: 12 }]);
  });

  it('resumes from a checkpoint with only the lines after it', async () => {
    writeFileSync(log, 'a\nb\n');
    const first = follow(log);
    await first.until(() => first.lines.length >= 2, 'the lines');
    await first.stop();
    appendFileSync(log, 'c\nd\n');
    const second = follow(log, first.checkpoint());
    await second.until(() => second.lines.length >= 2, 'the new lines');
    await second.stop();
    expect(second.texts()).toEqual(['c', 'd']);
    expect(second.events).toEqual([]);
  });

  it('after a rotation while stopped, finishes the old file under its new name, then the new file', async () => {
    writeFileSync(log, 'a\n');
    const first = follow(log);
    await first.until(() => first.lines.length >= 1, 'the line');
    await first.stop();
    appendFileSync(log, 'b\n');
    renameSync(log, `${log}-20261122`);
    writeFileSync(log, 'c\n');
    const second = follow(log, first.checkpoint());
    await second.until(() => second.lines.length >= 2, 'the lines');
    await second.stop();
    expect(second.lines.map((l) => [l.text, l.file])).toEqual([
      ['b', `${log}-20261122`],
      ['c', log],
    ]);
  });

  it('after a rotation while stopped with the old file gone, says records may be missing', async () => {
    writeFileSync(log, 'a\n');
    const first = follow(log);
    await first.until(() => first.lines.length >= 1, 'the line');
    await first.stop();
    appendFileSync(log, 'lost\n');
    renameSync(log, `${log}.1`);
    unlinkSync(`${log}.1`);
    writeFileSync(log, 'c\n');
    const second = follow(log, first.checkpoint());
    await second.until(() => second.lines.length >= 1, 'the new line');
    await second.stop();
    expect(second.texts()).toEqual(['c']);
    expect(second.events).toEqual([{ kind: 'rotated-away', path: log, offset: 2 }]);
  });

  it('after a truncation or a rewrite in place while stopped, starts over and says so', async () => {
    writeFileSync(log, 'aaaa\nbbbb\n');
    const first = follow(log);
    await first.until(() => first.lines.length >= 2, 'the lines');
    await first.stop();
    // Rewritten in place (same inode), longer than the position: only the first bytes tell.
    writeFileSync(log, 'xxxx\nyyyy\nzzzz\n');
    const second = follow(log, first.checkpoint());
    await second.until(() => second.lines.length >= 3, 'the rewritten lines');
    await second.stop();
    expect(second.texts()).toEqual(['xxxx', 'yyyy', 'zzzz']);
    expect(second.events).toEqual([{ kind: 'truncated', path: log, size: 15, offset: 10 }]);
    truncateSync(log, 3);
    const third = follow(log, second.checkpoint());
    await third.until(() => third.events.length >= 1, 'the truncation');
    await third.stop();
    expect(third.events).toEqual([{ kind: 'truncated', path: log, size: 3, offset: 15 }]);
  });

  it('splits many lines into batches of at most maxLines, each with the offset after its last line', async () => {
    const text = Array.from({ length: 25 }, (_, i) => `line ${i}\n`).join('');
    writeFileSync(log, text);
    const controller = new AbortController();
    const batches: TailBatch[] = [];
    for await (const batch of tailLines(log, undefined, { signal: controller.signal, maxLines: 10 })) {
      batches.push(batch);
      if (batches.flatMap((b) => b.lines).length >= 25) controller.abort();
    }
    expect(batches.map((b) => b.lines.length)).toEqual([10, 10, 5]);
    expect(batches.map((b) => b.checkpoint.offset)).toEqual([
      Buffer.byteLength(text.split('\n').slice(0, 10).join('\n')) + 1,
      Buffer.byteLength(text.split('\n').slice(0, 20).join('\n')) + 1,
      Buffer.byteLength(text),
    ]);
  });
});
