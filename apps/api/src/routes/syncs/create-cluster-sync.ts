import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, idParams } from '../common.js';
import { queueSync } from './enqueue.js';

/** POST /v1/clusters/{id}/syncs: 202 with the queued run (or the one already pending). */
export function registerCreateClusterSync(app: App, deps: AppDeps): void {
  app.post('/v1/clusters/:id/syncs', { config: { scope: 'sync' }, schema: { params: idParams, tags: ['syncs'] } }, async (req, reply) => {
    const { run, created } = await queueSync(deps, req.params.id, 'api', auditOf(req));
    return reply.status(202).send({ ...run, created });
  });
}
