import { rotateApiKey } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { auditOf, idParams } from '../common.js';
import { apiKeyWithSecretOut, rotateBody, toApiKeyView } from './schemas.js';

const options = route({
  operationId: 'rotateApiKey',
  summary: 'Rotate an API key',
  description:
    'A new key with the same name and scopes replaces this one, which stops working at once. The body is optional.',
  tag: 'api-keys',
  scope: 'admin',
  method: 'POST',
  params: idParams,
  body: rotateBody,
  bodyOptional: true,
  requestExample: examples.apiKeyRotation,
  responses: {
    201: {
      description: 'The new key, with its plaintext `key` shown this once.',
      schema: apiKeyWithSecretOut,
      example: examples.rotatedApiKey,
    },
  },
  errors: {
    404: {
      when: 'No API key has this id.',
      example: 'API key 2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d not found',
    },
    409: {
      when: 'The key is revoked or expired.',
      example: 'API key 2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d is revoked or expired; create a new key instead',
    },
  },
});

/**
 * POST /v1/api-keys/{id}/rotate: a new key with the same name and scopes replaces the old one,
 * which stops working at once; 201 with the new plaintext `key`, shown this once.
 */
export function registerRotateApiKey(app: App, deps: AppDeps): void {
  app.post('/v1/api-keys/:id/rotate', options, async (req, reply) => {
    const expiresAt = req.body?.expiresAt;
    const { key, apiKey } = await rotateApiKey(deps.database, req.params.id, {
      audit: auditOf(req),
      ...(expiresAt ? { expiresAt: new Date(expiresAt) } : {}),
    });
    return reply.status(201).send({ ...toApiKeyView(apiKey), key });
  });
}
