// The run janitor: a sync run is only as alive as its queue job. BullMQ gives up on a job after
// repeated stalls (its worker died twice) without calling the handler, and Redis can lose jobs;
// either way the run would stay queued or running forever and block its cluster's next sync.
// Runs older than a job's lock lifetime are checked against their job (never while it is waiting,
// delayed or running, so a live job is not duplicated): a queued run gets its job again; a running
// run whose job is gone or dead-lettered (a job that stalled twice, past its second attempt) gets a
// new job while it has started fewer than `maxStarts` times, since a sync re-run from the start is
// idempotent and the snapshot only moves when one completes; after that it is failed (`JOB_LOST`)
// with the reason. Safe to run on every worker (a lock keeps it to one at a time).
import { failSyncRun, listStaleSyncRuns, type Database } from '@eks-access/db';
import type { LockManager, Producer } from '@eks-access/queue';

export interface ReconcileRunsDeps {
  database: Database;
  producer: Producer;
  locks: LockManager;
  /** Runs younger than this are left alone: their job may still be on its way. */
  staleAfterMs: number;
  /** How long the janitor's own lock lives; a janitor that died frees it after this. */
  lockMs?: number;
  /** Starts after which a running run whose job is lost is failed instead of queued again. */
  maxStarts?: number;
}

const ALIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** One pass; returns how many runs it failed and how many jobs it queued again. */
export async function reconcileRuns(deps: ReconcileRunsDeps): Promise<{ failed: number; requeued: number }> {
  const maxStarts = deps.maxStarts ?? 1;
  return deps.locks.withLock('lock:reconcile-runs', { ttlMs: deps.lockMs ?? 30_000 }, async () => {
    let failed = 0;
    let requeued = 0;
    for (const run of await listStaleSyncRuns(deps.database, deps.staleAfterMs)) {
      const payload = { clusterId: run.clusterId, syncRunId: run.id, trigger: run.trigger };
      const state = await deps.producer.jobState('cluster.sync', payload);
      if (ALIVE.has(state)) continue;
      if (run.status === 'running' && run.attempt >= maxStarts) {
        await failSyncRun(
          deps.database,
          run.id,
          {
            code: 'JOB_LOST',
            message: `the sync job ended (${state}) after ${run.attempt} starts without finishing the run; its workers probably died`,
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
