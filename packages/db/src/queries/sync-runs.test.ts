import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, SyncRunStateError } from '../errors.js';
import type { GrantInput, SnapshotSource } from '../snapshot-types.js';
import { createTestDatabase, syntheticReport, syntheticSnapshot, type TestDatabase } from '../testing.js';
import { createCluster, deleteCluster, getCluster, updateCluster, type Cluster } from './clusters.js';
import { listGrants } from './snapshots.js';
import {
  completeSyncRun,
  enqueueSyncRun,
  enqueueSyncRunsForAll,
  failSyncRun,
  getSyncRun,
  listSyncRuns,
  pruneSyncRuns,
  recordProgress,
  startSyncRun,
  type SyncRun,
} from './sync-runs.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL, { maxConnections: 20 });
});
afterAll(async () => {
  await database?.drop();
});

async function newCluster(): Promise<Cluster> {
  return createCluster(database, {
    name: `c-${Math.random().toString(36).slice(2, 10)}`,
    region: 'eu-west-1',
    hostingMode: 'default-chain',
  });
}

async function count(table: string, runId: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${table} WHERE sync_run_id = $1`,
    [runId],
  );
  return Number(rows[0]!.n);
}

/** Enqueues, starts and completes a run with a small snapshot. */
async function syncOnce(
  cluster: Cluster,
  snapshot: SnapshotSource = syntheticSnapshot({ entitlements: 20, grants: 10 }),
  status: 'complete' | 'partial' = 'complete',
) {
  const { run } = await enqueueSyncRun(database, cluster.id, 'api');
  await startSyncRun(database, run.id, 'worker:test');
  return completeSyncRun(database, run.id, { snapshot, report: syntheticReport(status) });
}

describe('enqueueSyncRun', () => {
  it('collapses 10 concurrent requests for one cluster into one run', async () => {
    const cluster = await newCluster();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => enqueueSyncRun(database, cluster.id, 'api')),
    );
    expect(new Set(results.map((r) => r.run.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const runs = await listSyncRuns(database, cluster.id);
    expect(runs.items).toHaveLength(1);
    expect(runs.items[0]).toMatchObject({ status: 'queued', trigger: 'api', attempt: 0 });
  });

  it('returns the running run while a sync is in progress, and queues a new one after it finished', async () => {
    const cluster = await newCluster();
    const { run } = await enqueueSyncRun(database, cluster.id, 'schedule');
    await startSyncRun(database, run.id, 'worker:a');
    expect(await enqueueSyncRun(database, cluster.id, 'api')).toMatchObject({
      created: false,
      run: { id: run.id, status: 'running' },
    });
    await failSyncRun(database, run.id, { code: 'unreachable', message: 'connect ECONNREFUSED' });
    const next = await enqueueSyncRun(database, cluster.id, 'api');
    expect(next.created).toBe(true);
    expect(next.run.id).not.toBe(run.id);
  });

  it('refuses disabled and deleted clusters', async () => {
    const disabled = await newCluster();
    await updateCluster(database, disabled.id, { enabled: false });
    await expect(enqueueSyncRun(database, disabled.id, 'api')).rejects.toBeInstanceOf(ConflictError);
    const deleted = await newCluster();
    await deleteCluster(database, deleted.id);
    await expect(enqueueSyncRun(database, deleted.id, 'api')).rejects.toBeInstanceOf(NotFoundError);
    await expect(enqueueSyncRun(database, 'nope', 'api')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('enqueues every enabled cluster at once, reusing runs already queued', async () => {
    const before = await enqueueSyncRunsForAll(database, 'bulk');
    const clusters = [await newCluster(), await newCluster(), await newCluster()];
    await updateCluster(database, clusters[2]!.id, { enabled: false });
    const already = await enqueueSyncRun(database, clusters[0]!.id, 'api');
    const results = await enqueueSyncRunsForAll(database, 'bulk');
    const byCluster = new Map(results.map((r) => [r.run.clusterId, r]));
    expect(byCluster.get(clusters[0]!.id)).toMatchObject({ created: false, run: { id: already.run.id } });
    expect(byCluster.get(clusters[1]!.id)).toMatchObject({
      created: true,
      run: { trigger: 'bulk', status: 'queued' },
    });
    expect(byCluster.has(clusters[2]!.id)).toBe(false);
    // Clusters from earlier tests kept their active runs.
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.length).toBe(before.length + 2);
  });
});

describe('startSyncRun and recordProgress', () => {
  it('moves a queued run to running and lets a crashed attempt be retried', async () => {
    const cluster = await newCluster();
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    const first = await startSyncRun(database, run.id, 'worker:a');
    expect(first).toMatchObject({ status: 'running', attempt: 1, worker: 'worker:a' });
    expect(first.startedAt).toBeInstanceOf(Date);
    expect(await recordProgress(database, run.id, { phase: 'kube:rbac', done: 3 })).toBe(true);
    const retry = await startSyncRun(database, run.id, 'worker:b');
    expect(retry).toMatchObject({ status: 'running', attempt: 2, worker: 'worker:b', progress: null });
    // The worker of attempt 1 learns that it lost the run.
    expect(await recordProgress(database, run.id, { done: 4 }, 1)).toBe(false);
    expect(await recordProgress(database, run.id, { done: 4 }, 2)).toBe(true);
    await failSyncRun(database, run.id, { code: 'x', message: 'y' });
    await expect(startSyncRun(database, run.id, 'worker:c')).rejects.toBeInstanceOf(SyncRunStateError);
    expect(await recordProgress(database, run.id, { done: 5 })).toBe(false);
  });
});

describe('completeSyncRun', () => {
  it('writes 100,000 entitlements streamed from a generator and makes the run current', async () => {
    const cluster = await newCluster();
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const started = Date.now();
    const result = await completeSyncRun(database, run.id, {
      snapshot: syntheticSnapshot({ resources: 500, entitlements: 100_000, grants: 5_000 }),
      report: () => syntheticReport('complete'),
    });
    const ms = Date.now() - started;
    console.log(`completeSyncRun: 105,500 rows in ${ms} ms (${Math.round(105_500 / (ms / 1000))} rows/s)`);
    expect(result).toMatchObject({
      current: true,
      rows: { resources: 500, entitlements: 100_000, grants: 5_000 },
    });
    expect(result.run).toMatchObject({ status: 'succeeded', totalApiCalls: 1 });
    expect(result.run.counts).toMatchObject({
      totals: { resources: 500, entitlements: 100_000, grants: 5_000 },
    });
    expect(await count('snapshot_entitlements', run.id)).toBe(100_000);
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(run.id);
  });

  it('keeps the previous snapshot current when a run fails', async () => {
    const cluster = await newCluster();
    const good = await syncOnce(cluster);
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const failed = await failSyncRun(database, run.id, { code: 'throttled', message: 'Rate exceeded' });
    expect(failed).toMatchObject({
      status: 'failed',
      error: { code: 'throttled', message: 'Rate exceeded' },
    });
    expect(failed.finishedAt).toBeInstanceOf(Date);
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(good.run.id);
    // Failing again (a retried job handler) is harmless; completing a failed run is not allowed.
    await expect(failSyncRun(database, run.id, { code: 'x', message: 'y' })).resolves.toMatchObject({
      status: 'failed',
    });
    await expect(
      completeSyncRun(database, run.id, {
        snapshot: syntheticSnapshot({ entitlements: 1, grants: 0 }),
        report: syntheticReport(),
      }),
    ).rejects.toBeInstanceOf(SyncRunStateError);
  });

  it('keeps a partial run as history but does not make it current', async () => {
    const cluster = await newCluster();
    const good = await syncOnce(cluster);
    const partial = await syncOnce(
      cluster,
      syntheticSnapshot({ entitlements: 30, grants: 3, tag: 'p' }),
      'partial',
    );
    expect(partial).toMatchObject({ current: false, run: { status: 'partial' } });
    expect(partial.run.sources).toMatchObject({ 'eks:accessEntries': { state: 'failed' } });
    expect(await count('snapshot_grants', partial.run.id)).toBe(3);
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(good.run.id);
    const grants = await listGrants(database, cluster.id);
    expect(grants.syncRunId).toBe(good.run.id);
    expect(grants.items).toHaveLength(10);
  });

  it('writes nothing when the snapshot stream breaks midway, and the run can then be failed', async () => {
    const cluster = await newCluster();
    const good = await syncOnce(cluster);
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const base = syntheticSnapshot({ entitlements: 5_000, grants: 100 });
    const broken: SnapshotSource = {
      resources: () => base.resources(),
      entitlements: () => base.entitlements(),
      async *grants() {
        let n = 0;
        for await (const g of base.grants()) {
          if (++n === 50) throw new Error('kube API went away');
          yield g;
        }
      },
    };
    await expect(
      completeSyncRun(database, run.id, { snapshot: broken, report: syntheticReport() }),
    ).rejects.toThrow('kube API went away');
    expect(await count('snapshot_entitlements', run.id)).toBe(0);
    expect(await getSyncRun(database, run.id)).toMatchObject({ status: 'running' });
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(good.run.id);
    await failSyncRun(database, run.id, { code: 'stream', message: 'kube API went away' });
  });

  it('rejects a snapshot with a duplicate grant id and writes none of it', async () => {
    const cluster = await newCluster();
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const grant: GrantInput = {
      id: 'k8s_group:system:masters:member:iam_user:arn:aws:iam::123456789012:user/a',
      entitlementId: 'k8s_group:system:masters:member',
      resource: { type: 'k8s_group', id: 'system:masters' },
      principal: { type: 'iam_user', id: 'arn:aws:iam::123456789012:user/a' },
      annotations: [],
    };
    const snapshot: SnapshotSource = {
      resources: () => [],
      entitlements: () => [],
      grants: () => [grant, grant],
    };
    await expect(completeSyncRun(database, run.id, { snapshot, report: syntheticReport() })).rejects.toThrow(
      /duplicate id/,
    );
    expect(await count('snapshot_grants', run.id)).toBe(0);
  });

  it('refuses completion by the worker of an attempt that was taken over', async () => {
    const cluster = await newCluster();
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const retry = await startSyncRun(database, run.id, 'worker:b');
    const snapshot = () => syntheticSnapshot({ entitlements: 10, grants: 2 });
    await expect(
      completeSyncRun(database, run.id, { snapshot: snapshot(), report: syntheticReport(), attempt: 1 }),
    ).rejects.toBeInstanceOf(SyncRunStateError);
    await expect(
      completeSyncRun(database, run.id, {
        snapshot: snapshot(),
        report: syntheticReport(),
        attempt: retry.attempt,
      }),
    ).resolves.toMatchObject({
      current: true,
    });
  });

  it('moves the current pointer atomically: readers see the old snapshot until the new one is committed', async () => {
    const cluster = await newCluster();
    const old = await syncOnce(cluster, syntheticSnapshot({ entitlements: 100, grants: 40, tag: 'old' }));
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:a');
    const next = syntheticSnapshot({ entitlements: 100, grants: 60, tag: 'new' });
    let reachedMiddle!: () => void;
    const middle = new Promise<void>((resolve) => (reachedMiddle = resolve));
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    const slow: SnapshotSource = {
      resources: () => next.resources(),
      entitlements: () => next.entitlements(),
      async *grants() {
        let n = 0;
        for await (const g of next.grants()) {
          if (++n === 30) {
            reachedMiddle();
            await paused;
          }
          yield g;
        }
      },
    };
    const completing = completeSyncRun(database, run.id, { snapshot: slow, report: syntheticReport() });
    await middle;
    const during = await listGrants(database, cluster.id, { limit: 1000 });
    expect(during.syncRunId).toBe(old.run.id);
    expect(during.items).toHaveLength(40);
    resume();
    await completing;
    const after = await listGrants(database, cluster.id, { limit: 1000 });
    expect(after.syncRunId).toBe(run.id);
    expect(after.items).toHaveLength(60);
  });
});

describe('listSyncRuns and pruneSyncRuns', () => {
  it('lists runs newest first, page by page', async () => {
    const cluster = await newCluster();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await syncOnce(cluster)).run.id);
    const seen: SyncRun[] = [];
    let cursor: string | undefined;
    do {
      const page = await listSyncRuns(database, cluster.id, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((r) => r.id)).toEqual([...ids].reverse());
  });

  it('deletes older runs and their snapshots but never the current run or an active one', async () => {
    const cluster = await newCluster();
    const current = await syncOnce(cluster);
    const partials = [];
    for (let i = 0; i < 3; i++)
      partials.push(
        await syncOnce(cluster, syntheticSnapshot({ entitlements: 10, grants: 5, tag: `p${i}` }), 'partial'),
      );
    const { run: failed } = await enqueueSyncRun(database, cluster.id, 'api');
    await failSyncRun(database, failed.id, { code: 'x', message: 'y' });
    const { run: queued } = await enqueueSyncRun(database, cluster.id, 'api');
    // Newest first: failed, p2, p1, p0, current. Keep 2 → failed and p2 stay, p1 and p0 go, current stays.
    expect(await pruneSyncRuns(database, cluster.id, 2)).toBe(2);
    const left = (await listSyncRuns(database, cluster.id)).items.map((r) => r.id);
    expect(left.sort()).toEqual([current.run.id, partials[2]!.run.id, failed.id, queued.id].sort());
    expect(await count('snapshot_grants', partials[0]!.run.id)).toBe(0);
    expect(await pruneSyncRuns(database, cluster.id, 0)).toBe(2);
    expect((await listSyncRuns(database, cluster.id)).items.map((r) => r.id).sort()).toEqual(
      [current.run.id, queued.id].sort(),
    );
    expect(await count('snapshot_grants', current.run.id)).toBe(10);
    expect((await getCluster(database, cluster.id)).currentSyncRunId).toBe(current.run.id);
  });

  it('removes the snapshots of a cluster that is deleted outright (not soft-deleted)', async () => {
    const cluster = await newCluster();
    const done = await syncOnce(cluster);
    expect(await count('snapshot_entitlements', done.run.id)).toBe(20);
    await database.pool.query('DELETE FROM clusters WHERE id = $1', [cluster.id]);
    for (const table of ['snapshot_resources', 'snapshot_entitlements', 'snapshot_grants'])
      expect(await count(table, done.run.id)).toBe(0);
  });
});
