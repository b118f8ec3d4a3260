import { listGrants } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams, pageQuery } from '../common.js';
import { compact } from './compact.js';

const query = pageQuery.extend({
  type: z.string().max(50).optional(),
  resourceId: z.string().max(2048).optional(),
  entitlementId: z.string().max(4096).optional(),
  principalType: z.string().max(50).optional(),
  principalId: z.string().max(2048).optional(),
  syncRunId: z.uuid().optional(),
});

/** GET /v1/clusters/{id}/grants: the current snapshot's grants, filtered and paginated. */
export function registerListGrants(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/grants', { config: { scope: 'read' }, schema: { params: idParams, querystring: query, tags: ['access'] } }, async (req) =>
    listGrants(deps.database, req.params.id, compact(req.query)),
  );
}
