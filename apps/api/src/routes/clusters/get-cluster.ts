import { getCluster } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { idParams } from '../common.js';
import { clusterOut } from './schemas.js';

const options = route({
  operationId: 'getCluster',
  summary: 'Get a cluster',
  tag: 'clusters',
  scope: 'read',
  method: 'GET',
  params: idParams,
  responses: {
    200: {
      description: 'The cluster, without its secrets (only whether each is set).',
      schema: clusterOut,
      example: examples.cluster,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
  },
});

/** GET /v1/clusters/{id}: one cluster, without secrets (only whether each is set). */
export function registerGetCluster(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id', options, async (req) => getCluster(deps.database, req.params.id));
}
