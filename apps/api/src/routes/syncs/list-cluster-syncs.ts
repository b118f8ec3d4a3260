import { listSyncRuns } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams, pageQuery } from '../common.js';

/** GET /v1/clusters/{id}/syncs: the cluster's runs, newest first. */
export function registerListClusterSyncs(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/syncs', { config: { scope: 'read' }, schema: { params: idParams, querystring: pageQuery, tags: ['syncs'] } }, async (req) =>
    listSyncRuns(deps.database, req.params.id, { ...(req.query.cursor ? { cursor: req.query.cursor } : {}), ...(req.query.limit ? { limit: req.query.limit } : {}) }),
  );
}
