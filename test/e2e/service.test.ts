// The service as it runs in production, each part its own process: the API and two sync workers
// (started from their real entry points with environment configuration), a real Postgres and
// Redis, and the EKS simulator. A client registers the demo clusters over HTTP, syncs them all,
// and reads who has access; a worker killed with SIGKILL mid-sync loses nothing.
import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { createDemoWorld, DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_URL,
  REDIS_URL,
  apiClient,
  apiReady,
  exited,
  freePort,
  randomId,
  startProcess,
  until,
} from './support.js';

const KEY = `e2e-${randomId(16)}`;

let sim: RunningSim;
let database: TestDatabase;
let api: ChildProcess;
let baseUrl: string;
const workers = new Map<string, ChildProcess>();
const prefix = `e2e-${randomId()}`;

function start(entry: string, env: Record<string, string>): ChildProcess {
  return startProcess(entry, {
    DATABASE_URL: database.url,
    ENCRYPTION_KEY: database.encryptionKey,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ...env,
  });
}

function startWorker(id: string): ChildProcess {
  const child = start('apps/sync-worker/src/main.ts', {
    WORKER_ID: id,
    AWS_ENDPOINT_URL: sim.awsEndpoint,
    SYNC_CONCURRENCY: '2',
    SHUTDOWN_TIMEOUT_MS: '2000',
    JOB_LOCK_MS: '2000',
    STALLED_CHECK_MS: '1000',
  });
  workers.set(id, child);
  return child;
}

const call = apiClient(() => baseUrl, KEY);

interface Run {
  id: string;
  status: string;
  attempt: number;
  worker: string | null;
  clusterId: string;
}

const finished = (id: string) =>
  until(`run ${id} to finish`, async () => {
    const { body } = await call<Run>('GET', `/v1/syncs/${id}`);
    return body.status === 'queued' || body.status === 'running' ? undefined : body;
  });

beforeAll(async () => {
  sim = await startSim({ world: createDemoWorld });
  database = await createTestDatabase(ADMIN_URL);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  api = start('apps/api/src/main.ts', { HOST: '127.0.0.1', PORT: String(port), BOOTSTRAP_API_KEY: KEY });
  startWorker('worker-a');
  startWorker('worker-b');
  // Three processes start at once (each compiling its sources with tsx): give a loaded machine time.
  await until('the API to be ready', () => apiReady(baseUrl), 150_000);
}, 300_000);

afterAll(async () => {
  for (const child of [api, ...workers.values()]) child.kill('SIGKILL');
  await Promise.all([api, ...workers.values()].map(exited));
  await database.drop();
  await sim.close();
});

const clusters: Record<string, string> = {};
const connectorKey = {
  accessKeyId: DEMO.connector.accessKeyId,
  secretAccessKey: DEMO.connector.secretAccessKey,
};

describe('the service, one process per part', () => {
  it('registers the demo clusters, syncs them all, and answers who has access where', async () => {
    for (const [name, region, roleArn, externalId] of [
      ['prod-eu', 'eu-west-1', DEMO.connector.roleArn, undefined],
      ['staging-us', 'us-east-1', DEMO.connector.roleArn, undefined],
      ['legacy-us', 'us-east-1', DEMO.connector.legacyRoleArn, DEMO.connector.externalId],
    ] as const) {
      const res = await call<{ id: string }>('POST', '/v1/clusters', {
        name,
        region,
        roleArn,
        accessKey: connectorKey,
        ...(externalId ? { externalId } : {}),
      });
      expect(res.status).toBe(201);
      clusters[name] = res.body.id;
    }
    const bulk = await call<{ items: Run[] }>('POST', '/v1/syncs');
    expect(bulk.status).toBe(202);
    expect(bulk.body.items).toHaveLength(3);
    const runs = await Promise.all(bulk.body.items.map((r) => finished(r.id)));
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);

    const masters = await call<{ items: { principal: { id: string } }[] }>(
      'GET',
      `/v1/clusters/${clusters['legacy-us']!}/grants?entitlementId=${encodeURIComponent('k8s_group:system:masters:member')}`,
    );
    expect(masters.body.items.map((g) => g.principal.id).sort()).toEqual([
      'arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_9e0d1c2b3a4f5e6d',
      'arn:aws:iam::222222222222:user/legacy-admin',
    ]);

    const alice = await call<{ items: { cluster: { name: string }; grant: { entitlementId: string } }[] }>(
      'GET',
      `/v1/principals/${encodeURIComponent(DEMO.alice.userArn)}/access`,
    );
    const reached = alice.body.items.map((i) => `${i.cluster.name} ${i.grant.entitlementId}`);
    expect(reached).toEqual(
      expect.arrayContaining([
        'staging-us k8s_group:system:masters:member',
        'prod-eu cluster_role:edit:team-b:member',
        'prod-eu access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy:assigned:monitoring',
      ]),
    );
    expect(reached.some((r) => r.startsWith('legacy-us'))).toBe(false);
  });

  it(
    'a worker killed with SIGKILL mid-sync: the other worker finishes the run, and the old snapshot stays current until then',
    { timeout: 90_000 },
    async () => {
      const clusterId = clusters['prod-eu']!;
      const before = (await call<{ currentSyncRunId: string }>('GET', `/v1/clusters/${clusterId}`)).body
        .currentSyncRunId;
      sim.faults.setRules([{ target: 'eks:DescribeAccessEntry', latencyMs: 1500 }]);
      const queued = await call<Run>('POST', `/v1/clusters/${clusterId}/syncs`);
      expect(queued.status).toBe(202);
      const running = await until('the sync to start', async () => {
        const { body } = await call<Run>('GET', `/v1/syncs/${queued.body.id}`);
        return body.status === 'running' && body.worker ? body : undefined;
      });
      const victim = workers.get(running.worker!)!;
      victim.kill('SIGKILL');
      await exited(victim);
      workers.delete(running.worker!);
      expect(
        (await call<{ currentSyncRunId: string }>('GET', `/v1/clusters/${clusterId}`)).body.currentSyncRunId,
      ).toBe(before);

      sim.faults.setRules([]);
      const done = await finished(queued.body.id);
      expect(done.status).toBe('succeeded');
      expect(done.attempt).toBe(2);
      expect(done.worker).not.toBe(running.worker);
      expect(
        (await call<{ currentSyncRunId: string }>('GET', `/v1/clusters/${clusterId}`)).body.currentSyncRunId,
      ).toBe(queued.body.id);
    },
  );

  it('a worker told to stop with SIGTERM exits cleanly', async () => {
    const [id, child] = [...workers.entries()][0]!;
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    workers.delete(id);
  });
});
