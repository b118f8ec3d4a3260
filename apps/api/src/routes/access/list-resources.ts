import { listResources } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams, pageQuery } from '../common.js';
import { compact } from './compact.js';

const query = pageQuery.extend({
  type: z.string().max(50).optional(),
  resourceId: z.string().max(2048).optional(),
  parentType: z.string().max(50).optional(),
  parentId: z.string().max(2048).optional(),
  syncRunId: z.uuid().optional(),
});

/** GET /v1/clusters/{id}/resources: the current snapshot's resources, filtered and paginated. */
export function registerListResources(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/resources', { config: { scope: 'read' }, schema: { params: idParams, querystring: query, tags: ['access'] } }, async (req) =>
    listResources(deps.database, req.params.id, compact(req.query)),
  );
}
