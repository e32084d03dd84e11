// Mutations of real EVTX files for the robustness property test: a seeded PRNG and a registry of
// mutators (bit flips, overwrites, truncation, zeroing, chunk splices and swaps, hot header and
// BinXML fields, absurd sizes). Each returns the new bytes, a description and the range it touched.

const FILE_HEADER_SIZE = 4096;
const CHUNK_SIZE = 65536;
const CHUNK_HEADER_SIZE = 512;

/** A small deterministic generator: xorshift32 (Marsaglia 2003, shifts 13, 17, 5). */
export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  u32(): number;
  /** A uniform integer in [0, n); n ≥ 1. */
  below(n: number): number;
  /** An integer in [lo, hi] inclusive. */
  between(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
}

export function createRng(seed: number): Rng {
  // xorshift has one fixed point, 0; any other 32-bit state cycles through all 2^32 - 1 others.
  let state = seed >>> 0 || 0x6d2b79f5;
  const u32 = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const below = (n: number) => Math.floor((u32() / 0x1_0000_0000) * n);
  return {
    u32,
    below,
    between: (lo, hi) => lo + below(hi - lo + 1),
    pick: <T>(items: readonly T[]) => items[below(items.length)] as T,
  };
}

/** The seed of input `index` of a run, so one input can be replayed without the ones before it. */
export function inputSeed(runSeed: number, index: number): number {
  // Weyl step then one multiply-xorshift round, so neighbouring indexes get unrelated states.
  let h = (runSeed + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/** What one mutation did: the result, a line for failure messages, the byte range changed. */
export interface Mutated {
  readonly bytes: Uint8Array;
  readonly note: string;
  /** [start, end) of the bytes that differ from the input or were removed or added. */
  readonly touched: readonly [number, number];
}

/** Gives a different corpus file for splicing. */
export type Donor = (rng: Rng) => Uint8Array;

type Mutator = (bytes: Uint8Array, rng: Rng, donor: Donor) => Mutated;

function chunkCount(bytes: Uint8Array): number {
  return Math.max(0, Math.ceil((bytes.length - FILE_HEADER_SIZE) / CHUNK_SIZE));
}

function chunkStart(index: number): number {
  return FILE_HEADER_SIZE + index * CHUNK_SIZE;
}

function randomChunk(bytes: Uint8Array, rng: Rng): number | undefined {
  const n = chunkCount(bytes);
  return n === 0 ? undefined : rng.below(n);
}

function copy(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes);
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Offsets of the records in a chunk, following sizes from 0x200 while frames look valid. */
export function recordOffsets(bytes: Uint8Array, chunk: number): number[] {
  const start = chunkStart(chunk);
  const end = Math.min(bytes.length, start + CHUNK_SIZE);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let p = start + CHUNK_HEADER_SIZE; p + 28 <= end; ) {
    if (v.getUint32(p, true) !== 0x2a2a) break;
    const size = v.getUint32(p + 4, true);
    if (size < 28 || p + size > end) break;
    out.push(p);
    p += size;
  }
  return out;
}

/** A field that decides how later bytes are read: offsets, sizes, counts. */
interface Field {
  readonly name: string;
  readonly offset: number;
  readonly width: 1 | 2 | 4;
  readonly size: boolean;
}

// Hot fields of the file header, one chunk header, and one record with its first BinXML tokens
// (MS-EVEN6 §2.2.1–2.2.3, §3.1.4): where a wrong value sends the reader somewhere else.
function hotFields(bytes: Uint8Array, rng: Rng): Field[] {
  const fields: Field[] = [
    { name: 'file chunk count', offset: 42, width: 2, size: true },
    { name: 'file flags', offset: 120, width: 4, size: false },
    { name: 'file header size', offset: 32, width: 4, size: true },
    { name: 'file major version', offset: 38, width: 2, size: false },
    { name: 'file last chunk number', offset: 16, width: 4, size: false },
  ];
  const chunk = randomChunk(bytes, rng);
  if (chunk === undefined) return fields;
  const c = chunkStart(chunk);
  fields.push(
    { name: `chunk ${chunk} last record offset`, offset: c + 44, width: 4, size: true },
    { name: `chunk ${chunk} free space offset`, offset: c + 48, width: 4, size: true },
    { name: `chunk ${chunk} first record id`, offset: c + 24, width: 4, size: false },
    { name: `chunk ${chunk} last record id`, offset: c + 32, width: 4, size: false },
    { name: `chunk ${chunk} template pointer`, offset: c + 384 + rng.below(32) * 4, width: 4, size: false },
    { name: `chunk ${chunk} string pointer`, offset: c + 128 + rng.below(64) * 4, width: 4, size: false },
  );
  const records = recordOffsets(bytes, chunk);
  if (records.length === 0) return fields;
  const p = rng.pick(records);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = v.getUint32(p + 4, true);
  const at = (name: string, offset: number, width: 1 | 2 | 4, isSize: boolean) => {
    if (offset + width <= bytes.length)
      fields.push({ name: `record@${hex(p)} ${name}`, offset, width, size: isSize });
  };
  at('size', p + 4, 4, true);
  at('trailing size', p + size - 4, 4, true);
  at('id', p + 8, 4, false);
  at('fragment header', p + 24, 4, false);
  at('first token', p + 28, 1, false);
  if (bytes[p + 28] !== 0x0c || p + 42 > bytes.length) return fields;
  // A template instance: definition offset, then either the inline definition or the values.
  at('template definition offset', p + 34, 4, false);
  const definition = v.getUint32(p + 34, true);
  const inline = definition === p + 38 - c;
  const valuesAt = inline ? p + 62 + v.getUint32(p + 58, true) : p + 38;
  if (inline) {
    at('template data size', p + 58, 4, true);
    at('template first element token', p + 66, 1, false);
    at('template first element data size', p + 69, 4, true);
    at('template first element name offset', p + 73, 4, false);
  }
  at('template value count', valuesAt, 4, true);
  at('first value size', valuesAt + 4, 2, true);
  at('first value type', valuesAt + 6, 1, false);
  return fields;
}

function writeField(bytes: Uint8Array, field: Field, value: number): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (field.width === 1) v.setUint8(field.offset, value & 0xff);
  else if (field.width === 2) v.setUint16(field.offset, value & 0xffff, true);
  else v.setUint32(field.offset, value >>> 0, true);
}

function readField(bytes: Uint8Array, field: Field): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (field.width === 1) return v.getUint8(field.offset);
  if (field.width === 2) return v.getUint16(field.offset, true);
  return v.getUint32(field.offset, true);
}

const absurd = [0xffffffff, 0xfffffff0, 0x7fffffff, 0x80000000, 0x10000, 0xffff, 0] as const;

/** Every mutation kind by name; the test picks among them. */
export const mutators: Record<string, Mutator> = {
  'bit-flips': (bytes, rng) => {
    if (bytes.length === 0) return { bytes, note: 'bit flips skipped (empty)', touched: [0, 0] };
    const out = copy(bytes);
    const count = rng.between(1, 64);
    // Half the time the flips cluster in one 4 KiB window, as a bad sector would.
    const lo = rng.below(2) === 0 ? 0 : rng.below(bytes.length);
    const hi = lo === 0 ? bytes.length : Math.min(bytes.length, lo + 4096);
    let min = hi;
    let max = lo;
    for (let i = 0; i < count; i++) {
      const at = rng.between(lo, hi - 1);
      out[at] = (out[at] as number) ^ (1 << rng.below(8));
      min = Math.min(min, at);
      max = Math.max(max, at + 1);
    }
    return { bytes: out, note: `flip ${count} bits in [${hex(min)}, ${hex(max)})`, touched: [min, max] };
  },
  overwrite: (bytes, rng) => {
    const out = copy(bytes);
    const length = Math.min(bytes.length, rng.pick([1, 4, 16, 256, 4096]) * rng.between(1, 4));
    const at = rng.below(bytes.length - length + 1);
    for (let i = at; i < at + length; i++) out[i] = rng.below(256);
    return { bytes: out, note: `overwrite ${length} random bytes at ${hex(at)}`, touched: [at, at + length] };
  },
  zero: (bytes, rng) => {
    const out = copy(bytes);
    const length = Math.min(bytes.length, rng.pick([4, 24, 512, 4096, CHUNK_SIZE]));
    const at = rng.below(bytes.length - length + 1);
    out.fill(0, at, at + length);
    return { bytes: out, note: `zero ${length} bytes at ${hex(at)}`, touched: [at, at + length] };
  },
  truncate: (bytes, rng) => {
    // Often just before or after a structure boundary, where length checks are decided.
    const near = rng.pick([
      0,
      128,
      FILE_HEADER_SIZE,
      chunkStart(randomChunk(bytes, rng) ?? 0) + CHUNK_HEADER_SIZE,
    ]);
    const at =
      rng.below(2) === 0
        ? rng.below(bytes.length)
        : Math.max(0, Math.min(bytes.length - 1, near + rng.between(-8, 8)));
    return {
      bytes: bytes.slice(0, at),
      note: `truncate to ${hex(at)} bytes`,
      touched: [at, bytes.length],
    };
  },
  splice: (bytes, rng, donor) => {
    const other = donor(rng);
    const from = randomChunk(other, rng);
    if (from === undefined) return { bytes, note: 'splice skipped (donor has no chunk)', touched: [0, 0] };
    const source = other.subarray(chunkStart(from), chunkStart(from) + CHUNK_SIZE);
    const to = randomChunk(bytes, rng);
    if (to === undefined || rng.below(3) === 0) {
      // Appended past the chunks the file header counts: a chunk to recover.
      const out = new Uint8Array(chunkStart(chunkCount(bytes)) + source.length);
      out.set(bytes);
      out.set(source, chunkStart(chunkCount(bytes)));
      return { bytes: out, note: `append donor chunk ${from}`, touched: [bytes.length, out.length] };
    }
    const out = copy(bytes);
    // Whole chunk, or a part of it at the same chunk-relative position.
    const whole = rng.below(2) === 0;
    const lo = whole ? 0 : rng.below(source.length);
    const hi = whole ? source.length : rng.between(lo, source.length);
    const target = chunkStart(to);
    const end = Math.min(bytes.length, target + hi);
    if (end <= target + lo)
      return { bytes, note: 'splice skipped (target chunk too short)', touched: [0, 0] };
    out.set(source.subarray(lo, end - target), target + lo);
    return {
      bytes: out,
      note: `splice donor chunk ${from} [${hex(lo)}, ${hex(hi)}) over chunk ${to}`,
      touched: [target + lo, end],
    };
  },
  'duplicate-chunk': (bytes, rng) => {
    const n = chunkCount(bytes);
    if (n === 0) return { bytes, note: 'duplicate skipped (no chunk)', touched: [0, 0] };
    const from = rng.below(n);
    const source = bytes.slice(chunkStart(from), chunkStart(from) + CHUNK_SIZE);
    if (n === 1 || rng.below(2) === 0) {
      const out = new Uint8Array(chunkStart(n) + source.length);
      out.set(bytes);
      out.set(source, chunkStart(n));
      return { bytes: out, note: `append a copy of chunk ${from}`, touched: [bytes.length, out.length] };
    }
    const to = rng.below(n);
    const out = copy(bytes);
    out.set(source.subarray(0, Math.min(source.length, bytes.length - chunkStart(to))), chunkStart(to));
    return {
      bytes: out,
      note: `copy chunk ${from} over chunk ${to}`,
      touched: [chunkStart(to), Math.min(bytes.length, chunkStart(to) + CHUNK_SIZE)],
    };
  },
  'swap-chunks': (bytes, rng, donor) => {
    const n = chunkCount(bytes);
    if (n < 2 || bytes.length < chunkStart(n)) {
      // Too few whole chunks to swap: give the file a donor chunk first, then swap with it.
      const grown = mutators.splice?.(bytes, rng, donor);
      if (!grown || chunkCount(grown.bytes) < 2 || grown.bytes.length < chunkStart(chunkCount(grown.bytes)))
        return { bytes, note: 'swap skipped', touched: [0, 0] };
      return swap(grown.bytes, rng, grown);
    }
    return swap(bytes, rng, undefined);
  },
  'hot-field': (bytes, rng) => {
    const fields = hotFields(bytes, rng).filter((f) => f.offset + f.width <= bytes.length);
    if (fields.length === 0) return { bytes, note: 'hot-field skipped (too short)', touched: [0, 0] };
    const field = rng.pick(fields);
    const out = copy(bytes);
    const old = readField(bytes, field);
    const value = rng.pick([
      0,
      1,
      old + rng.between(1, 16),
      old - rng.between(1, 16),
      old * 2,
      rng.u32(),
      rng.between(CHUNK_HEADER_SIZE, CHUNK_SIZE),
      CHUNK_SIZE,
      0xffff,
      0xffffffff,
    ]);
    writeField(out, field, value);
    return {
      bytes: out,
      note: `set ${field.name} at ${hex(field.offset)} from ${hex(old)} to ${hex(readField(out, field))}`,
      touched: [field.offset, field.offset + field.width],
    };
  },
  'absurd-size': (bytes, rng) => {
    const fields = hotFields(bytes, rng).filter((f) => f.size && f.offset + f.width <= bytes.length);
    if (fields.length === 0) return { bytes, note: 'absurd-size skipped (too short)', touched: [0, 0] };
    const field = rng.pick(fields);
    const out = copy(bytes);
    writeField(out, field, rng.pick(absurd));
    return {
      bytes: out,
      note: `set ${field.name} at ${hex(field.offset)} to ${hex(readField(out, field))}`,
      touched: [field.offset, field.offset + field.width],
    };
  },
};

// Swaps two whole chunks; `before` is a mutation already applied whose range is merged in.
function swap(bytes: Uint8Array, rng: Rng, before: Mutated | undefined): Mutated {
  const n = chunkCount(bytes);
  const a = rng.below(n);
  const b = (a + rng.between(1, n - 1)) % n;
  const out = copy(bytes);
  out.set(bytes.subarray(chunkStart(a), chunkStart(a) + CHUNK_SIZE), chunkStart(b));
  out.set(bytes.subarray(chunkStart(b), chunkStart(b) + CHUNK_SIZE), chunkStart(a));
  const lo = chunkStart(Math.min(a, b));
  const hi = chunkStart(Math.max(a, b)) + CHUNK_SIZE;
  return {
    bytes: out,
    note: `${before ? `${before.note}, then ` : ''}swap chunks ${a} and ${b}`,
    touched: before ? [Math.min(lo, before.touched[0]), Math.max(hi, before.touched[1])] : [lo, hi],
  };
}

/** How often each kind is picked, out of the sum. */
const weights: Record<keyof typeof mutators, number> = {
  'bit-flips': 5,
  overwrite: 3,
  zero: 2,
  truncate: 2,
  splice: 2,
  'duplicate-chunk': 1,
  'swap-chunks': 1,
  'hot-field': 5,
  'absurd-size': 3,
};

/** Applies one to three mutations; the result carries every note and the union of touched ranges. */
export function mutate(bytes: Uint8Array, rng: Rng, donor: Donor): Mutated & { kinds: string[] } {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const count = rng.pick([1, 1, 2, 3]);
  let current: Mutated = { bytes, note: '', touched: [0, 0] };
  const notes: string[] = [];
  const kinds: string[] = [];
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (let i = 0; i < count; i++) {
    let r = rng.below(total);
    let kind = 'bit-flips';
    for (const [name, weight] of Object.entries(weights)) {
      if (r < weight) {
        kind = name;
        break;
      }
      r -= weight;
    }
    const mutator = mutators[kind];
    if (!mutator) throw new Error(`no mutator ${kind}`);
    const next = mutator(current.bytes, rng, donor);
    if (next.touched[1] > next.touched[0]) {
      lo = Math.min(lo, next.touched[0]);
      hi = Math.max(hi, next.touched[1]);
    }
    // A change of length moves everything after it: all of it counts as touched.
    if (next.bytes.length !== current.bytes.length) {
      lo = Math.min(lo, next.bytes.length, current.bytes.length);
      hi = Math.max(hi, next.bytes.length, current.bytes.length);
    }
    notes.push(next.note);
    kinds.push(kind);
    current = next;
  }
  return { bytes: current.bytes, note: notes.join('; '), touched: [Math.min(lo, hi), hi], kinds };
}
