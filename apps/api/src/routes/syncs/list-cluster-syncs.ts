import { listSyncRuns } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { idParams, pageQuery } from '../common.js';
import { syncRunPage } from './schemas.js';

const options = route({
  operationId: 'listClusterSyncs',
  summary: 'List a cluster’s sync runs',
  tag: 'syncs',
  scope: 'read',
  method: 'GET',
  params: idParams,
  querystring: pageQuery,
  responses: {
    200: {
      description: 'A page of the cluster’s runs, newest first.',
      schema: syncRunPage,
      example: examples.syncRunPage,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
  },
});

/** GET /v1/clusters/{id}/syncs: the cluster's runs, newest first. */
export function registerListClusterSyncs(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/syncs', options, async (req) =>
    listSyncRuns(deps.database, req.params.id, {
      ...(req.query.cursor ? { cursor: req.query.cursor } : {}),
      ...(req.query.limit ? { limit: req.query.limit } : {}),
    }),
  );
}
