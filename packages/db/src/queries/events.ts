// The change-event log: every grant that appeared or went, every resource that changed, and the
// findings they raise, appended in the transaction that changed the cluster's current snapshot.
//
// - The watcher appends the events of each incremental change (source `watch`); a full sync that
//   moves the current snapshot appends the difference to the snapshot before it (source `sync`),
//   flagged `drift` when that snapshot was the watcher's: what the incremental state had missed or
//   got wrong. A cluster's first snapshot appends nothing (it is the inventory, not a change).
// - Ids are the cursor. appendChangeEvents takes a transaction-scoped advisory lock before it takes
//   ids, so transactions that append commit in id order: a reader that has seen id N never later
//   finds a smaller id. The lock is held from the append to the commit, which is the last step of
//   the writers' transactions.
// - After the append the transaction NOTIFYs `events:<last id>` on the change channel; Postgres
//   delivers it on commit, so live readers (the API's event stream) wake exactly when rows are visible.
import {
  groupMemberEntitlementId,
  clusterRoleEntitlementId,
  type Grant,
  type Resource,
} from '@eks-access/model';
import type pg from 'pg';
import type { Database } from '../client.js';
import { CHANGE_CHANNEL } from '../changes.js';
import { InvalidInputError } from '../errors.js';
import { CHANGE_EVENT_KINDS, type ChangeEventKind, type ChangeEventSource } from '../schema.js';
import { isUuid } from '../validate.js';
import type { SnapshotContent, SnapshotDelta } from './incremental.js';

/** The advisory lock key that orders appends (any constant; this one spells "eksevent"). */
const APPEND_LOCK_KEY = '7308061699954011764';
const INSERT_CHUNK = 2000;

/** The changes one transaction records. */
export interface ChangeSet {
  clusterId: string;
  syncRunId: string;
  source: ChangeEventSource;
  /** A full sync's difference to an incremental (watch) snapshot. */
  drift?: boolean;
  grantsAdded: Grant[];
  grantsRemoved: Grant[];
  resourcesChanged: { before: Resource | null; after: Resource | null }[];
}

/** The findings a new grant raises: access that a security team wants to hear about at once. */
export const FINDING_RULES: readonly { finding: string; matches: (g: Grant) => boolean; message: string }[] =
  [
    {
      finding: 'system-masters-member',
      matches: (g) => g.entitlementId === groupMemberEntitlementId('system:masters'),
      message: 'a new member of system:masters (unrestricted access that RBAC cannot limit)',
    },
    {
      finding: 'cluster-admin-binding',
      matches: (g) => g.entitlementId === clusterRoleEntitlementId('cluster-admin'),
      message: 'a new cluster-wide binding to cluster-admin',
    },
    {
      finding: 'cluster-admin-access-policy',
      matches: (g) =>
        g.resource.type === 'access_policy' &&
        g.resource.id === 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
      message: 'a new association of AmazonEKSClusterAdminPolicy',
    },
  ];

/** The findings of one grant (usually none). */
export function findingsOf(grant: Grant): { finding: string; message: string }[] {
  return FINDING_RULES.filter((r) => r.matches(grant)).map(({ finding, message }) => ({ finding, message }));
}

/** The change events of an incremental delta: grants that appeared or went, resources that changed. */
export function changeSetOf(
  clusterId: string,
  runId: string,
  delta: SnapshotDelta,
  before: SnapshotContent,
  source: ChangeEventSource = 'watch',
): ChangeSet {
  const grantsAdded = delta.grants.upsert.filter((g) => !before.grants.has(g.id));
  const removed = new Set(delta.grants.removed);
  const grantsRemoved = delta.grants.before.filter((g) => removed.has(g.id));
  const resourcesChanged: ChangeSet['resourcesChanged'] = [];
  const resourceKey = (r: Resource) => `${r.type}\u0000${r.id}`;
  for (const r of delta.resources.upsert)
    resourcesChanged.push({ before: before.resources.get(resourceKey(r))?.row ?? null, after: r });
  const goneResources = new Set(delta.resources.removed);
  for (const r of delta.resources.before)
    if (goneResources.has(resourceKey(r))) resourcesChanged.push({ before: r, after: null });
  return { clusterId, syncRunId: runId, source, grantsAdded, grantsRemoved, resourcesChanged };
}

/** How many events a change set makes. */
export function changeSetSize(changes: ChangeSet): number {
  return (
    changes.grantsAdded.length +
    changes.grantsRemoved.length +
    changes.resourcesChanged.length +
    changes.grantsAdded.reduce((n, g) => n + findingsOf(g).length, 0)
  );
}

interface EventRow {
  kind: ChangeEventKind;
  principal_type: string | null;
  principal_id: string | null;
  resource_type: string | null;
  resource_id: string | null;
  entitlement_id: string | null;
  grant_id: string | null;
  finding: string | null;
  detail: Record<string, unknown>;
}

function grantRow(kind: ChangeEventKind, g: Grant, extra: Partial<EventRow> = {}): EventRow {
  return {
    kind,
    principal_type: g.principal.type,
    principal_id: g.principal.id,
    resource_type: g.resource.type,
    resource_id: g.resource.id,
    entitlement_id: g.entitlementId,
    grant_id: g.id,
    finding: null,
    detail: { grant: g },
    ...extra,
  };
}

/** The rows of a change set, in the order they are logged: revokes, grants with their findings, resources. */
function eventRows(changes: ChangeSet): EventRow[] {
  const rows: EventRow[] = [];
  for (const g of changes.grantsRemoved) rows.push(grantRow('revoke', g));
  for (const g of changes.grantsAdded) {
    rows.push(grantRow('grant', g));
    for (const f of findingsOf(g)) {
      rows.push(grantRow('finding', g, { finding: f.finding, detail: { grant: g, message: f.message } }));
    }
  }
  for (const { before, after } of changes.resourcesChanged) {
    const r = (after ?? before)!;
    rows.push({
      kind: 'resource_change',
      principal_type: null,
      principal_id: null,
      resource_type: r.type,
      resource_id: r.id,
      entitlement_id: null,
      grant_id: null,
      finding: null,
      detail: { before, after },
    });
  }
  return rows;
}

/**
 * Appends a change set's events inside the caller's open transaction (the one that changes the
 * snapshot), in commit order, and announces them on commit. Returns how many were written and the
 * last id.
 */
export async function appendChangeEvents(
  client: pg.ClientBase,
  changes: ChangeSet,
): Promise<{ count: number; lastId: number | null }> {
  const rows = eventRows(changes);
  if (rows.length === 0) return { count: 0, lastId: null };
  await client.query(`SELECT pg_advisory_xact_lock(${APPEND_LOCK_KEY})`);
  let lastId: number | null = null;
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO change_events (cluster_id, sync_run_id, source, drift, kind, principal_type, principal_id,
                                  resource_type, resource_id, entitlement_id, grant_id, finding, detail)
       SELECT $1, $2, $3, $4, x.kind, x.principal_type, x.principal_id, x.resource_type, x.resource_id,
              x.entitlement_id, x.grant_id, x.finding, x.detail
         FROM ROWS FROM (jsonb_to_recordset($5::jsonb) AS (kind text, principal_type text, principal_id text,
              resource_type text, resource_id text, entitlement_id text, grant_id text, finding text,
              detail jsonb)) WITH ORDINALITY AS x(kind, principal_type, principal_id, resource_type, resource_id,
              entitlement_id, grant_id, finding, detail, n)
        ORDER BY x.n
       RETURNING id`,
      [changes.clusterId, changes.syncRunId, changes.source, changes.drift ?? false, JSON.stringify(chunk)],
    );
    for (const r of inserted.rows) lastId = Math.max(lastId ?? 0, Number(r.id));
  }
  await client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, `events:${lastId}`]);
  return { count: rows.length, lastId };
}

/** One logged change, as the API and the C1 event feed read it. */
export interface ChangeEvent {
  /** The cursor: events after this one have larger ids. */
  id: string;
  clusterId: string;
  syncRunId: string;
  kind: ChangeEventKind;
  source: ChangeEventSource;
  drift: boolean;
  principal: { type: string; id: string } | null;
  resource: { type: string; id: string } | null;
  entitlementId: string | null;
  grantId: string | null;
  finding: string | null;
  detail: Record<string, unknown>;
  occurredAt: Date;
}

export interface ListChangeEventsOptions {
  /** Only events after this cursor (an event id); from the start without it. */
  cursor?: string;
  clusterId?: string;
  /** Only events about this principal (an IAM ARN or another principal id). */
  principalId?: string;
  kinds?: readonly ChangeEventKind[];
  /** Only events that occurred at or after this instant. */
  startAt?: Date;
  limit?: number;
}

export interface ChangeEventPage {
  items: ChangeEvent[];
  /** Where the next read starts: the last event's id, or the given cursor when nothing was found. */
  cursor: string | null;
  /** True when the page was full: more events may follow right away. */
  hasMore: boolean;
}

export const MAX_EVENT_PAGE = 1000;

/** Checks an event cursor: a non-negative integer (an event id). */
export function parseEventCursor(cursor: string): number {
  if (!/^\d{1,18}$/.test(cursor)) throw new InvalidInputError(`invalid event cursor: ${cursor.slice(0, 40)}`);
  return Number(cursor);
}

/** Reads events in id order after a cursor, filtered. */
export async function listChangeEvents(
  database: Database,
  options: ListChangeEventsOptions = {},
): Promise<ChangeEventPage> {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), MAX_EVENT_PAGE);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (clause: string, value: unknown) => {
    params.push(value);
    where.push(clause.replace('?', `$${params.length}`));
  };
  if (options.cursor !== undefined && options.cursor !== '') add('id > ?', parseEventCursor(options.cursor));
  if (options.clusterId !== undefined) {
    if (!isUuid(options.clusterId)) throw new InvalidInputError('clusterId must be a UUID');
    add('cluster_id = ?', options.clusterId);
  }
  if (options.principalId !== undefined) add('principal_id = ?', options.principalId);
  if (options.kinds !== undefined && options.kinds.length > 0) {
    for (const k of options.kinds)
      if (!(CHANGE_EVENT_KINDS as readonly string[]).includes(k))
        throw new InvalidInputError(`unknown event kind: ${k}`);
    add('kind = ANY(?)', options.kinds);
  }
  if (options.startAt !== undefined) add('occurred_at >= ?', options.startAt);
  params.push(limit);
  const { rows } = await database.pool.query<{
    id: string;
    cluster_id: string;
    sync_run_id: string;
    kind: ChangeEventKind;
    source: ChangeEventSource;
    drift: boolean;
    principal_type: string | null;
    principal_id: string | null;
    resource_type: string | null;
    resource_id: string | null;
    entitlement_id: string | null;
    grant_id: string | null;
    finding: string | null;
    detail: Record<string, unknown>;
    occurred_at: Date;
  }>(
    `SELECT * FROM change_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT $${params.length}`,
    params,
  );
  const items = rows.map((r): ChangeEvent => ({
    id: String(r.id),
    clusterId: r.cluster_id,
    syncRunId: r.sync_run_id,
    kind: r.kind,
    source: r.source,
    drift: r.drift,
    principal:
      r.principal_type !== null && r.principal_id !== null
        ? { type: r.principal_type, id: r.principal_id }
        : null,
    resource:
      r.resource_type !== null && r.resource_id !== null
        ? { type: r.resource_type, id: r.resource_id }
        : null,
    entitlementId: r.entitlement_id,
    grantId: r.grant_id,
    finding: r.finding,
    detail: r.detail,
    occurredAt: r.occurred_at,
  }));
  return {
    items,
    cursor: items.length > 0 ? items[items.length - 1]!.id : options.cursor || null,
    hasMore: items.length === limit,
  };
}
