// Builds bench/pcap's input: the lab captures merged in time order into one "copy", repeated as
// many times as it takes to reach a size, as a classic pcap. Each copy is shifted forward in time
// and gets its own client addresses, so every copy's conversations are new TCP streams.
import { decodeLinkLayer, readCapture } from '@palisade/protocols';

/** One frame of the copy, with where its timestamp, addresses and checksums sit in `records`. */
interface TemplateFrame {
  readonly timestampUs: number;
  /** Offset of the frame's pcap record header in `records`. */
  readonly at: number;
  /** Offset of the IPv4 header in `records`; -1 when the frame carries none. */
  readonly ip: number;
  /** Client index of the source and destination address; -1 for an address kept as it is. */
  readonly srcClient: number;
  readonly dstClient: number;
  /** Offset of the TCP or UDP checksum in `records`; -1 when the frame has none to fix. */
  readonly l4Checksum: number;
  readonly udp: boolean;
}

/** The merged lab captures, ready to be written any number of times. */
export interface CaptureTemplate {
  readonly linkType: number;
  /** Every frame as a classic pcap record (16-byte header + captured bytes), in time order. */
  readonly records: Uint8Array;
  readonly frames: readonly TemplateFrame[];
  /** Captured bytes of one copy's frames, record headers left out. */
  readonly packetBytes: number;
  /** Distinct client addresses over all inputs (an address is one client per input). */
  readonly clients: number;
  /** How far each copy is shifted from the previous one: the copy's span plus one second. */
  readonly periodUs: number;
}

/** What `writeReplica` wrote. */
export interface ReplicaSummary {
  readonly copies: number;
  readonly packets: number;
  readonly packetBytes: number;
  readonly fileBytes: number;
}

const PCAP_HEADER = 24;
const RECORD_HEADER = 16;
const IP_PROTOCOL_TCP = 6;
const IP_PROTOCOL_UDP = 17;
// Copies' clients are numbered into 100.64.0.0/10 (RFC 6598), which no lab host uses.
const CLIENT_BASE = 0x64400000;
const CLIENT_SPACE = 1 << 22;

/**
 * Reads the captures (pcap or pcapng, one link type) into one copy. A client is an IPv4 address
 * that never receives a TCP SYN: the lab's attacker and workstation, not its DC.
 */
export function captureTemplate(captures: readonly Uint8Array[]): CaptureTemplate {
  const frames = captures.flatMap((bytes, input) => {
    const reading = readCapture(bytes);
    const read = [...reading.frames].map((frame) => ({ ...frame, input }));
    const error = reading.diagnostics.find((d) => d.severity === 'error');
    if (error) throw new Error(`capture ${input + 1} of ${captures.length}: ${error.message}`);
    return read;
  });
  const linkTypes = new Set(frames.map((f) => f.linkType));
  const linkType = [...linkTypes][0];
  if (linkType === undefined || linkTypes.size > 1)
    throw new Error(`expected frames of one link type, found ${[...linkTypes].join(', ') || 'no frames'}`);
  // Stable: frames of one input keep their order when timestamps tie.
  frames.sort((a, b) => a.timestampUs - b.timestampUs);

  const ipAt = frames.map((f) => ipv4Offset(linkType, f.data));
  const servers = new Set<string>();
  for (const [i, f] of frames.entries()) {
    const ip = ipAt[i] as number;
    const tcp = ip >= 0 ? ip + ihl(f.data, ip) : -1;
    // A SYN without ACK opens a connection to its destination.
    if (tcp >= 0 && f.data[ip + 9] === IP_PROTOCOL_TCP && ((f.data[tcp + 13] ?? 0) & 0x12) === 0x02)
      servers.add(`${f.input}/${u32(f.data, ip + 16)}`);
  }
  const clients = new Map<string, number>();
  const client = (input: number, address: number) => {
    const key = `${input}/${address}`;
    if (servers.has(key)) return -1;
    let index = clients.get(key);
    if (index === undefined) clients.set(key, (index = clients.size));
    return index;
  };

  const packetBytes = frames.reduce((sum, f) => sum + f.data.length, 0);
  const records = new Uint8Array(packetBytes + RECORD_HEADER * frames.length);
  const view = new DataView(records.buffer);
  const template: TemplateFrame[] = [];
  let at = 0;
  for (const [i, f] of frames.entries()) {
    view.setUint32(at + 8, f.data.length, true);
    view.setUint32(at + 12, f.originalLength, true);
    records.set(f.data, at + RECORD_HEADER);
    const ip = ipAt[i] as number;
    const base = at + RECORD_HEADER;
    const fixed = { timestampUs: f.timestampUs, at, ip: -1, srcClient: -1, dstClient: -1 };
    if (ip < 0) template.push({ ...fixed, l4Checksum: -1, udp: false });
    else {
      const protocol = f.data[ip + 9];
      const l4 = ip + ihl(f.data, ip);
      // Only a datagram's first fragment holds the TCP or UDP header.
      const firstFragment = (u16(f.data, ip + 6) & 0x1fff) === 0;
      const checksumAt =
        !firstFragment || (protocol !== IP_PROTOCOL_TCP && protocol !== IP_PROTOCOL_UDP)
          ? -1
          : l4 + (protocol === IP_PROTOCOL_TCP ? 16 : 6);
      template.push({
        ...fixed,
        ip: base + ip,
        srcClient: client(f.input, u32(f.data, ip + 12)),
        dstClient: client(f.input, u32(f.data, ip + 16)),
        l4Checksum: checksumAt >= 0 && checksumAt + 2 <= f.data.length ? base + checksumAt : -1,
        udp: protocol === IP_PROTOCOL_UDP,
      });
    }
    at += RECORD_HEADER + f.data.length;
  }
  const first = frames[0]?.timestampUs ?? 0;
  const last = frames.at(-1)?.timestampUs ?? 0;
  return {
    linkType,
    records,
    frames: template,
    packetBytes,
    clients: clients.size,
    periodUs: last - first + 1_000_000,
  };
}

/** How many copies make a file of at least `minBytes`. */
export function copiesFor(template: CaptureTemplate, minBytes: number): number {
  return Math.max(1, Math.ceil((minBytes - PCAP_HEADER) / template.records.length));
}

/**
 * Writes a classic pcap (little-endian, microseconds) of `copies` copies through `write`, one
 * chunk per copy. Copy k is shifted k periods later and its clients take addresses
 * 100.64.0.0 + k × clients + client, with the IPv4 and TCP/UDP checksums adjusted to match.
 */
export function writeReplica(
  template: CaptureTemplate,
  copies: number,
  write: (chunk: Uint8Array) => void,
): ReplicaSummary {
  if (copies * template.clients > CLIENT_SPACE)
    throw new Error(`expected at most ${CLIENT_SPACE} client addresses, found ${copies * template.clients}`);
  const header = new DataView(new ArrayBuffer(PCAP_HEADER));
  header.setUint32(0, 0xa1b2c3d4, true);
  header.setUint16(4, 2, true);
  header.setUint16(6, 4, true);
  header.setUint32(16, 262144, true);
  header.setUint32(20, template.linkType, true);
  write(new Uint8Array(header.buffer));
  const copy = new Uint8Array(template.records.length);
  const view = new DataView(copy.buffer);
  for (let k = 0; k < copies; k++) {
    copy.set(template.records);
    const shift = k * template.periodUs;
    for (const f of template.frames) {
      const us = f.timestampUs + shift;
      view.setUint32(f.at, Math.floor(us / 1e6), true);
      view.setUint32(f.at + 4, us % 1e6, true);
      if (f.srcClient >= 0) readdress(view, f, f.ip + 12, CLIENT_BASE + k * template.clients + f.srcClient);
      if (f.dstClient >= 0) readdress(view, f, f.ip + 16, CLIENT_BASE + k * template.clients + f.dstClient);
    }
    write(copy);
  }
  return {
    copies,
    packets: copies * template.frames.length,
    packetBytes: copies * template.packetBytes,
    fileBytes: PCAP_HEADER + copies * template.records.length,
  };
}

// Puts `to` at `at` and adjusts the IPv4 header checksum and the TCP/UDP checksum (whose
// pseudo-header holds the address) by the difference, so a valid checksum stays valid.
function readdress(view: DataView, f: TemplateFrame, at: number, to: number): void {
  const from = view.getUint32(at);
  view.setUint32(at, to);
  view.setUint16(f.ip + 10, adjustChecksum(view.getUint16(f.ip + 10), from, to));
  if (f.l4Checksum < 0) return;
  const sum = view.getUint16(f.l4Checksum);
  // A UDP checksum of 0 means none was computed; a computed 0 is sent as FFFF (RFC 768).
  if (f.udp && sum === 0) return;
  const adjusted = adjustChecksum(sum, from, to);
  view.setUint16(f.l4Checksum, f.udp && adjusted === 0 ? 0xffff : adjusted);
}

/** RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 32-bit field m changed to m'. */
export function adjustChecksum(checksum: number, from: number, to: number): number {
  let sum = (~checksum & 0xffff) + (~(from >>> 16) & 0xffff) + (~from & 0xffff) + (to >>> 16) + (to & 0xffff);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

// Where the IPv4 header starts in a frame, or -1 (not IPv4, or a header the capture cut short).
function ipv4Offset(linkType: number, data: Uint8Array): number {
  let payload: Uint8Array;
  try {
    const link = decodeLinkLayer(linkType, data);
    if (link.kind !== 'ipv4') return -1;
    payload = link.payload;
  } catch {
    // A frame the link layer cannot read is copied as it is.
    return -1;
  }
  const at = payload.byteOffset - data.byteOffset;
  return payload.length >= 20 && ihl(data, at) >= 20 && at + ihl(data, at) <= data.length ? at : -1;
}

const ihl = (data: Uint8Array, ip: number) => ((data[ip] ?? 0) & 0x0f) * 4;
const u16 = (data: Uint8Array, at: number) => ((data[at] ?? 0) << 8) | (data[at + 1] ?? 0);
const u32 = (data: Uint8Array, at: number) => ((u16(data, at) << 16) | u16(data, at + 2)) >>> 0;
