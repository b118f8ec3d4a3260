// The provisioner end to end: requests recorded in a real Postgres, jobs on a real Redis, the
// simulator's demo world (with the connector allowed to write) reached through the real clients.
// Effects are checked as the principal would see them: alice's own credentials, her own token.
import { randomBytes } from 'node:crypto';
import {
  createCluster,
  createProvisioningRequest,
  getProvisioningRequest,
  listAudit,
  listProvisioningRequests,
  updateCluster,
  type ProvisioningRequest,
} from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { ClusterSession, CredentialCache, isEksAccessError } from '@eks-access/eks-core';
import {
  allowConnectorProvisioning,
  createDemoWorld,
  DEMO,
  startSim,
  type RunningSim,
} from '@eks-access/eks-sim';
import {
  createConsumer,
  createLockManager,
  createProducer,
  createRedisConnection,
  createRedisRateLimiter,
  type Producer,
  type RedisConnection,
} from '@eks-access/queue';
import { Queue, type Job } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileExpiries } from './reconcile-expiries.js';
import { runProvisioningRequest, type ProvisionJobDeps } from './run-request.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });
const VIEW_TEAM_A = 'cluster_role:view:team-a:member';
const CLUSTER_ADMIN = 'cluster_role:cluster-admin:all:member';
const ADMIN_POLICY =
  'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy:assigned:cluster';

let sim: RunningSim;
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let prefix: string;
let deps: ProvisionJobDeps;
let clusterId: string;
let consumer: { close(o?: { timeoutMs?: number }): Promise<void> };

beforeAll(async () => {
  sim = await startSim({
    world: () => {
      const world = allowConnectorProvisioning(createDemoWorld());
      // Namespaces of their own for the policy tests, so no test sees another's grants.
      const prodEu = [...world.clusters.values()].find((c) => c.name === 'prod-eu')!;
      for (const name of ['team-c', 'team-d']) prodEu.kube.create('namespaces', { metadata: { name } });
      return world;
    },
  });
  database = await createTestDatabase(ADMIN_URL);
  redis = await createRedisConnection({ url: REDIS_URL, role: 'worker', logger });
  prefix = `ptest-${randomBytes(4).toString('hex')}`;
  producer = createProducer({ connection: redis, prefix });
  deps = {
    database,
    producer,
    limiter: createRedisRateLimiter({ connection: redis, prefix }),
    locks: createLockManager({ connection: redis, prefix }),
    credentialCache: new CredentialCache(),
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    workerId: 'p1',
    lockMs: 5_000,
  };
  clusterId = (
    await createCluster(database, {
      name: 'prod-eu',
      region: 'eu-west-1',
      hostingMode: 'self-hosted',
      roleArn: DEMO.connector.roleArn,
      credentials: {
        static: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
      },
      provisioningEnabled: true,
    })
  ).id;
  consumer = createConsumer({
    connection: redis,
    queue: 'eks-provision',
    prefix,
    concurrency: 2,
    logger,
    shutdownTimeoutMs: 100,
    handlers: {
      'access.grant': (p, ctx) => runProvisioningRequest(deps, p.requestId, ctx),
      'access.revoke': (p, ctx) => runProvisioningRequest(deps, p.requestId, ctx),
    },
  });
});

afterAll(async () => {
  await consumer.close({ timeoutMs: 100 });
  await producer.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
  await sim.close();
});

/** Whether alice, with her own key and token, may list configmaps in a namespace of prod-eu. */
async function aliceCanList(namespace: string): Promise<boolean> {
  const session = new ClusterSession({
    cluster: { name: 'prod-eu', region: 'eu-west-1' },
    credentials: {
      base: {
        kind: 'static',
        accessKeyId: DEMO.alice.accessKeyId,
        secretAccessKey: DEMO.alice.secretAccessKey,
      },
      assume: [],
    },
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
  try {
    const kube = await session.kube();
    await kube.call('kube:list:configmaps', namespace, () =>
      kube.core.listNamespacedConfigMap({ namespace }),
    );
    return true;
  } catch (err) {
    if (isEksAccessError(err) && err.status === 403) return false;
    throw err;
  } finally {
    session.close();
  }
}

/**
 * What the cluster grants: every binding (name, role, subjects) and the aws-auth mappings, read
 * through the connector's own Kubernetes client, and alice's access entry (groups, policies).
 */
async function clusterState(): Promise<unknown> {
  const session = new ClusterSession({
    cluster: { name: 'prod-eu', region: 'eu-west-1' },
    credentials: {
      base: {
        kind: 'static',
        accessKeyId: DEMO.connector.accessKeyId,
        secretAccessKey: DEMO.connector.secretAccessKey,
      },
      assume: [{ roleArn: DEMO.connector.roleArn }],
    },
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
  });
  try {
    const kube = await session.kube();
    const crbs = await kube.call('kube:list:clusterrolebindings', undefined, () =>
      kube.rbac.listClusterRoleBinding(),
    );
    const rbs = await kube.call('kube:list:rolebindings', undefined, () =>
      kube.rbac.listRoleBindingForAllNamespaces(),
    );
    const awsAuth = await kube
      .call('kube:get:configmaps', 'kube-system/aws-auth', () =>
        kube.core.readNamespacedConfigMap({ name: 'aws-auth', namespace: 'kube-system' }),
      )
      .then((cm) => cm.data ?? {})
      .catch((err: unknown) => {
        if (isEksAccessError(err) && err.code === 'NOT_FOUND') return null;
        throw err;
      });
    const entry = sim.findCluster('prod-eu')!.accessEntries.get(DEMO.alice.userArn);
    return {
      bindings: [...crbs.items, ...rbs.items].map((b) => ({
        ns: b.metadata?.namespace,
        name: b.metadata?.name,
        role: b.roleRef.name,
        subjects: b.subjects,
      })),
      awsAuth,
      aliceEntry: entry
        ? { groups: [...entry.kubernetesGroups], policies: [...entry.associations.keys()] }
        : null,
    };
  } finally {
    session.close();
  }
}

async function submit(input: {
  action: 'grant' | 'revoke';
  entitlementId?: string;
  arn?: string;
  type?: 'iam_user' | 'role';
  expiresAt?: Date;
  durationMs?: number;
  dryRun?: boolean;
}) {
  const { request } = await createProvisioningRequest(database, {
    clusterId,
    action: input.action,
    entitlementId: input.entitlementId ?? VIEW_TEAM_A,
    principalType: input.type ?? 'iam_user',
    principalArn: input.arn ?? DEMO.alice.userArn,
    requestedBy: 'test',
    ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
    ...(input.durationMs ? { durationMs: input.durationMs } : {}),
    ...(input.dryRun ? { dryRun: true } : {}),
  });
  await producer.enqueue(input.action === 'grant' ? 'access.grant' : 'access.revoke', {
    requestId: request.id,
  });
  return request.id;
}

async function finished(id: string, timeoutMs = 30_000): Promise<ProvisioningRequest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await getProvisioningRequest(database, id);
    if (r.status !== 'pending' && r.status !== 'running') return r;
    if (Date.now() > deadline) throw new Error(`request ${id} still ${r.status}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('the provisioner', () => {
  it('grants and revokes a cluster role; alice notices, and the audit trail has the before and after', async () => {
    expect(await aliceCanList('team-a')).toBe(false);
    const granted = await finished(await submit({ action: 'grant' }));
    expect(granted).toMatchObject({ status: 'succeeded', result: 'granted' });
    expect(granted.plan?.some((s) => (s as { state: string }).state === 'applied')).toBe(true);
    expect(await aliceCanList('team-a')).toBe(true);
    expect(await aliceCanList('kube-system')).toBe(false);
    const audit = await listAudit(database, { target: granted.id });
    expect(audit.items.map((e) => e.action)).toContain('access.grant');
    // The change queues a sync, so reads catch up with it.
    const sync = new Queue('eks-sync', { connection: redis, prefix });
    expect(
      (await sync.getJobs(['waiting'])).some((j) => (j.data as { trigger: string }).trigger === 'provision'),
    ).toBe(true);
    await sync.close();

    expect((await finished(await submit({ action: 'grant' }))).result).toBe('already-granted');
    expect((await finished(await submit({ action: 'revoke' }))).result).toBe('revoked');
    expect(await aliceCanList('team-a')).toBe(false);
    expect((await finished(await submit({ action: 'revoke' }))).result).toBe('already-revoked');
  });

  it('revokes a time-bound grant when it expires', async () => {
    const id = await submit({
      action: 'grant',
      entitlementId: 'cluster_role:view:default:member',
      expiresAt: new Date(Date.now() + 1500),
    });
    expect((await finished(id)).result).toBe('granted');
    expect(await aliceCanList('default')).toBe(true);
    const revoke = await (async () => {
      for (;;) {
        const page = await listProvisioningRequests(database, { principalArn: DEMO.alice.userArn });
        const r = page.items.find((x) => x.parentRequestId === id);
        if (r) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    expect((await finished(revoke.id, 20_000)).result).toBe('revoked');
    expect(await aliceCanList('default')).toBe(false);
  });

  it('the reconciler revokes an expired grant whose scheduled revoke job was lost', async () => {
    const id = await submit({
      action: 'grant',
      entitlementId: 'cluster_role:view:kube-system:member',
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect((await finished(id)).result).toBe('granted');
    // Lose the delayed revoke job (once it exists: it is queued just after the grant is recorded),
    // then let the grant expire.
    const queue = new Queue('eks-provision', { connection: redis, prefix });
    const revokeRequest = await (async () => {
      for (;;) {
        const r = (await listProvisioningRequests(database, { principalArn: DEMO.alice.userArn })).items.find(
          (x) => x.parentRequestId === id,
        );
        if (r && (await queue.getJob(`revoke-${r.id}`))) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    await (await queue.getJob(`revoke-${revokeRequest.id}`))!.remove();
    await queue.close();
    await database.pool.query(
      `UPDATE provisioning_requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [id],
    );
    expect(await aliceCanList('kube-system')).toBe(true);
    expect(
      await reconcileExpiries({ database, producer, locks: deps.locks, workerId: 'p1' }),
    ).toBeGreaterThan(0);
    const revoke = (
      await listProvisioningRequests(database, { principalArn: DEMO.alice.userArn })
    ).items.find((r) => r.parentRequestId === id)!;
    expect((await finished(revoke.id)).result).toBe('revoked');
    expect(await aliceCanList('kube-system')).toBe(false);
  });

  it('refuses a principal that does not exist, without failing the job', async () => {
    const r = await finished(await submit({ action: 'grant', arn: 'arn:aws:iam::111111111111:user/nobody' }));
    expect(r).toMatchObject({ status: 'refused', error: { code: 'PRINCIPAL_NOT_FOUND' } });
  });

  it('a dry run returns the plan and changes nothing', async () => {
    const r = await finished(
      await submit({ action: 'grant', entitlementId: 'cluster_role:view:team-a:member', dryRun: true }),
    );
    expect(r).toMatchObject({ status: 'succeeded', result: 'planned' });
    expect((r.plan ?? []).length).toBeGreaterThan(0);
    expect(
      r.plan?.every(
        (s) => (s as { state: string }).state === 'planned' || (s as { state: string }).state === 'unchanged',
      ),
    ).toBe(true);
    expect(await aliceCanList('team-a')).toBe(false);
  });
});

/** The expiry revoke of a time-bound grant and its delayed job, once the provisioner has queued them. */
async function scheduledRevokeOf(grantId: string): Promise<{ revoke: ProvisioningRequest; job: Job }> {
  const queue = new Queue('eks-provision', { connection: redis, prefix });
  try {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const revoke = (
        await listProvisioningRequests(database, { principalArn: DEMO.alice.userArn })
      ).items.find((x) => x.parentRequestId === grantId);
      const job = revoke && (await queue.getJob(`revoke-${revoke.id}`));
      if (revoke && job) return { revoke, job };
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`no scheduled revoke for ${grantId}`);
  } finally {
    await queue.close();
  }
}

// Requests inserted straight into Postgres and queued, as nothing but the provisioner would stop
// them: the API's early check is not on this path.
describe('the provisioning policy, enforced by the provisioner', () => {
  it('refuses a queued cluster-admin grant the API would have refused, with the reason, and changes nothing', async () => {
    const before = await clusterState();
    for (const entitlementId of [CLUSTER_ADMIN, ADMIN_POLICY]) {
      const r = await finished(await submit({ action: 'grant', entitlementId }));
      expect(r).toMatchObject({
        status: 'refused',
        result: null,
        plan: null,
        error: { code: 'POLICY_DENIED' },
      });
      expect(r.error?.message).toMatch(/denied by default.*provisioningPolicy\.allow/);
      const audit = await listAudit(database, { target: r.id });
      expect(audit.items.find((e) => e.action === 'access.grant')?.details).toMatchObject({
        status: 'refused',
        error: { code: 'POLICY_DENIED' },
      });
    }
    expect(await clusterState()).toEqual(before);
    expect(await aliceCanList('kube-system')).toBe(false);
  });

  it('grants cluster-admin once the cluster allows it, and never blocks its revoke, even after a deny', async () => {
    await updateCluster(database, clusterId, {
      provisioningPolicy: { allow: [{ entitlement: CLUSTER_ADMIN, principal: DEMO.alice.userArn }] },
    });
    try {
      expect(await finished(await submit({ action: 'grant', entitlementId: CLUSTER_ADMIN }))).toMatchObject({
        status: 'succeeded',
        result: 'granted',
      });
      expect(await aliceCanList('kube-system')).toBe(true);
      // The allow is for alice only.
      const forBob = await finished(
        await submit({ action: 'grant', entitlementId: CLUSTER_ADMIN, arn: DEMO.bob.userArn }),
      );
      expect(forBob).toMatchObject({ status: 'refused', error: { code: 'POLICY_DENIED' } });

      await updateCluster(database, clusterId, { provisioningPolicy: { deny: ['cluster_role:*'] } });
      expect(await finished(await submit({ action: 'grant', entitlementId: CLUSTER_ADMIN }))).toMatchObject({
        status: 'refused',
        error: { code: 'POLICY_DENIED' },
      });
      expect(await finished(await submit({ action: 'revoke', entitlementId: CLUSTER_ADMIN }))).toMatchObject({
        status: 'succeeded',
        result: 'revoked',
      });
      expect(await aliceCanList('kube-system')).toBe(false);
    } finally {
      await updateCluster(database, clusterId, { provisioningPolicy: {} });
    }
  });

  it(
    'refuses every request while provisioning is off, except the revoke that ends a time-bound grant',
    { timeout: 120_000 },
    async () => {
      const grant = await finished(
        await submit({
          action: 'grant',
          entitlementId: 'cluster_role:view:team-c:member',
          expiresAt: new Date(Date.now() + 3_600_000),
        }),
      );
      expect(grant).toMatchObject({ status: 'succeeded', result: 'granted' });
      expect(await aliceCanList('team-c')).toBe(true);
      const scheduled = await scheduledRevokeOf(grant.id);
      await updateCluster(database, clusterId, {
        provisioningEnabled: false,
        provisioningPolicy: { deny: ['*'] },
      });
      try {
        const off = await finished(await submit({ action: 'grant', entitlementId: VIEW_TEAM_A }));
        expect(off).toMatchObject({ status: 'refused', error: { code: 'PROVISIONING_DISABLED' } });
        expect(
          await finished(
            await submit({ action: 'revoke', entitlementId: 'cluster_role:view:team-c:member' }),
          ),
        ).toMatchObject({ status: 'refused', error: { code: 'PROVISIONING_DISABLED' } });
        expect(await aliceCanList('team-c')).toBe(true);
        // The expiry instant comes: the scheduled revoke runs, switch off and deny-all notwithstanding.
        await scheduled.job.promote();
        expect(await finished(scheduled.revoke.id)).toMatchObject({ status: 'succeeded', result: 'revoked' });
        expect(await aliceCanList('team-c')).toBe(false);
      } finally {
        await updateCluster(database, clusterId, { provisioningEnabled: true, provisioningPolicy: {} });
      }
    },
  );

  it(
    'gives a grant by duration its expiry when it is carried out, and schedules the revoke for then',
    { timeout: 120_000 },
    async () => {
      const durationMs = 600_000;
      const requested = Date.now();
      const r = await finished(
        await submit({ action: 'grant', entitlementId: 'cluster_role:view:team-d:member', durationMs }),
      );
      expect(r).toMatchObject({ status: 'succeeded', result: 'granted', durationMs });
      expect(r.expiresAt!.getTime()).toBeGreaterThanOrEqual(requested + durationMs);
      expect(r.expiresAt!.getTime()).toBeLessThanOrEqual(r.finishedAt!.getTime() + durationMs);
      expect(await aliceCanList('team-d')).toBe(true);
      const { job, revoke } = await scheduledRevokeOf(r.id);
      expect(job.timestamp + (job.opts.delay ?? 0)).toBeGreaterThanOrEqual(r.expiresAt!.getTime() - 1_000);
      expect(await job.getState()).toBe('delayed');
      // End it now rather than in ten minutes: the reconciler finds it once its expiry has passed.
      await job.remove();
      await database.pool.query(
        `UPDATE provisioning_requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [r.id],
      );
      await reconcileExpiries({ database, producer, locks: deps.locks, workerId: 'p1' });
      expect((await finished(revoke.id)).result).toBe('revoked');
      expect(await aliceCanList('team-d')).toBe(false);
    },
  );
});
