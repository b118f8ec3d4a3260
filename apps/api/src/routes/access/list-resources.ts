import { listResources } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { idParams, pageQuery } from '../common.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { cachedAnswer } from './cached.js';
import { compact } from './compact.js';
import { resourcePage } from './schemas.js';

const query = pageQuery.extend({
  type: z.string().max(50).optional(),
  resourceId: z.string().max(2048).optional(),
  parentType: z.string().max(50).optional(),
  parentId: z.string().max(2048).optional(),
  syncRunId: z.uuid().optional(),
});

const options = route({
  operationId: 'listResources',
  summary: 'List a snapshot’s resources',
  description:
    'The resources of the cluster’s current snapshot (or of `syncRunId`), filtered by type, id and parent, by type and id. A cursor stays on the snapshot it was issued for.',
  tag: 'access',
  scope: 'read',
  method: 'GET',
  params: idParams,
  querystring: query,
  responses: {
    200: {
      description:
        'A page of the snapshot; `syncRunId` is null and `items` empty before the first successful sync.',
      schema: resourcePage,
      example: examples.resourcePage,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id, or `syncRunId` names a run of it without a snapshot.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
  },
});

/** GET /v1/clusters/{id}/resources: the current snapshot's resources, filtered and paginated. */
export function registerListResources(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/resources', options, async (req, reply) =>
    cachedAnswer(deps, req, reply, req.params.id, () =>
      listResources(deps.database, req.params.id, compact(req.query)),
    ),
  );
}
