// Optional second factor: time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), as
// authenticator apps implement them (HMAC-SHA-1, 30 s steps, 6 digits). A code is accepted one
// step early or late for clock drift, and never twice (the caller stores the last used step).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const totpAlgorithms = ['SHA1', 'SHA256', 'SHA512'] as const;
export type TotpAlgorithm = (typeof totpAlgorithms)[number];

/** RFC 6238 §4 parameters. T0 is always the Unix epoch. */
export interface TotpParameters {
  readonly algorithm: TotpAlgorithm;
  readonly digits: number;
  /** Time step X in seconds. */
  readonly period: number;
}

/** What authenticator apps assume when the URI says nothing (Google Key Uri Format). */
export const totpDefaults: TotpParameters = { algorithm: 'SHA1', digits: 6, period: 30 };

/** Steps accepted on each side of the current one (RFC 6238 §5.2 recommends at most one). */
export const totpWindow = 1;

/** Shared-secret length: 160 bits, RFC 4226 §4 R6. */
export const totpSecretBytes = 20;

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32, without padding (as otpauth URIs carry it). */
export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += base32Alphabet[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += base32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes base32, ignoring case, spaces and `=` padding; `undefined` on any other character. */
export function decodeBase32(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of clean) {
    const value = base32Alphabet.indexOf(char);
    if (value < 0) return undefined;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** A new random TOTP secret, base32 (32 characters for 20 bytes). */
export function generateTotpSecret(): string {
  return encodeBase32(randomBytes(totpSecretBytes));
}

/** HOTP value for a counter, RFC 4226 §5.3 (dynamic truncation, then modulo 10^digits). */
export function hotp(
  key: Uint8Array,
  counter: number,
  digits = 6,
  algorithm: TotpAlgorithm = 'SHA1',
): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm.toLowerCase(), key).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary =
    (((mac[offset] ?? 0) & 0x7f) << 24) |
    ((mac[offset + 1] ?? 0) << 16) |
    ((mac[offset + 2] ?? 0) << 8) |
    (mac[offset + 3] ?? 0);
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step T = floor((unixSeconds − T0) / X), RFC 6238 §4.2. */
export function totpStep(unixSeconds: number, period = totpDefaults.period): number {
  return Math.floor(unixSeconds / period);
}

/** The TOTP value at a time (Unix seconds). */
export function totpAt(key: Uint8Array, unixSeconds: number, parameters = totpDefaults): string {
  return hotp(key, totpStep(unixSeconds, parameters.period), parameters.digits, parameters.algorithm);
}

export type TotpVerification =
  | { readonly ok: true /** Store it as the account's last used step. */; readonly step: number }
  | {
      readonly ok: false;
      readonly reason: 'totp/bad-format' | 'totp/bad-secret' | 'totp/mismatch' | 'totp/replayed';
    };

export interface TotpCheck {
  /** The account's base32 secret. */
  readonly secret: string;
  /** What the user typed; spaces are ignored ("123 456"). */
  readonly code: string;
  /** Current time, milliseconds since the epoch. */
  readonly now: number;
  /** The step of the last code accepted for this account; that step and earlier ones are refused. */
  readonly lastUsedStep?: number | undefined;
  readonly parameters?: TotpParameters;
}

/**
 * Checks a code against the steps around `now` (±`totpWindow`), comparing every candidate in
 * constant time, and refuses a step at or before `lastUsedStep` (RFC 6238 §5.2: a code must not
 * be accepted a second time).
 */
export function verifyTotp(check: TotpCheck): TotpVerification {
  const parameters = check.parameters ?? totpDefaults;
  const code = check.code.replace(/\s/g, '');
  if (!new RegExp(`^\\d{${parameters.digits}}$`).test(code)) return { ok: false, reason: 'totp/bad-format' };
  const key = decodeBase32(check.secret);
  if (key === undefined || key.length === 0) return { ok: false, reason: 'totp/bad-secret' };
  const current = totpStep(Math.floor(check.now / 1000), parameters.period);
  const given = Buffer.from(code);
  let matched: number | undefined;
  // Every step in the window is computed and compared, so timing does not tell which matched.
  for (let step = Math.max(0, current - totpWindow); step <= current + totpWindow; step++) {
    const expected = Buffer.from(hotp(key, step, parameters.digits, parameters.algorithm));
    if (timingSafeEqual(expected, given) && matched === undefined) matched = step;
  }
  if (matched === undefined) return { ok: false, reason: 'totp/mismatch' };
  if (check.lastUsedStep !== undefined && matched <= check.lastUsedStep)
    return { ok: false, reason: 'totp/replayed' };
  return { ok: true, step: matched };
}

export interface OtpauthUriInput {
  readonly secret: string;
  /** The user's login name, shown in the app. */
  readonly accountName: string;
  /** Who the account belongs to, e.g. "Palisade (contoso.local)". */
  readonly issuer: string;
  readonly parameters?: TotpParameters;
}

/**
 * The `otpauth://totp/…` URI for a QR code (Google Authenticator Key Uri Format): label
 * `issuer:account`, and `secret`, `issuer`, `algorithm`, `digits`, `period` parameters.
 */
export function otpauthUri(input: OtpauthUriInput): string {
  const parameters = input.parameters ?? totpDefaults;
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.accountName)}`;
  const query = [
    `secret=${input.secret.replace(/[\s=]/g, '').toUpperCase()}`,
    `issuer=${encodeURIComponent(input.issuer)}`,
    `algorithm=${parameters.algorithm}`,
    `digits=${parameters.digits}`,
    `period=${parameters.period}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}
