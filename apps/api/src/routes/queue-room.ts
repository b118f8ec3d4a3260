// The check every route that queues work makes before it records anything: Redis answers, and the
// queue's backlog (jobs ready and not yet taken) is under QUEUE_BACKLOG_MAX. Past the bound the
// client gets 503 UNAVAILABLE with Retry-After (errors.ts) and nothing is recorded, so a backlog
// that workers cannot keep up with stops growing instead of holding runs that wait for hours.
import type { QueueName } from '@eks-access/queue';
import type { AppDeps } from '../deps.js';

/** Throws (503 through the error handler) unless `queue` can take more work now. */
export async function assertQueueRoom(deps: AppDeps, queue: QueueName): Promise<void> {
  const max = deps.config.QUEUE_BACKLOG_MAX;
  if (max === undefined) await deps.producer.assertAvailable();
  else await deps.producer.assertRoom(queue, max);
}
