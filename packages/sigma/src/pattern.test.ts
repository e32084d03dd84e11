// Sigma string values as patterns: wildcards and the escaping rules of the Sigma rules
// specification ("Escaping"), each case written out as the pattern it must become.
import { describe, expect, it } from 'vitest';
import { formatPattern, isLiteral, type Pattern, parsePattern, patternText, wrapPattern } from './pattern.ts';

const text = (t: string) => ({ kind: 'text', text: t }) as const;
const any = { kind: 'any' } as const;
const one = { kind: 'one' } as const;

describe('parsePattern', () => {
  // Each value is written as it arrives from YAML (a single-quoted scalar keeps backslashes).
  const cases: [value: string, expected: Pattern][] = [
    ['cmd.exe', [text('cmd.exe')]],
    ['', []],
    ['*\\cmd.exe', [any, text('\\cmd.exe')]],
    ['prog?.exe', [text('prog'), one, text('.exe')]],
    ['antivirus_V*.exe', [text('antivirus_V'), any, text('.exe')]],
    // Consecutive stars mean the same as one.
    ['a**b', [text('a'), any, text('b')]],
    // "A wildcard has to be escaped to be handled as a plain character": \* and \?.
    ['a\\*b', [text('a*b')]],
    ['what\\?', [text('what?')]],
    // "The backslash before a wildcard has to be escaped ...: \\*" gives a backslash, then a wildcard.
    ['C:\\\\*', [text('C:\\'), any]],
    ['C:\\\\?', [text('C:\\'), one]],
    // "Three backslashes are necessary to escape both": \\\* is a backslash and a plain star.
    ['C:\\\\\\*', [text('C:\\*')]],
    // "Plain backslash not followed by a wildcard can be expressed as single \ or double \\".
    ['C:\\Windows\\System32', [text('C:\\Windows\\System32')]],
    ['C:\\\\Windows', [text('C:\\Windows')]],
    // "Three or four backslashes are handled as double backslash".
    ['\\\\\\server', [text('\\\\server')]],
    ['\\\\\\\\server', [text('\\\\server')]],
    // A trailing single backslash stays a backslash.
    ['dir\\', [text('dir\\')]],
  ];
  it.each(cases)('reads %j', (value, expected) => {
    expect(parsePattern(value)).toEqual(expected);
  });
});

describe('formatPattern', () => {
  it('writes a pattern back in Sigma notation, escaping literal wildcards and backslashes', () => {
    expect(formatPattern([text('C:\\'), any, text('a*b?'), one])).toBe('C:\\\\*a\\*b\\??');
    expect(formatPattern([{ kind: 'class', chars: '-/' }, text('enc')])).toBe('[-/]enc');
  });

  it('gives back a value that reads as the same pattern', () => {
    for (const value of ['a\\*b', 'C:\\\\*', 'C:\\\\\\*', 'x?y*z', '\\\\\\\\server']) {
      const pattern = parsePattern(value);
      expect(parsePattern(formatPattern(pattern))).toEqual(pattern);
    }
  });
});

describe('pattern helpers', () => {
  it('tells literal patterns from wildcard ones', () => {
    expect(isLiteral(parsePattern('a\\*b'))).toBe(true);
    expect(isLiteral(parsePattern('a*b'))).toBe(false);
    expect(isLiteral(parsePattern('a?b'))).toBe(false);
    expect(patternText(parsePattern('a\\*b'))).toBe('a*b');
  });

  it('wraps with stars as contains, startswith and endswith do, without doubling them', () => {
    expect(wrapPattern([text('x')], true, true)).toEqual([any, text('x'), any]);
    expect(wrapPattern([text('x')], false, true)).toEqual([text('x'), any]);
    expect(wrapPattern([text('x')], true, false)).toEqual([any, text('x')]);
    expect(wrapPattern([any, text('x'), any], true, true)).toEqual([any, text('x'), any]);
    expect(wrapPattern([], true, true)).toEqual([any]);
  });
});
