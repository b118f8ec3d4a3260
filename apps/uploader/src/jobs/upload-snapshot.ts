// The `upload.snapshot` job: write one sync run's snapshot as a c1z and stream it to C1 for the
// task that asked for it.
// - Postgres holds the upload's state. A delivery of a finished upload does nothing, so
//   re-delivering the job never uploads the same snapshot twice for one task.
// - Each attempt is fenced (startUpload increments the attempt; only that attempt may record the
//   outcome), so an uploader that was killed or stalled mid-upload cannot overwrite its successor.
//   C1 keeps only uploads that ended with a verified checksum, so the interrupted stream leaves
//   nothing behind and the next attempt uploads the file once. (C1 offers no way to ask whether
//   it already has a task's file: when the success cannot be recorded, because the process dies
//   right after C1's acknowledgement or Postgres stays unreachable through recordSuccess's
//   retries, a later attempt sends the same file again.)
// - Uploads to one C1 tenant go through a Redis rate limiter shared by every uploader process;
//   when C1 answers with a rate limit, the limiter pauses the whole tenant for the wait C1 asked
//   for and the upload is retried after that wait.
// - A retryable failure puts the upload back to pending and BullMQ retries the job; the last
//   attempt makes it dead (listed by GET /v1/uploads, retried with POST /v1/uploads/{id}/retry).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { C1Error, writeC1z, type C1Client } from '@eks-access/c1';
import {
  failUpload,
  getClusterCredentials,
  getUpload,
  NotFoundError,
  releaseUpload,
  startUpload,
  succeedUpload,
  type Database,
  type UploadBackoff,
} from '@eks-access/db';
import type { JobContext, JobPayload, RateLimiter } from '@eks-access/queue';
import { createClusterC1Client, tenantKeyOf, type C1Endpoint } from '../c1.js';
import { c1SnapshotOf } from '../snapshot/c1-snapshot.js';
import { waitUntil } from '../wait.js';

export interface UploadJobDeps {
  database: Database;
  limiter: RateLimiter;
  c1: C1Endpoint;
  workerId: string;
  backoff: UploadBackoff;
  /** Where c1z files are written before they are sent; each is removed after its attempt. */
  workDir: string;
}

export interface UploadJobResult {
  uploadId: string;
  status: string;
  attempt?: number;
  bytes?: number;
  grants?: number;
  /** The c1z's sync type: full, partial (targeted resources) or resources_only. */
  syncType?: string;
  skipped?: true;
}

/** A job outcome that must not be retried by BullMQ (the upload is failed or dead in Postgres). */
export class UploadFinishedError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UploadFinishedError';
  }
}

interface Classified {
  error: { code: string; message: string };
  retryable: boolean;
  retryAfterMs?: number;
}

function classify(err: unknown): Classified {
  if (err instanceof C1Error) {
    return {
      error: { code: err.code, message: err.message },
      retryable: err.retryable,
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    };
  }
  if (err instanceof NotFoundError) {
    // The cluster was deleted, or the run's snapshot was pruned before it could be uploaded.
    return { error: { code: 'SNAPSHOT_GONE', message: err.message }, retryable: false };
  }
  const e = err as { code?: unknown; message?: unknown; retryable?: unknown };
  return {
    error: {
      code: typeof e.code === 'string' ? e.code : 'INTERNAL',
      message: typeof e.message === 'string' ? e.message : String(err),
    },
    retryable: e.retryable !== false,
  };
}

/** Records the success, riding out a short Postgres outage: the file is already at C1. */
async function recordSuccess(
  database: Database,
  id: string,
  attempt: number,
  result: { bytes: number; sha256: string },
): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      await succeedUpload(database, id, attempt, result);
      return;
    } catch (err) {
      // Another attempt owning the upload is final; anything else may pass.
      if (tries >= 5 || (err as { code?: unknown }).code === 'conflict') throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** tries));
    }
  }
}

/** Uploads one snapshot, or records why this attempt could not. */
export async function uploadSnapshotJob(
  deps: UploadJobDeps,
  payload: JobPayload<'upload.snapshot'>,
  ctx: JobContext,
): Promise<UploadJobResult> {
  const { uploadId } = payload;
  const pending = await getUpload(deps.database, uploadId);
  if (pending.status !== 'pending' && pending.status !== 'uploading')
    return { uploadId, status: pending.status, skipped: true };
  // BullMQ's backoff may bring the job back before the wait C1 asked for has passed.
  await waitUntil(pending.nextAttemptAt, ctx.signal);

  const start = await startUpload(deps.database, uploadId, deps.workerId);
  if (!start.started) return { uploadId, status: start.upload.status, skipped: true };
  const { upload } = start;
  const { attempt } = upload;
  const log = ctx.logger.child({
    uploadId,
    clusterId: upload.clusterId,
    syncRunId: upload.syncRunId,
    c1TaskId: upload.c1TaskId,
    uploadAttempt: attempt,
  });
  const path = join(deps.workDir, `upload-${uploadId}-${attempt}.c1z`);
  let client: C1Client | undefined;
  let tenantKey: string | undefined;
  let uploaded = false;
  try {
    if (!upload.c1TaskId)
      throw new UploadFinishedError('NO_TASK', 'the upload has no C1 task to attach the file to');
    const secrets = await getClusterCredentials(deps.database, upload.clusterId);
    client = createClusterC1Client(deps.c1, secrets);
    tenantKey = tenantKeyOf(secrets.c1ClientId ?? '');
    const written = await writeC1z(path, c1SnapshotOf(deps.database, upload.clusterId, upload.syncRunId), {
      tmpDir: deps.workDir,
      sync: upload.c1zOptions ?? {},
    });
    ctx.signal.throwIfAborted();
    await deps.limiter.acquire(tenantKey, ctx.signal);
    const sent = await client.uploadAsset(upload.c1TaskId, path, { signal: ctx.signal });
    uploaded = true;
    await deps.limiter.onSuccess(tenantKey);
    await recordSuccess(deps.database, uploadId, attempt, { bytes: sent.bytes, sha256: sent.sha256 });
    return {
      uploadId,
      status: 'succeeded',
      attempt,
      bytes: sent.bytes,
      grants: written.counts.grants + written.counts.expandedGrants,
      syncType: written.syncType,
    };
  } catch (err) {
    if (uploaded) {
      // C1 has the file: never count this as a failed upload. The upload stays uploading and the
      // job's retry takes it over (sending the file again, the one duplicate we cannot rule out).
      log.error({ err }, 'c1z uploaded but its success could not be recorded');
      throw err;
    }
    if (ctx.signal.aborted) {
      // Shutting down: hand the attempt back uncounted; the job is redelivered.
      await releaseUpload(deps.database, uploadId, attempt).catch((releaseErr: unknown) =>
        log.warn({ err: releaseErr }, 'could not hand the upload back'),
      );
      throw err;
    }
    const failure = classify(err);
    if (
      tenantKey &&
      err instanceof C1Error &&
      (err.code === 'RESOURCE_EXHAUSTED' || err.retryAfterMs !== undefined)
    ) {
      await deps.limiter.onThrottle(tenantKey, err.retryAfterMs);
    }
    const failed = await failUpload(deps.database, uploadId, attempt, failure, { backoff: deps.backoff });
    if (failed.status === 'pending') {
      log.warn(
        { code: failure.error.code, retryAfterMs: failure.retryAfterMs, nextAttemptAt: failed.nextAttemptAt },
        'c1z upload failed; will retry',
      );
      throw err;
    }
    throw new UploadFinishedError(
      failure.error.code,
      `upload ${uploadId} is ${failed.status} after attempt ${attempt}: ${failure.error.message}`,
    );
  } finally {
    client?.close();
    await rm(path, { force: true });
  }
}
