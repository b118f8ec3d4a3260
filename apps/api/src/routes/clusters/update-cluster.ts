import { updateCluster } from '@eks-access/db';
import type { App } from '../../app.js';
import type { AppDeps } from '../../deps.js';
import { auditOf, clusterBody, idParams, scheduleSchema } from '../common.js';
import { toClusterInput } from './mapping.js';

const patchBody = clusterBody.partial().extend({ schedule: scheduleSchema.nullable().optional() });

/** PATCH /v1/clusters/{id}: changes fields; `schedule: null` removes the schedule. */
export function registerUpdateCluster(app: App, deps: AppDeps): void {
  app.patch('/v1/clusters/:id', { config: { scope: 'admin' }, schema: { params: idParams, body: patchBody, tags: ['clusters'] } }, async (req) => {
    const { schedule, ...rest } = req.body;
    const input = toClusterInput(rest);
    // A PATCH is idempotent: if Redis fails after the row changed, the client's retry completes it.
    if (schedule !== undefined) await deps.producer.assertAvailable();
    if (schedule === null) input.schedule = null;
    else if (schedule) input.schedule = 'everyMs' in schedule ? { every_ms: schedule.everyMs } : { cron: schedule.cron };
    const cluster = await updateCluster(deps.database, req.params.id, input, { audit: auditOf(req) });
    if (schedule === null) await deps.producer.removeSchedule(cluster.id);
    else if (schedule) await deps.producer.upsertSchedule(cluster.id, schedule);
    return cluster;
  });
}
