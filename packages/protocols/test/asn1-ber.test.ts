// BER reader: the encodings X.690 gives as examples (high tag numbers, long-form lengths, INTEGER,
// BIT STRING, OBJECT IDENTIFIER, GeneralizedTime), every refusal with its message, the depth
// limit, and 10,000 mutated encodings walked to the bottom without a stray exception.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '@palisade/binary';
import { describe, expect, it } from 'vitest';
import { asn1ErrorCodes, type BerElement, BerReader, peekElementSize } from '../src/asn1-ber.ts';
import { hex } from './test-bytes.ts';

function reader(text: string, base = 0): BerReader {
  return new BerReader(hex(text), base);
}

/** The error a read throws, as its fields, or a failure if it does not throw. */
function thrown(read: () => unknown) {
  try {
    read();
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    return { code: e.code, offset: e.offset, message: e.message };
  }
  throw new Error('expected a ParseError');
}

describe('identifier and length octets (X.690 §8.1.2–8.1.3)', () => {
  it('reads class, form and a low tag number', () => {
    const ber = reader('a3 03 02 01 05');
    expect(ber.root('x')).toEqual({
      tagClass: 'context',
      constructed: true,
      tagNumber: 3,
      offset: 0,
      contentOffset: 2,
      length: 3,
      end: 5,
      depth: 0,
    });
    expect(reader('6a 00').root('x')).toMatchObject({ tagClass: 'application', tagNumber: 10 });
    expect(reader('c1 00').root('x')).toMatchObject({
      tagClass: 'private',
      constructed: false,
      tagNumber: 1,
    });
  });

  it('reads high tag numbers in base 128 (§8.1.2.4): 31, 201, 16383', () => {
    expect(reader('5f 1f 00').root('x')).toMatchObject({
      tagClass: 'application',
      tagNumber: 31,
      contentOffset: 3,
    });
    expect(reader('bf 81 49 00').root('x')).toMatchObject({
      tagClass: 'context',
      constructed: true,
      tagNumber: 201,
    });
    expect(reader('1f ff 7f 00').root('x')).toMatchObject({ tagNumber: 16383, contentOffset: 4 });
    expect(thrown(() => reader('1f ff ff ff ff 7f 00').root('x'))).toEqual({
      code: 'asn1/bad-tag',
      offset: 0,
      message: 'x: expected a tag number in at most 4 octets, found 1f ff ff ff ff 7f at 0x0',
    });
  });

  it('reads short and long lengths (§8.1.3.4–5): 201 is 81 c9', () => {
    const content = '00'.repeat(201);
    expect(reader(`04 81 c9 ${content}`).root('x')).toMatchObject({
      length: 201,
      contentOffset: 3,
      end: 204,
    });
    expect(reader(`04 82 00 c9 ${content}`).root('x')).toMatchObject({ length: 201, contentOffset: 4 });
  });

  it('refuses the indefinite form, more than four length octets, and lengths past the enclosing data', () => {
    expect(thrown(() => reader('30 80 02 01 05 00 00', 0x100).root('LDAPMessage'))).toEqual({
      code: 'asn1/indefinite-length',
      offset: 0x101,
      message: 'LDAPMessage: expected a definite length, found indefinite length (0x80) at 0x101',
    });
    expect(thrown(() => reader('04 85 00 00 00 00 01 00').root('x')).code).toBe('asn1/bad-length');
    expect(thrown(() => reader('04 05 00 00').root('x'))).toEqual({
      code: 'asn1/bad-length',
      offset: 0,
      message: 'x: expected a length of at most 2, found 5 at 0x0',
    });
    expect(thrown(() => reader('04 84 ff ff ff ff').root('x')).message).toBe(
      'x: expected a length of at most 0, found 4294967295 at 0x0',
    );
    expect(thrown(() => reader('04 82 01').root('x'))).toEqual({
      code: 'asn1/truncated',
      offset: 3,
      message: 'x length: expected 1 more byte, found the end of the enclosing data at 0x3',
    });
  });

  it('keeps children inside their parent', () => {
    // The SEQUENCE says 3 bytes, its INTEGER says 4: the INTEGER would end past the SEQUENCE.
    const ber = reader('30 03 02 04 01 02 03 04');
    expect(thrown(() => ber.children(ber.root('seq'), 'item'))).toEqual({
      code: 'asn1/bad-length',
      offset: 2,
      message: 'item: expected a length of at most 1, found 4 at 0x2',
    });
  });

  it('stops at the depth limit', () => {
    let text = '05 00';
    for (let i = 0; i < 40; i++)
      text = `30 ${(text.replaceAll(' ', '').length / 2).toString(16).padStart(2, '0')} ${text}`;
    const ber = new BerReader(hex(text), 0, 32);
    const walk = (el: BerElement): number =>
      el.constructed ? 1 + Math.max(...ber.children(el, 'item').map(walk)) : 0;
    expect(thrown(() => walk(ber.root('root')))).toEqual({
      code: 'asn1/too-deep',
      offset: 66,
      message: 'item: expected at most 32 levels, found 33 at 0x42',
    });
  });
});

describe('universal types', () => {
  it('reads INTEGERs in two’s complement (X.690 §8.3)', () => {
    // Six octets and fewer are read without BigInt: both sides of that line, both signs.
    const values = [
      ...['00', '7f', '0080', '80', 'ff7f', '0100', 'ffffffff', '0080000000'],
      ...['7fffffffffff', '800000000000', '00800000000000', 'ff7fffffffffff', '1fffffffffffff'],
    ];
    const read = (v: string) => {
      const ber = reader(`02 ${(v.length / 2).toString(16).padStart(2, '0')} ${v}`);
      return ber.integer(ber.root('x'), 'x');
    };
    expect(values.map(read)).toEqual([
      ...[0, 127, 128, -128, -129, 256, -1, 2147483648],
      ...[2 ** 47 - 1, -(2 ** 47), 2 ** 47, -(2 ** 47) - 1, 2 ** 53 - 1],
    ]);
    const big = reader('02 09 00 ff ff ff ff ff ff ff ff');
    expect(big.bigInteger(big.root('x'), 'x')).toBe(2n ** 64n - 1n);
    expect(thrown(() => big.integer(big.root('x'), 'x')).message).toBe(
      'x: expected an integer within ±2^53, found 18446744073709551615 at 0x0',
    );
    const empty = reader('02 00');
    expect(thrown(() => empty.integer(empty.root('x'), 'x')).code).toBe('asn1/bad-value');
  });

  it('reads BOOLEAN, BIT STRING and KerberosFlags (X.690 §8.2, §8.6.4.2)', () => {
    const t = reader('01 01 ff');
    expect(t.boolean(t.root('x'), 'x')).toBe(true);
    // X.690's example: '0A3B5F291CD'H with four unused bits.
    const bits = reader('03 07 04 0a 3b 5f 29 1c d0');
    expect(bits.bitString(bits.root('x'), 'x')).toEqual({ unusedBits: 4, bits: hex('0a3b5f291cd0') });
    const flags = reader('03 05 00 40 81 00 10');
    expect(flags.bitFlags(flags.root('x'), 'x')).toBe(0x40810010);
    const short = reader('03 02 00 80');
    expect(short.bitFlags(short.root('x'), 'x')).toBe(0x80000000);
    const bad = reader('03 01 03');
    expect(thrown(() => bad.bitString(bad.root('x'), 'x')).message).toBe(
      'x: expected an unused-bit count 0–7, found 03 at 0x0',
    );
  });

  it('reads OBJECT IDENTIFIERs (X.690 §8.19): 2.100.3, 2.999.3, Kerberos, SPNEGO, NTLMSSP', () => {
    const oid = (text: string) => {
      const ber = reader(text);
      return ber.objectIdentifier(ber.root('x'), 'x');
    };
    expect(oid('06 03 81 34 03')).toBe('2.100.3');
    expect(oid('06 03 88 37 03')).toBe('2.999.3');
    expect(oid('06 09 2a 86 48 86 f7 12 01 02 02')).toBe('1.2.840.113554.1.2.2');
    expect(oid('06 06 2b 06 01 05 05 02')).toBe('1.3.6.1.5.5.2');
    expect(oid('06 0a 2b 06 01 04 01 82 37 02 02 0a')).toBe('1.3.6.1.4.1.311.2.2.10');
    expect(thrown(() => oid('06 02 2a 86')).message).toBe(
      'x: expected a complete object identifier, found 2a 86 at 0x0',
    );
    expect(thrown(() => oid('06 00')).code).toBe('asn1/bad-value');
    expect(thrown(() => oid(`06 0a 2a ${'ff'.repeat(8)} 01`)).message).toMatch(/expected arcs below 2\^53/);
  });

  it('reads GeneralizedTime as ISO 8601, and refuses local times', () => {
    const time = (s: string) => {
      const ber = new BerReader(Uint8Array.from([0x18, s.length, ...Buffer.from(s)]));
      return ber.generalizedTime(ber.root('x'), 'till');
    };
    expect(time('20370913024805Z')).toBe('2037-09-13T02:48:05Z');
    expect(time('19851106210627.3Z')).toBe('1985-11-06T21:06:27.3Z');
    expect(thrown(() => time('19851106210627.3'))).toEqual({
      code: 'asn1/bad-value',
      offset: 0,
      message: 'till: expected a time YYYYMMDDHHMMSSZ, found "19851106210627.3" at 0x0',
    });
  });

  it('maps tagged components, EXPLICIT and required ones', () => {
    const ber = reader('30 0a a0 03 02 01 05 a2 03 02 01 0a');
    const seq = ber.root('KDC-REQ');
    const f = ber.tagged(seq, 'KDC-REQ');
    expect([...f.keys()]).toEqual([0, 2]);
    expect(ber.integer(ber.required(f, 2, seq, 'msg-type'), 'msg-type')).toBe(10);
    expect(ber.optional(f, 1, 'padata')).toBeUndefined();
    expect(thrown(() => ber.required(f, 4, seq, 'req-body'))).toEqual({
      code: 'asn1/bad-value',
      offset: 0,
      message: 'req-body: expected component [4], found none at 0x0',
    });
    expect(thrown(() => ber.expect(seq, 'application', 10, 'AS-REQ', true)).message).toBe(
      'AS-REQ: expected [APPLICATION 10] constructed, found universal 16 constructed at 0x0',
    );
  });
});

describe('peekElementSize', () => {
  it('says how long an element is once its header has arrived', () => {
    expect(peekElementSize(hex('30'), 0)).toEqual({ kind: 'need-more' });
    expect(peekElementSize(hex('30 82 01'), 0)).toEqual({ kind: 'need-more' });
    expect(peekElementSize(hex('30 82 01 00'), 0)).toEqual({
      kind: 'complete-header',
      headerLength: 4,
      totalLength: 260,
    });
    expect(peekElementSize(hex('ff ff 30 05'), 2)).toEqual({
      kind: 'complete-header',
      headerLength: 2,
      totalLength: 7,
    });
    expect(peekElementSize(hex('7f 81'), 0)).toEqual({ kind: 'need-more' });
    expect(thrown(() => peekElementSize(hex('30 80'), 0, 0x40)).message).toBe(
      'element length: expected a definite length, found indefinite length (0x80) at 0x41',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: walk whole mutated encodings, reading every primitive as every type; only
// ParseErrors with this package's codes may come out.

function xorshift(seed: number) {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return Math.floor((state / 0x1_0000_0000) * n);
  };
}

describe('robustness', () => {
  // Real encodings from the lab capture: a Kerberos AS-REQ record, the LDAP search with the
  // deepest filter (frame 904), and the SPNEGO NegTokenInit2 of an SMB2 NEGOTIATE reply (frame 35).
  const fixtures = join(import.meta.dirname, '../fixtures/testbed-default');
  const payload = (file: string, frame: string, column: number) =>
    readFileSync(join(fixtures, file), 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`${frame}\t`))
      ?.split('\t')[column] ?? '';
  const seeds = [
    hex(payload('tcp-payloads.tsv', '64', 4)).subarray(4),
    hex(payload('tcp-payloads.tsv', '904', 4)),
    hex(payload('smb2-security-blobs.tsv', '35', 2)),
  ];
  const known = new Set<string>([...asn1ErrorCodes, 'binary/out-of-bounds']);

  function walk(ber: BerReader, el: BerElement): void {
    if (el.constructed) {
      for (const child of ber.children(el, 'child')) walk(ber, child);
      return;
    }
    for (const read of [
      () => ber.integer(el, 'v'),
      () => ber.boolean(el, 'v'),
      () => ber.bitFlags(el, 'v'),
      () => ber.objectIdentifier(el, 'v'),
      () => ber.generalizedTime(el, 'v'),
      () => ber.text(el, 'v'),
    ]) {
      try {
        read();
      } catch (e) {
        if (!(e instanceof ParseError) || !known.has(e.code)) throw e;
      }
    }
  }

  it('10,000 mutated encodings give values or ParseErrors with known codes, quickly', () => {
    for (const seed of seeds) walk(new BerReader(seed), new BerReader(seed).root('seed'));
    const rand = xorshift(0xa5a1);
    for (let i = 0; i < 10_000; i++) {
      const bytes = Uint8Array.from(seeds[rand(seeds.length)] as Uint8Array);
      for (let k = 0, n = 1 + rand(6); k < n; k++) {
        const at = rand(bytes.length);
        bytes[at] =
          rand(3) === 0
            ? ([0x80, 0x81, 0x84, 0xff, 0x1f, 0x00][rand(6)] as number)
            : (bytes[at] as number) ^ (1 << rand(8));
      }
      const input = bytes.subarray(0, rand(4) === 0 ? rand(bytes.length + 1) : bytes.length);
      const started = performance.now();
      try {
        const ber = new BerReader(input);
        walk(ber, ber.root('root'));
        peekElementSize(input, 0);
      } catch (e) {
        if (!(e instanceof ParseError) || !known.has(e.code)) throw e;
      }
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });
});
