import { updateCluster } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { component } from '../../openapi/component.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { auditOf, clusterBody, idParams, scheduleSchema } from '../common.js';
import { toClusterInput } from './mapping.js';
import { clusterOut } from './schemas.js';

const patchBody = component(
  'ClusterPatch',
  'The fields to change, as in a registration; absent fields stay as they are, `schedule: null` removes the schedule. Unknown fields are refused.',
  clusterBody.partial().extend({ schedule: scheduleSchema.nullable().optional() }),
);

const options = route({
  operationId: 'updateCluster',
  summary: 'Change a cluster',
  description:
    'Changes the given fields (secrets included: they are sealed again). Idempotent: a retry after a failure completes the change.',
  tag: 'clusters',
  scope: 'admin',
  method: 'PATCH',
  params: idParams,
  body: patchBody,
  requestExample: examples.clusterPatch,
  responses: {
    200: {
      description: 'The cluster as changed.',
      schema: clusterOut,
      example: {
        ...examples.cluster,
        enabled: false,
        schedule: { cron: '0 */6 * * *' },
        labels: examples.clusterPatch.labels,
        updatedAt: '2026-05-04T12:00:00.000Z',
      },
    },
  },
  errors: {
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
    409: {
      when: 'The new name clashes with another registered cluster in the same region and account.',
      example: 'a cluster named "prod-eu" in eu-west-1 is already registered for this account',
    },
  },
});

/** PATCH /v1/clusters/{id}: changes fields; `schedule: null` removes the schedule. */
export function registerUpdateCluster(app: App, deps: AppDeps): void {
  app.patch('/v1/clusters/:id', options, async (req) => {
    const { schedule, ...rest } = req.body;
    const input = toClusterInput(rest);
    // A PATCH is idempotent: if Redis fails after the row changed, the client's retry completes it.
    if (schedule !== undefined) await deps.producer.assertAvailable();
    if (schedule === null) input.schedule = null;
    else if (schedule)
      input.schedule = 'everyMs' in schedule ? { every_ms: schedule.everyMs } : { cron: schedule.cron };
    const cluster = await updateCluster(deps.database, req.params.id, input, { audit: auditOf(req) });
    if (schedule === null) await deps.producer.removeSchedule(cluster.id);
    else if (schedule) await deps.producer.upsertSchedule(cluster.id, schedule);
    return cluster;
  });
}
