// The Health issues page's data: every sensor health issue, open and closed, newest first,
// optionally narrowed to one sensor or one status (`?sensorId=…&status=Open`).
import { problemFromBodyIssues } from '../api/problem.ts';
import { failWith, json, type Route } from '../http/route.ts';
import { odataPage, type RouteContext } from './context.ts';

const issueStatuses = ['Open', 'Closed'] as const;

export function sensorHealthRoutes(context: RouteContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/health/issues',
      permission: 'sensors.read',
      audience: 'api',
      summary: 'Sensor health issues, newest first (?sensorId, ?status=Open|Closed)',
      responses: { 200: { description: 'The health issues with their open and closed times' } },
      tags: ['sensors'],
      async handler(request) {
        const sensorId = request.url.searchParams.get('sensorId');
        const status = request.url.searchParams.get('status');
        if (status !== null && !(issueStatuses as readonly string[]).includes(status)) {
          failWith(
            problemFromBodyIssues(
              [
                {
                  path: ['status'],
                  expected: issueStatuses.join(' or '),
                  found: status,
                  code: 'query/bad-value',
                },
              ],
              request.url.pathname,
            ),
          );
        }
        const issues = (await context.sensorHealth.list()).filter(
          (i) => (sensorId === null || i.sensorId === sensorId) && (status === null || i.status === status),
        );
        return json(200, odataPage(context, 'HealthIssues', issues));
      },
    },
  ];
}
