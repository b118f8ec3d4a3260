import {
  accessPolicyEntitlementId,
  clusterRoleEntitlementId,
  groupMemberEntitlementId,
} from '@eks-access/model';
import type { PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForChanges, type Change } from '../changes.js';
import type { GrantInput, ResourceInput, SnapshotSource } from '../snapshot-types.js';
import { createTestDatabase, syntheticReport, syntheticSnapshot, type TestDatabase } from '../testing.js';
import { createCluster, type Cluster } from './clusters.js';
import { appendChangeEvents, listChangeEvents, type ChangeEvent, type ChangeSet } from './events.js';
import {
  applySnapshotDelta,
  diffSnapshotContent,
  loadTableContent,
  tableContent,
  tableHash,
  type SnapshotContent,
} from './incremental.js';
import { completeSyncRun, enqueueSyncRun, startSyncRun } from './sync-runs.js';

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

const ALICE = 'arn:aws:iam::111122223333:role/alice';
const BOB = 'arn:aws:iam::111122223333:role/bob';
const ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';

function grant(entitlementId: string, resource: { type: string; id: string }, principal: string): GrantInput {
  return {
    id: `${entitlementId}:iam_role:${principal}`,
    entitlementId,
    resource,
    principal: { type: 'iam_role', id: principal },
    annotations: [],
  };
}

const masters = grant(
  groupMemberEntitlementId('system:masters'),
  { type: 'k8s_group', id: 'system:masters' },
  ALICE,
);
const clusterAdmin = grant(
  clusterRoleEntitlementId('cluster-admin'),
  { type: 'cluster_role', id: 'cluster-admin' },
  BOB,
);
const adminPolicy = grant(
  accessPolicyEntitlementId(ADMIN_POLICY),
  { type: 'access_policy', id: ADMIN_POLICY },
  BOB,
);
const viewer = grant(clusterRoleEntitlementId('view'), { type: 'cluster_role', id: 'view' }, ALICE);
const ns: ResourceInput = {
  type: 'namespace',
  id: 'team-a',
  displayName: 'team-a',
  profile: {},
  annotations: [],
};

async function inTransaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

async function readAll(
  options: Parameters<typeof listChangeEvents>[1],
  pageSize: number,
): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listChangeEvents(database, {
      ...options,
      ...(cursor ? { cursor } : {}),
      limit: pageSize,
    });
    out.push(...page.items);
    if (!page.hasMore) return out;
    cursor = page.cursor!;
  }
}

describe('change events', () => {
  it('logs revokes, grants with their findings and resource changes, and reads them by cursor and filter', async () => {
    const cluster = await newCluster();
    const runId = crypto.randomUUID();
    const changes: ChangeSet = {
      clusterId: cluster.id,
      syncRunId: runId,
      source: 'watch',
      grantsAdded: [masters, clusterAdmin, adminPolicy],
      grantsRemoved: [viewer],
      resourcesChanged: [{ before: null, after: ns }],
    };
    const written = await inTransaction((c) => appendChangeEvents(c, changes));
    expect(written.count).toBe(8);

    const all = await readAll({ clusterId: cluster.id }, 3);
    expect(all.map((e) => [e.kind, e.finding ?? e.grantId ?? e.resource?.id])).toEqual([
      ['revoke', viewer.id],
      ['grant', masters.id],
      ['finding', 'system-masters-member'],
      ['grant', clusterAdmin.id],
      ['finding', 'cluster-admin-binding'],
      ['grant', adminPolicy.id],
      ['finding', 'cluster-admin-access-policy'],
      ['resource_change', 'team-a'],
    ]);
    // Ids strictly increase, and paging by 3 neither skipped nor repeated one.
    const ids = all.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(8);
    expect(all[0]!.detail).toEqual({ grant: viewer });
    expect(all[7]!.detail).toEqual({ before: null, after: ns });

    const bobs = await listChangeEvents(database, {
      clusterId: cluster.id,
      principalId: BOB,
      kinds: ['grant'],
    });
    expect(bobs.items.map((e) => e.grantId)).toEqual([clusterAdmin.id, adminPolicy.id]);
    // Resuming from the last cursor finds nothing new, and keeps the cursor.
    const after = await listChangeEvents(database, { clusterId: cluster.id, cursor: all[7]!.id });
    expect(after).toEqual({ items: [], cursor: all[7]!.id, hasMore: false });
    await expect(listChangeEvents(database, { cursor: 'abc' })).rejects.toThrow(/invalid event cursor/);
  });

  it('hands out ids in commit order: a reader past an id never later finds a smaller one', async () => {
    const cluster = await newCluster();
    const set = (g: GrantInput): ChangeSet => ({
      clusterId: cluster.id,
      syncRunId: crypto.randomUUID(),
      source: 'watch',
      grantsAdded: [g],
      grantsRemoved: [],
      resourcesChanged: [],
    });
    const first = await database.pool.connect();
    const second = await database.pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await appendChangeEvents(first, set(viewer));
      const pid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const secondAppend = appendChangeEvents(second, set(masters)).then(() => second.query('COMMIT'));
      // The second append waits for the first transaction's lock (checked, not timed).
      for (;;) {
        const { rows } = await database.pool.query(
          `SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND NOT granted`,
          [pid],
        );
        if (rows.length > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect((await listChangeEvents(database, { clusterId: cluster.id })).items).toEqual([]);
      await first.query('COMMIT');
      await secondAppend;
    } finally {
      first.release();
      second.release();
    }
    const all = await listChangeEvents(database, { clusterId: cluster.id });
    expect(all.items.map((e) => e.grantId)).toEqual([viewer.id, masters.id, masters.id]);
    expect(all.items.map((e) => e.kind)).toEqual(['grant', 'grant', 'finding']);
  });

  it('announces appended events on commit (events:<last id>), not before', async () => {
    const cluster = await newCluster();
    const seen: Change[] = [];
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    const listener = listenForChanges({
      url: database.url,
      onChange: (c) => seen.push(c),
      onState: (up) => up && connected(),
    });
    try {
      await ready;
      const { lastId } = await inTransaction((c) =>
        appendChangeEvents(c, {
          clusterId: cluster.id,
          syncRunId: crypto.randomUUID(),
          source: 'watch',
          grantsAdded: [viewer],
          grantsRemoved: [],
          resourcesChanged: [],
        }),
      );
      for (let i = 0; i < 500 && !seen.some((c) => c.kind === 'events'); i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(seen).toContainEqual({ kind: 'events', lastId });
    } finally {
      await listener.close();
    }
  });
});

describe('full syncs in the change-event log', () => {
  async function fullSync(cluster: Cluster, snapshot: SnapshotSource) {
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'worker:test');
    return completeSyncRun(database, run.id, { snapshot, report: syntheticReport('complete') });
  }

  function withGrants(
    base: SnapshotSource,
    extra: GrantInput[],
    drop: (g: GrantInput) => boolean,
  ): SnapshotSource {
    return {
      resources: () => base.resources(),
      entitlements: () => base.entitlements(),
      grants: async function* () {
        for await (const g of base.grants()) if (!drop(g)) yield g;
        yield* extra;
      },
    };
  }

  it('a first sync logs nothing; the next logs its difference; one that replaces a watch run logs drift', async () => {
    const cluster = await newCluster();
    const base = syntheticSnapshot({ entitlements: 40, grants: 30, resources: 5 });
    const first = await fullSync(cluster, base);
    expect(first.changes).toBeUndefined();
    expect((await listChangeEvents(database, { clusterId: cluster.id })).items).toEqual([]);

    // A user left, cluster-admin was bound: a grant each way, and the binding's finding.
    const grants: GrantInput[] = [];
    for await (const g of base.grants()) grants.push(g);
    const gone = grants[0]!;
    const second = await fullSync(
      cluster,
      withGrants(base, [clusterAdmin], (g) => g.id === gone.id),
    );
    expect(second.changes).toEqual({ grantsAdded: 1, grantsRemoved: 1, resourcesChanged: 0, drift: false });
    const events = (await listChangeEvents(database, { clusterId: cluster.id })).items;
    expect(events.map((e) => [e.kind, e.source, e.drift, e.finding ?? e.grantId])).toEqual([
      ['revoke', 'sync', false, gone.id],
      ['grant', 'sync', false, clusterAdmin.id],
      ['finding', 'sync', false, 'cluster-admin-binding'],
    ]);

    // The watcher applies a change that is wrong (it thinks bob's access-policy grant exists);
    // the next full sync does not find it: that revoke is drift.
    const current = await fullContent(second.run.id);
    const watched = {
      ...current,
      grants: tableContent('grants', [...[...current.grants.values()].map((v) => v.row), adminPolicy]),
    };
    const applied = await applySnapshotDelta(database, cluster.id, {
      baseRunId: second.run.id,
      delta: diffSnapshotContent(current, watched),
      hashes: {
        resources: tableHash('resources', watched.resources),
        entitlements: tableHash('entitlements', watched.entitlements),
        grants: tableHash('grants', watched.grants),
      },
      totals: {
        resources: watched.resources.size,
        entitlements: watched.entitlements.size,
        grants: watched.grants.size,
      },
      worker: 'watcher:test',
    });
    expect(applied.status).toBe('applied');
    const third = await fullSync(
      cluster,
      withGrants(base, [clusterAdmin], (g) => g.id === gone.id),
    );
    expect(third.current).toBe(true);
    expect(third.changes).toEqual({ grantsAdded: 0, grantsRemoved: 1, resourcesChanged: 0, drift: true });
    const drift = await listChangeEvents(database, { clusterId: cluster.id, cursor: events[2]!.id });
    expect(drift.items.map((e) => [e.kind, e.drift, e.grantId])).toEqual([['revoke', true, adminPolicy.id]]);
  });

  async function fullContent(runId: string): Promise<SnapshotContent> {
    const holders = await database.pool.query<{ r: string; e: string; g: string }>(
      'SELECT resources_run_id r, entitlements_run_id e, grants_run_id g FROM sync_runs WHERE id = $1',
      [runId],
    );
    const h = holders.rows[0]!;
    return {
      resources: await loadTableContent(database, 'resources', h.r),
      entitlements: await loadTableContent(database, 'entitlements', h.e),
      grants: await loadTableContent(database, 'grants', h.g),
    };
  }
});
