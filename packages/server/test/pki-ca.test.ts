// The instance CA end to end on real files: creation and reload, keys at rest, the server
// certificate's renewal rules, and what the CA does with honest and hostile sensor CSRs. Where
// openssl is installed, it checks independently what the certificates claim.

import 'reflect-metadata';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createInstanceCa,
  ensureServerCertificate,
  type InstanceCa,
  loadInstanceCa,
  pkiValidity,
  type SensorCertificateResult,
  signSensorCsr,
} from '../src/pki/ca.ts';
import { PkiError, type PkiErrorCode } from '../src/pki/pki-error.ts';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) console.log('openssl not found: the openssl cross-checks are skipped');

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-pki-'));
  dirs.push(dir);
  return dir;
}

function openssl(args: readonly string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** openssl's exit status and combined output, for checks that must fail. */
function opensslStatus(args: readonly string[]): { status: number | null; output: string } {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function rejectsWith(promise: Promise<unknown>, code: PkiErrorCode): Promise<void> {
  await expect(promise).rejects.toSatisfy((error) => error instanceof PkiError && error.code === code);
}

const ecdsaSha256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A CSR made the way a sensor makes one, asking for whatever `request` says. */
async function webCryptoCsr(
  request: { curve?: 'P-256' | 'P-384'; name?: string; extensions?: x509.Extension[] } = {},
): Promise<{ csrPem: string; keys: webcrypto.CryptoKeyPair }> {
  const keys = await webcrypto.subtle.generateKey(
    { name: 'ECDSA', namedCurve: request.curve ?? 'P-256' },
    true,
    ['sign', 'verify'],
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: request.name ?? 'CN=sensor',
      keys,
      signingAlgorithm: ecdsaSha256,
      extensions: request.extensions ?? [],
    },
    webcrypto,
  );
  return { csrPem: csr.toString('pem'), keys };
}

/** A CSR from openssl for a key made by `keyArgs` (a `genpkey` command line). */
async function opensslCsr(
  dir: string,
  name: string,
  keyArgs: readonly string[],
  reqArgs: readonly string[] = [],
) {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  openssl(['genpkey', ...keyArgs, '-out', key]);
  openssl(['req', '-new', '-key', key, '-subj', '/CN=sensor', ...reqArgs, '-out', csr]);
  return readFile(csr, 'utf8');
}

function issued(result: SensorCertificateResult): Extract<SensorCertificateResult, { kind: 'issued' }> {
  if (result.kind !== 'issued')
    throw new Error(`expected an issued certificate, got ${result.code}: ${result.message}`);
  return result;
}

/** The X509v3 extensions section of `openssl x509 -text`, key identifiers replaced by names. */
function opensslExtensions(certificatePath: string, keyIds: Record<string, string>): string {
  const text = openssl(['x509', '-noout', '-text', '-in', certificatePath]);
  const start = text.indexOf('X509v3 extensions:');
  const end = text.indexOf('Signature Algorithm', start);
  let section = text
    .slice(start, end)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .join('\n');
  for (const [name, id] of Object.entries(keyIds)) section = section.replaceAll(id, `<${name}>`);
  return section;
}

function keyIdentifier(pem: string, extension: typeof x509.SubjectKeyIdentifierExtension): string {
  const keyId = new x509.X509Certificate(pem).getExtension(extension)?.keyId ?? '';
  return keyId.toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

describe('instance CA', () => {
  it('is created once, with its key alone in a 0600 file, and reloads the same', async () => {
    const dir = await tempDir();
    const created = await createInstanceCa(dir, { instanceName: 'corp.example' });
    expect((await stat(join(dir, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, 'ca.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(created.certificate.subject).toBe('CN=Palisade instance CA\nO=corp.example');
    expect(created.certificate.ca).toBe(true);
    expect(created.signingKey.extractable).toBe(false);

    const loaded = await loadInstanceCa(dir);
    expect(loaded.certificatePem).toBe(created.certificatePem);
    // The reloaded key signs certificates that the created certificate verifies.
    const { csrPem } = await webCryptoCsr();
    const sensor = issued(await signSensorCsr(loaded, csrPem, 'sensor-1'));
    expect(new X509Certificate(sensor.certificatePem).verify(created.certificate.publicKey)).toBe(true);

    await rejectsWith(createInstanceCa(dir, { instanceName: 'corp.example' }), 'pki/ca-exists');
  });

  it.skipIf(!hasOpenssl)(
    'has the extensions of a P-256 CA that signs end entities only (openssl)',
    async () => {
      const dir = await tempDir();
      const ca = await createInstanceCa(dir, { instanceName: 'corp.example' });
      const text = openssl(['x509', '-noout', '-text', '-in', join(dir, 'ca.pem')]);
      expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
      expect(text).toContain('NIST CURVE: P-256');
      expect(text).toContain('Issuer: CN = Palisade instance CA, O = corp.example');
      expect(
        opensslExtensions(join(dir, 'ca.pem'), {
          'ca key id': keyIdentifier(ca.certificatePem, x509.SubjectKeyIdentifierExtension),
        }),
      ).toBe(
        [
          'X509v3 extensions:',
          'X509v3 Basic Constraints: critical',
          'CA:TRUE, pathlen:0',
          'X509v3 Key Usage: critical',
          'Certificate Sign, CRL Sign',
          'X509v3 Subject Key Identifier:',
          '<ca key id>',
        ].join('\n'),
      );
      const days = (new Date(ca.certificate.validTo).getTime() - Date.now()) / 86_400_000;
      expect(Math.round(days)).toBe(pkiValidity.caDays);
    },
  );

  it('refuses to load a missing, incomplete, exposed, mismatched, garbled or expired CA', async () => {
    const empty = await tempDir();
    await rejectsWith(loadInstanceCa(empty), 'pki/ca-missing');

    const dir = await tempDir();
    await createInstanceCa(dir, { instanceName: 'corp.example' });
    await rejectsWith(
      loadInstanceCa(dir, { now: new Date(Date.now() + 11 * 365 * 86_400_000) }),
      'pki/ca-expired',
    );

    await chmod(join(dir, 'ca.key'), 0o644);
    await rejectsWith(loadInstanceCa(dir), 'pki/key-file-exposed');
    await chmod(join(dir, 'ca.key'), 0o600);

    const other = await tempDir();
    await createInstanceCa(other, { instanceName: 'other.example' });
    const mixed = await tempDir();
    await copyFile(join(dir, 'ca.pem'), join(mixed, 'ca.pem'));
    await copyFile(join(other, 'ca.key'), join(mixed, 'ca.key'));
    await rejectsWith(loadInstanceCa(mixed), 'pki/ca-mismatch');

    await writeFile(join(mixed, 'ca.pem'), 'not a certificate\n');
    await rejectsWith(loadInstanceCa(mixed), 'pki/file-unreadable');

    await unlink(join(mixed, 'ca.pem'));
    await rejectsWith(loadInstanceCa(mixed), 'pki/ca-incomplete');

    await rejectsWith(createInstanceCa(await tempDir(), { instanceName: ' ' }), 'pki/bad-instance-name');
  });

  it('encrypts private keys at rest with a passphrase, and encrypts a plaintext key once one is set', async () => {
    const dir = await tempDir();
    await createInstanceCa(dir, { instanceName: 'corp.example', passphrase: 'correct horse battery staple' });
    expect(await readFile(join(dir, 'ca.key'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    await rejectsWith(loadInstanceCa(dir), 'pki/key-locked');
    await rejectsWith(loadInstanceCa(dir, { passphrase: 'wrong' }), 'pki/wrong-passphrase');
    const ca = await loadInstanceCa(dir, { passphrase: 'correct horse battery staple' });

    const server = await ensureServerCertificate(dir, ca, { passphrase: 'correct horse battery staple' });
    expect(await readFile(join(dir, 'server.key'), 'utf8')).toMatch(
      /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/,
    );
    // What goes to `tls` is the decrypted key, in memory only.
    expect(server.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const plain = await tempDir();
    await createInstanceCa(plain, { instanceName: 'corp.example' });
    await loadInstanceCa(plain, { passphrase: 'now set' });
    expect(await readFile(join(plain, 'ca.key'), 'utf8')).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect((await stat(join(plain, 'ca.key'))).mode & 0o777).toBe(0o600);
    await loadInstanceCa(plain, { passphrase: 'now set' });

    if (hasOpenssl) {
      // Standard encrypted PKCS#8: openssl opens it with the passphrase and not without.
      expect(
        opensslStatus([
          'pkey',
          '-in',
          join(dir, 'ca.key'),
          '-passin',
          'pass:correct horse battery staple',
          '-noout',
        ]).status,
      ).toBe(0);
      expect(
        opensslStatus(['pkey', '-in', join(dir, 'ca.key'), '-passin', 'pass:wrong', '-noout']).status,
      ).not.toBe(0);
    }
  });
});

describe('server certificate', () => {
  it('is issued for localhost, 127.0.0.1, ::1 and the configured names, then kept', async () => {
    const dir = await tempDir();
    const ca = await createInstanceCa(dir, { instanceName: 'corp.example' });
    const hosts = ['palisade.corp.example', '10.1.2.3', 'FE80::0:1'];
    const first = await ensureServerCertificate(dir, ca, { hosts });
    expect(first.status).toBe('missing');
    expect((await stat(join(dir, 'server.key'))).mode & 0o777).toBe(0o600);
    const certificate = new X509Certificate(first.certificatePem);
    expect(certificate.subjectAltName).toBe(
      'DNS:localhost, DNS:palisade.corp.example, IP Address:10.1.2.3, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:0:1',
    );
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkIP('::1')).toBe('::1');
    expect(certificate.checkHost('evil.example')).toBeUndefined();

    // The same names written differently are the same names.
    const again = await ensureServerCertificate(dir, ca, {
      hosts: ['Palisade.Corp.Example.', '[fe80::1]', '10.1.2.3'],
    });
    expect(again.status).toBe('current');
    expect(again.certificatePem).toBe(first.certificatePem);
    expect(again.privateKeyPem).toBe(first.privateKeyPem);

    if (hasOpenssl) {
      expect(
        openssl(['verify', '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslserver', join(dir, 'server.pem')]),
      ).toBe(`${join(dir, 'server.pem')}: OK\n`);
      expect(
        opensslExtensions(join(dir, 'server.pem'), {
          'server key id': keyIdentifier(first.certificatePem, x509.SubjectKeyIdentifierExtension),
          'ca key id': keyIdentifier(ca.certificatePem, x509.SubjectKeyIdentifierExtension),
        }),
      ).toBe(
        [
          'X509v3 extensions:',
          'X509v3 Basic Constraints: critical',
          'CA:FALSE',
          'X509v3 Key Usage: critical',
          'Digital Signature',
          'X509v3 Extended Key Usage:',
          'TLS Web Server Authentication',
          'X509v3 Subject Alternative Name:',
          'DNS:localhost, DNS:palisade.corp.example, IP Address:10.1.2.3, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:0:1',
          'X509v3 Subject Key Identifier:',
          '<server key id>',
          'X509v3 Authority Key Identifier:',
          '<ca key id>',
        ].join('\n'),
      );
    }
  });

  it('is renewed when the names change, near expiry, from another CA, from the future or garbled', async () => {
    const dir = await tempDir();
    const ca = await createInstanceCa(dir, { instanceName: 'corp.example' });
    const first = await ensureServerCertificate(dir, ca);
    expect((await ensureServerCertificate(dir, ca, { hosts: ['palisade.corp.example'] })).status).toBe(
      'hosts-changed',
    );

    const renewAt = new Date(first.notAfter.getTime() - (pkiValidity.serverRenewBeforeDays - 1) * 86_400_000);
    const renewed = await ensureServerCertificate(dir, ca, { now: renewAt });
    expect(renewed.status).toBe('expiring');
    expect(renewed.privateKeyPem).not.toBe(first.privateKeyPem);
    // Issued "in the future" by the test clock: today it is not valid yet, so it is replaced.
    expect((await ensureServerCertificate(dir, ca)).status).toBe('not-yet-valid');

    const otherDir = await tempDir();
    const other = await createInstanceCa(otherDir, { instanceName: 'other.example' });
    expect((await ensureServerCertificate(dir, other)).status).toBe('not-from-ca');
    expect((await ensureServerCertificate(dir, ca)).status).toBe('not-from-ca');
    expect((await ensureServerCertificate(dir, ca)).status).toBe('current');

    await writeFile(
      join(dir, 'server.pem'),
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    );
    expect((await ensureServerCertificate(dir, ca)).status).toBe('unreadable');
    await writeFile(join(dir, 'server.key'), 'garbage\n', { mode: 0o600 });
    expect((await ensureServerCertificate(dir, ca)).status).toBe('unreadable');
    expect((await ensureServerCertificate(dir, ca)).status).toBe('current');
  });

  it('refuses host names that are neither DNS names nor IP addresses', async () => {
    const dir = await tempDir();
    const ca = await createInstanceCa(dir, { instanceName: 'corp.example' });
    for (const host of ['*.corp.example', 'palisade corp', 'a..b', '-bad.example', '']) {
      await rejectsWith(ensureServerCertificate(dir, ca, { hosts: [host] }), 'pki/bad-host');
    }
  });
});

describe('sensor CSR signing', () => {
  let ca: InstanceCa;
  let dir: string;
  const caReady = (async () => {
    dir = await tempDir();
    ca = await createInstanceCa(dir, { instanceName: 'corp.example' });
  })();

  it('issues a clientAuth certificate naming the server-chosen id, whatever the CSR asks for', async () => {
    await caReady;
    const { csrPem, keys } = await webCryptoCsr({
      name: 'CN=Administrator, O=Palisade',
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: 'urn:palisade:sensor:dc01-sensor' },
          { type: 'dns', value: 'palisade.corp.example' },
        ]),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.BasicConstraintsExtension(true, undefined, true),
      ],
    });
    const result = issued(await signSensorCsr(ca, csrPem, '3f1c2d9e-7b1a-4c55-9d1e-2a6b8c0d4e5f'));
    const certificate = new X509Certificate(result.certificatePem);
    expect(certificate.subject).toBe('CN=3f1c2d9e-7b1a-4c55-9d1e-2a6b8c0d4e5f');
    expect(certificate.subjectAltName).toBe('URI:urn:palisade:sensor:3f1c2d9e-7b1a-4c55-9d1e-2a6b8c0d4e5f');
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(certificate.ca).toBe(false);
    expect(certificate.checkIssued(ca.certificate)).toBe(true);
    expect(certificate.verify(ca.certificate.publicKey)).toBe(true);
    // The key is the sensor's own.
    const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    expect(certificate.publicKey.export({ type: 'spki', format: 'der' })).toEqual(spki);
    expect(result.serialNumber).toBe(certificate.serialNumber.replace(/^0+/, ''));
    expect(result.chainPem).toBe(`${result.certificatePem}${ca.certificatePem}`);
    const days = (result.notAfter.getTime() - result.notBefore.getTime()) / 86_400_000;
    expect(days).toBeCloseTo(pkiValidity.sensorDays + pkiValidity.clockSkewMinutes / 1440, 6);

    if (hasOpenssl) {
      const path = join(dir, 'sensor.pem');
      await writeFile(path, result.certificatePem);
      expect(openssl(['verify', '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslclient', path])).toBe(
        `${path}: OK\n`,
      );
      // Only for clients: as a server certificate it fails.
      expect(
        opensslStatus(['verify', '-CAfile', join(dir, 'ca.pem'), '-purpose', 'sslserver', path]).status,
      ).not.toBe(0);
      const text = openssl(['x509', '-noout', '-text', '-in', path]);
      expect(text).toContain('Subject: CN = 3f1c2d9e-7b1a-4c55-9d1e-2a6b8c0d4e5f\n');
      expect(text).not.toMatch(
        /Administrator|dc01-sensor|palisade\.corp\.example|Server Authentication|CA:TRUE/,
      );
      expect(
        opensslExtensions(path, {
          'sensor key id': keyIdentifier(result.certificatePem, x509.SubjectKeyIdentifierExtension),
          'ca key id': keyIdentifier(ca.certificatePem, x509.SubjectKeyIdentifierExtension),
        }),
      ).toBe(
        [
          'X509v3 extensions:',
          'X509v3 Basic Constraints: critical',
          'CA:FALSE',
          'X509v3 Key Usage: critical',
          'Digital Signature',
          'X509v3 Extended Key Usage:',
          'TLS Web Client Authentication',
          'X509v3 Subject Alternative Name:',
          'URI:urn:palisade:sensor:3f1c2d9e-7b1a-4c55-9d1e-2a6b8c0d4e5f',
          'X509v3 Subject Key Identifier:',
          '<sensor key id>',
          'X509v3 Authority Key Identifier:',
          '<ca key id>',
        ].join('\n'),
      );
    }
  });

  it('accepts P-384 keys and DER CSRs', async () => {
    await caReady;
    const { csrPem } = await webCryptoCsr({ curve: 'P-384' });
    issued(await signSensorCsr(ca, csrPem, 'sensor-p384'));
    const der = new x509.Pkcs10CertificateRequest((await webCryptoCsr()).csrPem).rawData;
    issued(await signSensorCsr(ca, new Uint8Array(der), 'sensor-der'));
  });

  it.skipIf(!hasOpenssl)(
    'accepts RSA 2048 and refuses RSA 1024, P-192, Ed25519 and exponent 3 (openssl CSRs)',
    async () => {
      await caReady;
      const rsa = await opensslCsr(
        dir,
        'rsa2048',
        ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
        [
          '-addext',
          'subjectAltName=URI:urn:palisade:sensor:someone-else,DNS:palisade.corp.example',
          '-addext',
          'extendedKeyUsage=serverAuth,codeSigning',
        ],
      );
      const rsaCertificate = new X509Certificate(
        issued(await signSensorCsr(ca, rsa, 'sensor-rsa')).certificatePem,
      );
      expect(rsaCertificate.subjectAltName).toBe('URI:urn:palisade:sensor:sensor-rsa');
      expect(rsaCertificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);

      const cases: [string, readonly string[], string][] = [
        ['rsa1024', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'], 'pki/csr-weak-key'],
        ['p192', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime192v1'], 'pki/csr-weak-key'],
        ['ed25519', ['-algorithm', 'ED25519'], 'pki/csr-unsupported-key'],
        [
          'rsa-e3',
          ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3'],
          'pki/csr-unsupported-key',
        ],
      ];
      for (const [name, keyArgs, code] of cases) {
        const result = await signSensorCsr(ca, await opensslCsr(dir, name, keyArgs), `sensor-${name}`);
        expect({ name, result: result.kind === 'rejected' ? result.code : result.kind }).toEqual({
          name,
          result: code,
        });
      }
    },
  );

  it('refuses a CSR whose signature is forged or made with another key', async () => {
    await caReady;
    const der = new Uint8Array(new x509.Pkcs10CertificateRequest((await webCryptoCsr()).csrPem).rawData);
    const tampered = der.slice();
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 0x01;
    expect(await signSensorCsr(ca, tampered, 'sensor-1')).toMatchObject({ code: 'pki/csr-bad-signature' });

    // A CSR carrying the victim's public key, signed by the attacker's key: no proof of possession.
    const attacker = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const victim = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const forged = await x509.Pkcs10CertificateRequestGenerator.create(
      {
        name: 'CN=sensor',
        keys: { publicKey: victim.publicKey, privateKey: attacker.privateKey },
        signingAlgorithm: ecdsaSha256,
      },
      webcrypto,
    );
    const forgedSpki = Buffer.from(forged.publicKey.rawData);
    expect(
      createPublicKey({ key: forgedSpki, format: 'der', type: 'spki' }).equals(
        createPublicKey({
          key: Buffer.from(await webcrypto.subtle.exportKey('spki', victim.publicKey)),
          format: 'der',
          type: 'spki',
        }),
      ),
    ).toBe(true);
    expect(await signSensorCsr(ca, forged.toString('pem'), 'sensor-1')).toMatchObject({
      code: 'pki/csr-bad-signature',
    });
  });

  it('refuses what is not a CSR, and one too large to be one', async () => {
    await caReady;
    for (const input of [
      '',
      'hello',
      '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
      ca.certificatePem,
    ]) {
      expect(await signSensorCsr(ca, input, 'sensor-1')).toMatchObject({
        kind: 'rejected',
        code: 'pki/csr-unreadable',
      });
    }
    expect(await signSensorCsr(ca, 'A'.repeat(20_000), 'sensor-1')).toMatchObject({
      code: 'pki/csr-too-large',
    });
  });

  it('refuses sensor ids that cannot be a CN and a URN (a bug in the caller)', async () => {
    await caReady;
    const { csrPem } = await webCryptoCsr();
    for (const id of ['', 'a,CN=admin', '../x', 'x y', 'a'.repeat(65), '-leading-dash']) {
      await rejectsWith(signSensorCsr(ca, csrPem, id), 'pki/bad-sensor-id');
    }
  });

  it('gives every certificate a distinct random 126-bit serial, and never outlives the CA', async () => {
    await caReady;
    const { csrPem } = await webCryptoCsr();
    const serials = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const result = issued(await signSensorCsr(ca, csrPem, `sensor-${i}`));
      expect(result.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
      serials.add(result.serialNumber);
    }
    expect(serials.size).toBe(40);

    const long = issued(await signSensorCsr(ca, csrPem, 'sensor-long', { validityDays: 100 * 365 }));
    expect(long.notAfter.getTime()).toBe(new Date(ca.certificate.validTo).getTime());
  });
});
