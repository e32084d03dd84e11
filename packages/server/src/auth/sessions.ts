// Browser sessions: a random token in a `__Host-` cookie (Secure, HttpOnly, SameSite=Strict,
// Path=/), stored server-side only as its SHA-256, with idle and absolute expiry; and CSRF
// defence for unsafe methods: a per-session synchronizer token plus an Origin check.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { digestSecret, isSecretOfKind, newSecret } from './secret-tokens.ts';

/** A session as the state store keeps it. The token itself is never stored. */
export interface SessionRecord {
  /** SHA-256 (hex) of the session token; the store's key. */
  readonly id: string;
  readonly userId: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Whether the second factor was given for this session. */
  readonly mfa: boolean;
  /** For the user's "active sessions" list and the audit log. */
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/** The persistence the session functions need; the SQLite/PostgreSQL state store provides it. */
export interface SessionStore {
  getSession(id: string): Promise<SessionRecord | undefined> | SessionRecord | undefined;
  putSession(record: SessionRecord): Promise<void> | void;
  deleteSession(id: string): Promise<void> | void;
  /** Logs a user out everywhere (password change, account disabled). */
  deleteSessionsOfUser(userId: string): Promise<void> | void;
}

export interface SessionPolicy {
  /** Ends a session nobody used for this long. OWASP Session Management: 15–30 min for most apps. */
  readonly idleTimeoutMs: number;
  /** Ends every session this long after login, used or not (one working shift). */
  readonly absoluteTimeoutMs: number;
  /** `lastSeenAt` is written at most this often, so reads do not each cost a write. */
  readonly touchIntervalMs: number;
}

export const defaultSessionPolicy: SessionPolicy = {
  idleTimeoutMs: 30 * 60_000,
  absoluteTimeoutMs: 12 * 3_600_000,
  touchIntervalMs: 60_000,
};

/** `__Host-` makes browsers refuse the cookie unless Secure, Path=/ and without Domain (RFC 6265bis §4.1.3.2). */
export const sessionCookieName = '__Host-palisade-session';

/** The request header carrying the CSRF token on unsafe methods. */
export const csrfHeaderName = 'x-csrf-token';

export interface NewSession {
  /** Goes to the browser in the cookie, once; never stored or logged. */
  readonly token: string;
  readonly record: SessionRecord;
}

export interface SessionStart {
  readonly userId: string;
  readonly now: number;
  readonly mfa: boolean;
  readonly sourceIp?: string;
  readonly userAgent?: string;
}

/**
 * Starts a session with a fresh token. Call it at every login and after every privilege change
 * (e.g. passing the second factor), deleting the old session, so a token planted before login
 * is worthless (session fixation).
 */
export function createSession(start: SessionStart): NewSession {
  const token = newSecret('session');
  const record: SessionRecord = {
    id: digestSecret(token),
    userId: start.userId,
    createdAt: start.now,
    lastSeenAt: start.now,
    mfa: start.mfa,
    ...(start.sourceIp === undefined ? {} : { sourceIp: start.sourceIp }),
    ...(start.userAgent === undefined ? {} : { userAgent: start.userAgent }),
  };
  return { token, record };
}

/** The store key of a presented token, or `undefined` when it does not look like one. */
export function sessionIdOf(token: string): string | undefined {
  return isSecretOfKind(token, 'session') ? digestSecret(token) : undefined;
}

export type SessionCheck =
  | {
      readonly kind: 'valid';
      readonly record: SessionRecord;
      /** True when `record.lastSeenAt` moved and should be written back. */
      readonly touched: boolean;
    }
  | {
      readonly kind: 'invalid';
      readonly reason: 'session/unknown' | 'session/idle-expired' | 'session/expired';
    };

/** Applies the idle and absolute limits to a stored session at time `now`. */
export function checkSession(
  record: SessionRecord | undefined,
  now: number,
  policy: SessionPolicy = defaultSessionPolicy,
): SessionCheck {
  if (record === undefined) return { kind: 'invalid', reason: 'session/unknown' };
  if (now - record.createdAt >= policy.absoluteTimeoutMs)
    return { kind: 'invalid', reason: 'session/expired' };
  if (now - record.lastSeenAt >= policy.idleTimeoutMs)
    return { kind: 'invalid', reason: 'session/idle-expired' };
  if (now - record.lastSeenAt < policy.touchIntervalMs) return { kind: 'valid', record, touched: false };
  return { kind: 'valid', record: { ...record, lastSeenAt: now }, touched: true };
}

/**
 * Looks up the session of a presented token, enforces expiry (deleting an expired session) and
 * records activity. The token's shape is checked before any store access.
 */
export async function resolveSession(
  store: SessionStore,
  token: string | undefined,
  now: number,
  policy: SessionPolicy = defaultSessionPolicy,
): Promise<SessionCheck> {
  const id = token === undefined ? undefined : sessionIdOf(token);
  if (id === undefined) return { kind: 'invalid', reason: 'session/unknown' };
  const result = checkSession(await store.getSession(id), now, policy);
  if (result.kind === 'invalid' && result.reason !== 'session/unknown') await store.deleteSession(id);
  if (result.kind === 'valid' && result.touched) await store.putSession(result.record);
  return result;
}

/** The `Set-Cookie` value that gives the browser its session token. */
export function serializeSessionCookie(token: string, policy: SessionPolicy = defaultSessionPolicy): string {
  const maxAge = Math.floor(policy.absoluteTimeoutMs / 1000);
  return `${sessionCookieName}=${token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`;
}

/** The `Set-Cookie` value that removes the session cookie (logout). */
export function clearSessionCookie(): string {
  return `${sessionCookieName}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** One cookie's value from a `Cookie` header (RFC 6265 §5.4 syntax), or `undefined`. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1) : value;
  }
  return undefined;
}

const csrfLabel = 'palisade csrf v1';

/**
 * The session's synchronizer token, sent to the portal (in the login answer and by the session
 * endpoint) and returned by it in `X-CSRF-Token`. It is derived from the session token with
 * HMAC-SHA-256 rather than stored: bound to exactly one session, replaced with it, and nothing
 * extra in the store. Pages of another origin can neither read it nor compute it.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update(csrfLabel).digest('base64url');
}

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True for methods that must not change state (RFC 9110 §9.2.1) and so need no CSRF check. */
export function isSafeMethod(method: string): boolean {
  return safeMethods.has(method.toUpperCase());
}

export type CsrfCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'csrf/missing' | 'csrf/mismatch' };

/**
 * Checks the CSRF header of a cookie-authenticated request: safe methods pass; other methods
 * need `X-CSRF-Token` equal (constant-time) to the session's token. Bearer-token (API client)
 * requests carry no ambient credentials and skip this check.
 */
export function checkCsrf(request: {
  readonly method: string;
  readonly sessionToken: string;
  readonly csrfHeader: string | undefined;
}): CsrfCheck {
  if (isSafeMethod(request.method)) return { ok: true };
  if (request.csrfHeader === undefined || request.csrfHeader === '')
    return { ok: false, reason: 'csrf/missing' };
  const expected = Buffer.from(csrfTokenFor(request.sessionToken));
  const given = Buffer.from(request.csrfHeader);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'csrf/mismatch' };
  }
  return { ok: true };
}

export type OriginCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'origin/missing' | 'origin/mismatch'; readonly found?: string };

/**
 * Second CSRF layer (OWASP CSRF Prevention, "verifying origin with standard headers"): for an
 * unsafe method the `Origin` header — or, when a browser omits it, the origin of `Referer` —
 * must be one of the instance's own origins (e.g. `https://palisade.contoso.local`).
 */
export function checkOrigin(request: {
  readonly method: string;
  readonly origin: string | undefined;
  readonly referer: string | undefined;
  readonly allowedOrigins: readonly string[];
}): OriginCheck {
  if (isSafeMethod(request.method)) return { ok: true };
  let found = request.origin;
  if ((found === undefined || found === 'null') && request.referer !== undefined) {
    found = URL.canParse(request.referer) ? new URL(request.referer).origin : undefined;
  }
  if (found === undefined || found === 'null') return { ok: false, reason: 'origin/missing' };
  const normalised = found.toLowerCase();
  const allowed = request.allowedOrigins.some((origin) => origin.toLowerCase() === normalised);
  return allowed ? { ok: true } : { ok: false, reason: 'origin/mismatch', found };
}
