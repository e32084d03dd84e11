// IPv4 (RFC 791) and IPv6 (RFC 8200) headers, IPv6 extension headers, and fragment reassembly
// for both, bounded in memory and timed out by capture time.
import { ByteReader, ParseError } from '@palisade/binary';
import { type OnCaptureDiagnostic, parseErrorMessage } from './capture-diagnostics.ts';
import { boundsError, u16At, u32At } from './capture-frame.ts';

/** An IP packet, or a whole datagram once its fragments are reassembled. */
export interface IpPacket {
  readonly version: 4 | 6;
  /** Source address as text: dotted quad, or RFC 5952 form for IPv6. */
  readonly src: string;
  readonly dst: string;
  /**
   * Upper-layer protocol (6 TCP, 17 UDP, …) after any IPv6 extension headers. For an IPv6
   * fragment, the Next Header of its Fragment header.
   */
  readonly protocol: number;
  /** Time to live (IPv4) or hop limit (IPv6). */
  readonly ttl: number;
  /** The upper-layer bytes (for a fragment, its part of them): a view unless reassembled. */
  readonly payload: Uint8Array;
  /** True when the capture holds fewer bytes than the header declares (a snap length cut). */
  readonly truncated: boolean;
  /** Present on a fragment; absent on unfragmented and reassembled datagrams. */
  readonly fragment?: IpFragment;
}

/** Where a fragment belongs in its datagram (RFC 791 §3.2, RFC 8200 §4.5). */
export interface IpFragment {
  /** Identification: 16 bits for IPv4, 32 for IPv6. */
  readonly id: number;
  /** Byte offset of this fragment's data in the datagram's upper-layer bytes. */
  readonly offset: number;
  /** More Fragments flag: false on the last fragment. */
  readonly more: boolean;
}

const IPV4_MIN_HEADER = 20;
const IPV6_HEADER = 40;
const MAX_DATAGRAM = 65_535;
// IPv6 extension headers shaped as Next Header, Hdr Ext Len in 8-octet units beyond the first
// eight: Hop-by-Hop (0), Routing (43), Destination Options (60), Mobility (135), HIP (139),
// Shim6 (140). AH (51) counts 4-octet units; Fragment (44) is 8 octets.
const EXTENSION_8 = new Set([0, 43, 60, 135, 139, 140]);
const AH = 51;
const FRAGMENT = 44;

/**
 * Decodes an IPv4 or IPv6 packet; `base` is the offset of `bytes[0]` in the capture file.
 * Throws ParseError when the header is short or inconsistent.
 */
export function decodeIp(bytes: Uint8Array, base = 0): IpPacket {
  if (bytes.length === 0) throw boundsError(bytes, base, 0, 1, 'IP version');
  const version = (bytes[0] ?? 0) >> 4;
  if (version === 4) return decodeIpv4(bytes, base);
  if (version === 6) return decodeIpv6(bytes, base);
  throw new ByteReader(bytes, base).fail(0, 'IP version', '4 or 6', `${version}`);
}

/** An IPv4 packet (RFC 791 §3.1). The checksum is not checked; options are skipped. */
export function decodeIpv4(bytes: Uint8Array, base = 0): IpPacket {
  if (bytes.length < IPV4_MIN_HEADER) throw boundsError(bytes, base, 0, IPV4_MIN_HEADER, 'IPv4 header');
  const first = bytes[0] as number;
  if (first >> 4 !== 4) throw new ByteReader(bytes, base).fail(0, 'IPv4 version', '4', `${first >> 4}`);
  const headerLength = (first & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER) {
    throw new ByteReader(bytes, base).fail(0, 'IPv4 header length', 'at least 20 bytes', `${headerLength}`);
  }
  if (headerLength > bytes.length) throw boundsError(bytes, base, 0, headerLength, 'IPv4 header');
  const declared = u16At(bytes, 2);
  // A total length of 0 is what TCP segmentation offload leaves on packets captured on the
  // sending host: the captured length is the real one.
  const totalLength = declared === 0 ? bytes.length : declared;
  if (totalLength < headerLength) {
    throw new ByteReader(bytes, base).fail(
      2,
      'IPv4 total length',
      `at least the header length ${headerLength}`,
      `${totalLength}`,
    );
  }
  const flags = u16At(bytes, 6);
  const more = (flags & 0x2000) !== 0;
  const offset = (flags & 0x1fff) * 8;
  const packet: IpPacket = {
    version: 4,
    src: formatIpv4(bytes, 12),
    dst: formatIpv4(bytes, 16),
    protocol: bytes[9] as number,
    ttl: bytes[8] as number,
    payload: bytes.subarray(headerLength, Math.min(totalLength, bytes.length)),
    truncated: totalLength > bytes.length,
  };
  if (!more && offset === 0) return packet;
  return { ...packet, fragment: { id: u16At(bytes, 4), offset, more } };
}

/** An IPv6 packet (RFC 8200 §3) with its extension headers (§4) walked to the upper layer. */
export function decodeIpv6(bytes: Uint8Array, base = 0): IpPacket {
  if (bytes.length < IPV6_HEADER) throw boundsError(bytes, base, 0, IPV6_HEADER, 'IPv6 header');
  const version = (bytes[0] as number) >> 4;
  if (version !== 6) throw new ByteReader(bytes, base).fail(0, 'IPv6 version', '6', `${version}`);
  const payloadLength = u16At(bytes, 4);
  // Payload length 0 with a Hop-by-Hop header is a jumbogram (RFC 2675): take what was captured.
  const declared = payloadLength === 0 ? bytes.length : IPV6_HEADER + payloadLength;
  const end = Math.min(declared, bytes.length);
  const next = bytes[6] as number;
  const walked: Walked =
    EXTENSION_8.has(next) || next === AH || next === FRAGMENT
      ? walkIpv6Headers(new ByteReader(bytes.subarray(0, end), base), next, IPV6_HEADER)
      : { protocol: next, offset: IPV6_HEADER };
  const packet: IpPacket = {
    version: 6,
    src: formatIpv6(bytes, 8),
    dst: formatIpv6(bytes, 24),
    protocol: walked.protocol,
    ttl: bytes[7] as number,
    payload: bytes.subarray(walked.offset, end),
    truncated: declared > bytes.length,
  };
  // An atomic fragment (offset 0, no more fragments) is processed as a whole packet (RFC 6946).
  const f = walked.fragment;
  if (f === undefined || (f.offset === 0 && !f.more)) return packet;
  return { ...packet, fragment: f };
}

interface Walked {
  protocol: number;
  offset: number;
  fragment?: IpFragment;
}

// Follows Next Header through the extension headers starting at `at`, up to the upper layer or a
// Fragment header (what follows one is only readable after reassembly).
function walkIpv6Headers(r: ByteReader, first: number, start: number): Walked {
  let next = first;
  let at = start;
  for (;;) {
    if (EXTENSION_8.has(next) || next === AH) {
      const units = r.u8(at + 1, 'IPv6 extension header length');
      const size = next === AH ? (units + 2) * 4 : (units + 1) * 8;
      r.ensure(at, size, 'IPv6 extension header');
      next = r.u8(at, 'IPv6 extension next header');
      at += size;
    } else if (next === FRAGMENT) {
      r.ensure(at, 8, 'IPv6 fragment header');
      const word = r.u16be(at + 2, 'IPv6 fragment offset');
      return {
        protocol: r.u8(at, 'IPv6 fragment next header'),
        offset: at + 8,
        fragment: {
          id: r.u32be(at + 4, 'IPv6 fragment identification'),
          offset: word & 0xfff8,
          more: (word & 1) !== 0,
        },
      };
    } else {
      return { protocol: next, offset: at };
    }
  }
}

// A capture holds few distinct addresses and every packet names two: handing out one string per
// address saves building them, and makes the TCP reassembler's comparisons of them cheap.
const ipv4Texts = new Map<number, string>();
const MAX_IPV4_TEXTS = 4096;

/** Dotted-quad text of the four bytes at `at`. */
export function formatIpv4(bytes: Uint8Array, at: number): string {
  if (at < 0 || at + 4 > bytes.length) return formatIpv4Text(bytes, at);
  const address = u32At(bytes, at);
  let text = ipv4Texts.get(address);
  if (text === undefined) {
    if (ipv4Texts.size === MAX_IPV4_TEXTS) ipv4Texts.clear();
    text = formatIpv4Text(bytes, at);
    ipv4Texts.set(address, text);
  }
  return text;
}

function formatIpv4Text(bytes: Uint8Array, at: number): string {
  return `${bytes[at] ?? 0}.${bytes[at + 1] ?? 0}.${bytes[at + 2] ?? 0}.${bytes[at + 3] ?? 0}`;
}

/** RFC 5952 text of the sixteen bytes at `at`: lower case, longest zero run as `::`, mapped IPv4 dotted. */
export function formatIpv6(bytes: Uint8Array, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[at + i * 2] ?? 0) << 8) | (bytes[at + i * 2 + 1] ?? 0));
  // ::ffff:a.b.c.d (RFC 5952 §5)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes, at + 12)}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not shortened (§4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Limits of an `IpReassembler`. */
export interface IpReassemblyOptions {
  /** Capture time after the first fragment when an incomplete datagram is given up (µs). Default 30 s. */
  readonly timeoutUs?: number;
  /** Datagrams being reassembled at once; the oldest is given up beyond it. Default 1024. */
  readonly maxDatagrams?: number;
  /** Fragment bytes held in total; the oldest datagrams are given up beyond it. Default 16 MiB. */
  readonly maxBufferedBytes?: number;
  /** Distinct pieces one datagram may hold, against floods of tiny fragments. Default 512. */
  readonly maxPieces?: number;
  readonly onDiagnostic?: OnCaptureDiagnostic;
}

interface Piece {
  offset: number;
  data: Uint8Array;
}

interface Pending {
  readonly first: IpPacket;
  readonly firstFrame: number;
  readonly firstSeenUs: number;
  /** The upper-layer protocol from the fragment at offset 0, once seen. */
  protocol: number;
  /** Non-overlapping, sorted by offset. */
  readonly pieces: Piece[];
  bytes: number;
  /** Datagram length, known from the last fragment; -1 until then. */
  total: number;
}

/**
 * Reassembles IPv4 and IPv6 fragments into datagrams. Overlaps are resolved deterministically:
 * bytes that arrived first win, and an overlap whose bytes differ is reported. Fragments are
 * copied while they wait.
 */
export class IpReassembler {
  readonly #timeoutUs: number;
  readonly #maxDatagrams: number;
  readonly #maxBufferedBytes: number;
  readonly #maxPieces: number;
  readonly #report: OnCaptureDiagnostic;
  readonly #pending = new Map<string, Pending>();
  #buffered = 0;

  constructor(options: IpReassemblyOptions = {}) {
    this.#timeoutUs = options.timeoutUs ?? 30_000_000;
    this.#maxDatagrams = options.maxDatagrams ?? 1024;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#maxPieces = options.maxPieces ?? 512;
    this.#report = options.onDiagnostic ?? (() => {});
  }

  /** Datagrams waiting for fragments. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Takes one packet seen at `timestampUs` in frame `frame`. Returns it unchanged when it is not
   * a fragment, the whole datagram when this fragment completes one, and undefined otherwise.
   */
  push(packet: IpPacket, timestampUs: number, frame: number): IpPacket | undefined {
    if (this.#pending.size > 0) this.expire(timestampUs);
    const f = packet.fragment;
    if (f === undefined) return packet;
    if (packet.truncated) {
      this.#report({
        severity: 'warning',
        code: 'ip/truncated-packet',
        message: `fragment ${this.#describe(packet)} was cut short by the capture; its datagram cannot be completed`,
        frame,
      });
      return undefined;
    }
    const start = f.offset;
    const end = start + packet.payload.length;
    if (end > MAX_DATAGRAM) {
      this.#report({
        severity: 'error',
        code: 'ip/bad-fragment',
        message: `fragment ${this.#describe(packet)}: expected data to end by byte ${MAX_DATAGRAM}, found ${end}`,
        frame,
      });
      return undefined;
    }
    // IPv4 keys include the protocol (RFC 791 §3.2); an IPv6 fragment's Next Header may differ
    // between fragments, so only addresses and id count (RFC 8200 §4.5).
    const key = `${packet.version}|${packet.src}|${packet.dst}|${packet.version === 4 ? packet.protocol : ''}|${f.id}`;
    let entry = this.#pending.get(key);
    if (entry === undefined) {
      entry = {
        first: packet,
        firstFrame: frame,
        firstSeenUs: timestampUs,
        protocol: -1,
        pieces: [],
        bytes: 0,
        total: -1,
      };
      this.#pending.set(key, entry);
    }
    if (start === 0) entry.protocol = packet.protocol;

    const lastEnd = entry.pieces.at(-1);
    const highest = lastEnd === undefined ? 0 : lastEnd.offset + lastEnd.data.length;
    const conflict = !f.more
      ? (entry.total >= 0 && entry.total !== end) || highest > end
      : entry.total >= 0 && end > entry.total;
    if (conflict) {
      this.#report({
        severity: 'warning',
        code: 'ip/bad-fragment',
        message: `fragment ${this.#describe(packet)}: bytes ${start}–${end} disagree with the datagram's end ${entry.total >= 0 ? entry.total : highest}; ignored`,
        frame,
      });
      return undefined;
    }
    if (!f.more) entry.total = end;
    const added = this.#insert(entry, start, packet.payload, packet, frame);
    this.#buffered += added;

    if (entry.total >= 0 && entry.bytes === entry.total) {
      this.#pending.delete(key);
      this.#buffered -= entry.bytes;
      return this.#assemble(entry, frame);
    }
    if (entry.pieces.length > this.#maxPieces) {
      this.#giveUp(key, entry, 'ip/reassembly-overflow', `more than ${this.#maxPieces} pieces`);
    }
    this.#enforceLimits(key);
    return undefined;
  }

  /** Gives up datagrams whose first fragment is older than the timeout at `nowUs`. */
  expire(nowUs: number): void {
    // Insertion order is arrival order of first fragments, so the oldest come first.
    for (const [key, entry] of this.#pending) {
      if (nowUs - entry.firstSeenUs <= this.#timeoutUs) break;
      this.#giveUp(key, entry, 'ip/incomplete-datagram', 'timed out');
    }
  }

  /** Gives up every datagram still waiting, at the end of a capture. */
  flush(): void {
    for (const [key, entry] of this.#pending) {
      this.#giveUp(key, entry, 'ip/incomplete-datagram', 'the capture ended');
    }
  }

  // Adds the parts of [start, start + data.length) no piece covers yet; returns the bytes added.
  #insert(entry: Pending, start: number, data: Uint8Array, packet: IpPacket, frame: number): number {
    const end = start + data.length;
    const pieces = entry.pieces;
    const fresh: Piece[] = [];
    let cursor = start;
    let differs = false;
    let at = 0;
    while (at < pieces.length && (pieces[at] as Piece).offset + (pieces[at] as Piece).data.length <= start)
      at++;
    const insertAt = at;
    for (; at < pieces.length && cursor < end; at++) {
      const p = pieces[at] as Piece;
      const pEnd = p.offset + p.data.length;
      if (p.offset >= end) break;
      if (p.offset > cursor)
        fresh.push({ offset: cursor, data: copy(data.subarray(cursor - start, p.offset - start)) });
      const from = Math.max(p.offset, start);
      const to = Math.min(pEnd, end);
      if (!differs && !sameBytes(p.data, from - p.offset, data, from - start, to - from)) differs = true;
      cursor = Math.max(cursor, pEnd);
    }
    if (cursor < end) fresh.push({ offset: cursor, data: copy(data.subarray(cursor - start)) });
    if (differs) {
      this.#report({
        severity: 'warning',
        code: 'ip/fragment-overlap',
        message: `fragment ${this.#describe(packet)} overlaps earlier fragments with different bytes; the earlier bytes are kept`,
        frame,
      });
    }
    let added = 0;
    for (const piece of fresh) added += piece.data.length;
    // Fresh pieces lie between the pieces before `insertAt` and those at or after it, in order.
    let position = insertAt;
    for (const piece of fresh) {
      while (position < pieces.length && (pieces[position] as Piece).offset < piece.offset) position++;
      pieces.splice(position, 0, piece);
      position++;
    }
    entry.bytes += added;
    return added;
  }

  #assemble(entry: Pending, frame: number): IpPacket | undefined {
    const data = new Uint8Array(entry.total);
    for (const piece of entry.pieces) data.set(piece.data, piece.offset);
    const first = entry.first;
    if (first.version === 4) {
      return {
        version: 4,
        src: first.src,
        dst: first.dst,
        protocol: first.protocol,
        ttl: first.ttl,
        payload: data,
        truncated: false,
      };
    }
    // The fragmentable part may start with more extension headers before the upper layer.
    try {
      const walked = walkIpv6Headers(new ByteReader(data), entry.protocol, 0);
      return {
        version: 6,
        src: first.src,
        dst: first.dst,
        protocol: walked.protocol,
        ttl: first.ttl,
        payload: data.subarray(walked.offset),
        truncated: false,
      };
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.#report({
        severity: 'error',
        code: 'ip/bad-packet',
        message: `reassembled datagram ${this.#describe(first)}: ${parseErrorMessage(e)} at ${e.offset} in its data`,
        frame,
      });
      return undefined;
    }
  }

  #giveUp(
    key: string,
    entry: Pending,
    code: 'ip/incomplete-datagram' | 'ip/reassembly-overflow',
    why: string,
  ): void {
    this.#pending.delete(key);
    this.#buffered -= entry.bytes;
    const total = entry.total >= 0 ? `${entry.total}` : 'an unknown number of';
    this.#report({
      severity: 'warning',
      code,
      message: `datagram ${this.#describe(entry.first)} given up (${why}) with ${entry.bytes} of ${total} bytes in ${entry.pieces.length} pieces`,
      frame: entry.firstFrame,
    });
  }

  #enforceLimits(keep: string): void {
    for (const [key, entry] of this.#pending) {
      if (this.#pending.size <= this.#maxDatagrams && this.#buffered <= this.#maxBufferedBytes) return;
      if (key === keep && this.#pending.size === 1) return;
      this.#giveUp(key, entry, 'ip/reassembly-overflow', 'reassembly buffers are full');
    }
  }

  #describe(packet: IpPacket): string {
    return `${packet.src} → ${packet.dst} id ${packet.fragment?.id ?? '?'}`;
  }
}

// A copy that owns its bytes: `slice` on a Node Buffer would return a view of the capture.
function copy(view: Uint8Array): Uint8Array {
  return new Uint8Array(view);
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}
