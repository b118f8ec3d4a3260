// Audit events: who did what to which object, with a redacted before/after.
import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm';
import type { Database, DbExecutor } from '../client.js';
import { decodeCursor, pageSize, toPage, type Page } from '../cursor.js';
import { assertUuid, isRecord } from '../validate.js';
import { redact } from '../redact.js';
import { auditEvents } from '../schema.js';

export interface AuditEventInput {
  /** `api-key:<id>`, `system` or `worker:<host>`. */
  actor: string;
  /** `<domain>.<verb>`, e.g. `cluster.create`. */
  action: string;
  clusterId?: string | null;
  target?: string | null;
  before?: unknown;
  after?: unknown;
  requestId?: string | null;
  details?: Record<string, unknown> | null;
}

/** Who did it and under which request: what a mutating query needs to write its audit event. */
export interface AuditContext {
  actor: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

export type AuditEvent = typeof auditEvents.$inferSelect;

/** Appends an audit event; pass a transaction to make it part of the change it describes. */
export async function recordAudit(executor: DbExecutor, event: AuditEventInput): Promise<AuditEvent> {
  const [row] = await executor
    .insert(auditEvents)
    .values({
      actor: event.actor,
      action: event.action,
      clusterId: event.clusterId ?? null,
      target: event.target ?? null,
      before: event.before === undefined ? null : redact(event.before),
      after: event.after === undefined ? null : redact(event.after),
      requestId: event.requestId ?? null,
      details: event.details ? redact(event.details) : null,
    })
    .returning();
  return row!;
}

export interface AuditFilters {
  clusterId?: string;
  /** What the events are about, e.g. a provisioning request id. */
  target?: string;
  actor?: string;
  action?: string;
  since?: Date;
  until?: Date;
}

function isAuditCursor(value: unknown): value is { id: number } {
  return isRecord(value) && Number.isSafeInteger(value.id) && (value.id as number) > 0;
}

/** Lists audit events, newest first, with cursor pagination. */
export async function listAudit(
  database: Database,
  filters: AuditFilters = {},
  page: { cursor?: string; limit?: number } = {},
): Promise<Page<AuditEvent>> {
  const limit = pageSize(page.limit);
  const where: SQL[] = [];
  if (filters.target !== undefined) where.push(eq(auditEvents.target, filters.target));
  if (filters.clusterId !== undefined) {
    assertUuid(filters.clusterId, 'clusterId');
    where.push(eq(auditEvents.clusterId, filters.clusterId));
  }
  if (filters.actor !== undefined) where.push(eq(auditEvents.actor, filters.actor));
  if (filters.action !== undefined) where.push(eq(auditEvents.action, filters.action));
  if (filters.since !== undefined) where.push(gte(auditEvents.at, filters.since));
  if (filters.until !== undefined) where.push(lte(auditEvents.at, filters.until));
  if (page.cursor !== undefined) where.push(lt(auditEvents.id, decodeCursor(page.cursor, isAuditCursor).id));
  const rows = await database.db
    .select()
    .from(auditEvents)
    .where(and(...where))
    .orderBy(desc(auditEvents.id))
    .limit(limit + 1);
  return toPage(
    rows,
    limit,
    (r) => r,
    (r) => ({ id: r.id }),
  );
}
