import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { registerCreateApiKey } from './create-api-key.js';
import { registerListApiKeys } from './list-api-keys.js';
import { registerRevokeApiKey } from './revoke-api-key.js';
import { registerRotateApiKey } from './rotate-api-key.js';

/** API key management (admin scope). Keys are checked against Postgres on every request, so a revocation holds at once on every API process. */
export function registerApiKeyRoutes(app: App, deps: AppDeps): void {
  registerListApiKeys(app, deps);
  registerCreateApiKey(app, deps);
  registerRevokeApiKey(app, deps);
  registerRotateApiKey(app, deps);
}
