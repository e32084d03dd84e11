// The instance CA (ECDSA P-256): created once with the instance, loaded at every start, used to
// issue the HTTPS server certificate and the sensors' client certificates. Its private key lives
// in ca.key and, in memory, in a non-extractable WebCrypto key; nothing here exports it.

// Before @peculiar/x509: its dependency tsyringe needs the Reflect metadata API while loading.
import 'reflect-metadata';
import {
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  webcrypto,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { PkiError } from './pki-error.ts';
import {
  createFileExclusive,
  encodePrivateKey,
  ensurePkiDirectory,
  pkiFileModes,
  pkiFileNames,
  readOptionalFile,
  readPrivateKey,
  replaceFile,
  type StoredPrivateKey,
} from './pki-files.ts';

/** Lifetimes of what the CA issues, in days, and the clock skew every `notBefore` allows. */
export const pkiValidity = {
  caDays: 3652,
  serverDays: 365,
  /** A server certificate this close to expiry is replaced at the next start. */
  serverRenewBeforeDays: 30,
  sensorDays: 365,
  /** Sensors and server may disagree by up to 5 minutes (as MDI requires of its sensors). */
  clockSkewMinutes: 5,
} as const;

/** Sensor ids the CA puts in certificates: they must fit a CN (64 characters) and a URN. */
export const sensorIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The URI SAN of a sensor certificate is this prefix followed by the sensor id. */
export const sensorUriPrefix = 'urn:palisade:sensor:';

/** The loaded instance CA. */
export interface InstanceCa {
  /** The CA certificate (PEM); sensors pin it to recognise the server. */
  readonly certificatePem: string;
  readonly certificate: X509Certificate;
  /** Non-extractable: it can sign and nothing else. */
  readonly signingKey: webcrypto.CryptoKey;
}

/** Where the CA lives and how its keys are protected at rest. */
export interface PkiDirectoryOptions {
  /** Encrypts private keys (PKCS#8, AES-256-CBC, PBKDF2) when set; use a high-entropy secret. */
  readonly passphrase?: string | undefined;
  /** The clock, for tests. */
  readonly now?: Date | undefined;
}

const subtle = webcrypto.subtle;
// Given explicitly, so @peculiar/x509 never depends on which global `crypto` it finds.
const provider = webcrypto;
const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;
const dayMs = 86_400_000;

function caPaths(dir: string): { certificate: string; key: string } {
  return { certificate: join(dir, pkiFileNames.caCertificate), key: join(dir, pkiFileNames.caKey) };
}

/**
 * Creates the instance CA in `dir` (first run only): a P-256 key in ca.key (0600) and a
 * self-signed CA certificate in ca.pem. Fails with `pki/ca-exists` rather than replace one,
 * because a new CA orphans every registered sensor.
 */
export async function createInstanceCa(
  dir: string,
  options: PkiDirectoryOptions & { readonly instanceName: string },
): Promise<InstanceCa> {
  const instanceName = options.instanceName.trim();
  if (instanceName.length === 0 || instanceName.length > 64 || /\p{Cc}/u.test(instanceName)) {
    throw new PkiError(
      'pki/bad-instance-name',
      `expected an instance name of 1 to 64 printable characters, found ${JSON.stringify(options.instanceName)}`,
    );
  }
  await ensurePkiDirectory(dir);
  const paths = caPaths(dir);
  const present = [await readOptionalFile(paths.certificate), await readOptionalFile(paths.key)];
  if (present.some((file) => file !== undefined)) {
    throw new PkiError('pki/ca-exists', `an instance CA already exists in ${dir}`);
  }

  const now = options.now ?? new Date();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKey = await importSigningKey(privateKey);
  const subjectKey = await subtle.importKey('spki', spkiOf(publicKey), ecdsaP256, true, ['verify']);
  const created = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: newSerialNumber(),
      name: [{ CN: ['Palisade instance CA'] }, { O: [instanceName] }],
      notBefore: backdated(now),
      notAfter: new Date(now.getTime() + pkiValidity.caDays * dayMs),
      signingAlgorithm,
      keys: { privateKey: signingKey, publicKey: subjectKey },
      extensions: [
        // pathLen 0: the instance CA signs end-entity certificates only, never another CA.
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(subjectKey, false, provider),
      ],
    },
    provider,
  );
  const certificatePem = `${created.toString('pem')}\n`;
  // Key first: a crash in between leaves ca-incomplete, which stops the start instead of
  // silently making a second CA.
  await createFileExclusive(
    paths.key,
    encodePrivateKey(privateKey, options.passphrase),
    pkiFileModes.privateKey,
  );
  await createFileExclusive(paths.certificate, certificatePem, pkiFileModes.certificate);
  return { certificatePem, certificate: new X509Certificate(certificatePem), signingKey };
}

/**
 * Loads the instance CA from `dir`, checking that the key matches the certificate and that the
 * CA is still valid. A plaintext key is encrypted in place when a passphrase is now configured.
 */
export async function loadInstanceCa(dir: string, options: PkiDirectoryOptions = {}): Promise<InstanceCa> {
  const paths = caPaths(dir);
  const certificatePem = await readOptionalFile(paths.certificate);
  const stored = await readPrivateKey(paths.key, options.passphrase);
  if (certificatePem === undefined && stored === undefined) {
    throw new PkiError('pki/ca-missing', `no instance CA in ${dir} (expected ${pkiFileNames.caCertificate})`);
  }
  if (certificatePem === undefined || stored === undefined) {
    const missing = certificatePem === undefined ? paths.certificate : paths.key;
    throw new PkiError(
      'pki/ca-incomplete',
      `instance CA in ${dir} is incomplete: ${missing} is missing (restore it from a backup)`,
    );
  }
  const certificate = parseCertificate(certificatePem, paths.certificate);
  if (!certificate.ca || !certificate.verify(certificate.publicKey)) {
    throw new PkiError('pki/file-unreadable', `${paths.certificate} is not a self-signed CA certificate`);
  }
  if (!certificate.checkPrivateKey(stored.key) || !isP256(stored.key)) {
    throw new PkiError('pki/ca-mismatch', `${paths.key} is not the P-256 key of ${paths.certificate}`);
  }
  const now = options.now ?? new Date();
  if (new Date(certificate.validTo).getTime() <= now.getTime()) {
    throw new PkiError('pki/ca-expired', `the instance CA expired on ${certificate.validTo}`);
  }
  if (options.passphrase && !stored.encrypted) {
    await replaceFile(paths.key, encodePrivateKey(stored.key, options.passphrase), pkiFileModes.privateKey);
  }
  return { certificatePem, certificate, signingKey: await importSigningKey(stored.key) };
}

/** The HTTPS server's certificate and key (PEM, the key unencrypted: it is for `tls` in memory). */
export interface ServerCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly notAfter: Date;
  /**
   * `current` when the stored certificate was kept; otherwise why a new one was issued.
   */
  readonly status:
    | 'current'
    | 'missing'
    | 'unreadable'
    | 'not-from-ca'
    | 'not-yet-valid'
    | 'expiring'
    | 'hosts-changed';
}

/** The names every server certificate carries, besides the configured ones. */
export const defaultServerHosts = ['localhost', '127.0.0.1', '::1'] as const;

/**
 * Returns the server certificate from `dir`, issuing a new one (new key too) when it is
 * missing, unreadable, not from this CA, not valid yet, within `serverRenewBeforeDays` of
 * expiry, or for other names than localhost, 127.0.0.1, ::1 and `hosts` (DNS names or IP
 * addresses). Call it at start and daily; hand a new one to `server.setSecureContext`.
 */
export async function ensureServerCertificate(
  dir: string,
  ca: InstanceCa,
  options: PkiDirectoryOptions & { readonly hosts?: readonly string[] | undefined } = {},
): Promise<ServerCertificate> {
  const now = options.now ?? new Date();
  const wanted = serverNames([...defaultServerHosts, ...(options.hosts ?? [])]);
  const paths = {
    certificate: join(dir, pkiFileNames.serverCertificate),
    key: join(dir, pkiFileNames.serverKey),
  };

  const existing = await inspectServerCertificate(paths, options.passphrase, (pem, key) =>
    checkServerCertificate(pem, key, ca, wanted, now),
  );
  if (existing.status === 'current') {
    const { pem, stored } = existing;
    if (options.passphrase && !stored.encrypted) {
      await replaceFile(paths.key, encodePrivateKey(stored.key, options.passphrase), pkiFileModes.privateKey);
    }
    return {
      certificatePem: pem,
      privateKeyPem: encodePrivateKey(stored.key, undefined),
      notAfter: new Date(new X509Certificate(pem).validTo),
      status: 'current',
    };
  }

  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issued = await issueCertificate(ca, {
    subject: [{ CN: [wanted.dns.find((name) => name !== 'localhost') ?? 'localhost'] }],
    publicKey: new x509.PublicKey(spkiOf(publicKey)),
    notBefore: backdated(now),
    notAfter: new Date(now.getTime() + pkiValidity.serverDays * dayMs),
    usage: x509.ExtendedKeyUsage.serverAuth,
    names: [
      ...wanted.dns.map((value) => ({ type: 'dns' as const, value })),
      ...wanted.ips.map((value) => ({ type: 'ip' as const, value })),
    ],
  });
  await replaceFile(paths.key, encodePrivateKey(privateKey, options.passphrase), pkiFileModes.privateKey);
  await replaceFile(paths.certificate, issued.certificatePem, pkiFileModes.certificate);
  return {
    certificatePem: issued.certificatePem,
    privateKeyPem: encodePrivateKey(privateKey, undefined),
    notAfter: issued.notAfter,
    status: existing.status,
  };
}

type ServerCertificateStatus = ServerCertificate['status'];

/** The stored server certificate and key when `check` finds them current, else why not. */
async function inspectServerCertificate(
  paths: { readonly certificate: string; readonly key: string },
  passphrase: string | undefined,
  check: (pem: string, key: KeyObject) => ServerCertificateStatus,
): Promise<
  | { readonly status: 'current'; readonly pem: string; readonly stored: StoredPrivateKey }
  | { readonly status: Exclude<ServerCertificateStatus, 'current'> }
> {
  const pem = await readOptionalFile(paths.certificate);
  let stored: StoredPrivateKey | undefined;
  try {
    stored = await readPrivateKey(paths.key, passphrase);
  } catch (error) {
    // A garbled server key is replaced like a garbled certificate; a locked, exposed or
    // wrongly encrypted one is the operator's to fix, and stops the start.
    if (error instanceof PkiError && error.code === 'pki/file-unreadable') return { status: 'unreadable' };
    throw error;
  }
  if (pem === undefined || stored === undefined) return { status: 'missing' };
  const status = check(pem, stored.key);
  return status === 'current' ? { status, pem, stored } : { status };
}

function checkServerCertificate(
  pem: string,
  key: KeyObject,
  ca: InstanceCa,
  wanted: ServerNames,
  now: Date,
): ServerCertificateStatus {
  let certificate: X509Certificate;
  let names: x509.JsonGeneralNames;
  try {
    certificate = new X509Certificate(pem);
    names =
      new x509.X509Certificate(pem).getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  } catch {
    return 'unreadable';
  }
  if (
    !certificate.checkIssued(ca.certificate) ||
    !certificate.verify(ca.certificate.publicKey) ||
    !certificate.checkPrivateKey(key)
  ) {
    return 'not-from-ca';
  }
  // Issued while the clock was wrong: clients would refuse it until that date.
  if (new Date(certificate.validFrom).getTime() > now.getTime()) return 'not-yet-valid';
  if (new Date(certificate.validTo).getTime() - now.getTime() < pkiValidity.serverRenewBeforeDays * dayMs) {
    return 'expiring';
  }
  const have = serverNames(names.filter((n) => n.type === 'dns' || n.type === 'ip').map((n) => n.value));
  const same = (a: readonly string[], b: readonly string[]): boolean => a.join() === b.join();
  return same(have.dns, wanted.dns) && same(have.ips, wanted.ips) ? 'current' : 'hosts-changed';
}

interface ServerNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

/** Sorted, de-duplicated, canonical DNS names and IP addresses; rejects anything else. */
function serverNames(hosts: readonly string[]): ServerNames {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const host of hosts) {
    const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
    const family = isIP(bare);
    if (family === 4) ips.add(bare);
    // The URL parser prints an IPv6 address in its one canonical (RFC 5952) form.
    else if (family === 6) ips.add(new URL(`http://[${bare}]/`).hostname.slice(1, -1));
    else if (dnsNamePattern.test(bare)) dns.add(bare.toLowerCase().replace(/\.$/, ''));
    else
      throw new PkiError(
        'pki/bad-host',
        `expected a DNS name or an IP address, found ${JSON.stringify(host)}`,
      );
  }
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

// RFC 1123 host names: labels of letters, digits and inner hyphens; no wildcards.
const dnsNamePattern =
  /^(?=.{1,253}\.?$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** What the CA issued to a sensor, or why it refused the CSR. */
export type SensorCertificateResult =
  | {
      readonly kind: 'issued';
      readonly sensorId: string;
      /** Upper-case hex, no leading zeros: the form the revocation list uses. */
      readonly serialNumber: string;
      readonly certificatePem: string;
      /** The sensor certificate followed by the CA certificate. */
      readonly chainPem: string;
      readonly caCertificatePem: string;
      readonly notBefore: Date;
      readonly notAfter: Date;
    }
  | { readonly kind: 'rejected'; readonly code: CsrRejectionCode; readonly message: string };

export const csrRejectionCodes = [
  'pki/csr-too-large',
  'pki/csr-unreadable',
  'pki/csr-bad-signature',
  'pki/csr-weak-key',
  'pki/csr-unsupported-key',
] as const;
export type CsrRejectionCode = (typeof csrRejectionCodes)[number];

/** A CSR is a key and a few names; anything this big is not one. */
export const maxCsrBytes = 16_384;

/**
 * Signs a sensor's CSR (PEM or DER) once its self-signature proves possession of an ECDSA
 * P-256/P-384 or RSA 2048–8192 key. Only the key is taken from the CSR: the subject is
 * `CN=<sensorId>`, the only SAN is `urn:palisade:sensor:<sensorId>`, the only EKU clientAuth,
 * whatever the CSR asked for.
 */
export async function signSensorCsr(
  ca: InstanceCa,
  csr: string | Uint8Array,
  sensorId: string,
  options: { readonly now?: Date | undefined; readonly validityDays?: number | undefined } = {},
): Promise<SensorCertificateResult> {
  if (!sensorIdPattern.test(sensorId)) {
    throw new PkiError(
      'pki/bad-sensor-id',
      `expected a sensor id matching ${sensorIdPattern}, found ${sensorId}`,
    );
  }
  const size = typeof csr === 'string' ? Buffer.byteLength(csr) : csr.byteLength;
  if (size > maxCsrBytes) {
    return reject('pki/csr-too-large', `expected a CSR of at most ${maxCsrBytes} bytes, found ${size}`);
  }
  let request: x509.Pkcs10CertificateRequest;
  try {
    request = new x509.Pkcs10CertificateRequest(typeof csr === 'string' ? csr : Uint8Array.from(csr));
  } catch (error) {
    return reject('pki/csr-unreadable', `expected a PKCS#10 CSR in PEM or DER: ${describe(error)}`);
  }
  const keyProblem = checkCsrKey(Buffer.from(request.publicKey.rawData));
  if (keyProblem) return keyProblem;
  let signed = false;
  try {
    signed = await request.verify(provider);
  } catch (error) {
    return reject('pki/csr-bad-signature', `the CSR's signature could not be checked: ${describe(error)}`);
  }
  if (!signed) {
    return reject('pki/csr-bad-signature', `the CSR's signature does not verify with the key it carries`);
  }

  const now = options.now ?? new Date();
  const caNotAfter = new Date(ca.certificate.validTo);
  const wantedNotAfter = new Date(now.getTime() + (options.validityDays ?? pkiValidity.sensorDays) * dayMs);
  const issued = await issueCertificate(ca, {
    subject: [{ CN: [sensorId] }],
    publicKey: request.publicKey,
    notBefore: backdated(now),
    // Never outlive the CA: a chain is only as valid as its issuer.
    notAfter: wantedNotAfter < caNotAfter ? wantedNotAfter : caNotAfter,
    usage: x509.ExtendedKeyUsage.clientAuth,
    names: [{ type: 'url', value: `${sensorUriPrefix}${sensorId}` }],
  });
  return {
    kind: 'issued',
    sensorId,
    serialNumber: issued.serialNumber,
    certificatePem: issued.certificatePem,
    chainPem: `${issued.certificatePem.trimEnd()}\n${ca.certificatePem.trimEnd()}\n`,
    caCertificatePem: ca.certificatePem,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
  };
}

function reject(code: CsrRejectionCode, message: string): SensorCertificateResult {
  return { kind: 'rejected', code, message };
}

/** Why the CSR's key is refused, or undefined when it is strong and supported. */
function checkCsrKey(spki: Buffer): SensorCertificateResult | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (error) {
    return reject('pki/csr-unsupported-key', `the CSR's public key is not usable: ${describe(error)}`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = details.namedCurve ?? 'explicit parameters';
    if (curve === 'prime256v1' || curve === 'secp384r1') return undefined;
    // Curve names carry their size (prime192v1, secp224r1, sect163k1, brainpoolP512r1).
    const bits = Number(/\d{3}/.exec(curve)?.[0] ?? 0);
    return reject(
      bits > 0 && bits < 256 ? 'pki/csr-weak-key' : 'pki/csr-unsupported-key',
      `expected an EC key on P-256 or P-384, found ${curve}`,
    );
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048)
      return reject('pki/csr-weak-key', `expected an RSA key of at least 2048 bits, found ${bits}`);
    if (bits > 8192) {
      return reject('pki/csr-unsupported-key', `expected an RSA key of at most 8192 bits, found ${bits}`);
    }
    if (details.publicExponent !== 65537n) {
      return reject(
        'pki/csr-unsupported-key',
        `expected RSA public exponent 65537, found ${details.publicExponent}`,
      );
    }
    return undefined;
  }
  return reject(
    'pki/csr-unsupported-key',
    `expected an EC (P-256, P-384) or RSA key, found ${key.asymmetricKeyType ?? 'unknown'}`,
  );
}

interface IssueRequest {
  readonly subject: x509.JsonName;
  readonly publicKey: x509.PublicKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly usage: x509.ExtendedKeyUsage;
  readonly names: x509.JsonGeneralNames;
}

interface Issued {
  readonly certificatePem: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** An end-entity certificate from the CA, with only the extensions given here. */
async function issueCertificate(ca: InstanceCa, request: IssueRequest): Promise<Issued> {
  const issuer = new x509.X509Certificate(ca.certificatePem);
  const caKeyId = issuer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const serialNumber = newSerialNumber();
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber,
      // The CA's own encoded name, so issuer and subject match byte for byte.
      issuer: issuer.subjectName,
      subject: request.subject,
      notBefore: request.notBefore,
      notAfter: request.notAfter,
      publicKey: request.publicKey,
      signingKey: ca.signingKey,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([request.usage], false),
        new x509.SubjectAlternativeNameExtension(request.names, false),
        await x509.SubjectKeyIdentifierExtension.create(request.publicKey, false, provider),
        ...(caKeyId === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(caKeyId, false)]),
      ],
    },
    provider,
  );
  return {
    certificatePem: `${certificate.toString('pem')}\n`,
    serialNumber,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

/**
 * 128 random bits as a positive DER INTEGER with no leading zero octet: the top two bits are
 * fixed (01), leaving 126 random bits, far above the 64 that make serials unguessable and
 * collisions negligible. Upper-case hex, the form Node reports for peer certificates.
 */
function newSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes.writeUInt8((bytes.readUInt8(0) & 0x3f) | 0x40, 0);
  return bytes.toString('hex').toUpperCase();
}

function backdated(now: Date): Date {
  return new Date(now.getTime() - pkiValidity.clockSkewMinutes * 60_000);
}

function spkiOf(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

function importSigningKey(privateKey: KeyObject): Promise<webcrypto.CryptoKey> {
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  return subtle.importKey('pkcs8', pkcs8, ecdsaP256, false, ['sign']);
}

function parseCertificate(pem: string, path: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw new PkiError('pki/file-unreadable', `${path} is not a PEM certificate`, { cause });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
