import { listProvisioningRequests } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { compact } from '../access/compact.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { pageQuery } from '../common.js';
import { provisioningRequestPage } from './schemas.js';

const query = pageQuery.extend({
  clusterId: z.uuid().optional(),
  principalArn: z.string().max(2048).optional(),
  status: z.enum(['pending', 'running', 'succeeded', 'failed', 'refused']).optional(),
});

const options = route({
  operationId: 'listProvisioningRequests',
  summary: 'List provisioning requests',
  description: 'Newest first, filtered by cluster, principal ARN and status.',
  tag: 'provisioning',
  scope: 'read',
  method: 'GET',
  querystring: query,
  responses: {
    200: {
      description: 'A page of requests.',
      schema: provisioningRequestPage,
      example: examples.provisioningRequestPage,
    },
  },
});

/** GET /v1/provisioning-requests: newest first, filtered by cluster, principal and status. */
export function registerListProvisioningRequests(app: App, deps: AppDeps): void {
  app.get('/v1/provisioning-requests', options, async (req) => {
    const { cursor, limit, ...filters } = req.query;
    return listProvisioningRequests(deps.database, compact(filters), compact({ cursor, limit }));
  });
}
