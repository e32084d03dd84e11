// The modifier registry: every modifier of the Sigma modifiers appendix (v2.1) as the value
// tests it builds, and the chains it must refuse. Encoded values were computed with Python's
// base64 module (commands in the comments), not with the code under test.
import { describe, expect, it } from 'vitest';
import { SigmaError } from './diagnostics.ts';
import {
  base64Offsets,
  buildValueTests,
  modifierKinds,
  type Placeholders,
  type RawValue,
} from './modifiers.ts';
import type { Pattern, PatternPart } from './pattern.ts';
import type { ValueTest } from './rule.ts';

const text = (t: string): PatternPart => ({ kind: 'text', text: t });
const any: PatternPart = { kind: 'any' };
const pattern = (parts: Pattern, cased = false): ValueTest => ({ kind: 'pattern', pattern: parts, cased });
const dashes: PatternPart = { kind: 'class', chars: '-/\u2013\u2014\u2015' };

function build(modifiers: string[], values: RawValue[], placeholders: Placeholders = {}) {
  return buildValueTests(modifiers, values, placeholders);
}

function failure(modifiers: string[], values: RawValue[], placeholders: Placeholders = {}) {
  try {
    buildValueTests(modifiers, values, placeholders);
  } catch (e) {
    if (e instanceof SigmaError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error(`${modifiers.join('|')} was accepted`);
}

describe('the registry', () => {
  it('knows every modifier of the appendix, and the re sub-modifiers', () => {
    expect(Object.keys(modifierKinds).sort()).toEqual(
      [
        ...[
          'all',
          'startswith',
          'endswith',
          'contains',
          'exists',
          'cased',
          'neq',
          'windash',
          're',
          'i',
          'm',
          's',
        ],
        ...['base64', 'base64offset', 'utf16le', 'utf16be', 'utf16', 'wide', 'lt', 'lte', 'gt', 'gte'],
        ...['minute', 'hour', 'day', 'week', 'month', 'year', 'cidr', 'expand', 'fieldref'],
      ].sort(),
    );
  });
});

describe('generic modifiers', () => {
  it('matches the whole value without modifiers; numbers and booleans as their text', () => {
    expect(build([], ['cmd.exe', 4688, true])).toEqual({
      tests: [pattern([text('cmd.exe')]), pattern([text('4688')]), pattern([text('true')])],
      all: false,
    });
  });

  it('puts stars around (contains), after (startswith) or before (endswith) the value', () => {
    expect(build(['contains'], ['a'])).toEqual({ tests: [pattern([any, text('a'), any])], all: false });
    expect(build(['startswith'], ['a'])).toEqual({ tests: [pattern([text('a'), any])], all: false });
    expect(build(['endswith'], ['\\a.exe'])).toEqual({
      tests: [pattern([any, text('\\a.exe')])],
      all: false,
    });
  });

  it('keeps the wildcards of the value inside contains', () => {
    expect(build(['contains'], ['a*b\\*c'])).toEqual({
      tests: [pattern([any, text('a'), any, text('b*c'), any])],
      all: false,
    });
  });

  it('links values with AND under all', () => {
    expect(build(['contains', 'all'], ['a', 'b'])).toEqual({
      tests: [pattern([any, text('a'), any]), pattern([any, text('b'), any])],
      all: true,
    });
  });

  it('matches case-sensitively under cased', () => {
    expect(build(['cased'], ['CMD'])).toEqual({ tests: [pattern([text('CMD')], true)], all: false });
    expect(build(['startswith', 'cased'], ['C'])).toEqual({
      tests: [pattern([text('C'), any], true)],
      all: false,
    });
  });

  it('negates each value under neq, and asks that none of a list match', () => {
    expect(build(['neq'], ['a', 'b'])).toEqual({
      tests: [
        { kind: 'not', test: pattern([text('a')]) },
        { kind: 'not', test: pattern([text('b')]) },
      ],
      all: true,
    });
  });

  it('tests presence with exists, which takes only booleans', () => {
    expect(build(['exists'], [true])).toEqual({ tests: [{ kind: 'exists', exists: true }], all: false });
    expect(build(['exists'], [false])).toEqual({ tests: [{ kind: 'exists', exists: false }], all: false });
    expect(failure(['exists'], ['yes'])).toEqual({
      code: 'sigma/bad-value',
      message: `'exists' takes true or false, found "yes"`,
    });
  });

  it('reads null as "absent or empty", and refuses it with modifiers other than neq', () => {
    expect(build([], [null])).toEqual({ tests: [{ kind: 'null' }], all: false });
    expect(build(['neq'], [null])).toEqual({ tests: [{ kind: 'not', test: { kind: 'null' } }], all: true });
    expect(failure(['contains'], [null])).toEqual({
      code: 'sigma/bad-value',
      message: `null cannot be used with modifiers 'contains'`,
    });
  });

  it('reads an empty string as a pattern matching only the empty value', () => {
    expect(build([], [''])).toEqual({ tests: [pattern([])], all: false });
  });
});

describe('windash', () => {
  it('turns each of - / – — ― into a class of all five', () => {
    expect(build(['windash'], ['-enc'])).toEqual({ tests: [pattern([dashes, text('enc')])], all: false });
    expect(build(['windash', 'contains'], ['\u2014a /b'])).toEqual({
      tests: [pattern([any, dashes, text('a '), dashes, text('b'), any])],
      all: false,
    });
  });
});

describe('regular expressions', () => {
  it('passes the expression through, case-sensitive by default', () => {
    expect(build(['re'], ['^a.b$'])).toEqual({
      tests: [{ kind: 'regex', source: '^a.b$', flags: '' }],
      all: false,
    });
  });

  it('turns the i, m and s sub-modifiers into flags', () => {
    expect(build(['re', 'i'], ['x'])).toEqual({
      tests: [{ kind: 'regex', source: 'x', flags: 'i' }],
      all: false,
    });
    expect(build(['re', 's', 'm', 'i'], ['x'])).toEqual({
      tests: [{ kind: 'regex', source: 'x', flags: 'ims' }],
      all: false,
    });
  });

  it('turns a leading PCRE (?i) or (?ms) into flags', () => {
    expect(build(['re'], ['(?i)^cmd'])).toEqual({
      tests: [{ kind: 'regex', source: '^cmd', flags: 'i' }],
      all: false,
    });
    expect(build(['re', 'i'], ['(?ms)a.b'])).toEqual({
      tests: [{ kind: 'regex', source: 'a.b', flags: 'ims' }],
      all: false,
    });
  });

  it('refuses sub-modifiers without re, the x flag, and invalid expressions', () => {
    expect(failure(['i'], ['x'])).toEqual({
      code: 'sigma/bad-modifier',
      message: `regular-expression flag 'i' without 're'`,
    });
    expect(failure(['re'], ['(?x)a b'])).toEqual({
      code: 'sigma/unsupported',
      message: `regular-expression flag 'x' (extended) is not supported`,
    });
    expect(failure(['re'], ['(['])).toEqual({
      code: 'sigma/bad-value',
      // The engine's own words follow; their wording differs between Node versions.
      message: expect.stringMatching(
        /^invalid regular expression "\(\[": Invalid regular expression: .*Unterminated/,
      ),
    });
  });
});

describe('encodings', () => {
  it('encodes with base64', () => {
    // python3 -c "import base64; print(base64.b64encode(b'abc').decode())" → YWJj
    expect(build(['base64'], ['abc'])).toEqual({ tests: [pattern([text('YWJj')])], all: false });
    expect(build(['base64', 'contains'], ['abc'])).toEqual({
      tests: [pattern([any, text('YWJj'), any])],
      all: false,
    });
  });

  it('encodes UTF-16 little-endian, big-endian and with a byte order mark before base64', () => {
    // python3 -c "import base64; s='cmd'; print(base64.b64encode(s.encode('utf-16-le')).decode(),
    //   base64.b64encode(s.encode('utf-16-be')).decode(), base64.b64encode(b'\xff\xfe'+s.encode('utf-16-le')).decode())"
    //   → YwBtAGQA AGMAbQBk //5jAG0AZAA=
    expect(build(['utf16le', 'base64'], ['cmd']).tests).toEqual([pattern([text('YwBtAGQA')])]);
    expect(build(['wide', 'base64'], ['cmd']).tests).toEqual([pattern([text('YwBtAGQA')])]);
    expect(build(['utf16be', 'base64'], ['cmd']).tests).toEqual([pattern([text('AGMAbQBk')])]);
    expect(build(['utf16', 'base64'], ['cmd']).tests).toEqual([pattern([text('//5jAG0AZAA=')])]);
  });

  // The parts of the encoding that do not depend on the bytes around the value, for the value
  // starting 0, 1 or 2 bytes into a group: found by encoding it between prefixes of \x00 and
  // \xff bytes and several suffixes and keeping the characters that are the same in all
  // (python3, see the command in the test below for the method).
  it('encodes with base64offset at each of the three offsets', () => {
    // for s in 0,1,2: encs = [b64encode(p*s + v + q) for p in (b'\x00', b'\xff')
    //   for q in (b'', b'\x00', b'\xff\xff', b'\x00\x00\x00')]; keep positions equal in all
    //   → mimikatz: bWltaWthdH 1pbWlrYXR6 taW1pa2F0e ; /bin/bash: L2Jpbi9iYXNo 9iaW4vYmFza vYmluL2Jhc2
    expect(build(['base64offset', 'contains'], ['mimikatz'])).toEqual({
      tests: [
        {
          kind: 'anyOf',
          tests: [
            pattern([any, text('bWltaWthdH'), any]),
            pattern([any, text('1pbWlrYXR6'), any]),
            pattern([any, text('taW1pa2F0e'), any]),
          ],
        },
      ],
      all: false,
    });
    expect(base64Offsets(new TextEncoder().encode('/bin/bash'))).toEqual([
      'L2Jpbi9iYXNo',
      '9iaW4vYmFza',
      'vYmluL2Jhc2',
    ]);
    // Same method over 'Invoke-Mimikatz'.encode('utf-16-le').
    expect(build(['utf16le', 'base64offset', 'contains'], ['Invoke-Mimikatz']).tests).toEqual([
      {
        kind: 'anyOf',
        tests: [
          pattern([any, text('SQBuAHYAbwBrAGUALQBNAGkAbQBpAGsAYQB0AHoA'), any]),
          pattern([any, text('kAbgB2AG8AawBlAC0ATQBpAG0AaQBrAGEAdAB6A'), any]),
          pattern([any, text('JAG4AdgBvAGsAZQAtAE0AaQBtAGkAawBhAHQAeg'), any]),
        ],
      },
    ]);
  });

  it('finds each offset form inside base64 of the value after any prefix', () => {
    const value = new TextEncoder().encode('powershell -nop');
    const forms = base64Offsets(value);
    for (let prefix = 0; prefix < 9; prefix++) {
      for (let suffix = 0; suffix < 4; suffix++) {
        const bytes = new Uint8Array(prefix + value.length + suffix).fill(0x5a + prefix + suffix);
        bytes.set(value, prefix);
        const encoded = Buffer.from(bytes).toString('base64');
        expect(encoded.includes(forms[prefix % 3] as string), `prefix ${prefix}, suffix ${suffix}`).toBe(
          true,
        );
      }
    }
  });

  it('refuses UTF-16 without a base64 step after it, and encodings of wildcards', () => {
    expect(failure(['utf16le'], ['cmd'])).toEqual({
      code: 'sigma/bad-modifier',
      message: `'utf16le' must be followed by 'base64' or 'base64offset'`,
    });
    expect(failure(['wide', 'contains'], ['cmd'])).toEqual({
      code: 'sigma/bad-modifier',
      message: `'wide' must be followed by 'base64' or 'base64offset'`,
    });
    expect(failure(['base64'], ['a*'])).toEqual({
      code: 'sigma/bad-value',
      message: `'base64' cannot encode a value with wildcards`,
    });
    expect(failure(['utf16le', 'utf16be', 'base64'], ['a'])).toEqual({
      code: 'sigma/bad-modifier',
      message: `'utf16be' applies to text, not to already encoded bytes`,
    });
  });
});

describe('numbers and times', () => {
  it('compares numbers with lt, lte, gt and gte, numeric strings included', () => {
    expect(build(['lt'], [5]).tests).toEqual([{ kind: 'compare', op: 'lt', value: 5 }]);
    expect(build(['lte'], ['5']).tests).toEqual([{ kind: 'compare', op: 'lte', value: 5 }]);
    expect(build(['gt'], [1.5]).tests).toEqual([{ kind: 'compare', op: 'gt', value: 1.5 }]);
    expect(build(['gte'], [-2]).tests).toEqual([{ kind: 'compare', op: 'gte', value: -2 }]);
    expect(failure(['gt'], ['many'])).toEqual({
      code: 'sigma/bad-value',
      message: `'gt' takes a number, found "many"`,
    });
    expect(failure(['lt'], [null])).toEqual({
      code: 'sigma/bad-value',
      message: `'lt' takes a number, found null`,
    });
  });

  it('tests a part of a timestamp, as a value or with a comparison', () => {
    expect(build(['hour'], [3]).tests).toEqual([
      { kind: 'timePart', part: 'hour', test: pattern([text('3')]) },
    ]);
    expect(build(['week', 'gte'], [50]).tests).toEqual([
      { kind: 'timePart', part: 'week', test: { kind: 'compare', op: 'gte', value: 50 } },
    ]);
    for (const part of ['minute', 'day', 'month', 'year'] as const) {
      expect(build([part], [1]).tests).toEqual([{ kind: 'timePart', part, test: pattern([text('1')]) }]);
    }
  });
});

describe('cidr', () => {
  it('keeps IPv4 and IPv6 networks', () => {
    for (const cidr of [
      '10.0.0.0/8',
      '192.168.1.0/24',
      '0.0.0.0/0',
      '::1/128',
      'fe80::/10',
      '2001:db8::/32',
    ]) {
      expect(build(['cidr'], [cidr]).tests).toEqual([{ kind: 'cidr', cidr }]);
    }
  });

  it('refuses what is not a network, so that matching never meets one', () => {
    for (const cidr of [
      '10.0.0.0',
      '10.0.0.0/33',
      '::1/129',
      'abc/8',
      '10.0.0/8',
      '1.2.3.4/8/9',
      '10.0.0.256/8',
    ]) {
      expect(failure(['cidr'], [cidr])).toEqual({
        code: 'sigma/bad-value',
        message: `invalid CIDR "${cidr}"`,
      });
    }
  });
});

describe('expand', () => {
  const placeholders = { Administrators: ['root', 'adm*'], Servers: ['srv01'] };

  it('replaces a placeholder by each of its values, wildcards included', () => {
    expect(build(['expand'], ['%Administrators%'], placeholders).tests).toEqual([
      { kind: 'anyOf', tests: [pattern([text('root')]), pattern([text('adm'), any])] },
    ]);
  });

  it('keeps text around the placeholder and an escaped percent sign', () => {
    // The specification's example: `\%plain%name%` is `%plain` followed by the placeholder.
    expect(build(['expand'], ['\\%plain%Servers%'], placeholders).tests).toEqual([
      pattern([text('%plain'), text('srv01')]),
    ]);
    // An escaped opening percent sign leaves no placeholder at all.
    expect(build(['expand', 'endswith'], ['\\%Servers%'], placeholders).tests).toEqual([
      pattern([any, text('%Servers%')]),
    ]);
    expect(build(['expand', 'endswith'], ['\\%Servers'], placeholders).tests).toEqual([
      pattern([any, text('%Servers')]),
    ]);
  });

  it('leaves percent signs alone without expand', () => {
    expect(build([], ['%Servers%']).tests).toEqual([pattern([text('%Servers%')])]);
  });

  it('rejects the rule when a placeholder has no values', () => {
    expect(failure(['expand'], ['%Workstations%'], placeholders)).toEqual({
      code: 'sigma/unknown-placeholder',
      message: 'placeholder %Workstations% has no values; give them in a placeholder file',
    });
  });
});

describe('fieldref', () => {
  it('names the other field, with the match kind and case from the other modifiers', () => {
    expect(build(['fieldref'], ['SubjectUserName']).tests).toEqual([
      { kind: 'fieldref', field: 'SubjectUserName', match: 'exact', cased: false },
    ]);
    expect(build(['fieldref', 'startswith', 'cased'], ['Image']).tests).toEqual([
      { kind: 'fieldref', field: 'Image', match: 'startswith', cased: true },
    ]);
    expect(build(['fieldref', 'neq'], ['SubjectUserName'])).toEqual({
      tests: [
        { kind: 'not', test: { kind: 'fieldref', field: 'SubjectUserName', match: 'exact', cased: false } },
      ],
      all: true,
    });
  });
});

describe('refused chains', () => {
  it('names an unknown modifier', () => {
    expect(failure(['contains', 'beginswith'], ['a'])).toEqual({
      code: 'sigma/unknown-modifier',
      message: `unknown modifier 'beginswith'`,
    });
  });

  it('refuses two type modifiers together', () => {
    expect(failure(['re', 'cidr'], ['a'])).toEqual({
      code: 'sigma/bad-modifier',
      message: `modifiers 're' and 'cidr' cannot be combined`,
    });
  });
});
