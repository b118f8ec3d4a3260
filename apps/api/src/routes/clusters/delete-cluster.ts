import { deleteCluster, getCluster } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, idParams } from '../common.js';

/** DELETE /v1/clusters/{id}: unregisters a cluster and stops its scheduled syncs. */
export function registerDeleteCluster(app: App, deps: AppDeps): void {
  app.delete('/v1/clusters/:id', { config: { scope: 'admin' }, schema: { params: idParams, tags: ['clusters'] } }, async (req, reply) => {
    // The schedule goes first: a delete that fails half-way leaves a cluster the retry can still
    // find and delete, never a deleted cluster whose schedule keeps producing jobs.
    await getCluster(deps.database, req.params.id);
    await deps.producer.removeSchedule(req.params.id);
    await deleteCluster(deps.database, req.params.id, { audit: auditOf(req) });
    return reply.status(204).send();
  });
}
