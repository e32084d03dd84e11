// The instance access key: a sensor presents it once, to register; from then on it uses its
// certificate. Only the key's SHA-256 digest is stored. Regenerating replaces the record, so the
// old key stops registering new sensors while registered ones keep their certificates.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Marks the key as a Palisade secret, for secret scanners and log redaction. */
export const accessKeyPrefix = 'pak_';

/** Matches an access key anywhere in a text, for log redaction. */
export const accessKeyPattern = /pak_[A-Za-z0-9_-]{43}/;

/** What the instance stores about its access key: never the key itself. */
export interface AccessKeyRecord {
  /** 1 for the first key, one more at each regeneration. */
  readonly generation: number;
  /** SHA-256 of the key, hex. */
  readonly digest: string;
  /** ISO 8601. */
  readonly createdAt: string;
}

/** A newly generated key: show `key` to the administrator once, store `record`. */
export interface NewAccessKey {
  readonly key: string;
  readonly record: AccessKeyRecord;
}

/**
 * Generates an access key (`pak_` + 32 random bytes in base64url) and its record, one
 * generation after `previous`. A plain SHA-256 digest suffices: 256 random bits leave nothing
 * to guess, so a slow password hash would add cost without adding safety.
 */
export function generateAccessKey(previous?: AccessKeyRecord, now: Date = new Date()): NewAccessKey {
  const key = `${accessKeyPrefix}${randomBytes(32).toString('base64url')}`;
  return {
    key,
    record: {
      generation: (previous?.generation ?? 0) + 1,
      digest: accessKeyDigest(key).toString('hex'),
      createdAt: now.toISOString(),
    },
  };
}

/** SHA-256 of a presented key: 32 bytes whatever the key's length. */
export function accessKeyDigest(candidate: string): Buffer {
  return createHash('sha256').update(candidate, 'utf8').digest();
}

/**
 * True when `candidate` is the key of `record`. Digests of equal length are compared in
 * constant time, so neither the key's length nor its first wrong character shows in timing.
 */
export function verifyAccessKey(record: AccessKeyRecord, candidate: string): boolean {
  const expected = Buffer.from(record.digest, 'hex');
  const presented = accessKeyDigest(candidate);
  // Only a damaged record has another length; it matches nothing.
  if (expected.length !== presented.length) return false;
  return timingSafeEqual(expected, presented);
}
