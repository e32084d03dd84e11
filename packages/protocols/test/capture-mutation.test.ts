// Robustness property test: 10,000 mutated captures (bit flips, overwrites with hot values,
// truncation, insertions, deletions, zeroed runs), half of them inside one frame's bytes, never
// make the pipeline throw or hang, and everything it yields is well formed. Replay with
// CAPTURE_FUZZ_SEED=<seed>, CAPTURE_FUZZ_COUNT=<n> or CAPTURE_FUZZ_ONLY=<index>.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CapturedFrame,
  captureDiagnosticCodes,
  type FlowItem,
  linkTypes,
  readCapture,
  readFlows,
} from '../src/index.ts';
import {
  concat,
  enhancedPacket,
  ethernet,
  interfaceDescription,
  ipv4,
  ipv6,
  ipv6Fragment,
  pcap,
  sectionHeader,
  simplePacket,
  sll2,
  tcp,
  text,
  udp,
} from './capture-builder.ts';

const seed = envInteger('CAPTURE_FUZZ_SEED') ?? 0x7cb1_4e55;
const count = envInteger('CAPTURE_FUZZ_COUNT') ?? 10_000;
const only = envInteger('CAPTURE_FUZZ_ONLY');
/** A hang detector, not a speed target: an unmutated base takes well under a millisecond. */
const TIME_LIMIT_MS = 1_000;

function envInteger(name: string): number | undefined {
  const value = process.env[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new Error(`${name}=${value}: expected an integer 0–2^32-1`);
  return n;
}

/** xorshift32 (Marsaglia 2003, shifts 13, 17, 5). */
function createRng(start: number) {
  let state = start >>> 0 || 0x6d2b79f5;
  const u32 = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const below = (n: number) => Math.floor((u32() / 0x1_0000_0000) * n);
  return { u32, below, pick: <T>(items: readonly T[]) => items[below(items.length)] as T };
}
type Rng = ReturnType<typeof createRng>;

function inputSeed(index: number): number {
  let h = (seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

// Packets that reach every layer: TCP with a handshake, out-of-order data and FIN; UDP; IPv4
// and IPv6 fragments.
function packets(): Uint8Array[] {
  const c = { src: '10.0.0.1', dst: '10.0.0.2' };
  const s = { src: '10.0.0.2', dst: '10.0.0.1' };
  const big = udp(text('x'.repeat(40)), 40000, 88);
  const fragmentable = concat(Uint8Array.of(17, 0, 1, 4, 0, 0, 0, 0), big);
  return [
    ipv4(tcp(new Uint8Array(0), { seq: 10, flags: 'S' }), c),
    ipv4(tcp(new Uint8Array(0), { srcPort: 445, dstPort: 50000, seq: 90, ack: 11, flags: 'SA' }), s),
    ipv4(tcp(text('hello '), { seq: 11, ack: 91, flags: 'PA' }), c),
    ipv4(tcp(text('again'), { seq: 23, ack: 91, flags: 'PA' }), c),
    ipv4(tcp(text('world!'), { seq: 17, ack: 91, flags: 'PA' }), c),
    ipv4(tcp(text('answer'), { srcPort: 445, dstPort: 50000, seq: 91, ack: 28, flags: 'FPA' }), s),
    ipv4(udp(text('query'), 50001, 53), { ...c, protocol: 17 }),
    ipv4(big.subarray(24), { ...c, protocol: 17, id: 9, offset: 24 }),
    ipv4(big.subarray(0, 24), { ...c, protocol: 17, id: 9, more: true }),
    ipv6(ipv6Fragment(fragmentable.subarray(0, 24), 60, 0, true, 77), { nextHeader: 44 }),
    ipv6(ipv6Fragment(fragmentable.subarray(24), 60, 24, false, 77), { nextHeader: 44 }),
    ipv4(tcp(new Uint8Array(0), { seq: 28, ack: 98, flags: 'FA' }), c),
  ];
}

const etherType = (p: Uint8Array) => ((p[0] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800);

function bases(): { name: string; bytes: Uint8Array }[] {
  const list = packets();
  const records = list.map((p, i) => ({
    seconds: 1_700_000_000 + i,
    fraction: i * 1000,
    data: ethernet(p, { etherType: etherType(p), vlans: i % 3 === 0 ? [10] : [] }),
  }));
  const out = [
    { name: 'pcap little-endian', bytes: pcap(records) },
    { name: 'pcap big-endian nanoseconds', bytes: pcap(records, { bigEndian: true, nanoseconds: true }) },
    {
      name: 'pcapng two interfaces',
      bytes: concat(
        sectionHeader(),
        interfaceDescription(linkTypes.ethernet),
        interfaceDescription(linkTypes.linuxSll2, { tsresol: 9 }),
        ...list.map((p, i) =>
          i % 2 === 0
            ? enhancedPacket(0, BigInt(1_700_000_000_000_000 + i), ethernet(p, { etherType: etherType(p) }))
            : enhancedPacket(1, BigInt(1_700_000_000_000_000_000 + i * 1000), sll2(p, etherType(p))),
        ),
        simplePacket(ethernet(list[6] as Uint8Array)),
      ),
    },
  ];
  // Prefixes of the lab captures, when present: real Kerberos, LDAP, SMB and RPC traffic.
  const corpus = resolve(import.meta.dirname, '../../../../shared/corpus/testbed-samples');
  for (const name of ['testbed-default.pcap', 'testbed-smb21-cleartext.pcap']) {
    const path = resolve(corpus, name);
    if (!existsSync(path)) continue;
    // A plain Uint8Array: Buffer's `slice` is a view, and the mutators copy with `slice`.
    const bytes = new Uint8Array(readFileSync(path));
    const frames = [...readCapture(bytes).frames];
    const cut = (frames[60] as CapturedFrame).offset - 16;
    out.push({ name: `${name} first 60 frames`, bytes: bytes.subarray(0, cut) });
    out.push({
      name: `${name} frames 200–260 as pcapng`,
      bytes: concat(
        sectionHeader(),
        interfaceDescription(linkTypes.ethernet),
        ...frames.slice(200, 260).map((f) => enhancedPacket(0, BigInt(f.timestampUs), f.data)),
      ),
    });
  }
  return out;
}

const HOT_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 65535, 65536, 262145];

type Mutator = (bytes: Uint8Array, rng: Rng, region: [number, number]) => { bytes: Uint8Array; note: string };

const mutators: Record<string, Mutator> = {
  flip: (bytes, rng, [from, to]) => {
    const out = bytes.slice();
    const n = 1 + rng.below(8);
    const where: number[] = [];
    for (let i = 0; i < n; i++) {
      const at = from + rng.below(to - from);
      out[at] = (out[at] as number) ^ (1 << rng.below(8));
      where.push(at);
    }
    return { bytes: out, note: `flip bits at ${where.join(',')}` };
  },
  byte: (bytes, rng, [from, to]) => {
    const out = bytes.slice();
    const at = from + rng.below(to - from);
    out[at] = rng.pick([0, 0xff, 0x80, 0x7f, 0x45, 0x60, rng.below(256)]);
    return { bytes: out, note: `byte at ${at} = ${out[at]}` };
  },
  u32: (bytes, rng, [from, to]) => {
    const out = bytes.slice();
    const at = Math.min(to - 4, from + rng.below(Math.max(1, to - from - 3)));
    if (at < from) return { bytes: out, note: 'region too small for u32' };
    const value = rng.pick(HOT_U32);
    new DataView(out.buffer).setUint32(at, value, rng.below(2) === 0);
    return { bytes: out, note: `u32 at ${at} = ${value}` };
  },
  u16: (bytes, rng, [from, to]) => {
    const out = bytes.slice();
    const at = from + rng.below(Math.max(1, to - from - 1));
    if (at + 2 > to) return { bytes: out, note: 'region too small for u16' };
    const value = rng.pick([0, 1, 7, 8, 20, 40, 0x0800, 0x86dd, 0x8100, 0xffff]);
    new DataView(out.buffer).setUint16(at, value);
    return { bytes: out, note: `u16 at ${at} = ${value}` };
  },
  truncate: (bytes, rng, [from, to]) => {
    const at = from + rng.below(to - from);
    return { bytes: bytes.subarray(0, at), note: `truncate at ${at}` };
  },
  insert: (bytes, rng, [from, to]) => {
    const at = from + rng.below(to - from);
    const junk = Uint8Array.from({ length: 1 + rng.below(40) }, () => rng.below(256));
    return {
      bytes: concat(bytes.subarray(0, at), junk, bytes.subarray(at)),
      note: `insert ${junk.length} at ${at}`,
    };
  },
  delete: (bytes, rng, [from, to]) => {
    const at = from + rng.below(to - from);
    const n = 1 + rng.below(40);
    return { bytes: concat(bytes.subarray(0, at), bytes.subarray(at + n)), note: `delete ${n} at ${at}` };
  },
  zero: (bytes, rng, [from, to]) => {
    const out = bytes.slice();
    const at = from + rng.below(to - from);
    const n = 1 + rng.below(200);
    out.fill(0, at, Math.min(to, at + n));
    return { bytes: out, note: `zero ${n} at ${at}` };
  },
};
const mutatorNames = Object.keys(mutators);

const knownCodes = new Set<string>(captureDiagnosticCodes);

/** Problems with what the pipeline yielded; empty when all is well formed. */
function check(items: FlowItem[], diagnostics: { code: string; message: string }[]): string[] {
  const problems: string[] = [];
  const state = new Map<number, { closed: boolean; next: [number, number] }>();
  for (const item of items) {
    if (!Number.isFinite(item.timestampUs) || !Number.isInteger(item.frame))
      problems.push(`bad position ${item.kind}`);
    if (item.kind === 'udp') {
      if (!(item.payload instanceof Uint8Array)) problems.push('udp payload');
      continue;
    }
    const flow = state.get(item.flow.id);
    if (item.kind === 'open') {
      if (flow) problems.push(`flow ${item.flow.id} opened twice`);
      state.set(item.flow.id, { closed: false, next: [0, 0] });
      continue;
    }
    if (!flow || flow.closed) {
      problems.push(`flow ${item.flow.id}: ${item.kind} outside open…close`);
      continue;
    }
    if (item.kind === 'close') {
      flow.closed = true;
      continue;
    }
    const d = item.direction === 'toServer' ? 0 : 1;
    if (item.offset !== flow.next[d])
      problems.push(`flow ${item.flow.id}: ${item.kind} at ${item.offset}, expected ${flow.next[d]}`);
    const length = item.kind === 'data' ? item.bytes.length : item.length;
    if (length <= 0) problems.push(`flow ${item.flow.id}: empty ${item.kind}`);
    flow.next[d] = item.offset + length;
  }
  for (const [id, flow] of state) if (!flow.closed) problems.push(`flow ${id} never closed`);
  for (const d of diagnostics) {
    if (!knownCodes.has(d.code)) problems.push(`unknown code ${d.code}`);
    if (d.message.length === 0) problems.push(`empty message for ${d.code}`);
  }
  return problems;
}

describe('mutated captures', () => {
  const all = bases();

  it('the unmutated bases are clean', () => {
    for (const base of all) {
      const reading = readFlows(base.bytes);
      const items = [...reading.items];
      expect(check(items, reading.diagnostics), base.name).toEqual([]);
      expect(
        reading.diagnostics.filter((d) => d.severity === 'error'),
        base.name,
      ).toEqual([]);
      expect(items.length, base.name).toBeGreaterThan(5);
    }
  });

  it(`never throw, hang or yield malformed output (${count} inputs, seed ${seed})`, () => {
    const failures: string[] = [];
    const frameCounts = new Map(all.map((b) => [b, [...readCapture(b.bytes).frames].length]));
    let slowest = 0;
    for (let index = 0; index < count; index++) {
      if (only !== undefined && index !== only) continue;
      const rng = createRng(inputSeed(index));
      const base = rng.pick(all);
      // Half the inputs mutate one frame's bytes, so the file stays readable and the link, IP and
      // TCP layers meet the damage; the rest mutate anywhere in the file.
      const frames = [...readCapture(base.bytes).frames];
      const inFrame = rng.below(2) === 0 && frames.length > 0;
      const frame = rng.pick(frames);
      const region: [number, number] = inFrame
        ? [frame.offset, frame.offset + frame.data.length]
        : [0, base.bytes.length];
      if (region[1] <= region[0]) continue;
      const name = rng.pick(mutatorNames);
      const mutated = (mutators[name] as Mutator)(base.bytes, rng, region);
      const label = `#${index} ${base.name}: ${mutated.note}`;
      const started = performance.now();
      try {
        const reading = readFlows(mutated.bytes);
        const items = [...reading.items];
        const problems = check(items, reading.diagnostics);
        if (problems.length > 0) failures.push(`${label}: ${problems.slice(0, 3).join('; ')}`);
        const sameLength = mutated.bytes.length === base.bytes.length;
        if (
          inFrame &&
          sameLength &&
          [...readCapture(mutated.bytes).frames].length !== frameCounts.get(base)
        ) {
          failures.push(`${label}: damage inside a frame changed the number of frames`);
        }
      } catch (e) {
        failures.push(`${label}: threw ${e instanceof Error ? e.stack : String(e)}`);
      }
      const elapsed = performance.now() - started;
      slowest = Math.max(slowest, elapsed);
      if (elapsed > TIME_LIMIT_MS) failures.push(`${label}: took ${elapsed.toFixed(0)} ms`);
    }
    expect(failures.slice(0, 20)).toEqual([]);
    expect(slowest).toBeLessThan(TIME_LIMIT_MS);
  });
});
