// A C1 full-sync task: sync the cluster through the ordinary queue, then upload that run's
// snapshot as an `upload.snapshot` job and finish the task when the upload has succeeded.
// - The upload is a row keyed by (task, sync run), so a task C1 hands out again (or a loop that
//   restarted mid-task) finds its upload and waits for it instead of syncing and uploading again.
// - Only a complete sync is uploaded: C1 treats the file as the whole truth, so a partial one
//   would read as "these grants were removed".
// - The task's options (targeted resources, skipped entitlements or grants, resource types, who
//   expands grants) are kept with the upload and applied when the file is written, as baton-sdk's
//   syncer applies them; the cluster itself is always synced whole. A targeted sync is uploaded as
//   baton-sdk's `partial` sync of just those resources.
import type { SyncFullResult, SyncFullTask, SyncFullTaskPayload, TaskContext } from '@eks-access/c1';
import {
  createUpload,
  enqueueSyncRun,
  findTaskUpload,
  getSyncRun,
  getUpload,
  type Upload,
  type UploadC1zOptions,
} from '@eks-access/db';
import { pollUntil } from '../wait.js';
import { c1Actor, type TaskDeps } from './deps.js';
import { taskError } from './task-error.js';

const FINISHED_UPLOAD: readonly Upload['status'][] = ['succeeded', 'failed', 'dead'];

/**
 * What the task asks the file to hold. baton-sdk expands grants unless C1 says it will
 * (skip_expand_grants); targeted resources are named by type and id.
 */
export function c1zOptionsOf(task: SyncFullTaskPayload): UploadC1zOptions {
  const targetedResources = (task.targetedSyncResources ?? []).flatMap((r) =>
    r.id?.resourceType && r.id.resource ? [{ type: r.id.resourceType, id: r.id.resource }] : [],
  );
  return {
    ...(targetedResources.length > 0 ? { targetedResources } : {}),
    ...(task.syncResourceTypeIds?.length ? { resourceTypeIds: task.syncResourceTypeIds } : {}),
    ...(task.skipEntitlementsAndGrants ? { skipEntitlementsAndGrants: true } : {}),
    ...(task.skipGrants ? { skipGrants: true } : {}),
    expandGrants: task.skipExpandGrants !== true,
  };
}

/** Runs a full-sync task to its upload; throws a task error when the sync or the upload fails. */
export async function runSyncFullTask(
  deps: TaskDeps,
  task: SyncFullTask,
  ctx: TaskContext,
): Promise<SyncFullResult> {
  let upload = await findTaskUpload(deps.database, task.id);
  if (upload?.status === 'succeeded') {
    ctx.logger.info({ uploadId: upload.id }, 'snapshot already uploaded for this task');
    return { uploaded: true };
  }
  if (!upload || upload.status === 'failed' || upload.status === 'dead') {
    const syncRunId = await syncForTask(deps, task, ctx);
    const c1zOptions = c1zOptionsOf(task.syncFull);
    ({ upload } = await createUpload(deps.database, {
      clusterId: deps.clusterId,
      syncRunId,
      c1TaskId: task.id,
      maxAttempts: deps.uploadMaxAttempts,
      c1zOptions,
    }));
    // This connector writes SQLite c1z files; baton-sdk would honour a request for its Pebble engine.
    if (task.syncFull.storageEngine && task.syncFull.storageEngine !== 'sqlite')
      ctx.logger.info(
        { storageEngine: task.syncFull.storageEngine },
        'c1 asked for another c1z storage engine; writing sqlite',
      );
  }
  if (upload.status === 'pending') await deps.producer.enqueue('upload.snapshot', { uploadId: upload.id });
  ctx.logger.info(
    { uploadId: upload.id, syncRunId: upload.syncRunId, c1zOptions: upload.c1zOptions },
    'c1z upload queued',
  );

  const uploadId = upload.id;
  const final = await pollUntil(
    () => getUpload(deps.database, uploadId),
    (u) => FINISHED_UPLOAD.includes(u.status),
    {
      intervalMs: deps.pollMs,
      signal: ctx.signal,
      // A pending upload whose retry time has passed should have a job; if its job was lost or
      // already gave up (a dead letter in the queue), put it back.
      onPending: async (u) => {
        const due = u.nextAttemptAt ?? u.createdAt;
        if (u.status === 'pending' && Date.now() - due.getTime() > 5 * deps.pollMs) {
          await deps.producer.requeue('upload.snapshot', { uploadId });
        }
      },
    },
  );
  if (final.status === 'succeeded') return { uploaded: true };
  const reason = final.lastError
    ? `${final.lastError.code}: ${final.lastError.message}`
    : 'no error recorded';
  if (final.status === 'dead') {
    throw taskError(
      'UNAVAILABLE',
      `the c1z upload ${final.id} failed ${final.attempt} times and is dead (last: ${reason}); retry it with POST /v1/uploads/${final.id}/retry`,
      true,
    );
  }
  throw taskError('FAILED_PRECONDITION', `the c1z upload ${final.id} failed: ${reason}`, false);
}

/** Queues a sync of the cluster (or joins the one already queued or running) and waits for it. */
async function syncForTask(deps: TaskDeps, task: SyncFullTask, ctx: TaskContext): Promise<string> {
  const actor = c1Actor(deps.clusterId);
  const { run, created } = await enqueueSyncRun(deps.database, deps.clusterId, 'c1', {
    audit: { actor, details: { c1TaskId: task.id } },
  });
  // As the API does: the job id comes from the run, so enqueueing again repairs a lost job.
  if (run.status === 'queued')
    await deps.producer.enqueue('cluster.sync', {
      clusterId: deps.clusterId,
      syncRunId: run.id,
      trigger: run.trigger,
    });
  ctx.logger.info({ syncRunId: run.id, created }, 'sync queued for c1 task');
  const done = await pollUntil(
    () => getSyncRun(deps.database, run.id),
    (r) => r.status !== 'queued' && r.status !== 'running',
    { intervalMs: deps.pollMs, signal: ctx.signal },
  );
  if (done.status === 'failed') {
    const why = done.error ? `${done.error.code}: ${done.error.message}` : 'no error recorded';
    throw taskError('INTERNAL', `the sync of the cluster failed (sync run ${done.id}): ${why}`, true);
  }
  if (done.status === 'partial') {
    throw taskError(
      'INTERNAL',
      `the sync could not read every source (sync run ${done.id}); a partial snapshot is not uploaded, since C1 would read the missing grants as removed`,
      true,
    );
  }
  return done.id;
}
