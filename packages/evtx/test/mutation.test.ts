// Robustness property test: mutated corpus files (mutations.ts) never crash or hang the reader,
// every diagnostic and event is well formed, and untouched chunks keep their events. Replay with
// EVTX_FUZZ_SEED=<seed> and EVTX_FUZZ_COUNT=<n> (inputs 0..n-1) or EVTX_FUZZ_ONLY=<index>.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type EvtxDiagnostic,
  type EvtxEvent,
  evtxDiagnosticCodes,
  parseEvtx,
  readEvtx,
} from '../src/index.ts';
import { corpusFiles, corpusMissing } from './corpus.ts';
import { createRng, inputSeed, mutate } from './mutations.ts';
import { sampleFile } from './samples.ts';

const missing = corpusMissing();
if (missing) {
  if (process.env.CI) throw new Error(`mutation test cannot run in CI: ${missing}`);
  console.log(`skipping mutation test: ${missing}`);
}

const DEFAULT_SEED = 0x5eed_e7f0;
const seed = envInteger('EVTX_FUZZ_SEED') ?? DEFAULT_SEED;
const count = envInteger('EVTX_FUZZ_COUNT') ?? 10_000;
const only = envInteger('EVTX_FUZZ_ONLY');
/** A hang detector, not a speed target: an unmutated corpus file takes well under 100 ms. */
const TIME_LIMIT_MS = 2_000;
const BATCH = 1_000;
const STREAMED = 50;
const FILE_HEADER_SIZE = 4096;
const CHUNK_SIZE = 65536;

function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new Error(`${name}=${text}: expected an integer 0–2^32-1`);
  return n;
}

const knownCodes = new Set<string>(evtxDiagnosticCodes);
const iso = /^\d{4,5}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;

interface Base {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Events of the unmutated file, without XML. */
  events?: EvtxEvent[];
  /** Events in chunks before chunk k, by k. */
  readonly before: Map<number, number>;
}

const bases: Base[] = missing
  ? []
  : corpusFiles().map(([name, path]) => ({ name, bytes: readFileSync(path), before: new Map() }));
/** Every tenth input mutates the synthetic file, whose rarer tokens and value types the corpus lacks. */
const SYNTHETIC_EVERY = 10;
const synthetic: Base = { name: 'synthetic samples.ts', bytes: sampleFile(), before: new Map() };

// The unmutated file's own output is the reference for untouched chunks: a metamorphic
// property (corrupting chunk k must not change chunk j ≠ k), not a copy of the result under test.
function originalEvents(base: Base): EvtxEvent[] {
  base.events ??= parseEvtx(base.bytes).events;
  return base.events;
}

// A file cut after chunk k-1 keeps the same header, so its events are those of chunks < k.
function eventsBefore(base: Base, k: number): number {
  let n = base.before.get(k);
  if (n === undefined) {
    n = parseEvtx(base.bytes.subarray(0, FILE_HEADER_SIZE + k * CHUNK_SIZE)).events.length;
    base.before.set(k, n);
  }
  return n;
}

function withoutXml(events: readonly EvtxEvent[]): string {
  return JSON.stringify(events.map(({ xml: _, ...rest }) => rest));
}

/** Everything wrong with one result; empty when all invariants hold. */
function problems(bytes: Uint8Array, source: string, events: EvtxEvent[], diagnostics: EvtxDiagnostic[]) {
  const out: string[] = [];
  const chunks = Math.max(0, Math.ceil((bytes.length - FILE_HEADER_SIZE) / CHUNK_SIZE));
  for (const d of diagnostics) {
    const where = `diagnostic ${JSON.stringify(d)}`;
    if (!knownCodes.has(d.code)) out.push(`${where}: unknown code`);
    if (d.message.trim() === '') out.push(`${where}: empty message`);
    if (!['error', 'warning', 'info'].includes(d.severity)) out.push(`${where}: bad severity`);
    if (d.source !== source) out.push(`${where}: source is not ${source}`);
    if (!Number.isInteger(d.offset) || d.offset < 0 || d.offset > bytes.length)
      out.push(`${where}: offset outside [0, ${bytes.length}]`);
    if (d.chunk !== undefined && (!Number.isInteger(d.chunk) || d.chunk < 0 || d.chunk >= chunks))
      out.push(`${where}: chunk outside [0, ${chunks})`);
    if (d.recordId !== undefined && typeof d.recordId !== 'number')
      out.push(`${where}: recordId not a number`);
  }
  for (const e of events) {
    const where = `event ${e.recordId}`;
    if (typeof e.recordId !== 'number' || !Number.isFinite(e.recordId))
      out.push(`${where}: recordId not a number`);
    if (typeof e.system.eventId !== 'number' || Number.isNaN(e.system.eventId))
      out.push(`${where}: eventId ${String(e.system.eventId)} is not a number`);
    if (!iso.test(e.writtenTime)) out.push(`${where}: writtenTime ${e.writtenTime} is not ISO 8601`);
    for (const key of ['provider', 'channel', 'computer'] as const) {
      if (typeof e.system[key] !== 'string') out.push(`${where}: system.${key} is not a string`);
    }
  }
  return out;
}

interface Tally {
  inputs: number;
  events: number;
  diagnostics: Record<string, number>;
  kinds: Record<string, number>;
  maxMs: number;
  maxAt: string;
  totalMs: number;
  prefixChecks: number;
  suffixChecks: number;
}

const tally: Tally = {
  inputs: 0,
  events: 0,
  diagnostics: {},
  kinds: {},
  maxMs: 0,
  maxAt: '',
  totalMs: 0,
  prefixChecks: 0,
  suffixChecks: 0,
};

/** The mutated input `index` of this run and how it was made. */
function input(index: number) {
  const base =
    index % SYNTHETIC_EVERY === SYNTHETIC_EVERY - 1 ? synthetic : (bases[index % bases.length] as Base);
  const rng = createRng(inputSeed(seed, index));
  const donor = (r: typeof rng) => (bases[r.below(bases.length)] as Base).bytes;
  return { base, ...mutate(base.bytes, rng, donor) };
}

/** Runs one input; returns its failures, each naming how to replay it. */
function runOne(index: number): string[] {
  const { base, bytes, note, touched, kinds } = input(index);
  const label = `#${index} (EVTX_FUZZ_SEED=${seed} EVTX_FUZZ_ONLY=${index}) ${base.name}: ${note}`;
  const xml = index % 4 === 0;
  const started = performance.now();
  let result: ReturnType<typeof parseEvtx>;
  try {
    result = parseEvtx(bytes, { source: base.name, xml });
  } catch (e) {
    return [`${label}: threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`];
  }
  const ms = performance.now() - started;
  tally.inputs++;
  tally.totalMs += ms;
  if (ms > tally.maxMs) {
    tally.maxMs = ms;
    tally.maxAt = label;
  }
  tally.events += result.events.length;
  for (const d of result.diagnostics) tally.diagnostics[d.code] = (tally.diagnostics[d.code] ?? 0) + 1;
  for (const k of kinds) tally.kinds[k] = (tally.kinds[k] ?? 0) + 1;

  const found = problems(bytes, base.name, result.events, result.diagnostics);
  if (ms > TIME_LIMIT_MS) found.push(`took ${ms.toFixed(0)} ms, over the ${TIME_LIMIT_MS} ms bound`);
  if (result.summary.records !== result.events.length)
    found.push(`summary counts ${result.summary.records} records, ${result.events.length} returned`);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  if (result.summary.errors !== errors)
    found.push(`summary counts ${result.summary.errors} errors, ${errors} reported`);
  if (xml && result.events.some((e) => typeof e.xml !== 'string')) found.push('an event lacks its XML');

  // Parsing goes on with the next chunk: chunks wholly before the first touched byte (when the
  // file header is untouched) and, for same-length inputs, wholly after the last, are unchanged.
  const [lo, hi] = touched;
  if (lo >= FILE_HEADER_SIZE && hi > lo) {
    const original = originalEvents(base);
    const k = Math.floor((lo - FILE_HEADER_SIZE) / CHUNK_SIZE);
    const n = eventsBefore(base, k);
    if (n > 0) {
      tally.prefixChecks++;
      if (withoutXml(result.events.slice(0, n)) !== withoutXml(original.slice(0, n)))
        found.push(`events of chunks 0..${k - 1}, before the mutation, changed`);
    }
    const j = Math.ceil((hi - FILE_HEADER_SIZE) / CHUNK_SIZE);
    if (bytes.length === base.bytes.length && FILE_HEADER_SIZE + j * CHUNK_SIZE < bytes.length) {
      const after = original.length - eventsBefore(base, j);
      if (after > 0) {
        tally.suffixChecks++;
        if (withoutXml(result.events.slice(-after)) !== withoutXml(original.slice(-after)))
          found.push(`events of chunks ${j}.., after the mutation, changed`);
      }
    }
  }
  return found.map((f) => `${label}: ${f}`);
}

const indexes = only === undefined ? Array.from({ length: count }, (_, i) => i) : [only];
const batches: [string, number[]][] = [];
for (let i = 0; i < indexes.length; i += BATCH) {
  const part = indexes.slice(i, i + BATCH);
  batches.push([`inputs ${part[0]}–${part[part.length - 1]}`, part]);
}

describe.skipIf(missing !== undefined)(`mutated corpus files (seed ${seed})`, () => {
  it('has a corpus to mutate', () => {
    console.log(`mutation test: seed ${seed}, ${indexes.length} inputs from ${bases.length} corpus files`);
    expect(bases.length).toBeGreaterThan(400);
  });

  it.each(batches)('%s never throw, stay under the time bound and keep every invariant', (_name, part) => {
    const failures: string[] = [];
    for (const index of part) failures.push(...runOne(index));
    expect(failures).toEqual([]);
  });

  it('ran every input and checked untouched chunks', () => {
    const codes = Object.entries(tally.diagnostics)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code}=${n}`)
      .join(' ');
    console.log(
      `mutation summary: seed ${seed}, ${tally.inputs} inputs, ${tally.events} events, ` +
        `diagnostics ${codes}, kinds ${JSON.stringify(tally.kinds)}, ` +
        `untouched-chunk checks ${tally.prefixChecks} before + ${tally.suffixChecks} after, ` +
        `max ${tally.maxMs.toFixed(1)} ms/input (${tally.maxAt}), total ${(tally.totalMs / 1000).toFixed(1)} s`,
    );
    expect(tally.inputs).toBe(indexes.length);
    expect(tally.maxMs).toBeLessThan(TIME_LIMIT_MS);
    if (only === undefined && count >= 10_000) {
      expect(tally.inputs).toBeGreaterThanOrEqual(10_000);
      // Appended and spliced chunks make the property bite often; a collapse means a broken mutator.
      expect(tally.prefixChecks).toBeGreaterThan(count / 20);
    }
  });

  const dir = missing ? '' : mkdtempSync(join(tmpdir(), 'palisade-mutation-'));
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it(`streams ${STREAMED} mutated files through readEvtx like parseEvtx`, async () => {
    const failures: string[] = [];
    for (let n = 0; n < STREAMED; n++) {
      // Spread over the run so the streamed files come from different bases and mutations.
      const index = Math.floor((n * Math.max(1, count)) / STREAMED);
      const { base, bytes, note } = input(index);
      const path = join(dir, `${index}.evtx`);
      writeFileSync(path, bytes);
      const label = `#${index} ${base.name}: ${note}`;
      const streamed: EvtxEvent[] = [];
      const diagnostics: EvtxDiagnostic[] = [];
      try {
        for await (const event of readEvtx(path, { source: 'x', onDiagnostic: (d) => diagnostics.push(d) }))
          streamed.push(event);
      } catch (e) {
        failures.push(`${label}: readEvtx threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        continue;
      }
      const inMemory = parseEvtx(bytes, { source: 'x' });
      if (JSON.stringify(streamed) !== JSON.stringify(inMemory.events))
        failures.push(`${label}: streamed events differ from parseEvtx`);
      if (JSON.stringify(diagnostics) !== JSON.stringify(inMemory.diagnostics))
        failures.push(`${label}: streamed diagnostics differ from parseEvtx`);
    }
    expect(failures).toEqual([]);
  });
});
