// Login throttling: free failures, exponential backoff, sliding window, per-address limits,
// address keys and bounded memory.
import { describe, expect, it } from 'vitest';
import { createLoginRateLimiter, defaultLoginLimitPolicy, ipKey } from '../src/auth/rate-limit.ts';

const t0 = 1_700_000_000_000;
const second = 1000;
const minute = 60 * second;

describe('per account', () => {
  it('allows five failures, then doubles the wait with each further failure up to 15 minutes', () => {
    const limiter = createLoginRateLimiter();
    let now = t0;
    for (let i = 0; i < 5; i++) {
      expect(limiter.check('alice', '10.0.0.1', now)).toEqual({ allowed: true });
      limiter.recordFailure('alice', '10.0.0.1', now);
      now += second;
    }
    expect(limiter.check('alice', '10.0.0.1', now)).toEqual({ allowed: true });
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      limiter.recordFailure('alice', '10.0.0.1', now);
      const decision = limiter.check('alice', '10.0.0.1', now);
      if (decision.allowed) throw new Error(`expected a wait after failure ${6 + i}`);
      expect(decision.limitedBy).toBe('account');
      waits.push(decision.retryAfterMs / second);
      expect(limiter.check('alice', '10.0.0.1', now + decision.retryAfterMs - 1).allowed).toBe(false);
      now += decision.retryAfterMs;
      expect(limiter.check('alice', '10.0.0.1', now)).toEqual({ allowed: true });
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
  });

  it('forgets failures after the one-day window (sliding)', () => {
    const limiter = createLoginRateLimiter();
    const hour = 60 * minute;
    for (let i = 0; i < 6; i++) limiter.recordFailure('bob', `10.0.0.${i}`, t0 + i * hour);
    expect(limiter.check('bob', '10.9.9.9', t0 + 5 * hour)).toMatchObject({
      allowed: false,
      retryAfterMs: 1000,
    });
    // Keep failing: waits grow although the failures are hours apart.
    limiter.recordFailure('bob', '10.9.9.9', t0 + 6 * hour);
    expect(limiter.check('bob', '10.9.9.9', t0 + 6 * hour)).toMatchObject({
      allowed: false,
      retryAfterMs: 2000,
    });
    // A day after the first failure it leaves the window: the next failure keeps the wait at
    // 2 s instead of doubling it.
    limiter.recordFailure('bob', '10.9.9.9', t0 + 24 * hour + 1);
    expect(limiter.check('bob', '10.9.9.9', t0 + 24 * hour + 1)).toMatchObject({
      allowed: false,
      retryAfterMs: 2000,
    });
    expect(limiter.check('bob', '10.9.9.9', t0 + 48 * hour)).toEqual({ allowed: true });
  });

  it('treats account names case-blind and clears them on success', () => {
    const limiter = createLoginRateLimiter();
    for (let i = 0; i < 6; i++) limiter.recordFailure(i % 2 ? 'Carol' : ' CAROL ', `10.0.0.${i}`, t0);
    expect(limiter.check('carol', '192.168.1.1', t0)).toMatchObject({ allowed: false, limitedBy: 'account' });
    limiter.recordSuccess('carol');
    expect(limiter.check('carol', '192.168.1.1', t0)).toEqual({ allowed: true });
  });

  it('counts unknown account names like real ones (no enumeration by throttling)', () => {
    const limiter = createLoginRateLimiter();
    for (let i = 0; i < 6; i++) limiter.recordFailure('no-such-user', `10.0.1.${i}`, t0);
    expect(limiter.check('no-such-user', '10.0.2.1', t0)).toMatchObject({
      allowed: false,
      limitedBy: 'account',
    });
  });
});

describe('per address', () => {
  it('slows a password spray across many accounts from one address', () => {
    const limiter = createLoginRateLimiter();
    for (let i = 0; i < 21; i++) {
      expect(limiter.check(`user${i}`, '203.0.113.7', t0).allowed).toBe(true);
      limiter.recordFailure(`user${i}`, '203.0.113.7', t0);
    }
    expect(limiter.check('user99', '203.0.113.7', t0)).toEqual({
      allowed: false,
      retryAfterMs: 1000,
      limitedBy: 'ip',
    });
    expect(limiter.check('user99', '203.0.113.8', t0)).toEqual({ allowed: true });
    // A success does not reset the address.
    limiter.recordSuccess('user99');
    expect(limiter.check('user99', '203.0.113.7', t0).allowed).toBe(false);
  });

  it('keys IPv6 by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(ipKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(ipKey('[2001:db8:1:2::5]')).toBe('2001:db8:1:2::/64');
    expect(ipKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(ipKey('::1')).toBe('0:0:0:0::/64');
    expect(ipKey('192.0.2.1')).toBe('192.0.2.1');
    const limiter = createLoginRateLimiter();
    for (let i = 0; i < 21; i++) limiter.recordFailure(`u${i}`, `2001:db8:1:2::${i.toString(16)}`, t0);
    expect(limiter.check('x', '2001:db8:1:2:ffff::9', t0)).toMatchObject({ allowed: false, limitedBy: 'ip' });
    expect(limiter.check('x', '2001:db8:1:3::9', t0)).toEqual({ allowed: true });
  });
});

describe('memory', () => {
  it('holds at most maxKeys keys per kind, dropping the least recently failed', () => {
    const limiter = createLoginRateLimiter({ ...defaultLoginLimitPolicy, maxKeys: 100 });
    for (let i = 0; i < 6; i++) limiter.recordFailure('target', '198.51.100.1', t0 + i);
    for (let i = 0; i < 10_000; i++) {
      limiter.recordFailure(`spray${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, t0 + 10 + i);
      // The attacker keeps failing on the target too, which keeps it among the recent keys.
      if (i % 50 === 0) limiter.recordFailure('target', '198.51.100.1', t0 + 10 + i);
    }
    expect(limiter.size()).toBeLessThanOrEqual(200);
    expect(limiter.check('target', '198.51.100.2', t0 + 10_020).allowed).toBe(false);
  });

  it('keeps a bounded number of timestamps per key', () => {
    const limiter = createLoginRateLimiter();
    for (let i = 0; i < 100_000; i++) limiter.recordFailure('dave', '10.0.0.1', t0 + i);
    const decision = limiter.check('dave', '10.0.0.1', t0 + 100_000);
    expect(decision).toMatchObject({ allowed: false });
    expect(!decision.allowed && decision.retryAfterMs).toBeLessThanOrEqual(
      defaultLoginLimitPolicy.maxDelayMs,
    );
    expect(limiter.size()).toBe(2);
  });
});
