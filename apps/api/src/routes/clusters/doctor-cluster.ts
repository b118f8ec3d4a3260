// POST /v1/clusters/{id}/doctor: check every step of a registered cluster's connector setup with
// its stored credentials (eks-access doctor). The API never calls AWS itself: it records the run
// and queues it; a sync worker runs the doctor and stores the report, which GET /v1/clusters/{id}
// shows as `doctor` (the latest run, its result, when it finished, every check and fix).
import { DOCTOR_RUN_STATUSES, enqueueDoctorRun, type DoctorRun } from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, idParams } from '../common.js';

export const doctorBody = z
  .object({
    /** Also check every write provisioning needs; defaults to the cluster's provisioningEnabled. */
    provisioning: z.boolean().optional(),
  })
  .strict()
  .nullish();

const isoTime = z.string().describe('ISO 8601 timestamp');

export const doctorRunView = z.object({
  id: z.uuid(),
  clusterId: z.uuid(),
  status: z.enum(DOCTOR_RUN_STATUSES),
  provisioning: z.boolean(),
  /** The doctor's overall status once it ran: pass, warn (only warnings) or fail. */
  result: z.enum(['pass', 'warn', 'fail']).nullable(),
  requestedAt: isoTime,
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  /** Why the doctor could not run at all (its findings are in `report`). */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** eks-core's DoctorReport: cluster, identity, checks (id, title, status, detail, fix), fixes. */
  report: z.record(z.string(), z.unknown()).nullable(),
});

export const doctorResponse = doctorRunView.extend({
  /** False when a run was already queued or running; that run is returned. */
  created: z.boolean(),
});

/** The public view of a doctor run. */
export function toDoctorRunView(run: DoctorRun): z.infer<typeof doctorRunView> {
  return {
    id: run.id,
    clusterId: run.clusterId,
    status: run.status,
    provisioning: run.provisioning,
    result: run.result ?? null,
    requestedAt: run.requestedAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    error: run.error ?? null,
    report: run.report ?? null,
  };
}

/** POST /v1/clusters/{id}/doctor: 202 with the queued doctor run (or the one already pending). */
export function registerDoctorCluster(app: App, deps: AppDeps): void {
  app.post(
    '/v1/clusters/:id/doctor',
    {
      config: { scope: 'admin' },
      schema: { params: idParams, body: doctorBody, response: { 202: doctorResponse }, tags: ['clusters'] },
    },
    async (req, reply) => {
      // Redis first: during an outage nothing is recorded and the caller gets a 503.
      await deps.producer.assertAvailable();
      const provisioning = req.body?.provisioning;
      const { run, created } = await enqueueDoctorRun(deps.database, req.params.id, {
        ...(provisioning === undefined ? {} : { provisioning }),
        audit: auditOf(req),
      });
      if (run.status === 'queued') {
        await deps.producer.enqueue('cluster.doctor', { clusterId: run.clusterId, doctorRunId: run.id });
      }
      return reply.status(202).send({ ...toDoctorRunView(run), created });
    },
  );
}
