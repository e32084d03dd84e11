// BinXML value types (MS-EVEN6 §2.2.12 and the Windows EVT_VARIANT_TYPE list) and their text as
// Windows renders it in event XML: decimal integers, 0x-prefixed lower-case hex for the hex
// types, upper-case braced GUIDs, S-1-… SIDs, ISO 8601 times.
import { type ByteReader, ParseError } from '@palisade/binary';

/** Value type codes; `| 0x80` marks an array of that type. */
export const ValueType = {
  null: 0x00,
  string: 0x01,
  ansiString: 0x02,
  int8: 0x03,
  uint8: 0x04,
  int16: 0x05,
  uint16: 0x06,
  int32: 0x07,
  uint32: 0x08,
  int64: 0x09,
  uint64: 0x0a,
  real32: 0x0b,
  real64: 0x0c,
  bool: 0x0d,
  binary: 0x0e,
  guid: 0x0f,
  sizeT: 0x10,
  fileTime: 0x11,
  sysTime: 0x12,
  sid: 0x13,
  hexInt32: 0x14,
  hexInt64: 0x15,
  evtHandle: 0x20,
  binXml: 0x21,
  evtXml: 0x23,
} as const;

export const ARRAY_FLAG = 0x80;

/** Width in bytes of the fixed-size types; strings, binary, SIDs and BinXML are variable. */
const fixedWidth: Record<number, number> = {
  [ValueType.int8]: 1,
  [ValueType.uint8]: 1,
  [ValueType.int16]: 2,
  [ValueType.uint16]: 2,
  [ValueType.int32]: 4,
  [ValueType.uint32]: 4,
  [ValueType.int64]: 8,
  [ValueType.uint64]: 8,
  [ValueType.real32]: 4,
  [ValueType.real64]: 8,
  [ValueType.bool]: 4,
  [ValueType.guid]: 16,
  [ValueType.fileTime]: 8,
  [ValueType.sysTime]: 16,
  [ValueType.hexInt32]: 4,
  [ValueType.hexInt64]: 8,
};

type ValueErrorCode = 'evtx/bad-value';

function badValue(
  r: ByteReader,
  offset: number,
  expected: string,
  found: string,
): ParseError<ValueErrorCode> {
  return new ParseError<ValueErrorCode>({
    code: 'evtx/bad-value',
    offset: r.base + offset,
    field: 'substitution value',
    expected,
    found,
  });
}

/**
 * The text of one scalar value of `type` stored in `size` bytes at `offset`, or of an array
 * (joined by the caller). Returns the items of an array as separate strings.
 */
export function renderValue(r: ByteReader, type: number, offset: number, size: number): string | string[] {
  if (type & ARRAY_FLAG) return renderArray(r, type & 0x7f, offset, size);
  return renderScalar(r, type, offset, size);
}

function renderScalar(r: ByteReader, type: number, offset: number, size: number): string {
  const width = fixedWidth[type];
  if (width !== undefined && size !== width && !(type === ValueType.bool && size === 1)) {
    throw badValue(r, offset, `${width} bytes for value type 0x${type.toString(16)}`, `${size}`);
  }
  switch (type) {
    case ValueType.null:
      return '';
    case ValueType.string:
      return stripNul(r.utf16le(offset, size >>> 1, 'UTF-16 string value'));
    case ValueType.ansiString:
      return stripNul(r.latin1(offset, size, 'ANSI string value'));
    case ValueType.int8:
      return String(r.i8(offset, 'int8 value'));
    case ValueType.uint8:
      return String(r.u8(offset, 'uint8 value'));
    case ValueType.int16:
      return String(r.i16le(offset, 'int16 value'));
    case ValueType.uint16:
      return String(r.u16le(offset, 'uint16 value'));
    case ValueType.int32:
      return String(r.i32le(offset, 'int32 value'));
    case ValueType.uint32:
      return String(r.u32le(offset, 'uint32 value'));
    case ValueType.int64:
      return String(r.i64le(offset, 'int64 value'));
    case ValueType.uint64:
      return String(r.u64le(offset, 'uint64 value'));
    case ValueType.real32:
      return formatReal(r.f32le(offset, 'real32 value'), 9);
    case ValueType.real64:
      return formatReal(r.f64le(offset, 'real64 value'), 17);
    case ValueType.bool:
      return (size === 1 ? r.u8(offset, 'bool value') : r.u32le(offset, 'bool value')) !== 0
        ? 'true'
        : 'false';
    case ValueType.binary:
      return hexUpper(r.slice(offset, size, 'binary value'));
    case ValueType.guid:
      return r.guid(offset, 'GUID value');
    case ValueType.sizeT:
      if (size === 4) return `0x${r.u32le(offset, 'size_t value').toString(16)}`;
      if (size === 8) return `0x${r.u64le(offset, 'size_t value').toString(16)}`;
      throw badValue(r, offset, '4 or 8 bytes for size_t', `${size}`);
    case ValueType.fileTime:
      return r.filetimeIso(offset, 'FILETIME value');
    case ValueType.sysTime:
      return r.systemtimeIso(offset, 'SYSTEMTIME value');
    case ValueType.sid: {
      const sid = r.sid(offset, 'SID value');
      if (sid.size > size) throw badValue(r, offset, `a SID within ${size} bytes`, `${sid.size} bytes`);
      return sid.value;
    }
    case ValueType.hexInt32:
      return `0x${r.u32le(offset, 'hex int32 value').toString(16)}`;
    case ValueType.hexInt64:
      return `0x${r.u64le(offset, 'hex int64 value').toString(16)}`;
    case ValueType.evtHandle:
      return hexUpper(r.slice(offset, size, 'handle value'));
    case ValueType.evtXml:
      return stripNul(r.utf16le(offset, size >>> 1, 'XML value'));
    default:
      throw badValue(r, offset, 'a known value type', `0x${type.toString(16)}`);
  }
}

function renderArray(r: ByteReader, type: number, offset: number, size: number): string[] {
  r.ensure(offset, size, 'array value');
  const items: string[] = [];
  if (type === ValueType.string) {
    // An array of NUL-terminated UTF-16 strings.
    const text = r.utf16le(offset, size >>> 1, 'string array value');
    const parts = text.split('\0');
    if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
    return parts;
  }
  if (type === ValueType.ansiString) {
    const parts = r.latin1(offset, size, 'ANSI string array value').split('\0');
    if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
    return parts;
  }
  if (type === ValueType.sid) {
    let p = offset;
    while (p < offset + size) {
      const sid = r.sid(p, 'SID array item');
      items.push(sid.value);
      p += sid.size;
    }
    return items;
  }
  const width = type === ValueType.sizeT ? 8 : fixedWidth[type];
  if (width === undefined || size % width !== 0) {
    throw badValue(r, offset, `an array of fixed-size items of type 0x${type.toString(16)}`, `${size} bytes`);
  }
  for (let p = offset; p < offset + size; p += width) items.push(renderScalar(r, type, p, width));
  return items;
}

function stripNul(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0) end--;
  return end === s.length ? s : s.slice(0, end);
}

const hexDigits = '0123456789ABCDEF';

function hexUpper(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += (hexDigits[b >> 4] as string) + (hexDigits[b & 15] as string);
  return s;
}

// Reals are written with the fewest digits that read back as the same value at the type's
// precision (float32 for real32), so 16777216 stays 16777216.
function formatReal(v: number, maxDigits: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (maxDigits > 9) return String(v);
  for (let digits = 1; digits <= maxDigits; digits++) {
    const text = Number(v.toPrecision(digits));
    if (Math.fround(text) === v) return String(text);
  }
  return String(v);
}
