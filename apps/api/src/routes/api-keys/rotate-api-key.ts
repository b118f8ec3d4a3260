import { rotateApiKey } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, idParams } from '../common.js';
import { rotateBody, toApiKeyView } from './schemas.js';

/**
 * POST /v1/api-keys/{id}/rotate: a new key with the same name and scopes replaces the old one,
 * which stops working at once; 201 with the new plaintext `key`, shown this once.
 */
export function registerRotateApiKey(app: App, deps: AppDeps): void {
  app.post(
    '/v1/api-keys/:id/rotate',
    { config: { scope: 'admin' }, schema: { params: idParams, body: rotateBody, tags: ['api-keys'] } },
    async (req, reply) => {
      const expiresAt = req.body?.expiresAt;
      const { key, apiKey } = await rotateApiKey(deps.database, req.params.id, {
        audit: auditOf(req),
        ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
      });
      return reply.status(201).send({ ...toApiKeyView(apiKey), key });
    },
  );
}
