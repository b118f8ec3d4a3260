// Uploads of sync-run snapshots to ConductorOne, as a state machine in Postgres so that every
// uploader process agrees on it:
//   pending → uploading → succeeded
//                      ↘ pending again (retryable failure, not before next_attempt_at)
//                      ↘ failed (non-retryable) | dead (the last allowed attempt failed)
//   dead | failed → pending (retry from the API, with a fresh budget of attempts)
// Each start increments `attempt`, and only the attempt that started an upload may finish it, so a
// worker that lost its job (stalled, handed back) cannot overwrite what its successor did. The
// unique (c1_task_id, sync_run_id) row means a snapshot is uploaded at most once per C1 task,
// however often the task or its job is delivered.
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../client.js';
import { decodeCursor, isIsoTimestamp, pageSize, toPage, type Page } from '../cursor.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';
import {
  clusters,
  uploads,
  UPLOAD_STATUSES,
  type UploadC1zOptions,
  type UploadError,
  type UploadStatus,
} from '../schema.js';
import { assertUuid, isRecord, isUuid } from '../validate.js';
import { recordAudit, type AuditContext } from './audit.js';

export type Upload = typeof uploads.$inferSelect;

export interface NewUpload {
  clusterId: string;
  syncRunId: string;
  c1TaskId?: string | null;
  /** Attempts allowed before the upload is dead. */
  maxAttempts: number;
  /** What the C1 task asked the file to hold; a plain full sync when absent. */
  c1zOptions?: UploadC1zOptions | null;
}

export interface UploadBackoff {
  /** Delay after the first failed attempt; it doubles with each further one. */
  baseMs: number;
  maxMs: number;
}

/** Matches the `upload.snapshot` job's retry policy in the queue catalogue. */
export const DEFAULT_UPLOAD_BACKOFF: UploadBackoff = { baseMs: 10_000, maxMs: 10 * 60_000 };

export interface UploadFailure {
  error: { code: string; message: string };
  retryable: boolean;
  /** The wait C1 asked for; it replaces the backoff. */
  retryAfterMs?: number;
}

export type StartUploadResult =
  | { started: true; upload: Upload }
  /** The upload is finished (possibly just now, when its attempts ran out): nothing to do. */
  | { started: false; upload: Upload };

export interface UploadFilters {
  clusterId?: string;
  status?: UploadStatus;
  c1TaskId?: string;
}

const ACTIVE: UploadStatus[] = ['pending', 'uploading'];
const RETRYABLE_FROM: UploadStatus[] = ['dead', 'failed'];

function checkAttempts(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > 1000)
    throw new InvalidInputError(`${what} must be an integer from 1 to 1000`);
}

/**
 * Records the upload of a sync run for a C1 task, or returns the one already recorded for that
 * pair (`created: false`), whatever its state.
 */
export async function createUpload(
  database: Database,
  input: NewUpload,
): Promise<{ upload: Upload; created: boolean }> {
  assertUuid(input.syncRunId, 'sync run id');
  checkAttempts(input.maxAttempts, 'maxAttempts');
  if (!isUuid(input.clusterId)) throw new NotFoundError(`cluster ${input.clusterId} not found`);
  return database.db.transaction(async (tx) => {
    const [cluster] = await tx
      .select({ id: clusters.id })
      .from(clusters)
      .where(and(eq(clusters.id, input.clusterId), sql`${clusters.deletedAt} IS NULL`));
    if (!cluster) throw new NotFoundError(`cluster ${input.clusterId} not found`);
    const c1TaskId = input.c1TaskId ?? null;
    const [row] = await tx
      .insert(uploads)
      .values({
        clusterId: input.clusterId,
        syncRunId: input.syncRunId,
        c1TaskId,
        maxAttempts: input.maxAttempts,
        c1zOptions: input.c1zOptions ?? null,
      })
      .onConflictDoNothing()
      .returning();
    if (row) return { upload: row, created: true };
    const [existing] = await tx
      .select()
      .from(uploads)
      .where(
        and(
          eq(uploads.syncRunId, input.syncRunId),
          sql`${uploads.c1TaskId} IS NOT DISTINCT FROM ${c1TaskId}`,
        ),
      );
    if (!existing) throw new ConflictError('the upload conflicts with another one being created; retry');
    if (existing.clusterId !== input.clusterId)
      throw new ConflictError(`sync run ${input.syncRunId} belongs to another cluster's upload`);
    return { upload: existing, created: false };
  });
}

/** One upload. */
export async function getUpload(database: Database, id: string): Promise<Upload> {
  if (!isUuid(id)) throw new NotFoundError(`upload ${id} not found`);
  const [row] = await database.db.select().from(uploads).where(eq(uploads.id, id));
  if (!row) throw new NotFoundError(`upload ${id} not found`);
  return row;
}

/** The newest upload recorded for a C1 task, if any: a re-delivered task resumes it. */
export async function findTaskUpload(database: Database, c1TaskId: string): Promise<Upload | undefined> {
  const [row] = await database.db
    .select()
    .from(uploads)
    .where(eq(uploads.c1TaskId, c1TaskId))
    .orderBy(desc(uploads.createdAt), desc(uploads.id))
    .limit(1);
  return row;
}

/**
 * Starts an attempt: marks the upload uploading and increments its attempt. An upload left
 * uploading by a worker that died is taken over. A finished upload is returned unchanged with
 * `started: false`, and so is one whose attempts ran out while it was uploading (it is made dead).
 */
export async function startUpload(
  database: Database,
  id: string,
  worker: string,
): Promise<StartUploadResult> {
  if (!isUuid(id)) throw new NotFoundError(`upload ${id} not found`);
  const [row] = await database.db
    .update(uploads)
    .set({
      status: 'uploading',
      attempt: sql`${uploads.attempt} + 1`,
      worker,
      startedAt: sql`now()`,
      nextAttemptAt: null,
    })
    .where(
      and(
        eq(uploads.id, id),
        inArray(uploads.status, ACTIVE),
        sql`${uploads.attempt} < ${uploads.maxAttempts}`,
      ),
    )
    .returning();
  if (row) return { started: true, upload: row };
  const interrupted: UploadError = {
    code: 'INTERRUPTED',
    message: 'the last allowed attempt was interrupted before it finished',
    retryable: true,
  };
  const [dead] = await database.db
    .update(uploads)
    .set({
      status: 'dead',
      finishedAt: sql`now()`,
      lastError: sql`coalesce(${uploads.lastError}, ${JSON.stringify(interrupted)}::jsonb)`,
    })
    .where(and(eq(uploads.id, id), inArray(uploads.status, ACTIVE)))
    .returning();
  return { started: false, upload: dead ?? (await getUpload(database, id)) };
}

async function notOwned(database: Database, id: string, attempt: number): Promise<ConflictError> {
  const existing = await getUpload(database, id);
  return new ConflictError(
    `upload ${id} is ${existing.status} (attempt ${existing.attempt}); attempt ${attempt} no longer owns it`,
  );
}

/** Records a successful attempt. Throws ConflictError when `attempt` no longer owns the upload. */
export async function succeedUpload(
  database: Database,
  id: string,
  attempt: number,
  result: { bytes: number; sha256: string },
): Promise<Upload> {
  assertUuid(id, 'upload id');
  const [row] = await database.db
    .update(uploads)
    .set({
      status: 'succeeded',
      bytes: result.bytes,
      sha256: result.sha256,
      finishedAt: sql`now()`,
      nextAttemptAt: null,
    })
    .where(and(eq(uploads.id, id), eq(uploads.status, 'uploading'), eq(uploads.attempt, attempt)))
    .returning();
  if (!row) throw await notOwned(database, id, attempt);
  return row;
}

/**
 * The wait before the attempt after `attempt` failed: C1's rate-limit wait when it sent one,
 * otherwise exponential from `baseMs`, capped at `maxMs`, with the upper half jittered so that
 * many uploaders do not come back in step.
 */
export function uploadRetryDelayMs(
  attempt: number,
  options: { retryAfterMs?: number; backoff?: UploadBackoff; random?: () => number } = {},
): number {
  if (options.retryAfterMs !== undefined && Number.isFinite(options.retryAfterMs))
    return Math.max(0, Math.ceil(options.retryAfterMs));
  const { baseMs, maxMs } = options.backoff ?? DEFAULT_UPLOAD_BACKOFF;
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * (options.random ?? Math.random)());
}

/**
 * Records a failed attempt: back to pending, not before the retry delay, when the failure is
 * retryable and attempts remain; `dead` when they do not; `failed` when it is not retryable.
 * Throws ConflictError when `attempt` no longer owns the upload.
 */
export async function failUpload(
  database: Database,
  id: string,
  attempt: number,
  failure: UploadFailure,
  options: { backoff?: UploadBackoff; random?: () => number } = {},
): Promise<Upload> {
  assertUuid(id, 'upload id');
  const delayMs = uploadRetryDelayMs(attempt, {
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const lastError: UploadError = {
    code: failure.error.code,
    message: failure.error.message.slice(0, 4000),
    retryable: failure.retryable,
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
  };
  const next = failure.retryable
    ? sql`CASE WHEN ${uploads.attempt} >= ${uploads.maxAttempts} THEN 'dead' ELSE 'pending' END`
    : sql`'failed'`;
  const [row] = await database.db
    .update(uploads)
    .set({
      status: sql`${next}`,
      lastError,
      nextAttemptAt: sql`CASE WHEN ${next} = 'pending' THEN now() + ${delayMs}::double precision * interval '1 millisecond' END`,
      finishedAt: sql`CASE WHEN ${next} = 'pending' THEN NULL ELSE now() END`,
    })
    .where(and(eq(uploads.id, id), eq(uploads.status, 'uploading'), eq(uploads.attempt, attempt)))
    .returning();
  if (!row) throw await notOwned(database, id, attempt);
  return row;
}

/**
 * Hands an interrupted attempt back (the worker is shutting down): pending again, and the attempt
 * does not count against the budget. Returns undefined when `attempt` no longer owns the upload.
 */
export async function releaseUpload(
  database: Database,
  id: string,
  attempt: number,
): Promise<Upload | undefined> {
  assertUuid(id, 'upload id');
  const [row] = await database.db
    .update(uploads)
    .set({ status: 'pending', maxAttempts: sql`${uploads.maxAttempts} + 1` })
    .where(and(eq(uploads.id, id), eq(uploads.status, 'uploading'), eq(uploads.attempt, attempt)))
    .returning();
  return row;
}

/**
 * Pending or uploading uploads untouched for longer than `olderThanMs` (by when they were last
 * started, or created): what the upload janitor checks against the queue.
 */
export async function listStaleUploads(
  database: Database,
  olderThanMs: number,
  limit = 200,
): Promise<Upload[]> {
  return database.db
    .select()
    .from(uploads)
    .where(
      and(
        inArray(uploads.status, ACTIVE),
        sql`coalesce(${uploads.startedAt}, ${uploads.createdAt}) < now() - make_interval(secs => ${olderThanMs / 1000})`,
      ),
    )
    .orderBy(uploads.createdAt)
    .limit(limit);
}

function isUploadCursor(value: unknown): value is { c: string; i: string } {
  return isRecord(value) && isIsoTimestamp(value.c) && isUuid(value.i);
}

/** Uploads, newest first, filtered by cluster, status and C1 task. */
export async function listUploads(
  database: Database,
  filters: UploadFilters = {},
  page: { cursor?: string; limit?: number } = {},
): Promise<Page<Upload>> {
  const limit = pageSize(page.limit);
  const where: SQL[] = [];
  if (filters.clusterId !== undefined) {
    if (!isUuid(filters.clusterId)) throw new InvalidInputError('clusterId must be a UUID');
    where.push(eq(uploads.clusterId, filters.clusterId));
  }
  if (filters.status !== undefined) {
    if (!UPLOAD_STATUSES.includes(filters.status))
      throw new InvalidInputError(`status must be one of ${UPLOAD_STATUSES.join(', ')}`);
    where.push(eq(uploads.status, filters.status));
  }
  if (filters.c1TaskId !== undefined) where.push(eq(uploads.c1TaskId, filters.c1TaskId));
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor, isUploadCursor);
    where.push(sql`(${uploads.createdAt}, ${uploads.id}) < (${after.c}::timestamptz, ${after.i}::uuid)`);
  }
  const rows = await database.db
    .select()
    .from(uploads)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(uploads.createdAt), desc(uploads.id))
    .limit(limit + 1);
  return toPage(
    rows,
    limit,
    (r) => r,
    (r) => ({ c: r.createdAt.toISOString(), i: r.id }),
  );
}

/**
 * Puts a dead (or failed) upload back to pending with `attempts` more attempts; the caller then
 * queues its job again. Throws ConflictError for an upload in any other state.
 */
export async function retryUpload(
  database: Database,
  id: string,
  options: { attempts: number; audit?: AuditContext },
): Promise<Upload> {
  if (!isUuid(id)) throw new NotFoundError(`upload ${id} not found`);
  checkAttempts(options.attempts, 'attempts');
  return database.db.transaction(async (tx) => {
    const [row] = await tx
      .update(uploads)
      .set({
        status: 'pending',
        maxAttempts: sql`${uploads.attempt} + ${options.attempts}`,
        nextAttemptAt: null,
        finishedAt: null,
      })
      .where(and(eq(uploads.id, id), inArray(uploads.status, RETRYABLE_FROM)))
      .returning();
    if (!row) {
      const [existing] = await tx.select({ status: uploads.status }).from(uploads).where(eq(uploads.id, id));
      if (!existing) throw new NotFoundError(`upload ${id} not found`);
      throw new ConflictError(
        `upload ${id} is ${existing.status}; only dead or failed uploads can be retried`,
      );
    }
    if (options.audit) {
      await recordAudit(tx, {
        actor: options.audit.actor,
        action: 'upload.retry',
        clusterId: row.clusterId,
        target: `upload:${row.id}`,
        after: { status: row.status, maxAttempts: row.maxAttempts },
        ...(options.audit.requestId !== undefined ? { requestId: options.audit.requestId } : {}),
      });
    }
    return row;
  });
}
