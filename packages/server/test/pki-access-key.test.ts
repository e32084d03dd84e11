// The access key: only its digest is kept, the right key registers, a wrong or superseded one
// does not, and every comparison is timingSafeEqual over two 32-byte digests.

import nodeCrypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  accessKeyDigest,
  accessKeyPattern,
  generateAccessKey,
  verifyAccessKey,
} from '../src/pki/access-key.ts';

describe('access key', () => {
  it('is a prefixed base64url secret of 32 random bytes, stored only as its digest', () => {
    const now = new Date('2026-01-02T03:04:05Z');
    const { key, record } = generateAccessKey(undefined, now);
    expect(key).toMatch(/^pak_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(4), 'base64url')).toHaveLength(32);
    expect(accessKeyPattern.test(`sensor setup AccessKey="${key}"`)).toBe(true);
    expect(record).toEqual({
      generation: 1,
      digest: accessKeyDigest(key).toString('hex'),
      createdAt: '2026-01-02T03:04:05.000Z',
    });
    expect(JSON.stringify(record)).not.toContain(key.slice(4, 20));

    const keys = new Set(Array.from({ length: 200 }, () => generateAccessKey().key));
    expect(keys.size).toBe(200);
  });

  it('accepts the current key and refuses wrong ones and the key it replaced', () => {
    const first = generateAccessKey();
    expect(verifyAccessKey(first.record, first.key)).toBe(true);

    const last = first.key.at(-1) === 'A' ? 'B' : 'A';
    const wrong = [
      '',
      'pak_',
      `${first.key.slice(0, -1)}${last}`,
      first.key.slice(0, -1),
      `${first.key} `,
      first.key.toUpperCase(),
      first.record.digest,
      'x'.repeat(10_000),
      'pak_ключ🔑',
    ];
    for (const candidate of wrong) expect(verifyAccessKey(first.record, candidate)).toBe(false);

    // Regeneration: the new record replaces the old one, so the old key stops registering.
    const second = generateAccessKey(first.record);
    expect(second.record.generation).toBe(2);
    expect(verifyAccessKey(second.record, second.key)).toBe(true);
    expect(verifyAccessKey(second.record, first.key)).toBe(false);
    const third = generateAccessKey(second.record);
    expect(third.record.generation).toBe(3);
    expect(verifyAccessKey(third.record, second.key)).toBe(false);
    expect(verifyAccessKey(third.record, first.key)).toBe(false);
  });

  it('refuses everything when the stored digest is damaged', () => {
    const { key, record } = generateAccessKey();
    expect(verifyAccessKey({ ...record, digest: record.digest.slice(2) }, key)).toBe(false);
    expect(verifyAccessKey({ ...record, digest: '' }, key)).toBe(false);
    expect(verifyAccessKey({ ...record, digest: '' }, '')).toBe(false);
  });

  it('compares with timingSafeEqual over equal-length digests, whatever the key length', () => {
    const { key, record } = generateAccessKey();
    const calls: [number, number][] = [];
    const original = nodeCrypto.timingSafeEqual;
    // The real function, watched: syncBuiltinESMExports carries the wrapper to every
    // `import { timingSafeEqual } from 'node:crypto'`, the module under test's included.
    nodeCrypto.timingSafeEqual = (a, b) => {
      calls.push([a.byteLength, b.byteLength]);
      return original(a, b);
    };
    syncBuiltinESMExports();
    try {
      const candidates = ['', 'p', key.slice(0, 10), key, `${key}${key}`, 'x'.repeat(100_000)];
      const results = candidates.map((candidate) => verifyAccessKey(record, candidate));
      expect(results).toEqual([false, false, false, true, false, false]);
    } finally {
      nodeCrypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
    // One constant-time comparison per candidate, never an early return on length.
    expect(calls).toEqual(Array.from({ length: 6 }, () => [32, 32]));
  });
});
