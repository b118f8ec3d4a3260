// The `cluster.scheduled-sync` job (from a BullMQ job scheduler): queue a run the way the API does
// and, when this job created it, carry it out here. When a run is already queued or running
// (someone asked through the API, or the last scheduled sync is slow) this tick does nothing.
import { enqueueSyncRun } from '@eks-access/db';
import type { JobContext, JobPayload } from '@eks-access/queue';
import { syncClusterJob, type SyncJobDeps, type SyncJobResult } from './sync-cluster.js';

/** Handles one schedule tick for a cluster. */
export async function scheduledSyncJob(deps: SyncJobDeps, payload: JobPayload<'cluster.scheduled-sync'>, ctx: JobContext): Promise<SyncJobResult> {
  const { run, created } = await enqueueSyncRun(deps.database, payload.clusterId, 'schedule', { audit: { actor: `worker:${deps.workerId}` } });
  if (!created) return { syncRunId: run.id, status: 'skipped' };
  return syncClusterJob(deps, { clusterId: payload.clusterId, syncRunId: run.id, trigger: 'schedule' }, ctx);
}
