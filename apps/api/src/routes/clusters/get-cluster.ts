import { getCluster, latestDoctorRun } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { idParams } from '../common.js';
import { toDoctorRunView } from './doctor-cluster.js';
import { clusterWithDoctorOut } from './schemas.js';

const options = route({
  operationId: 'getCluster',
  summary: 'Get a cluster',
  tag: 'clusters',
  scope: 'read',
  method: 'GET',
  params: idParams,
  responses: {
    200: {
      description: 'The cluster, without its secrets (only whether each is set), with its latest doctor run.',
      schema: clusterWithDoctorOut,
      example: examples.clusterWithDoctor,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
  },
});

/** GET /v1/clusters/{id}: one cluster, without secrets (only whether each is set), and its latest doctor run. */
export function registerGetCluster(app: App, deps: AppDeps): void {
  app.get('/v1/clusters/:id', options, async (req) => {
    const cluster = await getCluster(deps.database, req.params.id);
    const doctor = await latestDoctorRun(deps.database, cluster.id);
    return { ...cluster, doctor: doctor ? toDoctorRunView(doctor) : null };
  });
}
