// Login throttling per account and per source address. Failures are counted in a sliding
// window; past a free allowance each further failure doubles the wait (exponential backoff, up
// to a ceiling), so guessing is slow but an owner who mistypes is never locked out for long.
// Memory is bounded: a few timestamps per key and a fixed number of keys.

import { isIPv4, isIPv6 } from 'node:net';

export interface LoginLimitPolicy {
  /**
   * Failures older than this are forgotten. A day: the sixth and later failures in it cost
   * 1 s, 2 s, 4 s … up to `maxDelayMs` each, so an online guesser gets about 110 tries a day
   * per account (NIST SP 800-63B §5.2.2 asks for no more than 100 consecutive failures), while
   * the owner is never locked out for longer than `maxDelayMs`.
   */
  readonly windowMs: number;
  /** Failures allowed per account name in the window before backoff starts. */
  readonly accountFreeFailures: number;
  /** Failures allowed per source address in the window; higher, as NAT puts many users behind one address. */
  readonly ipFreeFailures: number;
  /** First wait after the free failures; doubles with each further failure. */
  readonly baseDelayMs: number;
  /** Longest wait (OWASP Authentication cheat sheet: lock temporarily, never for good). */
  readonly maxDelayMs: number;
  /** Keys kept per kind (accounts, addresses); the least recently failed are dropped beyond it. */
  readonly maxKeys: number;
}

export const defaultLoginLimitPolicy: LoginLimitPolicy = {
  windowMs: 24 * 3_600_000,
  accountFreeFailures: 5,
  ipFreeFailures: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  maxKeys: 10_000,
};

export type LoginLimitDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** For `Retry-After` (rounded up to seconds). */
      readonly retryAfterMs: number;
      readonly limitedBy: 'account' | 'ip';
    };

export interface LoginRateLimiter {
  /** Call before verifying a password; when refused, do not verify and answer 429. */
  check(account: string, ip: string, now: number): LoginLimitDecision;
  recordFailure(account: string, ip: string, now: number): void;
  /** Clears the account's failures; the address's stay, so one good guess does not reset a spray. */
  recordSuccess(account: string): void;
  /** Keys currently held (accounts + addresses). */
  size(): number;
}

/** Account names compare as the login does: NFKC, trimmed, case-blind. Unknown names count too. */
export function accountKey(account: string): string {
  return account.normalize('NFKC').trim().toLowerCase();
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::ffff:1.2.3.4) takes two groups.
  const last = right.length > 0 ? right : left;
  const v4 = last[last.length - 1];
  if (v4?.includes('.')) {
    const parts = v4.split('.').map(Number);
    last.splice(
      last.length - 1,
      1,
      (((parts[0] ?? 0) << 8) | (parts[1] ?? 0)).toString(16),
      (((parts[2] ?? 0) << 8) | (parts[3] ?? 0)).toString(16),
    );
  }
  const fill = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

/**
 * The key of a source address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix, since
 * one host commonly holds a whole /64 and could otherwise rotate addresses at will.
 */
export function ipKey(ip: string): string {
  const address = ip.trim().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(address)) return address;
  if (isIPv6(address.replace(/%.*$/, '')))
    return `${expandIPv6(address.replace(/%.*$/, '')).slice(0, 4).join(':')}::/64`;
  return address.toLowerCase();
}

interface Entry {
  /** Failure times in the window, oldest first, at most `keep` of them. */
  failures: number[];
}

class FailureLog {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly freeFailures: number,
    readonly policy: LoginLimitPolicy,
  ) {}

  // Beyond this many failures the wait is at its ceiling, so older ones need not be kept.
  get keep(): number {
    return this.freeFailures + Math.ceil(Math.log2(this.policy.maxDelayMs / this.policy.baseDelayMs)) + 1;
  }

  #recent(key: string, now: number): number[] {
    const entry = this.#entries.get(key);
    if (entry === undefined) return [];
    const cutoff = now - this.policy.windowMs;
    while (entry.failures.length > 0 && (entry.failures[0] ?? 0) <= cutoff) entry.failures.shift();
    if (entry.failures.length === 0) this.#entries.delete(key);
    return entry.failures;
  }

  waitMs(key: string, now: number): number {
    const failures = this.#recent(key, now);
    const over = failures.length - this.freeFailures;
    if (over <= 0) return 0;
    const delay = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (over - 1));
    return Math.max(0, (failures[failures.length - 1] ?? now) + delay - now);
  }

  record(key: string, now: number): void {
    const failures = this.#recent(key, now);
    this.#entries.delete(key);
    // The map is ordered by last failure, so its first key is the stalest (often expired).
    while (this.#entries.size >= this.policy.maxKeys) {
      const stalest = this.#entries.keys().next().value;
      if (stalest === undefined) break;
      this.#entries.delete(stalest);
    }
    failures.push(now);
    if (failures.length > this.keep) failures.splice(0, failures.length - this.keep);
    // Re-inserting moves the key to the end: the map's order is least recently failed first.
    this.#entries.set(key, { failures });
  }

  clear(key: string): void {
    this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** A login limiter for one server process, holding its state in memory. */
export function createLoginRateLimiter(policy: LoginLimitPolicy = defaultLoginLimitPolicy): LoginRateLimiter {
  const accounts = new FailureLog(policy.accountFreeFailures, policy);
  const addresses = new FailureLog(policy.ipFreeFailures, policy);
  return {
    check(account, ip, now) {
      const byAccount = accounts.waitMs(accountKey(account), now);
      const byIp = addresses.waitMs(ipKey(ip), now);
      if (byAccount === 0 && byIp === 0) return { allowed: true };
      return byAccount >= byIp
        ? { allowed: false, retryAfterMs: byAccount, limitedBy: 'account' }
        : { allowed: false, retryAfterMs: byIp, limitedBy: 'ip' };
    },
    recordFailure(account, ip, now) {
      accounts.record(accountKey(account), now);
      addresses.record(ipKey(ip), now);
    },
    recordSuccess(account) {
      accounts.clear(accountKey(account));
    },
    size: () => accounts.size + addresses.size,
  };
}
