// Classic libpcap files (draft-ietf-opsawg-pcap): a 24-byte file header, then 16-byte record
// headers each followed by the captured bytes. Both byte orders, micro- and nanosecond magics.
// A damaged record header is skipped by searching for the next plausible one.
import { ByteReader, hexPreview, ParseError } from '@palisade/binary';
import { type OnCaptureDiagnostic, parseErrorMessage } from './capture-diagnostics.ts';
import type { CapturedFrame } from './capture-frame.ts';

/** The pcap file header (draft-ietf-opsawg-pcap §4). */
export interface PcapHeader {
  readonly littleEndian: boolean;
  /** True for magic 0xA1B23C4D: record times are in nanoseconds rather than microseconds. */
  readonly nanoseconds: boolean;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snapLength: number;
  /** The lower 16 bits of the LinkType field; the upper bits carry FCS information. */
  readonly linkType: number;
}

export const PCAP_HEADER_SIZE = 24;
const RECORD_HEADER_SIZE = 16;
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const MAGIC_NANOSECONDS = 0xa1b23c4d;
// Wireshark's largest frame for most link types; a longer record length means a damaged header
// unless the file's snap length says otherwise.
const MAX_RECORD_LENGTH = 262_144;
// A record found while resynchronising must lie within a day of the last good one.
const RESYNC_WINDOW_SECONDS = 86_400;

/** True when the bytes start with a pcap magic number in either byte order. */
export function isPcap(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  for (const le of [true, false]) {
    const magic = view.getUint32(0, le);
    if (magic === MAGIC_MICROSECONDS || magic === MAGIC_NANOSECONDS) return true;
  }
  return false;
}

/** Reads the file header; throws a ParseError when it is short or its magic is unknown. */
export function readPcapHeader(bytes: Uint8Array): PcapHeader {
  const r = new ByteReader(bytes);
  r.ensure(0, PCAP_HEADER_SIZE, 'pcap file header');
  const le = r.u32le(0, 'magic');
  const be = r.u32be(0, 'magic');
  const littleEndian = le === MAGIC_MICROSECONDS || le === MAGIC_NANOSECONDS;
  const magic = littleEndian ? le : be;
  if (magic !== MAGIC_MICROSECONDS && magic !== MAGIC_NANOSECONDS) {
    throw r.fail(0, 'pcap magic', 'A1 B2 C3 D4 or A1 B2 3C 4D in either byte order', hexPreview(bytes, 0, 4));
  }
  const u16 = (o: number, f: string) => (littleEndian ? r.u16le(o, f) : r.u16be(o, f));
  const u32 = (o: number, f: string) => (littleEndian ? r.u32le(o, f) : r.u32be(o, f));
  return {
    littleEndian,
    nanoseconds: magic === MAGIC_NANOSECONDS,
    versionMajor: u16(4, 'version major'),
    versionMinor: u16(6, 'version minor'),
    snapLength: u32(16, 'snap length'),
    linkType: u32(20, 'link type') & 0xffff,
  };
}

/**
 * Yields the frames of a classic pcap file in file order and reports damage through `report`.
 * A short last record is yielded with the bytes that are there.
 */
export function* readPcapFrames(bytes: Uint8Array, report: OnCaptureDiagnostic): Generator<CapturedFrame> {
  let header: PcapHeader;
  try {
    header = readPcapHeader(bytes);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    report({ severity: 'error', code: 'pcap/bad-header', message: parseErrorMessage(e), offset: e.offset });
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = header.littleEndian;
  const fractionLimit = header.nanoseconds ? 1_000_000_000 : 1_000_000;
  const maxLength = Math.max(MAX_RECORD_LENGTH, header.snapLength);
  const length = bytes.length;

  // A record header that a writer could have produced; `strict` adds checks for resynchronising,
  // where a run of zeros or text must not pass for a record.
  const plausible = (at: number, strict: boolean, lastSeconds: number): boolean => {
    if (at + RECORD_HEADER_SIZE > length) return false;
    const seconds = view.getUint32(at, le);
    const fraction = view.getUint32(at + 4, le);
    const included = view.getUint32(at + 8, le);
    if (fraction >= fractionLimit || included > maxLength) return false;
    if (!strict) return true;
    const original = view.getUint32(at + 12, le);
    if (included === 0 || original < included || at + RECORD_HEADER_SIZE + included > length) return false;
    return lastSeconds < 0 || Math.abs(seconds - lastSeconds) <= RESYNC_WINDOW_SECONDS;
  };

  // The normal check of the next record; a time jump of over a day (a zeroed region reads as
  // 1970) is believed only when the record after it is plausible too.
  const acceptable = (at: number, lastSeconds: number): boolean => {
    if (!plausible(at, false, lastSeconds)) return false;
    const seconds = view.getUint32(at, le);
    if (lastSeconds < 0 || Math.abs(seconds - lastSeconds) <= RESYNC_WINDOW_SECONDS) return true;
    const next = at + RECORD_HEADER_SIZE + view.getUint32(at + 8, le);
    return next === length || plausible(next, true, seconds);
  };

  // The next offset after `from` where a strict record header is followed by another one or by
  // the end of the file; -1 when there is none.
  const resync = (from: number, lastSeconds: number): number => {
    for (let at = from; at + RECORD_HEADER_SIZE <= length; at++) {
      if (!plausible(at, true, lastSeconds)) continue;
      const next = at + RECORD_HEADER_SIZE + view.getUint32(at + 8, le);
      if (next === length || plausible(next, true, lastSeconds)) return at;
    }
    return -1;
  };

  let offset = PCAP_HEADER_SIZE;
  let index = 0;
  let lastSeconds = -1;
  while (offset < length) {
    if (length - offset < RECORD_HEADER_SIZE) {
      report({
        severity: 'warning',
        code: 'pcap/truncated-record',
        message: `record header: expected ${RECORD_HEADER_SIZE} bytes, found ${length - offset} at the end of the file`,
        offset,
        frame: index,
      });
      return;
    }
    if (!acceptable(offset, lastSeconds)) {
      const next = resync(offset + 1, lastSeconds);
      report({
        severity: 'error',
        code: 'pcap/bad-record',
        message: `record header: expected a time fraction below ${fractionLimit} and a length up to ${maxLength}, found ${hexPreview(bytes, offset, RECORD_HEADER_SIZE)}`,
        offset,
        frame: index,
      });
      if (next < 0) return;
      report({
        severity: 'info',
        code: 'pcap/resynchronised',
        message: `skipped ${next - offset} bytes to the next plausible record header`,
        offset: next,
        frame: index,
      });
      offset = next;
      continue;
    }
    const seconds = view.getUint32(offset, le);
    const fraction = view.getUint32(offset + 4, le);
    const included = view.getUint32(offset + 8, le);
    const original = view.getUint32(offset + 12, le);
    const start = offset + RECORD_HEADER_SIZE;
    const available = Math.min(included, length - start);
    if (available < included) {
      report({
        severity: 'warning',
        code: 'pcap/truncated-record',
        message: `record data: expected ${included} bytes, found ${available} at the end of the file`,
        offset: start,
        frame: index,
      });
    }
    lastSeconds = seconds;
    yield {
      index,
      timestampUs: seconds * 1_000_000 + (header.nanoseconds ? Math.floor(fraction / 1000) : fraction),
      linkType: header.linkType,
      interfaceId: 0,
      data: bytes.subarray(start, start + available),
      originalLength: original,
      offset: start,
    };
    index++;
    offset = start + included;
  }
}
