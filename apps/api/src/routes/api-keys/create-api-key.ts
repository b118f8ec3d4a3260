import { createApiKey } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { auditOf } from '../common.js';
import { apiKeyWithSecretOut, createBody, toApiKeyView } from './schemas.js';

const options = route({
  operationId: 'createApiKey',
  summary: 'Create an API key',
  tag: 'api-keys',
  scope: 'admin',
  method: 'POST',
  body: createBody,
  requestExample: examples.newApiKey,
  responses: {
    201: {
      description: 'The key, with its plaintext `key` shown this once.',
      schema: apiKeyWithSecretOut,
      example: examples.apiKeyWithSecret,
    },
  },
});

/** POST /v1/api-keys: creates a key; 201 with the plaintext `key`, shown this once. */
export function registerCreateApiKey(app: App, deps: AppDeps): void {
  app.post('/v1/api-keys', options, async (req, reply) => {
    const { key, apiKey } = await createApiKey(deps.database, req.body.name, req.body.scopes, {
      audit: auditOf(req),
      ...(req.body.expiresAt ? { expiresAt: new Date(req.body.expiresAt) } : {}),
    });
    return reply.status(201).send({ ...toApiKeyView(apiKey), key });
  });
}
