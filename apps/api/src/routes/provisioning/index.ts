import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { registerCreateProvisioningRequest } from './create-request.js';
import { registerGetProvisioningRequest } from './get-request.js';
import { registerListProvisioningRequests } from './list-requests.js';

/** Provisioning request routes. */
export function registerProvisioningRoutes(app: App, deps: AppDeps): void {
  registerCreateProvisioningRequest(app, deps);
  registerGetProvisioningRequest(app, deps);
  registerListProvisioningRequests(app, deps);
}
