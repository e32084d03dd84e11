// Hand-built capture files: pcap in both byte orders and resolutions, pcapng with several
// interfaces, sections and block types, link layers (VLAN, SLL2, raw, loopback), and damaged
// files whose diagnostics must name the frame and offset while later frames are still read.
import { describe, expect, it } from 'vitest';
import {
  type CaptureDiagnostic,
  type CapturedFrame,
  decodeLinkLayer,
  formatCaptureDiagnostic,
  linkTypes,
  readCapture,
  readFlows,
} from '../src/index.ts';
import {
  be,
  block,
  concat,
  enhancedPacket,
  ethernet,
  interfaceDescription,
  ipv4,
  ipv6,
  pcap,
  sectionHeader,
  simplePacket,
  sll2,
  tcp,
  text,
  udp,
} from './capture-builder.ts';
import { flowItemText } from './flow-text.ts';

function frames(bytes: Uint8Array) {
  const reading = readCapture(bytes);
  const list = [...reading.frames].map((f: CapturedFrame) => ({
    index: f.index,
    timestampUs: f.timestampUs,
    linkType: f.linkType,
    interfaceId: f.interfaceId,
    length: f.data.length,
    originalLength: f.originalLength,
    offset: f.offset,
    first: f.data[0],
  }));
  return {
    format: reading.format,
    frames: list,
    diagnostics: reading.diagnostics.map(formatCaptureDiagnostic),
  };
}

const UDP = { protocol: 17 };
const packetA = ethernet(ipv4(udp(text('A')), UDP));
const packetB = ethernet(ipv4(udp(text('BB')), UDP));

describe('classic pcap', () => {
  it.each([
    ['little-endian microseconds', false, false],
    ['big-endian microseconds', true, false],
    ['little-endian nanoseconds', false, true],
    ['big-endian nanoseconds', true, true],
  ])('reads %s', (_name, bigEndian, nanoseconds) => {
    const fraction = nanoseconds ? 123_456_789 : 123_456;
    const file = pcap(
      [
        { seconds: 1_700_000_000, fraction, data: packetA },
        {
          seconds: 1_700_000_001,
          fraction: 0,
          data: packetB.subarray(0, 20),
          originalLength: packetB.length,
        },
      ],
      { bigEndian, nanoseconds },
    );
    expect(frames(file)).toEqual({
      format: 'pcap',
      frames: [
        {
          index: 0,
          timestampUs: 1_700_000_000_123_456,
          linkType: 1,
          interfaceId: 0,
          length: packetA.length,
          originalLength: packetA.length,
          offset: 40,
          first: 0,
        },
        {
          index: 1,
          timestampUs: 1_700_000_001_000_000,
          linkType: 1,
          interfaceId: 0,
          length: 20,
          originalLength: packetB.length,
          offset: 40 + packetA.length + 16,
          first: 0,
        },
      ],
      diagnostics: [],
    });
  });

  it('yields the bytes of a record cut short by the end of the file, and says so', () => {
    const file = pcap([
      { seconds: 1, fraction: 0, data: packetA },
      { seconds: 2, fraction: 0, data: packetB },
    ]);
    const cut = file.subarray(0, file.length - 5);
    const second = 24 + 16 + packetA.length + 16;
    expect(frames(cut).frames.map((f) => f.length)).toEqual([packetA.length, packetB.length - 5]);
    expect(frames(cut).diagnostics).toEqual([
      `warning: frame 1, offset 0x${second.toString(16)}: record data: expected ${packetB.length} bytes, found ${packetB.length - 5} at the end of the file [pcap/truncated-record]`,
    ]);
    expect(frames(file.subarray(0, 24 + 16 + packetA.length + 7)).diagnostics).toEqual([
      `warning: frame 1, offset 0x${(24 + 16 + packetA.length).toString(16)}: record header: expected 16 bytes, found 7 at the end of the file [pcap/truncated-record]`,
    ]);
  });

  it('skips a damaged record header to the next plausible record', () => {
    const records = [0, 1, 2, 3].map((i) => ({
      seconds: 1_700_000_000 + i,
      fraction: i,
      data: i % 2 ? packetB : packetA,
    }));
    const file = pcap(records);
    const second = 24 + 16 + packetA.length;
    // A record length of 0xFFFFFF00 in frame 1: its data and frame 1 are lost, frames 2 and 3 are read.
    new DataView(file.buffer).setUint32(second + 8, 0xffffff00, true);
    const result = frames(file);
    expect(result.frames.map((f) => [f.index, f.timestampUs])).toEqual([
      [0, 1_700_000_000_000_000],
      [1, 1_700_000_002_000_002],
      [2, 1_700_000_003_000_003],
    ]);
    expect(result.diagnostics).toEqual([
      `error: frame 1, offset 0x${second.toString(16)}: record header: expected a time fraction below 1000000 and a length up to 262144, found 01 f1 53 65 01 00 00 00 00 ff ff ff 2c 00 00 00 [pcap/bad-record]`,
      `info: frame 1, offset 0x${(second + 16 + packetB.length).toString(16)}: skipped ${16 + packetB.length} bytes to the next plausible record header [pcap/resynchronised]`,
    ]);
  });

  it('does not read a zeroed region as records', () => {
    const file = pcap([
      { seconds: 1_700_000_000, fraction: 0, data: packetA },
      { seconds: 1_700_000_001, fraction: 0, data: packetB },
    ]);
    const zeroed = concat(
      file.subarray(0, 24 + 16 + packetA.length),
      new Uint8Array(64),
      file.subarray(24 + 16 + packetA.length),
    );
    const result = frames(zeroed);
    expect(result.frames.map((f) => f.length)).toEqual([packetA.length, packetB.length]);
    expect(result.diagnostics.map((d) => d.replace(/:.*\[/, ' [')).join('\n')).toBe(
      'error [pcap/bad-record]\ninfo [pcap/resynchronised]',
    );
  });

  it('reports a header it cannot read and an unknown format', () => {
    expect(frames(pcap([]).subarray(0, 10)).diagnostics).toEqual([
      'error: offset 0x0: pcap file header: expected 24 bytes, found 10 left of 10 [pcap/bad-header]',
    ]);
    expect(frames(text('GIF89a....'))).toEqual({
      format: 'unknown',
      frames: [],
      diagnostics: [
        'error: offset 0x0: file magic: expected a pcap (A1 B2 C3 D4, A1 B2 3C 4D) or pcapng (0A 0D 0D 0A) magic, found 47 49 46 38 [capture/unknown-format]',
      ],
    });
  });
});

describe('pcapng', () => {
  // Interface 0: Ethernet in microseconds; interface 1: SLL2 in nanoseconds (if_tsresol 9).
  const shb = sectionHeader();
  const idb0 = interfaceDescription(linkTypes.ethernet);
  const idb1 = interfaceDescription(linkTypes.linuxSll2, { tsresol: 9 });
  const epb0 = enhancedPacket(0, 1_700_000_000_000_001n, packetA);
  const epb1 = enhancedPacket(1, 1_700_000_000_123_456_789n, sll2(ipv4(udp(text('ns')), UDP)));
  const custom = block(0x00000bad, text('vendor data, skipped'));
  const nameResolution = block(4, new Uint8Array(4)); // only nrb_record_end
  const file = concat(shb, idb0, idb1, custom, epb0, nameResolution, epb1);

  it('reads packets of two interfaces with their own link types and resolutions', () => {
    const at = (b: Uint8Array) => Buffer.from(file).indexOf(Buffer.from(b));
    expect(frames(file)).toEqual({
      format: 'pcapng',
      frames: [
        {
          index: 0,
          timestampUs: 1_700_000_000_000_001,
          linkType: 1,
          interfaceId: 0,
          length: packetA.length,
          originalLength: packetA.length,
          offset: at(epb0) + 28,
          first: 0,
        },
        {
          index: 1,
          timestampUs: 1_700_000_000_123_456,
          linkType: 276,
          interfaceId: 1,
          length: 20 + 20 + 8 + 2,
          originalLength: 50,
          offset: at(epb1) + 28,
          first: 0x08,
        },
      ],
      diagnostics: [],
    });
  });

  it('reads a big-endian section after a little-endian one, with Simple Packet Blocks', () => {
    const second = concat(
      sectionHeader(false),
      interfaceDescription(linkTypes.raw, { le: false, tsresol: 3 }),
      enhancedPacket(0, 1_700_000_000_500n, ipv4(udp(text('ms')), UDP), false),
      simplePacket(ipv4(udp(text('spb')), UDP), false),
    );
    const result = frames(concat(file, second));
    expect(result.diagnostics).toEqual([]);
    expect(result.frames.map((f) => [f.index, f.timestampUs, f.linkType, f.interfaceId, f.length])).toEqual([
      [0, 1_700_000_000_000_001, 1, 0, packetA.length],
      [1, 1_700_000_000_123_456, 276, 1, 50],
      [2, 1_700_000_000_500_000, 101, 0, 30],
      [3, 1_700_000_000_500_000, 101, 0, 31], // no time of its own: the previous frame's
    ]);
  });

  it('skips a packet of an undeclared interface and a block with a bad trailer', () => {
    const stray = enhancedPacket(7, 1n, packetA);
    const damaged = enhancedPacket(0, 2n, packetB);
    new DataView(damaged.buffer).setUint32(damaged.length - 4, 12, true);
    const bytes = concat(shb, idb0, stray, damaged, epb0);
    const strayAt = shb.length + idb0.length;
    const damagedAt = strayAt + stray.length;
    const result = frames(bytes);
    // The damaged block is not counted: nothing says it held a packet.
    expect(result.frames.map((f) => [f.index, f.timestampUs])).toEqual([[1, 1_700_000_000_000_001]]);
    expect(result.diagnostics).toEqual([
      `error: frame 0, offset 0x${(strayAt + 8).toString(16)}: interface id: expected one of the 1 interfaces of this section, found 7 [pcapng/unknown-interface]`,
      `error: frame 1, offset 0x${damagedAt.toString(16)}: block trailer: expected length ${damaged.length}, found 12 [pcapng/bad-block]`,
      `info: frame 1, offset 0x${(damagedAt + damaged.length).toString(16)}: skipped ${damaged.length} bytes to the next plausible block [pcapng/resynchronised]`,
    ]);
  });

  it('reports a last block cut short and a file without a section header', () => {
    const cut = file.subarray(0, file.length - 10);
    expect(frames(cut).frames.length).toBe(1);
    expect(frames(cut).diagnostics).toEqual([
      `warning: frame 1, offset 0x${(file.length - epb1.length).toString(16)}: block length: expected ${epb1.length} bytes, found ${epb1.length - 10} left [pcapng/truncated-block]`,
    ]);
    const noMagic = concat(block(0x0a0d0d0a, new Uint8Array(16)));
    expect(frames(noMagic).diagnostics).toEqual([
      'error: offset 0x0: section header: expected block type 0A 0D 0D 0A and byte-order magic 1A 2B 3C 4D, found 0a 0d 0d 0a 1c 00 00 00 00 00 00 00 [pcapng/bad-section-header]',
    ]);
  });
});

describe('link layers', () => {
  const packet = ipv4(udp(text('x')), UDP);

  it.each([
    ['Ethernet', linkTypes.ethernet, ethernet(packet), 'ipv4', 0x0800, []],
    ['Ethernet 802.1Q', linkTypes.ethernet, ethernet(packet, { vlans: [100] }), 'ipv4', 0x0800, [100]],
    [
      'Ethernet 802.1ad + 802.1Q',
      linkTypes.ethernet,
      ethernet(packet, { vlans: [100, 200] }),
      'ipv4',
      0x0800,
      [100, 200],
    ],
    [
      'Ethernet ARP',
      linkTypes.ethernet,
      ethernet(new Uint8Array(28), { etherType: 0x0806 }),
      'other',
      0x0806,
      [],
    ],
    [
      'Ethernet 802.3 with SNAP',
      linkTypes.ethernet,
      ethernet(concat(be([0xaaaa03, 4]).subarray(1), be([0, 2], [0, 1], [0x0800, 2]), packet), {
        etherType: packet.length + 8,
      }),
      'ipv4',
      0x0800,
      [],
    ],
    [
      'Linux SLL',
      linkTypes.linuxSll,
      concat(
        be([0, 2], [1, 2], [6, 2]),
        new Uint8Array(8),
        be([0x86dd, 2]),
        ipv6(udp(text('x')), { nextHeader: 17 }),
      ),
      'ipv6',
      0x86dd,
      [],
    ],
    ['Linux SLL2', linkTypes.linuxSll2, sll2(packet), 'ipv4', 0x0800, []],
    ['raw', linkTypes.raw, packet, 'ipv4', -1, []],
    ['raw (BSD 12)', linkTypes.rawBsd, ipv6(udp(text('x')), { nextHeader: 17 }), 'ipv6', -1, []],
    ['IPv4', linkTypes.ipv4, packet, 'ipv4', -1, []],
    [
      'BSD loopback, little-endian AF_INET',
      linkTypes.null,
      concat(Uint8Array.of(2, 0, 0, 0), packet),
      'ipv4',
      2,
      [],
    ],
    [
      'BSD loopback, big-endian AF_INET6 (macOS)',
      linkTypes.null,
      concat(Uint8Array.of(0, 0, 0, 30), ipv6(new Uint8Array(0))),
      'ipv6',
      30,
      [],
    ],
    ['OpenBSD loopback', linkTypes.loop, concat(Uint8Array.of(0, 0, 0, 2), packet), 'ipv4', 2, []],
  ])('%s', (_name, linkType, data, kind, etherType, vlanIds) => {
    const link = decodeLinkLayer(linkType, data);
    expect({ kind: link.kind, etherType: link.etherType, vlanIds: link.vlanIds }).toEqual({
      kind,
      etherType,
      vlanIds,
    });
    if (kind === 'ipv4') expect(link.payload).toEqual(packet);
  });

  it('reports a short header with the file offset and an unsupported link type once', () => {
    const file = pcap(
      [
        { seconds: 1, fraction: 0, data: ethernet(packet).subarray(0, 13) },
        { seconds: 1, fraction: 1, data: ethernet(packet, { vlans: [5] }) },
      ],
      {},
    );
    const reading = readFlows(file);
    expect([...reading.items].map(flowItemText)).toEqual([
      'udp 10.0.0.1:50000 → 10.0.0.2:53 "x" [frame 1 t=1000001]',
    ]);
    expect(reading.diagnostics.map(formatCaptureDiagnostic)).toEqual([
      'error: frame 0, offset 0x34: EtherType: expected 2 bytes, found 1 left of 13 [link/bad-frame]',
    ]);
    const bluetooth = readFlows(
      pcap(
        [0, 1].map((i) => ({ seconds: i, fraction: 0, data: packet })),
        { linkType: 187 },
      ),
    );
    expect([...bluetooth.items]).toEqual([]);
    expect(bluetooth.diagnostics.map(formatCaptureDiagnostic)).toEqual([
      'warning: frame 0: link type 187 is not decoded; its frames are skipped [link/unsupported-link-type]',
    ]);
    expect(bluetooth.stats.nonIp).toBe(2);
  });
});

describe('readFlows', () => {
  it('decodes UDP and TCP across interfaces of a pcapng file in capture order', () => {
    const shb = sectionHeader();
    const bytes = concat(
      shb,
      interfaceDescription(linkTypes.ethernet),
      interfaceDescription(linkTypes.linuxSll2, { tsresol: 9 }),
      enhancedPacket(0, 10n, ethernet(ipv4(tcp(new Uint8Array(0), { flags: 'S', seq: 99 })), { vlans: [7] })),
      enhancedPacket(1, 20_000n, sll2(ipv4(udp(text('query'), 40000, 53), UDP))),
      enhancedPacket(0, 30n, ethernet(ipv4(tcp(text('hello'), { seq: 100 })), { vlans: [7] })),
    );
    const reading = readFlows(bytes);
    expect([...reading.items].map(flowItemText)).toEqual([
      'open #0 10.0.0.1:50000 → 10.0.0.2:445 (handshake) [frame 0 t=10]',
      'udp 10.0.0.1:40000 → 10.0.0.2:53 "query" [frame 1 t=20]',
      'data #0 toServer @0 "hello" [frame 2 t=30]',
      'close #0 end [frame 2 t=30]',
    ]);
    expect(reading.diagnostics).toEqual([] satisfies CaptureDiagnostic[]);
    expect(reading.stats).toEqual({
      frames: 3,
      nonIp: 0,
      undecodable: 0,
      ipv4: 3,
      ipv6: 0,
      fragments: 0,
      reassembled: 0,
      tcpSegments: 2,
      udpDatagrams: 1,
      otherIp: 0,
    });
  });
});
