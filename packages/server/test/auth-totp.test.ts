// TOTP against RFC 6238 Appendix B and RFC 4226 Appendix D, base32 against RFC 4648 §10, and the
// window and replay rules.
import { describe, expect, it } from 'vitest';
import {
  decodeBase32,
  encodeBase32,
  generateTotpSecret,
  hotp,
  otpauthUri,
  type TotpAlgorithm,
  totpAt,
  verifyTotp,
} from '../src/auth/totp.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

// RFC 6238 Appendix B: seeds are the ASCII strings below, X = 30, T0 = 0, 8 digits.
const seeds: Record<TotpAlgorithm, Uint8Array> = {
  SHA1: ascii('12345678901234567890'),
  SHA256: ascii('12345678901234567890123456789012'),
  SHA512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
};
const appendixB: readonly [number, string, TotpAlgorithm][] = [
  [59, '94287082', 'SHA1'],
  [59, '46119246', 'SHA256'],
  [59, '90693936', 'SHA512'],
  [1111111109, '07081804', 'SHA1'],
  [1111111109, '68084774', 'SHA256'],
  [1111111109, '25091201', 'SHA512'],
  [1111111111, '14050471', 'SHA1'],
  [1111111111, '67062674', 'SHA256'],
  [1111111111, '99943326', 'SHA512'],
  [1234567890, '89005924', 'SHA1'],
  [1234567890, '91819424', 'SHA256'],
  [1234567890, '93441116', 'SHA512'],
  [2000000000, '69279037', 'SHA1'],
  [2000000000, '90698825', 'SHA256'],
  [2000000000, '38618901', 'SHA512'],
  [20000000000, '65353130', 'SHA1'],
  [20000000000, '77737706', 'SHA256'],
  [20000000000, '47863826', 'SHA512'],
];

describe('RFC test vectors', () => {
  it.each(appendixB)('RFC 6238 Appendix B: t=%i → %s (%s)', (time, expected, algorithm) => {
    expect(totpAt(seeds[algorithm], time, { algorithm, digits: 8, period: 30 })).toBe(expected);
  });

  it('RFC 4226 Appendix D: HOTP counters 0–9', () => {
    const values = Array.from({ length: 10 }, (_, counter) => hotp(seeds.SHA1, counter));
    expect(values).toEqual([
      '755224',
      '287082',
      '359152',
      '969429',
      '338314',
      '254676',
      '287922',
      '162583',
      '399871',
      '520489',
    ]);
  });

  it('RFC 4648 §10: base32 encoding and decoding', () => {
    const vectors = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ] as const;
    for (const [plain, encoded] of vectors) {
      expect(encodeBase32(ascii(plain))).toBe(encoded);
      expect(Buffer.from(decodeBase32(`${encoded.toLowerCase()}======`) ?? []).toString()).toBe(plain);
    }
    expect(decodeBase32('MZXW1')).toBeUndefined();
  });
});

describe('verifyTotp', () => {
  const secret = encodeBase32(seeds.SHA1);
  const at = (seconds: number) => totpAt(seeds.SHA1, seconds);
  const now = 1_111_111_111_000; // step 37037037, 1 s into it

  it('accepts the current code and one step either side, nothing further', () => {
    expect(verifyTotp({ secret, code: at(1111111111), now })).toEqual({ ok: true, step: 37037037 });
    expect(verifyTotp({ secret, code: at(1111111111 - 30), now })).toEqual({ ok: true, step: 37037036 });
    expect(verifyTotp({ secret, code: at(1111111111 + 30), now })).toEqual({ ok: true, step: 37037038 });
    expect(verifyTotp({ secret, code: at(1111111111 - 60), now })).toEqual({
      ok: false,
      reason: 'totp/mismatch',
    });
    expect(verifyTotp({ secret, code: at(1111111111 + 60), now })).toEqual({
      ok: false,
      reason: 'totp/mismatch',
    });
  });

  it('refuses a code of a step already used, and earlier steps, but takes the next one', () => {
    const first = verifyTotp({ secret, code: at(1111111111), now });
    expect(first.ok).toBe(true);
    const lastUsedStep = first.ok ? first.step : -1;
    expect(verifyTotp({ secret, code: at(1111111111), now, lastUsedStep })).toEqual({
      ok: false,
      reason: 'totp/replayed',
    });
    expect(verifyTotp({ secret, code: at(1111111111 - 30), now, lastUsedStep })).toEqual({
      ok: false,
      reason: 'totp/replayed',
    });
    expect(verifyTotp({ secret, code: at(1111111111 + 30), now: now + 30_000, lastUsedStep })).toEqual({
      ok: true,
      step: 37037038,
    });
  });

  it('ignores spaces and refuses malformed codes and secrets', () => {
    const code = at(1111111111);
    expect(verifyTotp({ secret, code: `${code.slice(0, 3)} ${code.slice(3)}`, now }).ok).toBe(true);
    expect(verifyTotp({ secret, code: '12345', now })).toEqual({ ok: false, reason: 'totp/bad-format' });
    expect(verifyTotp({ secret, code: '12345a', now })).toEqual({ ok: false, reason: 'totp/bad-format' });
    expect(verifyTotp({ secret: 'not base32!', code: '123456', now })).toEqual({
      ok: false,
      reason: 'totp/bad-secret',
    });
  });

  it('works at the start of the epoch (no negative steps)', () => {
    expect(verifyTotp({ secret, code: at(0), now: 0 })).toEqual({ ok: true, step: 0 });
  });
});

describe('enrolment', () => {
  it('generates 160-bit base32 secrets', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(decodeBase32(secret)?.length).toBe(20);
    expect(generateTotpSecret()).not.toBe(secret);
  });

  it('builds an otpauth URI in the Key Uri Format', () => {
    expect(
      otpauthUri({
        secret: 'JBSWY3DPEHPK3PXP',
        accountName: 'alice@contoso.local',
        issuer: 'Palisade (contoso)',
      }),
    ).toBe(
      'otpauth://totp/Palisade%20(contoso):alice%40contoso.local?secret=JBSWY3DPEHPK3PXP&issuer=Palisade%20(contoso)&algorithm=SHA1&digits=6&period=30',
    );
  });
});
