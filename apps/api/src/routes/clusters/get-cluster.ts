import { getCluster } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams } from '../common.js';

/** GET /v1/clusters/{id}: one cluster, without secrets (only whether each is set). */
export function registerGetCluster(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id', { config: { scope: 'read' }, schema: { params: idParams, tags: ['clusters'] } }, async (req) => getCluster(deps.database, req.params.id));
}
