// Password hashing with real argon2id, the rehash check, constant-cost unknown users and the policy.
import { hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import {
  checkPasswordPolicy,
  hashPassword,
  needsRehash,
  owaspArgon2id,
  verifyPassword,
} from '../src/auth/passwords.ts';

describe('argon2id hashing', () => {
  it('stores a PHC argon2id string with the OWASP parameters and verifies it', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword(stored, 'correct horse battery staple')).toEqual({
      ok: true,
      needsRehash: false,
    });
    expect(await verifyPassword(stored, 'correct horse battery stapler')).toEqual({
      ok: false,
      reason: 'password/mismatch',
    });
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password here')).not.toBe(await hashPassword('same password here'));
  });

  it('normalises with NFKC, so composed and decomposed input are the same password', async () => {
    const stored = await hashPassword('Caf\u00e9 au lait, s\u2019il vous pla\u00eet');
    expect((await verifyPassword(stored, 'Cafe\u0301 au lait, s\u2019il vous pla\u00eet')).ok).toBe(true);
  });

  it('asks for a rehash when the stored cost or algorithm differs from the current one', async () => {
    const old = await hash('legacy password value', { memoryCost: 4096, timeCost: 3, parallelism: 1 });
    expect(needsRehash(old)).toBe(true);
    expect(await verifyPassword(old, 'legacy password value')).toEqual({ ok: true, needsRehash: true });
    const argon2i = await hash('legacy password value', { ...owaspArgon2id, algorithm: 1 });
    expect(needsRehash(argon2i)).toBe(true);
    expect(needsRehash(await hashPassword('current password value'))).toBe(false);
    expect(needsRehash('not a hash')).toBe(true);
  });

  it('verifies an unknown user against a dummy hash, with the same cost as a real check', async () => {
    const stored = await hashPassword('a real password 42');
    await verifyPassword(undefined, 'warm up the dummy hash');
    const time = async (fn: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < 7; i++) {
        const start = performance.now();
        await fn();
        samples.push(performance.now() - start);
      }
      return samples.sort((a, b) => a - b)[3] ?? 0;
    };
    const known = await time(() => verifyPassword(stored, 'wrong password value'));
    const unknown = await time(() => verifyPassword(undefined, 'wrong password value'));
    expect(await verifyPassword(undefined, 'anything at all')).toEqual({
      ok: false,
      reason: 'password/unknown-user',
    });
    // Both run one argon2 verification of the same cost: without the dummy hash the unknown
    // path would take microseconds against milliseconds. The bounds leave room for noise.
    expect(unknown).toBeGreaterThan(known * 0.3);
    expect(unknown).toBeLessThan(known * 3.3);
  });

  it('refuses corrupt stored values and oversized input without throwing', async () => {
    expect(await verifyPassword('$argon2id$garbage', 'whatever password')).toEqual({
      ok: false,
      reason: 'password/bad-hash',
    });
    expect(await verifyPassword(await hashPassword('short enough pw'), 'x'.repeat(5000))).toEqual({
      ok: false,
      reason: 'password/too-long',
    });
  });
});

describe('password policy', () => {
  const codes = (password: string, context = {}) => checkPasswordPolicy(password, context).map((p) => p.code);

  it('accepts long passphrases of any characters, with no composition rules', () => {
    expect(codes('correct horse battery staple')).toEqual([]);
    expect(codes('tr0ub4dor&3 is not it')).toEqual([]);
    expect(codes('日本語のパスフレーズです')).toEqual([]);
    expect(codes('alllowercaseletterswithoutdigits')).toEqual([]);
  });

  it('refuses short, long, control-character, repetitive and sequential passwords', () => {
    expect(codes('Sh0rt!pass')).toEqual(['password/too-short']);
    expect(codes('a'.repeat(300))).toEqual(['password/too-long', 'password/repetitive']);
    expect(codes('line one\nline two ok')).toEqual(['password/control-character']);
    expect(codes('abababababab')).toEqual(['password/repetitive']);
    expect(codes('abcdefghijklmn')).toEqual(['password/sequential']);
  });

  it('refuses common passwords dressed up with capitals, leetspeak, digits and symbols', () => {
    for (const password of [
      'Password2024!',
      'P@ssw0rd12345',
      'Welcome123456',
      'qwertyuiop123',
      '1q2w3e4r5t6y',
      'Summer2025!!!',
    ]) {
      expect(codes(password), password).toContain('password/common');
    }
    expect(codes('hunter2hunter2', { blocklist: new Set(['hunter2hunter2']) })).toContain('password/common');
  });

  it('refuses passwords containing the user name, display name, mail name or instance words', () => {
    const context = {
      userName: 'jsmith',
      displayName: 'Jane Smith',
      email: 'jane.smith@contoso.com',
      words: ['contoso'],
    };
    expect(codes('my name is jsmith ok', context)).toEqual(['password/contains-context']);
    expect(codes('SMITH family holidays', context)).toEqual(['password/contains-context']);
    expect(codes('contoso rocks forever', context)).toEqual(['password/contains-context']);
    expect(codes('unrelated long phrase', context)).toEqual([]);
  });
});
