// The frame every capture reader yields, the link-layer type numbers the link layer decodes, and
// fast access to frame bytes for the per-packet header decoders.
import { ByteReader, ParseError } from '@palisade/binary';

/**
 * One packet record of a capture file. `data` is a view into the file's bytes (no copy): keep the
 * file's buffer unchanged while frames are in use.
 */
export interface CapturedFrame {
  /** Zero-based count of packet records read so far; Wireshark's frame number is `index + 1`. */
  readonly index: number;
  /**
   * Capture time in whole microseconds since 1970-01-01 UTC (a safe integer until year 2255);
   * nanosecond and finer timestamps are truncated to the microsecond. A pcapng Simple Packet
   * Block has no time and carries the previous frame's.
   */
  readonly timestampUs: number;
  /** LINKTYPE_* value of the interface the frame was captured on (see `linkTypes`). */
  readonly linkType: number;
  /** pcapng interface id within its section; 0 for classic pcap. */
  readonly interfaceId: number;
  /** The captured bytes, starting with the link-layer header. */
  readonly data: Uint8Array;
  /** Length of the packet on the wire; larger than `data.length` when the capture cut it short. */
  readonly originalLength: number;
  /** Absolute offset of `data[0]` in the capture file, for diagnostics. */
  readonly offset: number;
}

/** Link-layer header types (tcpdump.org LINKTYPE_* values) that `decodeLinkLayer` reads. */
export const linkTypes = {
  /** BSD loopback: a 4-byte address family in the capturing host's byte order. */
  null: 0,
  ethernet: 1,
  /** DLT_RAW as written by some BSDs (12) and OpenBSD (14): a bare IPv4 or IPv6 packet. */
  rawBsd: 12,
  rawOpenBsd: 14,
  raw: 101,
  /** OpenBSD loopback: like `null` with the family in network byte order. */
  loop: 108,
  linuxSll: 113,
  ipv4: 228,
  ipv6: 229,
  linuxSll2: 276,
} as const;

/** The big-endian 16-bit value at `at`, for header decoders that have checked the bounds. */
export function u16At(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

/** The big-endian unsigned 32-bit value at `at`, for header decoders that have checked the bounds. */
export function u32At(bytes: Uint8Array, at: number): number {
  return (
    (((bytes[at] as number) << 24) |
      ((bytes[at + 1] as number) << 16) |
      ((bytes[at + 2] as number) << 8) |
      (bytes[at + 3] as number)) >>>
    0
  );
}

/**
 * The ParseError a ByteReader gives for reading `size` bytes at `at`; header decoders check
 * lengths themselves on the fast path and build the error only when a check fails.
 */
export function boundsError(
  bytes: Uint8Array,
  base: number,
  at: number,
  size: number,
  field: string,
): ParseError {
  const reader = new ByteReader(bytes, base);
  try {
    reader.ensure(at, size, field);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  // The bytes were there after all: the caller's check was wrong.
  throw new Error(`boundsError: ${size} bytes at ${at} are within ${bytes.length}`);
}
