// The behaviour every sensor source shares, run against each implementation: everything read,
// a resume from any chunk's checkpoint giving exactly the records after it, a prompt stop on
// abort, and a restart after new records giving only those.
import { describe, expect, it } from 'vitest';
import type { Checkpoint, Source, SourceChunk, SourceContext, SourceHealthIssue } from '../src/source.ts';

/** One set-up of a source over records it can read, made afresh for every test. */
export interface SourceCase<C extends Checkpoint> {
  readonly source: Source<C>;
  /** The identity of each record of a chunk (record id, line text…), in order. */
  identities(chunk: SourceChunk<C>): string[];
  /** The identities of every record there now, in order, from a reading independent of the source. */
  readonly expected: readonly string[];
  /** Adds records for the source to follow; returns their identities in order, read independently. */
  append(): Promise<readonly string[]>;
  /** How long to wait after the last expected record for one that should not come. */
  readonly settleMs: number;
  /** Removes what the case set up. */
  cleanup(): Promise<void>;
}

/** A context that records health issues and the codes cleared; `signal` is the given one. */
export function testContext(
  signal: AbortSignal,
): SourceContext & { issues: SourceHealthIssue[]; cleared: string[] } {
  const issues: SourceHealthIssue[] = [];
  const cleared: string[] = [];
  return {
    signal,
    deviceName: 'dc1.test.example',
    issues,
    cleared,
    health: (issue) => issues.push(issue),
    clearHealth: (code) => cleared.push(code),
  };
}

/** What one run gave, and the issues it reported. */
export interface Collected<C extends Checkpoint> {
  readonly chunks: SourceChunk<C>[];
  readonly identities: string[];
  readonly issues: SourceHealthIssue[];
}

/**
 * Runs `source` from `from` until `count` records came and then `settleMs` passed without the
 * run being stopped by a deadline (an error if the count is not reached within `timeoutMs`).
 */
export async function collect<C extends Checkpoint>(
  source: Source<C>,
  from: C | undefined,
  count: number,
  identities: (chunk: SourceChunk<C>) => string[],
  settleMs: number,
  timeoutMs = 20_000,
): Promise<Collected<C>> {
  const controller = new AbortController();
  const context = testContext(controller.signal);
  const chunks: SourceChunk<C>[] = [];
  const got: string[] = [];
  let settle: NodeJS.Timeout | undefined;
  const startSettle = () => {
    settle ??= setTimeout(() => controller.abort(), settleMs);
  };
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  if (count === 0) startSettle();
  try {
    for await (const chunk of source.run(from, context)) {
      chunks.push(chunk);
      got.push(...identities(chunk));
      if (got.length >= count) startSettle();
    }
  } finally {
    clearTimeout(deadline);
    clearTimeout(settle);
  }
  if (timedOut) throw new Error(`expected ${count} records within ${timeoutMs} ms, got ${got.length}`);
  return { chunks, identities: got, issues: context.issues };
}

/** A checkpoint as the delivery keeps it: written as JSON and read back. */
function persisted<C extends Checkpoint>(checkpoint: C): C {
  return JSON.parse(JSON.stringify(checkpoint)) as C;
}

/** Runs the shared behaviour against the source `make` sets up. */
export function describeSource<C extends Checkpoint>(
  name: string,
  make: () => Promise<SourceCase<C>>,
  skip?: string,
): void {
  describe.skipIf(skip !== undefined)(`${name} (Source conformance)`, () => {
    const withCase = (test: (c: SourceCase<C>) => Promise<void>) => async () => {
      const c = await make();
      try {
        await test(c);
      } finally {
        await c.cleanup();
      }
    };

    it(
      'reads every record once, in order, with no health issue',
      withCase(async (c) => {
        const all = await collect(c.source, undefined, c.expected.length, c.identities, c.settleMs);
        expect(all.identities).toEqual(c.expected);
        expect(all.issues).toEqual([]);
      }),
    );

    it(
      "resumes from every chunk's checkpoint with exactly the records after it",
      withCase(async (c) => {
        const all = await collect(c.source, undefined, c.expected.length, c.identities, c.settleMs);
        expect(all.chunks.length).toBeGreaterThan(1);
        let consumed = 0;
        for (const chunk of all.chunks) {
          consumed += c.identities(chunk).length;
          const rest = c.expected.slice(consumed);
          const resumed = await collect(
            c.source,
            persisted(chunk.checkpoint),
            rest.length,
            c.identities,
            c.settleMs,
          );
          expect(resumed.identities, `after ${consumed} records`).toEqual(rest);
        }
      }),
    );

    it(
      'returns promptly when aborted, while reading and while idle',
      withCase(async (c) => {
        /** Aborts once `enough` records came (after `wait` ms); returns the ms from abort to the end. */
        const stopTime = async (enough: number, wait: number): Promise<number> => {
          const controller = new AbortController();
          let abortedAt: number | undefined;
          const abort = () => {
            abortedAt ??= performance.now();
            controller.abort();
          };
          const fallback = setTimeout(abort, 10_000);
          let records = 0;
          for await (const chunk of c.source.run(undefined, testContext(controller.signal))) {
            records += c.identities(chunk).length;
            if (records >= enough) setTimeout(abort, wait);
          }
          clearTimeout(fallback);
          return performance.now() - (abortedAt ?? 0);
        };
        expect(await stopTime(1, 0), 'while reading').toBeLessThan(500);
        expect(await stopTime(c.expected.length, c.settleMs), 'while idle').toBeLessThan(500);
      }),
    );

    it(
      'after a restart, gives only the records added while it was stopped',
      withCase(async (c) => {
        const all = await collect(c.source, undefined, c.expected.length, c.identities, c.settleMs);
        const last = all.chunks.at(-1)?.checkpoint;
        expect(last).toBeDefined();
        const added = await c.append();
        expect(added.length).toBeGreaterThan(0);
        const resumed = await collect(c.source, persisted(last as C), added.length, c.identities, c.settleMs);
        expect(resumed.identities).toEqual(added);
      }),
    );

    it(
      'follows records added while it runs',
      withCase(async (c) => {
        const controller = new AbortController();
        const context = testContext(controller.signal);
        const got: string[] = [];
        let added: readonly string[] | undefined;
        const deadline = setTimeout(() => controller.abort(), 20_000);
        for await (const chunk of c.source.run(undefined, context)) {
          got.push(...c.identities(chunk));
          if (added === undefined && got.length >= c.expected.length) added = await c.append();
          if (added !== undefined && got.length >= c.expected.length + added.length)
            setTimeout(() => controller.abort(), c.settleMs);
        }
        clearTimeout(deadline);
        expect(got).toEqual([...c.expected, ...(added ?? [])]);
      }),
    );
  });
}
