// The incremental capture reader against the whole-file readers: the lab capture (and a pcapng
// made of its frames) fed in chunks of random sizes gives the same frames, through a chunk
// buffer that is overwritten after every push; damaged streams give one diagnostic and stop.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CaptureDiagnostic,
  type CapturedFrame,
  CaptureStreamReader,
  formatCaptureDiagnostic,
  readPcapFrames,
  readPcapngFrames,
} from '../src/index.ts';
import {
  be,
  block,
  concat,
  enhancedPacket,
  ethernet,
  interfaceDescription,
  ipv4,
  pcap,
  sectionHeader,
  simplePacket,
  text,
  udp,
} from './capture-builder.ts';

const labPcap = resolve(
  import.meta.dirname,
  '../../../../shared/corpus/testbed-samples/testbed-default.pcap',
);
const missing = existsSync(labPcap) ? undefined : `lab capture not found at ${labPcap}`;
if (missing) {
  if (process.env.CI) throw new Error(`capture stream test cannot run in CI: ${missing}`);
  console.log(`skipping lab-capture stream tests: ${missing}`);
}

/** A deterministic generator (mulberry32), so a failing chunking can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Streamed {
  frames: CapturedFrame[];
  diagnostics: string[];
  stopped: boolean;
}

/**
 * Streams `bytes` through one 64 KiB buffer that is overwritten after each push, as a pipe
 * reader reuses its buffer; chunk sizes from `sizes` (1 byte … 64 KiB).
 */
function stream(bytes: Uint8Array, sizes: () => number): Streamed {
  const diagnostics: CaptureDiagnostic[] = [];
  const reader = new CaptureStreamReader({ onDiagnostic: (d) => diagnostics.push(d) });
  const buffer = new Uint8Array(65_536);
  const frames: CapturedFrame[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = Math.min(sizes(), bytes.length - at);
    buffer.set(bytes.subarray(at, at + size));
    frames.push(...reader.push(buffer.subarray(0, size)));
    buffer.fill(0xee);
    at += size;
  }
  frames.push(...reader.finish());
  return { frames, diagnostics: diagnostics.map(formatCaptureDiagnostic), stopped: reader.stopped };
}

// Sizes spread evenly over the orders of magnitude from 1 byte to 64 KiB.
const logSizes = (seed: number) => {
  const next = random(seed);
  return () => Math.max(1, Math.floor(2 ** (next() * 16)));
};

function whole(
  bytes: Uint8Array,
  read: typeof readPcapFrames,
): { frames: CapturedFrame[]; diagnostics: string[] } {
  const diagnostics: CaptureDiagnostic[] = [];
  const frames = [...read(bytes, (d) => diagnostics.push(d))].map((f) => ({ ...f, data: f.data.slice() }));
  return { frames, diagnostics: diagnostics.map(formatCaptureDiagnostic) };
}

// Frames as plain values, with data as bytes, so toEqual compares every field.
const plain = (frames: CapturedFrame[]) =>
  frames.map((f) => ({ ...f, data: Buffer.from(f.data).toString('hex') }));

describe.skipIf(missing !== undefined)('the lab capture as a stream', () => {
  const file = missing ? new Uint8Array() : new Uint8Array(readFileSync(labPcap));

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'gives readPcapFrames’ frames in chunks of random sizes (seed %i)',
    (seed) => {
      const expected = whole(file, readPcapFrames);
      expect(expected.frames).toHaveLength(1780);
      const got = stream(file, logSizes(seed));
      expect(got.diagnostics).toEqual([]);
      expect(plain(got.frames)).toEqual(plain(expected.frames));
    },
  );

  it('gives the same frames one byte at a time', () => {
    const got = stream(file, () => 1);
    expect(plain(got.frames)).toEqual(plain(whole(file, readPcapFrames).frames));
  });

  it('reads a pcapng of the same frames: two sections, a skipped block, simple packets', () => {
    const frames = whole(file, readPcapFrames).frames;
    const half = Math.floor(frames.length / 2);
    const parts: Uint8Array[] = [sectionHeader(), interfaceDescription(1, { snapLength: 262_144 })];
    frames.forEach((f, i) => {
      if (i === half) {
        // A second section in big-endian order, with nanosecond timestamps and an Interface
        // Statistics Block the reader passes over.
        parts.push(sectionHeader(false), interfaceDescription(1, { tsresol: 9, le: false }));
        parts.push(block(5, new Uint8Array(20), false));
      }
      const le = i < half;
      if (i % 50 === 7) parts.push(simplePacket(f.data, le));
      else parts.push(enhancedPacket(0, BigInt(f.timestampUs) * (le ? 1n : 1000n), f.data, le));
    });
    const ng = concat(...parts);
    const expected = whole(ng, readPcapngFrames);
    expect(expected.frames).toHaveLength(1780);
    for (const seed of [11, 12, 13]) {
      const got = stream(ng, logSizes(seed));
      expect(got.diagnostics).toEqual([]);
      expect(plain(got.frames)).toEqual(plain(expected.frames));
    }
  });
});

const packetA = ethernet(ipv4(udp(text('A')), { protocol: 17 }));
const packetB = ethernet(ipv4(udp(text('BB')), { protocol: 17 }));
const twoRecords = (o: Parameters<typeof pcap>[1] = {}) =>
  pcap(
    [
      { seconds: 1_700_000_000, fraction: o.nanoseconds ? 123_456_789 : 123_456, data: packetA },
      { seconds: 1_700_000_001, fraction: 0, data: packetB.subarray(0, 20), originalLength: packetB.length },
    ],
    o,
  );

describe('classic pcap as a stream', () => {
  it.each([
    ['little-endian microseconds', {}],
    ['big-endian nanoseconds', { bigEndian: true, nanoseconds: true }],
    ['a snap length of 64', { snapLength: 64 }],
  ])('reads %s byte by byte as readPcapFrames does', (_name, options) => {
    const file = twoRecords(options);
    const got = stream(file, () => 1);
    const expected = whole(file, readPcapFrames);
    expect(plain(got.frames)).toEqual(plain(expected.frames));
    expect(got.diagnostics).toEqual([]);
  });

  it('yields a record cut short at the end of the stream with the bytes that came, like readPcapFrames', () => {
    const file = twoRecords().subarray(0, 24 + 16 + packetA.length + 16 + 7);
    const got = stream(file, () => 5);
    expect(plain(got.frames)).toEqual(plain(whole(file, readPcapFrames).frames));
    expect(got.diagnostics).toEqual([
      `warning: frame 1, offset 0x${(24 + 16 + packetA.length + 16).toString(16)}: record data: expected 20 bytes, found 7 at the end of the stream [pcap/truncated-record]`,
    ]);
    const header = stream(twoRecords().subarray(0, 24 + 16 + packetA.length + 7), () => 3);
    expect(header.frames).toHaveLength(1);
    expect(header.diagnostics).toEqual([
      `warning: frame 1, offset 0x${(24 + 16 + packetA.length).toString(16)}: record header: expected 16 bytes, found 7 at the end of the stream [pcap/truncated-record]`,
    ]);
  });

  it('stops at a record longer than the snap length instead of buffering it', () => {
    const file = twoRecords({ snapLength: 64 });
    const second = 24 + 16 + packetA.length;
    // Frame 1 claims 0x10000 bytes: with a snap length of 64 no writer produced that.
    new DataView(file.buffer).setUint32(second + 8, 0x10000, true);
    const got = stream(concat(file, new Uint8Array(0x10000)), () => 4096);
    expect(got.frames.map((f) => f.index)).toEqual([0]);
    expect(got.stopped).toBe(true);
    expect(got.diagnostics).toEqual([
      `error: frame 1, offset 0x${second.toString(16)}: record header: expected a time fraction below 1000000 and a length up to 64 (the snap length), found 01 f1 53 65 00 00 00 00 00 00 01 00 2c 00 00 00; the rest of the stream is not read [pcap/bad-record]`,
    ]);
  });

  it('stops at a time fraction out of range', () => {
    const file = twoRecords();
    const second = 24 + 16 + packetA.length;
    new DataView(file.buffer).setUint32(second + 4, 1_000_000, true);
    expect(stream(file, () => 7).diagnostics).toEqual([
      `error: frame 1, offset 0x${second.toString(16)}: record header: expected a time fraction below 1000000 and a length up to 262144 (the snap length), found 01 f1 53 65 40 42 0f 00 14 00 00 00 2c 00 00 00; the rest of the stream is not read [pcap/bad-record]`,
    ]);
  });

  it('reports a stream that is not a capture, or a header cut short', () => {
    expect(stream(text('GET / HTTP/1.1\r\nHost: example\r\n\r\n'), () => 2)).toEqual({
      frames: [],
      diagnostics: [
        'error: offset 0x0: stream magic: expected a pcap (A1 B2 C3 D4, A1 B2 3C 4D) or pcapng (0A 0D 0D 0A) magic, found 47 45 54 20 [capture/unknown-format]',
      ],
      stopped: true,
    });
    expect(stream(twoRecords().subarray(0, 10), () => 3).diagnostics).toEqual([
      'error: offset 0x0: pcap file header: expected 24 bytes, found 10 left of 10 [pcap/bad-header]',
    ]);
    expect(stream(new Uint8Array(), () => 1).diagnostics).toEqual([
      'error: offset 0x0: stream magic: expected a pcap (A1 B2 C3 D4, A1 B2 3C 4D) or pcapng (0A 0D 0D 0A) magic, found <end of data> [capture/unknown-format]',
    ]);
  });

  it('ignores chunks after it stopped', () => {
    const diagnostics: CaptureDiagnostic[] = [];
    const reader = new CaptureStreamReader({ onDiagnostic: (d) => diagnostics.push(d) });
    expect(reader.push(text('not a capture file at all'))).toEqual([]);
    expect(reader.push(twoRecords())).toEqual([]);
    expect(reader.finish()).toEqual([]);
    expect(diagnostics.map((d) => d.code)).toEqual(['capture/unknown-format']);
  });
});

describe('pcapng as a stream', () => {
  const file = concat(
    sectionHeader(),
    interfaceDescription(1),
    enhancedPacket(0, 1_700_000_000_123_456n, packetA),
    enhancedPacket(0, 1_700_000_001_000_000n, packetB),
  );
  const secondBlock = file.length - enhancedPacket(0, 0n, packetB).length;

  it('reads blocks byte by byte as readPcapngFrames does', () => {
    const got = stream(file, () => 1);
    expect(got.diagnostics).toEqual([]);
    expect(plain(got.frames)).toEqual(plain(whole(file, readPcapngFrames).frames));
  });

  it('stops at a block whose trailer disagrees with its length', () => {
    const bad = file.slice();
    new DataView(bad.buffer).setUint32(bad.length - 4, 8, true);
    const got = stream(bad, () => 13);
    expect(got.frames.map((f) => f.index)).toEqual([0]);
    expect(got.diagnostics).toEqual([
      `error: frame 1, offset 0x${secondBlock.toString(16)}: block trailer: expected length ${bad.length - secondBlock}, found 8; the rest of the stream is not read [pcapng/bad-block]`,
    ]);
  });

  it('stops at a packet block longer than a record can be', () => {
    const bad = file.slice();
    new DataView(bad.buffer).setUint32(secondBlock + 4, 0x100_0000, true);
    expect(stream(bad, () => 100).diagnostics).toEqual([
      `error: frame 1, offset 0x${secondBlock.toString(16)}: block length: expected a multiple of 4 from 12 up to 327680, found 16777216; the rest of the stream is not read [pcapng/bad-block]`,
    ]);
  });

  it('reports a bad byte-order magic, a packet on an unknown interface and a block cut short', () => {
    const badOrder = file.slice();
    badOrder.set(be([0xdeadbeef, 4]), 8);
    expect(stream(badOrder, () => 64).diagnostics).toEqual([
      'error: frame 0, offset 0x0: section header: expected block type 0A 0D 0D 0A and byte-order magic 1A 2B 3C 4D, found 0a 0d 0d 0a 1c 00 00 00 de ad be ef; the rest of the stream is not read [pcapng/bad-section-header]',
    ]);
    const unknown = concat(sectionHeader(), interfaceDescription(1), enhancedPacket(3, 0n, packetA));
    const unknownAt = unknown.length - enhancedPacket(3, 0n, packetA).length;
    expect(stream(unknown, () => 5)).toEqual({
      frames: [],
      diagnostics: [
        `error: frame 0, offset 0x${(unknownAt + 8).toString(16)}: interface id: expected one of the 1 interfaces of this section, found 3 [pcapng/unknown-interface]`,
      ],
      stopped: true,
    });
    const cut = stream(file.subarray(0, file.length - 6), () => 9);
    expect(cut.frames.map((f) => f.index)).toEqual([0]);
    expect(cut.diagnostics).toEqual([
      `warning: frame 1, offset 0x${secondBlock.toString(16)}: block length: expected ${file.length - secondBlock} bytes, found ${file.length - 6 - secondBlock} at the end of the stream [pcapng/truncated-block]`,
    ]);
  });
});
