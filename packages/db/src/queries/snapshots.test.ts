import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, InvalidInputError, NotFoundError } from '../errors.js';
import type { GrantInput, ResourceInput, SnapshotSource } from '../snapshot-types.js';
import {
  createTestDatabase,
  syntheticPrincipal,
  syntheticReport,
  syntheticSnapshot,
  type TestDatabase,
} from '../testing.js';
import { createCluster, deleteCluster, type Cluster } from './clusters.js';
import {
  diffSnapshots,
  grantsForPrincipal,
  listEntitlements,
  listGrants,
  listResources,
} from './snapshots.js';
import { completeSyncRun, enqueueSyncRun, failSyncRun, startSyncRun } from './sync-runs.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase(ADMIN_URL);
});
afterAll(async () => {
  await database?.drop();
});

async function newCluster(name = `c-${Math.random().toString(36).slice(2, 10)}`): Promise<Cluster> {
  return createCluster(database, { name, region: 'eu-west-1', hostingMode: 'default-chain' });
}

async function sync(cluster: Cluster, snapshot: SnapshotSource, status: 'complete' | 'partial' = 'complete') {
  const { run } = await enqueueSyncRun(database, cluster.id, 'api');
  await startSyncRun(database, run.id, 'worker:test');
  return (await completeSyncRun(database, run.id, { snapshot, report: syntheticReport(status) })).run;
}

const ACCOUNT = '123456789012';
const user = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

function grant(
  entitlementId: string,
  resource: { type: string; id: string },
  principal: { type: string; id: string },
  annotations: GrantInput['annotations'] = [],
): GrantInput {
  return {
    id: `${entitlementId}:${principal.type}:${principal.id}`,
    entitlementId,
    resource,
    principal,
    annotations,
  };
}

function snapshotOf(grants: GrantInput[], resources: ResourceInput[] = []): SnapshotSource {
  return { resources: () => resources, entitlements: () => [], grants: () => grants };
}

describe('listGrants', () => {
  it('walks every grant exactly once across pages, in id order', async () => {
    const cluster = await newCluster();
    await sync(cluster, syntheticSnapshot({ entitlements: 2_000, grants: 1_000, principals: 30 }));
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listGrants(database, cluster.id, { limit: 77, ...(cursor ? { cursor } : {}) });
      ids.push(...page.items.map((g) => g.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(1_000 / 77));
    expect(ids).toHaveLength(1_000);
    expect(new Set(ids).size).toBe(1_000);
    expect([...ids].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1))).toEqual(ids);
  });

  it('filters by principal and pages through the filtered set', async () => {
    const cluster = await newCluster();
    await sync(cluster, syntheticSnapshot({ entitlements: 2_000, grants: 1_000, principals: 10 }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listGrants(database, cluster.id, {
        principalId: syntheticPrincipal(3),
        limit: 9,
        ...(cursor ? { cursor } : {}),
      });
      for (const g of page.items)
        expect(g.principal).toEqual({ type: 'iam_user', id: syntheticPrincipal(3) });
      seen.push(...page.items.map((g) => g.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(100);
    expect(new Set(seen).size).toBe(100);
  });

  it('returns grants in the shape they were written, sources and annotations included', async () => {
    const cluster = await newCluster();
    const g: GrantInput = {
      ...grant(
        'k8s_group:system:masters:member',
        { type: 'k8s_group', id: 'system:masters' },
        { type: 'role', id: role('admin') },
        [{ type: 'GrantExpandable', entitlementIds: [`role:${role('admin')}:assignment`] }],
      ),
      sources: [{ kind: 'identity-mapping', identity: { kind: 'aws-auth', key: 'mapRoles', index: 0 } }],
      conditions: [{ kind: 'external-id-required' }],
    };
    await sync(cluster, snapshotOf([g]));
    const page = await listGrants(database, cluster.id, { entitlementId: 'k8s_group:system:masters:member' });
    expect(page.items).toEqual([g]);
    expect(
      (
        await listGrants(database, cluster.id, {
          type: 'k8s_group',
          resourceId: 'system:masters',
          principalType: 'role',
        })
      ).items,
    ).toHaveLength(1);
    expect((await listGrants(database, cluster.id, { principalType: 'iam_user' })).items).toHaveLength(0);
  });

  it('keeps paging through the snapshot a cursor started on after a newer sync becomes current', async () => {
    const cluster = await newCluster();
    const first = await sync(cluster, syntheticSnapshot({ entitlements: 100, grants: 50, tag: 'a' }));
    const page1 = await listGrants(database, cluster.id, { limit: 20 });
    const second = await sync(cluster, syntheticSnapshot({ entitlements: 100, grants: 50, tag: 'b' }));
    const page2 = await listGrants(database, cluster.id, { limit: 20, cursor: page1.nextCursor! });
    expect(page2.syncRunId).toBe(first.id);
    expect(page2.items.every((g) => g.id.includes('role-a'))).toBe(true);
    expect((await listGrants(database, cluster.id, { limit: 20 })).syncRunId).toBe(second.id);
  });

  it('has an empty answer before the first sync and NotFoundError for an unknown cluster', async () => {
    const cluster = await newCluster();
    expect(await listGrants(database, cluster.id)).toEqual({ syncRunId: null, items: [] });
    await expect(listGrants(database, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(listGrants(database, 'junk')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('rejects malformed, forged and foreign cursors with InvalidCursorError', async () => {
    const a = await newCluster();
    const b = await newCluster();
    await sync(a, syntheticSnapshot({ entitlements: 50, grants: 30 }));
    await sync(b, syntheticSnapshot({ entitlements: 50, grants: 30 }));
    const fromB = (await listGrants(database, b.id, { limit: 5 })).nextCursor!;
    const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const bad = [
      'not a cursor',
      '%%%',
      Buffer.from('{not json').toString('base64url'),
      encode({ r: 'x', k: ['a'] }),
      encode({ r: '00000000-0000-4000-8000-000000000000', k: [1] }),
      encode({ r: '00000000-0000-4000-8000-000000000000', k: ['a', 'b'] }),
      encode([1, 2, 3]),
      encode('string'),
      fromB,
    ];
    for (const cursor of bad) {
      await expect(listGrants(database, a.id, { cursor }), cursor).rejects.toBeInstanceOf(InvalidCursorError);
    }
    // A cursor of one listing does not fit another listing's key.
    await expect(listResources(database, b.id, { cursor: fromB })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(listGrants(database, a.id, { limit: 1001 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('listResources and listEntitlements', () => {
  it('filters resources by type and parent, paging by (type, id)', async () => {
    const cluster = await newCluster();
    const resources: ResourceInput[] = [
      {
        type: 'namespace',
        id: 'prod',
        displayName: 'prod',
        profile: {},
        annotations: [{ type: 'ChildResourceType', resourceTypeId: 'service_account' }],
      },
      { type: 'namespace', id: 'dev', displayName: 'dev', profile: {}, annotations: [] },
      ...['a', 'b', 'c'].map((n) => ({
        type: 'service_account',
        id: `prod/${n}`,
        displayName: n,
        parent: { type: 'namespace', id: 'prod' },
        profile: { n },
        annotations: [],
      })),
      {
        type: 'service_account',
        id: 'dev/x',
        displayName: 'x',
        parent: { type: 'namespace', id: 'dev' },
        profile: {},
        annotations: [],
      },
    ];
    await sync(cluster, snapshotOf([], resources));
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listResources(database, cluster.id, { limit: 2, ...(cursor ? { cursor } : {}) });
      all.push(...page.items.map((r) => `${r.type}/${r.id}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(all).toEqual([
      'namespace/dev',
      'namespace/prod',
      'service_account/dev/x',
      'service_account/prod/a',
      'service_account/prod/b',
      'service_account/prod/c',
    ]);
    const children = await listResources(database, cluster.id, { parentType: 'namespace', parentId: 'prod' });
    expect(children.items.map((r) => r.id)).toEqual(['prod/a', 'prod/b', 'prod/c']);
    expect(children.items[0]).toEqual(resources[2]);
    expect(
      (await listResources(database, cluster.id, { type: 'namespace', resourceId: 'prod' })).items,
    ).toEqual([resources[0]]);
  });

  it("lists one resource's entitlements even when another resource id extends it with a colon", async () => {
    const cluster = await newCluster();
    const ent = (resourceId: string, slug: string) => ({
      id: `cluster_role:${resourceId}:${slug}`,
      resource: { type: 'cluster_role', id: resourceId },
      slug,
      displayName: slug,
      description: '',
      purpose: 'assignment' as const,
      grantableTo: ['iam_user'],
    });
    const entitlements = [
      ent('eks:admin', 'all:member'),
      ent('eks:admin', 'prod:member'),
      ent('eks:admin:extra', 'all:member'),
      ent('eks', 'all:member'),
    ];
    await sync(cluster, { resources: () => [], entitlements: () => entitlements, grants: () => [] });
    const page = await listEntitlements(database, cluster.id, {
      type: 'cluster_role',
      resourceId: 'eks:admin',
    });
    expect(page.items.map((e) => e.id)).toEqual([
      'cluster_role:eks:admin:all:member',
      'cluster_role:eks:admin:prod:member',
    ]);
    expect(page.items[0]).toEqual(entitlements[0]);
    expect((await listEntitlements(database, cluster.id, { type: 'cluster_role' })).items).toHaveLength(4);
  });
});

describe('diffSnapshots', () => {
  it('returns exactly the grants added and removed between two runs', async () => {
    const cluster = await newCluster();
    const g = (n: string) =>
      grant('k8s_group:dev:member', { type: 'k8s_group', id: 'dev' }, { type: 'iam_user', id: user(n) });
    const from = await sync(cluster, snapshotOf([g('a'), g('b'), g('c')]));
    const to = await sync(cluster, snapshotOf([g('b'), g('c'), g('d'), g('e')]));
    const diff = await diffSnapshots(database, cluster.id, from.id, to.id);
    expect(diff.added.map((x) => x.principal.id)).toEqual([user('d'), user('e')]);
    expect(diff.removed.map((x) => x.principal.id)).toEqual([user('a')]);
    expect(diff.removed[0]).toEqual(g('a'));
    const back = await diffSnapshots(database, cluster.id, to.id, from.id);
    expect(back.added.map((x) => x.id)).toEqual(diff.removed.map((x) => x.id));
    expect((await diffSnapshots(database, cluster.id, to.id, to.id)).added).toEqual([]);
  });

  it('refuses runs of another cluster and runs without a snapshot', async () => {
    const a = await newCluster();
    const b = await newCluster();
    const runA = await sync(a, snapshotOf([]));
    const runB = await sync(b, snapshotOf([]));
    await expect(diffSnapshots(database, a.id, runA.id, runB.id)).rejects.toThrow(
      /belongs to another cluster/,
    );
    const { run: failed } = await enqueueSyncRun(database, a.id, 'api');
    await failSyncRun(database, failed.id, { code: 'x', message: 'y' });
    await expect(diffSnapshots(database, a.id, runA.id, failed.id)).rejects.toThrow(
      /failed and has no snapshot/,
    );
    await expect(diffSnapshots(database, a.id, runA.id, 'nope')).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      diffSnapshots(database, a.id, runA.id, '00000000-0000-4000-8000-000000000000'),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('grantsForPrincipal', () => {
  it("follows role assumption and group membership across every cluster's current snapshot", async () => {
    const alice = user('alice');
    const expandRole = (arn: string) => [
      { type: 'GrantExpandable' as const, entitlementIds: [`role:${arn}:assignment`] },
    ];
    const expandGroup = (g: string) => [
      { type: 'GrantExpandable' as const, entitlementIds: [`k8s_group:${g}:member`] },
    ];
    const assume = grant(
      `role:${role('deployer')}:assignment`,
      { type: 'role', id: role('deployer') },
      { type: 'iam_user', id: alice },
      [{ type: 'ExternalResourceMatchID', id: alice }],
    );
    const roleInGroup = grant(
      'k8s_group:deployers:member',
      { type: 'k8s_group', id: 'deployers' },
      { type: 'role', id: role('deployer') },
      expandRole(role('deployer')),
    );
    const groupBinding = grant(
      'cluster_role:edit:all:member',
      { type: 'cluster_role', id: 'edit' },
      { type: 'k8s_group', id: 'deployers' },
      expandGroup('deployers'),
    );
    const direct = grant(
      'cluster_role:view:all:member',
      { type: 'cluster_role', id: 'view' },
      { type: 'iam_user', id: alice },
    );
    // Bob's grant to the same role is not Alice's, and a grant to a service account does not expand.
    const other = grant(
      'cluster_role:admin:all:member',
      { type: 'cluster_role', id: 'admin' },
      { type: 'iam_user', id: user('bob') },
    );
    const one = await newCluster('alpha');
    const two = await newCluster('beta');
    const gone = await newCluster('gamma');
    await sync(one, snapshotOf([assume, roleInGroup, groupBinding, other]));
    await sync(two, snapshotOf([direct]));
    await sync(gone, snapshotOf([direct]));
    await deleteCluster(database, gone.id);
    // A partial run of beta (not current) must not count either.
    await sync(
      two,
      snapshotOf([
        direct,
        grant(
          'cluster_role:admin:all:member',
          { type: 'cluster_role', id: 'admin' },
          { type: 'iam_user', id: alice },
        ),
      ]),
      'partial',
    );

    const access = await grantsForPrincipal(database, alice);
    expect(access.map((a) => [a.cluster.name, a.grant.id, a.via])).toEqual([
      ['alpha', assume.id, []],
      ['alpha', roleInGroup.id, [assume.id]],
      ['alpha', groupBinding.id, [assume.id, roleInGroup.id]],
      ['beta', direct.id, []],
    ]);
    expect(await grantsForPrincipal(database, alice, { maxDepth: 0 })).toHaveLength(2);
    expect(await grantsForPrincipal(database, user('nobody'))).toEqual([]);
  });

  it('stops at cycles between roles', async () => {
    const cluster = await newCluster();
    const a = role('a');
    const b = role('b');
    const expand = (arn: string) => [
      { type: 'GrantExpandable' as const, entitlementIds: [`role:${arn}:assignment`] },
    ];
    await sync(
      cluster,
      snapshotOf([
        grant(`role:${a}:assignment`, { type: 'role', id: a }, { type: 'iam_user', id: user('carol') }),
        grant(`role:${b}:assignment`, { type: 'role', id: b }, { type: 'role', id: a }, expand(a)),
        grant(`role:${a}:assignment`, { type: 'role', id: a }, { type: 'role', id: b }, expand(b)),
      ]),
    );
    const access = await grantsForPrincipal(database, user('carol'));
    expect(access).toHaveLength(3);
  });
});
