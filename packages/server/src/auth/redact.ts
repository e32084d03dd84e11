// Log redaction: masks secrets in anything about to be logged — by key name in objects (password,
// token, cookie, ticket…) and by value pattern in every string (bearer tokens, Palisade secrets,
// JWTs, Kerberos hashes and tickets, NTLM hashes and responses, long base64 blobs, private keys,
// passwords in URLs). The server's pino logger runs every argument through `redact`.

export const redactedMarker = '[REDACTED]';

// Key names are compared lower-case with separators removed: `client_secret`, `Client-Secret`
// and `clientSecret` are all `clientsecret`.
const sensitiveKeyParts = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'signingkey',
  'sessionkey',
  'encryptionkey',
  'cookie',
  'authorization',
  'csrf',
  'xsrf',
  'ticket',
  'credential',
  'connectionstring',
  'ntlm',
  'nthash',
  'lmhash',
  'ntresponse',
  'lmresponse',
  'ntproof',
  'krbcred',
  'kirbi',
  'apreq',
  'asrep',
  'tgsrep',
  'authenticator',
  'encpart',
  'cipher',
  'totp',
  'otpauth',
  'sessionid',
];
// Short names that are secrets only as a whole key (`pin`, not `pinned`; `key`, not `registryKey`).
const sensitiveKeys = new Set([
  'pwd',
  'pass',
  'pin',
  'otp',
  'key',
  'tgt',
  'tgs',
  'pem',
  'seed',
  'session',
  'sig',
]);

// Windows event fields and protocol attributes that sound secret but are the telemetry an
// analyst needs (an RC4 ticket is what a downgrade detection is about).
const telemetryKeys = new Set([
  'ticketencryptiontype',
  'ticketoptions',
  'tokenelevationtype',
  'tokentype',
  'sessionname',
  'pwdlastset',
  'passwordlastset',
]);

function normaliseKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Whether values under this key are secret. */
export function isSensitiveKey(key: string): boolean {
  const normal = normaliseKey(key);
  if (telemetryKeys.has(normal)) return false;
  return sensitiveKeys.has(normal) || sensitiveKeyParts.some((part) => normal.includes(part));
}

const keyWords =
  'password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|csrf|xsrf|cookie|session|ticket|credential|authorization|otp';

// Base64 / base64url runs long enough to be binary data; masked only when they mix upper case,
// lower case and digits, so hex hashes, GUIDs, paths and identifiers stay readable.
const blob = /[A-Za-z0-9+/_-]{40,}={0,2}/g;
const isBlob = (s: string) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s);

/** Text rules, applied in order. Each replaces only the secret part. */
const textRules: readonly {
  readonly pattern: RegExp;
  readonly replace: (match: string, ...groups: string[]) => string;
}[] = [
  // PEM private keys (PKCS#1, PKCS#8, encrypted, EC, OpenSSH).
  {
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    replace: () => `-----BEGIN PRIVATE KEY-----${redactedMarker}-----END PRIVATE KEY-----`,
  },
  // Authorization schemes whose credential is always secret.
  {
    pattern: /\b(Bearer|Basic)(\s+)[^\s"',;]+/gi,
    replace: (_m, scheme, space) => `${scheme}${space}${redactedMarker}`,
  },
  // SPNEGO / NTLM / Kerberos tokens (base64) — but not prose like "NTLM authentication failed".
  {
    pattern: /\b(Negotiate|NTLM|Kerberos)(\s+)([A-Za-z0-9+/]{12,}={0,2})/gi,
    replace: (m, scheme, space, token) =>
      /[0-9+/=]/.test(token) || token.length >= 24 ? `${scheme}${space}${redactedMarker}` : m,
  },
  // Palisade secrets: session tokens, client secrets, access tokens (`secret-tokens.ts`) and
  // the sensor access key (`pak_`, `pki/access-key.ts`).
  { pattern: /\b(?:pl[cst]|pak)_[A-Za-z0-9_-]{43}/g, replace: () => redactedMarker },
  // JSON Web Tokens.
  { pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, replace: () => redactedMarker },
  // Password in a URL: scheme://user:password@host.
  {
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+@/gi,
    replace: (_m, head) => `${head}${redactedMarker}@`,
  },
  // Secret query parameters of signed URLs and OAuth redirects (SAS `sig`, `code`, `key`).
  {
    pattern: /([?&](?:sig|code|key|access_token|id_token|refresh_token)=)[^&\s"'#]+/gi,
    replace: (_m, head) => `${head}${redactedMarker}`,
  },
  // An unquoted password in free text may be a passphrase with spaces: mask to the end of the
  // line (or of the query parameter), not just to the first space.
  {
    pattern:
      /\b([A-Za-z0-9_.-]*(?:password|passwd|passphrase)[A-Za-z0-9_.-]*)(\s*[=:][ \t]*)(?!["'\\[])([^&\r\n]+)/gi,
    replace: (m, key, separator) =>
      telemetryKeys.has(normaliseKey(key)) ? m : `${key}${separator}${redactedMarker}`,
  },
  // key=value and key: value pairs with a secret-sounding key, also inside (escaped) JSON text.
  {
    pattern: new RegExp(
      // value: a JSON string inside JSON text (\"…\"), a JSON string, a quoted or a bare word
      String.raw`([A-Za-z0-9_.-]*(?:${keyWords})[A-Za-z0-9_.-]*)(\\?["']?\s*[=:]\s*)(\\"(?:\\\\\\\\|\\\\\\"|(?!\\")[\s\S])*\\"|"(?:[^"\\]|\\.)*"|'[^']*'|(?:\[REDACTED\]|[^\s&;,"'}\]\\])+)`,
      'gi',
    ),
    replace: (m, key, separator, value) => {
      if (value === redactedMarker || telemetryKeys.has(normaliseKey(key))) return m;
      const quote = /^\\?["']/.exec(value)?.[0] ?? '';
      return `${key}${separator}${quote}${redactedMarker}${quote}`;
    },
  },
  // Kerberos roasting hashes (hashcat/John formats).
  { pattern: /\$krb5(?:tgs|asrep|pa|tgt)\$[^\s"',;]+/gi, replace: () => redactedMarker },
  // Password-hash strings: argon2 PHC (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), bcrypt, sha-crypt.
  {
    pattern:
      /\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+(?:\$[A-Za-z0-9+/]+){0,2}|\$(?:2[abxy]|[156])\$[^\s"',;]+/g,
    replace: () => redactedMarker,
  },
  // NetNTLMv1/v2 responses in hashcat form: user::domain:challenge:response:blob.
  {
    pattern: /\b([^\s:]+::[^\s:]*:)[0-9a-f]{16}:[0-9a-f]{32,48}:[0-9a-f]+/gi,
    replace: (_m, head) => `${head}${redactedMarker}`,
  },
  // LM:NT hash pairs (pwdump, secretsdump).
  { pattern: /\b[0-9a-f]{32}:[0-9a-f]{32}\b/gi, replace: () => redactedMarker },
  // NT hashes and Kerberos keys named as such (a bare 32-hex value may be an MD5 and is kept).
  {
    pattern:
      /\b(nt[ _-]?hash|lm[ _-]?hash|ntlm(?:[ _-]?hash)?|rc4(?:[_-]hmac)?|aes(?:128|256)(?:[_-][a-z0-9]+)*|krbtgt[ _-]?key)(\s*[=:]?\s*)[0-9a-f]{32,64}\b/gi,
    replace: (_m, label, separator) => `${label}${separator}${redactedMarker}`,
  },
  // Long base64 blobs: tickets (`doI…` KRB-CRED), AP-REQs, encrypted parts, keys.
  { pattern: blob, replace: (m) => (isBlob(m) ? redactedMarker : m) },
];

/** Masks secrets in free text (log messages, URLs, command lines, header values). */
export function redactText(text: string): string {
  let out = text;
  for (const rule of textRules) {
    out = out.replace(rule.pattern, rule.replace as (substring: string, ...args: unknown[]) => string);
  }
  return out;
}

function mask(value: unknown): unknown {
  // Flags (`passwordExpired: true`) and absent values say nothing secret.
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  return redactedMarker;
}

const maxDepth = 32;

function walk(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= maxDepth) return '[Depth]';
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
      // Raw bytes in a log line are packets, tickets or keys; only their size is kept.
      return `[binary ${value.byteLength} bytes]`;
    }
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) {
      // Header lists like Node's rawHeaders: ['Authorization', 'Bearer …', 'Cookie', '…'].
      return value.map((item, i) => {
        const previous = value[i - 1];
        return typeof previous === 'string' && isSensitiveKey(previous) && i % 2 === 1
          ? mask(item)
          : walk(item, seen, depth + 1);
      });
    }
    if (value instanceof Map) return walk(Object.fromEntries(value), seen, depth + 1);
    if (value instanceof Set) return walk([...value], seen, depth + 1);
    const out: Record<string, unknown> = {};
    if (value instanceof Error) {
      out.name = value.name;
      out.message = redactText(value.message);
      if (value.stack !== undefined) out.stack = redactText(value.stack);
      if (value.cause !== undefined) out.cause = walk(value.cause, seen, depth + 1);
    }
    for (const [key, item] of Object.entries(value)) {
      out[key] = isSensitiveKey(key) ? mask(item) : walk(item, seen, depth + 1);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * A copy of `value` with secrets masked: values under sensitive keys are replaced whole, every
 * string is passed through `redactText`, binary data is reduced to its length, errors keep their
 * name, message, stack and cause (all redacted). Cycles and depth are bounded.
 *
 * @example redact({ user: 'alice', password: 'hunter2' }) // { user: 'alice', password: '[REDACTED]' }
 */
export function redact(value: unknown): unknown {
  return walk(value, new WeakSet(), 0);
}
