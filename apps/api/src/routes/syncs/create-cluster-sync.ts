import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { auditOf, idParams } from '../common.js';
import { queuedSyncRunOut } from './schemas.js';

const options = route({
  operationId: 'syncCluster',
  summary: 'Sync a cluster',
  description:
    'Queues a sync of the cluster, or returns the one already queued or running (`created: false`): asking twice never queues two.',
  tag: 'syncs',
  scope: 'sync',
  method: 'POST',
  params: idParams,
  responses: {
    202: {
      description: 'The queued (or already pending) run; follow it with GET /v1/syncs/{id}.',
      schema: queuedSyncRunOut,
      example: examples.queuedSyncRun,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
    409: {
      when: 'The cluster is disabled.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 is disabled; enable it to sync',
    },
  },
});
import { queueSync } from './enqueue.js';

/** POST /v1/clusters/{id}/syncs: 202 with the queued run (or the one already pending). */
export function registerCreateClusterSync(app: App, deps: AppDeps): void {
  app.post('/v1/clusters/:id/syncs', options, async (req, reply) => {
    const { run, created } = await queueSync(deps, req.params.id, 'api', auditOf(req));
    return reply.status(202).send({ ...run, created });
  });
}
