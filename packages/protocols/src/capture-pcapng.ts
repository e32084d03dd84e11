// pcapng files (draft-ietf-opsawg-pcapng): sections of blocks, each section with its own byte
// order and interfaces. Reads Enhanced, Simple and obsolete Packet Blocks with each interface's
// link type, snap length, if_tsresol and if_tsoffset; skips every other block type. A damaged
// block is skipped by searching for the next plausible one.
import { hexPreview } from '@palisade/binary';
import type { OnCaptureDiagnostic } from './capture-diagnostics.ts';
import type { CapturedFrame } from './capture-frame.ts';

// Block types (draft-ietf-opsawg-pcapng §4 and §11.1).
const SECTION_HEADER = 0x0a0d0d0a;
const INTERFACE_DESCRIPTION = 0x00000001;
const PACKET = 0x00000002; // obsolete, still written by old tools
const SIMPLE_PACKET = 0x00000003;
const ENHANCED_PACKET = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
// Types a resynchronisation may land on: the ones above plus NRB, ISB, DSB, systemd journal,
// custom blocks, Decryption Secrets and the Darwin process-info block.
const KNOWN_TYPES = new Set([
  SECTION_HEADER,
  INTERFACE_DESCRIPTION,
  PACKET,
  SIMPLE_PACKET,
  0x00000004,
  0x00000005,
  ENHANCED_PACKET,
  0x00000009,
  0x0000000a,
  0x00000bad,
  0x40000bad,
  0x80000001,
]);
const OPTION_TSRESOL = 9;
const OPTION_TSOFFSET = 14;
const MIN_BLOCK = 12;

/** What the reader keeps of an Interface Description Block (§4.2). */
export interface PcapngInterface {
  readonly linkType: number;
  /** 0 means no limit. */
  readonly snapLength: number;
  /** The raw if_tsresol byte: bit 7 clear, 10^-n seconds; set, 2^-n seconds. Default 6. */
  readonly tsresol: number;
  /** if_tsoffset in seconds, added to every timestamp. */
  readonly tsoffsetSeconds: number;
  /** Converts the two 32-bit halves of a packet timestamp to microseconds since the epoch. */
  readonly toMicroseconds: (high: number, low: number) => number;
}

/** True when the bytes start with a pcapng Section Header Block. */
export function isPcapng(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a
  );
}

/**
 * Yields the packets of a pcapng file in file order, across all sections and interfaces, and
 * reports damage through `report`.
 */
export function* readPcapngFrames(bytes: Uint8Array, report: OnCaptureDiagnostic): Generator<CapturedFrame> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.length;
  let le = true;
  let interfaces: (PcapngInterface | undefined)[] = [];
  let offset = 0;
  let index = 0;
  let lastTimestamp = 0;

  // The byte order a Section Header Block at `at` declares, or undefined if it is not one.
  const sectionOrder = (at: number): boolean | undefined => {
    if (at + MIN_BLOCK + 4 > length || view.getUint32(at, true) !== SECTION_HEADER) return undefined;
    if (view.getUint32(at + 8, true) === BYTE_ORDER_MAGIC) return true;
    if (view.getUint32(at + 8, false) === BYTE_ORDER_MAGIC) return false;
    return undefined;
  };

  // A block at `at` whose type is known and whose leading and trailing lengths agree.
  const plausibleBlock = (at: number): boolean => {
    const order = sectionOrder(at) ?? le;
    if (at + MIN_BLOCK > length || !KNOWN_TYPES.has(view.getUint32(at, order))) return false;
    const total = view.getUint32(at + 4, order);
    return (
      total >= MIN_BLOCK &&
      total % 4 === 0 &&
      at + total <= length &&
      view.getUint32(at + total - 4, order) === total
    );
  };

  // The offset of the next plausible block from `from` on, or -1.
  const nextBlock = (from: number): number => {
    for (let at = from; at + MIN_BLOCK <= length; at += 4) if (plausibleBlock(at)) return at;
    return -1;
  };

  // Reports a damaged block and moves `offset` to the next plausible block; false if none.
  const skip = (reason: string, next = nextBlock(offset + 4)): boolean => {
    const message = next < 0 ? `${reason}; no block follows` : reason;
    report({ severity: 'error', code: 'pcapng/bad-block', message, offset, frame: index });
    if (next < 0) return false;
    report({
      severity: 'info',
      code: 'pcapng/resynchronised',
      message: `skipped ${next - offset} bytes to the next plausible block`,
      offset: next,
      frame: index,
    });
    offset = next;
    return true;
  };

  if (sectionOrder(0) === undefined) {
    report({
      severity: 'error',
      code: 'pcapng/bad-section-header',
      message: `section header: expected block type 0A 0D 0D 0A and byte-order magic 1A 2B 3C 4D, found ${hexPreview(bytes, 0, 12)}`,
      offset: 0,
    });
    return;
  }

  while (offset < length) {
    if (length - offset < MIN_BLOCK) {
      report({
        severity: 'warning',
        code: 'pcapng/truncated-block',
        message: `block header: expected ${MIN_BLOCK} bytes, found ${length - offset} at the end of the file`,
        offset,
        frame: index,
      });
      return;
    }
    const order = sectionOrder(offset);
    if (order !== undefined) le = order;
    const type = view.getUint32(offset, le);
    const total = view.getUint32(offset + 4, le);
    if (total < MIN_BLOCK || total % 4 !== 0) {
      if (!skip(`block length: expected a multiple of 4 from ${MIN_BLOCK}, found ${total}`)) return;
      continue;
    }
    if (offset + total > length) {
      // Usually the last block of a capture that was cut short; a damaged length has blocks after it.
      const message = `block length: expected ${total} bytes, found ${length - offset} left`;
      const next = nextBlock(offset + 4);
      if (next < 0) {
        report({ severity: 'warning', code: 'pcapng/truncated-block', message, offset, frame: index });
        return;
      }
      skip(message, next);
      continue;
    }
    if (view.getUint32(offset + total - 4, le) !== total) {
      const trailer = view.getUint32(offset + total - 4, le);
      if (!skip(`block trailer: expected length ${total}, found ${trailer}`)) return;
      continue;
    }
    const body = offset + 8;
    const end = offset + total - 4;

    if (type === SECTION_HEADER) {
      const major = end - body >= 16 ? view.getUint16(body + 4, le) : -1;
      if (major !== 1) {
        report({
          severity: 'error',
          code: 'pcapng/bad-section-header',
          message: `section header: expected version 1.x, found ${major < 0 ? 'a block too short for one' : `major ${major}`}`,
          offset,
          frame: index,
        });
        return;
      }
      interfaces = [];
    } else if (type === INTERFACE_DESCRIPTION) {
      // A damaged description still takes its interface id, so later ids keep their meaning.
      if (end - body < 8) badBlock(`interface description: expected 8 bytes, found ${end - body}`);
      interfaces.push(end - body < 8 ? undefined : readInterface(view, body, end, le));
    } else if (type === ENHANCED_PACKET || type === PACKET || type === SIMPLE_PACKET) {
      const frame = readPacket(type, body, end);
      if (frame !== undefined) {
        lastTimestamp = frame.timestampUs;
        yield frame;
      }
      index++;
    }
    offset += total;
  }

  function readPacket(type: number, body: number, end: number): CapturedFrame | undefined {
    let interfaceId = 0;
    let captured: number;
    let original: number;
    let data: number;
    let timestamp: number | undefined;
    if (type === SIMPLE_PACKET) {
      if (end - body < 4) return badBlock(`simple packet block: expected 4 bytes, found ${end - body}`);
      original = view.getUint32(body, le);
      data = body + 4;
      const snap = interfaces[0]?.snapLength || Number.POSITIVE_INFINITY;
      captured = Math.min(original, snap, end - data);
    } else {
      if (end - body < 20) return badBlock(`packet block: expected 20 bytes, found ${end - body}`);
      interfaceId = type === PACKET ? view.getUint16(body, le) : view.getUint32(body, le);
      captured = view.getUint32(body + 12, le);
      original = view.getUint32(body + 16, le);
      data = body + 20;
      if (captured > end - data) {
        return badBlock(`packet data: expected ${captured} bytes, found ${end - data} in the block`);
      }
    }
    const iface = interfaces[interfaceId];
    if (iface === undefined) {
      report({
        severity: 'error',
        code: 'pcapng/unknown-interface',
        message: `interface id: expected one of the ${interfaces.length} interfaces of this section, found ${interfaceId}`,
        offset: body,
        frame: index,
      });
      return undefined;
    }
    if (type !== SIMPLE_PACKET) {
      timestamp = iface.toMicroseconds(view.getUint32(body + 4, le), view.getUint32(body + 8, le));
    }
    return {
      index,
      timestampUs: timestamp ?? lastTimestamp,
      linkType: iface.linkType,
      interfaceId,
      data: bytes.subarray(data, data + captured),
      originalLength: original,
      offset: data,
    };
  }

  function badBlock(message: string): undefined {
    report({ severity: 'error', code: 'pcapng/bad-block', message, offset, frame: index });
    return undefined;
  }
}

function readInterface(view: DataView, body: number, end: number, le: boolean): PcapngInterface {
  const linkType = view.getUint16(body, le);
  const snapLength = view.getUint32(body + 4, le);
  let tsresol = 6;
  let tsoffsetSeconds = 0;
  // Options (§3.5): code, length, value padded to 4 bytes; opt_endofopt or the block's end stops.
  for (let at = body + 8; at + 4 <= end; ) {
    const code = view.getUint16(at, le);
    const size = view.getUint16(at + 2, le);
    if (code === 0 || at + 4 + size > end) break;
    if (code === OPTION_TSRESOL && size >= 1) tsresol = view.getUint8(at + 4);
    if (code === OPTION_TSOFFSET && size >= 8) tsoffsetSeconds = Number(view.getBigInt64(at + 4, le));
    at += 4 + size + ((4 - (size % 4)) % 4);
  }
  return {
    linkType,
    snapLength,
    tsresol,
    tsoffsetSeconds,
    toMicroseconds: timestampConverter(tsresol, tsoffsetSeconds),
  };
}

/** Microseconds from the units if_tsresol defines, exact for every resolution. */
function timestampConverter(tsresol: number, offsetSeconds: number): (high: number, low: number) => number {
  const offset = offsetSeconds * 1_000_000;
  const exponent = tsresol & 0x7f;
  if ((tsresol & 0x80) === 0 && exponent <= 6) {
    const scale = 10 ** (6 - exponent);
    return (high, low) => (high * 0x1_0000_0000 + low) * scale + offset;
  }
  if ((tsresol & 0x80) === 0 && exponent <= 12) {
    // Units finer than a microsecond: divide the 64-bit value by 10^(n-6) in two exact steps,
    // since high × 2^32 + low does not fit a double at nanosecond resolution.
    const divisor = 10 ** (exponent - 6);
    return (high, low) => {
      const remainder = high % divisor;
      return (
        ((high - remainder) / divisor) * 0x1_0000_0000 +
        Math.floor((remainder * 0x1_0000_0000 + low) / divisor) +
        offset
      );
    };
  }
  // Rare resolutions (2^-n seconds, or finer than 10^-12): exact with bigint.
  const numerator = 1_000_000n;
  const denominator = (tsresol & 0x80) === 0 ? 10n ** BigInt(exponent) : 2n ** BigInt(exponent);
  return (high, low) => Number((((BigInt(high) << 32n) | BigInt(low)) * numerator) / denominator) + offset;
}
