// The watcher end to end: clusters registered in a real Postgres, leases in a real Redis, the
// simulator's demo world watched through the real Kubernetes watch protocol and polled through the
// real EKS SDK. Every wait is for a condition (generous limits, no timing margins).
import { randomBytes } from 'node:crypto';
import {
  completeSyncRun,
  createCluster,
  enqueueSyncRun,
  getSyncRun,
  listChangeEvents,
  listGrants,
  listResources,
  startSyncRun,
  type Database,
  type SnapshotGrant,
} from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { CredentialCache, syncCluster } from '@eks-access/eks-core';
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import {
  createLeaseTable,
  createRedisConnection,
  createRedisRateLimiter,
  type RedisConnection,
} from '@eks-access/queue';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWatcher, type Watcher } from './watcher.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });
const WAIT_MS = 60_000;

let sim: RunningSim;
let database: TestDatabase;
let redis: RedisConnection;
let prefix: string;
let clusterId: string;
const watchers: Watcher[] = [];

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function endpoints() {
  return { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint };
}

function credentials() {
  return {
    base: {
      kind: 'static' as const,
      accessKeyId: DEMO.connector.accessKeyId,
      secretAccessKey: DEMO.connector.secretAccessKey,
    },
    assume: [{ roleArn: DEMO.connector.roleArn }],
  };
}

/** A full sync of the cluster, as the sync worker runs it. */
async function fullSync(db: Database, id: string) {
  const { run } = await enqueueSyncRun(db, id, 'api');
  await startSyncRun(db, run.id, 'test');
  const sync = await syncCluster({
    cluster: { name: DEMO.clusters.stagingUs.name, region: DEMO.clusters.stagingUs.region },
    credentials: credentials(),
    endpoints: endpoints(),
  });
  return completeSyncRun(db, run.id, { snapshot: sync, report: () => sync.report });
}

function startReplica(replicaId: string, leaseMs = 600_000): Watcher {
  const watcher = startWatcher({
    database,
    leases: createLeaseTable({ connection: redis, prefix, name: 'watcher', replicaId, leaseMs }),
    logger,
    balanceMs: 500,
    maxClusters: 100,
    feedDeps: {
      database,
      limiter: createRedisRateLimiter({ connection: redis, prefix }),
      credentialCache: new CredentialCache(),
      endpoints: endpoints(),
      workerId: replicaId,
      logger,
      settings: {
        debounceMs: 50,
        eksPollMs: 1_000,
        describeEvery: 2,
        iamRefreshMs: 3_600_000,
        watchTimeoutSeconds: 30,
        retryMs: 1_000,
        retention: 50,
      },
    },
  });
  watchers.push(watcher);
  return watcher;
}

async function allGrants(): Promise<SnapshotGrant[]> {
  const out: SnapshotGrant[] = [];
  let cursor: string | undefined;
  do {
    const page = await listGrants(database, clusterId, { limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const grantsTo = async (principalId: string) =>
  (await allGrants()).filter((g) => g.principal.id === principalId).map((g) => g.entitlementId);

async function hasResource(type: string, id: string): Promise<boolean> {
  const page = await listResources(database, clusterId, { type, limit: 500 });
  return page.items.some((r) => r.id === id);
}

async function getCurrent(): Promise<string | null> {
  const { rows } = await database.pool.query<{ id: string | null }>(
    'SELECT current_sync_run_id AS id FROM clusters WHERE id = $1',
    [clusterId],
  );
  return rows[0]?.id ?? null;
}

const cluster = () => sim.findCluster(DEMO.clusters.stagingUs.name, DEMO.clusters.stagingUs.region)!;

beforeAll(async () => {
  sim = await startSim({ world: createDemoWorld });
  database = await createTestDatabase(ADMIN_URL);
  redis = await createRedisConnection({ url: REDIS_URL, role: 'producer', logger });
  prefix = `watch-${randomBytes(4).toString('hex')}`;
  const registered = await createCluster(database, {
    name: DEMO.clusters.stagingUs.name,
    region: DEMO.clusters.stagingUs.region,
    hostingMode: 'self-hosted',
    roleArn: DEMO.connector.roleArn,
    credentials: {
      static: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    },
  });
  clusterId = registered.id;
});
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  sim.faults.setRules([]);
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
  await sim.close();
});

describe('watcher', () => {
  it(
    'writes nothing before the first full sync, then applies every watched kind within seconds',
    { timeout: 180_000 },
    async () => {
      const watcher = startReplica('r1');
      await watcher.balance();
      const feed = watcher.feeds().get(clusterId)!;
      await until('the feed to wait for a first sync', async () => feed.state() === 'waiting-for-first-sync');
      const first = await fullSync(database, clusterId);
      expect(first.current).toBe(true);
      await until('the feed to re-base on the full sync', async () => feed.appliedRunId() === first.run.id);

      const kube = cluster().kube;
      // Namespace and service account: resources.
      kube.create('namespaces', { metadata: { name: 'watch-ns' } });
      kube.create('serviceaccounts', { metadata: { name: 'watch-sa', namespace: 'watch-ns' } });
      await until(
        'the namespace and service account',
        async () =>
          (await hasResource('namespace', 'watch-ns')) &&
          (await hasResource('service_account', 'watch-ns/watch-sa')),
      );

      // A Role and a RoleBinding to a group: a namespace-role grant to the group.
      kube.create('roles', {
        metadata: { name: 'watch-reader', namespace: 'watch-ns' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
      });
      kube.create('rolebindings', {
        metadata: { name: 'watch-rb', namespace: 'watch-ns' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'watch-reader' },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'watch-team' }],
      });
      await until(
        'the RoleBinding grant',
        async () => (await grantsTo('watch-team')).length > 0 || undefined,
      );
      // Modified: the binding now names another group; the first loses it.
      const rb = kube.get('rolebindings', 'watch-ns', 'watch-rb')!;
      kube.update('rolebindings', {
        ...rb,
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'watch-team-2' }],
      });
      await until(
        'the modified RoleBinding',
        async () =>
          (await grantsTo('watch-team')).length === 0 && (await grantsTo('watch-team-2')).length > 0,
      );
      kube.delete('rolebindings', 'watch-ns', 'watch-rb');
      await until('the deleted RoleBinding', async () => (await grantsTo('watch-team-2')).length === 0);

      // A ClusterRole and a ClusterRoleBinding: created, modified (another subject), deleted.
      kube.create('clusterroles', {
        metadata: { name: 'watch-auditor' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }],
      });
      kube.create('clusterrolebindings', {
        metadata: { name: 'watch-crb' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'watch-auditor' },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'watch-auditors' }],
      });
      await until('the ClusterRoleBinding grant', async () => (await grantsTo('watch-auditors')).length > 0);
      const crb = kube.get('clusterrolebindings', undefined, 'watch-crb')!;
      kube.update('clusterrolebindings', {
        ...crb,
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'watch-auditors-2' }],
      });
      await until(
        'the modified ClusterRoleBinding',
        async () => (await grantsTo('watch-auditors-2')).length > 0,
      );
      kube.delete('clusterrolebindings', undefined, 'watch-crb');
      kube.delete('clusterroles', undefined, 'watch-auditor');
      await until(
        'the deleted ClusterRole',
        async () =>
          (await grantsTo('watch-auditors-2')).length === 0 &&
          !(await hasResource('cluster_role', 'watch-auditor')),
      );
      kube.delete('roles', 'watch-ns', 'watch-reader');
      kube.delete('serviceaccounts', 'watch-ns', 'watch-sa');
      kube.delete('namespaces', undefined, 'watch-ns');
      await until('the deleted namespace objects', async () => !(await hasResource('namespace', 'watch-ns')));

      // aws-auth (this cluster is API_AND_CONFIG_MAP): a mapped role joins a group.
      const cm = kube.get('configmaps', 'kube-system', 'aws-auth')!;
      const data = (cm.data ?? {}) as Record<string, string>;
      kube.update('configmaps', {
        ...cm,
        data: {
          ...data,
          mapRoles: `${data.mapRoles ?? ''}\n- rolearn: ${DEMO.roles.legacyDeployer.replace('/ci/', '/')}\n  username: watch-mapped\n  groups:\n    - watch-mapped-group\n`,
        },
      });
      await until('the aws-auth mapping', async () =>
        (await allGrants()).some(
          (g) => g.resource.id === 'watch-mapped-group' && g.principal.type === 'role',
        ),
      );

      // EKS access entry association (polled): AmazonEKSViewPolicy for the SSO developer role, which
      // has only a namespaced edit policy; then disassociated.
      const entry = [...cluster().accessEntries.values()].find(
        (e) => e.principalArn === DEMO.roles.ssoDeveloper,
      )!;
      const viewPolicy = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
      const hasView = async () =>
        (await allGrants()).some(
          (g) =>
            g.resource.type === 'access_policy' &&
            g.resource.id === viewPolicy &&
            g.principal.id === entry.principalArn,
        );
      expect(await hasView()).toBe(false);
      entry.associations.set(viewPolicy, {
        policyArn: viewPolicy,
        accessScope: { type: 'cluster', namespaces: [] },
        associatedAt: new Date(),
        modifiedAt: new Date(),
      });
      await until('the access-policy association', hasView);
      entry.associations.delete(viewPolicy);
      await until('the access-policy disassociation', async () => !(await hasView()));

      // A new cluster-admin binding raises a finding at once.
      kube.create('clusterrolebindings', {
        metadata: { name: 'watch-admins' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'watch-admins' }],
      });
      const finding = await until('the cluster-admin finding', async () =>
        (await listChangeEvents(database, { clusterId, kinds: ['finding'] })).items.find(
          (e) => e.principal?.id === 'watch-admins',
        ),
      );
      expect(finding).toMatchObject({ finding: 'cluster-admin-binding', source: 'watch', drift: false });

      // The change-event log tells the RoleBinding's story in order: granted, moved, revoked.
      const events = (await listChangeEvents(database, { clusterId, limit: 1000 })).items;
      const story = events
        .filter((e) => e.principal?.id.startsWith('watch-team') && e.kind !== 'resource_change')
        .map((e) => `${e.kind} ${e.principal!.id}`);
      expect(story).toEqual([
        'grant watch-team',
        'revoke watch-team',
        'grant watch-team-2',
        'revoke watch-team-2',
      ]);
      expect(events.some((e) => e.kind === 'resource_change' && e.resource?.id === 'watch-ns')).toBe(true);
      expect(events.every((e) => e.source === 'watch')).toBe(true);

      // A full sync now finds exactly the incremental state: nothing to write, no drift.
      const check = await fullSync(database, clusterId);
      expect(check.current).toBe(true);
      expect(check.rows).toEqual({ resources: 0, entitlements: 0, grants: 0 });
      expect(check.changes).toEqual({ grantsAdded: 0, grantsRemoved: 0, resourcesChanged: 0, drift: true });
      expect((await getSyncRun(database, check.run.id)).status).toBe('succeeded');
    },
  );

  it(
    'reconnects after dropped watches and lists again after 410 Expired, missing nothing',
    { timeout: 180_000 },
    async () => {
      if ((await getCurrent()) === null) await fullSync(database, clusterId);
      const watcher = startReplica('r410');
      await watcher.balance();
      const feed = watcher.feeds().get(clusterId)!;
      await until('the feed to watch', async () => feed.state() === 'watching');
      const kube = cluster().kube;

      // The next 20 watch connections are cut within 200 ms: changes still arrive through resumes.
      sim.faults.setRules([{ target: 'kube:watch:*', dropWatchRate: 1, dropWithinMs: 200, count: 20 }]);
      const reconnects = feed.stats()!.reconnects;
      // The API server ends every open watch (as a restart would): they reopen into the drops.
      kube.retire();
      kube.create('clusterrolebindings', {
        metadata: { name: 'dropped-1' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'dropped-team' }],
      });
      await until(
        'the change made while watches were being cut',
        async () => (await grantsTo('dropped-team')).length > 0,
      );
      await until('reconnects', async () => feed.stats()!.reconnects > reconnects);
      sim.faults.setRules([]);

      // The API server restarts and compacts: every resume is too old (410) and must list again; the
      // next watches are refused with 410 too (a storm). A change made meanwhile reaches no watch.
      const relists = feed.stats()!.relists;
      sim.faults.setRules([{ target: 'kube:watch:clusterrolebindings', expireWatchRate: 1, count: 3 }]);
      kube.compact();
      kube.retire();
      kube.delete('clusterrolebindings', undefined, 'dropped-1');
      kube.create('clusterrolebindings', {
        metadata: { name: 'after-410' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'after-410-team' }],
      });
      await until(
        'the changes made during the 410s',
        async () =>
          (await grantsTo('after-410-team')).length > 0 && (await grantsTo('dropped-team')).length === 0,
      );
      expect(feed.stats()!.relists).toBeGreaterThan(relists);
      kube.delete('clusterrolebindings', undefined, 'after-410');
      await until(
        'the survivor to apply new changes',
        async () => (await grantsTo('after-410-team')).length === 0,
      );
    },
  );

  it(
    "hands a crashed replica's clusters to another replica once its leases expire",
    { timeout: 180_000 },
    async () => {
      const leases = createLeaseTable({
        connection: redis,
        prefix,
        name: 'watcher',
        replicaId: 'probe',
        leaseMs: 1,
      });
      const doomed = startReplica('doomed', 3_000);
      await doomed.balance();
      const feed = doomed.feeds().get(clusterId)!;
      await until('the first replica to watch', async () => feed.state() === 'watching');
      expect(await leases.holder(clusterId)).toBe('doomed');
      // It dies holding the lease: no release, no goodbye.
      await doomed.crash();
      startReplica('survivor', 3_000);
      cluster().kube.create('clusterrolebindings', {
        metadata: { name: 'after-crash' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'after-crash-team' }],
      });
      await until(
        'the survivor to take the cluster over',
        async () => (await leases.holder(clusterId)) === 'survivor',
      );
      await until(
        'the change made while nobody watched',
        async () => (await grantsTo('after-crash-team')).length > 0,
      );
      cluster().kube.delete('clusterrolebindings', undefined, 'after-crash');
      await until(
        'the survivor to apply new changes',
        async () => (await grantsTo('after-crash-team')).length === 0,
      );
    },
  );
});
