import { getProvisioningRequest, listAudit } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams } from '../common.js';

/** GET /v1/provisioning-requests/{id}: status, the plan (exact calls), the result and the audit trail. */
export function registerGetProvisioningRequest(app: App, deps: AppDeps): void {
  app.get('/v1/provisioning-requests/:id', { config: { scope: 'read' }, schema: { params: idParams, tags: ['provisioning'] } }, async (req) => {
    const request = await getProvisioningRequest(deps.database, req.params.id);
    const audit = await listAudit(deps.database, { target: request.id }, { limit: 100 });
    return { ...request, audit: audit.items };
  });
}
