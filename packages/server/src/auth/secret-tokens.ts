// Random secrets handed to browsers and API clients (session tokens, client secrets, access
// tokens) and how the server keeps them: only a SHA-256 digest is stored, and every comparison
// of secret material runs in constant time.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The prefix of each kind of secret. A prefix tells a leaked value's kind at a glance and lets
 * the log redactor and secret scanners find it by pattern (see `redact.ts`). The sensor access
 * key has its own, `pak_` (`pki/access-key.ts`).
 */
export const secretPrefixes = {
  session: 'pls_',
  clientSecret: 'plc_',
  accessToken: 'plt_',
} as const;
export type SecretKind = keyof typeof secretPrefixes;

/** Bytes of randomness in every secret: 256 bits, so a fast digest is enough to store it. */
export const secretBytes = 32;

// base64url of 32 bytes, without padding.
const bodyPattern = /^[A-Za-z0-9_-]{43}$/;

/** A new secret of the given kind: prefix + 32 random bytes in base64url. */
export function newSecret(kind: SecretKind): string {
  return secretPrefixes[kind] + randomBytes(secretBytes).toString('base64url');
}

/** True when `value` has the shape of a secret of `kind` (prefix, 43 base64url characters). */
export function isSecretOfKind(value: string, kind: SecretKind): boolean {
  const prefix = secretPrefixes[kind];
  return value.startsWith(prefix) && bodyPattern.test(value.slice(prefix.length));
}

/**
 * The stored form of a secret: its SHA-256 in hex. Secrets are 256 random bits, so no salt or
 * slow hash is needed (argon2 is for low-entropy human passwords); a slow hash here would only
 * turn the token endpoint into a CPU sink.
 */
export function digestSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // Compare equal-length buffers even when the lengths differ, so the work done does not
  // depend on where the first difference is.
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}
