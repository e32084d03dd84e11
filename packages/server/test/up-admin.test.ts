// Administration over HTTP against a real server on 127.0.0.1: an administrator builds a Tier 1
// team (user group, custom role, device group, RBAC mode, user) and its member sees only its
// group's alerts; the password policy answers 400 naming the member; a reset password works once
// and must be replaced by the user before anything else, as must the first administrator's
// generated one and a generated one at creation; TOTP enrolment then sign-in with a code (a replayed one refused);
// every change is in the audit log; a user without permissions gets 403 on every admin route;
// and no password or TOTP secret appears in the log or the audit trail.
import 'reflect-metadata';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tierRoleTemplates } from '../src/auth/permissions.ts';
import { decodeBase32, totpAt } from '../src/auth/totp.ts';
import { createLogger } from '../src/log.ts';
import { adminRoutes } from '../src/routes/admin-routes.ts';
import type { RouteContext } from '../src/routes/context.ts';
import { type RunningInstance, startInstance } from '../src/up.ts';
import { type CallOptions, call as callTarget, type Reply } from './loopback-client.ts';

const adminPassword = 'Quartz-Lantern-Orbit-2291';
const analystPassword = 'Basalt-Meadow-Cipher-7730';
const analystNewPassword = 'Cobalt-Harbour-Violet-4418';
const outsiderPassword = 'Granite-Willow-Signal-5562';

let dir = '';
let instance: RunningInstance;
const logs: string[] = [];
/** Every secret the test sees; none may appear in the log or the audit trail. */
const secrets = new Set([adminPassword, analystPassword, analystNewPassword, outsiderPassword]);

const call = (path: string, options?: CallOptions) =>
  callTarget({ port: instance.port, caPem: instance.instance.ca.certificatePem }, path, options);

interface Session {
  readonly cookie: string;
  readonly csrf: string;
}

async function signIn(userName: string, password: string, totpCode?: string): Promise<Reply> {
  return call('/api/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userName, password, ...(totpCode === undefined ? {} : { totpCode }) }),
  });
}

async function login(userName: string, password: string, totpCode?: string): Promise<Session> {
  const reply = await signIn(userName, password, totpCode);
  expect(reply.status, `${userName}: ${reply.text}`).toBe(200);
  return {
    cookie: String(reply.headers['set-cookie'] ?? '').split(';')[0] ?? '',
    csrf: reply.json.csrfToken,
  };
}

/** A portal call as `session`: JSON body, cookie, and the CSRF token and origin for unsafe methods. */
function as(session: Session, method: string, path: string, body?: unknown): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return call(path, {
    method,
    headers: {
      cookie: session.cookie,
      ...(method === 'GET' ? {} : { 'x-csrf-token': session.csrf, origin: instance.url }),
      // Node sends a DELETE body without a length unless told; the server needs one to read it.
      ...(text === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
    },
    ...(text === undefined ? {} : { body: text }),
  });
}

const pointers = (reply: Reply) => (reply.json.errors as { pointer: string }[]).map((e) => e.pointer);
const codes = (reply: Reply) => (reply.json.errors as { code: string }[]).map((e) => e.code);

describe('administration over HTTP on loopback', () => {
  let admin: Session;
  let analystId = '';
  let groupId = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'palisade-admin-'));
    instance = await startInstance({
      dataDir: join(dir, 'data'),
      domain: 'corp.lab.test',
      adminPassword,
      duckDbMemoryLimit: '256MB',
      listen: { host: '127.0.0.1', port: 0 },
      identityConfig: { testMode: true },
      log: createLogger({ write: (line) => logs.push(line) }),
    });
    admin = await login('admin', adminPassword);
    // Two alerts, one per region: what the scoped user may and may not see.
    const now = new Date().toISOString();
    for (const [id, device] of [
      ['al-emea', 'EMEA-WS1.corp.lab.test'],
      ['al-apac', 'APAC-WS1.corp.lab.test'],
    ] as const) {
      await instance.instance.state.alerts.create({
        id,
        title: `marker on ${device}`,
        severity: 'High',
        category: 'Execution',
        detectionSource: 'CustomDetection',
        serviceSource: 'Palisade',
        detectorId: 'test',
        firstActivity: now,
        lastActivity: now,
        devices: [device],
      });
    }
  }, 60_000);

  afterAll(async () => {
    await instance?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('builds a Tier 1 team scoped to one device group, whose member sees only that group', async () => {
    const group = await as(admin, 'POST', '/api/user-groups', { name: 'Tier 1 EMEA' });
    expect(group.status, group.text).toBe(201);
    groupId = group.json.id;
    const role = await as(admin, 'POST', '/api/roles', {
      name: 'Tier 1',
      permissions: tierRoleTemplates.tier1,
      userGroups: [groupId],
    });
    expect(role.status, role.text).toBe(201);
    expect(role.json).toMatchObject({ builtIn: false, userGroups: [groupId] });
    const emea = await as(admin, 'POST', '/api/device-groups', {
      name: 'EMEA',
      rule: { names: ['EMEA-*'] },
      userGroups: [groupId],
    });
    expect(emea.status, emea.text).toBe(201);
    expect(emea.json).toMatchObject({ rank: 1, remediationLevel: 'no-automated-response' });
    // APAC starts shared with the team too; it is narrowed to another team below.
    const apac = await as(admin, 'POST', '/api/device-groups', {
      name: 'APAC',
      rule: { names: ['APAC-*'] },
      userGroups: [groupId],
    });
    expect(apac.status, apac.text).toBe(201);
    const mode = await as(admin, 'PUT', '/api/settings/access-mode', { mode: 'rbac' });
    expect(mode.status, mode.text).toBe(200);
    // As in Defender for Endpoint, RBAC cannot be turned off again.
    const back = await as(admin, 'PUT', '/api/settings/access-mode', { mode: 'basic' });
    expect(back.status, back.text).toBe(409);

    const created = await as(admin, 'POST', '/api/users', {
      name: 'analyst1',
      displayName: 'First Analyst',
      password: analystPassword,
      userGroups: [groupId],
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({ name: 'analyst1', directoryRole: null, userGroups: [groupId] });
    expect(created.json.oneTimePassword).toBeUndefined();
    analystId = created.json.id;

    // Narrow APAC to a group the analyst is not in: the analyst then sees EMEA only.
    const other = await as(admin, 'POST', '/api/user-groups', { name: 'Tier 1 APAC' });
    await as(admin, 'PATCH', `/api/roles/${role.json.id}`, { userGroups: [groupId, other.json.id] });
    const narrowed = await as(admin, 'PATCH', `/api/device-groups/${apac.json.id}`, {
      userGroups: [other.json.id],
    });
    expect(narrowed.status, narrowed.text).toBe(200);
    const reranked = await as(admin, 'POST', '/api/device-groups/rerank', {
      ids: [apac.json.id, emea.json.id],
    });
    expect(reranked.json.value.map((g: { name: string }) => g.name)).toEqual(['APAC', 'EMEA']);

    const analyst = await login('analyst1', analystPassword);
    const seen = await as(analyst, 'GET', '/api/alerts');
    expect(seen.status, seen.text).toBe(200);
    expect(seen.json.value.map((a: { id: string }) => a.id)).toEqual(['al-emea']);
    const all = await as(admin, 'GET', '/api/alerts');
    expect(all.json.value.map((a: { id: string }) => a.id).sort()).toEqual(['al-apac', 'al-emea']);
  });

  it('answers 400 naming the member for policy failures and malformed bodies', async () => {
    const weak = await as(admin, 'POST', '/api/users', { name: 'weakling', password: 'Password1!' });
    expect(weak.status).toBe(400);
    expect(weak.headers['content-type']).toContain('application/problem+json');
    expect(new Set(pointers(weak))).toEqual(new Set(['#/password']));
    expect(codes(weak)).toEqual(expect.arrayContaining(['password/too-short', 'password/common']));
    const named = await as(admin, 'POST', '/api/users', {
      name: 'analyst9',
      password: 'analyst9-Harbour-77',
    });
    expect(codes(named)).toContain('password/contains-context');

    const wrong = await as(admin, 'POST', '/api/users', { name: 5, userGroups: ['no-such-group'], extra: 1 });
    expect(wrong.status).toBe(400);
    expect(pointers(wrong).sort()).toEqual(['#/extra', '#/name', '#/userGroups/0']);
    const role = await as(admin, 'POST', '/api/roles', { name: 'Bad', permissions: ['everything'] });
    expect(pointers(role)).toEqual(['#/permissions/0']);
    const dg = await as(admin, 'POST', '/api/device-groups', { name: 'Empty', rule: {} });
    expect(dg.status).toBe(400);
    expect(codes(dg)).toEqual(['device-group/empty-rule']);
    const taken = await as(admin, 'POST', '/api/device-groups', { name: 'emea', rule: { names: ['X-*'] } });
    expect(pointers(taken)).toEqual(['#/name']);
    const mode = await as(admin, 'PUT', '/api/settings/access-mode', { mode: 'strict' });
    expect(pointers(mode)).toEqual(['#/mode']);

    const roles = await as(admin, 'GET', '/api/roles');
    const builtIn = (roles.json.value as { id: string; name: string; builtIn: boolean }[]).find(
      (r) => r.builtIn && r.name === 'Global Administrator',
    );
    const changed = await as(admin, 'PATCH', `/api/roles/${builtIn?.id}`, { permissions: [] });
    expect(changed.status).toBe(409);
    expect(changed.json.detail).toContain('built-in');
  });

  it('resets a password to a one-time password the user then replaces', async () => {
    const before = await login('analyst1', analystPassword);
    const reset = await as(admin, 'POST', `/api/users/${analystId}/reset-password`);
    expect(reset.status, reset.text).toBe(200);
    const oneTime: string = reset.json.oneTimePassword;
    secrets.add(oneTime);
    expect(oneTime.length).toBeGreaterThanOrEqual(24);

    // The old password and the sessions it opened are gone.
    expect((await signIn('analyst1', analystPassword)).status).toBe(401);
    expect((await as(before, 'GET', '/api/alerts')).status).toBe(401);

    const signedIn = await signIn('analyst1', oneTime);
    expect(signedIn.json.mustChangePassword).toBe(true);
    const session = await login('analyst1', oneTime);
    // A one-time password opens a session that can only change it, look at itself or sign out.
    const blocked = await as(session, 'GET', '/api/alerts');
    expect(blocked.status).toBe(403);
    expect(blocked.headers['content-type']).toContain('application/problem+json');
    expect(blocked.json.detail).toBe(
      'your password is a one-time password: change it with POST /api/auth/password before anything else',
    );
    expect((await as(session, 'POST', '/api/auth/totp/begin')).status).toBe(403);
    const self = await as(session, 'GET', '/api/auth/session');
    expect(self.status, self.text).toBe(200);
    expect(self.json).toMatchObject({ name: 'analyst1', mustChangePassword: true });
    const listed = await as(admin, 'GET', '/api/users');
    expect(listed.json.value.find((u: { id: string }) => u.id === analystId)).toMatchObject({
      mustChangePassword: true,
    });
    const weak = await as(session, 'POST', '/api/auth/password', {
      currentPassword: oneTime,
      newPassword: 'short',
    });
    expect(weak.status).toBe(400);
    expect(pointers(weak)).toEqual(['#/newPassword']);
    expect(codes(weak)).toEqual(['password/too-short']);
    const wrongCurrent = await as(session, 'POST', '/api/auth/password', {
      currentPassword: 'not-the-password',
      newPassword: analystNewPassword,
    });
    expect(pointers(wrongCurrent)).toEqual(['#/currentPassword']);
    const changed = await as(session, 'POST', '/api/auth/password', {
      currentPassword: oneTime,
      newPassword: analystNewPassword,
    });
    expect(changed.status, changed.text).toBe(204);
    // The same session may do everything now; the one-time password is gone.
    expect((await as(session, 'GET', '/api/alerts')).status).toBe(200);
    expect((await as(session, 'GET', '/api/auth/session')).json.mustChangePassword).toBe(false);
    expect((await signIn('analyst1', oneTime)).status).toBe(401);
    const again = await signIn('analyst1', analystNewPassword);
    expect(again.status, again.text).toBe(200);
    expect(again.json.mustChangePassword).toBe(false);
  });

  it('enrols TOTP, then sign-in needs a valid code and refuses a replayed one', async () => {
    const session = await login('analyst1', analystNewPassword);
    const begin = await as(session, 'POST', '/api/auth/totp/begin');
    expect(begin.status, begin.text).toBe(200);
    const secret: string = begin.json.secret;
    secrets.add(secret);
    expect(begin.json.otpauthUri).toBe(
      `otpauth://totp/Palisade%20(corp.lab.test):analyst1?secret=${secret}&issuer=Palisade%20(corp.lab.test)&algorithm=SHA1&digits=6&period=30`,
    );
    const key = decodeBase32(secret) ?? new Uint8Array();
    const now = Math.floor(Date.now() / 1000);
    const wrong = String((Number(totpAt(key, now)) + 1) % 1_000_000).padStart(6, '0');
    const refused = await as(session, 'POST', '/api/auth/totp/confirm', { code: wrong });
    expect(refused.status).toBe(400);
    expect(codes(refused)).toEqual(['totp/mismatch']);
    const confirmCode = totpAt(key, now);
    const confirmed = await as(session, 'POST', '/api/auth/totp/confirm', { code: confirmCode });
    expect(confirmed.status, confirmed.text).toBe(204);

    // The secret is never shown again, and enrolling twice is refused.
    const users = await as(admin, 'GET', '/api/users');
    expect(users.text).not.toContain(secret);
    expect(users.json.value.find((u: { id: string }) => u.id === analystId)).toMatchObject({
      totpEnrolled: true,
    });
    expect((await as(session, 'POST', '/api/auth/totp/begin')).status).toBe(409);

    const withoutCode = await signIn('analyst1', analystNewPassword);
    expect(withoutCode.status).toBe(401);
    expect(codes(withoutCode)).toEqual(['auth/totp-required']);
    // The confirming code is spent; the next step's code works once.
    expect((await signIn('analyst1', analystNewPassword, confirmCode)).status).toBe(401);
    const next = totpAt(key, now + 30);
    await login('analyst1', analystNewPassword, next);
    expect((await signIn('analyst1', analystNewPassword, next)).status).toBe(401);

    const keep = await as(session, 'DELETE', '/api/auth/totp', { password: 'not-the-password' });
    expect(keep.status, keep.text).toBe(400);
    expect(pointers(keep)).toEqual(['#/password']);
    const removed = await as(session, 'DELETE', '/api/auth/totp', { password: analystNewPassword });
    expect(removed.status, removed.text).toBe(204);
  });

  it('disables a user, ending its sessions', async () => {
    const session = await login('analyst1', analystNewPassword);
    const off = await as(admin, 'PATCH', `/api/users/${analystId}`, { disabled: true });
    expect(off.status, off.text).toBe(200);
    expect(off.json.disabled).toBe(true);
    expect((await as(session, 'GET', '/api/alerts')).status).toBe(401);
    const self = await as(admin, 'GET', '/api/auth/session');
    expect(self.status).toBe(200);
    const users = await as(admin, 'GET', '/api/users');
    const adminId = users.json.value.find((u: { name: string }) => u.name === 'admin').id;
    expect((await as(admin, 'PATCH', `/api/users/${adminId}`, { disabled: true })).status).toBe(409);
  });

  it('lists an audit entry, with before and after, for every change, a page at a time', async () => {
    const reply = await as(admin, 'GET', '/api/audit?$top=1000');
    expect(reply.status, reply.text).toBe(200);
    const entries = reply.json.value as { actor: string; action: string; target: string; details: never }[];
    const actions = entries.map((e) => `${e.actor} ${e.action}`);
    for (const expected of [
      'admin userGroup.create',
      'admin role.create',
      'admin role.update',
      'admin deviceGroup.create',
      'admin deviceGroup.update',
      'admin deviceGroup.rerank',
      'admin settings.accessMode',
      'admin user.create',
      'admin user.password.reset',
      'analyst1 user.password.change',
      'analyst1 user.totp.enrol',
      'analyst1 user.totp.remove',
      'admin user.update',
    ]) {
      expect(actions).toContain(expected);
    }
    const disable = entries.find((e) => e.action === 'user.update');
    expect(disable?.details).toMatchObject({ before: { disabled: false }, after: { disabled: true } });
    const mode = entries.find((e) => e.action === 'settings.accessMode');
    expect(mode?.details).toEqual({ before: 'basic', after: 'rbac' });

    const first = await as(admin, 'GET', '/api/audit?$top=2');
    expect(first.json.value).toHaveLength(2);
    expect(first.json['@odata.count']).toBe(reply.json['@odata.count']);
    const nextLink = new URL(first.json['@odata.nextLink']);
    expect(nextLink.searchParams.get('$skip')).toBe('2');
    // `call` encodes the path itself, so the link is decoded first.
    const second = await as(admin, 'GET', `/api/audit${decodeURIComponent(nextLink.search)}`);
    expect(second.json.value[0]).toEqual(entries[2]);
    const filtered = await as(admin, 'GET', '/api/audit?action=user.create');
    expect(filtered.json.value.map((e: { action: string }) => e.action)).toEqual(['user.create']);
    const bad = await as(admin, 'GET', '/api/audit?$top=-1');
    expect(bad.status).toBe(400);
  });

  it('answers 403 to a signed-in user without permissions on every admin route', async () => {
    const created = await as(admin, 'POST', '/api/users', { name: 'outsider', password: outsiderPassword });
    expect(created.status, created.text).toBe(201);
    const outsider = await login('outsider', outsiderPassword);
    const routes = adminRoutes({ instance: instance.instance } as RouteContext).filter(
      (r) => r.permission !== 'authenticated',
    );
    expect(routes.length).toBeGreaterThan(15);
    for (const route of routes) {
      const path = route.path.replace(':id', groupId);
      const reply = await as(outsider, route.method, path, route.body === 'json' ? {} : undefined);
      expect(reply.status, `${route.method} ${route.path}`).toBe(403);
    }
  });

  it('makes a user created with a generated password change it first; a chosen one is kept', async () => {
    const chosen = await signIn('admin', adminPassword);
    expect(chosen.json.mustChangePassword).toBe(false);
    const created = await as(admin, 'POST', '/api/users', { name: 'newcomer' });
    expect(created.status, created.text).toBe(201);
    expect(created.json.mustChangePassword).toBe(true);
    const oneTime: string = created.json.oneTimePassword;
    secrets.add(oneTime);
    const session = await login('newcomer', oneTime);
    expect((await as(session, 'GET', '/api/incidents')).status).toBe(403);
    const changed = await as(session, 'POST', '/api/auth/password', {
      currentPassword: oneTime,
      newPassword: 'Amber-Falcon-Ridge-6604',
    });
    expect(changed.status, changed.text).toBe(204);
    expect((await as(session, 'GET', '/api/auth/session')).json.mustChangePassword).toBe(false);
  });

  it('never writes a password, one-time password or TOTP secret to the log or the audit trail', async () => {
    const audit = JSON.stringify(await instance.instance.state.audit.list({ top: 10_000 }));
    const log = logs.join('\n');
    for (const secret of secrets) {
      expect(audit).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
  });
});

describe('the first administrator of `palisade up` with a generated password', () => {
  let first: RunningInstance;
  let firstDir = '';
  const firstCall = (path: string, options?: CallOptions) =>
    callTarget({ port: first.port, caPem: first.instance.ca.certificatePem }, path, options);
  const post = (path: string, body: unknown, session?: { cookie: string; csrf: string }) =>
    firstCall(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(session === undefined
          ? {}
          : { cookie: session.cookie, 'x-csrf-token': session.csrf, origin: first.url }),
      },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    firstDir = await mkdtemp(join(tmpdir(), 'palisade-first-admin-'));
    first = await startInstance({
      dataDir: join(firstDir, 'data'),
      domain: 'corp.lab.test',
      duckDbMemoryLimit: '256MB',
      listen: { host: '127.0.0.1', port: 0 },
      identityConfig: { testMode: true },
      log: createLogger({ write: () => undefined }),
    });
  }, 60_000);

  afterAll(async () => {
    await first?.close();
    if (firstDir) await rm(firstDir, { recursive: true, force: true });
  });

  it('must change the one-time password before anything else, and the old one stops working', async () => {
    const oneTime = first.created?.adminPassword ?? '';
    expect(oneTime.length).toBeGreaterThanOrEqual(24);
    const reply = await post('/api/auth/login', { userName: 'admin', password: oneTime });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json.mustChangePassword).toBe(true);
    const session = {
      cookie: String(reply.headers['set-cookie'] ?? '').split(';')[0] ?? '',
      csrf: reply.json.csrfToken as string,
    };
    const get = (path: string) => firstCall(path, { headers: { cookie: session.cookie } });
    for (const path of ['/api/users', '/api/incidents', '/api/audit']) {
      const blocked = await get(path);
      expect(blocked.status, path).toBe(403);
      expect(blocked.json.detail).toContain('change it with POST /api/auth/password');
    }
    expect((await post('/api/users', { name: 'early' }, session)).status).toBe(403);
    expect((await get('/api/auth/session')).json.mustChangePassword).toBe(true);

    const newPassword = 'Juniper-Comet-Anvil-3187';
    const changed = await post('/api/auth/password', { currentPassword: oneTime, newPassword }, session);
    expect(changed.status, changed.text).toBe(204);
    expect((await get('/api/users')).status).toBe(200);
    expect((await post('/api/auth/login', { userName: 'admin', password: oneTime })).status).toBe(401);
    const again = await post('/api/auth/login', { userName: 'admin', password: newPassword });
    expect(again.status, again.text).toBe(200);
    expect(again.json.mustChangePassword).toBe(false);

    const logout = await post('/api/auth/logout', {}, session);
    expect(logout.status).toBe(204);
  });
});
