// The run janitor: a sync run is only as alive as its queue job. BullMQ gives up on a job after
// repeated stalls (its worker died twice) without calling the handler, and Redis can lose jobs;
// either way the run would stay queued or running forever and block its cluster's next sync.
// Runs older than a job's lock lifetime are checked against their job: a running run whose job is
// gone or finished is failed (`JOB_LOST`), a queued one gets its job again. Safe to run on every
// worker (a lock keeps it to one at a time).
import { failSyncRun, listStaleSyncRuns, type Database } from '@eks-access/db';
import type { LockManager, Producer } from '@eks-access/queue';

export interface ReconcileRunsDeps {
  database: Database;
  producer: Producer;
  locks: LockManager;
  /** Runs younger than this are left alone: their job may still be on its way. */
  staleAfterMs: number;
}

const ALIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** One pass; returns how many runs it failed and how many jobs it queued again. */
export async function reconcileRuns(deps: ReconcileRunsDeps): Promise<{ failed: number; requeued: number }> {
  return deps.locks.withLock('lock:reconcile-runs', { ttlMs: 30_000 }, async () => {
    let failed = 0;
    let requeued = 0;
    for (const run of await listStaleSyncRuns(deps.database, deps.staleAfterMs)) {
      const payload = { clusterId: run.clusterId, syncRunId: run.id, trigger: run.trigger };
      const state = await deps.producer.jobState('cluster.sync', payload);
      if (ALIVE.has(state)) continue;
      if (run.status === 'running') {
        await failSyncRun(
          deps.database,
          run.id,
          {
            code: 'JOB_LOST',
            message: `the sync job ended (${state}) without finishing the run; its worker probably died`,
          },
          run.attempt,
        );
        failed++;
      } else {
        await deps.producer.requeue('cluster.sync', payload);
        requeued++;
      }
    }
    return { failed, requeued };
  });
}
