// Provisioning through the API, each part its own process: the API, a sync worker and TWO
// provisioner processes (so the per-principal lock is really distributed), against the simulator
// with the demo connector allowed to write. Effects are checked as the principal sees them: alice's
// own key, her own EKS token, the simulated API server's RBAC.
import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  allowConnectorProvisioning,
  createDemoWorld,
  DEMO,
  startSim,
  type RunningSim,
} from '@eks-access/eks-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_URL,
  REDIS_URL,
  apiClient,
  apiReady,
  canListConfigMaps,
  exited,
  freePort,
  randomId,
  startProcess,
  until,
} from './support.js';

const KEY = `e2e-${randomId(16)}`;
const AP = 'arn:aws:eks::aws:cluster-access-policy';
const NAMESPACES = Array.from({ length: 20 }, (_, i) => `tenant-${String(i).padStart(2, '0')}`);

let sim: RunningSim;
let database: TestDatabase;
let baseUrl: string;
const children: ChildProcess[] = [];
const prefix = `e2ep-${randomId()}`;
let prodEu: string;

function start(entry: string, env: Record<string, string>): void {
  children.push(
    startProcess(entry, {
      DATABASE_URL: database.url,
      ENCRYPTION_KEY: database.encryptionKey,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      AWS_ENDPOINT_URL: sim.awsEndpoint,
      ...env,
    }),
  );
}

const call = apiClient(() => baseUrl, KEY);

async function syncNow(clusterId: string): Promise<void> {
  const run = (await call<{ id: string }>('POST', `/v1/clusters/${clusterId}/syncs`)).body;
  await until('the sync', async () => {
    const r = (await call<{ status: string }>('GET', `/v1/syncs/${run.id}`)).body;
    return r.status === 'succeeded' ? r : undefined;
  });
}

interface Request {
  id: string;
  status: string;
  result?: string;
}

async function provision(body: Record<string, unknown>): Promise<Request> {
  const res = await call<Request>('POST', '/v1/provisioning-requests', { clusterId: prodEu, ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return until(`request ${res.body.id}`, async () => {
    const r = (await call<Request>('GET', `/v1/provisioning-requests/${res.body.id}`)).body;
    return r.status === 'pending' || r.status === 'running' ? undefined : r;
  });
}

/** Whether alice, with her own key and EKS token, may list configmaps in a namespace of prod-eu. */
const aliceCanList = (namespace: string) =>
  canListConfigMaps(
    sim,
    'prod-eu',
    { accessKeyId: DEMO.alice.accessKeyId, secretAccessKey: DEMO.alice.secretAccessKey },
    namespace,
  );

beforeAll(async () => {
  sim = await startSim({
    world: () => {
      const world = allowConnectorProvisioning(createDemoWorld());
      const cluster = [...world.clusters.values()].find((c) => c.name === 'prod-eu')!;
      for (const name of NAMESPACES) cluster.kube.create('namespaces', { metadata: { name } });
      return world;
    },
  });
  database = await createTestDatabase(ADMIN_URL);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  start('apps/api/src/main.ts', { HOST: '127.0.0.1', PORT: String(port), BOOTSTRAP_API_KEY: KEY });
  start('apps/sync-worker/src/main.ts', { WORKER_ID: 'sync-1' });
  start('apps/provisioner/src/main.ts', { WORKER_ID: 'prov-1' });
  start('apps/provisioner/src/main.ts', { WORKER_ID: 'prov-2' });
  // Four processes start at once (each compiling its sources with tsx): give a loaded machine time.
  await until('the API to be ready', () => apiReady(baseUrl), 150_000);
  const created = await call<{ id: string }>('POST', '/v1/clusters', {
    name: 'prod-eu',
    region: 'eu-west-1',
    roleArn: DEMO.connector.roleArn,
    accessKey: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    provisioningEnabled: true,
  });
  prodEu = created.body.id;
  await syncNow(prodEu);
}, 300_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await database.drop();
  await sim.close();
});

describe('provisioning through the API', () => {
  it(
    'grants a namespaced cluster role to alice and revokes it; she notices both',
    { timeout: 60_000 },
    async () => {
      expect(await aliceCanList('team-a')).toBe(false);
      const grant = await provision({
        action: 'grant',
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'iam_user', arn: DEMO.alice.userArn },
        reason: 'e2e',
      });
      expect(grant).toMatchObject({ status: 'succeeded', result: 'granted' });
      expect(await aliceCanList('team-a')).toBe(true);
      expect(await aliceCanList('team-b')).toBe(true); // she already had edit there
      expect(await aliceCanList('kube-system')).toBe(false);
      const revoke = await provision({
        action: 'revoke',
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'iam_user', arn: DEMO.alice.userArn },
      });
      expect(revoke.result).toBe('revoked');
      expect(await aliceCanList('team-a')).toBe(false);
    },
  );

  it(
    '20 concurrent grants of different namespaces of one access policy all end in its scope',
    { timeout: 120_000 },
    async () => {
      const policy = `${AP}/AmazonEKSViewPolicy`;
      const results = await Promise.all(
        NAMESPACES.map((ns) =>
          provision({
            action: 'grant',
            entitlementId: `access_policy:${policy}:assigned:${ns}`,
            principal: { type: 'iam_user', arn: DEMO.alice.userArn },
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(NAMESPACES.map(() => 'succeeded'));
      const entry = sim.findCluster('prod-eu')!.accessEntries.get(DEMO.alice.userArn)!;
      const scope = entry.associations.get(policy)!.accessScope;
      expect(scope.type).toBe('namespace');
      expect([...scope.namespaces].filter((n) => n.startsWith('tenant-')).sort()).toEqual(NAMESPACES);
      for (const ns of [NAMESPACES[0]!, NAMESPACES[19]!]) expect(await aliceCanList(ns)).toBe(true);
    },
  );
});
