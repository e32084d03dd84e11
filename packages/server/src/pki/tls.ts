// TLS for the instance's listeners and for sensors' connections, and the check an mTLS-only
// route makes of its caller: a certificate from the instance CA, in date, for client
// authentication, not revoked, naming a sensor.

import type { X509Certificate } from 'node:crypto';
import type { AgentOptions, ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { type InstanceCa, type ServerCertificate, sensorIdPattern, sensorUriPrefix } from './ca.ts';
import { normalizeSerialNumber, type RevocationStore } from './revocation.ts';

const minVersion = 'TLSv1.2';
const clientAuthOid = '1.3.6.1.5.5.7.3.2';

type ServerKeyPair = Pick<ServerCertificate, 'certificatePem' | 'privateKeyPem'>;

/** Options for the portal and API listener: the server certificate, no client certificate asked. */
export function portalServerOptions(server: ServerKeyPair): ServerOptions {
  return { key: server.privateKeyPem, cert: server.certificatePem, minVersion };
}

/**
 * Options for a listener only sensors use: the handshake fails without a certificate from the
 * instance CA that is in date and allows client authentication. Revocation is checked per
 * request by `verifySensorPeer`, which every route must still call.
 */
export function sensorServerOptions(
  server: ServerKeyPair,
  ca: Pick<InstanceCa, 'certificatePem'>,
): ServerOptions {
  return {
    ...portalServerOptions(server),
    ca: [ca.certificatePem],
    requestCert: true,
    rejectUnauthorized: true,
  };
}

/**
 * Options for one listener serving the portal, registration and sensors (the default
 * 127.0.0.1:8443): a client certificate is asked for but optional, and the mTLS-only routes
 * refuse callers that `verifySensorPeer` rejects. Browsers are not prompted: the request names
 * the instance CA, which issues no browser certificates.
 */
export function sharedServerOptions(
  server: ServerKeyPair,
  ca: Pick<InstanceCa, 'certificatePem'>,
): ServerOptions {
  return {
    ...portalServerOptions(server),
    ca: [ca.certificatePem],
    requestCert: true,
    rejectUnauthorized: false,
  };
}

/** What a sensor (or a test) needs to call the instance: its key and chain, and the CA to pin. */
export interface SensorCredentials {
  /** The sensor's private key, PEM. */
  readonly key: string;
  /** The sensor's certificate (or chain), PEM. */
  readonly cert: string;
  /** The instance CA certificate, PEM: the only trusted root for the server. */
  readonly ca: string;
}

/** Options for `new https.Agent(...)` or `https.request`: mTLS, the server checked against the instance CA only. */
export function sensorAgentOptions(credentials: SensorCredentials): AgentOptions {
  return {
    key: credentials.key,
    cert: credentials.cert,
    ca: [credentials.ca],
    rejectUnauthorized: true,
    minVersion,
  };
}

export const sensorPeerRejections = [
  'no-certificate',
  'untrusted',
  'expired',
  'not-yet-valid',
  'not-client-auth',
  'revoked',
  'no-sensor-id',
] as const;
export type SensorPeerRejection = (typeof sensorPeerRejections)[number];

/** The caller of an mTLS route: a sensor, or why it is refused (HTTP 401/403 for the server). */
export type SensorPeer =
  | {
      readonly kind: 'sensor';
      readonly sensorId: string;
      readonly serialNumber: string;
      readonly notAfter: Date;
    }
  | { readonly kind: 'rejected'; readonly reason: SensorPeerRejection; readonly message: string };

/** What `verifySensorPeer` trusts. */
export interface SensorTrust {
  readonly ca: Pick<InstanceCa, 'certificate'>;
  readonly revocations: Pick<RevocationStore, 'isRevoked'>;
  /** The clock, for tests. */
  readonly now?: Date | undefined;
}

/**
 * The sensor id of the peer on `socket` (for HTTP, `req.socket`). Checks the certificate
 * itself rather than trusting the listener's settings, and on every request, so a sensor
 * deleted while connected is refused at its next request.
 */
export function verifySensorPeer(socket: Socket, trust: SensorTrust): SensorPeer {
  if (!(socket instanceof TLSSocket)) return rejected('no-certificate', 'the connection is not TLS');
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined) return rejected('no-certificate', 'the client sent no certificate');
  const ca = trust.ca.certificate;
  // One level only: sensor certificates are signed by the instance CA itself.
  if (peer.ca || !peer.checkIssued(ca) || !peer.verify(ca.publicKey)) {
    return rejected('untrusted', `the certificate of ${peer.subject} was not issued by the instance CA`);
  }
  const now = (trust.now ?? new Date()).getTime();
  if (now < new Date(peer.validFrom).getTime()) {
    return rejected('not-yet-valid', `the certificate is valid from ${peer.validFrom}`);
  }
  if (now > new Date(peer.validTo).getTime())
    return rejected('expired', `the certificate expired on ${peer.validTo}`);
  if (!(peer.keyUsage ?? []).includes(clientAuthOid)) {
    return rejected('not-client-auth', 'the certificate is not for client authentication');
  }
  // OpenSSL's own verdict too, for anything the checks above do not cover.
  if (!socket.authorized) {
    return rejected('untrusted', `TLS verification failed: ${String(socket.authorizationError)}`);
  }
  const serialNumber = normalizeSerialNumber(peer.serialNumber);
  if (trust.revocations.isRevoked(serialNumber)) {
    return rejected('revoked', `certificate ${serialNumber} is revoked (the sensor was deleted)`);
  }
  const sensorId = sensorIdOf(peer);
  if (sensorId === undefined) {
    return rejected(
      'no-sensor-id',
      `expected CN=<sensor id> and URI ${sensorUriPrefix}<sensor id>, found ${peer.subject}`,
    );
  }
  return { kind: 'sensor', sensorId, serialNumber, notAfter: new Date(peer.validTo) };
}

/** The sensor id when the certificate's only CN and its only URI SAN agree on it. */
function sensorIdOf(peer: X509Certificate): string | undefined {
  const names = peer.subject.split('\n').filter((line) => line.startsWith('CN='));
  const uris = (peer.subjectAltName ?? '')
    .split(', ')
    .filter((name) => name.startsWith('URI:'))
    .map((name) => name.slice('URI:'.length));
  const [name] = names;
  const [uri] = uris;
  if (names.length !== 1 || uris.length !== 1 || name === undefined || uri === undefined) return undefined;
  const id = name.slice('CN='.length);
  return sensorIdPattern.test(id) && uri === `${sensorUriPrefix}${id}` ? id : undefined;
}

function rejected(reason: SensorPeerRejection, message: string): SensorPeer {
  return { kind: 'rejected', reason, message };
}
