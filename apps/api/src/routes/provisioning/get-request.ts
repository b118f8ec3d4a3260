import { getProvisioningRequest, listAudit } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { idParams } from '../common.js';
import { provisioningRequestWithAuditOut } from './schemas.js';

const options = route({
  operationId: 'getProvisioningRequest',
  summary: 'Get a provisioning request',
  description:
    'Its status, the plan (the exact AWS and Kubernetes calls, with before and after), the result, and its audit trail.',
  tag: 'provisioning',
  scope: 'read',
  method: 'GET',
  params: idParams,
  responses: {
    200: {
      description: 'The request and its audit trail.',
      schema: provisioningRequestWithAuditOut,
      example: examples.provisioningRequestWithAudit,
    },
  },
  errors: {
    404: {
      when: 'No provisioning request has this id.',
      example: 'provisioning request c7d8e9f0-a1b2-4c3d-8e4f-5a6b7c8d9e0f not found',
    },
  },
});

/** GET /v1/provisioning-requests/{id}: status, the plan (exact calls), the result and the audit trail. */
export function registerGetProvisioningRequest(app: App, deps: AppDeps): void {
  app.get('/v1/provisioning-requests/:id', options, async (req) => {
    const request = await getProvisioningRequest(deps.database, req.params.id);
    const audit = await listAudit(deps.database, { target: request.id }, { limit: 100 });
    return { ...request, audit: audit.items };
  });
}
