// `palisade sensor register`: a key pair made on the host, a CSR with the host's facts sent with
// the one-time access key, and the answer kept in the sensor's directory (key and certificate
// 0600). The access key is used once and never written anywhere; every later call is mTLS with the
// certificate, the instance CA pinned.
// Before @peculiar/x509: its dependency tsyringe needs the Reflect metadata API while loading.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { HostFacts, SensorKind } from './host-facts.ts';
import { ServerChannel } from './server-channel.ts';

/** The files of a sensor's directory. */
export const sensorFiles = {
  registration: 'sensor.json',
  key: 'sensor.key',
  certificate: 'sensor.crt',
  ca: 'ca.crt',
  config: 'config.json',
  status: 'status.json',
  buffer: 'buffer',
} as const;

/** What `sensor.json` holds. */
export interface Registration {
  readonly server: string;
  readonly proxy?: string;
  readonly sensorId: string;
  readonly name: string;
  readonly type: SensorKind;
  readonly registeredAt: string;
  readonly certificateNotAfter: string;
  readonly host: HostFacts;
}

/** A registered sensor's credentials, read back from its directory. */
export interface SensorIdentity {
  readonly registration: Registration;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
}

export const registrationErrorCodes = [
  'register/refused',
  'register/bad-answer',
  'register/unreachable',
  'register/not-registered',
] as const;
export type RegistrationErrorCode = (typeof registrationErrorCodes)[number];

export class RegistrationError extends Error {
  override readonly name = 'RegistrationError';
  constructor(
    readonly code: RegistrationErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface RegisterOptions {
  readonly dir: string;
  readonly server: URL;
  readonly accessKey: string;
  readonly proxy?: URL | undefined;
  /** The CA to trust for the first call (the instance CA, exported by its administrator). */
  readonly caPem?: string | undefined;
  readonly facts: HostFacts;
  readonly type: SensorKind;
  readonly version: string;
}

/** Registers this host and writes its credentials; resolves with what was written. */
export async function registerSensor(options: RegisterOptions): Promise<Registration> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: `CN=${escapeRdn(options.facts.name)}`,
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const channel = new ServerChannel({
    server: options.server,
    caPem: options.caPem,
    proxy: options.proxy,
    timeoutMs: 30_000,
  });
  let reply: Awaited<ReturnType<ServerChannel['call']>>;
  try {
    reply = await channel.call('POST', '/api/sensors/register', {
      csr: csr.toString('pem'),
      name: options.facts.name,
      type: options.type,
      host: { ...options.facts },
      version: options.version,
      accessKey: options.accessKey,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RegistrationError('register/unreachable', message, { cause: error });
  } finally {
    channel.close();
  }
  if (reply.status !== 201)
    throw new RegistrationError('register/refused', refusal(reply.status, reply.body));
  const answer = reply.body as {
    sensorId?: unknown;
    certificate?: unknown;
    caCertificate?: unknown;
    notAfter?: unknown;
  };
  if (
    typeof answer?.sensorId !== 'string' ||
    typeof answer.certificate !== 'string' ||
    typeof answer.caCertificate !== 'string'
  ) {
    throw new RegistrationError(
      'register/bad-answer',
      `expected { sensorId, certificate, caCertificate } from ${options.server.origin}, found ${reply.text.slice(0, 80)}`,
    );
  }
  const registration: Registration = {
    server: options.server.toString(),
    ...(options.proxy ? { proxy: options.proxy.toString() } : {}),
    sensorId: answer.sensorId,
    name: options.facts.name,
    type: options.type,
    registeredAt: new Date().toISOString(),
    certificateNotAfter: typeof answer.notAfter === 'string' ? answer.notAfter : '',
    host: options.facts,
  };
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  await writePrivate(join(options.dir, sensorFiles.key), keyPem);
  await writePrivate(join(options.dir, sensorFiles.certificate), answer.certificate);
  await writePrivate(join(options.dir, sensorFiles.ca), answer.caCertificate);
  await writePrivate(
    join(options.dir, sensorFiles.registration),
    `${JSON.stringify(registration, null, 2)}\n`,
  );
  return registration;
}

/** Reads a registered sensor's credentials; a RegistrationError names what is missing. */
export async function readSensorIdentity(dir: string): Promise<SensorIdentity> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (error) {
      throw new RegistrationError(
        'register/not-registered',
        `${join(dir, name)} cannot be read: run \`palisade sensor register\` first (${(error as Error).message})`,
        { cause: error },
      );
    }
  };
  const registration = JSON.parse(await read(sensorFiles.registration)) as Registration;
  return {
    registration,
    keyPem: await read(sensorFiles.key),
    certPem: await read(sensorFiles.certificate),
    caPem: await read(sensorFiles.ca),
  };
}

/** The channel a registered sensor uses: mTLS with its certificate, the instance CA pinned. */
export function sensorChannel(identity: SensorIdentity, timeoutMs?: number): ServerChannel {
  const { registration } = identity;
  return new ServerChannel({
    server: new URL(registration.server),
    caPem: identity.caPem,
    client: { keyPem: identity.keyPem, certPem: identity.certPem },
    proxy: registration.proxy ? new URL(registration.proxy) : undefined,
    timeoutMs,
  });
}

function refusal(status: number, body: unknown): string {
  const problem = body as { title?: unknown; detail?: unknown; errors?: unknown } | undefined;
  const detail = typeof problem?.detail === 'string' ? problem.detail : undefined;
  const title = typeof problem?.title === 'string' ? problem.title : undefined;
  const reason = detail ?? title ?? 'no reason given';
  if (status === 401)
    return `the instance refused the access key (${reason}); copy the current key from Settings › Sensors`;
  return `the instance answered ${status}: ${reason}`;
}

/** RFC 4514 escaping for the host name in the CSR's subject (the CA ignores it, but it must parse). */
function escapeRdn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1') || 'sensor';
}

/** Writes a file readable by its owner only, atomically. */
async function writePrivate(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
