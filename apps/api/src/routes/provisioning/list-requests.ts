import { listProvisioningRequests } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { compact } from '../access/compact.js';
import { pageQuery } from '../common.js';

const query = pageQuery.extend({
  clusterId: z.uuid().optional(),
  principalArn: z.string().max(2048).optional(),
  status: z.enum(['pending', 'running', 'succeeded', 'failed', 'refused']).optional(),
});

/** GET /v1/provisioning-requests: newest first, filtered by cluster, principal and status. */
export function registerListProvisioningRequests(app: App, deps: AppDeps): void {
  app.get('/v1/provisioning-requests', { config: { scope: 'read' }, schema: { querystring: query, tags: ['provisioning'] } }, async (req) => {
    const { cursor, limit, ...filters } = req.query;
    return listProvisioningRequests(deps.database, compact(filters), compact({ cursor, limit }));
  });
}
