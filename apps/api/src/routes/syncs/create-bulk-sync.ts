import { enqueueSyncRunsForAll } from '@eks-access/db';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { assertQueueRoom } from '../queue-room.js';
import { bulkSyncOut } from './schemas.js';

const options = route({
  operationId: 'syncAllClusters',
  summary: 'Sync every enabled cluster',
  description:
    'Queues a sync of every enabled cluster; a cluster that already has a queued or running sync keeps it (`created: false`).',
  tag: 'syncs',
  scope: 'sync',
  method: 'POST',
  responses: {
    202: {
      description: 'The queued (or already pending) runs.',
      schema: bulkSyncOut,
      example: examples.bulkSync,
    },
  },
});

/** POST /v1/syncs: queues a sync of every enabled cluster (already pending ones are reused). */
export function registerCreateBulkSync(app: App, deps: AppDeps): void {
  app.post('/v1/syncs', options, async (_req, reply) => {
    // Redis first: during an outage no run is recorded (see enqueue.ts for the rest).
    await assertQueueRoom(deps, 'eks-sync');
    const results = await enqueueSyncRunsForAll(deps.database, 'bulk');
    for (const { run } of results) {
      if (run.status === 'queued')
        await deps.producer.enqueue('cluster.sync', {
          clusterId: run.clusterId,
          syncRunId: run.id,
          trigger: 'bulk',
        });
    }
    return reply.status(202).send({ items: results.map(({ run, created }) => ({ ...run, created })) });
  });
}
