// Unit tests of ParseError and the two helpers decoders use to write its messages.
import { describe, expect, it } from 'vitest';
import { formatOffset, hexPreview, ParseError } from './parse-error.ts';

describe('ParseError', () => {
  it('carries where, what was expected and what was found, and says it in its message', () => {
    const cause = new Error('inner');
    const e = new ParseError({
      code: 'evtx/bad-chunk-magic',
      offset: 0x11000,
      field: 'chunk magic',
      expected: 'ElfChnk',
      found: '00 00 00 00',
      cause,
    });
    expect(e).toBeInstanceOf(Error);
    expect({ ...e, name: e.name, message: e.message, cause: e.cause }).toEqual({
      name: 'ParseError',
      code: 'evtx/bad-chunk-magic',
      offset: 0x11000,
      field: 'chunk magic',
      expected: 'ElfChnk',
      found: '00 00 00 00',
      message: 'chunk magic: expected ElfChnk, found 00 00 00 00 at 0x11000',
      cause,
    });
  });

  it('has no cause unless given one', () => {
    const e = new ParseError({ code: 'x', offset: 0, field: 'f', expected: 'a', found: 'b' });
    expect('cause' in e).toBe(false);
  });
});

describe('formatOffset', () => {
  it('prints offsets in lower-case hex with 0x', () => {
    expect([0, 0x1ff, 0x11000, 2 ** 40].map(formatOffset)).toEqual([
      '0x0',
      '0x1ff',
      '0x11000',
      '0x10000000000',
    ]);
  });
});

describe('hexPreview', () => {
  const data = Uint8Array.from([0x45, 0x6c, 0x00, 0xff]);

  it('prints bytes as two-digit hex, clipped at the end of the data', () => {
    expect(hexPreview(data, 0, 4)).toBe('45 6c 00 ff');
    expect(hexPreview(data, 2, 8)).toBe('00 ff');
  });

  it('says when nothing is left', () => {
    expect(hexPreview(data, 4, 4)).toBe('<end of data>');
    expect(hexPreview(data, 0, 0)).toBe('<end of data>');
  });
});
