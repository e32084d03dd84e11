// Bounds-checked reads at absolute offsets of a byte array. Every read names the field it is
// for, so a short or hostile input fails with a ParseError saying what, where and why.
import { ParseError } from './parse-error.ts';

/** Error codes of this package; decoders built on it add their own. */
export type BinaryErrorCode = 'binary/out-of-bounds' | 'binary/bad-value';

const utf16le = new TextDecoder('utf-16le');

/**
 * Reads little- and big-endian integers, floats, strings and Windows structures from a byte
 * array. Offsets are relative to the array; `base` is added in error messages so they name the
 * position in the whole file.
 * @example new ByteReader(bytes).u32le(4, 'record size')
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly length: number;
  readonly base: number;

  constructor(bytes: Uint8Array, base = 0) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
    this.base = base;
  }

  /** Throws unless `size` bytes starting at `offset` are inside the data. */
  ensure(offset: number, size: number, field: string): void {
    if (offset < 0 || size < 0 || offset + size > this.length) {
      throw new ParseError<BinaryErrorCode>({
        code: 'binary/out-of-bounds',
        offset: this.base + offset,
        field,
        expected: `${size} byte${size === 1 ? '' : 's'}`,
        found: `${Math.max(0, this.length - offset)} left of ${this.length}`,
      });
    }
  }

  /** A ParseError for a value that was read but is not acceptable. */
  fail(offset: number, field: string, expected: string, found: string): ParseError<BinaryErrorCode> {
    return new ParseError<BinaryErrorCode>({
      code: 'binary/bad-value',
      offset: this.base + offset,
      field,
      expected,
      found,
    });
  }

  u8(offset: number, field: string): number {
    this.ensure(offset, 1, field);
    return this.view.getUint8(offset);
  }
  i8(offset: number, field: string): number {
    this.ensure(offset, 1, field);
    return this.view.getInt8(offset);
  }
  u16le(offset: number, field: string): number {
    this.ensure(offset, 2, field);
    return this.view.getUint16(offset, true);
  }
  i16le(offset: number, field: string): number {
    this.ensure(offset, 2, field);
    return this.view.getInt16(offset, true);
  }
  u16be(offset: number, field: string): number {
    this.ensure(offset, 2, field);
    return this.view.getUint16(offset, false);
  }
  u32le(offset: number, field: string): number {
    this.ensure(offset, 4, field);
    return this.view.getUint32(offset, true);
  }
  i32le(offset: number, field: string): number {
    this.ensure(offset, 4, field);
    return this.view.getInt32(offset, true);
  }
  u32be(offset: number, field: string): number {
    this.ensure(offset, 4, field);
    return this.view.getUint32(offset, false);
  }
  u64le(offset: number, field: string): bigint {
    this.ensure(offset, 8, field);
    return this.view.getBigUint64(offset, true);
  }
  i64le(offset: number, field: string): bigint {
    this.ensure(offset, 8, field);
    return this.view.getBigInt64(offset, true);
  }
  u64be(offset: number, field: string): bigint {
    this.ensure(offset, 8, field);
    return this.view.getBigUint64(offset, false);
  }
  /** A 64-bit little-endian count or identifier as a number; exact up to 2^53. */
  u64leNumber(offset: number, field: string): number {
    this.ensure(offset, 8, field);
    return this.view.getUint32(offset, true) + this.view.getUint32(offset + 4, true) * 0x1_0000_0000;
  }
  f32le(offset: number, field: string): number {
    this.ensure(offset, 4, field);
    return this.view.getFloat32(offset, true);
  }
  f64le(offset: number, field: string): number {
    this.ensure(offset, 8, field);
    return this.view.getFloat64(offset, true);
  }

  /** A copy-free view of `length` bytes. */
  slice(offset: number, length: number, field: string): Uint8Array {
    this.ensure(offset, length, field);
    return this.bytes.subarray(offset, offset + length);
  }

  /** `charCount` UTF-16LE code units; a trailing NUL, if any, is kept (callers strip it). */
  utf16le(offset: number, charCount: number, field: string): string {
    this.ensure(offset, charCount * 2, field);
    if (charCount === 0) return '';
    // Short strings (most names and values) are faster to build directly than via a decoder.
    if (charCount <= 24) {
      const b = this.bytes;
      let s = '';
      for (let i = offset, end = offset + charCount * 2; i < end; i += 2) {
        s += String.fromCharCode((b[i] as number) | ((b[i + 1] as number) << 8));
      }
      return s;
    }
    return utf16le.decode(this.bytes.subarray(offset, offset + charCount * 2));
  }

  /** Single-byte text as ISO-8859-1: each byte is the code point of one character. */
  latin1(offset: number, length: number, field: string): string {
    this.ensure(offset, length, field);
    // Not TextDecoder('latin1'): Node versions disagree on whether that label means ISO-8859-1
    // or windows-1252 for bytes 0x80–0x9F (nodejs/node#60888).
    let s = '';
    for (let i = offset, end = offset + length; i < end; i += 8192) {
      s += String.fromCharCode(...this.bytes.subarray(i, Math.min(end, i + 8192)));
    }
    return s;
  }

  /** A GUID in its registry form, upper case: `{54849625-5478-4994-A5BA-3E3B0328C30D}`. */
  guid(offset: number, field: string): string {
    this.ensure(offset, 16, field);
    const v = this.view;
    const b = this.bytes;
    return `{${hex(v.getUint32(offset, true), 8)}-${hex(v.getUint16(offset + 4, true), 4)}-${hex(
      v.getUint16(offset + 6, true),
      4,
    )}-${hexBytes(b, offset + 8, 2)}-${hexBytes(b, offset + 10, 6)}}`;
  }

  /** A security identifier (MS-DTYP §2.4.2.2) as `S-1-5-21-…`, with the bytes it occupies. */
  sid(offset: number, field: string): { value: string; size: number } {
    const revision = this.u8(offset, field);
    const count = this.u8(offset + 1, `${field} sub-authority count`);
    const size = 8 + count * 4;
    this.ensure(offset, size, field);
    const v = this.view;
    // The identifier authority is a 48-bit big-endian number, written in decimal below 2^32
    // and as 0x with 12 hex digits from 2^32 up (MS-DTYP §2.4.2.1).
    const high = v.getUint16(offset + 2, false);
    const low = v.getUint32(offset + 4, false);
    const authority = high === 0 ? `${low}` : `0x${hex(high, 4)}${hex(low, 8)}`;
    let s = `S-${revision}-${authority}`;
    for (let i = 0; i < count; i++) s += `-${v.getUint32(offset + 8 + i * 4, true)}`;
    return { value: s, size };
  }

  /** A FILETIME (100 ns ticks since 1601-01-01 UTC) as a bigint. */
  filetime(offset: number, field: string): bigint {
    return this.u64le(offset, field);
  }

  /** A FILETIME rendered as ISO 8601 with all seven fractional digits: `2019-08-14T14:06:44.4956748Z`. */
  filetimeIso(offset: number, field: string): string {
    this.ensure(offset, 8, field);
    return filetimePartsToIso(this.view.getUint32(offset, true), this.view.getUint32(offset + 4, true));
  }

  /** A SYSTEMTIME (MS-DTYP §2.3.13) as ISO 8601 with milliseconds: `2019-08-14T14:06:44.495Z`. */
  systemtimeIso(offset: number, field: string): string {
    this.ensure(offset, 16, field);
    const v = this.view;
    const year = v.getUint16(offset, true);
    const month = v.getUint16(offset + 2, true);
    const day = v.getUint16(offset + 6, true);
    const hour = v.getUint16(offset + 8, true);
    const minute = v.getUint16(offset + 10, true);
    const second = v.getUint16(offset + 12, true);
    const ms = v.getUint16(offset + 14, true);
    return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(ms, 3)}Z`;
  }
}

const TICKS_PER_SECOND = 10_000_000;
// 2^32 ticks = 429 s + 4,967,296 ticks, and 2^16 × 4,967,296 ticks = 32,553 s + 6,710,656 ticks:
// splitting the high half into two 16-bit parts keeps every product exact in doubles.
const HIGH_SECONDS = 429;
const HIGH_TICKS = 4_967_296;
const HIGH16_SECONDS = 32_553;
const HIGH16_TICKS = 6_710_656;
const SECONDS_1601_TO_1970 = 11_644_473_600;

/** ISO 8601 text of a FILETIME given as its low and high 32-bit halves. */
export function filetimePartsToIso(low: number, high: number): string {
  const upper = Math.floor(high / 0x10000);
  const lower = high % 0x10000;
  const rest = upper * HIGH16_TICKS + lower * HIGH_TICKS + low; // < 2^40: exact
  const fraction = rest % TICKS_PER_SECOND;
  const seconds =
    high * HIGH_SECONDS +
    upper * HIGH16_SECONDS +
    (rest - fraction) / TICKS_PER_SECOND -
    SECONDS_1601_TO_1970;
  return `${isoSeconds(seconds)}.${pad(fraction, 7)}Z`;
}

/** ISO 8601 text of a FILETIME given as a bigint. */
export function filetimeToIso(ticks: bigint): string {
  return filetimePartsToIso(Number(ticks & 0xffff_ffffn), Number((ticks >> 32n) & 0xffff_ffffn));
}

// Days to civil date (proleptic Gregorian), from the era-based method: 400-year eras of
// 146,097 days, with March as the first month so leap days fall at the end of a year.
function isoSeconds(unixSeconds: number): string {
  const secOfDay = ((unixSeconds % 86_400) + 86_400) % 86_400;
  const days = (unixSeconds - secOfDay) / 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(secOfDay / 3600);
  const minute = Math.floor((secOfDay % 3600) / 60);
  const second = secOfDay % 60;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`;
}

function pad(n: number, width: number): string {
  return n.toString().padStart(width, '0');
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

// GUIDs are in most records; a table of byte texts keeps their rendering cheap.
const byteHex = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

function hexBytes(b: Uint8Array, start: number, count: number): string {
  let s = '';
  for (let i = start; i < start + count; i++) s += byteHex[b[i] as number] as string;
  return s;
}
