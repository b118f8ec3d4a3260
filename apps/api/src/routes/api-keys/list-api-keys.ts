import { listApiKeys } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { toApiKeyView } from './schemas.js';

const query = z.object({
  includeRevoked: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

/** GET /v1/api-keys: the keys (never their secrets) with last use, expiry and revocation. */
export function registerListApiKeys(app: App, deps: AppDeps): void {
  app.get(
    '/v1/api-keys',
    { config: { scope: 'admin' }, schema: { querystring: query, tags: ['api-keys'] } },
    async (req) => {
      const keys = await listApiKeys(deps.database, { includeRevoked: req.query.includeRevoked ?? false });
      return { items: keys.map(toApiKeyView) };
    },
  );
}
