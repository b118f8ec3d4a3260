import { createApiKey } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf } from '../common.js';
import { createBody, toApiKeyView } from './schemas.js';

/** POST /v1/api-keys: creates a key; 201 with the plaintext `key`, shown this once. */
export function registerCreateApiKey(app: App, deps: AppDeps): void {
  app.post(
    '/v1/api-keys',
    { config: { scope: 'admin' }, schema: { body: createBody, tags: ['api-keys'] } },
    async (req, reply) => {
      const { key, apiKey } = await createApiKey(deps.database, req.body.name, req.body.scopes, {
        audit: auditOf(req),
        ...(req.body.expiresAt ? { expiresAt: new Date(req.body.expiresAt) } : {}),
      });
      return reply.status(201).send({ ...toApiKeyView(apiKey), key });
    },
  );
}
