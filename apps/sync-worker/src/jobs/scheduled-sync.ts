// The `cluster.scheduled-sync` job (from a BullMQ job scheduler): queue a run the way the API does.
// The tick only records the run and queues its `cluster.sync` job (the job id comes from the run,
// so queueing it again is harmless); the sync itself, its retries and its failure handling are
// that job's. A tick while a run is queued re-queues its job (repairing a lost one); a tick while
// one is running does nothing.
import { enqueueSyncRun } from '@eks-access/db';
import type { JobPayload } from '@eks-access/queue';
import type { SyncJobDeps } from './sync-cluster.js';

export interface ScheduledSyncResult {
  syncRunId: string;
  status: 'queued' | 'already-running';
  created: boolean;
}

/** Handles one schedule tick for a cluster. */
export async function scheduledSyncJob(
  deps: SyncJobDeps,
  payload: JobPayload<'cluster.scheduled-sync'>,
): Promise<ScheduledSyncResult> {
  const { run, created } = await enqueueSyncRun(deps.database, payload.clusterId, 'schedule', {
    audit: { actor: `worker:${deps.workerId}` },
  });
  if (run.status !== 'queued') return { syncRunId: run.id, status: 'already-running', created };
  await deps.producer.enqueue('cluster.sync', {
    clusterId: payload.clusterId,
    syncRunId: run.id,
    trigger: run.trigger,
  });
  return { syncRunId: run.id, status: 'queued', created };
}
