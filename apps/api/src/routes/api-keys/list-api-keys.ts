import { listApiKeys } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { apiKeyList, toApiKeyView } from './schemas.js';

const query = z.object({
  includeRevoked: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

const options = route({
  operationId: 'listApiKeys',
  summary: 'List API keys',
  description:
    'The keys (never their secrets) with last use, expiry and revocation; `includeRevoked=true` adds revoked and expired ones.',
  tag: 'api-keys',
  scope: 'admin',
  method: 'GET',
  querystring: query,
  responses: { 200: { description: 'The keys.', schema: apiKeyList, example: examples.apiKeyList } },
});

/** GET /v1/api-keys: the keys (never their secrets) with last use, expiry and revocation. */
export function registerListApiKeys(app: App, deps: AppDeps): void {
  app.get('/v1/api-keys', options, async (req) => {
    const keys = await listApiKeys(deps.database, { includeRevoked: req.query.includeRevoked ?? false });
    return { items: keys.map(toApiKeyView) };
  });
}
