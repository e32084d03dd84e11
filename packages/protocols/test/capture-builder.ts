// Builds small captures byte by byte for tests: pcap and pcapng files, Ethernet (with VLAN tags),
// SLL2, IPv4 and IPv6 (with fragments), TCP and UDP. Field layouts follow the specs the readers
// cite; values are chosen by each test.

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes from integers written big-endian with the given widths: `be([0x0800, 2])`. */
export function be(...fields: [value: number, width: 1 | 2 | 4][]): Uint8Array {
  const out = new Uint8Array(fields.reduce((n, [, w]) => n + w, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const [value, width] of fields) {
    if (width === 1) view.setUint8(at, value);
    else if (width === 2) view.setUint16(at, value);
    else view.setUint32(at, value >>> 0);
    at += width;
  }
  return out;
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function ipv4Address(a: string): Uint8Array {
  return Uint8Array.from(a.split('.').map(Number));
}

/** Parses an IPv6 address written in full or with one `::`. */
function ipv6Address(a: string): Uint8Array {
  const [head = '', tail] = a.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return be(...all.map((g): [number, 2] => [g, 2]));
}

export interface EthernetOptions {
  etherType?: number;
  /** VLAN ids, outermost first; the outer tag uses 802.1ad (0x88A8) when there are two. */
  vlans?: number[];
}

export function ethernet(payload: Uint8Array, options: EthernetOptions = {}): Uint8Array {
  const macs = Uint8Array.from([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa]);
  const vlans = options.vlans ?? [];
  const tags = vlans.map((id, i) => be([vlans.length > 1 && i === 0 ? 0x88a8 : 0x8100, 2], [id, 2]));
  return concat(macs, ...tags, be([options.etherType ?? 0x0800, 2]), payload);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2). */
export function sll2(payload: Uint8Array, protocol = 0x0800): Uint8Array {
  // protocol, reserved, interface index, ARPHRD_ETHER, packet type (host), address length, address
  return concat(be([protocol, 2], [0, 2], [3, 4], [1, 2], [0, 1], [6, 1]), new Uint8Array(8), payload);
}

export interface Ipv4Options {
  src?: string;
  dst?: string;
  protocol?: number;
  id?: number;
  /** Fragment offset in bytes (a multiple of 8). */
  offset?: number;
  more?: boolean;
  ttl?: number;
  /** Overrides the total length field. */
  totalLength?: number;
}

export function ipv4(payload: Uint8Array, o: Ipv4Options = {}): Uint8Array {
  const header = concat(
    be([0x45, 1], [0, 1], [o.totalLength ?? 20 + payload.length, 2], [o.id ?? 1, 2]),
    be([((o.more ? 1 : 0) << 13) | ((o.offset ?? 0) / 8), 2], [o.ttl ?? 64, 1], [o.protocol ?? 6, 1], [0, 2]),
    ipv4Address(o.src ?? '10.0.0.1'),
    ipv4Address(o.dst ?? '10.0.0.2'),
  );
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ((header[i] as number) << 8) | (header[i + 1] as number);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  new DataView(header.buffer).setUint16(10, ~sum & 0xffff);
  return concat(header, payload);
}

export interface Ipv6Options {
  src?: string;
  dst?: string;
  nextHeader?: number;
  hopLimit?: number;
}

/** An IPv6 packet; `payload` starts with whatever `nextHeader` names. */
export function ipv6(payload: Uint8Array, o: Ipv6Options = {}): Uint8Array {
  return concat(
    be([0x60000000, 4], [payload.length, 2], [o.nextHeader ?? 6, 1], [o.hopLimit ?? 64, 1]),
    ipv6Address(o.src ?? '2001:db8::1'),
    ipv6Address(o.dst ?? '2001:db8::2'),
    payload,
  );
}

/** An IPv6 Fragment header followed by the fragment's data. */
export function ipv6Fragment(
  data: Uint8Array,
  nextHeader: number,
  offset: number,
  more: boolean,
  id: number,
): Uint8Array {
  return concat(be([nextHeader, 1], [0, 1], [offset | (more ? 1 : 0), 2], [id, 4]), data);
}

/** A Destination Options header of 8 bytes (PadN only). */
export function ipv6DestinationOptions(nextHeader: number): Uint8Array {
  return be([nextHeader, 1], [0, 1], [0x01, 1], [4, 1], [0, 4]);
}

export interface TcpOptions {
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  /** Flag letters: S A F R P. */
  flags?: string;
}

export function tcp(payload: Uint8Array, o: TcpOptions = {}): Uint8Array {
  const letters: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 };
  let flags = 0;
  for (const c of o.flags ?? 'A') flags |= letters[c] ?? 0;
  return concat(
    be([o.srcPort ?? 50000, 2], [o.dstPort ?? 445, 2], [o.seq ?? 0, 4], [o.ack ?? 0, 4]),
    be([5 << 4, 1], [flags, 1], [65535, 2], [0, 2], [0, 2]),
    payload,
  );
}

export function udp(payload: Uint8Array, srcPort = 50000, dstPort = 53): Uint8Array {
  return concat(be([srcPort, 2], [dstPort, 2], [8 + payload.length, 2], [0, 2]), payload);
}

export interface PcapOptions {
  bigEndian?: boolean;
  nanoseconds?: boolean;
  linkType?: number;
  snapLength?: number;
}

export interface PcapRecord {
  /** Seconds and fraction (µs or ns as the file says). */
  seconds: number;
  fraction: number;
  data: Uint8Array;
  originalLength?: number;
}

export function pcap(records: PcapRecord[], o: PcapOptions = {}): Uint8Array {
  const le = !o.bigEndian;
  const header = new Uint8Array(24);
  const h = new DataView(header.buffer);
  h.setUint32(0, o.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, le);
  h.setUint16(4, 2, le);
  h.setUint16(6, 4, le);
  h.setUint32(16, o.snapLength ?? 262144, le);
  h.setUint32(20, o.linkType ?? 1, le);
  const parts: Uint8Array[] = [header];
  for (const r of records) {
    const rh = new Uint8Array(16);
    const v = new DataView(rh.buffer);
    v.setUint32(0, r.seconds, le);
    v.setUint32(4, r.fraction, le);
    v.setUint32(8, r.data.length, le);
    v.setUint32(12, r.originalLength ?? r.data.length, le);
    parts.push(rh, r.data);
  }
  return concat(...parts);
}

/** A pcapng block: type, length, body padded to 4 bytes, length again. */
export function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const padded = concat(body, new Uint8Array((4 - (body.length % 4)) % 4));
  const out = new Uint8Array(12 + padded.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, out.length, le);
  out.set(padded, 8);
  v.setUint32(out.length - 4, out.length, le);
  return out;
}

function u32s(le: boolean, ...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => {
    v.setUint32(i * 4, x >>> 0, le);
  });
  return out;
}

export function sectionHeader(le = true): Uint8Array {
  // byte-order magic, version 1.0, section length -1
  const body = concat(u32s(le, 0x1a2b3c4d), new Uint8Array(4), new Uint8Array(8).fill(0xff));
  new DataView(body.buffer).setUint16(4, 1, le);
  return block(0x0a0d0d0a, body, le);
}

/** An Interface Description Block; `tsresol` adds the if_tsresol option. */
export function interfaceDescription(
  linkType: number,
  o: { tsresol?: number; snapLength?: number; le?: boolean } = {},
): Uint8Array {
  const le = o.le ?? true;
  const fixed = new Uint8Array(8);
  const v = new DataView(fixed.buffer);
  v.setUint16(0, linkType, le);
  v.setUint32(4, o.snapLength ?? 0, le);
  const options: Uint8Array[] = [];
  if (o.tsresol !== undefined) {
    const opt = new Uint8Array(8);
    const ov = new DataView(opt.buffer);
    ov.setUint16(0, 9, le);
    ov.setUint16(2, 1, le);
    opt[4] = o.tsresol;
    options.push(opt, new Uint8Array(4)); // opt_endofopt
  }
  return block(1, concat(fixed, ...options), le);
}

/** An Enhanced Packet Block with a 64-bit timestamp in the interface's units. */
export function enhancedPacket(
  interfaceId: number,
  timestamp: bigint,
  data: Uint8Array,
  le = true,
): Uint8Array {
  const high = Number(timestamp >> 32n);
  const low = Number(timestamp & 0xffffffffn);
  return block(6, concat(u32s(le, interfaceId, high, low, data.length, data.length), data), le);
}

export function simplePacket(data: Uint8Array, le = true): Uint8Array {
  return block(3, concat(u32s(le, data.length), data), le);
}
