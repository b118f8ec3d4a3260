import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { registerGetPrincipalAccess } from './get-principal-access.js';
import { registerListEntitlements } from './list-entitlements.js';
import { registerListGrants } from './list-grants.js';
import { registerListResources } from './list-resources.js';

/** Snapshot and effective-access read routes. */
export function registerAccessRoutes(app: App, deps: AppDeps): void {
  registerListResources(app, deps);
  registerListEntitlements(app, deps);
  registerListGrants(app, deps);
  registerGetPrincipalAccess(app, deps);
}
