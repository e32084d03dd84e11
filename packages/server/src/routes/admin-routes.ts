// Administration over HTTP: local users (argon2id passwords under the policy, one-time passwords,
// directory role, user groups), the caller's own password and TOTP enrolment, user groups, MDE
// custom roles, ranked device groups, the access mode and MDI role groups, and the audit log.
// Every change is one state-store transaction with its audit entry (who, what, before/after).
import { randomBytes } from 'node:crypto';
import type { JsonObject, StateStore, RemediationLevel as StoredRemediationLevel } from '@palisade/store';
import type { JsonSchema } from '../api/openapi.ts';
import { createProblem } from '../api/problem.ts';
import { validateAccessModel } from '../auth/authorize.ts';
import {
  type DeviceGroup,
  type DeviceGroupRule,
  type RemediationLevel,
  remediationLevels,
  ungroupedDevicesId,
  ungroupedDevicesName,
  validateDeviceGroups,
} from '../auth/device-groups.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../auth/passwords.ts';
import {
  accessModes,
  type DirectoryRole,
  directoryRoles,
  mdeAdministratorRole,
  mdiRoleGroups,
  portalPermissionInfo,
  portalPermissions,
} from '../auth/permissions.ts';
import { generateTotpSecret, otpauthUri, verifyTotp } from '../auth/totp.ts';
import { BodyReader, describe } from '../http/body-reader.ts';
import { loadAccessModel, loadDeviceGroups } from '../http/credentials.ts';
import { fail, failWith, json, type Route, type RouteRequest } from '../http/route.ts';
import { directoryRoleNames } from '../instance.ts';
import { actorOf, type RouteContext } from './context.ts';

/** How long a TOTP secret from `begin` waits for its confirming code. */
const totpEnrolmentMs = 10 * 60_000;
const maxAuditPage = 1000;

const storedRemediationLevels: Readonly<Record<RemediationLevel, StoredRemediationLevel>> = {
  'no-automated-response': 'none',
  'semi-approval-all-folders': 'semi-all',
  'semi-approval-non-temp-folders': 'semi-non-temp',
  'semi-approval-core-folders': 'semi-core',
  full: 'full',
};

/** A 400 for one member with a code of its own (password policy, TOTP, references). */
function invalidMember(
  request: RouteRequest,
  pointer: string,
  items: readonly { code: string; message: string }[],
): never {
  return failWith(
    createProblem('invalid-body', {
      detail: items.map((i) => `${pointer.slice(1)}: ${i.message}`).join('; '),
      instance: request.url.pathname,
      errors: items.map((i) => ({ detail: i.message, code: i.code, pointer })),
    }),
  );
}

/** A new one-time password: 144 random bits, shown once. */
function oneTimePassword(): string {
  return randomBytes(18).toString('base64url');
}

// --- Views: what the API returns (never a hash or a secret). ---

async function directoryRoleOf(state: StateStore, userId: string): Promise<DirectoryRole | null> {
  const held = new Set((await state.roles.rolesOf(userId)).filter((r) => r.builtIn).map((r) => r.name));
  return directoryRoles.find((r) => held.has(directoryRoleNames[r])) ?? null;
}

async function userView(state: StateStore, id: string): Promise<JsonObject> {
  const user = await state.users.get(id);
  if (user === undefined) return fail('not-found', `no user ${id}`);
  return {
    id: user.id,
    name: user.name,
    displayName: user.displayName,
    email: user.email,
    disabled: user.disabled,
    totpEnrolled: user.totpSecret !== null,
    mustChangePassword: user.mustChangePassword,
    directoryRole: await directoryRoleOf(state, user.id),
    userGroups: (await state.userGroups.groupsOf(user.id)).map((g) => g.id).sort(),
    createdAt: user.createdAt,
    lastLoginAt: user.lastLoginAt,
  };
}

async function roleView(state: StateStore, id: string): Promise<JsonObject | undefined> {
  const role = await state.roles.get(id);
  if (role === undefined) return undefined;
  const assignments = await state.roles.assignments(role.id);
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    builtIn: role.builtIn,
    permissions: [...role.permissions],
    userGroups: assignments
      .filter((a) => a.kind === 'group')
      .map((a) => a.id)
      .sort(),
  };
}

async function deviceGroupView(state: StateStore, id: string): Promise<JsonObject | undefined> {
  const groups = await loadDeviceGroups(state);
  const group = groups.groups.find((g) => g.id === id);
  return group === undefined ? undefined : deviceGroupJson(group);
}

function deviceGroupJson(group: DeviceGroup): JsonObject {
  return {
    id: group.id,
    name: group.name,
    rank: group.rank,
    description: group.description ?? null,
    remediationLevel: group.remediationLevel,
    rule: { ...group.rule } as JsonObject,
    userGroups: [...group.userGroups],
  };
}

async function settingsOf(state: StateStore): Promise<JsonObject> {
  return (await state.instance.get())?.settings ?? {};
}

export function adminRoutes(context: RouteContext): Route[] {
  const { state } = context.instance;
  /** Secrets from `totp/begin` waiting for their confirming code, per user id (memory only). */
  const pendingTotp = new Map<string, { secret: string; expiresAt: number }>();

  const audit = (
    tx: StateStore,
    request: RouteRequest,
    action: string,
    target: string,
    details: JsonObject = {},
  ) => tx.audit.append({ actor: actorOf(request.principal), action, target, details });

  /** The signed-in user's record; API clients have no password or second factor. */
  const ownUser = async (request: RouteRequest) => {
    const p = request.principal;
    if (p.kind !== 'user') return fail('conflict', 'only a signed-in user has a password and TOTP');
    const user = await state.users.get(p.id);
    if (user === undefined) return fail('not-found', `no user ${p.id}`);
    return user;
  };

  /** Checks a password the caller typed, counted by the login limiter so it cannot be guessed here. */
  const confirmPassword = async (
    request: RouteRequest,
    userName: string,
    hash: string | null,
    password: string,
    pointer: string,
  ) => {
    const now = context.now().getTime();
    const limit = context.loginLimiter.check(userName, request.remoteAddress, now);
    if (!limit.allowed) {
      fail('too-many-requests', 'too many wrong passwords; wait before trying again', {
        'retry-after': String(Math.ceil(limit.retryAfterMs / 1000)),
      });
    }
    const checked = await verifyPassword(hash ?? undefined, password);
    if (!checked.ok) {
      context.loginLimiter.recordFailure(userName, request.remoteAddress, now);
      invalidMember(request, pointer, [{ code: 'password/mismatch', message: 'the password is wrong' }]);
    }
  };

  const policyContext = async (user: {
    name: string;
    displayName?: string | null;
    email?: string | null;
  }) => {
    const instance = await state.instance.get();
    return {
      userName: user.name,
      ...(user.displayName ? { displayName: user.displayName } : {}),
      ...(user.email ? { email: user.email } : {}),
      words: instance === undefined ? [] : [instance.name, instance.domain],
    };
  };

  const checkPolicy = async (
    request: RouteRequest,
    password: string,
    user: { name: string; displayName?: string | null; email?: string | null },
    pointer: string,
  ) => {
    const problems = checkPasswordPolicy(password, await policyContext(user));
    if (problems.length > 0) invalidMember(request, pointer, problems);
  };

  /** Unknown user-group ids in a list become issues at `path/i`. */
  const checkUserGroups = async (
    body: BodyReader,
    ids: readonly string[] | undefined,
    path: readonly string[],
  ) => {
    if (ids === undefined) return;
    const known = new Set((await state.userGroups.list()).map((g) => g.id));
    ids.forEach((id, i) => {
      if (!known.has(id))
        body.issue([...path, i], 'the id of a user group', JSON.stringify(id), 'body/unknown-reference');
    });
  };

  /** After a change to roles or device groups: the model must still hold together, or the change is undone. */
  const checkAccessModel = async (tx: StateStore, request: RouteRequest) => {
    const problems = validateAccessModel(await loadAccessModel(tx));
    if (problems.length > 0) {
      failWith(
        createProblem('conflict', {
          detail: problems.map((p) => p.message).join('; '),
          instance: request.url.pathname,
          errors: problems.map((p) => ({ detail: p.message, code: p.code })),
        }),
      );
    }
  };

  const setDirectoryRole = async (tx: StateStore, userId: string, role: DirectoryRole | null) => {
    for (const r of directoryRoles) {
      const stored = await tx.roles.getByName(directoryRoleNames[r]);
      if (stored === undefined) continue;
      if (r === role) await tx.roles.assign(stored.id, { kind: 'user', id: userId });
      else await tx.roles.unassign(stored.id, { kind: 'user', id: userId });
    }
  };

  const setUserGroups = async (tx: StateStore, userId: string, groups: readonly string[]) => {
    const current = (await tx.userGroups.groupsOf(userId)).map((g) => g.id);
    for (const id of current) if (!groups.includes(id)) await tx.userGroups.removeMember(id, userId);
    for (const id of groups) if (!current.includes(id)) await tx.userGroups.addMember(id, userId);
  };

  const setRoleGroups = async (tx: StateStore, roleId: string, groups: readonly string[]) => {
    const current = (await tx.roles.assignments(roleId)).filter((a) => a.kind === 'group').map((a) => a.id);
    for (const id of current)
      if (!groups.includes(id)) await tx.roles.unassign(roleId, { kind: 'group', id });
    for (const id of groups) if (!current.includes(id)) await tx.roles.assign(roleId, { kind: 'group', id });
  };

  const customRole = async (request: RouteRequest) => {
    const role = await state.roles.get(request.params.id ?? '');
    if (role === undefined) return fail('not-found', `no role ${request.params.id}`);
    if (role.builtIn) return fail('conflict', `the built-in role "${role.name}" cannot be changed`);
    return role;
  };

  /** Reads a device group's rule member: each property an array of at most 10 strings. */
  const readRule = (body: BodyReader): DeviceGroupRule | undefined => {
    const value = body.fields.rule;
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      body.issue(
        ['rule'],
        'an object with names, domains, osPlatforms or tags',
        describe(value),
        'body/type-mismatch',
      );
      return undefined;
    }
    const from = value as Record<string, unknown>;
    for (const key of Object.keys(from)) {
      if (!['names', 'domains', 'osPlatforms', 'tags'].includes(key))
        body.issue(['rule', key], 'no such member', describe(from[key]), 'body/unknown-field');
    }
    const rule: { -readonly [K in keyof DeviceGroupRule]: DeviceGroupRule[K] } = {};
    for (const key of ['names', 'domains', 'osPlatforms', 'tags'] as const) {
      const values = body.strings(key, { from }, ['rule', key]);
      if (values !== undefined) rule[key] = values;
    }
    return rule;
  };

  /** Validates a device-group configuration with `candidate` in it; its problems name members. */
  const checkDeviceGroup = async (request: RouteRequest, candidate: DeviceGroup) => {
    const current = await loadDeviceGroups(state);
    const groups = [...current.groups.filter((g) => g.id !== candidate.id), candidate];
    // Ranks are reassigned by the store on insert; only the candidate's own problems count.
    const problems = validateDeviceGroups({
      ...current,
      groups: groups.map((g, i) => ({ ...g, rank: i + 1 })),
    }).filter((p) => p.group === candidate.name);
    if (problems.length === 0) return;
    const memberOf = (code: string) =>
      code === 'device-group/duplicate-name' ? 'name' : code === 'device-group/reserved' ? 'id' : 'rule';
    failWith(
      createProblem('invalid-body', {
        detail: problems.map((p) => `/${memberOf(p.code)}: ${p.message}`).join('; '),
        instance: request.url.pathname,
        errors: problems.map((p) => ({ detail: p.message, code: p.code, pointer: `#/${memberOf(p.code)}` })),
      }),
    );
  };

  const deviceGroupSchema: JsonSchema = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      description: { type: 'string' },
      rank: { type: 'integer' },
      remediationLevel: { enum: [...remediationLevels] },
      rule: {
        type: 'object',
        properties: {
          names: { type: 'array', items: { type: 'string' } },
          domains: { type: 'array', items: { type: 'string' } },
          osPlatforms: { type: 'array', items: { type: 'string' } },
          tags: { type: 'array', items: { type: 'string' } },
        },
      },
      userGroups: { type: 'array', items: { type: 'string' } },
    },
  };

  return [
    // --- Users ---
    {
      method: 'GET',
      path: '/api/users',
      permission: 'users.manage',
      audience: 'api',
      summary: 'List local users with their directory role, user groups and whether TOTP is enrolled',
      responses: { 200: { description: 'The users' } },
      tags: ['users'],
      async handler() {
        const page = await state.users.list({ top: 10_000 });
        const value = [];
        for (const user of page.items) value.push(await userView(state, user.id));
        return json(200, { value });
      },
    },
    {
      method: 'POST',
      path: '/api/users',
      permission: 'users.manage',
      audience: 'api',
      summary:
        'Create a local user; without a password a one-time password is generated, shown once and must be changed at the first sign-in',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          displayName: { type: 'string' },
          email: { type: 'string' },
          password: { type: 'string' },
          directoryRole: { enum: [...directoryRoles, null] },
          userGroups: { type: 'array', items: { type: 'string' } },
        },
      },
      responses: { 201: { description: 'The user (and its one-time password when one was generated)' } },
      tags: ['users'],
      async handler(request) {
        const body = new BodyReader(request.body, [
          'name',
          'displayName',
          'email',
          'password',
          'directoryRole',
          'userGroups',
        ]);
        const name = body.string('name', { required: true, max: 128 });
        if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name))
          body.issue(['name'], 'letters, digits, ".", "_", "@" or "-"', describe(name), 'body/type-mismatch');
        const displayName = body.string('displayName');
        const email = body.string('email');
        const password = body.string('password', { max: 1024, secret: true });
        const directoryRole =
          body.fields.directoryRole === null ? null : body.oneOf('directoryRole', directoryRoles);
        const userGroups = body.strings('userGroups');
        await checkUserGroups(body, userGroups, ['userGroups']);
        body.check(request);
        if (name === undefined) return fail('internal', 'unreachable: name was checked');
        if (password !== undefined)
          await checkPolicy(
            request,
            password,
            { name, displayName: displayName ?? null, email: email ?? null },
            '#/password',
          );
        const generated = password === undefined ? oneTimePassword() : undefined;
        const passwordHash = await hashPassword(password ?? generated ?? '');
        const id = await state.transaction(async (tx) => {
          const user = await tx.users.create({
            name,
            passwordHash,
            mustChangePassword: generated !== undefined,
            ...(displayName === undefined ? {} : { displayName }),
            ...(email === undefined ? {} : { email }),
          });
          await setDirectoryRole(tx, user.id, directoryRole ?? null);
          await setUserGroups(tx, user.id, userGroups ?? []);
          await audit(tx, request, 'user.create', user.id, {
            after: await userView(tx, user.id),
            password: generated === undefined ? 'set by the administrator' : 'one-time, generated',
          });
          return user.id;
        });
        const view = await userView(state, id);
        return json(201, generated === undefined ? view : { ...view, oneTimePassword: generated });
      },
    },
    {
      method: 'PATCH',
      path: '/api/users/:id',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Enable or disable a user, change its directory role, user groups, display name or e-mail',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: {
        type: 'object',
        properties: {
          disabled: { type: 'boolean' },
          directoryRole: { enum: [...directoryRoles, null] },
          userGroups: { type: 'array', items: { type: 'string' } },
          displayName: { type: ['string', 'null'] },
          email: { type: ['string', 'null'] },
        },
      },
      responses: { 200: { description: 'The user after the change' } },
      tags: ['users'],
      async handler(request) {
        const id = request.params.id ?? '';
        const before = await userView(state, id);
        const body = new BodyReader(request.body, [
          'disabled',
          'directoryRole',
          'userGroups',
          'displayName',
          'email',
        ]);
        const disabled = body.boolean('disabled');
        const directoryRole =
          body.fields.directoryRole === null ? null : body.oneOf('directoryRole', directoryRoles);
        const userGroups = body.strings('userGroups');
        const displayName = body.nullableString('displayName');
        const email = body.nullableString('email');
        await checkUserGroups(body, userGroups, ['userGroups']);
        body.check(request);
        const p = request.principal;
        if (p.kind === 'user' && p.id === id && (disabled === true || body.has('directoryRole'))) {
          fail(
            'conflict',
            'you cannot disable yourself or change your own directory role; ask another administrator',
          );
        }
        await state.transaction(async (tx) => {
          await tx.users.update(id, {
            ...(disabled === undefined ? {} : { disabled }),
            ...(displayName === undefined ? {} : { displayName }),
            ...(email === undefined ? {} : { email }),
          });
          if (disabled === true) await tx.sessions.deleteForUser(id);
          if (body.has('directoryRole')) await setDirectoryRole(tx, id, directoryRole ?? null);
          if (userGroups !== undefined) await setUserGroups(tx, id, userGroups);
          await audit(tx, request, 'user.update', id, { before, after: await userView(tx, id) });
        });
        return json(200, await userView(state, id));
      },
    },
    {
      method: 'POST',
      path: '/api/users/:id/reset-password',
      permission: 'users.manage',
      audience: 'api',
      summary:
        'Give a user a new one-time password (shown once, to be changed at the next sign-in) and end its sessions',
      responses: { 200: { description: 'The one-time password' } },
      tags: ['users'],
      async handler(request) {
        const id = request.params.id ?? '';
        await userView(state, id);
        const password = oneTimePassword();
        const passwordHash = await hashPassword(password);
        await state.transaction(async (tx) => {
          await tx.users.update(id, { passwordHash, mustChangePassword: true });
          await tx.sessions.deleteForUser(id);
          await audit(tx, request, 'user.password.reset', id, { sessionsEnded: true });
        });
        return json(200, { id, oneTimePassword: password });
      },
    },
    // --- The caller's own password and second factor ---
    {
      method: 'POST',
      path: '/api/auth/password',
      permission: 'authenticated',
      audience: 'api',
      summary:
        'Change your own password (the current one is required); a one-time password must be changed here first',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: {
        type: 'object',
        required: ['currentPassword', 'newPassword'],
        properties: { currentPassword: { type: 'string' }, newPassword: { type: 'string' } },
      },
      responses: { 204: { description: 'Changed' } },
      tags: ['auth'],
      async handler(request) {
        const body = new BodyReader(request.body, ['currentPassword', 'newPassword']);
        const current = body.string('currentPassword', { required: true, max: 1024, secret: true });
        const next = body.string('newPassword', { required: true, max: 1024, secret: true });
        body.check(request);
        if (current === undefined || next === undefined)
          return fail('internal', 'unreachable: body was checked');
        const user = await ownUser(request);
        await confirmPassword(request, user.name, user.passwordHash, current, '#/currentPassword');
        if (next === current)
          invalidMember(request, '#/newPassword', [
            { code: 'password/unchanged', message: 'the new password is the current one' },
          ]);
        await checkPolicy(request, next, user, '#/newPassword');
        const passwordHash = await hashPassword(next);
        await state.transaction(async (tx) => {
          await tx.users.update(user.id, { passwordHash, mustChangePassword: false });
          await audit(tx, request, 'user.password.change', user.id);
        });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/auth/totp/begin',
      permission: 'authenticated',
      audience: 'api',
      summary: 'Start TOTP enrolment: a new secret and its otpauth URI, shown once; confirm with a code',
      responses: { 200: { description: 'The secret and the otpauth URI for an authenticator app' } },
      tags: ['auth'],
      async handler(request) {
        const user = await ownUser(request);
        if (user.totpSecret !== null)
          fail(
            'conflict',
            'TOTP is already enrolled; remove it (DELETE /api/auth/totp) before enrolling again',
          );
        const secret = generateTotpSecret();
        pendingTotp.set(user.id, { secret, expiresAt: context.now().getTime() + totpEnrolmentMs });
        const instance = await state.instance.get();
        return json(200, {
          secret,
          otpauthUri: otpauthUri({
            secret,
            accountName: user.name,
            issuer: `Palisade (${instance?.domain ?? 'instance'})`,
          }),
          expiresAt: new Date(context.now().getTime() + totpEnrolmentMs).toISOString(),
        });
      },
    },
    {
      method: 'POST',
      path: '/api/auth/totp/confirm',
      permission: 'authenticated',
      audience: 'api',
      summary: 'Finish TOTP enrolment with a code from the authenticator app',
      body: 'json',
      bodyLimit: 4096,
      requestBody: { type: 'object', required: ['code'], properties: { code: { type: 'string' } } },
      responses: { 204: { description: 'Enrolled: sign-in now asks for a code' } },
      tags: ['auth'],
      async handler(request) {
        const body = new BodyReader(request.body, ['code']);
        const code = body.string('code', { required: true, max: 16 });
        body.check(request);
        const user = await ownUser(request);
        const now = context.now().getTime();
        const pending = pendingTotp.get(user.id);
        if (pending === undefined || pending.expiresAt <= now)
          fail('conflict', 'no TOTP enrolment is waiting; call POST /api/auth/totp/begin first');
        const checked = verifyTotp({ secret: pending.secret, code: code ?? '', now });
        if (!checked.ok)
          invalidMember(request, '#/code', [
            { code: checked.reason, message: 'the code does not match the new secret' },
          ]);
        pendingTotp.delete(user.id);
        // The confirming code is used: sign-in must not accept it again.
        context.totpSteps.set(user.id, checked.step);
        await state.transaction(async (tx) => {
          await tx.users.update(user.id, { totpSecret: pending.secret });
          await audit(tx, request, 'user.totp.enrol', user.id);
        });
        return { status: 204 };
      },
    },
    {
      method: 'DELETE',
      path: '/api/auth/totp',
      permission: 'authenticated',
      audience: 'api',
      summary: 'Remove your TOTP second factor (your password is required)',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: { type: 'object', required: ['password'], properties: { password: { type: 'string' } } },
      responses: { 204: { description: 'Removed' } },
      tags: ['auth'],
      async handler(request) {
        const body = new BodyReader(request.body, ['password']);
        const password = body.string('password', { required: true, max: 1024, secret: true });
        body.check(request);
        const user = await ownUser(request);
        await confirmPassword(request, user.name, user.passwordHash, password ?? '', '#/password');
        if (user.totpSecret === null) fail('conflict', 'TOTP is not enrolled');
        pendingTotp.delete(user.id);
        await state.transaction(async (tx) => {
          await tx.users.update(user.id, { totpSecret: null });
          await audit(tx, request, 'user.totp.remove', user.id);
        });
        return { status: 204 };
      },
    },
    // --- User groups ---
    {
      method: 'GET',
      path: '/api/user-groups',
      permission: 'users.manage',
      audience: 'api',
      summary: 'List user groups with their members',
      responses: { 200: { description: 'The user groups' } },
      tags: ['users'],
      async handler() {
        const value = [];
        for (const group of await state.userGroups.list()) {
          const members = (await state.userGroups.members(group.id)).map((u) => u.id).sort();
          value.push({ ...group, members });
        }
        return json(200, { value });
      },
    },
    {
      method: 'POST',
      path: '/api/user-groups',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Create a user group',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: {
        type: 'object',
        required: ['name'],
        properties: { name: { type: 'string' }, description: { type: 'string' } },
      },
      responses: { 201: { description: 'The user group' } },
      tags: ['users'],
      async handler(request) {
        const body = new BodyReader(request.body, ['name', 'description']);
        const name = body.string('name', { required: true, max: 128 });
        const description = body.string('description', { max: 1024 });
        body.check(request);
        const group = await state.transaction(async (tx) => {
          const created = await tx.userGroups.create({
            name: name ?? '',
            ...(description === undefined ? {} : { description }),
          });
          await audit(tx, request, 'userGroup.create', created.id, { after: { ...created } });
          return created;
        });
        return json(201, { ...group, members: [] });
      },
    },
    {
      method: 'DELETE',
      path: '/api/user-groups/:id',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Delete a user group (its members, role and device-group assignments go with it)',
      responses: { 204: { description: 'Deleted' } },
      tags: ['users'],
      async handler(request) {
        const id = request.params.id ?? '';
        const group = await state.userGroups.get(id);
        if (group === undefined) fail('not-found', `no user group ${id}`);
        await state.transaction(async (tx) => {
          const members = (await tx.userGroups.members(id)).map((u) => u.id);
          // Device groups keep user-group ids as data: drop the deleted one from them too.
          for (const dg of await tx.deviceGroups.list()) {
            if (dg.userGroupIds.includes(id))
              await tx.deviceGroups.update(dg.id, { userGroupIds: dg.userGroupIds.filter((g) => g !== id) });
          }
          await tx.userGroups.delete(id);
          await audit(tx, request, 'userGroup.delete', id, { before: { ...group, members } });
        });
        return { status: 204 };
      },
    },
    // --- Roles ---
    {
      method: 'GET',
      path: '/api/roles',
      permission: 'users.manage',
      audience: 'api',
      summary:
        'List roles: the built-in ones (read-only) and custom MDE roles, with the permission catalogue',
      responses: { 200: { description: 'The roles and the portal permissions a role can hold' } },
      tags: ['users'],
      async handler() {
        const value: JsonObject[] = [
          {
            id: mdeAdministratorRole.id,
            name: mdeAdministratorRole.name,
            description: mdeAdministratorRole.description ?? null,
            builtIn: true,
            permissions: [...mdeAdministratorRole.permissions],
            userGroups: [],
          },
        ];
        for (const role of await state.roles.list()) {
          const view = await roleView(state, role.id);
          if (view !== undefined) value.push(view);
        }
        return json(200, { value, permissions: portalPermissionInfo });
      },
    },
    {
      method: 'POST',
      path: '/api/roles',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Create a custom MDE role with portal permissions, assigned to user groups',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: {
        type: 'object',
        required: ['name', 'permissions'],
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          permissions: { type: 'array', items: { enum: [...portalPermissions] } },
          userGroups: { type: 'array', items: { type: 'string' } },
        },
      },
      responses: { 201: { description: 'The role' } },
      tags: ['users'],
      async handler(request) {
        const body = new BodyReader(request.body, ['name', 'description', 'permissions', 'userGroups']);
        const name = body.string('name', { required: true, max: 128 });
        const description = body.string('description', { max: 1024 });
        const permissions = body.strings('permissions', { values: portalPermissions, required: true });
        const userGroups = body.strings('userGroups');
        await checkUserGroups(body, userGroups, ['userGroups']);
        body.check(request);
        const id = await state.transaction(async (tx) => {
          const role = await tx.roles.create({
            name: name ?? '',
            permissions: permissions ?? [],
            ...(description === undefined ? {} : { description }),
          });
          await setRoleGroups(tx, role.id, userGroups ?? []);
          await checkAccessModel(tx, request);
          await audit(tx, request, 'role.create', role.id, { after: (await roleView(tx, role.id)) ?? null });
          return role.id;
        });
        return json(201, await roleView(state, id));
      },
    },
    {
      method: 'PATCH',
      path: '/api/roles/:id',
      permission: 'users.manage',
      audience: 'api',
      summary:
        'Change a custom role: name, description, permissions, user groups (built-in roles are read-only)',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          description: { type: ['string', 'null'] },
          permissions: { type: 'array', items: { enum: [...portalPermissions] } },
          userGroups: { type: 'array', items: { type: 'string' } },
        },
      },
      responses: { 200: { description: 'The role after the change' } },
      tags: ['users'],
      async handler(request) {
        const role = await customRole(request);
        const body = new BodyReader(request.body, ['name', 'description', 'permissions', 'userGroups']);
        const name = body.string('name', { max: 128 });
        const description = body.nullableString('description');
        const permissions = body.strings('permissions', { values: portalPermissions });
        const userGroups = body.strings('userGroups');
        await checkUserGroups(body, userGroups, ['userGroups']);
        body.check(request);
        const before = await roleView(state, role.id);
        await state.transaction(async (tx) => {
          await tx.roles.update(role.id, {
            ...(name === undefined ? {} : { name }),
            ...(description === undefined ? {} : { description }),
            ...(permissions === undefined ? {} : { permissions }),
          });
          if (userGroups !== undefined) await setRoleGroups(tx, role.id, userGroups);
          await checkAccessModel(tx, request);
          await audit(tx, request, 'role.update', role.id, {
            before: before ?? null,
            after: (await roleView(tx, role.id)) ?? null,
          });
        });
        return json(200, await roleView(state, role.id));
      },
    },
    {
      method: 'DELETE',
      path: '/api/roles/:id',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Delete a custom role (built-in roles cannot be deleted)',
      responses: { 204: { description: 'Deleted' } },
      tags: ['users'],
      async handler(request) {
        const role = await customRole(request);
        const before = await roleView(state, role.id);
        await state.transaction(async (tx) => {
          await tx.roles.delete(role.id);
          await checkAccessModel(tx, request);
          await audit(tx, request, 'role.delete', role.id, { before: before ?? null });
        });
        return { status: 204 };
      },
    },
    // --- Device groups ---
    {
      method: 'GET',
      path: '/api/device-groups',
      permission: 'users.manage',
      audience: 'api',
      summary: 'List device groups by rank, then the default group for unmatched devices',
      responses: { 200: { description: 'The device groups' } },
      tags: ['users'],
      async handler() {
        const config = await loadDeviceGroups(state);
        return json(200, {
          value: [
            ...config.groups.map(deviceGroupJson),
            {
              id: ungroupedDevicesId,
              name: ungroupedDevicesName,
              rank: null,
              remediationLevel: config.ungrouped.remediationLevel,
              userGroups: [...config.ungrouped.userGroups],
            },
          ],
        });
      },
    },
    {
      method: 'POST',
      path: '/api/device-groups',
      permission: 'users.manage',
      audience: 'api',
      summary:
        'Create a device group: a rule on device name, domain, OS platform and tags, at a rank (default last)',
      body: 'json',
      bodyLimit: 65_536,
      requestBody: { ...deviceGroupSchema, required: ['name', 'rule'] },
      responses: { 201: { description: 'The device group' } },
      tags: ['users'],
      async handler(request) {
        const body = new BodyReader(request.body, [
          'name',
          'description',
          'rank',
          'remediationLevel',
          'rule',
          'userGroups',
        ]);
        const name = body.string('name', { required: true, max: 128 });
        const description = body.string('description', { max: 1024 });
        const rank = body.fields.rank;
        if (rank !== undefined && (!Number.isInteger(rank) || (rank as number) < 1))
          body.issue(['rank'], 'a whole number from 1', describe(rank), 'body/type-mismatch');
        const level = body.oneOf('remediationLevel', remediationLevels) ?? 'no-automated-response';
        const rule = readRule(body);
        if (!body.has('rule'))
          body.issue(
            ['rule'],
            'an object with names, domains, osPlatforms or tags',
            'nothing',
            'body/missing-field',
          );
        const userGroups = body.strings('userGroups');
        await checkUserGroups(body, userGroups, ['userGroups']);
        body.check(request);
        await checkDeviceGroup(request, {
          id: '(new)',
          name: name ?? '',
          rank: 1,
          remediationLevel: level,
          rule: rule ?? {},
          userGroups: userGroups ?? [],
        });
        const id = await state.transaction(async (tx) => {
          const group = await tx.deviceGroups.create({
            name: name ?? '',
            remediationLevel: storedRemediationLevels[level],
            rules: { ...rule } as JsonObject,
            userGroupIds: userGroups ?? [],
            ...(description === undefined ? {} : { description }),
            ...(typeof rank === 'number' ? { rank } : {}),
          });
          await checkAccessModel(tx, request);
          await audit(tx, request, 'deviceGroup.create', group.id, {
            after: (await deviceGroupView(tx, group.id)) ?? null,
          });
          return group.id;
        });
        return json(201, await deviceGroupView(state, id));
      },
    },
    {
      method: 'PATCH',
      path: '/api/device-groups/:id',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Change a device group: name, description, automation level, rule, user groups',
      body: 'json',
      bodyLimit: 65_536,
      requestBody: deviceGroupSchema,
      responses: { 200: { description: 'The device group after the change' } },
      tags: ['users'],
      async handler(request) {
        const id = request.params.id ?? '';
        const config = await loadDeviceGroups(state);
        const current = config.groups.find((g) => g.id === id);
        if (current === undefined) return fail('not-found', `no device group ${id}`);
        const body = new BodyReader(request.body, [
          'name',
          'description',
          'remediationLevel',
          'rule',
          'userGroups',
        ]);
        const name = body.string('name', { max: 128 });
        const description = body.nullableString('description');
        const level = body.oneOf('remediationLevel', remediationLevels);
        const rule = readRule(body);
        const userGroups = body.strings('userGroups');
        await checkUserGroups(body, userGroups, ['userGroups']);
        body.check(request);
        await checkDeviceGroup(request, {
          ...current,
          name: name ?? current.name,
          remediationLevel: level ?? current.remediationLevel,
          rule: rule ?? current.rule,
          userGroups: userGroups ?? current.userGroups,
        });
        await state.transaction(async (tx) => {
          await tx.deviceGroups.update(id, {
            ...(name === undefined ? {} : { name }),
            ...(description === undefined ? {} : { description }),
            ...(level === undefined ? {} : { remediationLevel: storedRemediationLevels[level] }),
            ...(rule === undefined ? {} : { rules: { ...rule } as JsonObject }),
            ...(userGroups === undefined ? {} : { userGroupIds: userGroups }),
          });
          await checkAccessModel(tx, request);
          await audit(tx, request, 'deviceGroup.update', id, {
            before: deviceGroupJson(current),
            after: (await deviceGroupView(tx, id)) ?? null,
          });
        });
        return json(200, await deviceGroupView(state, id));
      },
    },
    {
      method: 'DELETE',
      path: '/api/device-groups/:id',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Delete a device group; its devices fall to the next matching group or Ungrouped devices',
      responses: { 204: { description: 'Deleted' } },
      tags: ['users'],
      async handler(request) {
        const id = request.params.id ?? '';
        const before = await deviceGroupView(state, id);
        if (before === undefined) return fail('not-found', `no device group ${id}`);
        await state.transaction(async (tx) => {
          await tx.deviceGroups.delete(id);
          await audit(tx, request, 'deviceGroup.delete', id, { before });
        });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/api/device-groups/rerank',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Rank the device groups 1… in the order given (every group listed once)',
      body: 'json',
      bodyLimit: 65_536,
      requestBody: {
        type: 'object',
        required: ['ids'],
        properties: { ids: { type: 'array', items: { type: 'string' } } },
      },
      responses: { 200: { description: 'The device groups in their new order' } },
      tags: ['users'],
      async handler(request) {
        const body = new BodyReader(request.body, ['ids']);
        const ids = body.strings('ids', { required: true });
        body.check(request);
        const before = (await state.deviceGroups.list()).map((g) => g.id);
        const known = new Set(before);
        if (ids === undefined || ids.length !== before.length || ids.some((id) => !known.has(id))) {
          invalidMember(request, '#/ids', [
            {
              code: 'device-group/bad-rerank',
              message: `expected each of the ${before.length} device groups once (${before.join(', ')}), found ${JSON.stringify(ids)}`,
            },
          ]);
        }
        await state.transaction(async (tx) => {
          await tx.deviceGroups.rerank(ids);
          await audit(tx, request, 'deviceGroup.rerank', 'device-groups', { before, after: ids });
        });
        const config = await loadDeviceGroups(state);
        return json(200, { value: config.groups.map(deviceGroupJson) });
      },
    },
    // --- Access model settings ---
    {
      method: 'GET',
      path: '/api/settings/access',
      permission: 'settings.read',
      audience: 'api',
      summary: 'The access mode (basic or RBAC) and the user groups of the MDI role groups',
      responses: { 200: { description: 'The access settings' } },
      tags: ['settings'],
      async handler() {
        const model = await loadAccessModel(state);
        return json(200, { mode: model.mode, mdiRoleGroups: model.mdiRoleGroups });
      },
    },
    {
      method: 'PUT',
      path: '/api/settings/access-mode',
      permission: 'system.manage',
      audience: 'api',
      summary: 'Turn on RBAC (roles assigned to user groups); as in Defender, there is no way back to basic',
      body: 'json',
      bodyLimit: 4096,
      requestBody: { type: 'object', required: ['mode'], properties: { mode: { enum: [...accessModes] } } },
      responses: { 200: { description: 'The access mode now in force' } },
      tags: ['settings'],
      async handler(request) {
        const body = new BodyReader(request.body, ['mode']);
        const mode = body.oneOf('mode', accessModes, true);
        body.check(request);
        await state.transaction(async (tx) => {
          const before = (await settingsOf(tx)).accessMode === 'rbac' ? 'rbac' : 'basic';
          // Defender for Endpoint cannot go back to basic permissions once RBAC is on (reference
          // §5): going back would hand every user full or read access to every device group.
          if (before === 'rbac' && mode !== 'rbac')
            fail('conflict', 'RBAC is on; an instance cannot go back to basic permissions');
          await tx.instance.updateSettings({ accessMode: mode ?? 'basic' });
          await audit(tx, request, 'settings.accessMode', 'instance', { before, after: mode ?? 'basic' });
        });
        return json(200, { mode });
      },
    },
    {
      method: 'PUT',
      path: '/api/settings/mdi-role-groups',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Set the user groups of the MDI role groups (Administrators, Users, Viewers)',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: {
        type: 'object',
        properties: Object.fromEntries(
          mdiRoleGroups.map((g) => [g, { type: 'array', items: { type: 'string' } }]),
        ),
      },
      responses: { 200: { description: 'The MDI role groups now in force' } },
      tags: ['settings'],
      async handler(request) {
        const body = new BodyReader(request.body, mdiRoleGroups);
        const next: Record<string, string[]> = {};
        for (const group of mdiRoleGroups) {
          const ids = body.strings(group, { required: true });
          await checkUserGroups(body, ids, [group]);
          next[group] = ids ?? [];
        }
        body.check(request);
        await state.transaction(async (tx) => {
          const held = (await loadAccessModel(tx)).mdiRoleGroups;
          const before = Object.fromEntries(mdiRoleGroups.map((g) => [g, [...held[g]]]));
          await tx.instance.updateSettings({ mdiRoleGroups: next });
          await audit(tx, request, 'settings.mdiRoleGroups', 'instance', {
            before,
            after: next,
          });
        });
        return json(200, { mdiRoleGroups: next });
      },
    },
    // --- Audit ---
    {
      method: 'GET',
      path: '/api/audit',
      permission: 'audit.read',
      audience: 'api',
      summary: 'The audit log, newest first: $top (≤ 1000) and $skip, filtered by actor, action or target',
      responses: { 200: { description: 'A page of audit entries and how many match' } },
      tags: ['audit'],
      async handler(request) {
        const q = request.url.searchParams;
        const number = (name: string, fallback: number, max: number) => {
          const text = q.get(name);
          if (text === null) return fallback;
          const value = Number(text);
          if (!/^\d+$/.test(text) || value > max) {
            failWith(
              createProblem('invalid-query', {
                detail: `${name}: expected a whole number from 0 to ${max}, found ${JSON.stringify(text)}`,
                errors: [
                  {
                    detail: `expected a whole number from 0 to ${max}`,
                    code: 'query/bad-number',
                    parameter: name,
                  },
                ],
              }),
            );
          }
          return value;
        };
        const top = number('$top', 100, maxAuditPage);
        const skip = number('$skip', 0, Number.MAX_SAFE_INTEGER);
        const filter = {
          top,
          skip,
          ...(q.get('actor') === null ? {} : { actor: q.get('actor') as string }),
          ...(q.get('action') === null ? {} : { action: q.get('action') as string }),
          ...(q.get('target') === null ? {} : { target: q.get('target') as string }),
        };
        const page = await state.audit.list(filter);
        const next = new URLSearchParams(q);
        next.set('$skip', String(skip + top));
        return json(200, {
          '@odata.count': page.total,
          value: page.items,
          ...(skip + top < page.total ? { '@odata.nextLink': `${context.baseUrl()}/api/audit?${next}` } : {}),
        });
      },
    },
  ];
}
