// POST /v1/clusters/{id}/doctor: check every step of a registered cluster's connector setup with
// its stored credentials (eks-access doctor). The API never calls AWS itself: it records the run
// and queues it; a sync worker runs the doctor and stores the report, which GET /v1/clusters/{id}
// shows as `doctor` (the latest run, its result, when it finished, every check and fix).
import { enqueueDoctorRun, type DoctorRun } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { assertQueueRoom } from '../queue-room.js';
import { auditOf, idParams } from '../common.js';
import { queuedDoctorRunOut, type doctorRunOut } from './doctor-schemas.js';

export const doctorBody = z
  .object({
    provisioning: z.boolean().optional().meta({
      description:
        "Also check every write provisioning needs; defaults to the cluster's `provisioningEnabled`.",
    }),
  })
  .strict()
  .nullish();

const options = route({
  operationId: 'doctorCluster',
  summary: "Check a cluster's connector setup",
  description:
    'Queues `eks-access doctor` for the cluster: a sync worker checks every step of the connector setup with the stored credentials (credentials, role trust and ExternalId, each AWS permission the sync needs, the authentication mode, how the connector reaches Kubernetes, each Kubernetes list, bindings whose roleRef does not exist, and provisioning writes) and stores the report, shown as `doctor` by GET /v1/clusters/{id}. Asking again while a run is pending returns it (`created: false`). The body is optional.',
  tag: 'clusters',
  scope: 'admin',
  method: 'POST',
  params: idParams,
  body: doctorBody,
  bodyOptional: true,
  requestExample: examples.doctorRequest,
  responses: {
    202: {
      description: 'The queued (or already pending) doctor run.',
      schema: queuedDoctorRunOut,
      example: examples.queuedDoctorRun,
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
    409: {
      when: 'The cluster is disabled.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 is disabled; enable it to check it',
    },
  },
});

/** The public view of a doctor run (the stored report as it was written). */
export function toDoctorRunView(run: DoctorRun): z.input<typeof doctorRunOut> {
  return {
    id: run.id,
    clusterId: run.clusterId,
    status: run.status,
    provisioning: run.provisioning,
    result: run.result ?? null,
    requestedAt: run.requestedAt,
    startedAt: run.startedAt ?? null,
    finishedAt: run.finishedAt ?? null,
    error: run.error ?? null,
    report: (run.report ?? null) as z.input<typeof doctorRunOut>['report'],
  };
}

/** POST /v1/clusters/{id}/doctor: 202 with the queued doctor run (or the one already pending). */
export function registerDoctorCluster(app: App, deps: AppDeps): void {
  app.post('/v1/clusters/:id/doctor', options, async (req, reply) => {
    // Redis first: during an outage nothing is recorded and the caller gets a 503.
    await assertQueueRoom(deps, 'eks-sync');
    const provisioning = req.body?.provisioning;
    const { run, created } = await enqueueDoctorRun(deps.database, req.params.id, {
      ...(provisioning === undefined ? {} : { provisioning }),
      audit: auditOf(req),
    });
    if (run.status === 'queued') {
      await deps.producer.enqueue('cluster.doctor', { clusterId: run.clusterId, doctorRunId: run.id });
    }
    return reply.status(202).send({ ...toDoctorRunView(run), created });
  });
}
