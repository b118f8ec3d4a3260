import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { registerCreateBulkSync } from './create-bulk-sync.js';
import { registerCreateClusterSync } from './create-cluster-sync.js';
import { registerGetDiff } from './get-diff.js';
import { registerGetSync } from './get-sync.js';
import { registerListClusterSyncs } from './list-cluster-syncs.js';

/** Sync routes. */
export function registerSyncRoutes(app: App, deps: AppDeps): void {
  registerCreateClusterSync(app, deps);
  registerCreateBulkSync(app, deps);
  registerGetSync(app, deps);
  registerListClusterSyncs(app, deps);
  registerGetDiff(app, deps);
}
