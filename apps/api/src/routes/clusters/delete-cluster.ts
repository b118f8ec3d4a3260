import { deleteCluster, getCluster } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { route } from '../../openapi/route.js';
import { auditOf, idParams } from '../common.js';

const options = route({
  operationId: 'deleteCluster',
  summary: 'Unregister a cluster',
  description: 'Stops the cluster’s scheduled syncs, then unregisters it. Its audit events stay.',
  tag: 'clusters',
  scope: 'admin',
  method: 'DELETE',
  params: idParams,
  responses: { 204: { description: 'Unregistered.' } },
  errors: {
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
  },
});

/** DELETE /v1/clusters/{id}: unregisters a cluster and stops its scheduled syncs. */
export function registerDeleteCluster(app: App, deps: AppDeps): void {
  app.delete('/v1/clusters/:id', options, async (req, reply) => {
    // The schedule goes first: a delete that fails half-way leaves a cluster the retry can still
    // find and delete, never a deleted cluster whose schedule keeps producing jobs.
    await getCluster(deps.database, req.params.id);
    await deps.producer.removeSchedule(req.params.id);
    await deleteCluster(deps.database, req.params.id, { audit: auditOf(req) });
    return reply.status(204).send();
  });
}
