import { revokeApiKey } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, idParams } from '../common.js';

/** DELETE /v1/api-keys/{id}: revokes a key, effective on the next request to any API process; 204, also when already revoked. */
export function registerRevokeApiKey(app: App, deps: AppDeps): void {
  app.delete(
    '/v1/api-keys/:id',
    { config: { scope: 'admin' }, schema: { params: idParams, tags: ['api-keys'] } },
    async (req, reply) => {
      await revokeApiKey(deps.database, req.params.id, { audit: auditOf(req) });
      return reply.status(204).send();
    },
  );
}
