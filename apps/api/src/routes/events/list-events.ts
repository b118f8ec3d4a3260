import { listChangeEvents } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { changeEventPage, eventPageQuery } from './schemas.js';

const options = route({
  operationId: 'listEvents',
  summary: 'List change events after a cursor',
  description:
    'The change-event log, oldest first: grants and revokes found by the watcher (within seconds) or by full syncs, resource changes, and findings (a new system:masters member, a new cluster-admin binding, a new AmazonEKSClusterAdminPolicy association). Resume with the returned `cursor`: ids follow commit order, so nothing committed later can appear behind it.',
  tag: 'events',
  scope: 'read',
  method: 'GET',
  querystring: eventPageQuery,
  responses: {
    200: {
      description: 'Events after the cursor.',
      schema: changeEventPage,
      example: examples.changeEventPage,
    },
  },
});

/** GET /v1/events: the change-event log after a cursor, filtered. */
export function registerListEvents(app: App, deps: AppDeps): void {
  app.get('/v1/events', options, async (req) => {
    const q = req.query;
    return listChangeEvents(deps.database, {
      ...(q.cursor ? { cursor: q.cursor } : {}),
      ...(q.clusterId ? { clusterId: q.clusterId } : {}),
      ...(q.principalArn ? { principalId: q.principalArn } : {}),
      ...(q.kind ? { kinds: q.kind } : {}),
      ...(q.startAt ? { startAt: new Date(q.startAt) } : {}),
      ...(q.limit ? { limit: q.limit } : {}),
    });
  });
}
