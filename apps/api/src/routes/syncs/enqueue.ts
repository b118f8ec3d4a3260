// Shared by the sync routes: record the run in Postgres (which guarantees one queued or running
// run per cluster), then put its job on the queue. Redis is checked first, so during an outage the
// request gets a 503 and no run is recorded. If Redis fails between the two steps, the job id is
// derived from the run, so asking again repairs it without a duplicate job, and the sync worker's
// run janitor queues the job of a run left queued without one.
import { enqueueSyncRun, type SyncRun } from '@eks-access/db';
import type { AppDeps } from '../../deps.js';
import { assertQueueRoom } from '../queue-room.js';

export type Trigger = 'api' | 'bulk' | 'schedule' | 'c1';

/** Queues a sync of one cluster, or returns the one already queued or running. */
export async function queueSync(
  deps: AppDeps,
  clusterId: string,
  trigger: Trigger,
  audit: { actor: string; requestId: string },
): Promise<{ run: SyncRun; created: boolean }> {
  await assertQueueRoom(deps, 'eks-sync');
  const result = await enqueueSyncRun(deps.database, clusterId, trigger, { audit });
  if (result.run.status === 'queued') {
    await deps.producer.enqueue('cluster.sync', {
      clusterId,
      syncRunId: result.run.id,
      trigger: result.run.trigger,
    });
  }
  return result;
}
