// Signing in: the OAuth 2.0 token endpoint for API clients (client credentials), the portal's
// password login (argon2id, throttled, TOTP when enrolled) with its session cookie, logout, the
// caller's own session, and the administrators' API-client registration. A user signed in with a
// one-time password gets a session that may only change it (see `passwordChangeRoutes`).

import type { JsonSchema } from '../api/openapi.ts';
import { type BodyIssue, createProblem, problemFromBodyIssues } from '../api/problem.ts';
import { createApiClient, issueAccessToken } from '../auth/api-clients.ts';
import { permissionsOf } from '../auth/authorize.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { apiScopes, isApiScope } from '../auth/permissions.ts';
import {
  clearSessionCookie,
  createSession,
  csrfTokenFor,
  serializeSessionCookie,
  sessionIdOf,
} from '../auth/sessions.ts';
import { verifyTotp } from '../auth/totp.ts';
import { fail, failWith, json, type Route } from '../http/route.ts';
import { actorOf, type RouteContext } from './context.ts';

const loginSchema: JsonSchema = {
  type: 'object',
  required: ['userName', 'password'],
  properties: { userName: { type: 'string' }, password: { type: 'string' }, totpCode: { type: 'string' } },
};

const apiClientSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'scopes'],
  properties: { name: { type: 'string' }, scopes: { type: 'array', items: { enum: [...apiScopes] } } },
};

function stringField(body: unknown, name: string, issues: BodyIssue[], required = true): string | undefined {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value === 'string') return value;
  if (value !== undefined || required) {
    issues.push({
      path: [name],
      expected: 'a string',
      found: value === undefined ? 'nothing' : typeof value,
      code: value === undefined ? 'body/missing-field' : 'body/type-mismatch',
    });
  }
  return undefined;
}

export function authRoutes(context: RouteContext): Route[] {
  const { state } = context.instance;

  return [
    {
      method: 'POST',
      path: '/oauth2/token',
      permission: 'public',
      audience: 'public',
      summary: 'OAuth 2.0 client-credentials grant: client id and secret for a bearer token (one hour)',
      body: 'form',
      bodyLimit: 16_384,
      responses: { 200: { description: 'RFC 6749 §5.1 token response' } },
      tags: ['auth'],
      async handler(request) {
        const form = request.body as Record<string, string>;
        const authorization = request.headers.authorization;
        const result = await issueAccessToken(
          context.apiClients,
          { form, authorization },
          context.now().getTime(),
        );
        if (result.ok) return json(200, result.response, { pragma: 'no-cache' });
        await state.audit.append({
          actor: result.clientId ?? 'anonymous',
          action: 'apiClient.token',
          outcome: 'failure',
          details: { error: result.error, remoteAddress: request.remoteAddress },
        });
        const basic = /^basic\s/i.test(authorization ?? '');
        // OAuth clients read RFC 6749 §5.2 errors, not problem+json.
        return json(
          result.status,
          { error: result.error, error_description: result.error_description },
          result.status === 401 && basic ? { 'www-authenticate': 'Basic realm="palisade"' } : undefined,
        );
      },
    },
    {
      method: 'POST',
      path: '/api/auth/login',
      permission: 'public',
      audience: 'public',
      summary: 'Sign in with user name and password (and TOTP code when enrolled); sets the session cookie',
      body: 'json',
      bodyLimit: 16_384,
      requestBody: loginSchema,
      responses: {
        200: {
          description:
            'Signed in: the user name, the CSRF token for unsafe requests, and whether the password must be changed before anything else',
        },
      },
      tags: ['auth'],
      async handler(request) {
        const issues: BodyIssue[] = [];
        const userName = stringField(request.body, 'userName', issues);
        const password = stringField(request.body, 'password', issues);
        const totpCode = stringField(request.body, 'totpCode', issues, false);
        if (issues.length > 0 || userName === undefined || password === undefined)
          failWith(problemFromBodyIssues(issues, request.url.pathname));
        const now = context.now().getTime();
        const ip = request.remoteAddress;
        const limit = context.loginLimiter.check(userName, ip, now);
        if (!limit.allowed) {
          fail('too-many-requests', 'too many failed sign-ins; wait before trying again', {
            'retry-after': String(Math.ceil(limit.retryAfterMs / 1000)),
          });
        }
        const user = await state.users.getByName(userName);
        const checked = await verifyPassword(user?.passwordHash ?? undefined, password);
        const refuse = async (reason: string): Promise<never> => {
          context.loginLimiter.recordFailure(userName, ip, now);
          await state.audit.append({
            actor: userName,
            action: 'user.login',
            outcome: 'failure',
            details: { reason, remoteAddress: ip },
          });
          // One answer for every failure: the caller learns nothing about which names exist.
          return fail('unauthorized', 'sign-in failed: wrong user name, password or code');
        };
        if (!checked.ok || user === undefined || user.disabled)
          return refuse(checked.ok ? 'disabled' : checked.reason);
        if (user.totpSecret !== null) {
          if (totpCode === undefined) {
            failWith(
              createProblem('unauthorized', {
                detail: 'a TOTP code is required for this account',
                errors: [{ detail: 'send totpCode', code: 'auth/totp-required', pointer: '#/totpCode' }],
              }),
            );
          }
          const totp = verifyTotp({
            secret: user.totpSecret,
            code: totpCode,
            now,
            lastUsedStep: context.totpSteps.get(user.id),
          });
          if (!totp.ok) return refuse(totp.reason);
          context.totpSteps.set(user.id, totp.step);
        }
        context.loginLimiter.recordSuccess(userName);
        if (checked.needsRehash)
          await state.users.update(user.id, { passwordHash: await hashPassword(password) });
        await state.users.update(user.id, { lastLoginAt: new Date(now).toISOString() });
        const session = createSession({ userId: user.id, now, mfa: user.totpSecret !== null, sourceIp: ip });
        await context.sessions.putSession(session.record);
        await state.audit.append({
          actor: user.name,
          action: 'user.login',
          details: {
            remoteAddress: ip,
            mfa: user.totpSecret !== null,
            mustChangePassword: user.mustChangePassword,
          },
        });
        return json(
          200,
          {
            userName: user.name,
            csrfToken: csrfTokenFor(session.token),
            mustChangePassword: user.mustChangePassword,
          },
          { 'set-cookie': serializeSessionCookie(session.token) },
        );
      },
    },
    {
      method: 'POST',
      path: '/api/auth/logout',
      permission: 'authenticated',
      audience: 'api',
      summary: 'End the portal session',
      responses: { 204: { description: 'Signed out' } },
      tags: ['auth'],
      async handler(request) {
        const id = request.sessionToken === undefined ? undefined : sessionIdOf(request.sessionToken);
        if (id !== undefined) await context.sessions.deleteSession(id);
        return { status: 204, headers: { 'set-cookie': clearSessionCookie() } };
      },
    },
    {
      method: 'GET',
      path: '/api/auth/session',
      permission: 'authenticated',
      audience: 'api',
      summary: 'Who is signed in, what they may do, and the CSRF token of the session',
      responses: { 200: { description: 'The caller' } },
      tags: ['auth'],
      async handler(request) {
        const p = request.principal;
        const user = p.kind === 'user' ? await state.users.get(p.id) : undefined;
        return json(200, {
          kind: p.kind,
          name: p.kind === 'user' ? p.name : p.kind === 'api-client' ? p.name : '',
          permissions: [...permissionsOf(p)].sort(),
          mustChangePassword: user?.mustChangePassword ?? false,
          ...(request.sessionToken === undefined ? {} : { csrfToken: csrfTokenFor(request.sessionToken) }),
        });
      },
    },
    {
      method: 'POST',
      path: '/api/settings/api-clients',
      permission: 'users.manage',
      audience: 'api',
      summary: 'Register an API client with MDE permission scopes; the secret is shown once',
      body: 'json',
      requestBody: apiClientSchema,
      responses: { 201: { description: 'The client id and secret' } },
      tags: ['settings'],
      async handler(request) {
        const issues: BodyIssue[] = [];
        const name = stringField(request.body, 'name', issues);
        const scopes = (request.body as { scopes?: unknown } | undefined)?.scopes;
        if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || !isApiScope(s))) {
          issues.push({
            path: ['scopes'],
            expected: `an array of ${apiScopes.join(', ')}`,
            found: JSON.stringify(scopes) ?? 'nothing',
            code: 'body/type-mismatch',
          });
        }
        if (issues.length > 0 || name === undefined || name.trim() === '')
          failWith(problemFromBodyIssues(issues, request.url.pathname));
        const actor = actorOf(request.principal);
        const created = createApiClient({
          name,
          scopes: (scopes as string[]).filter(isApiScope),
          createdBy: actor,
          now: context.now().getTime(),
          secretLifetimeMs: null,
        });
        await state.transaction(async (tx) => {
          await tx.apiClients.create({
            id: created.client.clientId,
            name,
            secretHash: created.client.secretDigest,
            scopes: created.client.scopes,
          });
          await tx.audit.append({
            actor,
            action: 'apiClient.create',
            target: created.client.clientId,
            details: { name, scopes: [...created.client.scopes] },
          });
        });
        return json(201, {
          clientId: created.client.clientId,
          clientSecret: created.secret,
          name,
          scopes: created.client.scopes,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/settings/api-clients',
      permission: 'users.manage',
      audience: 'api',
      summary: 'List API clients (without secrets)',
      responses: { 200: { description: 'The clients' } },
      tags: ['settings'],
      async handler() {
        const clients = await state.apiClients.list();
        return json(200, {
          value: clients.map(({ secretHash: _secret, ...client }) => client),
        });
      },
    },
  ];
}
