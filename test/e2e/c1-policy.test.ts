// ConductorOne grant tasks under the cluster's provisioning policy, each part its own process: the
// API, a sync worker, a provisioner and the uploader, against the local stand-in C1 (real gRPC) and
// the simulator with the demo connector allowed to write. What a task may do is decided by the
// provisioner, whatever the task's origin: a C1 task for cluster-admin is refused as the API would
// refuse it, and changes nothing in the cluster; a task's duration makes a time-bound grant that is
// revoked on time. Effects are read back through real clients: alice's own EKS token for what she
// can do, the connector's Kubernetes client for the bindings and aws-auth.
import type { ChildProcess } from 'node:child_process';
import type { StandInC1 } from '@eks-access/c1/standin';
import { startStandInC1 } from '@eks-access/c1/standin';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { ClusterSession, isEksAccessError } from '@eks-access/eks-core';
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
  exited,
  freePort,
  randomId,
  startProcess,
  until,
} from './support.js';

const KEY = `e2e-${randomId(16)}`;
const CLUSTER_ADMIN = 'cluster_role:cluster-admin:all:member';
const VIEW_TEAM_A = 'cluster_role:view:team-a:member';

let sim: RunningSim;
let standIn: StandInC1;
let database: TestDatabase;
let baseUrl: string;
const children: ChildProcess[] = [];
const prefix = `e2ec1-${randomId()}`;
let prodEu: string;

const call = apiClient(() => baseUrl, KEY);

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

function session(
  credentials: { accessKeyId: string; secretAccessKey: string },
  assume: { roleArn: string }[] = [],
): ClusterSession {
  return new ClusterSession({
    cluster: { name: 'prod-eu', region: 'eu-west-1' },
    credentials: { base: { kind: 'static', ...credentials }, assume },
    endpoints: { sts: sim.awsEndpoint, iam: sim.awsEndpoint, eks: sim.awsEndpoint },
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 50 },
  });
}

/** Whether alice, with her own key and EKS token, may list configmaps in a namespace of prod-eu. */
async function aliceCanList(namespace: string): Promise<boolean> {
  const s = session({ accessKeyId: DEMO.alice.accessKeyId, secretAccessKey: DEMO.alice.secretAccessKey });
  try {
    const kube = await s.kube();
    await kube.call('kube:list:configmaps', namespace, () =>
      kube.core.listNamespacedConfigMap({ namespace }),
    );
    return true;
  } catch (err) {
    if (isEksAccessError(err) && err.status === 403) return false;
    throw err;
  } finally {
    s.close();
  }
}

/** Every binding and the aws-auth mappings of prod-eu, read with the connector's Kubernetes client. */
async function kubeGrants(): Promise<unknown> {
  const s = session(
    { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    [{ roleArn: DEMO.connector.roleArn }],
  );
  try {
    const kube = await s.kube();
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
    return {
      bindings: [...crbs.items, ...rbs.items].map((b) => ({
        ns: b.metadata?.namespace,
        name: b.metadata?.name,
        role: b.roleRef.name,
        subjects: b.subjects,
      })),
      awsAuth,
    };
  } finally {
    s.close();
  }
}

const alice = { id: { resourceType: 'iam_user', resource: DEMO.alice.userArn } };
const clusterRole = (id: string, role: string, slug: string) => ({
  id,
  resource: { id: { resourceType: 'cluster_role', resource: role } },
  slug,
});

interface Request {
  id: string;
  action: string;
  status: string;
  result: string | null;
  idempotencyKey: string | null;
  parentRequestId: string | null;
  expiresAt: string | null;
  durationMs: number | null;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
}

async function requests(): Promise<Request[]> {
  return (await call<{ items: Request[] }>('GET', `/v1/provisioning-requests?clusterId=${prodEu}`)).body
    .items;
}

beforeAll(async () => {
  sim = await startSim({ world: () => allowConnectorProvisioning(createDemoWorld()) });
  standIn = await startStandInC1({ nextPollMs: 100, nextHeartbeatMs: 1_000 });
  database = await createTestDatabase(ADMIN_URL);
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  start('apps/api/src/main.ts', { HOST: '127.0.0.1', PORT: String(port), BOOTSTRAP_API_KEY: KEY });
  start('apps/sync-worker/src/main.ts', { WORKER_ID: 'sync-1' });
  start('apps/provisioner/src/main.ts', { WORKER_ID: 'prov-1', RECONCILE_EVERY_MS: '5000' });
  start('apps/uploader/src/main.ts', {
    WORKER_ID: 'uploader-1',
    C1_API_HOST: standIn.grpcTarget,
    C1_TOKEN_URL: standIn.tokenUrl,
    C1_TLS: 'false',
    CLUSTER_SCAN_MS: '500',
    TASK_POLL_MS: '200',
  });
  // Four processes start at once (each compiling its sources with tsx): give a loaded machine time.
  await until('the API to be ready', () => apiReady(baseUrl), 150_000);
  const c1 = standIn.registerClient();
  const created = await call<{ id: string }>('POST', '/v1/clusters', {
    name: 'prod-eu',
    region: 'eu-west-1',
    roleArn: DEMO.connector.roleArn,
    accessKey: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    c1ClientId: c1.clientId,
    c1ClientSecret: c1.clientSecret,
    provisioningEnabled: true,
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  prodEu = created.body.id;
  await until(
    'the uploader to greet C1 for prod-eu',
    async () => (standIn.hellos().length > 0 ? true : undefined),
    120_000,
  );
}, 300_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  await standIn?.close();
  await database?.drop();
  await sim?.close();
});

describe('C1 grant tasks under the provisioning policy', () => {
  it(
    'refuses cluster-admin under the default policy: the task fails non-retryable with the reason, and the cluster is unchanged',
    { timeout: 120_000 },
    async () => {
      const before = await kubeGrants();
      expect(await aliceCanList('kube-system')).toBe(false);
      const taskId = standIn.enqueueTask({
        grant: { entitlement: clusterRole(CLUSTER_ADMIN, 'cluster-admin', 'all:member'), principal: alice },
      });
      const finish = await standIn.waitForFinish(taskId, 90_000);
      expect(finish).toMatchObject({ finalState: 'error', error: { nonRetryable: true } });
      expect(finish.status?.message).toMatch(/refused.*POLICY_DENIED.*cluster-admin.*denied by default/);
      // The refusal is on record, decided by the provisioner, and nothing was attempted.
      const request = (await requests()).find((r) => r.idempotencyKey === `c1-task:${taskId}`);
      expect(request).toMatchObject({
        action: 'grant',
        status: 'refused',
        result: null,
        error: { code: 'POLICY_DENIED' },
      });
      expect(await kubeGrants()).toEqual(before);
      expect(await aliceCanList('kube-system')).toBe(false);
    },
  );

  it(
    'grants cluster-admin once the cluster allows it explicitly, and revokes it through C1',
    { timeout: 120_000 },
    async () => {
      const patched = await call('PATCH', `/v1/clusters/${prodEu}`, {
        provisioningPolicy: { allow: [{ entitlement: CLUSTER_ADMIN, principal: DEMO.alice.userArn }] },
      });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      const entitlement = clusterRole(CLUSTER_ADMIN, 'cluster-admin', 'all:member');
      const granted = await standIn.waitForFinish(
        standIn.enqueueTask({ grant: { entitlement, principal: alice } }),
        90_000,
      );
      expect(granted.finalState, JSON.stringify(granted.status)).toBe('success');
      expect(await aliceCanList('kube-system')).toBe(true);

      const revoked = await standIn.waitForFinish(
        standIn.enqueueTask({ revoke: { grant: { entitlement, principal: alice } } }),
        90_000,
      );
      expect(revoked.finalState, JSON.stringify(revoked.status)).toBe('success');
      expect(await aliceCanList('kube-system')).toBe(false);
    },
  );

  it(
    'makes a grant with a duration time-bound, and revokes it when the duration is over',
    { timeout: 240_000 },
    async () => {
      // Long enough that alice's access can be checked before it ends even on a loaded machine.
      const durationMs = 45_000;
      expect(await aliceCanList('team-a')).toBe(false);
      const taskId = standIn.enqueueTask({
        grant: {
          entitlement: clusterRole(VIEW_TEAM_A, 'view', 'team-a:member'),
          principal: alice,
          duration: { seconds: durationMs / 1000 },
        },
      });
      const finish = await standIn.waitForFinish(taskId, 90_000);
      expect(finish.finalState, JSON.stringify(finish.status)).toBe('success');
      const grant = (await requests()).find((r) => r.idempotencyKey === `c1-task:${taskId}`)!;
      expect(grant).toMatchObject({ status: 'succeeded', result: 'granted', durationMs });
      const expiresAt = Date.parse(grant.expiresAt!);
      expect(expiresAt).toBeGreaterThanOrEqual(Date.parse(grant.finishedAt!) + durationMs - 1_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.parse(grant.finishedAt!) + durationMs);
      expect(await aliceCanList('team-a')).toBe(true);

      const revoke = await until(
        'the expiry revoke',
        async () => {
          const r = (await requests()).find((x) => x.parentRequestId === grant.id);
          return r && r.status !== 'pending' && r.status !== 'running' ? r : undefined;
        },
        180_000,
      );
      expect(revoke).toMatchObject({ action: 'revoke', status: 'succeeded', result: 'revoked' });
      // On time: not before the expiry.
      expect(Date.parse(revoke.finishedAt!)).toBeGreaterThanOrEqual(expiresAt);
      expect(await aliceCanList('team-a')).toBe(false);
    },
  );
});
