// The instance's route table: every route with its permission and audience, and the OpenAPI
// document made from that same list (so the document cannot miss a route).
import { buildOpenApiDocument, type OpenApiDocument } from '../api/openapi.ts';
import type { Route } from '../http/route.ts';
import { json } from '../http/route.ts';
import { adminRoutes } from './admin-routes.ts';
import { alertRoutes } from './alert-routes.ts';
import { authRoutes } from './auth-routes.ts';
import type { RouteContext } from './context.ts';
import { customDetectionRoutes } from './custom-detection-routes.ts';
import { huntingRoutes } from './hunting-routes.ts';
import { incidentRoutes } from './incident-routes.ts';
import { machineRoutes } from './machine-routes.ts';
import { sensorActionRoutes } from './sensor-action-routes.ts';
import { sensorConfigRoutes } from './sensor-config-routes.ts';
import { sensorHealthRoutes } from './sensor-health-routes.ts';
import { sensorRoutes } from './sensor-routes.ts';

/** The OpenAPI document of a route table. */
export function openApiOf(routes: readonly Route[], version: string): OpenApiDocument {
  return buildOpenApiDocument({
    title: 'Palisade API',
    version,
    description:
      'The instance API: MDE-compatible alerts, incidents, machines and advanced hunting, custom detection rules, the sensor channel, sign-in and settings. Permissions are Palisade route permissions (x-palisade-permission).',
    sessionCookie: '__Host-palisade-session',
    routes: routes.map((route) => ({
      method: route.method.toLowerCase() as 'get' | 'put' | 'post' | 'delete' | 'patch',
      path: route.path,
      summary: route.summary,
      permission:
        route.permission === 'public' || route.permission === 'authenticated' ? null : route.permission,
      audience: route.audience,
      ...(route.query === undefined ? {} : { query: route.query }),
      ...(route.requestBody === undefined ? {} : { requestBody: route.requestBody }),
      responses: route.responses,
      ...(route.tags === undefined ? {} : { tags: route.tags }),
    })),
  });
}

/** Every route of the instance, `GET /api/openapi.json` included. */
export function instanceRoutes(context: RouteContext, version: string): Route[] {
  const routes: Route[] = [
    ...authRoutes(context),
    ...sensorRoutes(context),
    ...sensorConfigRoutes(context),
    ...sensorActionRoutes(context),
    ...sensorHealthRoutes(context),
    ...alertRoutes(context),
    ...incidentRoutes(context),
    ...machineRoutes(context),
    ...huntingRoutes(context),
    ...customDetectionRoutes(context),
    ...adminRoutes(context),
  ];
  let document: OpenApiDocument | undefined;
  routes.push({
    method: 'GET',
    path: '/api/openapi.json',
    permission: 'public',
    audience: 'public',
    summary: 'This API as an OpenAPI 3.1 document',
    responses: { 200: { description: 'The OpenAPI document' } },
    tags: ['meta'],
    async handler() {
      document ??= openApiOf(routes, version);
      return json(200, document);
    },
  });
  return routes;
}
