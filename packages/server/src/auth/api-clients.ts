// API clients, the counterpart of an Entra app registration for the MDE API (defender-reference
// §4.1): an id and a secret (stored as a digest) with granted MDE permission scopes; the OAuth 2.0
// client-credentials grant (RFC 6749 §4.4) exchanges them for an opaque bearer token that lasts
// one hour and carries a subset of the client's scopes.

import { randomUUID } from 'node:crypto';
import type { ApiClientPrincipal } from './authorize.ts';
import { type ApiScope, apiScopes, isApiScope } from './permissions.ts';
import { constantTimeEqual, digestSecret, isSecretOfKind, newSecret } from './secret-tokens.ts';

export interface ApiClientRecord {
  /** A UUID, like an application (client) id. */
  readonly clientId: string;
  readonly name: string;
  /** `digestSecret(secret)`; the secret itself is shown once at creation and never stored. */
  readonly secretDigest: string;
  readonly secretExpiresAt?: number | undefined;
  /** The granted application permissions ("admin consent" in Entra terms). */
  readonly scopes: readonly ApiScope[];
  readonly createdAt: number;
  /** User id of the administrator who created it (audit). */
  readonly createdBy: string;
  readonly disabled: boolean;
}

export interface AccessTokenRecord {
  /** `digestSecret(token)`; the store's key. */
  readonly id: string;
  readonly clientId: string;
  readonly scopes: readonly ApiScope[];
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** The persistence API clients need; the state store provides it. */
export interface ApiClientStore {
  getApiClient(clientId: string): Promise<ApiClientRecord | undefined> | ApiClientRecord | undefined;
  putAccessToken(record: AccessTokenRecord): Promise<void> | void;
  getAccessToken(id: string): Promise<AccessTokenRecord | undefined> | AccessTokenRecord | undefined;
}

/** Tokens last one hour, as MDE's (§4.1). */
export const accessTokenLifetimeMs = 3_600_000;
/** Client secrets expire after a year unless the administrator picks otherwise (Entra allows up to two). */
export const defaultSecretLifetimeMs = 365 * 86_400_000;

export interface NewApiClient {
  readonly client: ApiClientRecord;
  /** Shown to the administrator once. */
  readonly secret: string;
}

export interface ApiClientInput {
  readonly name: string;
  readonly scopes: readonly ApiScope[];
  readonly createdBy: string;
  readonly now: number;
  /** `null` for a secret that never expires. */
  readonly secretLifetimeMs?: number | null;
}

function secretExpiry(now: number, lifetime: number | null | undefined): number | undefined {
  if (lifetime === null) return undefined;
  return now + (lifetime ?? defaultSecretLifetimeMs);
}

/** Registers a client: a new id and secret with the given scopes (deduplicated, catalogue order). */
export function createApiClient(input: ApiClientInput): NewApiClient {
  const secret = newSecret('clientSecret');
  const client: ApiClientRecord = {
    clientId: randomUUID(),
    name: input.name,
    secretDigest: digestSecret(secret),
    secretExpiresAt: secretExpiry(input.now, input.secretLifetimeMs),
    scopes: apiScopes.filter((s) => input.scopes.includes(s)),
    createdAt: input.now,
    createdBy: input.createdBy,
    disabled: false,
  };
  return { client, secret };
}

/** Replaces a client's secret; the old one stops working at once (tokens already issued run out). */
export function rotateClientSecret(
  client: ApiClientRecord,
  now: number,
  secretLifetimeMs?: number | null,
): NewApiClient {
  const secret = newSecret('clientSecret');
  return {
    client: {
      ...client,
      secretDigest: digestSecret(secret),
      secretExpiresAt: secretExpiry(now, secretLifetimeMs),
    },
    secret,
  };
}

/** The token request as received: form fields (application/x-www-form-urlencoded) and the Authorization header. */
export interface TokenRequest {
  readonly form: Readonly<Record<string, string | undefined>>;
  readonly authorization?: string | undefined;
}

/** RFC 6749 §5.1 successful response, the shape MDE clients read (§4.1). */
export interface TokenResponse {
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly access_token: string;
  readonly scope: string;
}

/** RFC 6749 §5.2 error codes. */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_scope';

export type TokenResult =
  | { readonly ok: true; readonly response: TokenResponse; readonly record: AccessTokenRecord }
  | {
      readonly ok: false;
      /** 401 for client authentication failures (with `WWW-Authenticate` when Basic was used), else 400. */
      readonly status: 400 | 401;
      readonly error: TokenErrorCode;
      readonly error_description: string;
      /** For the audit log; absent when the request named no client. */
      readonly clientId?: string;
    };

function fail(
  status: 400 | 401,
  error: TokenErrorCode,
  description: string,
  clientId?: string,
): Extract<TokenResult, { ok: false }> {
  return clientId === undefined
    ? { ok: false, status, error, error_description: description }
    : { ok: false, status, error, error_description: description, clientId };
}

/** Client credentials from HTTP Basic (RFC 6749 §2.3.1: form-encoded id and secret) or the form body. */
function readCredentials(
  request: TokenRequest,
): { id: string; secret: string } | Extract<TokenResult, { ok: false }> | undefined {
  const header = request.authorization?.trim();
  const formId = request.form.client_id;
  const formSecret = request.form.client_secret;
  if (header !== undefined && /^basic\s+/i.test(header)) {
    // §2.3: a client must not use more than one authentication method in a request.
    if (formSecret !== undefined) return fail(400, 'invalid_request', 'client credentials given twice');
    const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return fail(401, 'invalid_client', 'malformed Basic credentials');
    try {
      const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
    } catch {
      return fail(401, 'invalid_client', 'malformed Basic credentials');
    }
  }
  if (formId === undefined && formSecret === undefined) return undefined;
  return { id: formId ?? '', secret: formSecret ?? '' };
}

/**
 * Requested scopes: absent, or any `…/.default` (the MDE form, e.g.
 * `https://api.securitycenter.microsoft.com/.default`), means every granted scope; otherwise a
 * space-separated list (RFC 6749 §3.3) of scope names, optionally prefixed by a resource URL.
 */
function requestedScopes(scope: string | undefined, granted: readonly ApiScope[]): ApiScope[] | string {
  const items = (scope ?? '').split(' ').filter((s) => s !== '');
  if (items.length === 0 || items.some((s) => s === '.default' || s.endsWith('/.default')))
    return [...granted];
  const out: ApiScope[] = [];
  for (const item of items) {
    const name = item.slice(item.lastIndexOf('/') + 1);
    if (!isApiScope(name) || !granted.includes(name)) return item;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

const dummyDigest = digestSecret(newSecret('clientSecret'));

/**
 * The token endpoint's logic for `grant_type=client_credentials`. Store the returned record with
 * `putAccessToken` before answering. Unknown clients cost the same as known ones.
 */
export async function issueAccessToken(
  store: ApiClientStore,
  request: TokenRequest,
  now: number,
): Promise<TokenResult> {
  const grantType = request.form.grant_type;
  if (grantType === undefined) return fail(400, 'invalid_request', 'grant_type is required');
  if (grantType !== 'client_credentials') {
    return fail(400, 'unsupported_grant_type', `only client_credentials is supported, found ${grantType}`);
  }
  const credentials = readCredentials(request);
  if (credentials === undefined) return fail(401, 'invalid_client', 'client authentication is required');
  if ('ok' in credentials) return credentials;
  const client = credentials.id === '' ? undefined : await store.getApiClient(credentials.id);
  const secretMatches = constantTimeEqual(
    client?.secretDigest ?? dummyDigest,
    isSecretOfKind(credentials.secret, 'clientSecret') ? digestSecret(credentials.secret) : '',
  );
  // One answer for unknown client, wrong secret, disabled client and expired secret: the caller
  // learns nothing about which ids exist. The audit log gets the client id.
  if (
    client === undefined ||
    !secretMatches ||
    client.disabled ||
    (client.secretExpiresAt !== undefined && now >= client.secretExpiresAt)
  ) {
    return fail(401, 'invalid_client', 'client authentication failed', client?.clientId);
  }
  const scopes = requestedScopes(request.form.scope, client.scopes);
  if (typeof scopes === 'string') {
    return fail(400, 'invalid_scope', `scope ${scopes} is not granted to this client`, client.clientId);
  }
  const token = newSecret('accessToken');
  const record: AccessTokenRecord = {
    id: digestSecret(token),
    clientId: client.clientId,
    scopes,
    issuedAt: now,
    expiresAt: now + accessTokenLifetimeMs,
  };
  await store.putAccessToken(record);
  // One second short of the lifetime, as MDE answers (3599): a client that renews on time
  // never presents an expired token.
  const expiresIn = Math.floor(accessTokenLifetimeMs / 1000) - 1;
  return {
    ok: true,
    response: { token_type: 'Bearer', expires_in: expiresIn, access_token: token, scope: scopes.join(' ') },
    record,
  };
}

export type BearerVerification =
  | { readonly ok: true; readonly principal: ApiClientPrincipal; readonly token: AccessTokenRecord }
  | {
      readonly ok: false;
      /** RFC 6750 §3.1: no token at all gets no error code, a bad one `invalid_token`. */
      readonly error: 'missing' | 'invalid_token';
      readonly description: string;
    };

/** The bearer token of an `Authorization` header (RFC 6750 §2.1), if any. */
export function bearerTokenOf(authorization: string | undefined): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization?.trim() ?? '');
  return match?.[1];
}

/**
 * Verifies a bearer token and gives the API-client principal. The client is read again, so a
 * disabled or deleted client, or a revoked scope, takes effect before its tokens expire.
 */
export async function verifyAccessToken(
  store: ApiClientStore,
  authorization: string | undefined,
  now: number,
): Promise<BearerVerification> {
  const token = bearerTokenOf(authorization);
  if (token === undefined) return { ok: false, error: 'missing', description: 'a bearer token is required' };
  if (!isSecretOfKind(token, 'accessToken')) {
    return { ok: false, error: 'invalid_token', description: 'the token is not a Palisade access token' };
  }
  const record = await store.getAccessToken(digestSecret(token));
  if (record === undefined) return { ok: false, error: 'invalid_token', description: 'unknown token' };
  if (now >= record.expiresAt)
    return { ok: false, error: 'invalid_token', description: 'the token has expired' };
  const client = await store.getApiClient(record.clientId);
  if (client === undefined || client.disabled) {
    return { ok: false, error: 'invalid_token', description: 'the client is disabled or deleted' };
  }
  const scopes = record.scopes.filter((s) => client.scopes.includes(s));
  return {
    ok: true,
    principal: { kind: 'api-client', clientId: client.clientId, name: client.name, scopes },
    token: record,
  };
}
