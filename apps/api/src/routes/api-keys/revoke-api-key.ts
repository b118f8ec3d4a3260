import { revokeApiKey } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { route } from '../../openapi/route.js';
import { auditOf, idParams } from '../common.js';

const options = route({
  operationId: 'revokeApiKey',
  summary: 'Revoke an API key',
  description:
    'Every API process refuses the key from its next request. Revoking a revoked key is not an error.',
  tag: 'api-keys',
  scope: 'admin',
  method: 'DELETE',
  params: idParams,
  responses: { 204: { description: 'Revoked (or already revoked).' } },
  errors: {
    404: {
      when: 'No API key has this id.',
      example: 'API key 2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d not found',
    },
  },
});

/** DELETE /v1/api-keys/{id}: revokes a key, effective on the next request to any API process; 204, also when already revoked. */
export function registerRevokeApiKey(app: App, deps: AppDeps): void {
  app.delete('/v1/api-keys/:id', options, async (req, reply) => {
    await revokeApiKey(deps.database, req.params.id, { audit: auditOf(req) });
    return reply.status(204).send();
  });
}
