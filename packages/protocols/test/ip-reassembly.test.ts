// IPv4 and IPv6 headers, extension headers, address text, and fragment reassembly: order,
// overlaps, duplicates, timeouts and limits, through the reassembler and the whole pipeline.
import { describe, expect, it } from 'vitest';
import {
  type CaptureDiagnostic,
  decodeIp,
  decodeIpv4,
  formatCaptureDiagnostic,
  formatIpv6,
  IpReassembler,
  readFlows,
} from '../src/index.ts';
import {
  be,
  concat,
  ethernet,
  ipv4,
  ipv6,
  ipv6DestinationOptions,
  ipv6Fragment,
  pcap,
  text,
  udp,
} from './capture-builder.ts';
import { flowItemText } from './flow-text.ts';

const UDP = 17;
const message = text('Fragments of one UDP datagram, to be put back together.');
const datagram = udp(message, 40000, 389); // 8 + 55 bytes

/** IPv4 fragments of `datagram` cut at the given byte offsets (multiples of 8). */
function ipv4Fragments(cuts: number[], id = 0x1234): Uint8Array[] {
  const bounds = [0, ...cuts, datagram.length];
  return bounds.slice(0, -1).map((start, i) =>
    ipv4(datagram.subarray(start, bounds[i + 1]), {
      protocol: UDP,
      id,
      offset: start,
      more: i < bounds.length - 2,
    }),
  );
}

function flows(packets: Uint8Array[], seconds: number[] = packets.map((_, i) => i)) {
  const frame = (p: Uint8Array) => ethernet(p, { etherType: (p[0] ?? 0) >> 4 === 6 ? 0x86dd : 0x0800 });
  const file = pcap(packets.map((p, i) => ({ seconds: seconds[i] ?? 0, fraction: 0, data: frame(p) })));
  const reading = readFlows(file);
  const items = [...reading.items].map(flowItemText);
  return { items, diagnostics: reading.diagnostics.map(formatCaptureDiagnostic), stats: reading.stats };
}

describe('IPv4 fragments', () => {
  it('reassembles fragments that arrive out of order', () => {
    const [a, b, c] = ipv4Fragments([24, 48]) as [Uint8Array, Uint8Array, Uint8Array];
    const result = flows([c, a, b]);
    expect(result.items).toEqual([
      'udp 10.0.0.1:40000 → 10.0.0.2:389 "Fragments of one UDP datagram, to be put back together." [frame 2 t=2000000]',
    ]);
    expect(result.diagnostics).toEqual([]);
    expect(result.stats).toMatchObject({ ipv4: 3, fragments: 3, reassembled: 1, udpDatagrams: 1 });
  });

  it('ignores an exact duplicate, and keeps the bytes that arrived first where fragments overlap', () => {
    const [a, b, c] = ipv4Fragments([24, 48]) as [Uint8Array, Uint8Array, Uint8Array];
    // Bytes 16–31 with other data: 16–23 lose to a, which came first; 24–31 fill the hole
    // before b arrives, so b loses there in turn.
    const liar = ipv4(text('XXXXXXXXXXXXXXXX'), { protocol: UDP, id: 0x1234, offset: 16, more: true });
    const result = flows([a, a, liar, b, c]);
    expect(result.items).toEqual([
      'udp 10.0.0.1:40000 → 10.0.0.2:389 "Fragments of oneXXXXXXXXagram, to be put back together." [frame 4 t=4000000]',
    ]);
    expect(result.diagnostics).toEqual([
      'warning: frame 2: fragment 10.0.0.1 → 10.0.0.2 id 4660 overlaps earlier fragments with different bytes; the earlier bytes are kept [ip/fragment-overlap]',
      'warning: frame 3: fragment 10.0.0.1 → 10.0.0.2 id 4660 overlaps earlier fragments with different bytes; the earlier bytes are kept [ip/fragment-overlap]',
    ]);
  });

  it('fills a hole with the new part of an overlapping fragment', () => {
    const [a, , c] = ipv4Fragments([24, 48]) as [Uint8Array, Uint8Array, Uint8Array];
    // 16–55 covers the end of a, the missing 24–48, and the start of c, all with the right bytes.
    const wide = ipv4(datagram.subarray(16, 56), { protocol: UDP, id: 0x1234, offset: 16, more: true });
    expect(flows([a, c, wide]).items).toEqual([
      'udp 10.0.0.1:40000 → 10.0.0.2:389 "Fragments of one UDP datagram, to be put back together." [frame 2 t=2000000]',
    ]);
  });

  it('reports a datagram that times out by capture time, and one left at the end', () => {
    const [a] = ipv4Fragments([24]);
    const [, other] = ipv4Fragments([24], 0x9999);
    const unrelated = ipv4(udp(text('later')), { protocol: UDP, id: 1 });
    const result = flows([a as Uint8Array, unrelated, other as Uint8Array], [0, 31, 32]);
    expect(result.items).toEqual(['udp 10.0.0.1:50000 → 10.0.0.2:53 "later" [frame 1 t=31000000]']);
    expect(result.diagnostics).toEqual([
      'warning: frame 0: datagram 10.0.0.1 → 10.0.0.2 id 4660 given up (timed out) with 24 of an unknown number of bytes in 1 pieces [ip/incomplete-datagram]',
      'warning: frame 2: datagram 10.0.0.1 → 10.0.0.2 id 39321 given up (the capture ended) with 39 of 63 bytes in 1 pieces [ip/incomplete-datagram]',
    ]);
  });

  it('ignores a last fragment that contradicts the datagram end, and data past 65,535 bytes', () => {
    const [a, b] = ipv4Fragments([24]) as [Uint8Array, Uint8Array];
    const shortEnd = ipv4(datagram.subarray(24, 32), { protocol: UDP, id: 0x1234, offset: 24, more: false });
    const beyond = ipv4(new Uint8Array(16), { protocol: UDP, id: 7, offset: 65528, more: false });
    const result = flows([b, shortEnd, beyond, a]);
    expect(result.items).toEqual([
      'udp 10.0.0.1:40000 → 10.0.0.2:389 "Fragments of one UDP datagram, to be put back together." [frame 3 t=3000000]',
    ]);
    expect(result.diagnostics).toEqual([
      "warning: frame 1: fragment 10.0.0.1 → 10.0.0.2 id 4660: bytes 24–32 disagree with the datagram's end 63; ignored [ip/bad-fragment]",
      'error: frame 2: fragment 10.0.0.1 → 10.0.0.2 id 7: expected data to end by byte 65535, found 65544 [ip/bad-fragment]',
    ]);
  });

  it('gives up the oldest datagrams beyond its limits', () => {
    const diagnostics: CaptureDiagnostic[] = [];
    const ip = new IpReassembler({ maxDatagrams: 2, onDiagnostic: (d) => diagnostics.push(d) });
    const starts = [1, 2, 3].map((id) => decodeIpv4(ipv4Fragments([24], id)[0] as Uint8Array));
    starts.forEach((p, i) => {
      expect(ip.push(p, i, i)).toBeUndefined();
    });
    expect(ip.pendingCount).toBe(2);
    expect(diagnostics.map(formatCaptureDiagnostic)).toEqual([
      'warning: frame 0: datagram 10.0.0.1 → 10.0.0.2 id 1 given up (reassembly buffers are full) with 24 of an unknown number of bytes in 1 pieces [ip/reassembly-overflow]',
    ]);
  });

  it('passes unfragmented packets through unchanged, without copying', () => {
    const ip = new IpReassembler();
    const packet = decodeIpv4(ipv4(datagram, { protocol: UDP }));
    expect(ip.push(packet, 0, 0)).toBe(packet);
  });
});

describe('IPv6', () => {
  it('walks Hop-by-Hop, Routing and Destination Options headers to the upper layer', () => {
    const hopByHop = be([43, 1], [0, 1], [0x01, 1], [4, 1], [0, 4]);
    const routing = be([60, 1], [0, 1], [0, 1], [0, 1], [0, 4]);
    const packet = decodeIp(
      ipv6(concat(hopByHop, routing, ipv6DestinationOptions(UDP), datagram), { nextHeader: 0 }),
    );
    expect({ ...packet, payload: packet.payload.length }).toEqual({
      version: 6,
      src: '2001:db8::1',
      dst: '2001:db8::2',
      protocol: UDP,
      ttl: 64,
      payload: datagram.length,
      truncated: false,
    });
  });

  it('reassembles fragments whose fragmentable part starts with Destination Options', () => {
    const fragmentable = concat(ipv6DestinationOptions(UDP), datagram);
    const first = ipv6(ipv6Fragment(fragmentable.subarray(0, 32), 60, 0, true, 0xabcdef01), {
      nextHeader: 44,
    });
    const second = ipv6(ipv6Fragment(fragmentable.subarray(32), 60, 32, false, 0xabcdef01), {
      nextHeader: 44,
    });
    const result = flows([second, first]);
    expect(result.items).toEqual([
      'udp 2001:db8::1:40000 → 2001:db8::2:389 "Fragments of one UDP datagram, to be put back together." [frame 1 t=1000000]',
    ]);
    expect(result.diagnostics).toEqual([]);
    expect(result.stats).toMatchObject({ ipv6: 2, fragments: 2, reassembled: 1 });
  });

  it('treats an atomic fragment as a whole packet (RFC 6946)', () => {
    const packet = decodeIp(ipv6(ipv6Fragment(datagram, UDP, 0, false, 5), { nextHeader: 44 }));
    expect([packet.protocol, packet.fragment, packet.payload.length]).toEqual([
      UDP,
      undefined,
      datagram.length,
    ]);
  });

  it.each([
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // one zero group stays
    ['20010000000000010000000000000001', '2001:0:0:1::1'], // the longest run
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // the first of equal runs
    ['fe800000000000000211223344556677', 'fe80::211:2233:4455:6677'],
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
  ])('writes %s as %s (RFC 5952)', (hex, expected) => {
    expect(formatIpv6(Buffer.from(hex, 'hex'), 0)).toBe(expected);
  });
});

describe('IPv4 headers', () => {
  it('takes the captured length when TSO left a total length of 0, and trims Ethernet padding', () => {
    const tso = decodeIpv4(ipv4(datagram, { protocol: UDP, totalLength: 0 }));
    expect([tso.payload.length, tso.truncated]).toEqual([datagram.length, false]);
    const padded = decodeIpv4(concat(ipv4(text('hi'), { protocol: UDP }), new Uint8Array(20)));
    expect(padded.payload).toEqual(text('hi'));
  });

  it('marks a packet cut by the snap length and skips options', () => {
    const cut = decodeIpv4(ipv4(datagram, { protocol: UDP }).subarray(0, 30));
    expect([cut.payload.length, cut.truncated]).toEqual([10, true]);
    const withOptions = ipv4(concat(be([0x01010101, 4]), datagram), { protocol: UDP });
    withOptions[0] = 0x46; // IHL 6: one word of options (four NOPs)
    expect(decodeIpv4(withOptions).payload).toEqual(datagram);
  });

  it('throws a ParseError naming the field for a header length below 20', () => {
    const bad = ipv4(datagram, { protocol: UDP });
    bad[0] = 0x44;
    expect(() => decodeIpv4(bad, 0x100)).toThrow(
      'IPv4 header length: expected at least 20 bytes, found 16 at 0x100',
    );
  });
});
