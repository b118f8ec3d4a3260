import { listEntitlements } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { idParams, pageQuery } from '../common.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { cachedAnswer } from './cached.js';
import { compact } from './compact.js';
import { entitlementPage } from './schemas.js';

const query = pageQuery.extend({
  type: z.string().max(50).optional(),
  resourceId: z.string().max(2048).optional(),
  syncRunId: z.uuid().optional(),
});

const options = route({
  operationId: 'listEntitlements',
  summary: 'List a snapshot’s entitlements',
  description:
    'The entitlements of the cluster’s current snapshot (or of `syncRunId`), filtered by the type and id of their resource, by id.',
  tag: 'access',
  scope: 'read',
  method: 'GET',
  params: idParams,
  querystring: query,
  responses: {
    200: {
      description:
        'A page of the snapshot; `syncRunId` is null and `items` empty before the first successful sync.',
      schema: entitlementPage,
      example: examples.entitlementPage,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id, or `syncRunId` names a run of it without a snapshot.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
  },
});

/** GET /v1/clusters/{id}/entitlements: the current snapshot's entitlements, filtered and paginated. */
export function registerListEntitlements(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/entitlements', options, async (req, reply) =>
    cachedAnswer(deps, req, reply, req.params.id, () =>
      listEntitlements(deps.database, req.params.id, compact(req.query)),
    ),
  );
}
