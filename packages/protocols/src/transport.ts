// UDP (RFC 768) and TCP (RFC 9293) headers over an IP payload; checksums are not verified.
import { ByteReader } from '@palisade/binary';
import { boundsError, u16At, u32At } from './capture-frame.ts';

export const IP_PROTOCOL_TCP = 6;
export const IP_PROTOCOL_UDP = 17;

/** A UDP header and its payload. */
export interface UdpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  /** The UDP length field: header plus payload. */
  readonly length: number;
  /** The datagram's data as a view; shorter than `length - 8` when the capture cut it. */
  readonly payload: Uint8Array;
}

/** A TCP header (RFC 9293 §3.1) and its payload. */
export interface TcpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  /** Sequence and acknowledgment numbers as unsigned 32-bit values. */
  readonly seq: number;
  readonly ack: number;
  /** The eight flag bits (CWR … FIN); test them with `tcpFlags`. */
  readonly flags: number;
  readonly window: number;
  /** The segment's data as a view. */
  readonly payload: Uint8Array;
}

/** Bits of `TcpHeader.flags`. */
export const tcpFlags = {
  fin: 0x01,
  syn: 0x02,
  rst: 0x04,
  psh: 0x08,
  ack: 0x10,
  urg: 0x20,
  ece: 0x40,
  cwr: 0x80,
} as const;

/** Decodes a UDP header; `base` is the offset of `bytes[0]` in the capture file. */
export function decodeUdp(bytes: Uint8Array, base = 0): UdpHeader {
  if (bytes.length < 8) throw boundsError(bytes, base, 0, 8, 'UDP header');
  const length = u16At(bytes, 4);
  // 0 is the length of an IPv6 jumbogram's UDP datagram (RFC 2675 §4): the IP length rules.
  if (length !== 0 && length < 8)
    throw new ByteReader(bytes, base).fail(4, 'UDP length', 'at least 8', `${length}`);
  return {
    srcPort: u16At(bytes, 0),
    dstPort: u16At(bytes, 2),
    length,
    payload: bytes.subarray(8, length === 0 ? bytes.length : Math.min(length, bytes.length)),
  };
}

/** Decodes a TCP header, skipping options; `base` is the offset of `bytes[0]` in the capture file. */
export function decodeTcp(bytes: Uint8Array, base = 0): TcpHeader {
  if (bytes.length < 20) throw boundsError(bytes, base, 0, 20, 'TCP header');
  const headerLength = ((bytes[12] as number) >> 4) * 4;
  if (headerLength < 20) {
    throw new ByteReader(bytes, base).fail(12, 'TCP data offset', 'at least 5 words', `${headerLength / 4}`);
  }
  if (headerLength > bytes.length) throw boundsError(bytes, base, 0, headerLength, 'TCP header with options');
  return {
    srcPort: u16At(bytes, 0),
    dstPort: u16At(bytes, 2),
    seq: u32At(bytes, 4),
    ack: u32At(bytes, 8),
    flags: bytes[13] as number,
    window: u16At(bytes, 14),
    payload: bytes.subarray(headerLength),
  };
}
