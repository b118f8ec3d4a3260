// Sync runs and the write side of snapshots.
//
// Lifecycle: queued → running (→ running again on a retry after a crash) → succeeded | partial |
// failed. At most one run per cluster is queued or running; the partial unique index
// `sync_runs_one_active_per_cluster` enforces it, so a second enqueue returns the existing run
// however many API replicas race.
//
// The current snapshot of a cluster is `clusters.current_sync_run_id`. It moves only inside the
// transaction that writes a complete snapshot, so readers see the old snapshot or the new one, never
// a mix. A partial run (a source could not be read) keeps its snapshot for inspection and diffing
// but does not become current: a missing source would otherwise read as "nobody has access there"
// and silently drop real grants from every answer. A failed run writes nothing.
//
// Storage grows with changes, not with syncs: a snapshot table whose content hash equals the
// current snapshot's is not written again, the run names the run holding those rows instead
// (completeSyncRun). Pruning keeps `snapshotRetention` runs per cluster (or the deployment's
// default) and the rows of any run that a kept run still names.
import { and, desc, eq, getTableColumns, inArray, isNull, notInArray, sql, type SQL } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database, DbExecutor } from '../client.js';
import { createTableHasher, snapshotHash, SNAPSHOT_PARTS, type SnapshotPart } from '../content-hash.js';
import { copyRows } from '../copy.js';
import { ENTITLEMENTS, GRANTS, RESOURCES, type SnapshotColumns } from '../snapshot-columns.js';
import { decodeCursor, isIsoTimestamp, pageSize, toPage, type Page } from '../cursor.js';
import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  SyncRunStateError,
  isUniqueViolation,
} from '../errors.js';
import * as schema from '../schema.js';
import {
  SYNC_STATUSES,
  SYNC_TRIGGERS,
  clusters,
  syncRuns,
  type SyncStatus,
  type SyncTrigger,
} from '../schema.js';
import type { RowSource, SnapshotSource, SyncReportInput } from '../snapshot-types.js';
import { assertUuid, isRecord, isUuid } from '../validate.js';
import { recordAudit, type AuditContext } from './audit.js';
import { appendChangeEvents, type ChangeSet } from './events.js';
import { SNAPSHOT_STATUSES, toGrant, toResource, type GrantRow, type ResourceRow } from './snapshots.js';

// Where a run's snapshot rows are kept (the per-table hashes and the runs holding the rows) is the
// storage's business: runs are read and returned without those columns; the content hash is kept.
const {
  resourcesHash: _resourcesHash,
  entitlementsHash: _entitlementsHash,
  grantsHash: _grantsHash,
  resourcesRunId: _resourcesRunId,
  entitlementsRunId: _entitlementsRunId,
  grantsRunId: _grantsRunId,
  ...runColumns
} = getTableColumns(syncRuns);

/** A sync run as callers see it. */
export type SyncRun = {
  [K in keyof typeof runColumns]: (typeof syncRuns.$inferSelect)[K];
};

export const ACTIVE_STATUSES = ['queued', 'running'] as const satisfies readonly SyncStatus[];
export { SNAPSHOT_STATUSES };

export interface EnqueueResult {
  run: SyncRun;
  /** False when the cluster already had a queued or running run, which is returned instead. */
  created: boolean;
}

function checkTrigger(trigger: SyncTrigger): void {
  if (!(SYNC_TRIGGERS as readonly string[]).includes(trigger)) {
    throw new InvalidInputError(`trigger must be one of ${SYNC_TRIGGERS.join(', ')}`);
  }
}

/**
 * Queues a sync of one cluster, or returns its queued or running run (`created: false`). Safe under
 * any number of concurrent callers: they all get the same run.
 */
export async function enqueueSyncRun(
  database: Database,
  clusterId: string,
  trigger: SyncTrigger,
  options: { audit?: AuditContext } = {},
): Promise<EnqueueResult> {
  checkTrigger(trigger);
  if (!isUuid(clusterId)) throw new NotFoundError(`cluster ${clusterId} not found`);
  // Loops only when the active run finishes between the conflicting insert and the read of it.
  for (let tries = 0; tries < 5; tries++) {
    const result = await database.db.transaction(async (tx): Promise<EnqueueResult | undefined> => {
      const [cluster] = await tx
        .select({ enabled: clusters.enabled })
        .from(clusters)
        .where(and(eq(clusters.id, clusterId), isNull(clusters.deletedAt)));
      if (!cluster) throw new NotFoundError(`cluster ${clusterId} not found`);
      if (!cluster.enabled) throw new ConflictError(`cluster ${clusterId} is disabled; enable it to sync`);
      const [inserted] = await tx
        .insert(syncRuns)
        .values({ clusterId, trigger })
        .onConflictDoNothing({
          target: syncRuns.clusterId,
          where: sql`${syncRuns.status} IN ('queued', 'running')`,
        })
        .returning(runColumns);
      if (inserted) {
        if (options.audit) {
          await recordAudit(tx, {
            actor: options.audit.actor,
            action: 'sync.enqueue',
            clusterId,
            target: `sync_run:${inserted.id}`,
            after: { id: inserted.id, trigger },
            ...(options.audit.requestId !== undefined ? { requestId: options.audit.requestId } : {}),
            ...(options.audit.details ? { details: options.audit.details } : {}),
          });
        }
        return { run: inserted, created: true };
      }
      const [existing] = await tx
        .select(runColumns)
        .from(syncRuns)
        .where(and(eq(syncRuns.clusterId, clusterId), inArray(syncRuns.status, ACTIVE_STATUSES)));
      return existing ? { run: existing, created: false } : undefined;
    });
    if (result) return result;
  }
  throw new ConflictError(`could not enqueue a sync of cluster ${clusterId}: its active run kept changing`);
}

/** Queues a sync of every enabled cluster; clusters with an active run get that run back. */
export async function enqueueSyncRunsForAll(
  database: Database,
  trigger: SyncTrigger,
): Promise<EnqueueResult[]> {
  checkTrigger(trigger);
  // One statement for the common case; ordering by id takes index locks in a fixed order, so two
  // bulk enqueues cannot deadlock each other.
  const inserted = await database.db.execute<{ id: string }>(sql`
    INSERT INTO ${syncRuns} (${sql.identifier(syncRuns.clusterId.name)}, ${sql.identifier(syncRuns.trigger.name)})
    SELECT ${clusters.id}, ${trigger} FROM ${clusters}
    WHERE ${clusters.enabled} AND ${clusters.deletedAt} IS NULL
    ORDER BY ${clusters.id}
    ON CONFLICT (${sql.identifier(syncRuns.clusterId.name)}) WHERE ${sql.identifier(syncRuns.status.name)} IN ('queued', 'running') DO NOTHING
    RETURNING ${sql.identifier(syncRuns.id.name)} AS id`);
  const createdIds = new Set(inserted.rows.map((r) => r.id));
  const enabled = await database.db
    .select({ id: clusters.id })
    .from(clusters)
    .where(and(eq(clusters.enabled, true), isNull(clusters.deletedAt)));
  const active = await database.db
    .select(runColumns)
    .from(syncRuns)
    .innerJoin(clusters, eq(clusters.id, syncRuns.clusterId))
    .where(
      and(inArray(syncRuns.status, ACTIVE_STATUSES), eq(clusters.enabled, true), isNull(clusters.deletedAt)),
    );
  const results = new Map<string, EnqueueResult>();
  for (const run of active) results.set(run.clusterId, { run, created: createdIds.has(run.id) });
  // A cluster whose run finished between the two statements, or that was enabled meanwhile.
  for (const { id } of enabled) {
    if (!results.has(id)) {
      try {
        results.set(id, await enqueueSyncRun(database, id, trigger));
      } catch (err) {
        if (!(err instanceof NotFoundError || err instanceof ConflictError)) throw err;
      }
    }
  }
  return [...results.values()];
}

/**
 * Marks a run running and increments its attempt. A run already running is allowed back in: that
 * is the retry of an attempt whose worker died. Throws SyncRunStateError for a finished run.
 */
export async function startSyncRun(database: Database, id: string, worker: string): Promise<SyncRun> {
  if (!isUuid(id)) throw new NotFoundError(`sync run ${id} not found`);
  const [run] = await database.db
    .update(syncRuns)
    .set({
      status: 'running',
      attempt: sql`${syncRuns.attempt} + 1`,
      worker,
      startedAt: sql`now()`,
      progress: null,
    })
    .where(and(eq(syncRuns.id, id), inArray(syncRuns.status, ACTIVE_STATUSES)))
    .returning(runColumns);
  if (run) return run;
  const existing = await getSyncRun(database, id);
  throw new SyncRunStateError(`sync run ${id} is ${existing.status} and cannot be started again`);
}

function attemptMatches(attempt: number | undefined): SQL | undefined {
  return attempt === undefined ? undefined : eq(syncRuns.attempt, attempt);
}

/**
 * Stores the progress of a running run. Returns false when the run is no longer running (or a newer
 * attempt took it over): the caller should stop working on it.
 */
export async function recordProgress(
  database: Database,
  id: string,
  progress: Record<string, unknown>,
  attempt?: number,
): Promise<boolean> {
  if (!isUuid(id)) return false;
  const rows = await database.db
    .update(syncRuns)
    .set({ progress })
    .where(and(eq(syncRuns.id, id), eq(syncRuns.status, 'running'), attemptMatches(attempt)))
    .returning({ id: syncRuns.id });
  return rows.length > 0;
}

export interface CompleteSyncRunInput {
  /** The three streams; each is read once, in order resources, entitlements, grants. */
  snapshot: SnapshotSource;
  /** The report, or a function called after the streams are drained (eks-core's `finish()`), for exact counts. */
  report: SyncReportInput | (() => SyncReportInput);
  /** The attempt this worker started; a stale worker from an earlier attempt is refused. */
  attempt?: number;
}

export interface CompleteSyncRunResult {
  run: SyncRun;
  /** True when the cluster's current snapshot is now this run. */
  current: boolean;
  /**
   * Rows written to the snapshot tables, per table: all of the table's rows, or none when they
   * equal the current snapshot's (the run then reads that snapshot's rows).
   */
  rows: Record<SnapshotPart, number>;
  /** Rows the run's snapshot holds, per table, whether written now or reused. */
  size: Record<SnapshotPart, number>;
  /** True when the whole snapshot equals the current one: nothing was written. */
  reused: boolean;
  /**
   * What this run changed against the snapshot it replaced (appended to the change-event log), when
   * it became current and a snapshot was current before it. `drift` is true when that snapshot was
   * the watcher's incremental one: the counts are then what the incremental state had wrong.
   */
  changes?: { grantsAdded: number; grantsRemoved: number; resourcesChanged: number; drift: boolean };
}

const quoted = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');

/**
 * Streams one table of a snapshot into a temporary table of this transaction (dropped at commit,
 * never WAL-logged), hashing each row on the way. Returns the row count and the table's hash.
 */
async function stage<T>(
  client: pg.PoolClient,
  part: SnapshotColumns<T>,
  rows: RowSource<T>,
): Promise<{ rows: number; hash: string }> {
  const cols = quoted(part.columns);
  await client.query(
    `CREATE TEMP TABLE "staged_${part.part}" ON COMMIT DROP AS SELECT ${cols} FROM "snapshot_${part.part}" WITH NO DATA`,
  );
  const hasher = createTableHasher(part.part);
  const count = await copyRows(client, `staged_${part.part}`, part.columns, rows, part.toValues, (line) =>
    hasher.add(line),
  );
  return { rows: count, hash: hasher.digest() };
}

/** The content of the cluster's current snapshot: per table, its hash and the run holding its rows. */
type CurrentContent = { [K in SnapshotPart as `${K}_hash` | `${K}_run_id`]: string | null } & {
  id: string;
  trigger: string;
};

const camel = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const selectAs = (alias: string, columns: readonly string[]) =>
  columns.map((c) => `${alias}."${c}" AS "${camel(c)}"`).join(', ');

/**
 * The difference between the staged snapshot and the one it replaces, as a change set: grants by
 * id, resources by (type, id) and content. Read only for tables whose hash differs.
 */
async function stagedDifference(
  client: pg.PoolClient,
  clusterId: string,
  runId: string,
  previous: CurrentContent,
  hashes: Record<SnapshotPart, string>,
): Promise<ChangeSet> {
  const changes: ChangeSet = {
    clusterId,
    syncRunId: runId,
    source: 'sync',
    drift: previous.trigger === 'watch',
    grantsAdded: [],
    grantsRemoved: [],
    resourcesChanged: [],
  };
  if (previous.grants_hash !== hashes.grants && previous.grants_run_id) {
    const g = GRANTS.columns;
    const added = await client.query<GrantRow>(
      `SELECT ${selectAs('s', g)} FROM pg_temp."staged_grants" s
        WHERE NOT EXISTS (SELECT 1 FROM snapshot_grants p WHERE p.sync_run_id = $1 AND p.grant_id = s.grant_id)`,
      [previous.grants_run_id],
    );
    const removed = await client.query<GrantRow>(
      `SELECT ${selectAs('p', g)} FROM snapshot_grants p
        WHERE p.sync_run_id = $1
          AND NOT EXISTS (SELECT 1 FROM pg_temp."staged_grants" s WHERE s.grant_id = p.grant_id)`,
      [previous.grants_run_id],
    );
    changes.grantsAdded = added.rows.map(toGrant);
    changes.grantsRemoved = removed.rows.map(toGrant);
  }
  if (previous.resources_hash !== hashes.resources && previous.resources_run_id) {
    const r = RESOURCES.columns;
    const same = r.map((c) => `s."${c}" IS NOT DISTINCT FROM p."${c}"`).join(' AND ');
    const { rows } = await client.query<{ s: ResourceRow | null; p: ResourceRow | null }>(
      `SELECT CASE WHEN s.type IS NULL THEN NULL ELSE json_build_object(${r.map((c) => `'${camel(c)}', s."${c}"`).join(', ')}) END AS s,
              CASE WHEN p.type IS NULL THEN NULL ELSE json_build_object(${r.map((c) => `'${camel(c)}', p."${c}"`).join(', ')}) END AS p
         FROM pg_temp."staged_resources" s
         FULL JOIN (SELECT * FROM snapshot_resources WHERE sync_run_id = $1) p
           ON p.type = s.type AND p.resource_id = s.resource_id
        WHERE s.type IS NULL OR p.type IS NULL OR NOT (${same})`,
      [previous.resources_run_id],
    );
    changes.resourcesChanged = rows.map((row) => ({
      before: row.p ? toResource(row.p) : null,
      after: row.s ? toResource(row.s) : null,
    }));
  }
  return changes;
}

/**
 * Finishes a run with its snapshot, all in one transaction: succeeded (and made the cluster's
 * current snapshot) for a complete report, partial (kept, not current) otherwise.
 *
 * The streams are staged in temporary tables and hashed on the way (content-hash.ts). A table whose
 * hash equals the current snapshot's is not written again: the run names the run that holds those
 * rows (`resources_run_id` and so on). Otherwise the staged rows are copied into the snapshot table
 * under this run's id. A sync that changed nothing therefore writes no snapshot row at all, and one
 * that changed only grants writes only grants.
 *
 * Why reusing the current snapshot's rows is safe without locking the cluster: only this
 * transaction can move the cluster's current pointer (one queued or running run per cluster, and
 * the run's row is locked here), pruning never deletes the current run, and that run names the rows
 * reused here until this run, committed, names them too.
 */
export async function completeSyncRun(
  database: Database,
  id: string,
  input: CompleteSyncRunInput,
): Promise<CompleteSyncRunResult> {
  assertUuid(id, 'sync run id');
  const client = await database.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      // Locking the run first serialises this with failSyncRun and with a second completion.
      const locked = await client.query<{
        cluster_id: string;
        status: SyncStatus;
        attempt: number;
        queued_at: Date;
      }>('SELECT cluster_id, status, attempt, queued_at FROM sync_runs WHERE id = $1 FOR UPDATE', [id]);
      const run = locked.rows[0];
      if (!run) throw new NotFoundError(`sync run ${id} not found`);
      if (run.status !== 'running')
        throw new SyncRunStateError(
          `sync run ${id} is ${run.status}, not running; its snapshot is not written`,
        );
      if (input.attempt !== undefined && input.attempt !== run.attempt) {
        throw new SyncRunStateError(
          `sync run ${id} is on attempt ${run.attempt}; attempt ${input.attempt} may not complete it`,
        );
      }
      const staged: Record<SnapshotPart, { rows: number; hash: string }> = {
        resources: await stage(client, RESOURCES, input.snapshot.resources()),
        entitlements: await stage(client, ENTITLEMENTS, input.snapshot.entitlements()),
        grants: await stage(client, GRANTS, input.snapshot.grants()),
      };
      const report = typeof input.report === 'function' ? input.report() : input.report;
      const status = report.status === 'complete' ? 'succeeded' : 'partial';

      const { rows: currentRows } = await client.query<CurrentContent>(
        `SELECT r.id, r.trigger, ${SNAPSHOT_PARTS.map((p) => `r.${p}_hash, r.${p}_run_id`).join(', ')}
           FROM clusters c JOIN sync_runs r ON r.id = c.current_sync_run_id
          WHERE c.id = $1
            FOR UPDATE OF c`,
        [run.cluster_id],
      );
      const currentContent = currentRows[0];
      const holders = {} as Record<SnapshotPart, string>;
      const written: Record<SnapshotPart, number> = { resources: 0, entitlements: 0, grants: 0 };
      for (const part of [RESOURCES, ENTITLEMENTS, GRANTS] as const) {
        const name = part.part;
        const holder = currentContent?.[`${name}_run_id`];
        if (holder && currentContent[`${name}_hash`] === staged[name].hash) {
          holders[name] = holder;
          continue;
        }
        const cols = quoted(part.columns);
        const inserted = await client.query(
          `INSERT INTO "snapshot_${name}" ("sync_run_id", ${cols}) SELECT $1, ${cols} FROM pg_temp."staged_${name}"`,
          [id],
        );
        written[name] = inserted.rowCount ?? 0;
        holders[name] = id;
      }
      const size: Record<SnapshotPart, number> = {
        resources: staged.resources.rows,
        entitlements: staged.entitlements.rows,
        grants: staged.grants.rows,
      };
      const tx = drizzle({ client, schema });
      const [finished] = await tx
        .update(syncRuns)
        .set({
          status,
          finishedAt: sql`now()`,
          counts: { ...report.counts, totals: size, written },
          apiCalls: report.apiCalls,
          sources: report.sources,
          sourceDurationsMs: report.sourceDurationsMs,
          warnings: [...report.warnings],
          totalApiCalls: report.totalApiCalls,
          error: null,
          contentHash: snapshotHash({
            resources: staged.resources.hash,
            entitlements: staged.entitlements.hash,
            grants: staged.grants.hash,
          }),
          resourcesHash: staged.resources.hash,
          entitlementsHash: staged.entitlements.hash,
          grantsHash: staged.grants.hash,
          resourcesRunId: holders.resources,
          entitlementsRunId: holders.entitlements,
          grantsRunId: holders.grants,
        })
        .where(eq(syncRuns.id, id))
        .returning(runColumns);
      let current = false;
      if (status === 'succeeded') {
        // Never move the pointer back: a run queued before the current one (a retried straggler) stays
        // history. A current `watch` run (incremental changes, queries/incremental.ts) is compared by the
        // full sync its chain started from: a full sync queued after that one wins over the
        // incremental state, and what differs is reported as drift.
        const moved = await client.query(
          `UPDATE clusters SET current_sync_run_id = $1
            WHERE id = $2 AND (current_sync_run_id IS NULL
              OR coalesce((SELECT f.queued_at FROM sync_runs c LEFT JOIN sync_runs f
                             ON f.id = CASE WHEN c.trigger = 'watch' THEN (c.progress->>'fullRunId')::uuid ELSE c.id END
                            WHERE c.id = clusters.current_sync_run_id), '-infinity') <= $3)`,
          [id, run.cluster_id, run.queued_at],
        );
        current = (moved.rowCount ?? 0) > 0;
      }
      let changes: CompleteSyncRunResult['changes'];
      if (current && currentContent) {
        const difference = await stagedDifference(client, run.cluster_id, id, currentContent, {
          resources: staged.resources.hash,
          entitlements: staged.entitlements.hash,
          grants: staged.grants.hash,
        });
        await appendChangeEvents(client, difference);
        changes = {
          grantsAdded: difference.grantsAdded.length,
          grantsRemoved: difference.grantsRemoved.length,
          resourcesChanged: difference.resourcesChanged.length,
          drift: difference.drift ?? false,
        };
      }
      await client.query('COMMIT');
      return {
        run: finished!,
        current,
        rows: written,
        size,
        reused: SNAPSHOT_PARTS.every((p) => holders[p] !== id),
        ...(changes ? { changes } : {}),
      };
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      if (isUniqueViolation(err)) {
        const detail = (err as { detail?: string }).detail ?? '';
        throw new ConflictError(`the snapshot of sync run ${id} has a duplicate id: ${detail}`, {
          cause: err,
        });
      }
      throw err;
    }
  } finally {
    // A connection whose ROLLBACK failed is in an unknown state; destroy it instead of pooling it.
    client.release(broken);
  }
}

/** Marks a run failed with `{code, message}`. The cluster's current snapshot is left alone. */
export async function failSyncRun(
  database: Database,
  id: string,
  error: { code: string; message: string },
  attempt?: number,
): Promise<SyncRun> {
  if (!isUuid(id)) throw new NotFoundError(`sync run ${id} not found`);
  const [run] = await database.db
    .update(syncRuns)
    .set({ status: 'failed', finishedAt: sql`now()`, error: { code: error.code, message: error.message } })
    .where(and(eq(syncRuns.id, id), inArray(syncRuns.status, ACTIVE_STATUSES), attemptMatches(attempt)))
    .returning(runColumns);
  if (run) return run;
  const existing = await getSyncRun(database, id);
  // Failing twice (a retried job handler) is not an error.
  if (existing.status === 'failed') return existing;
  throw new SyncRunStateError(
    `sync run ${id} is ${existing.status} (attempt ${existing.attempt}) and cannot be failed`,
  );
}

/** Returns one run, or throws NotFoundError. */
export async function getSyncRun(database: Database | { db: DbExecutor }, id: string): Promise<SyncRun> {
  const [run] = isUuid(id)
    ? await database.db.select(runColumns).from(syncRuns).where(eq(syncRuns.id, id))
    : [];
  if (!run) throw new NotFoundError(`sync run ${id} not found`);
  return run;
}

function isRunCursor(value: unknown): value is { q: string; i: string } {
  return isRecord(value) && isIsoTimestamp(value.q) && isUuid(value.i);
}

/** Lists a cluster's runs, newest first, with cursor pagination. */
export async function listSyncRuns(
  database: Database,
  clusterId: string,
  page: { cursor?: string; limit?: number; status?: SyncStatus } = {},
): Promise<Page<SyncRun>> {
  const limit = pageSize(page.limit);
  if (!isUuid(clusterId)) throw new NotFoundError(`cluster ${clusterId} not found`);
  const where: SQL[] = [eq(syncRuns.clusterId, clusterId)];
  if (page.status !== undefined) where.push(eq(syncRuns.status, page.status));
  if (page.cursor !== undefined) {
    const before = decodeCursor(page.cursor, isRunCursor);
    where.push(sql`(${syncRuns.queuedAt}, ${syncRuns.id}) < (${before.q}::timestamptz, ${before.i}::uuid)`);
  }
  const rows = await database.db
    .select(runColumns)
    .from(syncRuns)
    .where(and(...where))
    .orderBy(desc(syncRuns.queuedAt), desc(syncRuns.id))
    .limit(limit + 1);
  return toPage(
    rows,
    limit,
    (r) => r,
    (r) => ({ q: r.queuedAt.toISOString(), i: r.id }),
  );
}

/**
 * Deletes a cluster's finished runs beyond the newest N, where N is the cluster's
 * `snapshotRetention`, or `defaultKeep` when that is not set. The current run and queued or running
 * runs are never deleted. Snapshot rows go with the last run that names them (the delete trigger of
 * migration 0008): a run still kept keeps the rows it reused from a deleted one. Returns how many
 * runs were deleted.
 */
export async function pruneSyncRuns(
  database: Database,
  clusterId: string,
  defaultKeep: number,
): Promise<number> {
  assertUuid(clusterId, 'cluster id');
  if (!Number.isInteger(defaultKeep) || defaultKeep < 0)
    throw new InvalidInputError('defaultKeep must be a non-negative integer');
  const keep = sql`coalesce((SELECT ${clusters.snapshotRetention} FROM ${clusters} WHERE ${clusters.id} = ${clusterId}), ${defaultKeep}::int)`;
  const current = sql`(SELECT ${clusters.currentSyncRunId} FROM ${clusters} WHERE ${clusters.id} = ${clusterId})`;
  const doomed = sql`(SELECT ${syncRuns.id} FROM ${syncRuns}
    WHERE ${syncRuns.clusterId} = ${clusterId} AND ${syncRuns.status} IN ('succeeded', 'partial', 'failed')
    ORDER BY ${syncRuns.queuedAt} DESC, ${syncRuns.id} DESC
    OFFSET ${keep})`;
  const deleted = await database.db
    .delete(syncRuns)
    .where(
      and(
        sql`${syncRuns.id} IN ${doomed}`,
        sql`${syncRuns.id} IS DISTINCT FROM ${current}`,
        notInArray(syncRuns.status, [...ACTIVE_STATUSES]),
      ),
    )
    .returning({ id: syncRuns.id });
  return deleted.length;
}

export interface SyncRunStats {
  /** Runs per status: those queued or running now, and those that finished within the window. */
  runs: Record<SyncStatus, number>;
  /** Per cluster (not deleted), how long its last run finished within the window took, from the start of its last attempt. */
  lastDurations: {
    clusterId: string;
    name: string;
    region: string;
    accountId: string | null;
    seconds: number;
  }[];
  /** API calls and throttled calls per operation, summed over the runs finished within the window. */
  apiCalls: Record<string, { calls: number; throttled: number }>;
}

/**
 * Figures for monitoring, read in one statement over the recent runs only. `timeoutMs` caps the
 * statement on the server, so a scrape against a struggling Postgres gives up instead of piling up.
 */
export async function getSyncRunStats(
  database: Database,
  options: { windowMs: number; timeoutMs?: number },
): Promise<SyncRunStats> {
  if (!Number.isFinite(options.windowMs) || options.windowMs <= 0)
    throw new InvalidInputError('windowMs must be a positive number of milliseconds');
  const number = (field: 'calls' | 'throttled') =>
    sql.raw(
      `CASE WHEN jsonb_typeof(op.value -> '${field}') = 'number' THEN (op.value ->> '${field}')::numeric ELSE 0 END`,
    );
  const row = await database.db.transaction(
    async (tx) => {
      if (options.timeoutMs !== undefined)
        await tx.execute(
          sql`SELECT set_config('statement_timeout', ${String(Math.max(1, Math.round(options.timeoutMs)))}, true)`,
        );
      // Active runs are at most one per cluster; finished ones are bounded by the window (and retention).
      const result = await tx.execute<{
        runs: Record<string, number>;
        durations: {
          clusterId: string;
          name: string;
          region: string;
          accountId: string | null;
          seconds: number;
        }[];
        api_calls: Record<string, { calls: number; throttled: number }>;
      }>(sql`
        WITH recent AS (
          SELECT cluster_id, status, started_at, finished_at, api_calls FROM ${syncRuns}
          WHERE status IN ('queued', 'running') OR finished_at >= now() - make_interval(secs => ${options.windowMs / 1000})
        )
        SELECT
          (SELECT coalesce(json_object_agg(status, n), '{}') FROM (SELECT status, count(*) AS n FROM recent GROUP BY status) s) AS runs,
          (SELECT coalesce(json_agg(json_build_object('clusterId', cluster_id, 'name', name, 'region', region, 'accountId', account_id, 'seconds', seconds)), '[]') FROM (
            SELECT DISTINCT ON (r.cluster_id) r.cluster_id, c.name, c.region, c.account_id, extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds
            FROM recent r JOIN ${clusters} c ON c.id = r.cluster_id AND c.deleted_at IS NULL
            WHERE r.finished_at IS NOT NULL AND r.started_at IS NOT NULL
            ORDER BY r.cluster_id, r.finished_at DESC) d) AS durations,
          (SELECT coalesce(json_object_agg(operation, json_build_object('calls', calls, 'throttled', throttled)), '{}') FROM (
            SELECT op.key AS operation, sum(${number('calls')}) AS calls, sum(${number('throttled')}) AS throttled
            FROM recent r
            CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(r.api_calls) = 'object' THEN r.api_calls ELSE '{}'::jsonb END) op
            WHERE r.finished_at IS NOT NULL
            GROUP BY op.key) a) AS api_calls`);
      return result.rows[0];
    },
    { accessMode: 'read only' },
  );
  const runs = Object.fromEntries(SYNC_STATUSES.map((s) => [s, Number(row?.runs[s] ?? 0)])) as Record<
    SyncStatus,
    number
  >;
  const apiCalls = Object.fromEntries(
    Object.entries(row?.api_calls ?? {}).map(([op, v]) => [
      op,
      { calls: Number(v.calls), throttled: Number(v.throttled) },
    ]),
  );
  return {
    runs,
    lastDurations: (row?.durations ?? []).map((d) => ({
      clusterId: d.clusterId,
      name: d.name,
      region: d.region,
      accountId: d.accountId,
      seconds: Number(d.seconds),
    })),
    apiCalls,
  };
}

/**
 * Queued or running runs that have been so for longer than `olderThanMs` (by when they were queued
 * or last started): what the run janitor checks against the queue.
 */
export async function listStaleSyncRuns(
  database: Database,
  olderThanMs: number,
  limit = 200,
): Promise<SyncRun[]> {
  return database.db
    .select(runColumns)
    .from(syncRuns)
    .where(
      and(
        inArray(syncRuns.status, ACTIVE_STATUSES),
        sql`coalesce(${syncRuns.startedAt}, ${syncRuns.queuedAt}) < now() - make_interval(secs => ${olderThanMs / 1000})`,
      ),
    )
    .limit(limit);
}
