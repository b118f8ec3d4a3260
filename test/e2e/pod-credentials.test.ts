// The service as it runs on EKS with no static keys anywhere: clusters registered without keys,
// and the sync worker and provisioner started from their entry points with only the environment
// EKS gives a pod, first IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), then EKS Pod Identity
// (AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). The SDK's default
// chain turns the pod's token into the pod role (EksAccessConnectorPod), and eks-core assumes each
// cluster's connector role from it, with the ExternalId where the role requires one. A pod whose
// service account the role does not trust gets a one-line reason on its sync run.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  allowConnectorPods,
  allowConnectorProvisioning,
  createDemoWorld,
  createSimAdminClient,
  DEMO,
  DEMO_PODS,
  IRSA_AUDIENCE,
  POD_IDENTITY_AUDIENCE,
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
const prefix = `e2epod-${randomId()}`;
const dir = mkdtempSync(join(tmpdir(), 'eks-access-pod-'));

let sim: RunningSim;
let database: TestDatabase;
let baseUrl: string;
let api: ChildProcess;
const workers: ChildProcess[] = [];
const clusters: Record<string, string> = {};
const call = apiClient(() => baseUrl, KEY);

interface Run {
  id: string;
  status: string;
  clusterId: string;
  error?: { code: string; message: string } | null;
}

interface Request {
  id: string;
  status: string;
  result?: string;
  error?: { code: string; message: string } | null;
}

/** Writes a service-account token of prod-eu's issuer to a file, as the kubelet projects it. */
async function tokenFile(
  name: string,
  serviceAccount: string,
  namespace: string,
  audience: string,
): Promise<string> {
  const minted = await createSimAdminClient(sim.awsEndpoint).serviceAccountToken(DEMO_PODS.hostCluster, {
    namespace,
    serviceAccount,
    audience,
  });
  const file = join(dir, name);
  writeFileSync(file, minted.token);
  return file;
}

/** Starts a worker process with the pod environment only: no AWS key variable of any kind. */
function startWorker(entry: string, id: string, pod: Record<string, string>): ChildProcess {
  const env = {
    DATABASE_URL: database.url,
    ENCRYPTION_KEY: database.encryptionKey,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    AWS_ENDPOINT_URL: sim.awsEndpoint,
    WORKER_ID: id,
    ...pod,
  };
  expect(Object.keys(env).filter((k) => /^AWS_(ACCESS_KEY|SECRET|SESSION|PROFILE)/.test(k))).toEqual([]);
  const child = startProcess(entry, env);
  workers.push(child);
  return child;
}

async function stopWorkers(): Promise<void> {
  const running = workers.splice(0);
  for (const child of running) child.kill('SIGTERM');
  await Promise.all(running.map(exited));
}

const finishedRun = (id: string) =>
  until(
    `sync run ${id}`,
    async () => {
      const { body } = await call<Run>('GET', `/v1/syncs/${id}`);
      return body.status === 'queued' || body.status === 'running' ? undefined : body;
    },
    90_000,
  );

async function syncAll(): Promise<Run[]> {
  const bulk = await call<{ items: Run[] }>('POST', '/v1/syncs');
  expect(bulk.status).toBe(202);
  return Promise.all(bulk.body.items.map((r) => finishedRun(r.id)));
}

async function provision(body: Record<string, unknown>): Promise<Request> {
  const res = await call<Request>('POST', '/v1/provisioning-requests', {
    clusterId: clusters['prod-eu'],
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return until(
    `request ${res.body.id}`,
    async () => {
      const r = (await call<Request>('GET', `/v1/provisioning-requests/${res.body.id}`)).body;
      return r.status === 'pending' || r.status === 'running' ? undefined : r;
    },
    90_000,
  );
}

const alice = { accessKeyId: DEMO.alice.accessKeyId, secretAccessKey: DEMO.alice.secretAccessKey };

/** One sync of every cluster and one grant, by workers with the given pod environment. */
async function syncAndGrant(pod: Record<string, string>, namespace: string): Promise<void> {
  startWorker('apps/sync-worker/src/main.ts', `sync-${namespace}`, pod);
  startWorker('apps/provisioner/src/main.ts', `prov-${namespace}`, pod);
  const runs = await syncAll();
  expect(runs.map((r) => [r.status, r.error?.message])).toEqual(runs.map(() => ['succeeded', undefined]));
  expect(await canListConfigMaps(sim, 'prod-eu', alice, namespace)).toBe(false);
  const grant = await provision({
    action: 'grant',
    entitlementId: `cluster_role:view:${namespace}:member`,
    principal: { type: 'iam_user', arn: DEMO.alice.userArn },
  });
  expect([grant.status, grant.result, grant.error?.message]).toEqual(['succeeded', 'granted', undefined]);
  expect(await canListConfigMaps(sim, 'prod-eu', alice, namespace)).toBe(true);
  await stopWorkers();
}

beforeAll(async () => {
  sim = await startSim({
    world: () => {
      const world = allowConnectorProvisioning(allowConnectorPods(createDemoWorld()));
      const host = world.getCluster(DEMO.accounts.main, DEMO_PODS.hostRegion, DEMO_PODS.hostCluster)!;
      host.kube.create('serviceaccounts', { metadata: { name: 'x', namespace: 'default' } });
      for (const name of ['irsa-grant', 'pod-identity-grant'])
        host.kube.create('namespaces', { metadata: { name } });
      return world;
    },
  });
  database = await createTestDatabase(ADMIN_URL);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  api = startProcess('apps/api/src/main.ts', {
    DATABASE_URL: database.url,
    ENCRYPTION_KEY: database.encryptionKey,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    HOST: '127.0.0.1',
    PORT: String(port),
    BOOTSTRAP_API_KEY: KEY,
  });
  await until('the API to be ready', () => apiReady(baseUrl));
  // No accessKey or globalKey: the workers' own identity is the start of every chain.
  for (const [name, region, roleArn, externalId, provisioningEnabled] of [
    ['prod-eu', 'eu-west-1', DEMO.connector.roleArn, undefined, true],
    ['legacy-us', 'us-east-1', DEMO.connector.legacyRoleArn, DEMO.connector.externalId, false],
  ] as const) {
    const res = await call<{ id: string; hostingMode: string; hasCredentials: boolean }>(
      'POST',
      '/v1/clusters',
      {
        name,
        region,
        roleArn,
        provisioningEnabled,
        ...(externalId ? { externalId } : {}),
      },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ hostingMode: 'default-chain', hasCredentials: false });
    clusters[name] = res.body.id;
  }
}, 120_000);

afterAll(async () => {
  for (const child of [api, ...workers]) child.kill('SIGKILL');
  await Promise.all([api, ...workers].map(exited));
  await database.drop();
  await sim.close();
});

describe('pod credentials, no static keys anywhere', () => {
  it(
    'IRSA: a sync of every cluster (one behind an ExternalId) and a grant complete',
    { timeout: 240_000 },
    async () => {
      const token = await tokenFile('irsa', DEMO_PODS.serviceAccount, DEMO_PODS.namespace, IRSA_AUDIENCE);
      await syncAndGrant(
        { AWS_ROLE_ARN: DEMO_PODS.roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: token },
        'irsa-grant',
      );
      expect(sim.faults.snapshot().operations['sts:AssumeRoleWithWebIdentity']).toBeGreaterThan(0);
    },
  );

  it('EKS Pod Identity: a sync of every cluster and a grant complete', { timeout: 240_000 }, async () => {
    const token = await tokenFile(
      'pod',
      DEMO_PODS.serviceAccount,
      DEMO_PODS.namespace,
      POD_IDENTITY_AUDIENCE,
    );
    await syncAndGrant(
      {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: sim.ready().podIdentityAgent,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: token,
      },
      'pod-identity-grant',
    );
    expect(sim.faults.snapshot().operations['eks-auth:AssumeRoleForPodIdentity']).toBeGreaterThan(0);
  });

  it(
    'a service account the pod role does not trust: the sync fails with the failed condition in one line',
    { timeout: 120_000 },
    async () => {
      const token = await tokenFile('wrong-sub', 'x', 'default', IRSA_AUDIENCE);
      startWorker('apps/sync-worker/src/main.ts', 'sync-wrong-sub', {
        AWS_ROLE_ARN: DEMO_PODS.roleArn,
        AWS_WEB_IDENTITY_TOKEN_FILE: token,
      });
      const queued = await call<Run>('POST', `/v1/clusters/${clusters['prod-eu']!}/syncs`);
      const run = await finishedRun(queued.body.id);
      const issuer = sim.findCluster('prod-eu')!.oidcIssuer.replace('https://', '');
      expect(run.status).toBe('failed');
      expect(run.error).toEqual({
        code: 'ASSUME_ROLE_DENIED',
        message:
          `role ${DEMO_PODS.roleArn} cannot be assumed with web identity: condition StringEquals ${issuer}:sub = ` +
          `${DEMO_PODS.subject} did not match system:serviceaccount:default:x`,
      });
      await stopWorkers();
    },
  );
});
