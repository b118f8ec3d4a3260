// The safety net behind scheduled revokes: expired time-bound grants get their revoke request
// (created once, whoever gets there first), and a revoke request whose grant has expired but which
// is still pending (its delayed job was lost, Redis was flushed) is queued again. Queueing is
// idempotent by request id, so running this on every provisioner process is safe; a lock keeps it
// to one at a time. The revokes it queues are expiry revokes, which no provisioning policy and no
// switched-off provisioning can refuse (packages/model/src/policy.ts): time-bound access ends.
import {
  createExpiryRevoke,
  dueExpiries,
  listProvisioningRequests,
  getProvisioningRequest,
  type Database,
} from '@eks-access/db';
import type { LockManager, Producer } from '@eks-access/queue';

export interface ReconcileDeps {
  database: Database;
  producer: Producer;
  locks: LockManager;
  workerId: string;
}

/** One reconciliation pass; returns how many revokes it queued. */
export async function reconcileExpiries(deps: ReconcileDeps, now = new Date()): Promise<number> {
  return deps.locks.withLock('lock:reconcile-expiries', { ttlMs: 30_000 }, async () => {
    let queued = 0;
    for (const grant of await dueExpiries(deps.database, now)) {
      const { request } = await createExpiryRevoke(deps.database, grant, `worker:${deps.workerId}`);
      if (request.status === 'pending') {
        await deps.producer.enqueue('access.revoke', { requestId: request.id });
        queued++;
      }
    }
    // Pending expiry revokes whose grant has expired: queue again (a no-op if the job exists).
    const pending = await listProvisioningRequests(deps.database, { status: 'pending' }, { limit: 500 });
    for (const revoke of pending.items) {
      if (revoke.action !== 'revoke' || !revoke.parentRequestId) continue;
      const grant = await getProvisioningRequest(deps.database, revoke.parentRequestId);
      if (grant.expiresAt && grant.expiresAt.getTime() <= now.getTime()) {
        await deps.producer.enqueue('access.revoke', { requestId: revoke.id });
        queued++;
      }
    }
    return queued;
  });
}
