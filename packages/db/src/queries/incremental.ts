// Incremental snapshots: the watcher keeps a cluster's snapshot in memory and, when a watched object
// changes, applies only the difference to the cluster's current snapshot in Postgres.
//
// Invariants this write path keeps:
// - One transaction per change set: a new sync run with trigger `watch` is written, it becomes the
//   cluster's current snapshot, and the caller's `beforeCommit` (the change events) runs in the
//   same transaction. Readers see the snapshot before the change or after it, never half of it.
// - The change is applied to the snapshot it was computed against (`baseRunId`). If the current
//   snapshot moved meanwhile (a full sync landed), nothing is written and the caller is told, so it
//   re-bases on the new snapshot instead of overwriting what the full sync found.
// - The cluster row is locked first, which serialises this with completeSyncRun moving the pointer
//   and with a second watcher replica that still believes it holds the lease.
// - A table the change does not touch is not copied: the run names the run holding its rows, as
//   completeSyncRun does for unchanged tables. A touched table is copied server-side (INSERT …
//   SELECT, no rows through the client) without the changed rows, then the new rows are added.
// - The table hashes are the caller's, computed over the whole table with the same encoding and
//   hasher as a full sync (tableContent below), so the next full sync that finds the same content
//   reuses these rows instead of writing them again.
import type pg from 'pg';
import type { Database } from '../client.js';
import { createTableHasher, snapshotHash, SNAPSHOT_PARTS, type SnapshotPart } from '../content-hash.js';
import { copyRows, encodeCopyRow } from '../copy.js';
import { NotFoundError } from '../errors.js';
import { ENTITLEMENTS, GRANTS, RESOURCES, type SnapshotColumns } from '../snapshot-columns.js';
import type { EntitlementInput, GrantInput, ResourceInput } from '../snapshot-types.js';
import { assertUuid } from '../validate.js';
import { toEntitlement, toGrant, toResource } from './snapshots.js';

interface PartRows {
  resources: ResourceInput;
  entitlements: EntitlementInput;
  grants: GrantInput;
}

const COLUMNS: { [P in SnapshotPart]: SnapshotColumns<PartRows[P]> } = {
  resources: RESOURCES,
  entitlements: ENTITLEMENTS,
  grants: GRANTS,
};

// The key columns of each table after sync_run_id (its primary key).
const KEY_COLUMNS: Record<SnapshotPart, readonly string[]> = {
  resources: ['type', 'resource_id'],
  entitlements: ['entitlement_id'],
  grants: ['grant_id'],
};

/** The primary key of a row within one snapshot, as one string. */
export function rowKey<P extends SnapshotPart>(part: P, row: PartRows[P]): string {
  if (part === 'resources') {
    const r = row as ResourceInput;
    return `${r.type}\u0000${r.id}`;
  }
  return (row as EntitlementInput | GrantInput).id;
}

/** One table of a snapshot held in memory: each row with its encoded line, by key. */
export type TableContent<P extends SnapshotPart> = Map<string, { row: PartRows[P]; line: string }>;

/** All three tables of a snapshot held in memory. */
export type SnapshotContent = { [P in SnapshotPart]: TableContent<P> };

/** Builds one in-memory table, each row encoded exactly as a sync stores and hashes it. */
export function tableContent<P extends SnapshotPart>(part: P, rows: Iterable<PartRows[P]>): TableContent<P> {
  const out: TableContent<P> = new Map();
  const columns = COLUMNS[part];
  for (const row of rows) out.set(rowKey(part, row), { row, line: encodeCopyRow(columns.toValues(row)) });
  return out;
}

/** The content hash of one in-memory table: equal to the hash a full sync of the same rows records. */
export function tableHash(part: SnapshotPart, table: TableContent<SnapshotPart>): string {
  const hasher = createTableHasher(part);
  for (const { line } of table.values()) hasher.add(line);
  return hasher.digest();
}

/** What changed in one table: rows to write (new or different) and rows that are gone. */
export interface TableDelta<P extends SnapshotPart> {
  upsert: PartRows[P][];
  /** The rows before the change, for rows that changed or disappeared (what the events show as before). */
  before: PartRows[P][];
  /** Keys (rowKey) of rows that disappeared. */
  removed: string[];
}

/** A change set for the three tables. */
export type SnapshotDelta = { [P in SnapshotPart]: TableDelta<P> };

/** The difference between two in-memory tables, by key and encoded content. */
export function diffTable<P extends SnapshotPart>(
  before: TableContent<P>,
  after: TableContent<P>,
): TableDelta<P> {
  const delta: TableDelta<P> = { upsert: [], before: [], removed: [] };
  for (const [key, now] of after) {
    const was = before.get(key);
    if (was === undefined) delta.upsert.push(now.row);
    else if (was.line !== now.line) {
      delta.upsert.push(now.row);
      delta.before.push(was.row);
    }
  }
  for (const [key, was] of before) {
    if (!after.has(key)) {
      delta.removed.push(key);
      delta.before.push(was.row);
    }
  }
  return delta;
}

/** The difference between two in-memory snapshots. */
export function diffSnapshotContent(before: SnapshotContent, after: SnapshotContent): SnapshotDelta {
  return {
    resources: diffTable(before.resources, after.resources),
    entitlements: diffTable(before.entitlements, after.entitlements),
    grants: diffTable(before.grants, after.grants),
  };
}

/** True when a delta changes nothing. */
export function isEmptyDelta(delta: SnapshotDelta): boolean {
  return SNAPSHOT_PARTS.every((p) => delta[p].upsert.length === 0 && delta[p].removed.length === 0);
}

/** The cluster's current snapshot as the watcher needs it: its run, per-table hashes and holders. */
export interface CurrentSnapshotInfo {
  runId: string | null;
  trigger: string | null;
  hashes: Record<SnapshotPart, string | null>;
  holders: Record<SnapshotPart, string | null>;
}

/** Reads which run is the cluster's current snapshot and its per-table hashes. */
export async function currentSnapshotInfo(
  database: Database,
  clusterId: string,
): Promise<CurrentSnapshotInfo> {
  assertUuid(clusterId, 'cluster id');
  const { rows } = await database.pool.query<Record<string, string | null>>(
    `SELECT c.current_sync_run_id AS run_id, r.trigger,
            ${SNAPSHOT_PARTS.map((p) => `r.${p}_hash, coalesce(r.${p}_run_id, r.id) AS ${p}_run_id`).join(', ')}
       FROM clusters c LEFT JOIN sync_runs r ON r.id = c.current_sync_run_id
      WHERE c.id = $1 AND c.deleted_at IS NULL`,
    [clusterId],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError(`cluster ${clusterId} not found`);
  const pick = (suffix: string) =>
    Object.fromEntries(SNAPSHOT_PARTS.map((p) => [p, row[`${p}${suffix}`] ?? null])) as Record<
      SnapshotPart,
      string | null
    >;
  return {
    runId: row.run_id ?? null,
    trigger: row.trigger ?? null,
    hashes: pick('_hash'),
    holders: pick('_run_id'),
  };
}

/** Loads one table of a stored snapshot into memory (the watcher re-bases on it after a full sync). */
export async function loadTableContent<P extends SnapshotPart>(
  database: Database,
  part: P,
  holderRunId: string,
): Promise<TableContent<P>> {
  assertUuid(holderRunId, 'sync run id');
  const { rows } = await database.pool.query<Record<string, unknown>>(
    `SELECT * FROM "snapshot_${part}" WHERE sync_run_id = $1`,
    [holderRunId],
  );
  const convert = {
    resources: (r: Record<string, unknown>) =>
      toResource({
        syncRunId: holderRunId,
        type: r.type as string,
        resourceId: r.resource_id as string,
        parentType: r.parent_type as string | null,
        parentId: r.parent_id as string | null,
        displayName: r.display_name as string,
        profile: r.profile as Record<string, unknown>,
        annotations: r.annotations as never,
      }),
    entitlements: (r: Record<string, unknown>) =>
      toEntitlement({
        syncRunId: holderRunId,
        entitlementId: r.entitlement_id as string,
        resourceType: r.resource_type as string,
        resourceId: r.resource_id as string,
        slug: r.slug as string,
        displayName: r.display_name as string,
        description: r.description as string,
        purpose: r.purpose as 'assignment' | 'permission',
        grantableTo: r.grantable_to as string[],
      }),
    grants: (r: Record<string, unknown>) =>
      toGrant({
        syncRunId: holderRunId,
        grantId: r.grant_id as string,
        entitlementId: r.entitlement_id as string,
        resourceType: r.resource_type as string,
        resourceId: r.resource_id as string,
        principalType: r.principal_type as string,
        principalId: r.principal_id as string,
        annotations: r.annotations as never,
        sources: r.sources as never,
        conditions: r.conditions as never,
      }),
  }[part] as (r: Record<string, unknown>) => PartRows[P];
  return tableContent(part, rows.map(convert));
}

export interface ApplySnapshotDeltaInput {
  /** The current snapshot the delta was computed against; null when the cluster has none yet. */
  baseRunId: string | null;
  delta: SnapshotDelta;
  /** The hash of each whole table after the change (tableHash). */
  hashes: Record<SnapshotPart, string>;
  /** Row counts of each whole table after the change. */
  totals: Record<SnapshotPart, number>;
  /** Who applied it (the watcher replica), recorded as the run's worker. */
  worker: string;
  /** Runs inside the transaction, after the snapshot moved and before COMMIT (the change events). */
  beforeCommit?: (client: pg.PoolClient, runId: string) => Promise<void>;
}

export type ApplySnapshotDeltaResult =
  | { status: 'applied'; runId: string; written: Record<SnapshotPart, number> }
  /** The current snapshot is not the base any more; nothing was written. */
  | { status: 'base-moved'; currentRunId: string | null }
  | { status: 'cluster-gone' };

/** Applies a change set to the cluster's current snapshot as a new `watch` run (see the header). */
export async function applySnapshotDelta(
  database: Database,
  clusterId: string,
  input: ApplySnapshotDeltaInput,
): Promise<ApplySnapshotDeltaResult> {
  assertUuid(clusterId, 'cluster id');
  const client = await database.pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    try {
      const locked = await client.query<{ current: string | null }>(
        'SELECT current_sync_run_id AS current FROM clusters WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
        [clusterId],
      );
      const cluster = locked.rows[0];
      if (!cluster) {
        await client.query('ROLLBACK');
        return { status: 'cluster-gone' };
      }
      if (cluster.current !== input.baseRunId) {
        await client.query('ROLLBACK');
        return { status: 'base-moved', currentRunId: cluster.current };
      }
      let holders: Record<SnapshotPart, string | null> = {
        resources: null,
        entitlements: null,
        grants: null,
      };
      // The full sync a chain of watch runs started from: completeSyncRun compares against it.
      let fullRunId: string | null = null;
      if (input.baseRunId !== null) {
        const base = await client.query<Record<string, string | null>>(
          `SELECT id, trigger, progress->>'fullRunId' AS full_run_id,
                  ${SNAPSHOT_PARTS.map((p) => `coalesce(${p}_run_id, id) AS ${p}_run_id`).join(', ')}
             FROM sync_runs WHERE id = $1`,
          [input.baseRunId],
        );
        const row = base.rows[0]!;
        holders = {
          resources: row.resources_run_id ?? null,
          entitlements: row.entitlements_run_id ?? null,
          grants: row.grants_run_id ?? null,
        };
        fullRunId = row.trigger === 'watch' ? (row.full_run_id ?? null) : (row.id ?? null);
      }
      const changes = Object.fromEntries(
        SNAPSHOT_PARTS.map((p) => [
          p,
          { upserted: input.delta[p].upsert.length, removed: input.delta[p].removed.length },
        ]),
      );
      const created = await client.query<{ id: string }>(
        `INSERT INTO sync_runs (cluster_id, trigger, status, attempt, worker, started_at, finished_at, progress, counts)
         VALUES ($1, 'watch', 'succeeded', 1, $2, now(), now(), $3, $4) RETURNING id`,
        [clusterId, input.worker, { fullRunId, baseRunId: input.baseRunId }, { changes }],
      );
      const runId = created.rows[0]!.id;
      const written: Record<SnapshotPart, number> = { resources: 0, entitlements: 0, grants: 0 };
      const newHolders = {} as Record<SnapshotPart, string>;
      for (const part of SNAPSHOT_PARTS) {
        const d = input.delta[part];
        const holder = holders[part];
        if (holder !== null && d.upsert.length === 0 && d.removed.length === 0) {
          newHolders[part] = holder;
          continue;
        }
        written[part] = await writeTable(client, part, runId, holder, d);
        newHolders[part] = runId;
      }
      await client.query(
        `UPDATE sync_runs SET content_hash = $2,
                resources_hash = $3, entitlements_hash = $4, grants_hash = $5,
                resources_run_id = $6, entitlements_run_id = $7, grants_run_id = $8,
                counts = counts || jsonb_build_object('totals', $9::jsonb, 'written', $10::jsonb)
          WHERE id = $1`,
        [
          runId,
          snapshotHash(input.hashes),
          input.hashes.resources,
          input.hashes.entitlements,
          input.hashes.grants,
          newHolders.resources,
          newHolders.entitlements,
          newHolders.grants,
          input.totals,
          written,
        ],
      );
      await client.query('UPDATE clusters SET current_sync_run_id = $2 WHERE id = $1', [clusterId, runId]);
      if (input.beforeCommit) await input.beforeCommit(client, runId);
      await client.query('COMMIT');
      return { status: 'applied', runId, written };
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      throw err;
    }
  } finally {
    client.release(broken);
  }
}

// Copies the holder's rows except the changed and removed ones, then adds the new rows.
async function writeTable(
  client: pg.PoolClient,
  part: SnapshotPart,
  runId: string,
  holder: string | null,
  delta: TableDelta<SnapshotPart>,
): Promise<number> {
  const columns = COLUMNS[part] as SnapshotColumns<unknown>;
  const cols = columns.columns.map((c) => `"${c}"`).join(', ');
  let copied = 0;
  if (holder !== null) {
    const dropped = [...delta.removed, ...delta.upsert.map((row) => rowKey(part, row as never))];
    const keyCols = KEY_COLUMNS[part];
    // Keys travel as one text[] per key column; resources' two-column key is split back apart.
    const keyArrays = keyCols.map((_, i) =>
      dropped.map((k) => (keyCols.length === 1 ? k : (k.split('\u0000')[i] ?? ''))),
    );
    const unnest = keyArrays.map((_, i) => `$${i + 3}::text[]`).join(', ');
    const inserted = await client.query(
      `INSERT INTO "snapshot_${part}" ("sync_run_id", ${cols})
       SELECT $1, ${cols} FROM "snapshot_${part}" s
        WHERE s.sync_run_id = $2
          AND (${keyCols.map((c) => `s."${c}"`).join(', ')}) NOT IN (SELECT * FROM unnest(${unnest}))`,
      [runId, holder, ...keyArrays],
    );
    copied = inserted.rowCount ?? 0;
  }
  if (delta.upsert.length > 0) {
    await copyRows(client, `snapshot_${part}`, ['sync_run_id', ...columns.columns], delta.upsert, (row) => [
      runId,
      ...columns.toValues(row),
    ]);
  }
  return copied + delta.upsert.length;
}
