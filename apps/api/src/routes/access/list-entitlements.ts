import { listEntitlements } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams, pageQuery } from '../common.js';
import { compact } from './compact.js';

const query = pageQuery.extend({ type: z.string().max(50).optional(), resourceId: z.string().max(2048).optional(), syncRunId: z.uuid().optional() });

/** GET /v1/clusters/{id}/entitlements: the current snapshot's entitlements, filtered and paginated. */
export function registerListEntitlements(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id/entitlements', { config: { scope: 'read' }, schema: { params: idParams, querystring: query, tags: ['access'] } }, async (req) =>
    listEntitlements(deps.database, req.params.id, compact(req.query)),
  );
}
