// Reading snapshots: the current one of a cluster (or a named run of it), page by page with keyset
// cursors; the access of one principal across every cluster; and the diff between two runs.
//
// A cursor carries the run it was issued for, so a client paging through a large snapshot keeps
// reading that run even if a newer sync becomes current meanwhile: pages never mix two snapshots.
// Once that run is pruned, its cursors are rejected as expired.
//
// A run whose content equalled the current snapshot's wrote no rows (see completeSyncRun): per
// table, it names the run whose rows it shares. Every read here goes through that name, and
// answers still speak of the run asked for, so a reused run reads like any other.
import { and, asc, eq, gt, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { SnapshotPart } from '../content-hash.js';
import { decodeCursor, encodeCursor, isKeyString, pageSize, type Page } from '../cursor.js';
import { InvalidCursorError, InvalidInputError, NotFoundError } from '../errors.js';
import {
  clusters,
  snapshotEntitlements,
  snapshotGrants,
  snapshotResources,
  syncRuns,
  type SyncStatus,
} from '../schema.js';
import type { SnapshotEntitlement, SnapshotGrant, SnapshotResource } from '../snapshot-types.js';
import { isRecord, isUuid } from '../validate.js';

/** Statuses whose run holds a snapshot. */
export const SNAPSHOT_STATUSES = ['succeeded', 'partial'] as const satisfies readonly SyncStatus[];

/** A page of a snapshot, with the run it was read from (null when the cluster has no snapshot yet). */
export interface SnapshotPage<T> extends Page<T> {
  syncRunId: string | null;
}

interface PageOptions {
  cursor?: string;
  limit?: number;
  /** Read this run of the cluster instead of the current one (it must hold a snapshot). */
  syncRunId?: string;
}

export interface ResourceFilters extends PageOptions {
  type?: string;
  resourceId?: string;
  parentType?: string;
  parentId?: string;
}

export interface EntitlementFilters extends PageOptions {
  /** The type of the resource the entitlement belongs to. */
  type?: string;
  resourceId?: string;
}

export interface GrantFilters extends PageOptions {
  /** The type of the resource the grant's entitlement belongs to. */
  type?: string;
  resourceId?: string;
  entitlementId?: string;
  principalType?: string;
  principalId?: string;
}

interface SnapshotCursor {
  r: string;
  k: string[];
}

function cursorCheck(keyParts: number) {
  return (value: unknown): value is SnapshotCursor =>
    isRecord(value) &&
    isUuid(value.r) &&
    Array.isArray(value.k) &&
    value.k.length === keyParts &&
    value.k.every(isKeyString);
}

/** The run a read answers for, and per table the run whose rows hold that run's snapshot. */
interface ResolvedRun {
  runId: string | null;
  rowsOf: Record<SnapshotPart, string>;
  after?: string[];
}

const holderColumns = {
  resources: syncRuns.resourcesRunId,
  entitlements: syncRuns.entitlementsRunId,
  grants: syncRuns.grantsRunId,
};

function rowsOf(
  runId: string,
  holders: { resources: string | null; entitlements: string | null; grants: string | null },
): Record<SnapshotPart, string> {
  // Every run with a snapshot names its holders (migration 0008 filled them in for older runs).
  return {
    resources: holders.resources ?? runId,
    entitlements: holders.entitlements ?? runId,
    grants: holders.grants ?? runId,
  };
}

/** Which run to read: the cursor's, the one asked for, or the cluster's current one. */
async function resolveRun(
  database: Database,
  clusterId: string,
  options: PageOptions,
  keyParts: number,
): Promise<ResolvedRun> {
  if (!isUuid(clusterId)) throw new NotFoundError(`cluster ${clusterId} not found`);
  const [cluster] = await database.db
    .select({ current: clusters.currentSyncRunId, ...holderColumns })
    .from(clusters)
    .leftJoin(syncRuns, eq(syncRuns.id, clusters.currentSyncRunId))
    .where(and(eq(clusters.id, clusterId), isNull(clusters.deletedAt)));
  if (!cluster) throw new NotFoundError(`cluster ${clusterId} not found`);
  const cursor =
    options.cursor === undefined ? undefined : decodeCursor(options.cursor, cursorCheck(keyParts));
  const after = cursor ? { after: cursor.k } : {};
  const wanted = cursor?.r ?? options.syncRunId;
  if (wanted === undefined || wanted === cluster.current) {
    if (cluster.current === null) return { runId: null, rowsOf: rowsOf('', cluster), ...after };
    return { runId: cluster.current, rowsOf: rowsOf(cluster.current, cluster), ...after };
  }
  if (cursor && options.syncRunId !== undefined && options.syncRunId !== cursor.r)
    throw new InvalidCursorError('the cursor belongs to another sync run');
  if (!isUuid(wanted)) throw new InvalidInputError('syncRunId must be a UUID');
  const [run] = await database.db
    .select({ id: syncRuns.id, ...holderColumns })
    .from(syncRuns)
    .where(
      and(
        eq(syncRuns.id, wanted),
        eq(syncRuns.clusterId, clusterId),
        inArray(syncRuns.status, SNAPSHOT_STATUSES),
      ),
    );
  if (!run) {
    // A forged cursor naming another cluster's run reads nothing; an old one reads as expired.
    if (cursor)
      throw new InvalidCursorError(
        'the cursor has expired (its snapshot was pruned); start again without one',
      );
    throw new NotFoundError(`sync run ${wanted} of cluster ${clusterId} has no snapshot`);
  }
  return { runId: run.id, rowsOf: rowsOf(run.id, run), ...after };
}

function page<Row, Item>(
  runId: string,
  rows: Row[],
  limit: number,
  toItem: (row: Row) => Item,
  keyOf: (row: Row) => string[],
): SnapshotPage<Item> {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  const result: SnapshotPage<Item> = { syncRunId: runId, items: pageRows.map(toItem) };
  const last = pageRows[pageRows.length - 1];
  if (more && last !== undefined) result.nextCursor = encodeCursor({ r: runId, k: keyOf(last) });
  return result;
}

export type ResourceRow = typeof snapshotResources.$inferSelect;
type EntitlementRow = typeof snapshotEntitlements.$inferSelect;
export type GrantRow = typeof snapshotGrants.$inferSelect;

/** Maps a stored resource row back to the model shape. */
export function toResource(row: ResourceRow): SnapshotResource {
  const resource: SnapshotResource = {
    type: row.type,
    id: row.resourceId,
    displayName: row.displayName,
    profile: row.profile,
    annotations: row.annotations,
  };
  if (row.parentType !== null && row.parentId !== null)
    resource.parent = { type: row.parentType, id: row.parentId };
  return resource;
}

/** Maps a stored entitlement row back to the model shape. */
export function toEntitlement(row: EntitlementRow): SnapshotEntitlement {
  return {
    id: row.entitlementId,
    resource: { type: row.resourceType, id: row.resourceId },
    slug: row.slug,
    displayName: row.displayName,
    description: row.description,
    purpose: row.purpose,
    grantableTo: row.grantableTo,
  };
}

/** Maps a stored grant row back to the model shape. */
export function toGrant(row: GrantRow): SnapshotGrant {
  const grant: SnapshotGrant = {
    id: row.grantId,
    entitlementId: row.entitlementId,
    resource: { type: row.resourceType, id: row.resourceId },
    principal: { type: row.principalType, id: row.principalId },
    annotations: row.annotations,
  };
  if (row.sources) grant.sources = row.sources;
  if (row.conditions) grant.conditions = row.conditions;
  return grant;
}

/** Lists resources of a cluster's snapshot, ordered by (type, id). */
export async function listResources(
  database: Database,
  clusterId: string,
  filters: ResourceFilters = {},
): Promise<SnapshotPage<SnapshotResource>> {
  const limit = pageSize(filters.limit);
  const { runId, rowsOf, after } = await resolveRun(database, clusterId, filters, 2);
  if (runId === null) return { syncRunId: null, items: [] };
  const t = snapshotResources;
  const where: (SQL | undefined)[] = [eq(t.syncRunId, rowsOf.resources)];
  if (filters.type !== undefined) where.push(eq(t.type, filters.type));
  if (filters.resourceId !== undefined) where.push(eq(t.resourceId, filters.resourceId));
  if (filters.parentType !== undefined) where.push(eq(t.parentType, filters.parentType));
  if (filters.parentId !== undefined) where.push(eq(t.parentId, filters.parentId));
  if (after) where.push(sql`(${t.type}, ${t.resourceId}) > (${after[0]}, ${after[1]})`);
  const rows = await database.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.type), asc(t.resourceId))
    .limit(limit + 1);
  return page(runId, rows, limit, toResource, (r) => [r.type, r.resourceId]);
}

/** Lists entitlements of a cluster's snapshot, ordered by id. */
export async function listEntitlements(
  database: Database,
  clusterId: string,
  filters: EntitlementFilters = {},
): Promise<SnapshotPage<SnapshotEntitlement>> {
  const limit = pageSize(filters.limit);
  const { runId, rowsOf, after } = await resolveRun(database, clusterId, filters, 1);
  if (runId === null) return { syncRunId: null, items: [] };
  const t = snapshotEntitlements;
  const where: (SQL | undefined)[] = [eq(t.syncRunId, rowsOf.entitlements)];
  if (filters.type !== undefined) where.push(eq(t.resourceType, filters.type));
  if (filters.resourceId !== undefined) where.push(eq(t.resourceId, filters.resourceId));
  if (filters.type !== undefined) {
    // Entitlement ids are `<type>:<resource id>:<slug>`, so one type's (or one resource's)
    // entitlements are a range of the primary key (byte order, see schema.ts); ';' is the byte after ':'.
    const prefix =
      filters.resourceId === undefined ? `${filters.type}:` : `${filters.type}:${filters.resourceId}:`;
    where.push(gte(t.entitlementId, prefix), lt(t.entitlementId, `${prefix.slice(0, -1)};`));
  }
  if (after) where.push(gt(t.entitlementId, after[0]!));
  const rows = await database.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.entitlementId))
    .limit(limit + 1);
  return page(runId, rows, limit, toEntitlement, (r) => [r.entitlementId]);
}

/** Lists grants of a cluster's snapshot, ordered by id. */
export async function listGrants(
  database: Database,
  clusterId: string,
  filters: GrantFilters = {},
): Promise<SnapshotPage<SnapshotGrant>> {
  const limit = pageSize(filters.limit);
  const { runId, rowsOf, after } = await resolveRun(database, clusterId, filters, 1);
  if (runId === null) return { syncRunId: null, items: [] };
  const t = snapshotGrants;
  const where: (SQL | undefined)[] = [eq(t.syncRunId, rowsOf.grants)];
  if (filters.type !== undefined) where.push(eq(t.resourceType, filters.type));
  if (filters.resourceId !== undefined) where.push(eq(t.resourceId, filters.resourceId));
  if (filters.entitlementId !== undefined) where.push(eq(t.entitlementId, filters.entitlementId));
  if (filters.principalType !== undefined) where.push(eq(t.principalType, filters.principalType));
  if (filters.principalId !== undefined) where.push(eq(t.principalId, filters.principalId));
  if (after) where.push(gt(t.grantId, after[0]!));
  const rows = await database.db
    .select()
    .from(t)
    .where(and(...where))
    .orderBy(asc(t.grantId))
    .limit(limit + 1);
  return page(runId, rows, limit, toGrant, (r) => [r.grantId]);
}

export interface PrincipalGrant {
  cluster: { id: string; name: string; region: string; accountId: string | null };
  syncRunId: string;
  grant: SnapshotGrant;
  /**
   * The grant ids that lead from the principal to this grant's holder: empty for a grant held
   * directly, `[role:R:assignment:iam_user:<arn>]` for a grant to role R that the principal can assume.
   */
  via: string[];
}

/**
 * The access of one IAM principal (user or role ARN) across the current snapshots of every cluster:
 * its own grants, plus the grants of every role and group it reaches, following GrantExpandable
 * annotations the way C1 expands them (depth-limited, cycles cut).
 */
export async function grantsForPrincipal(
  database: Database,
  principalArn: string,
  options: { maxDepth?: number } = {},
): Promise<PrincipalGrant[]> {
  const maxDepth = options.maxDepth ?? 5;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 10)
    throw new InvalidInputError('maxDepth must be an integer from 0 to 10');
  // Expansion rule: a grant held by principal Q carries GrantExpandable{entitlementIds: [E]}; whoever
  // holds E inherits it. In this model E is always an entitlement of Q itself (role:<arn>:assignment,
  // k8s_group:<g>:member), so the next hop joins on the held grant's resource as a principal and the
  // annotation check confirms the expansion. That keeps every hop on the (run, principal) index.
  // Rows are read from the run holding the current run's grants (grants_run_id, itself or the run
  // whose equal grants it reused); answers name the current run.
  const grantColumns = sql.raw(
    'g.sync_run_id, g.grant_id, g.entitlement_id, g.resource_type, g.resource_id, g.principal_type, ' +
      'g.principal_id, g.annotations, g.sources, g.conditions',
  );
  // Each hop is a LATERAL subquery with OFFSET 0, which Postgres never merges into the outer query:
  // it stays one index probe per cluster (and per role or group reached), the plan that holds at
  // any fleet size. Merged, the planner sizes the recursion by a fixed guess and, with a few hundred
  // thousand grants, hashes the whole grants table on every request instead. The hops carry every
  // column the answer needs, so nothing is read twice.
  //
  // JIT is off for the statement: the guessed size of the recursion puts its cost far above
  // jit_above_cost, and compiling it took about 0.8 s where running it took 45 ms (1,000 clusters).
  const result = await database.db.transaction(
    async (tx) => {
      await tx.execute(sql`SET LOCAL jit = off`);
      return tx.execute<{
        cluster_id: string;
        cluster_name: string;
        region: string;
        account_id: string | null;
        run_id: string;
        grant_id: string;
        entitlement_id: string;
        resource_type: string;
        resource_id: string;
        principal_type: string;
        principal_id: string;
        annotations: GrantRow['annotations'];
        sources: GrantRow['sources'];
        conditions: GrantRow['conditions'];
        path: string[];
      }>(sql`
        WITH RECURSIVE reach AS (
          SELECT c.id AS cluster_id, c.current_sync_run_id AS run_id, g.*, ARRAY[g.grant_id] AS path
            FROM clusters c
           CROSS JOIN LATERAL (SELECT cr.grants_run_id FROM sync_runs cr
                                WHERE cr.id = c.current_sync_run_id OFFSET 0) cr
           CROSS JOIN LATERAL (SELECT ${grantColumns} FROM snapshot_grants g
                                WHERE g.sync_run_id = cr.grants_run_id AND g.principal_id = ${principalArn}
                               OFFSET 0) g
           WHERE c.deleted_at IS NULL
          UNION ALL
          SELECT r.cluster_id, r.run_id, g.*, r.path || g.grant_id
            FROM reach r
           CROSS JOIN LATERAL (
                 SELECT ${grantColumns} FROM snapshot_grants g
                  WHERE g.sync_run_id = r.sync_run_id
                    AND g.principal_id = r.resource_id AND g.principal_type = r.resource_type
                    AND NOT (g.grant_id = ANY (r.path))
                    AND g.annotations @> jsonb_build_array(jsonb_build_object('type', 'GrantExpandable', 'entitlementIds', jsonb_build_array(r.entitlement_id)))
                 OFFSET 0) g
           WHERE cardinality(r.path) <= ${maxDepth}
        ),
        shortest AS (
          SELECT DISTINCT ON (sync_run_id, grant_id) * FROM reach
           ORDER BY sync_run_id, grant_id, cardinality(path)
        )
        SELECT s.cluster_id, c.name AS cluster_name, c.region, c.account_id, s.run_id, s.path,
               s.grant_id, s.entitlement_id, s.resource_type, s.resource_id, s.principal_type, s.principal_id,
               s.annotations, s.sources, s.conditions
          FROM shortest s
          JOIN clusters c ON c.id = s.cluster_id
         ORDER BY c.name, c.region, c.id, cardinality(s.path), s.grant_id`);
    },
    { accessMode: 'read only' },
  );
  return result.rows.map((r) => ({
    cluster: { id: r.cluster_id, name: r.cluster_name, region: r.region, accountId: r.account_id },
    syncRunId: r.run_id,
    grant: toGrant({
      syncRunId: r.run_id,
      grantId: r.grant_id,
      entitlementId: r.entitlement_id,
      resourceType: r.resource_type,
      resourceId: r.resource_id,
      principalType: r.principal_type,
      principalId: r.principal_id,
      annotations: r.annotations,
      sources: r.sources ?? null,
      conditions: r.conditions ?? null,
    }),
    via: r.path.slice(0, -1),
  }));
}

export interface SnapshotDiff {
  fromRunId: string;
  toRunId: string;
  /** In `to`, not in `from` (by grant id), ordered by id. */
  added: SnapshotGrant[];
  /** In `from`, not in `to`, ordered by id. */
  removed: SnapshotGrant[];
}

/** The grants added and removed between two snapshots of one cluster. */
export async function diffSnapshots(
  database: Database,
  clusterId: string,
  fromRunId: string,
  toRunId: string,
): Promise<SnapshotDiff> {
  if (!isUuid(clusterId)) throw new NotFoundError(`cluster ${clusterId} not found`);
  for (const [name, id] of [
    ['from', fromRunId],
    ['to', toRunId],
  ] as const) {
    if (!isUuid(id)) throw new InvalidInputError(`${name} must be a sync run id (UUID)`);
  }
  const runs = await database.db
    .select({
      id: syncRuns.id,
      clusterId: syncRuns.clusterId,
      status: syncRuns.status,
      grants: syncRuns.grantsRunId,
    })
    .from(syncRuns)
    .where(inArray(syncRuns.id, [fromRunId, toRunId]));
  for (const [name, id] of [
    ['from', fromRunId],
    ['to', toRunId],
  ] as const) {
    const run = runs.find((r) => r.id === id);
    if (!run) throw new NotFoundError(`sync run ${id} (${name}) not found`);
    if (run.clusterId !== clusterId)
      throw new InvalidInputError(`sync run ${id} (${name}) belongs to another cluster, not ${clusterId}`);
    if (!(SNAPSHOT_STATUSES as readonly string[]).includes(run.status)) {
      throw new InvalidInputError(`sync run ${id} (${name}) is ${run.status} and has no snapshot`);
    }
  }
  // Each run's grants are read where they are held; runs holding the same rows have no difference.
  const holder = (id: string) => {
    const run = runs.find((r) => r.id === id)!;
    return run.grants ?? run.id;
  };
  const [fromRows, toRows] = [holder(fromRunId), holder(toRunId)];
  if (fromRows === toRows) return { fromRunId, toRunId, added: [], removed: [] };
  const only = async (inRun: string, notInRun: string) => {
    const rows = await database.db
      .select()
      .from(snapshotGrants)
      .where(
        and(
          eq(snapshotGrants.syncRunId, inRun),
          sql`${snapshotGrants.grantId} IN (
            SELECT grant_id FROM snapshot_grants WHERE sync_run_id = ${inRun}
            EXCEPT
            SELECT grant_id FROM snapshot_grants WHERE sync_run_id = ${notInRun})`,
        ),
      )
      .orderBy(asc(snapshotGrants.grantId));
    return rows.map(toGrant);
  };
  return {
    fromRunId,
    toRunId,
    added: await only(toRows, fromRows),
    removed: await only(fromRows, toRows),
  };
}

/**
 * One entitlement of the cluster's current snapshot, or undefined; `null` when the cluster has no
 * snapshot yet (nothing can be checked against it).
 */
export async function findCurrentEntitlement(
  database: Database,
  clusterId: string,
  entitlementId: string,
): Promise<SnapshotEntitlement | undefined | null> {
  const { runId, rowsOf } = await resolveRun(database, clusterId, {}, 1);
  if (runId === null) return null;
  const [row] = await database.db
    .select()
    .from(snapshotEntitlements)
    .where(
      and(
        eq(snapshotEntitlements.syncRunId, rowsOf.entitlements),
        eq(snapshotEntitlements.entitlementId, entitlementId),
      ),
    );
  return row ? toEntitlement(row) : undefined;
}

/** Whether the cluster's current snapshot lists this resource. */
export async function hasCurrentResource(
  database: Database,
  clusterId: string,
  type: string,
  resourceId: string,
): Promise<boolean | null> {
  const { runId, rowsOf } = await resolveRun(database, clusterId, {}, 2);
  if (runId === null) return null;
  const [row] = await database.db
    .select({ id: snapshotResources.resourceId })
    .from(snapshotResources)
    .where(
      and(
        eq(snapshotResources.syncRunId, rowsOf.resources),
        eq(snapshotResources.type, type),
        eq(snapshotResources.resourceId, resourceId),
      ),
    );
  return row !== undefined;
}
