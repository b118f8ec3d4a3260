import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntitlementInput, GrantInput, ResourceInput, SnapshotSource } from '../snapshot-types.js';
import { createTestDatabase, syntheticReport, syntheticSnapshot, type TestDatabase } from '../testing.js';
import { createCluster, type Cluster } from './clusters.js';
import {
  applySnapshotDelta,
  currentSnapshotInfo,
  diffSnapshotContent,
  loadTableContent,
  tableContent,
  tableHash,
  type SnapshotContent,
} from './incremental.js';
import { listGrants, listResources } from './snapshots.js';
import { completeSyncRun, enqueueSyncRun, getSyncRun, startSyncRun } from './sync-runs.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL, { maxConnections: 10 });
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

async function drain<T>(rows: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const r of rows) out.push(r);
  return out;
}

async function contentOf(snapshot: SnapshotSource): Promise<SnapshotContent> {
  return {
    resources: tableContent('resources', await drain(snapshot.resources() as AsyncIterable<ResourceInput>)),
    entitlements: tableContent(
      'entitlements',
      await drain(snapshot.entitlements() as AsyncIterable<EntitlementInput>),
    ),
    grants: tableContent('grants', await drain(snapshot.grants() as AsyncIterable<GrantInput>)),
  };
}

function fromContent(content: SnapshotContent): SnapshotSource {
  return {
    resources: () => [...content.resources.values()].map((v) => v.row),
    entitlements: () => [...content.entitlements.values()].map((v) => v.row),
    grants: () => [...content.grants.values()].map((v) => v.row),
  };
}

async function fullSync(cluster: Cluster, snapshot: SnapshotSource, queued?: () => Promise<void>) {
  const { run } = await enqueueSyncRun(database, cluster.id, 'api');
  await queued?.();
  await startSyncRun(database, run.id, 'worker:test');
  return completeSyncRun(database, run.id, { snapshot, report: syntheticReport('complete') });
}

function apply(cluster: Cluster, baseRunId: string | null, before: SnapshotContent, after: SnapshotContent) {
  const parts = ['resources', 'entitlements', 'grants'] as const;
  return applySnapshotDelta(database, cluster.id, {
    baseRunId,
    delta: diffSnapshotContent(before, after),
    hashes: Object.fromEntries(parts.map((p) => [p, tableHash(p, after[p])])) as Record<
      (typeof parts)[number],
      string
    >,
    totals: Object.fromEntries(parts.map((p) => [p, after[p].size])) as Record<
      (typeof parts)[number],
      number
    >,
    worker: 'watcher:test',
  });
}

/** The same content with one grant gone and one grant added. */
function changed(content: SnapshotContent): SnapshotContent {
  const grants = new Map(content.grants);
  const [firstKey, first] = [...grants.entries()][0]!;
  grants.delete(firstKey);
  const added: GrantInput = {
    ...first.row,
    id: `${first.row.entitlementId}:iam_user:arn:aws:iam::111122223333:user/new-hire`,
    principal: { type: 'iam_user', id: 'arn:aws:iam::111122223333:user/new-hire' },
  };
  const next = tableContent('grants', [...[...grants.values()].map((g) => g.row), added]);
  return { ...content, grants: next };
}

describe('incremental snapshots', () => {
  it('hashes an in-memory table exactly as a full sync stores it', async () => {
    const cluster = await newCluster();
    const snapshot = syntheticSnapshot({ entitlements: 200, grants: 150, resources: 20 });
    const result = await fullSync(cluster, snapshot);
    const info = await currentSnapshotInfo(database, cluster.id);
    const content = await contentOf(snapshot);
    expect(info.runId).toBe(result.run.id);
    for (const part of ['resources', 'entitlements', 'grants'] as const)
      expect(tableHash(part, content[part]), part).toBe(info.hashes[part]);
    // Loaded back from Postgres, the rows encode to the same lines.
    const loaded = await loadTableContent(database, 'grants', info.holders.grants!);
    expect(tableHash('grants', loaded)).toBe(info.hashes.grants);
  });

  it('applies a change as a new current snapshot that copies only the touched table', async () => {
    const cluster = await newCluster();
    const snapshot = syntheticSnapshot({ entitlements: 200, grants: 150, resources: 20 });
    const base = await fullSync(cluster, snapshot);
    const before = await contentOf(snapshot);
    const after = changed(before);
    const result = await apply(cluster, base.run.id, before, after);
    expect(result.status).toBe('applied');
    if (result.status !== 'applied') return;
    // 149 kept + 1 new grant; the other tables are the full sync's rows, not copies.
    expect(result.written).toEqual({ resources: 0, entitlements: 0, grants: 150 });
    const info = await currentSnapshotInfo(database, cluster.id);
    expect(info.runId).toBe(result.runId);
    expect(info.trigger).toBe('watch');
    expect(info.holders.resources).toBe(base.run.id);
    const grants = await listGrants(database, cluster.id, { limit: 500 });
    expect(grants.syncRunId).toBe(result.runId);
    expect(grants.items).toHaveLength(150);
    expect(grants.items.some((g) => g.principal.id.endsWith('user/new-hire'))).toBe(true);
    expect((await listResources(database, cluster.id, { limit: 500 })).items).toHaveLength(20);
  });

  it('refuses a change computed against a snapshot that is no longer current, writing nothing', async () => {
    const cluster = await newCluster();
    const snapshot = syntheticSnapshot({ entitlements: 50, grants: 40, resources: 10 });
    const first = await fullSync(cluster, snapshot);
    const second = await fullSync(
      cluster,
      syntheticSnapshot({ entitlements: 50, grants: 30, resources: 10 }),
    );
    const before = await contentOf(snapshot);
    const result = await apply(cluster, first.run.id, before, changed(before));
    expect(result).toEqual({ status: 'base-moved', currentRunId: second.run.id });
    expect((await currentSnapshotInfo(database, cluster.id)).runId).toBe(second.run.id);
  });

  it('lets a full sync queued before a watched change replace it, and reuses the rows when they agree', async () => {
    const cluster = await newCluster();
    const snapshot = syntheticSnapshot({ entitlements: 80, grants: 60, resources: 10 });
    const base = await fullSync(cluster, snapshot);
    const before = await contentOf(snapshot);
    const after = changed(before);
    let watchRun = '';
    // The full sync is queued, then the watched change lands, then the sync finishes with the same content.
    const check = await fullSync(cluster, fromContent(after), async () => {
      const r = await apply(cluster, base.run.id, before, after);
      if (r.status === 'applied') watchRun = r.runId;
    });
    expect(watchRun).not.toBe('');
    expect(check.current).toBe(true);
    // It found exactly the incremental state: nothing written, every table named from the watch run.
    expect(check.rows).toEqual({ resources: 0, entitlements: 0, grants: 0 });
    expect(check.reused).toBe(true);
    const run = await getSyncRun(database, check.run.id);
    expect(run.status).toBe('succeeded');
    expect((await listGrants(database, cluster.id, { limit: 500 })).items).toHaveLength(60);
  });

  it('never lets a straggler queued before the full sync a watch chain started from replace it', async () => {
    const cluster = await newCluster();
    const snapshot = syntheticSnapshot({ entitlements: 30, grants: 20, resources: 5 });
    const first = await fullSync(cluster, snapshot);
    // A straggler queued long ago (before `first`): make it look so, then let a watch change land.
    const { run: straggler } = await enqueueSyncRun(database, cluster.id, 'api');
    await database.pool.query(`UPDATE sync_runs SET queued_at = now() - interval '1 hour' WHERE id = $1`, [
      straggler.id,
    ]);
    const before = await contentOf(snapshot);
    const watched = await apply(cluster, first.run.id, before, changed(before));
    expect(watched.status).toBe('applied');
    await startSyncRun(database, straggler.id, 'worker:test');
    const late = await completeSyncRun(database, straggler.id, {
      snapshot: syntheticSnapshot({ entitlements: 30, grants: 5, resources: 5 }),
      report: syntheticReport('complete'),
    });
    expect(late.current).toBe(false);
    expect((await currentSnapshotInfo(database, cluster.id)).runId).toBe(
      watched.status === 'applied' ? watched.runId : '',
    );
  });
});
