import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors.js';
import type { EntitlementInput, GrantInput, ResourceInput, SnapshotSource } from '../snapshot-types.js';
import {
  createTestDatabase,
  syntheticPrincipal,
  syntheticReport,
  syntheticSnapshot,
  type TestDatabase,
} from '../testing.js';
import { createCluster, getCluster, updateCluster, type Cluster } from './clusters.js';
import {
  diffSnapshots,
  grantsForPrincipal,
  listEntitlements,
  listGrants,
  listResources,
} from './snapshots.js';
import {
  completeSyncRun,
  enqueueSyncRun,
  failSyncRun,
  getSyncRun,
  listSyncRuns,
  pruneSyncRuns,
  startSyncRun,
  type CompleteSyncRunResult,
} from './sync-runs.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL, { maxConnections: 20 });
});
afterAll(async () => {
  await database?.drop();
});

async function newCluster(snapshotRetention?: number): Promise<Cluster> {
  return createCluster(database, {
    name: `c-${Math.random().toString(36).slice(2, 10)}`,
    region: 'eu-west-1',
    hostingMode: 'default-chain',
    ...(snapshotRetention === undefined ? {} : { snapshotRetention }),
  });
}

async function sync(
  cluster: Cluster,
  snapshot: SnapshotSource,
  status: 'complete' | 'partial' = 'complete',
): Promise<CompleteSyncRunResult> {
  const { run } = await enqueueSyncRun(database, cluster.id, 'api');
  await startSyncRun(database, run.id, 'worker:test');
  return completeSyncRun(database, run.id, { snapshot, report: syntheticReport(status) });
}

/** Rows in the three snapshot tables, whoever holds them. */
async function storedRows(): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM snapshot_resources) + (SELECT count(*) FROM snapshot_entitlements)
          + (SELECT count(*) FROM snapshot_grants) AS n`,
  );
  return Number(rows[0]!.n);
}

async function rowsHeldBy(runId: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM snapshot_resources WHERE sync_run_id = $1)
          + (SELECT count(*) FROM snapshot_entitlements WHERE sync_run_id = $1)
          + (SELECT count(*) FROM snapshot_grants WHERE sync_run_id = $1) AS n`,
    [runId],
  );
  return Number(rows[0]!.n);
}

/** Per table, the run whose rows a run reads. */
async function holdersOf(runId: string): Promise<Record<string, string>> {
  const { rows } = await database.pool.query<Record<string, string>>(
    `SELECT resources_run_id AS resources, entitlements_run_id AS entitlements, grants_run_id AS grants
       FROM sync_runs WHERE id = $1`,
    [runId],
  );
  return rows[0]!;
}

interface Rows {
  resources: ResourceInput[];
  entitlements: EntitlementInput[];
  grants: GrantInput[];
}

async function collect<T>(rows: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

async function rowsOf(source: SnapshotSource): Promise<Rows> {
  return {
    resources: await collect(source.resources()),
    entitlements: await collect(source.entitlements()),
    grants: await collect(source.grants()),
  };
}

function sourceOf(rows: Rows): SnapshotSource {
  return {
    resources: () => rows.resources,
    entitlements: () => rows.entitlements,
    grants: () => rows.grants,
  };
}

/** The same objects with their keys in reverse order, all the way down. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reverseKeys(v)]),
  ) as T;
}

const base = () => syntheticSnapshot({ resources: 40, entitlements: 2_000, grants: 600, principals: 30 });

async function allGrants(cluster: Cluster, syncRunId?: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listGrants(database, cluster.id, {
      limit: 250,
      ...(syncRunId ? { syncRunId } : {}),
      ...(cursor ? { cursor } : {}),
    });
    if (syncRunId) expect(page.syncRunId).toBe(syncRunId);
    ids.push(...page.items.map((g) => g.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

describe('an unchanged sync', () => {
  it('writes no snapshot row and says it reused the current snapshot', async () => {
    const cluster = await newCluster();
    const first = await sync(cluster, base());
    const written = first.rows.resources + first.rows.entitlements + first.rows.grants;
    expect(written).toBe(2_640);
    expect(first.reused).toBe(false);
    const before = await storedRows();

    const second = await sync(cluster, base());
    const secondWritten = second.rows.resources + second.rows.entitlements + second.rows.grants;
    expect(secondWritten).toBeLessThan(written / 100);
    expect(second).toMatchObject({
      current: true,
      reused: true,
      rows: { resources: 0, entitlements: 0, grants: 0 },
      size: { resources: 40, entitlements: 2_000, grants: 600 },
    });
    expect(await storedRows()).toBe(before);
    // The run records what its snapshot holds and that it wrote none of it.
    expect(second.run.counts).toMatchObject({
      totals: { resources: 40, entitlements: 2_000, grants: 600 },
      written: { resources: 0, entitlements: 0, grants: 0 },
    });
    expect(second.run.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(second.run.contentHash).toBe(first.run.contentHash);
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(second.run.id);
    // A third sync still names the rows of the run that wrote them.
    const third = await sync(cluster, base());
    expect(third.reused).toBe(true);
    expect(await holdersOf(third.run.id)).toEqual({
      resources: first.run.id,
      entitlements: first.run.id,
      grants: first.run.id,
    });
  });

  it('is recognised whatever order its rows and their JSON keys come in', async () => {
    const cluster = await newCluster();
    const rows = await rowsOf(base());
    const first = await sync(cluster, sourceOf(rows));
    const shuffled: Rows = {
      resources: [...rows.resources].reverse().map(reverseKeys),
      entitlements: [...rows.entitlements].reverse(),
      grants: rows.grants.map((g, i) => rows.grants[(i * 7) % rows.grants.length]!).map(reverseKeys),
    };
    // (i * 7) mod 600 repeats rows, so check it is a permutation before relying on it.
    expect(new Set(shuffled.grants.map((g) => g.id)).size).toBe(600);
    const second = await sync(cluster, sourceOf(shuffled));
    expect(second.reused).toBe(true);
    expect(second.run.contentHash).toBe(first.run.contentHash);
  });
});

describe('a changed sync', () => {
  it('writes only the tables that changed, and a new content hash', async () => {
    const cluster = await newCluster();
    const rows = await rowsOf(base());
    const first = await sync(cluster, sourceOf(rows));
    const free = rows.entitlements.find((e) => !rows.grants.some((g) => g.entitlementId === e.id))!;
    const arn = 'arn:aws:iam::123456789012:user/newcomer';
    const added: GrantInput = {
      id: `${free.id}:iam_user:${arn}`,
      entitlementId: free.id,
      resource: free.resource,
      principal: { type: 'iam_user', id: arn },
      annotations: [{ type: 'ExternalResourceMatchID', id: arn }],
    };
    const second = await sync(cluster, sourceOf({ ...rows, grants: [...rows.grants, added] }));
    expect(second).toMatchObject({
      reused: false,
      current: true,
      rows: { resources: 0, entitlements: 0, grants: 601 },
      size: { resources: 40, entitlements: 2_000, grants: 601 },
    });
    expect(second.run.contentHash).not.toBe(first.run.contentHash);
    expect(await holdersOf(second.run.id)).toEqual({
      resources: first.run.id,
      entitlements: first.run.id,
      grants: second.run.id,
    });
    // The current snapshot answers with the new grant and the shared entitlements.
    expect(await allGrants(cluster)).toContain(added.id);
    const entitlements = await listEntitlements(database, cluster.id, { limit: 1000 });
    expect(entitlements.syncRunId).toBe(second.run.id);
    expect(entitlements.items).toHaveLength(1000);
    expect((await grantsForPrincipal(database, arn)).map((p) => [p.syncRunId, p.grant.id])).toEqual([
      [second.run.id, added.id],
    ]);

    // One changed field of one entitlement is a change too.
    const renamed = rows.entitlements.map((e, i) => (i === 5 ? { ...e, displayName: 'renamed' } : e));
    const third = await sync(
      cluster,
      sourceOf({ ...rows, grants: [...rows.grants, added], entitlements: renamed }),
    );
    expect(third.rows).toEqual({ resources: 0, entitlements: 2_000, grants: 0 });
  });

  it('writes a whole new snapshot when everything changed', async () => {
    const cluster = await newCluster();
    await sync(cluster, base());
    const other = await sync(
      cluster,
      syntheticSnapshot({ resources: 40, entitlements: 2_000, grants: 600, principals: 30, tag: 'x' }),
    );
    expect(other).toMatchObject({ reused: false, rows: { resources: 40, entitlements: 2_000, grants: 600 } });
    expect(await rowsHeldBy(other.run.id)).toBe(2_640);
  });

  it('compares with the current snapshot only: a partial run never becomes what later runs reuse', async () => {
    const cluster = await newCluster();
    const good = await sync(cluster, base());
    const partial = await sync(
      cluster,
      syntheticSnapshot({ entitlements: 30, grants: 3, tag: 'p' }),
      'partial',
    );
    expect(partial).toMatchObject({ current: false, reused: false });
    const again = await sync(cluster, base());
    expect(again).toMatchObject({ current: true, reused: true });
    expect((await holdersOf(again.run.id)).grants).toBe(good.run.id);
    // A partial run equal to the current snapshot shares its rows, and still does not become current.
    const equalPartial = await sync(cluster, base(), 'partial');
    expect(equalPartial).toMatchObject({ current: false, reused: true });
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(again.run.id);
  });

  it('writes everything when the current snapshot predates content hashes', async () => {
    const cluster = await newCluster();
    const old = await sync(cluster, base());
    // What migration 0008 leaves on a run written before it: its own rows, no hashes.
    await database.pool.query(
      `UPDATE sync_runs SET content_hash = NULL, resources_hash = NULL, entitlements_hash = NULL, grants_hash = NULL
        WHERE id = $1`,
      [old.run.id],
    );
    const next = await sync(cluster, base());
    expect(next).toMatchObject({ reused: false, rows: { resources: 40, entitlements: 2_000, grants: 600 } });
    expect((await sync(cluster, base())).reused).toBe(true);
  });
});

describe('history of a run that reused its predecessor', () => {
  it('lists its snapshot by syncRunId, page by page, as the run that wrote it', async () => {
    const cluster = await newCluster();
    const first = await sync(cluster, base());
    const reused = await sync(cluster, base());
    expect(reused.reused).toBe(true);
    const written = await allGrants(cluster, first.run.id);
    expect(written).toHaveLength(600);
    expect(await allGrants(cluster, reused.run.id)).toEqual(written);
    const resources = await listResources(database, cluster.id, {
      syncRunId: reused.run.id,
      type: 'cluster_role',
    });
    expect(resources.syncRunId).toBe(reused.run.id);
    expect(resources.items).toHaveLength(40);
    const role = resources.items[3]!.id;
    const entitlements = await listEntitlements(database, cluster.id, {
      syncRunId: reused.run.id,
      type: 'cluster_role',
      resourceId: role,
    });
    expect(entitlements.items).toHaveLength(50);
    expect(entitlements.items.every((e) => e.resource.id === role)).toBe(true);
    const byPrincipal = await listGrants(database, cluster.id, {
      syncRunId: reused.run.id,
      principalId: syntheticPrincipal(4),
    });
    expect(byPrincipal.items).toHaveLength(20);
    // Its cursors stay on it after a newer sync changed the current snapshot.
    const page1 = await listGrants(database, cluster.id, { limit: 100, syncRunId: reused.run.id });
    await sync(cluster, syntheticSnapshot({ entitlements: 10, grants: 1, tag: 'later' }));
    const page2 = await listGrants(database, cluster.id, { limit: 100, cursor: page1.nextCursor! });
    expect(page2.syncRunId).toBe(reused.run.id);
    expect(page2.items.map((g) => g.id)).toEqual(written.slice(100, 200));
  });

  it('diffs against it as against the snapshot it shares', async () => {
    const cluster = await newCluster();
    const rows = await rowsOf(base());
    const first = await sync(cluster, sourceOf(rows));
    const reused = await sync(cluster, sourceOf(rows));
    expect(await diffSnapshots(database, cluster.id, first.run.id, reused.run.id)).toEqual({
      fromRunId: first.run.id,
      toRunId: reused.run.id,
      added: [],
      removed: [],
    });
    const dropped = rows.grants[10]!;
    const changed = await sync(
      cluster,
      sourceOf({ ...rows, grants: rows.grants.filter((g) => g !== dropped) }),
    );
    const back = await sync(cluster, sourceOf(rows));
    // Back to the first content: it is written again (it is not the current snapshot's), then equal.
    expect(back.reused).toBe(false);
    const diff = await diffSnapshots(database, cluster.id, reused.run.id, changed.run.id);
    expect(diff.added).toEqual([]);
    expect(diff.removed.map((g) => g.id)).toEqual([dropped.id]);
    const restored = await diffSnapshots(database, cluster.id, changed.run.id, back.run.id);
    expect(restored.added.map((g) => g.id)).toEqual([dropped.id]);
    expect(restored.removed).toEqual([]);
  });
});

describe('retention', () => {
  it('keeps each cluster its own number of runs, the deployment default when it has none', async () => {
    const short = await newCluster(2);
    const usual = await newCluster();
    for (let i = 0; i < 4; i++) {
      await sync(short, syntheticSnapshot({ entitlements: 10, grants: 2, tag: `s${i}` }));
      await sync(usual, syntheticSnapshot({ entitlements: 10, grants: 2, tag: `u${i}` }));
    }
    expect(await pruneSyncRuns(database, short.id, 3)).toBe(2);
    expect(await pruneSyncRuns(database, usual.id, 3)).toBe(1);
    expect((await listSyncRuns(database, short.id)).items).toHaveLength(2);
    expect((await listSyncRuns(database, usual.id)).items).toHaveLength(3);
    await expect(updateCluster(database, short.id, { snapshotRetention: 0 })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    // Clearing the setting returns the cluster to the default.
    await updateCluster(database, short.id, { snapshotRetention: null });
    expect((await getCluster(database, short.id)).snapshotRetention).toBeNull();
    await updateCluster(database, usual.id, { snapshotRetention: 1 });
    expect(await pruneSyncRuns(database, usual.id, 3)).toBe(2);
    expect((await listSyncRuns(database, usual.id)).items).toHaveLength(1);
  });

  it('keeps rows a kept run still names after the run that wrote them is pruned, and drops them with the last one', async () => {
    const cluster = await newCluster(2);
    const writer = await sync(cluster, base());
    const a = await sync(cluster, base());
    const b = await sync(cluster, base());
    expect([a.reused, b.reused]).toEqual([true, true]);
    expect(await pruneSyncRuns(database, cluster.id, 5)).toBe(1);
    await expect(getSyncRun(database, writer.run.id)).rejects.toThrow(/not found/);
    expect(await rowsHeldBy(writer.run.id)).toBe(2_640);
    expect(await allGrants(cluster, a.run.id)).toHaveLength(600);
    expect(await allGrants(cluster)).toHaveLength(600);

    // Two changed syncs later, nothing kept names the first rows any more.
    const c = await sync(cluster, syntheticSnapshot({ entitlements: 10, grants: 2, tag: 'c' }));
    const d = await sync(cluster, syntheticSnapshot({ entitlements: 10, grants: 3, tag: 'c' }));
    expect(d.rows).toEqual({ resources: 0, entitlements: 0, grants: 3 });
    expect(await pruneSyncRuns(database, cluster.id, 5)).toBe(2);
    expect(await rowsHeldBy(writer.run.id)).toBe(0);
    // c (kept) holds its own rows, and d's resources and entitlements.
    expect(await holdersOf(d.run.id)).toEqual({
      resources: c.run.id,
      entitlements: c.run.id,
      grants: d.run.id,
    });
    expect(await rowsHeldBy(c.run.id)).toBe(100 + 10 + 2);
    expect(await allGrants(cluster)).toHaveLength(3);
  });

  it('removes shared rows when the cluster is deleted outright', async () => {
    const cluster = await newCluster();
    const writer = await sync(cluster, base());
    await sync(cluster, base());
    await database.pool.query('DELETE FROM clusters WHERE id = $1', [cluster.id]);
    expect(await rowsHeldBy(writer.run.id)).toBe(0);
  });
});

describe('concurrency and crashes', () => {
  it('two transactions deleting the last two runs that name some rows leave none of them behind', async () => {
    const cluster = await newCluster();
    const writer = await sync(cluster, base());
    const reuser = await sync(cluster, base());
    await sync(cluster, syntheticSnapshot({ entitlements: 10, grants: 2, tag: 'now' }));
    const one = new pg.Client({ connectionString: database.url });
    const two = new pg.Client({ connectionString: database.url });
    await Promise.all([one.connect(), two.connect()]);
    try {
      await one.query('BEGIN');
      await two.query('BEGIN');
      await one.query('DELETE FROM sync_runs WHERE id = $1', [writer.run.id]);
      // The second delete waits for the first to finish, then sees that no run names the rows.
      const second = two.query('DELETE FROM sync_runs WHERE id = $1', [reuser.run.id]);
      await one.query('COMMIT');
      await second;
      await two.query('COMMIT');
    } finally {
      await Promise.all([one.end(), two.end()]);
    }
    expect(await rowsHeldBy(writer.run.id)).toBe(0);
  });

  it('a prune while an unchanged sync is being stored does not take the rows that sync reuses', async () => {
    const cluster = await newCluster(1);
    const rows = await rowsOf(base());
    const writer = await sync(cluster, sourceOf(rows));
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    let reachedMiddle!: () => void;
    const middle = new Promise<void>((resolve) => (reachedMiddle = resolve));
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const slow: SnapshotSource = {
      resources: () => rows.resources,
      entitlements: () => rows.entitlements,
      async *grants() {
        for (const [i, g] of rows.grants.entries()) {
          if (i === 300) {
            reachedMiddle();
            await paused;
          }
          yield g;
        }
      },
    };
    const completing = completeSyncRun(database, run.id, { snapshot: slow, report: syntheticReport() });
    await middle;
    // The writer is current, so it stays.
    expect(await pruneSyncRuns(database, cluster.id, 1)).toBe(0);
    resume();
    const done = await completing;
    expect(done).toMatchObject({ reused: true, current: true });
    // Now the writer is history beyond the retention of 1; its rows stay for the run that names them.
    expect(await pruneSyncRuns(database, cluster.id, 1)).toBe(1);
    await expect(getSyncRun(database, writer.run.id)).rejects.toThrow(/not found/);
    expect(await allGrants(cluster)).toHaveLength(600);
  });

  it('a stream that breaks while reusing writes nothing and moves nothing; the retry reuses', async () => {
    const cluster = await newCluster();
    const rows = await rowsOf(base());
    const good = await sync(cluster, sourceOf(rows));
    const before = await storedRows();
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const broken: SnapshotSource = {
      resources: () => rows.resources,
      entitlements: () => rows.entitlements,
      async *grants() {
        for (const [i, g] of rows.grants.entries()) {
          if (i === 599) throw new Error('kube API went away');
          yield g;
        }
      },
    };
    await expect(
      completeSyncRun(database, run.id, { snapshot: broken, report: syntheticReport() }),
    ).rejects.toThrow('kube API went away');
    expect(await getSyncRun(database, run.id)).toMatchObject({ status: 'running', contentHash: null });
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(good.run.id);
    const retry = await startSyncRun(database, run.id, 'worker:b');
    const done = await completeSyncRun(database, run.id, {
      snapshot: sourceOf(rows),
      report: syntheticReport(),
      attempt: retry.attempt,
    });
    expect(done).toMatchObject({ reused: true, current: true });
    expect(await storedRows()).toBe(before);
  });

  it('lets only one of two workers racing to complete a run store it', async () => {
    const cluster = await newCluster();
    await sync(cluster, base());
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const results = await Promise.allSettled([
      completeSyncRun(database, run.id, { snapshot: base(), report: syntheticReport() }),
      completeSyncRun(database, run.id, { snapshot: base(), report: syntheticReport() }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')?.reason).toMatchObject({ code: 'sync_run_state' });
    await expect(failSyncRun(database, run.id, { code: 'x', message: 'y' })).rejects.toMatchObject({
      code: 'sync_run_state',
    });
  });
});
