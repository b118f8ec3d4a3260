import { getCluster, latestDoctorRun } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { idParams } from '../common.js';
import { toDoctorRunView } from './doctor-cluster.js';

/** GET /v1/clusters/{id}: one cluster, without secrets (only whether each is set), and its latest doctor run. */
export function registerGetCluster(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id', { config: { scope: 'read' }, schema: { params: idParams, tags: ['clusters'] } }, async (req) => {
    const cluster = await getCluster(deps.database, req.params.id);
    const doctor = await latestDoctorRun(deps.database, cluster.id);
    return { ...cluster, doctor: doctor ? toDoctorRunView(doctor) : null };
  });
}
