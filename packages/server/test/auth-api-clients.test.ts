// API clients: hashed secrets, the client-credentials token endpoint and bearer verification.
import { describe, expect, it } from 'vitest';
import {
  type AccessTokenRecord,
  type ApiClientRecord,
  type ApiClientStore,
  createApiClient,
  issueAccessToken,
  rotateClientSecret,
  verifyAccessToken,
} from '../src/auth/api-clients.ts';
import { authorize } from '../src/auth/authorize.ts';

function memoryStore(clients: ApiClientRecord[]): ApiClientStore & {
  readonly clients: Map<string, ApiClientRecord>;
  readonly tokens: Map<string, AccessTokenRecord>;
} {
  const byId = new Map(clients.map((c) => [c.clientId, c]));
  const tokens = new Map<string, AccessTokenRecord>();
  return {
    clients: byId,
    tokens,
    getApiClient: async (id) => byId.get(id),
    putAccessToken: async (record) => void tokens.set(record.id, record),
    getAccessToken: async (id) => tokens.get(id),
  };
}

const now = Date.UTC(2025, 2, 1, 12, 0, 0);

function siem() {
  return createApiClient({
    name: 'SIEM connector',
    scopes: ['Incident.Read.All', 'Alert.Read.All', 'AdvancedHunting.Read.All', 'Alert.Read.All'],
    createdBy: 'admin-1',
    now,
  });
}

describe('client registration', () => {
  it('stores a digest of the secret, never the secret, and deduplicates scopes', () => {
    const { client, secret } = siem();
    expect(secret).toMatch(/^plc_[A-Za-z0-9_-]{43}$/);
    expect(client.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(client)).not.toContain(secret.slice(4));
    expect(client.scopes).toEqual(['Alert.Read.All', 'AdvancedHunting.Read.All', 'Incident.Read.All']);
    expect(client.secretExpiresAt).toBe(now + 365 * 86_400_000);
    expect(
      createApiClient({ name: 'x', scopes: [], createdBy: 'a', now, secretLifetimeMs: null }).client
        .secretExpiresAt,
    ).toBeUndefined();
  });
});

describe('token endpoint', () => {
  it('issues a one-hour opaque bearer token for client_secret_post, answering as MDE does', async () => {
    const { client, secret } = siem();
    const store = memoryStore([client]);
    const form = {
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: secret,
      scope: 'https://api.securitycenter.microsoft.com/.default',
    };
    const result = await issueAccessToken(store, { form }, now);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.response).toEqual({
      token_type: 'Bearer',
      expires_in: 3599,
      access_token: expect.stringMatching(/^plt_[A-Za-z0-9_-]{43}$/),
      scope: 'Alert.Read.All AdvancedHunting.Read.All Incident.Read.All',
    });
    expect(result.record).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{64}$/),
      clientId: client.clientId,
      scopes: client.scopes,
      issuedAt: now,
      expiresAt: now + 3_600_000,
    });
    expect([...store.tokens.values()]).toEqual([result.record]);
    expect(JSON.stringify([...store.tokens.values()])).not.toContain(result.response.access_token.slice(4));
  });

  it('accepts client_secret_basic with form-encoded credentials', async () => {
    const { client, secret } = siem();
    const basic = Buffer.from(
      `${encodeURIComponent(client.clientId)}:${encodeURIComponent(secret)}`,
    ).toString('base64');
    const result = await issueAccessToken(
      memoryStore([client]),
      { form: { grant_type: 'client_credentials' }, authorization: `Basic ${basic}` },
      now,
    );
    expect(result.ok).toBe(true);
  });

  it('narrows to requested scopes and refuses scopes the client was not granted', async () => {
    const { client, secret } = siem();
    const store = memoryStore([client]);
    const base = { grant_type: 'client_credentials', client_id: client.clientId, client_secret: secret };
    const narrowed = await issueAccessToken(store, { form: { ...base, scope: 'Alert.Read.All' } }, now);
    expect(narrowed.ok && narrowed.record.scopes).toEqual(['Alert.Read.All']);
    const refused = await issueAccessToken(
      store,
      { form: { ...base, scope: 'Alert.Read.All Machine.Isolate' } },
      now,
    );
    expect(refused).toEqual({
      ok: false,
      status: 400,
      error: 'invalid_scope',
      error_description: 'scope Machine.Isolate is not granted to this client',
      clientId: client.clientId,
    });
  });

  it('answers invalid_client alike for an unknown id, a wrong secret, a disabled client and an expired secret', async () => {
    const { client, secret } = siem();
    const disabled = { ...siem().client, disabled: true };
    const expired = { ...siem().client, secretExpiresAt: now };
    const store = memoryStore([client, disabled, expired]);
    const attempt = (id: string, s: string) =>
      issueAccessToken(
        store,
        { form: { grant_type: 'client_credentials', client_id: id, client_secret: s } },
        now,
      );
    const answers = [
      await attempt('00000000-0000-0000-0000-000000000000', secret),
      await attempt(client.clientId, `plc_${'x'.repeat(43)}`),
      await attempt(client.clientId, 'not-even-a-secret'),
      await attempt(disabled.clientId, secret),
      await attempt(expired.clientId, secret),
    ];
    for (const answer of answers) {
      expect(answer).toMatchObject({
        ok: false,
        status: 401,
        error: 'invalid_client',
        error_description: 'client authentication failed',
      });
    }
    expect(store.tokens.size).toBe(0);
  });

  it('refuses other grant types, missing grant types, missing or doubled credentials', async () => {
    const { client, secret } = siem();
    const store = memoryStore([client]);
    expect(await issueAccessToken(store, { form: { grant_type: 'password' } }, now)).toMatchObject({
      status: 400,
      error: 'unsupported_grant_type',
    });
    expect(await issueAccessToken(store, { form: {} }, now)).toMatchObject({
      status: 400,
      error: 'invalid_request',
    });
    expect(await issueAccessToken(store, { form: { grant_type: 'client_credentials' } }, now)).toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
    const basic = Buffer.from(`${client.clientId}:${secret}`).toString('base64');
    expect(
      await issueAccessToken(
        store,
        {
          form: { grant_type: 'client_credentials', client_secret: secret },
          authorization: `Basic ${basic}`,
        },
        now,
      ),
    ).toMatchObject({ status: 400, error: 'invalid_request' });
  });

  it('stops accepting the old secret after rotation', async () => {
    const { client, secret } = siem();
    const rotated = rotateClientSecret(client, now + 1000);
    const store = memoryStore([rotated.client]);
    const form = (s: string) => ({
      form: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: s },
    });
    expect((await issueAccessToken(store, form(secret), now + 2000)).ok).toBe(false);
    expect((await issueAccessToken(store, form(rotated.secret), now + 2000)).ok).toBe(true);
  });
});

describe('bearer verification', () => {
  async function issued() {
    const { client, secret } = siem();
    const store = memoryStore([client]);
    const result = await issueAccessToken(
      store,
      { form: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: secret } },
      now,
    );
    if (!result.ok) throw new Error('expected a token');
    return { client, store, header: `Bearer ${result.response.access_token}` };
  }

  it('gives the API-client principal with the token scopes, which authorize accepts', async () => {
    const { client, store, header } = await issued();
    const verified = await verifyAccessToken(store, header, now + 60_000);
    expect(verified).toMatchObject({
      ok: true,
      principal: {
        kind: 'api-client',
        clientId: client.clientId,
        name: 'SIEM connector',
        scopes: client.scopes,
      },
    });
    if (!verified.ok) return;
    expect(authorize(verified.principal, 'incidents.read')).toEqual({ allow: true });
    expect(authorize(verified.principal, 'hunting.run')).toEqual({ allow: true });
    expect(authorize(verified.principal, 'alerts.write')).toMatchObject({ allow: false, status: 403 });
    expect(authorize(verified.principal, 'users.manage')).toMatchObject({ allow: false, status: 403 });
  });

  it('refuses missing, malformed, unknown and expired tokens', async () => {
    const { store, header } = await issued();
    expect(await verifyAccessToken(store, undefined, now)).toMatchObject({ ok: false, error: 'missing' });
    expect(await verifyAccessToken(store, 'Basic abc', now)).toMatchObject({ ok: false, error: 'missing' });
    expect(await verifyAccessToken(store, 'Bearer eyJhbGciOi.x.y', now)).toMatchObject({
      ok: false,
      error: 'invalid_token',
    });
    expect(await verifyAccessToken(store, `Bearer plt_${'q'.repeat(43)}`, now)).toMatchObject({
      ok: false,
      error: 'invalid_token',
      description: 'unknown token',
    });
    expect(await verifyAccessToken(store, header.replace('Bearer', 'bearer'), now)).toMatchObject({
      ok: true,
    });
    expect(await verifyAccessToken(store, header, now + 3_600_000)).toMatchObject({
      ok: false,
      description: 'the token has expired',
    });
  });

  it('applies a disabled client or a revoked scope at once, before the token expires', async () => {
    const { client, store, header } = await issued();
    store.clients.set(client.clientId, { ...client, scopes: ['Alert.Read.All'] });
    const narrowed = await verifyAccessToken(store, header, now + 1000);
    expect(narrowed.ok && narrowed.principal.scopes).toEqual(['Alert.Read.All']);
    store.clients.set(client.clientId, { ...client, disabled: true });
    expect(await verifyAccessToken(store, header, now + 1000)).toMatchObject({
      ok: false,
      error: 'invalid_token',
    });
    store.clients.delete(client.clientId);
    expect(await verifyAccessToken(store, header, now + 1000)).toMatchObject({
      ok: false,
      error: 'invalid_token',
    });
  });
});
