// Provisioning requests: what a client asked for (grant or revoke one entitlement to one IAM
// principal, optionally until a given time, optionally as a dry run), what the provisioner did
// (the exact calls, with before/after), and the audit trail. An Idempotency-Key makes a retried
// request return the first one; a time-bound grant is ended by exactly one revoke request.
import { and, asc, desc, eq, inArray, isNotNull, lte, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../client.js';
import { decodeCursor, isIsoTimestamp, pageSize, toPage, type Page } from '../cursor.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  SyncRunStateError,
  isUniqueViolation,
} from '../errors.js';
import {
  clusters,
  provisioningRequests,
  type ProvisioningAction,
  type ProvisioningResult,
  type ProvisioningStatus,
} from '../schema.js';
import { isRecord, isUuid } from '../validate.js';
import { recordAudit, type AuditContext } from './audit.js';

export type ProvisioningRequest = typeof provisioningRequests.$inferSelect;

export interface NewProvisioningRequest {
  clusterId: string;
  action: ProvisioningAction;
  entitlementId: string;
  principalType: 'iam_user' | 'role';
  principalArn: string;
  reason?: string | null;
  expiresAt?: Date | null;
  /** A time-bound grant by duration: the expiry is set when the grant is carried out. */
  durationMs?: number | null;
  dryRun?: boolean;
  idempotencyKey?: string | null;
  requestedBy: string;
  parentRequestId?: string | null;
}

const FINISHED: readonly ProvisioningStatus[] = ['succeeded', 'failed', 'refused'];

function sameRequest(a: ProvisioningRequest, b: NewProvisioningRequest): boolean {
  return (
    a.clusterId === b.clusterId &&
    a.action === b.action &&
    a.entitlementId === b.entitlementId &&
    a.principalArn === b.principalArn &&
    a.dryRun === (b.dryRun ?? false) &&
    (a.expiresAt?.getTime() ?? null) === (b.expiresAt?.getTime() ?? null) &&
    a.durationMs === (b.durationMs ?? null)
  );
}

/**
 * Records a request. With an idempotency key already used by the same requester, returns that
 * request (`created: false`) when it asked for the same thing, and refuses when it did not.
 */
export async function createProvisioningRequest(
  database: Database,
  input: NewProvisioningRequest,
  options: { audit?: AuditContext } = {},
): Promise<{ request: ProvisioningRequest; created: boolean }> {
  if (!isUuid(input.clusterId)) throw new NotFoundError(`cluster ${input.clusterId} not found`);
  if ((input.expiresAt || input.durationMs) && input.action !== 'grant')
    throw new InvalidInputError('only a grant can have an expiry');
  if (input.expiresAt && input.durationMs)
    throw new InvalidInputError('a grant has an expiry time or a duration, not both');
  if (
    input.durationMs !== undefined &&
    input.durationMs !== null &&
    !(Number.isSafeInteger(input.durationMs) && input.durationMs > 0)
  ) {
    throw new InvalidInputError('durationMs must be a positive whole number of milliseconds');
  }
  return database.db.transaction(async (tx) => {
    const [cluster] = await tx
      .select({ id: clusters.id })
      .from(clusters)
      .where(and(eq(clusters.id, input.clusterId), sql`${clusters.deletedAt} IS NULL`));
    if (!cluster) throw new NotFoundError(`cluster ${input.clusterId} not found`);
    const [row] = await tx
      .insert(provisioningRequests)
      .values({
        clusterId: input.clusterId,
        action: input.action,
        entitlementId: input.entitlementId,
        principalType: input.principalType,
        principalArn: input.principalArn,
        reason: input.reason ?? null,
        expiresAt: input.expiresAt ?? null,
        durationMs: input.durationMs ?? null,
        dryRun: input.dryRun ?? false,
        idempotencyKey: input.idempotencyKey ?? null,
        requestedBy: input.requestedBy,
        parentRequestId: input.parentRequestId ?? null,
      })
      .onConflictDoNothing()
      .returning();
    if (row) {
      if (options.audit) {
        await recordAudit(tx, {
          ...options.audit,
          action: `access.${input.action}.request`,
          clusterId: input.clusterId,
          target: row.id,
          after: {
            entitlementId: row.entitlementId,
            principalArn: row.principalArn,
            expiresAt: row.expiresAt,
            durationMs: row.durationMs,
            dryRun: row.dryRun,
            reason: row.reason,
          },
        });
      }
      return { request: row, created: true };
    }
    const conflictOn = input.parentRequestId
      ? eq(provisioningRequests.parentRequestId, input.parentRequestId)
      : and(
          eq(provisioningRequests.requestedBy, input.requestedBy),
          eq(provisioningRequests.idempotencyKey, input.idempotencyKey ?? ''),
        );
    const [existing] = await tx.select().from(provisioningRequests).where(conflictOn);
    if (!existing) throw new ConflictError('the request conflicts with another one being created; retry');
    if (!input.parentRequestId && !sameRequest(existing, input)) {
      throw new ConflictError(
        `Idempotency-Key "${input.idempotencyKey ?? ''}" was already used for a different request (${existing.id})`,
      );
    }
    return { request: existing, created: false };
  });
}

/** One request. */
export async function getProvisioningRequest(database: Database, id: string): Promise<ProvisioningRequest> {
  if (!isUuid(id)) throw new NotFoundError(`provisioning request ${id} not found`);
  const [row] = await database.db.select().from(provisioningRequests).where(eq(provisioningRequests.id, id));
  if (!row) throw new NotFoundError(`provisioning request ${id} not found`);
  return row;
}

export interface ProvisioningFilters {
  clusterId?: string;
  principalArn?: string;
  status?: ProvisioningStatus;
}

function isRequestCursor(value: unknown): value is { c: string; i: string } {
  return isRecord(value) && isIsoTimestamp(value.c) && isUuid(value.i);
}

/** Requests, newest first, filtered by cluster, principal and status. */
export async function listProvisioningRequests(
  database: Database,
  filters: ProvisioningFilters = {},
  page: { cursor?: string; limit?: number } = {},
): Promise<Page<ProvisioningRequest>> {
  const limit = pageSize(page.limit);
  const where: SQL[] = [];
  if (filters.clusterId !== undefined) {
    if (!isUuid(filters.clusterId)) throw new InvalidInputError('clusterId must be a UUID');
    where.push(eq(provisioningRequests.clusterId, filters.clusterId));
  }
  if (filters.principalArn !== undefined)
    where.push(eq(provisioningRequests.principalArn, filters.principalArn));
  if (filters.status !== undefined) where.push(eq(provisioningRequests.status, filters.status));
  if (page.cursor !== undefined) {
    const after = decodeCursor(page.cursor, isRequestCursor);
    where.push(
      sql`(${provisioningRequests.createdAt}, ${provisioningRequests.id}) < (${after.c}::timestamptz, ${after.i}::uuid)`,
    );
  }
  const rows = await database.db
    .select()
    .from(provisioningRequests)
    .where(where.length > 0 ? and(...where) : undefined)
    .orderBy(desc(provisioningRequests.createdAt), desc(provisioningRequests.id))
    .limit(limit + 1);
  return toPage(
    rows,
    limit,
    (r) => r,
    (r) => ({ c: r.createdAt.toISOString(), i: r.id }),
  );
}

/** Marks a request running (a retry after a crash may start it again); throws for a finished one. */
export async function startProvisioningRequest(
  database: Database,
  id: string,
  worker: string,
): Promise<ProvisioningRequest> {
  const [row] = await database.db
    .update(provisioningRequests)
    .set({
      status: 'running',
      attempt: sql`${provisioningRequests.attempt} + 1`,
      worker,
      startedAt: sql`now()`,
    })
    .where(and(eq(provisioningRequests.id, id), inArray(provisioningRequests.status, ['pending', 'running'])))
    .returning();
  if (row) return row;
  const existing = await getProvisioningRequest(database, id);
  throw new SyncRunStateError(`provisioning request ${id} is ${existing.status} and cannot be started again`);
}

export interface ProvisioningOutcome {
  status: Extract<ProvisioningStatus, 'succeeded' | 'failed' | 'refused'>;
  result?: ProvisioningResult;
  plan?: unknown[];
  error?: { code: string; message: string };
  /** A grant given for a duration: when it ends (carried-out time plus the duration). */
  expiresAt?: Date;
}

/**
 * Finishes a request and writes its audit event (with the before/after of every change) in the
 * same transaction. A stale attempt (another worker took the request over) is refused.
 */
export async function finishProvisioningRequest(
  database: Database,
  id: string,
  outcome: ProvisioningOutcome,
  options: { attempt?: number; actor: string },
): Promise<ProvisioningRequest> {
  return database.db.transaction(async (tx) => {
    const where = [
      eq(provisioningRequests.id, id),
      inArray(provisioningRequests.status, ['pending', 'running']),
    ];
    if (options.attempt !== undefined) where.push(eq(provisioningRequests.attempt, options.attempt));
    const [row] = await tx
      .update(provisioningRequests)
      .set({
        status: outcome.status,
        result: outcome.result ?? null,
        plan: outcome.plan ?? null,
        error: outcome.error ?? null,
        finishedAt: sql`now()`,
        ...(outcome.expiresAt ? { expiresAt: outcome.expiresAt } : {}),
      })
      .where(and(...where))
      .returning();
    if (!row) {
      const [existing] = await tx.select().from(provisioningRequests).where(eq(provisioningRequests.id, id));
      if (!existing) throw new NotFoundError(`provisioning request ${id} not found`);
      throw new SyncRunStateError(
        `provisioning request ${id} is ${existing.status} (attempt ${existing.attempt}); this attempt no longer owns it`,
      );
    }
    const changed = (outcome.plan ?? []).filter(
      (s): s is { state: string; before?: unknown; after?: unknown } => isRecord(s) && s.state === 'applied',
    );
    await recordAudit(tx, {
      actor: options.actor,
      action: `access.${row.action}`,
      clusterId: row.clusterId,
      target: row.id,
      before: changed.map((s) => s.before ?? null),
      after: changed.map((s) => s.after ?? null),
      details: {
        status: outcome.status,
        result: outcome.result ?? null,
        entitlementId: row.entitlementId,
        principalArn: row.principalArn,
        dryRun: row.dryRun,
        ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}),
        ...(outcome.error ? { error: outcome.error } : {}),
      },
    });
    return row;
  });
}

/** Succeeded time-bound grants whose expiry has passed and that no revoke request ends yet. */
export async function dueExpiries(
  database: Database,
  now: Date,
  limit = 100,
): Promise<ProvisioningRequest[]> {
  const child = sql`NOT EXISTS (SELECT 1 FROM provisioning_requests r WHERE r.parent_request_id = ${provisioningRequests.id})`;
  return database.db
    .select()
    .from(provisioningRequests)
    .where(
      and(
        eq(provisioningRequests.action, 'grant'),
        eq(provisioningRequests.status, 'succeeded'),
        eq(provisioningRequests.dryRun, false),
        isNotNull(provisioningRequests.expiresAt),
        lte(provisioningRequests.expiresAt, now),
        child,
      ),
    )
    .orderBy(asc(provisioningRequests.expiresAt))
    .limit(limit);
}

/** The revoke request that ends a time-bound grant; created once however often it is asked for. */
export async function createExpiryRevoke(
  database: Database,
  grant: ProvisioningRequest,
  actor: string,
): Promise<{ request: ProvisioningRequest; created: boolean }> {
  try {
    return await createProvisioningRequest(
      database,
      {
        clusterId: grant.clusterId,
        action: 'revoke',
        entitlementId: grant.entitlementId,
        principalType: grant.principalType,
        principalArn: grant.principalArn,
        reason: `expiry of time-bound grant ${grant.id}`,
        requestedBy: actor,
        parentRequestId: grant.id,
      },
      { audit: { actor } },
    );
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError('expiry revoke raced with another; retry', { cause: err });
    throw err;
  }
}

/**
 * Pending or running requests that have been so for longer than `olderThanMs` (by when they were
 * last started, or created): what the request janitor checks against the queue. Pending revokes
 * that end a time-bound grant are left out: their job waits for the expiry instant on purpose, and
 * the expiry reconciler owns them until then.
 */
export async function listStaleProvisioningRequests(
  database: Database,
  olderThanMs: number,
  limit = 200,
): Promise<ProvisioningRequest[]> {
  return database.db
    .select()
    .from(provisioningRequests)
    .where(
      and(
        inArray(provisioningRequests.status, ['pending', 'running']),
        sql`NOT (${provisioningRequests.status} = 'pending' AND ${provisioningRequests.parentRequestId} IS NOT NULL)`,
        sql`coalesce(${provisioningRequests.startedAt}, ${provisioningRequests.createdAt}) < now() - make_interval(secs => ${olderThanMs / 1000})`,
      ),
    )
    .orderBy(asc(provisioningRequests.createdAt))
    .limit(limit);
}

/** Whether a request has finished. */
export function isFinished(request: ProvisioningRequest): boolean {
  return FINISHED.includes(request.status);
}
