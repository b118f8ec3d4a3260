import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { registerCreateCluster } from './create-cluster.js';
import { registerDeleteCluster } from './delete-cluster.js';
import { registerDoctorCluster } from './doctor-cluster.js';
import { registerGetCluster } from './get-cluster.js';
import { registerListClusters } from './list-clusters.js';
import { registerRegisterClusters } from './register-clusters.js';
import { registerUpdateCluster } from './update-cluster.js';

/** Cluster registration routes. */
export function registerClusterRoutes(app: App, deps: AppDeps): void {
  registerCreateCluster(app, deps);
  registerRegisterClusters(app, deps);
  registerListClusters(app, deps);
  registerGetCluster(app, deps);
  registerUpdateCluster(app, deps);
  registerDeleteCluster(app, deps);
  registerDoctorCluster(app, deps);
}
