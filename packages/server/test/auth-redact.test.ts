// Redaction: a corpus of realistic log lines and objects carrying every kind of secret the
// server handles; none may survive, and the non-secret facts around them must.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApiClient } from '../src/auth/api-clients.ts';
import { hashPassword } from '../src/auth/passwords.ts';
import { isSensitiveKey, redact, redactedMarker, redactText } from '../src/auth/redact.ts';
import { newSecret, type SecretKind } from '../src/auth/secret-tokens.ts';
import { createSession, csrfTokenFor, serializeSessionCookie } from '../src/auth/sessions.ts';
import { generateTotpSecret, otpauthUri } from '../src/auth/totp.ts';
import { generateAccessKey } from '../src/pki/access-key.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const hex = (n: number) => randomBytes(n).toString('hex');
// ASN.1 shapes of real Kerberos messages: KRB-CRED (.kirbi, [APPLICATION 22]) and a SPNEGO
// InitialContextToken wrapping an AP-REQ, with random bodies.
const kirbi = b64(
  Buffer.concat([Buffer.from([0x76, 0x82, 0x05, 0x40, 0x30, 0x82, 0x05, 0x3c]), randomBytes(1340)]),
);
const spnego = b64(
  Buffer.concat([Buffer.from([0x60, 0x82, 0x07, 0x58, 0x06, 0x06, 0x2b, 0x06]), randomBytes(600)]),
);
const ntlmAuthenticate = b64(Buffer.concat([Buffer.from('NTLMSSP\0\x03\0\0\0', 'latin1'), randomBytes(300)]));

async function corpus() {
  const session = createSession({ userId: 'u-17', now: Date.now(), mfa: true });
  const api = createApiClient({
    name: 'Sentinel',
    scopes: ['Alert.Read.All'],
    createdBy: 'admin',
    now: Date.now(),
  });
  const accessToken = newSecret('accessToken');
  const accessKey = generateAccessKey().key;
  const csrf = csrfTokenFor(session.token);
  const totpSecret = generateTotpSecret();
  const passwordHash = await hashPassword('correct horse battery staple');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const jwt = `eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.${Buffer.from(JSON.stringify({ roles: ['Alert.Read.All'], sub: hex(8) })).toString('base64url')}.${randomBytes(64).toString('base64url')}`;
  const ntHash = hex(16);
  const lmHash = hex(16);
  const aesKey = hex(32);
  const netNtlmV2 = `${hex(8)}:${hex(16)}:${hex(60)}`;
  const tgsChecksum = hex(16);
  const tgsCipher = hex(300);
  const asrepCipher = hex(200);
  const krb5tgs = `$krb5tgs$23$*svc_sql$CONTOSO.LOCAL$MSSQLSvc/sql01.contoso.local:1433*$${tgsChecksum}$${tgsCipher}`;
  const krb5asrep = `$krb5asrep$23$nopreauth@CONTOSO.LOCAL:${hex(16)}$${asrepCipher}`;
  const sasSig = randomBytes(32).toString('base64url');
  const dsaPassword = 'Gx7!vQ2#mZ9$wL4pRt';
  const userPassword = 'Winter2025!Palisade';
  const passphrase = 'purple elephants dance at midnight';
  const basic = b64(Buffer.from(`${api.client.clientId}:${api.secret}`));

  const secrets = [
    session.token,
    api.secret,
    accessToken,
    accessKey,
    csrf,
    totpSecret,
    passwordHash,
    jwt,
    ntHash,
    lmHash,
    aesKey,
    netNtlmV2,
    tgsChecksum,
    tgsCipher,
    asrepCipher,
    '492039',
    sasSig,
    dsaPassword,
    userPassword,
    'elephants dance',
    'at midnight',
    basic,
    kirbi,
    spnego,
    ntlmAuthenticate,
    pem.split('\n')[1] ?? '',
  ];

  const lines = [
    `POST /api/auth/login from 10.1.2.3 body={"userName":"alice","password":"${userPassword}"}`,
    `login body (escaped): "{\\"userName\\":\\"alice\\",\\"password\\":\\"${userPassword}\\"}"`,
    `incoming request headers: Cookie: theme=dark; ${serializeSessionCookie(session.token).split(';')[0]}`,
    `Set-Cookie: ${serializeSessionCookie(session.token)}`,
    `PATCH /api/alerts/da637472900382838869_1364969609 x-csrf-token: ${csrf} assignedTo: alice@contoso.com`,
    `GET /api/machines Authorization: Bearer ${accessToken}`,
    `token endpoint: grant_type=client_credentials&client_id=${api.client.clientId}&client_secret=${api.secret}&scope=.default`,
    `token endpoint Authorization: Basic ${basic}`,
    `issued {"token_type":"Bearer","expires_in":3599,"access_token":"${accessToken}"}`,
    `sensor dc01 registered with access key ${accessKey}`,
    `upstream token ${jwt} accepted for tenant`,
    `TOTP enrolment uri ${otpauthUri({ secret: totpSecret, accountName: 'alice', issuer: 'Palisade' })}`,
    `user row: {"id":"u-17","passwordHash":"${passwordHash}"}`,
    `hash check against ${passwordHash} failed`,
    `directory account ldaps://svc-palisade:${encodeURIComponent(dsaPassword)}@dc01.contoso.local:636 bind ok`,
    `directory account password=${dsaPassword} saved`,
    `bind as svc-palisade with password: ${passphrase}`,
    `smb auth: Authorization: Negotiate ${spnego}`,
    `http auth: WWW-Authenticate: NTLM ${ntlmAuthenticate}`,
    `captured ticket ${kirbi} from 10.0.0.9 for user bob`,
    `dumped: Administrator:500:${lmHash}:${ntHash}:::`,
    `NTLM hash: ${ntHash} reused on 3 hosts`,
    `keys: rc4_hmac ${ntHash} aes256_cts_hmac_sha1_96 ${aesKey}`,
    `responder: bob::CONTOSO:${netNtlmV2}`,
    `kerberoast hash ${krb5tgs}`,
    `asrep ${krb5asrep}`,
    `package uri https://palisadestore.blob.core.windows.net/pkg/7f.zip?sv=2021-08-06&se=2025-01-01&sig=${sasSig}`,
    `server key loaded:\n${pem}`,
  ];

  const objects: unknown[] = [
    { msg: 'login', user: 'alice', password: userPassword, passwordExpired: false, sourceIp: '10.1.2.3' },
    {
      req: {
        method: 'GET',
        url: '/api/alerts',
        headers: {
          authorization: `Bearer ${accessToken}`,
          cookie: `x=1; __Host-palisade-session=${session.token}`,
          'x-csrf-token': csrf,
        },
      },
    },
    {
      req: {
        rawHeaders: [
          'Host',
          'palisade.contoso.local',
          'Authorization',
          `Basic ${basic}`,
          'Cookie',
          `s=${session.token}`,
        ],
      },
    },
    { res: { headers: { 'set-cookie': [serializeSessionCookie(session.token)] } } },
    {
      client: {
        clientId: api.client.clientId,
        client_secret: api.secret,
        secretDigest: api.client.secretDigest,
      },
    },
    { sensor: { id: 's-1', accessKey, csr: '-----BEGIN CERTIFICATE REQUEST-----...' } },
    {
      directory: {
        account: 'svc-palisade',
        domain: 'CONTOSO',
        password: dsaPassword,
        managedPassword: b64(randomBytes(256)),
      },
    },
    { mfa: { secret: totpSecret, totpCode: '492039', lastUsedStep: 57_000_000 } },
    {
      kerberos: {
        ticket: b64(randomBytes(900)),
        apReq: randomBytes(400),
        etype: 23,
        sname: 'krbtgt/CONTOSO.LOCAL',
      },
    },
    { ntlm: { ntResponse: hex(24), lmResponse: hex(24), user: 'bob', domain: 'CONTOSO' } },
    new Error(`token endpoint failed for ${api.client.clientId} with secret ${api.secret}`, {
      cause: { authorization: `Bearer ${accessToken}` },
    }),
    new Map([['sessionToken', session.token]]),
    [`Bearer ${jwt}`, { nested: { deeper: { credential: { pin: 1234, key: aesKey } } } }],
  ];
  return { secrets, lines, objects, clientId: api.client.clientId };
}

function leaks(output: string, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    const window = 12;
    if (secret.length <= window) {
      if (output.includes(secret)) found.push(secret);
      continue;
    }
    for (let i = 0; i + window <= secret.length; i++) {
      if (output.includes(secret.slice(i, i + window))) {
        found.push(`${secret.slice(0, 24)}… (at ${i})`);
        break;
      }
    }
  }
  return found;
}

describe('redaction corpus', () => {
  it('leaves no secret, or any 12-character piece of one, in log lines', async () => {
    const { secrets, lines } = await corpus();
    for (const line of lines) expect(leaks(redactText(line), secrets), line.slice(0, 80)).toEqual([]);
  });

  it('leaves no secret in log objects', async () => {
    const { secrets, objects } = await corpus();
    for (const object of objects) {
      const output = JSON.stringify(redact(object));
      expect(leaks(output, secrets), output.slice(0, 120)).toEqual([]);
    }
  });

  it('keeps the facts around the secrets', async () => {
    const { lines, objects, clientId } = await corpus();
    const text = lines.map(redactText).join('\n') + JSON.stringify(objects.map(redact));
    for (const fact of [
      'alice',
      '10.1.2.3',
      'dc01.contoso.local',
      'da637472900382838869_1364969609',
      'alice@contoso.com',
      'Administrator:500:',
      'bob::CONTOSO:',
      clientId,
      'svc-palisade',
      'krbtgt/CONTOSO.LOCAL',
      'passwordExpired":false',
      'lastUsedStep":57000000',
    ]) {
      expect(text, fact).toContain(fact);
    }
  });
});

describe('redactText', () => {
  it('replaces just the secret and keeps the sentence', () => {
    expect(redactText('GET /api/alerts Authorization: Bearer plt_abc')).toBe(
      `GET /api/alerts Authorization: ${redactedMarker} ${redactedMarker}`,
    );
    expect(redactText('password=hunter2hunter2&user=alice')).toBe(`password=${redactedMarker}&user=alice`);
    expect(redactText('{"client_secret":"abc","scope":".default"}')).toBe(
      `{"client_secret":"${redactedMarker}","scope":".default"}`,
    );
    expect(redactText(`password=${redactedMarker}`)).toBe(`password=${redactedMarker}`);
    // Quotes and backslashes inside a JSON string value do not end the match early.
    const json = JSON.stringify({ password: 'a"quote\\back"slash tail', user: 'alice' });
    expect(redactText(json)).toBe(`{"password":"${redactedMarker}","user":"alice"}`);
    expect(redactText(JSON.stringify(json))).toBe(
      JSON.stringify(`{"password":"${redactedMarker}","user":"alice"}`),
    );
  });

  it('leaves ordinary security telemetry alone', () => {
    const keep = [
      'NTLM authentication failed for CONTOSO\\bob from 10.0.0.9',
      'Kerberos pre-authentication failed (0x18) for bob',
      'file sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 quarantined',
      'file md5 098f6bcd4621d373cade4e832627b4f6 seen on 3 devices',
      'SID S-1-5-21-3623811015-3361044348-30300820-1013 added to Domain Admins',
      'device 7f3c2a10-5b4e-4c1d-9a8b-0e6f1d2c3b4a isolated by alice@contoso.com',
      'GET /api/machines?$filter=healthStatus+ne+%27Active%27&$top=100 200 12ms',
      'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -NoProfile',
      'alert 2019 "Remote code execution attempt" severity High',
      'session started for alice (mfa)',
      'TGS for cifs/fs01: TicketEncryptionType: 0x17 TicketOptions: 0x40810000',
    ];
    for (const line of keep) expect(redactText(line)).toBe(line);
  });
});

describe('redact', () => {
  it('masks by key name whatever the spelling, but keeps flags and empty values', () => {
    expect(
      redact({
        Password: 'x',
        client_secret: 'y',
        'X-Api-Key': 'z',
        pin: 1234,
        passwordExpired: true,
        token: null,
      }),
    ).toEqual({
      Password: redactedMarker,
      client_secret: redactedMarker,
      'X-Api-Key': redactedMarker,
      pin: redactedMarker,
      passwordExpired: true,
      token: null,
    });
    expect(
      ['registryKey', 'keyboard', 'assignedTo', 'TicketEncryptionType', 'PwdLastSet'].map(isSensitiveKey),
    ).toEqual([false, false, false, false, false]);
    expect(['accessKey', 'NTHash', 'kerberos_ticket', 'otp', 'sessionId'].map(isSensitiveKey)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it('survives cycles, depth and binary data', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    expect(redact(loop)).toEqual({ name: 'loop', self: '[Circular]' });
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 40; i++) deep = { child: deep };
    expect(JSON.stringify(redact(deep))).toContain('[Depth]');
    expect(redact({ packet: Buffer.from('abc') })).toEqual({ packet: '[binary 3 bytes]' });
    const shared = { a: 1 };
    expect(redact({ x: shared, y: shared })).toEqual({ x: { a: 1 }, y: { a: 1 } });
  });

  it('redacts error messages, stacks and causes', () => {
    const error = new Error('bind failed: password=Sup3r-Secret-Pass', {
      cause: new Error(`Bearer ${newSecret('accessToken')}`),
    });
    const out = JSON.stringify(redact(error));
    expect(out).not.toContain('Sup3r-Secret-Pass');
    expect(out).not.toMatch(/plt_[A-Za-z0-9_-]{43}/);
    expect(out).toContain('bind failed');
  });
});

describe('redaction properties', () => {
  const secretValue = fc.oneof(
    fc.constantFrom('session', 'clientSecret', 'accessToken').map((k) => newSecret(k as SecretKind)),
    fc.constant('sensor access key').map(() => generateAccessKey().key),
    fc
      .uint8Array({ minLength: 32, maxLength: 400 })
      .map((bytes) => b64(Buffer.concat([Buffer.from('A1b'), bytes]))),
  );
  const filler = fc.string({ unit: fc.constantFrom(...'abcdefghij ,;:=/-_.'.split('')), maxLength: 30 });

  it('masks any Palisade secret or binary blob wherever it sits in text', () => {
    fc.assert(
      fc.property(filler, secretValue, filler, (before, secret, after) => {
        expect(leaks(redactText(`${before} ${secret} ${after}`), [secret])).toEqual([]);
      }),
    );
  });

  it('masks any value under a sensitive key, at any depth', () => {
    const key = fc.constantFrom(
      'password',
      'clientSecret',
      'accessToken',
      'Cookie',
      'x-api-key',
      'ntHash',
      'ticket',
      'pin',
    );
    fc.assert(
      fc.property(key, fc.string({ minLength: 1 }), fc.nat({ max: 5 }), (k, value, depth) => {
        let object: unknown = { [k]: value, note: 'kept' };
        for (let i = 0; i < depth; i++) object = { level: i, inner: [object] };
        const output = JSON.stringify(redact(object));
        expect(output).toContain('kept');
        expect(output).toContain(`"${k}":"${redactedMarker}"`);
      }),
    );
  });
});
