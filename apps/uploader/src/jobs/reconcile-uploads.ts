// The upload janitor: an upload (and the C1 full-sync task waiting on it) is only as alive as its
// `upload.snapshot` job. A job dead-lettered after stalling (its uploader was killed twice), lost
// with Redis, or never queued would leave the upload pending or uploading forever and its C1 task
// unfinished. Invariants:
// - Only uploads untouched for `staleAfterMs` whose job is neither waiting, delayed nor running are
//   looked at, so a live job is never duplicated.
// - Such an upload always gets its job again. The attempt budget lives in Postgres: the re-run's
//   `startUpload` fences the attempt and makes the upload `dead` (reason `INTERRUPTED`) when its
//   attempts are used up, so re-queueing cannot loop, and the wait C1 asked for is kept (the
//   handler waits for `nextAttemptAt`).
// - Safe on every uploader process: a Redis lock keeps it to one pass at a time.
import { listStaleUploads, type Database } from '@eks-access/db';
import type { LockManager, Producer } from '@eks-access/queue';

export interface ReconcileUploadsDeps {
  database: Database;
  producer: Producer;
  locks: LockManager;
  /** Uploads younger than this are left alone: their job may still be on its way. */
  staleAfterMs: number;
  /** How long the janitor's own lock lives; a janitor that died frees it after this. */
  lockMs: number;
}

const ALIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** One pass; returns how many uploads got their job again. */
export async function reconcileUploads(deps: ReconcileUploadsDeps): Promise<{ requeued: number }> {
  return deps.locks.withLock('lock:reconcile-uploads', { ttlMs: deps.lockMs }, async () => {
    let requeued = 0;
    for (const upload of await listStaleUploads(deps.database, deps.staleAfterMs)) {
      const payload = { uploadId: upload.id };
      if (ALIVE.has(await deps.producer.jobState('upload.snapshot', payload))) continue;
      await deps.producer.requeue('upload.snapshot', payload);
      requeued++;
    }
    return { requeued };
  });
}
