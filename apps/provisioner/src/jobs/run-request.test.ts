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
  type ProvisioningRequest,
} from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { ClusterSession, CredentialCache, isEksAccessError } from '@eks-access/eks-core';
import { allowConnectorProvisioning, createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { createConsumer, createLockManager, createProducer, createRedisConnection, createRedisRateLimiter, type Producer, type RedisConnection } from '@eks-access/queue';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileExpiries } from './reconcile-expiries.js';
import { runProvisioningRequest, type ProvisionJobDeps } from './run-request.js';

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'silent' });
const VIEW_TEAM_A = 'cluster_role:view:team-a:member';

let sim: RunningSim;
let database: TestDatabase;
let redis: RedisConnection;
let producer: Producer;
let prefix: string;
let deps: ProvisionJobDeps;
let clusterId: string;
let consumer: { close(o?: { timeoutMs?: number }): Promise<void> };

beforeAll(async () => {
  sim = await startSim({ world: () => allowConnectorProvisioning(createDemoWorld()) });
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
      credentials: { static: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey } },
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
    credentials: { base: { kind: 'static', accessKeyId: DEMO.alice.accessKeyId, secretAccessKey: DEMO.alice.secretAccessKey }, assume: [] },
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
  });
  try {
    const kube = await session.kube();
    await kube.call('kube:list:configmaps', namespace, () => kube.core.listNamespacedConfigMap({ namespace }));
    return true;
  } catch (err) {
    if (isEksAccessError(err) && err.status === 403) return false;
    throw err;
  } finally {
    session.close();
  }
}

async function submit(input: { action: 'grant' | 'revoke'; entitlementId?: string; arn?: string; type?: 'iam_user' | 'role'; expiresAt?: Date; dryRun?: boolean }) {
  const { request } = await createProvisioningRequest(database, {
    clusterId,
    action: input.action,
    entitlementId: input.entitlementId ?? VIEW_TEAM_A,
    principalType: input.type ?? 'iam_user',
    principalArn: input.arn ?? DEMO.alice.userArn,
    requestedBy: 'test',
    ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}),
    ...(input.dryRun ? { dryRun: true } : {}),
  });
  await producer.enqueue(input.action === 'grant' ? 'access.grant' : 'access.revoke', { requestId: request.id });
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
    expect((await sync.getJobs(['waiting'])).some((j) => (j.data as { trigger: string }).trigger === 'provision')).toBe(true);
    await sync.close();

    expect((await finished(await submit({ action: 'grant' }))).result).toBe('already-granted');
    expect((await finished(await submit({ action: 'revoke' }))).result).toBe('revoked');
    expect(await aliceCanList('team-a')).toBe(false);
    expect((await finished(await submit({ action: 'revoke' }))).result).toBe('already-revoked');
  });

  it('revokes a time-bound grant when it expires', async () => {
    const id = await submit({ action: 'grant', entitlementId: 'cluster_role:view:default:member', expiresAt: new Date(Date.now() + 1500) });
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
    const id = await submit({ action: 'grant', entitlementId: 'cluster_role:view:kube-system:member', expiresAt: new Date(Date.now() + 60_000) });
    expect((await finished(id)).result).toBe('granted');
    // Lose the delayed revoke job (once it exists: it is queued just after the grant is recorded),
    // then let the grant expire.
    const queue = new Queue('eks-provision', { connection: redis, prefix });
    const revokeRequest = await (async () => {
      for (;;) {
        const r = (await listProvisioningRequests(database, { principalArn: DEMO.alice.userArn })).items.find((x) => x.parentRequestId === id);
        if (r && (await queue.getJob(`revoke-${r.id}`))) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    await (await queue.getJob(`revoke-${revokeRequest.id}`))!.remove();
    await queue.close();
    await database.pool.query(`UPDATE provisioning_requests SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    expect(await aliceCanList('kube-system')).toBe(true);
    expect(await reconcileExpiries({ database, producer, locks: deps.locks, workerId: 'p1' })).toBeGreaterThan(0);
    const revoke = (await listProvisioningRequests(database, { principalArn: DEMO.alice.userArn })).items.find((r) => r.parentRequestId === id)!;
    expect((await finished(revoke.id)).result).toBe('revoked');
    expect(await aliceCanList('kube-system')).toBe(false);
  });

  it('refuses a principal that does not exist, without failing the job', async () => {
    const r = await finished(await submit({ action: 'grant', arn: 'arn:aws:iam::111111111111:user/nobody' }));
    expect(r).toMatchObject({ status: 'refused', error: { code: 'PRINCIPAL_NOT_FOUND' } });
  });

  it('a dry run returns the plan and changes nothing', async () => {
    const r = await finished(await submit({ action: 'grant', entitlementId: 'cluster_role:view:team-a:member', dryRun: true }));
    expect(r).toMatchObject({ status: 'succeeded', result: 'planned' });
    expect((r.plan ?? []).length).toBeGreaterThan(0);
    expect(r.plan?.every((s) => (s as { state: string }).state === 'planned' || (s as { state: string }).state === 'unchanged')).toBe(true);
    expect(await aliceCanList('team-a')).toBe(false);
  });
});
