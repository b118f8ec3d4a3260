// Shared by the sync routes: record the run in Postgres (which guarantees one queued or running
// run per cluster), then put its job on the queue. The job id is derived from the run, so when a
// previous request recorded the run but lost the enqueue, asking again repairs it without a
// duplicate job.
import { enqueueSyncRun, type SyncRun } from '@eks-access/db';
import type { AppDeps } from '../../deps.js';

export type Trigger = 'api' | 'bulk' | 'schedule' | 'c1';

/** Queues a sync of one cluster, or returns the one already queued or running. */
export async function queueSync(deps: AppDeps, clusterId: string, trigger: Trigger, audit: { actor: string; requestId: string }): Promise<{ run: SyncRun; created: boolean }> {
  const result = await enqueueSyncRun(deps.database, clusterId, trigger, { audit });
  if (result.run.status === 'queued') {
    await deps.producer.enqueue('cluster.sync', { clusterId, syncRunId: result.run.id, trigger: result.run.trigger });
  }
  return result;
}
