// The request janitor: a provisioning request is only as alive as its queue job. BullMQ gives up on
// a job that stalled too often (its worker was killed twice) without calling the handler, Redis can
// lose a job, and the API can record a request and then fail to queue it; each would leave the
// request pending or running forever, possibly with the change already made in the cluster.
// Invariants:
// - Only requests untouched for `staleAfterMs` are looked at, and only when their job is neither
//   waiting, delayed nor running, so a live job is never duplicated.
// - A request whose job is gone is queued again while it has started fewer than `maxStarts` times:
//   eks-core reads fresh state and is idempotent, so the re-run completes what the dead worker began
//   (a grant already in place ends `already-granted`).
// - Past `maxStarts` it is failed with the reason (`JOB_LOST`), fenced on its attempt so a worker
//   that took it meanwhile wins.
// - Pending revokes of time-bound grants belong to the expiry reconciler until the expiry instant.
// - Safe on every provisioner process: a Redis lock keeps it to one pass at a time.
import {
  finishProvisioningRequest,
  listStaleProvisioningRequests,
  SyncRunStateError,
  type Database,
} from '@eks-access/db';
import type { LockManager, Producer } from '@eks-access/queue';

export interface ReconcileRequestsDeps {
  database: Database;
  producer: Producer;
  locks: LockManager;
  workerId: string;
  /** Requests younger than this are left alone: their job may still be on its way. */
  staleAfterMs: number;
  /** How long the janitor's own lock lives; a janitor that died frees it after this. */
  lockMs: number;
  /** Starts after which a request whose job is lost is failed instead of queued again. */
  maxStarts: number;
}

export interface ReconcileRequestsResult {
  requeued: number;
  failed: number;
}

const ALIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** One pass; returns how many requests it queued again and how many it failed. */
export async function reconcileRequests(deps: ReconcileRequestsDeps): Promise<ReconcileRequestsResult> {
  return deps.locks.withLock('lock:reconcile-requests', { ttlMs: deps.lockMs }, async () => {
    const result: ReconcileRequestsResult = { requeued: 0, failed: 0 };
    for (const request of await listStaleProvisioningRequests(deps.database, deps.staleAfterMs)) {
      const name = request.action === 'grant' ? 'access.grant' : 'access.revoke';
      const payload = { requestId: request.id };
      const state = await deps.producer.jobState(name, payload);
      if (ALIVE.has(state)) continue;
      if (request.attempt < deps.maxStarts) {
        await deps.producer.requeue(name, payload);
        result.requeued++;
        continue;
      }
      try {
        await finishProvisioningRequest(
          deps.database,
          request.id,
          {
            status: 'failed',
            error: {
              code: 'JOB_LOST',
              message: `the ${name} job ended (${state}) after ${request.attempt} starts without finishing the request; its workers probably died. Check the cluster: the change may be partly applied`,
            },
          },
          { attempt: request.attempt, actor: `worker:${deps.workerId}` },
        );
        result.failed++;
      } catch (err) {
        // A worker started or finished it since it was listed: it is no longer lost.
        if (!(err instanceof SyncRunStateError)) throw err;
      }
    }
    return result;
  });
}
