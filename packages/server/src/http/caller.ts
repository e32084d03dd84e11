// Who is calling, in the order the three ways in are tried: a sensor route admits only a sensor's
// client certificate (from the instance CA, in date, not revoked, naming a registered sensor);
// any other route takes a bearer token (API clients) or a session cookie (the portal; unsafe
// methods also need the CSRF token and a same-origin Origin). Then `authorize` decides; a user who
// signed in with a one-time password may only change it, look at the session or sign out.
import type { IncomingMessage } from 'node:http';
import type { StateStore } from '@palisade/store';
import { type ApiClientStore, verifyAccessToken } from '../auth/api-clients.ts';
import { anonymous, authorize, type Principal } from '../auth/authorize.ts';
import {
  checkCsrf,
  checkOrigin,
  csrfHeaderName,
  readCookie,
  resolveSession,
  type SessionStore,
  sessionCookieName,
} from '../auth/sessions.ts';
import type { SensorRevocations } from '../instance.ts';
import type { InstanceCa } from '../pki/ca.ts';
import { normalizeSerialNumber } from '../pki/revocation.ts';
import { verifySensorPeer } from '../pki/tls.ts';
import { loadUserPrincipal } from './credentials.ts';
import { fail, type Route, type SensorCaller } from './route.ts';

export interface CallerContext {
  readonly state: StateStore;
  readonly ca: InstanceCa;
  readonly revocations: SensorRevocations;
  readonly sessions: SessionStore;
  readonly apiClients: ApiClientStore;
  /** The instance's own origins (`https://127.0.0.1:8443`), for the Origin check. */
  readonly allowedOrigins: () => readonly string[];
  readonly now: () => number;
}

export interface Caller {
  readonly principal: Principal;
  readonly sensor: SensorCaller | undefined;
  readonly sessionToken: string | undefined;
}

const noCaller: Caller = { principal: anonymous, sensor: undefined, sessionToken: undefined };

/** What a session whose user must change a one-time password may still call (`METHOD path`). */
export const passwordChangeRoutes: ReadonlySet<string> = new Set([
  'POST /api/auth/password',
  'GET /api/auth/session',
  'POST /api/auth/logout',
]);

/** The caller of `route`, authorised, or an HttpProblem (401, 403 or 404). */
export async function resolveCaller(
  route: Route,
  request: IncomingMessage,
  context: CallerContext,
): Promise<Caller> {
  if (route.audience === 'sensor') {
    return { ...noCaller, sensor: await sensorCaller(request, context) };
  }
  // Public routes (login, token, registration) look at no credentials, so a stale one cannot block them.
  if (route.permission === 'public') return noCaller;
  const { caller, mustChangePassword } = await userOrClient(request, context);
  if (mustChangePassword && !passwordChangeRoutes.has(`${route.method} ${route.path}`)) {
    fail(
      'forbidden',
      'your password is a one-time password: change it with POST /api/auth/password before anything else',
    );
  }
  const decision = authorize(caller.principal, route.permission);
  if (!decision.allow) {
    const kind =
      decision.status === 401 ? 'unauthorized' : decision.status === 403 ? 'forbidden' : 'not-found';
    fail(kind, decision.reason, decision.status === 401 ? { 'www-authenticate': 'Bearer' } : undefined);
  }
  return caller;
}

async function sensorCaller(request: IncomingMessage, context: CallerContext): Promise<SensorCaller> {
  const peer = verifySensorPeer(request.socket, {
    ca: context.ca,
    revocations: context.revocations,
    now: new Date(context.now()),
  });
  if (peer.kind === 'rejected')
    fail('unauthorized', `sensor certificate refused (${peer.reason}): ${peer.message}`);
  // The record too: a sensor deleted from the store, or a certificate it no longer holds, is out.
  const sensor = await context.state.sensors.get(peer.sensorId);
  if (sensor === undefined || sensor.revokedAt !== null) {
    fail('unauthorized', `sensor ${peer.sensorId} is not registered (deleted or revoked)`);
  }
  if (normalizeSerialNumber(sensor.certificateSerial) !== peer.serialNumber) {
    fail('unauthorized', `certificate ${peer.serialNumber} is not the one sensor ${peer.sensorId} holds`);
  }
  return { sensorId: peer.sensorId, serialNumber: peer.serialNumber };
}

async function userOrClient(
  request: IncomingMessage,
  context: CallerContext,
): Promise<{ caller: Caller; mustChangePassword: boolean }> {
  const found = (caller: Caller, mustChangePassword = false) => ({ caller, mustChangePassword });
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const verified = await verifyAccessToken(context.apiClients, authorization, context.now());
    if (!verified.ok) {
      fail('unauthorized', verified.description, {
        'www-authenticate':
          verified.error === 'missing'
            ? 'Bearer'
            : `Bearer error="invalid_token", error_description="${verified.description}"`,
      });
    }
    return found({ ...noCaller, principal: verified.principal });
  }
  const token = readCookie(request.headers.cookie, sessionCookieName);
  if (token === undefined) return found(noCaller);
  const session = await resolveSession(context.sessions, token, context.now());
  if (session.kind === 'invalid') return found(noCaller);
  const method = request.method ?? 'GET';
  const csrf = checkCsrf({ method, sessionToken: token, csrfHeader: header(request, csrfHeaderName) });
  if (!csrf.ok) fail('forbidden', `CSRF check failed (${csrf.reason}): send the session's X-CSRF-Token`);
  const origin = checkOrigin({
    method,
    origin: header(request, 'origin'),
    referer: header(request, 'referer'),
    allowedOrigins: context.allowedOrigins(),
  });
  if (!origin.ok) fail('forbidden', `cross-origin request refused (${origin.reason})`);
  const user = await context.state.users.get(session.record.userId);
  if (user === undefined || user.disabled) return found(noCaller);
  return found(
    { principal: await loadUserPrincipal(context.state, user), sensor: undefined, sessionToken: token },
    user.mustChangePassword,
  );
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
