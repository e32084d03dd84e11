// Unit tests of ByteReader: every read at the last valid offset and one past it, byte order,
// 64-bit values beyond 2^53, strings, and Windows structures with values computed in Python.
import { describe, expect, it } from 'vitest';
import { ByteReader, filetimePartsToIso, filetimeToIso } from './byte-reader.ts';
import { ParseError } from './parse-error.ts';

function bytes(hex: string): Uint8Array {
  const clean = hex.replaceAll(' ', '');
  return Uint8Array.from({ length: clean.length / 2 }, (_, i) =>
    Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16),
  );
}

/** The error `read` throws, as a plain object of every field, or a failure if it does not throw. */
function thrown(read: () => unknown) {
  try {
    read();
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    const { name, code, offset, field, expected, found, message } = e;
    return { name, code, offset, field, expected, found, message };
  }
  throw new Error('expected a ParseError');
}

const BASE = 0x1000;
const LENGTH = 32;

// Every fixed-width read, with its width in bytes.
const reads: [string, number, (r: ByteReader, offset: number) => unknown][] = [
  ['u8', 1, (r, o) => r.u8(o, 'field')],
  ['i8', 1, (r, o) => r.i8(o, 'field')],
  ['u16le', 2, (r, o) => r.u16le(o, 'field')],
  ['i16le', 2, (r, o) => r.i16le(o, 'field')],
  ['u16be', 2, (r, o) => r.u16be(o, 'field')],
  ['u32le', 4, (r, o) => r.u32le(o, 'field')],
  ['i32le', 4, (r, o) => r.i32le(o, 'field')],
  ['u32be', 4, (r, o) => r.u32be(o, 'field')],
  ['u64le', 8, (r, o) => r.u64le(o, 'field')],
  ['i64le', 8, (r, o) => r.i64le(o, 'field')],
  ['u64be', 8, (r, o) => r.u64be(o, 'field')],
  ['u64leNumber', 8, (r, o) => r.u64leNumber(o, 'field')],
  ['f32le', 4, (r, o) => r.f32le(o, 'field')],
  ['f64le', 8, (r, o) => r.f64le(o, 'field')],
  ['filetime', 8, (r, o) => r.filetime(o, 'field')],
  ['filetimeIso', 8, (r, o) => r.filetimeIso(o, 'field')],
  ['guid', 16, (r, o) => r.guid(o, 'field')],
  ['systemtimeIso', 16, (r, o) => r.systemtimeIso(o, 'field')],
  ['slice of 3', 3, (r, o) => r.slice(o, 3, 'field')],
  ['utf16le of 2 chars', 4, (r, o) => r.utf16le(o, 2, 'field')],
  ['latin1 of 5', 5, (r, o) => r.latin1(o, 5, 'field')],
];

describe('bounds', () => {
  const reader = new ByteReader(new Uint8Array(LENGTH), BASE);

  it.each(reads)('%s reads its last %i bytes and fails one byte later', (_name, width, read) => {
    expect(() => read(reader, LENGTH - width)).not.toThrow();
    const at = LENGTH - width + 1;
    const expected = `${width} byte${width === 1 ? '' : 's'}`;
    const found = `${width - 1} left of ${LENGTH}`;
    expect(thrown(() => read(reader, at))).toEqual({
      name: 'ParseError',
      code: 'binary/out-of-bounds',
      offset: BASE + at, // the position in the whole file, not in this array
      field: 'field',
      expected,
      found,
      message: `field: expected ${expected}, found ${found} at 0x${(BASE + at).toString(16)}`,
    });
  });

  it('reads of zero bytes succeed at the very end', () => {
    expect(reader.slice(LENGTH, 0, 'empty')).toEqual(new Uint8Array(0));
    expect(reader.utf16le(LENGTH, 0, 'empty')).toBe('');
    expect(reader.latin1(LENGTH, 0, 'empty')).toBe('');
  });

  it('an offset far past the end says nothing is left', () => {
    expect(thrown(() => reader.u32le(0xffffffff, 'pointer'))).toEqual({
      name: 'ParseError',
      code: 'binary/out-of-bounds',
      offset: BASE + 0xffffffff,
      field: 'pointer',
      expected: '4 bytes',
      found: '0 left of 32',
      message: `pointer: expected 4 bytes, found 0 left of 32 at 0x${(BASE + 0xffffffff).toString(16)}`,
    });
  });

  it('negative offsets and sizes are out of bounds', () => {
    expect(thrown(() => reader.ensure(-1, 1, 'before')).code).toBe('binary/out-of-bounds');
    expect(thrown(() => reader.ensure(0, -1, 'negative')).code).toBe('binary/out-of-bounds');
  });

  it('a reader over part of a buffer stays inside that part', () => {
    const whole = bytes('00 11 22 33 44 55');
    const part = new ByteReader(whole.subarray(2, 4), 2);
    expect(part.u16be(0, 'inside')).toBe(0x2233);
    expect(thrown(() => part.u8(2, 'outside')).offset).toBe(4);
  });

  it('fail() builds a bad-value error at the file position', () => {
    const e = reader.fail(3, 'flags', 'a known flag', '0x80');
    expect(e).toBeInstanceOf(ParseError);
    expect(
      thrown(() => {
        throw e;
      }),
    ).toEqual({
      name: 'ParseError',
      code: 'binary/bad-value',
      offset: BASE + 3,
      field: 'flags',
      expected: 'a known flag',
      found: '0x80',
      message: 'flags: expected a known flag, found 0x80 at 0x1003',
    });
  });
});

describe('integers and floats', () => {
  it('reads little- and big-endian orders of the same bytes', () => {
    const r = new ByteReader(bytes('12 34 56 78 9a bc de f0'));
    expect([r.u16le(0, 'a'), r.u16be(0, 'a')]).toEqual([0x3412, 0x1234]);
    expect([r.u32le(0, 'a'), r.u32be(0, 'a')]).toEqual([0x78563412, 0x12345678]);
    expect([r.u64le(0, 'a'), r.u64be(0, 'a')]).toEqual([0xf0debc9a78563412n, 0x123456789abcdef0n]);
  });

  it('reads signed values in two’s complement', () => {
    const r = new ByteReader(bytes('ff 00 80 ff ff ff ff 00 00 00 00 00 00 00 80'));
    expect(r.i8(0, 'a')).toBe(-1);
    expect(r.u8(0, 'a')).toBe(255);
    expect(r.i16le(1, 'a')).toBe(-32768); // 00 80
    expect(r.i32le(3, 'a')).toBe(-1);
    expect(r.i64le(7, 'a')).toBe(-(2n ** 63n)); // pack('<q', -2**63)
  });

  it('keeps 64-bit values above 2^53 exact as bigint', () => {
    // pack('<Q', 2**53 + 1) and pack('<Q', 2**64 - 1)
    const r = new ByteReader(bytes('0100000000002000 ffffffffffffffff'));
    expect(r.u64le(0, 'a')).toBe(9007199254740993n);
    expect(r.u64le(8, 'a')).toBe(18446744073709551615n);
    expect(r.i64le(8, 'a')).toBe(-1n);
  });

  it('reads 64-bit counts as numbers, exact up to 2^53', () => {
    // pack('<Q', 2**32) and pack('<Q', 2**53)
    const r = new ByteReader(bytes('0000000001000000 0000000000002000'));
    expect(r.u64leNumber(0, 'a')).toBe(4294967296);
    expect(r.u64leNumber(8, 'a')).toBe(9007199254740992);
  });

  it('reads IEEE 754 floats', () => {
    // pack('<f', -2.5), pack('<d', -0.1)
    const r = new ByteReader(bytes('000020c0 9a9999999999b9bf'));
    expect(r.f32le(0, 'a')).toBe(-2.5);
    expect(r.f64le(4, 'a')).toBe(-0.1);
  });

  it('slices without copying', () => {
    const data = bytes('00 01 02 03');
    const view = new ByteReader(data).slice(1, 2, 'a');
    data[1] = 0xff;
    expect(Array.from(view)).toEqual([0xff, 0x02]);
  });
});

describe('strings', () => {
  it('decodes UTF-16LE surrogate pairs on the short path', () => {
    // 'A\U0001D11E'.encode('utf-16-le'): three code units
    expect(new ByteReader(bytes('410034d81edd')).utf16le(0, 3, 'a')).toBe('A\u{1d11e}');
  });

  it('decodes UTF-16LE surrogate pairs on the long path (over 24 code units)', () => {
    // ('x' * 30 + '\U0001D11E' + 'y').encode('utf-16-le'): 33 code units
    const hex = `${'7800'.repeat(30)}34d81edd7900`;
    expect(new ByteReader(bytes(hex)).utf16le(0, 33, 'a')).toBe(`${'x'.repeat(30)}\u{1d11e}y`);
  });

  it('keeps a trailing NUL for the caller to strip', () => {
    expect(new ByteReader(bytes('61006200 0000')).utf16le(0, 3, 'a')).toBe('ab\0');
  });

  it('decodes single-byte text as ISO-8859-1, the same on every Node version', () => {
    // bytes([0x41, 0x80, 0x99, 0xe9, 0xff]).decode('latin-1'); windows-1252 would give € and ™.
    expect(new ByteReader(bytes('418099e9ff')).latin1(0, 5, 'a')).toBe('A\u0080\u0099éÿ');
  });

  it('decodes long single-byte text in pieces', () => {
    // bytes(range(256)).decode('latin-1') * 40: longer than one 8192-byte piece
    const data = Uint8Array.from({ length: 256 * 40 }, (_, i) => i % 256);
    const expected = Array.from({ length: 40 }, () => String.fromCodePoint(...Array(256).keys())).join('');
    expect(new ByteReader(data).latin1(0, data.length, 'a')).toBe(expected);
  });
});

describe('Windows structures', () => {
  it('reads GUIDs in their mixed-endian layout (MS-DTYP §2.3.4.2), upper case', () => {
    // uuid.UUID(...).bytes_le for each
    expect(new ByteReader(bytes('2596845478549449a5ba3e3b0328c30d')).guid(0, 'a')).toBe(
      '{54849625-5478-4994-A5BA-3E3B0328C30D}',
    );
    expect(new ByteReader(bytes('01efcdab45238967abcdef0123456789')).guid(0, 'a')).toBe(
      '{ABCDEF01-2345-6789-ABCD-EF0123456789}',
    );
  });

  // Bytes: pack('<BB', revision, count) + authority.to_bytes(6, 'big') + pack('<nI', *subs) (MS-DTYP §2.4.2.2).
  it.each([
    ['010100000000000512000000', 'S-1-5-18', 12],
    ['0100000000000005', 'S-1-5', 8],
    [
      '010f000000000005150000000100000002000000030000000400000005000000060000000700000008000000090000000a0000000b0000000c0000000d000000ffffffff',
      'S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-4294967295',
      68,
    ],
    // MS-DTYP §2.4.2.1: an authority below 2^32 in decimal, from 2^32 as 0x and 12 hex digits.
    ['01010000ffffffff07000000', 'S-1-4294967295-7', 12],
    ['010100010000000007000000', 'S-1-0x000100000000-7', 12],
    ['0101123456789abc07000000', 'S-1-0x123456789ABC-7', 12],
  ])('reads SID %s as %s', (hex, value, size) => {
    expect(new ByteReader(bytes(hex)).sid(0, 'a')).toEqual({ value, size });
  });

  it('fails a SID whose sub-authorities run past the data, naming the field', () => {
    // Count 15 needs 8 + 60 bytes; only the 8-byte header is there.
    expect(thrown(() => new ByteReader(bytes('010f000000000005'), BASE).sid(0, 'user SID'))).toEqual({
      name: 'ParseError',
      code: 'binary/out-of-bounds',
      offset: BASE,
      field: 'user SID',
      expected: '68 bytes',
      found: '8 left of 8',
      message: 'user SID: expected 68 bytes, found 8 left of 8 at 0x1000',
    });
    expect(thrown(() => new ByteReader(bytes('01')).sid(0, 'user SID')).field).toBe(
      'user SID sub-authority count',
    );
  });

  // Ticks = (datetime - datetime(1601, 1, 1)) in 100 ns units, computed with Python's datetime;
  // past year 9999 by 400-year cycles of 146,097 days from date.fromordinal.
  const filetimes: [bigint, string][] = [
    [0n, '1601-01-01T00:00:00.0000000Z'],
    [116444736000000000n, '1970-01-01T00:00:00.0000000Z'],
    [132102652044956748n, '2019-08-14T14:06:44.4956748Z'],
    [125963423999999999n, '2000-02-29T23:59:59.9999999Z'], // last tick of a leap day
    [9007199254740993n, '1629-07-17T23:58:45.4740993Z'], // 2^53 + 1: not a double
    [0x7fffffffffffffffn, '30828-09-14T02:48:05.4775807Z'], // largest FILETIME Windows converts
    [0x8000000000000000n, '30828-09-14T02:48:05.4775808Z'], // negative as a signed integer
    [0xffffffffffffffffn, '60056-05-28T05:36:10.9551615Z'],
  ];

  it.each(filetimes)('renders FILETIME %s as %s', (ticks, iso) => {
    expect(filetimeToIso(ticks)).toBe(iso);
    expect(filetimePartsToIso(Number(ticks & 0xffffffffn), Number(ticks >> 32n))).toBe(iso);
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigUint64(0, ticks, true);
    const r = new ByteReader(data);
    expect(r.filetime(0, 'a')).toBe(ticks);
    expect(r.filetimeIso(0, 'a')).toBe(iso);
  });

  it('agrees with BigInt arithmetic and Date’s calendar on 10,000 pseudo-random FILETIMEs', () => {
    // Reference: exact BigInt seconds and ticks, Date's proleptic Gregorian calendar for the day.
    const reference = (ticks: bigint) => {
      const seconds = ticks / 10_000_000n - 11_644_473_600n;
      const date = new Date(Number(seconds) * 1000).toISOString(); // +030828-09-14T02:48:05.000Z past 9999
      const day = date.replace(/^\+0*(\d{4,})/, '$1').slice(0, -5);
      return `${day}.${(ticks % 10_000_000n).toString().padStart(7, '0')}Z`;
    };
    let state = 0x2545f491; // xorshift32
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    const mismatches: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const high = next();
      const low = next();
      const ticks = (BigInt(high) << 32n) | BigInt(low);
      const ours = filetimePartsToIso(low, high);
      if (ours !== reference(ticks)) mismatches.push(`${ticks}: ${ours} vs ${reference(ticks)}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('reads SYSTEMTIME (MS-DTYP §2.3.13) with milliseconds', () => {
    // pack('<8H', year, month, weekday, day, hour, minute, second, ms)
    expect(new ByteReader(bytes('e307080003000e000e0006002c00ef01')).systemtimeIso(0, 'a')).toBe(
      '2019-08-14T14:06:44.495Z',
    );
    expect(new ByteReader(bytes('d007020002001d0017003b003b00e703')).systemtimeIso(0, 'a')).toBe(
      '2000-02-29T23:59:59.999Z',
    );
  });
});
