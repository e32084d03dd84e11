// Real TLS on 127.0.0.1: the portal listener's certificate validates against the instance CA,
// a sensor-only listener refuses foreign, expired and missing client certificates in the
// handshake, and on the shared listener verifySensorPeer refuses them per request, revoked
// (deleted) sensors included. A small register route shows the access key lifecycle end to end.

import 'reflect-metadata';
import { randomUUID, webcrypto } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, type RequestOptions, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessKeyRecord, generateAccessKey, verifyAccessKey } from '../src/pki/access-key.ts';
import {
  createInstanceCa,
  ensureServerCertificate,
  type InstanceCa,
  type ServerCertificate,
  signSensorCsr,
} from '../src/pki/ca.ts';
import { FileRevocationStore } from '../src/pki/revocation.ts';
import {
  portalServerOptions,
  type SensorCredentials,
  sensorAgentOptions,
  sensorServerOptions,
  sharedServerOptions,
  verifySensorPeer,
} from '../src/pki/tls.ts';

/** A response, with the client's port to tell connections apart, or the client's error code. */
type Reply = { status: number; body: string; localPort: number | undefined } | { error: string };

const dirs: string[] = [];
const servers: Server[] = [];
let ca: InstanceCa;
let serverCertificate: ServerCertificate;
let revocations: FileRevocationStore;

async function newCa(name: string): Promise<InstanceCa> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-tls-'));
  dirs.push(dir);
  return createInstanceCa(dir, { instanceName: name });
}

/** What a sensor does to register: make a key, send a CSR, keep key and certificate. */
async function newSensorKey(): Promise<{ csrPem: string; keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name: 'CN=whoever', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } },
    webcrypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { csrPem: csr.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

async function sensorFrom(
  issuer: InstanceCa,
  sensorId: string,
  options: { now?: Date; validityDays?: number } = {},
): Promise<SensorCredentials & { serialNumber: string }> {
  const { csrPem, keyPem } = await newSensorKey();
  const result = await signSensorCsr(issuer, csrPem, sensorId, options);
  if (result.kind !== 'issued') throw new Error(result.message);
  return { key: keyPem, cert: result.chainPem, ca: ca.certificatePem, serialNumber: result.serialNumber };
}

async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function call(port: number, path: string, options: RequestOptions & { body?: string } = {}): Promise<Reply> {
  const { body, ...requestOptions } = options;
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, ...requestOptions }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text, localPort: res.socket?.localPort }),
      );
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(body);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** The sensor routes: who is calling, or why not. */
function sensorRoute(req: IncomingMessage, res: ServerResponse): void {
  const peer = verifySensorPeer(req.socket, { ca, revocations });
  if (peer.kind === 'sensor') send(res, 200, { sensorId: peer.sensorId });
  else send(res, peer.reason === 'no-certificate' ? 401 : 403, { reason: peer.reason });
}

beforeAll(async () => {
  ca = await newCa('corp.example');
  const dir = dirs[0] ?? '';
  serverCertificate = await ensureServerCertificate(dir, ca);
  revocations = await FileRevocationStore.open(join(dir, 'revoked.json'));
});

afterAll(async () => {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('portal listener', () => {
  it('serves a certificate that validates against the instance CA for localhost, 127.0.0.1 and ::1', async () => {
    const port = await listen(
      createServer(portalServerOptions(serverCertificate), (_req, res) => send(res, 200, {})),
    );
    const pinned = { ca: [ca.certificatePem] };
    expect(await call(port, '/', { ...pinned, servername: 'localhost' })).toMatchObject({ status: 200 });
    expect(await call(port, '/', pinned)).toMatchObject({ status: 200 });
    expect(await call(port, '/', { ...pinned, servername: 'palisade.evil.example' })).toEqual({
      error: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    // Without the instance CA, the certificate is one nobody vouches for.
    expect(await call(port, '/', {})).toEqual({ error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const foreign = await newCa('other.example');
    expect(await call(port, '/', { ca: [foreign.certificatePem] })).toEqual({
      error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('validates on ::1 too, where the machine has IPv6', async (context) => {
    const server = createServer(portalServerOptions(serverCertificate), (_req, res) => send(res, 200, {}));
    let port: number;
    try {
      port = await listen(server, '::1');
    } catch (error) {
      context.skip(`no IPv6 loopback here: ${String(error)}`);
      return;
    }
    expect(await call(port, '/', { host: '::1', ca: [ca.certificatePem] })).toMatchObject({ status: 200 });
  });
});

describe('sensor-only listener', () => {
  let port: number;
  const handshakeErrors: string[] = [];
  beforeAll(async () => {
    const server = createServer(sensorServerOptions(serverCertificate, ca), sensorRoute);
    // Node checks the client's chain as the handshake ends and drops the socket when it fails;
    // the socket keeps OpenSSL's verdict.
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) =>
      handshakeErrors.push(String(socket.authorizationError ?? error.code)),
    );
    port = await listen(server);
  });

  it('lets a sensor with a certificate from the instance CA in, under its id', async () => {
    const sensor = await sensorFrom(ca, 'sensor-a');
    const reply = await call(port, '/', sensorAgentOptions(sensor));
    expect(reply).toMatchObject({ status: 200 });
    expect(JSON.parse('body' in reply ? reply.body : '{}')).toMatchObject({ sensorId: 'sensor-a' });
  });

  it('refuses in the handshake: no certificate, another CA, an expired one, a server certificate', async () => {
    const sensor = await sensorFrom(ca, 'sensor-b');
    const foreign = await sensorFrom(await newCa('attacker.example'), 'sensor-b');
    const expired = await sensorFrom(ca, 'sensor-b', {
      now: new Date(Date.now() - 3 * 86_400_000),
      validityDays: 1,
    });
    const asServer = {
      ...sensor,
      key: serverCertificate.privateKeyPem,
      cert: serverCertificate.certificatePem,
    };
    const errors: Reply[] = [];
    for (const credentials of [{ ...sensor, key: '', cert: '' }, foreign, expired, asServer]) {
      const options = credentials.cert === '' ? { ca: [ca.certificatePem] } : sensorAgentOptions(credentials);
      errors.push(await call(port, '/', options));
    }
    expect(errors).toEqual([
      { error: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' },
      { error: 'ECONNRESET' },
      { error: 'ECONNRESET' },
      { error: 'ECONNRESET' },
    ]);
    expect(handshakeErrors).toEqual([
      'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'CERT_HAS_EXPIRED',
      'INVALID_PURPOSE',
    ]);
  });

  it('refuses a revoked (deleted) sensor at the route, its handshake being valid', async () => {
    const sensor = await sensorFrom(ca, 'sensor-deleted');
    expect(await call(port, '/', sensorAgentOptions(sensor))).toMatchObject({ status: 200 });
    await revocations.revoke(sensor.serialNumber, new Date());
    expect(await call(port, '/', sensorAgentOptions(sensor))).toMatchObject({
      status: 403,
      body: '{"reason":"revoked"}',
    });
  });
});

describe('shared listener with mTLS-only routes', () => {
  let port: number;
  let accessKey: AccessKeyRecord;

  beforeAll(async () => {
    port = await listen(
      createServer(sharedServerOptions(serverCertificate, ca), (req, res) => {
        if (req.url === '/portal') return send(res, 200, { portal: true });
        if (req.url === '/register') return register(req, res);
        return sensorRoute(req, res);
      }),
    );
  });

  /** Registration as the server will do it: key checked, id chosen here, CSR signed. */
  function register(req: IncomingMessage, res: ServerResponse): void {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', async () => {
      const { accessKey: presented, csr } = JSON.parse(text) as { accessKey: string; csr: string };
      if (!verifyAccessKey(accessKey, presented)) return send(res, 401, { reason: 'access key' });
      const result = await signSensorCsr(ca, csr, randomUUID());
      if (result.kind === 'rejected') return send(res, 400, { reason: result.code });
      send(res, 201, {
        sensorId: result.sensorId,
        chain: result.chainPem,
        serialNumber: result.serialNumber,
      });
    });
  }

  async function registerWith(
    key: string,
  ): Promise<{ status: number; sensor?: SensorCredentials & { id: string; serialNumber: string } }> {
    const { csrPem, keyPem } = await newSensorKey();
    const reply = await call(port, '/register', {
      method: 'POST',
      ca: [ca.certificatePem],
      body: JSON.stringify({ accessKey: key, csr: csrPem }),
    });
    if ('error' in reply) throw new Error(reply.error);
    if (reply.status !== 201) return { status: reply.status };
    const body = JSON.parse(reply.body) as { sensorId: string; chain: string; serialNumber: string };
    return {
      status: reply.status,
      sensor: {
        id: body.sensorId,
        key: keyPem,
        cert: body.chain,
        ca: ca.certificatePem,
        serialNumber: body.serialNumber,
      },
    };
  }

  async function sensorCall(credentials: Partial<SensorCredentials>): Promise<Reply> {
    const options =
      credentials.cert === undefined || credentials.key === undefined
        ? { ca: [ca.certificatePem] }
        : sensorAgentOptions({ key: credentials.key, cert: credentials.cert, ca: ca.certificatePem });
    return call(port, '/sensor', options);
  }

  it('serves the portal without a client certificate but refuses the sensor routes', async () => {
    expect(await call(port, '/portal', { ca: [ca.certificatePem] })).toMatchObject({ status: 200 });
    expect(await sensorCall({})).toMatchObject({ status: 401, body: '{"reason":"no-certificate"}' });
  });

  it('tells apart another CA, expiry and a certificate not for client authentication', async () => {
    const foreign = await sensorFrom(await newCa('attacker.example'), 'sensor-c');
    expect(await sensorCall(foreign)).toMatchObject({ status: 403, body: '{"reason":"untrusted"}' });
    const expired = await sensorFrom(ca, 'sensor-c', {
      now: new Date(Date.now() - 3 * 86_400_000),
      validityDays: 1,
    });
    expect(await sensorCall(expired)).toMatchObject({ status: 403, body: '{"reason":"expired"}' });
    const asServer = { key: serverCertificate.privateKeyPem, cert: serverCertificate.certificatePem };
    expect(await sensorCall(asServer)).toMatchObject({ status: 403, body: '{"reason":"not-client-auth"}' });
  });

  it('registers with the access key; after regeneration the old key fails and registered sensors keep working', async () => {
    const first = generateAccessKey();
    accessKey = first.record;
    expect((await registerWith('pak_wrong')).status).toBe(401);
    const registered = await registerWith(first.key);
    expect(registered.status).toBe(201);
    const sensor = registered.sensor;
    if (sensor === undefined) throw new Error('no sensor');
    const reply = await sensorCall(sensor);
    expect(reply).toMatchObject({ status: 200 });
    expect(JSON.parse('body' in reply ? reply.body : '{}')).toMatchObject({ sensorId: sensor.id });

    const second = generateAccessKey(accessKey);
    accessKey = second.record;
    expect((await registerWith(first.key)).status).toBe(401);
    expect((await registerWith(second.key)).status).toBe(201);
    expect(await sensorCall(sensor)).toMatchObject({ status: 200 });
  });

  it('refuses a deleted sensor at its next request, even on a connection already open', async () => {
    const sensor = await sensorFrom(ca, 'sensor-kept-alive');
    const agent = new Agent({ ...sensorAgentOptions(sensor), keepAlive: true, maxSockets: 1 });
    try {
      const before = await call(port, '/sensor', { agent });
      expect(before).toMatchObject({ status: 200 });
      await revocations.revoke(sensor.serialNumber, new Date());
      const after = await call(port, '/sensor', { agent });
      expect(after).toMatchObject({ status: 403, body: '{"reason":"revoked"}' });
      // Same TCP connection: the check is per request, not per handshake.
      expect('localPort' in after && after.localPort).toBe('localPort' in before && before.localPort);
    } finally {
      agent.destroy();
    }
  });
});
