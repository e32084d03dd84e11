// Sessions: hashed storage, idle and absolute expiry, the cookie, CSRF tokens and the Origin check.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkCsrf,
  checkOrigin,
  checkSession,
  clearSessionCookie,
  createSession,
  csrfTokenFor,
  defaultSessionPolicy,
  readCookie,
  resolveSession,
  type SessionRecord,
  type SessionStore,
  serializeSessionCookie,
  sessionCookieName,
  sessionIdOf,
} from '../src/auth/sessions.ts';

function memoryStore(): SessionStore & { readonly rows: Map<string, SessionRecord> } {
  const rows = new Map<string, SessionRecord>();
  return {
    rows,
    getSession: (id) => rows.get(id),
    putSession: (record) => void rows.set(record.id, record),
    deleteSession: (id) => void rows.delete(id),
    deleteSessionsOfUser: (userId) => {
      for (const [id, row] of rows) if (row.userId === userId) rows.delete(id);
    },
  };
}

const t0 = Date.UTC(2025, 0, 6, 8, 0, 0);
const minute = 60_000;

describe('session tokens', () => {
  it('hands out 32 random bytes and stores only their SHA-256', () => {
    const { token, record } = createSession({ userId: 'u1', now: t0, mfa: true, sourceIp: '10.0.0.5' });
    expect(token).toMatch(/^pls_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(record.id).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(record)).not.toContain(token.slice(4));
    expect(record).toEqual({
      id: record.id,
      userId: 'u1',
      createdAt: t0,
      lastSeenAt: t0,
      mfa: true,
      sourceIp: '10.0.0.5',
    });
    expect(createSession({ userId: 'u1', now: t0, mfa: false }).token).not.toBe(token);
  });

  it('refuses tokens of the wrong shape before any lookup', () => {
    expect(sessionIdOf('pls_short')).toBeUndefined();
    expect(sessionIdOf(`plt_${'a'.repeat(43)}`)).toBeUndefined();
    expect(sessionIdOf(`pls_${'a'.repeat(43)}`)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('expiry', () => {
  const { record } = createSession({ userId: 'u1', now: t0, mfa: false });

  it('stays valid while used, writing lastSeenAt at most once a minute', () => {
    expect(checkSession(record, t0 + 30_000)).toEqual({ kind: 'valid', record, touched: false });
    expect(checkSession(record, t0 + 5 * minute)).toEqual({
      kind: 'valid',
      record: { ...record, lastSeenAt: t0 + 5 * minute },
      touched: true,
    });
  });

  it('ends after 30 idle minutes and 12 hours in all', () => {
    expect(checkSession(record, t0 + 30 * minute)).toEqual({
      kind: 'invalid',
      reason: 'session/idle-expired',
    });
    const busy = { ...record, lastSeenAt: t0 + 12 * 60 * minute - minute };
    expect(checkSession(busy, t0 + 12 * 60 * minute)).toEqual({ kind: 'invalid', reason: 'session/expired' });
    expect(checkSession(undefined, t0)).toEqual({ kind: 'invalid', reason: 'session/unknown' });
  });

  it('resolves through a store: touches active sessions, deletes expired ones', async () => {
    const store = memoryStore();
    const { token, record: row } = createSession({ userId: 'u1', now: t0, mfa: false });
    store.putSession(row);
    const later = t0 + 10 * minute;
    expect(await resolveSession(store, token, later)).toMatchObject({ kind: 'valid', touched: true });
    expect(store.rows.get(row.id)?.lastSeenAt).toBe(later);
    expect(await resolveSession(store, token, later + 31 * minute)).toEqual({
      kind: 'invalid',
      reason: 'session/idle-expired',
    });
    expect(store.rows.size).toBe(0);
    expect(await resolveSession(store, undefined, later)).toEqual({
      kind: 'invalid',
      reason: 'session/unknown',
    });
    expect(await resolveSession(store, 'garbage', later)).toEqual({
      kind: 'invalid',
      reason: 'session/unknown',
    });
  });
});

describe('cookie', () => {
  it('is a __Host- cookie: Secure, HttpOnly, SameSite=Strict, Path=/, no Domain', () => {
    const token = `pls_${'A'.repeat(43)}`;
    const cookie = serializeSessionCookie(token);
    expect(cookie).toBe(
      `__Host-palisade-session=${token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${defaultSessionPolicy.absoluteTimeoutMs / 1000}`,
    );
    expect(cookie).not.toMatch(/Domain=/i);
    expect(clearSessionCookie()).toBe(
      '__Host-palisade-session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0',
    );
  });

  it('is read from a Cookie header among others', () => {
    const header = `theme=dark; ${sessionCookieName}=pls_abc; other="quoted"`;
    expect(readCookie(header, sessionCookieName)).toBe('pls_abc');
    expect(readCookie(header, 'other')).toBe('quoted');
    expect(readCookie(header, 'missing')).toBeUndefined();
    expect(readCookie(undefined, sessionCookieName)).toBeUndefined();
  });
});

describe('CSRF', () => {
  const sessionToken = createSession({ userId: 'u1', now: t0, mfa: false }).token;
  const otherToken = createSession({ userId: 'u1', now: t0, mfa: false }).token;
  const csrf = csrfTokenFor(sessionToken);

  it('binds the token to the session', () => {
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfTokenFor(sessionToken)).toBe(csrf);
    expect(csrfTokenFor(otherToken)).not.toBe(csrf);
  });

  it('lets safe methods through and checks every unsafe one', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) {
      expect(checkCsrf({ method, sessionToken, csrfHeader: undefined })).toEqual({ ok: true });
    }
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(checkCsrf({ method, sessionToken, csrfHeader: csrf })).toEqual({ ok: true });
      expect(checkCsrf({ method, sessionToken, csrfHeader: undefined })).toEqual({
        ok: false,
        reason: 'csrf/missing',
      });
      expect(checkCsrf({ method, sessionToken, csrfHeader: csrfTokenFor(otherToken) })).toEqual({
        ok: false,
        reason: 'csrf/mismatch',
      });
      expect(checkCsrf({ method, sessionToken, csrfHeader: 'short' })).toEqual({
        ok: false,
        reason: 'csrf/mismatch',
      });
    }
  });

  it('checks Origin, falling back on Referer, for unsafe methods', () => {
    const allowedOrigins = ['https://palisade.contoso.local'];
    const check = (origin: string | undefined, referer?: string, method = 'POST') =>
      checkOrigin({ method, origin, referer, allowedOrigins });
    expect(check('https://palisade.contoso.local')).toEqual({ ok: true });
    expect(check('https://PALISADE.contoso.local')).toEqual({ ok: true });
    expect(check('https://evil.example')).toEqual({
      ok: false,
      reason: 'origin/mismatch',
      found: 'https://evil.example',
    });
    expect(check('https://palisade.contoso.local:8443')).toMatchObject({
      ok: false,
      reason: 'origin/mismatch',
    });
    expect(check(undefined, 'https://palisade.contoso.local/incidents/7')).toEqual({ ok: true });
    expect(check('null', 'https://evil.example/x')).toMatchObject({ ok: false, reason: 'origin/mismatch' });
    expect(check(undefined)).toEqual({ ok: false, reason: 'origin/missing' });
    expect(check(undefined, 'not a url')).toEqual({ ok: false, reason: 'origin/missing' });
    expect(check('https://evil.example', undefined, 'GET')).toEqual({ ok: true });
  });
});
