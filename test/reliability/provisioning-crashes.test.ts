// Provisioning while provisioner processes are SIGKILLed at random: the API, a sync worker and three
// provisioners, each its own process from its entry point, against the simulator (the connector
// allowed to write, every Kubernetes and EKS call slowed so kills land mid-request). 20 grants to
// alice (10 namespaced cluster roles, 10 namespace scopes of one access policy, all under her one
// principal lock) are sent in waves while the provisioners are killed and restarted. Every request
// must end, and what the cluster lets alice do, read back as alice with her own EKS token, must be
// exactly what the succeeded requests granted, with no binding or scope written twice.
import { request as httpsRequest } from 'node:https';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  allowConnectorProvisioning,
  createDemoWorld,
  DEMO,
  mintEksToken,
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
  until,
} from '../e2e/support.js';
import { logged, report, sleep, startProduct, unstructuredLines, type ProductProcess } from './support.js';

const KEY = `rel-${randomId(16)}`;
const POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const NAMESPACES = Array.from({ length: 20 }, (_, i) => `crash-${String(i).padStart(2, '0')}`);
const KILLS = 20;
const SLOTS = ['a', 'b', 'c'];

let sim: RunningSim;
let database: TestDatabase;
let baseUrl: string;
const prefix = `relp-${randomId()}`;
const processes: ProductProcess[] = [];
const provisioners = new Map<string, ProductProcess>();
let clusterId: string;
const call = apiClient(() => baseUrl, KEY);

function start(name: string, entry: string, env: Record<string, string>): ProductProcess {
  const p = startProduct(name, entry, {
    DATABASE_URL: database.url,
    ENCRYPTION_KEY: database.encryptionKey,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    AWS_ENDPOINT_URL: sim.awsEndpoint,
    ...env,
  });
  processes.push(p);
  return p;
}

let generation = 0;
function startProvisioner(slot: string): ProductProcess {
  const p = start(`provisioner-${slot}-${++generation}`, 'apps/provisioner/src/main.ts', {
    WORKER_ID: `${slot}-${generation}`,
    PROVISION_CONCURRENCY: '2',
    // Short lock and janitor timings, so a killed provisioner's job moves on within seconds.
    JOB_LOCK_MS: '2000',
    STALLED_CHECK_MS: '1000',
    RECONCILE_EVERY_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '1000',
  });
  provisioners.set(slot, p);
  return p;
}

interface Request {
  id: string;
  status: string;
  result?: string | null;
  attempt: number;
  entitlementId: string;
  error?: { code: string; message: string } | null;
}

/** Whether alice, with her own keys and EKS token, may list configmaps in a namespace of prod-eu. */
async function aliceCanList(namespace: string): Promise<boolean> {
  const cluster = sim.clusters().find((c) => c.name === 'prod-eu')!;
  const token = await mintEksToken({
    credentials: { accessKeyId: DEMO.alice.accessKeyId, secretAccessKey: DEMO.alice.secretAccessKey },
    region: 'eu-west-1',
    clusterName: 'prod-eu',
  });
  return new Promise((done, fail) => {
    const req = httpsRequest(
      `${cluster.endpoint}/api/v1/namespaces/${namespace}/configmaps`,
      { ca: Buffer.from(cluster.caData, 'base64'), headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        if (res.statusCode === 200) done(true);
        else if (res.statusCode === 403) done(false);
        else fail(new Error(`unexpected ${res.statusCode ?? '?'}`));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

function entitlementFor(i: number): string {
  const ns = NAMESPACES[i]!;
  return i % 2 === 0 ? `cluster_role:view:${ns}:member` : `access_policy:${POLICY}:assigned:${ns}`;
}

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
  start('api', 'apps/api/src/main.ts', { HOST: '127.0.0.1', PORT: String(port), BOOTSTRAP_API_KEY: KEY });
  start('sync-worker', 'apps/sync-worker/src/main.ts', {
    WORKER_ID: 'sync-1',
    JOB_LOCK_MS: '2000',
    STALLED_CHECK_MS: '1000',
    RECONCILE_EVERY_MS: '1000',
  });
  for (const slot of SLOTS) startProvisioner(slot);
  await until('the API to be ready', () => apiReady(baseUrl), 120_000);
  const created = await call<{ id: string }>('POST', '/v1/clusters', {
    name: 'prod-eu',
    region: 'eu-west-1',
    roleArn: DEMO.connector.roleArn,
    accessKey: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
    provisioningEnabled: true,
  });
  clusterId = created.body.id;
  const run = (await call<{ id: string }>('POST', `/v1/clusters/${clusterId}/syncs`)).body;
  await until(
    'the first sync',
    async () =>
      (await call<{ status: string }>('GET', `/v1/syncs/${run.id}`)).body.status === 'succeeded'
        ? true
        : undefined,
    120_000,
  );
}, 240_000);

afterAll(async () => {
  for (const p of processes) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => exited(p.child)));
  await database?.drop();
  await sim?.close();
});

describe('provisioning while provisioners are SIGKILLed', () => {
  it(
    'ends every request, and the cluster grants alice exactly what succeeded, once',
    { timeout: 900_000 },
    async () => {
      for (const ns of [NAMESPACES[0]!, NAMESPACES[1]!]) expect(await aliceCanList(ns)).toBe(false);
      // Every call the provisioners make takes a while, so a kill finds requests half-done.
      sim.faults.setRules([
        { target: 'kube:*', cluster: 'prod-eu', latencyMs: 150, jitterMs: 100 },
        { target: 'eks:*', latencyMs: 150, jitterMs: 100 },
      ]);

      const ids: string[] = [];
      let kills = 0;
      let next = 0;
      const startedAt = Date.now();
      // Every 1–3 s, kill a random provisioner among those that have started working (said "ready")
      // and start a new one in its place; send a wave of 5 requests every 5 kills.
      const ready = (p: ProductProcess) => logged(p, 'provisioner ready').length > 0;
      while (kills < KILLS) {
        if (next < NAMESPACES.length && kills % 5 === 0) {
          for (const i of Array.from({ length: 5 }, (_, k) => next + k)) {
            const res = await call<Request>('POST', '/v1/provisioning-requests', {
              clusterId,
              action: 'grant',
              entitlementId: entitlementFor(i),
              principal: { type: 'iam_user', arn: DEMO.alice.userArn },
              reason: 'reliability',
            });
            expect(res.status, JSON.stringify(res.body)).toBe(202);
            ids.push(res.body.id);
          }
          next += 5;
        }
        await sleep(1_000 + Math.random() * 2_000);
        const slot = await until(
          'a provisioner to be ready',
          async () => {
            const candidates = SLOTS.filter((s) => ready(provisioners.get(s)!));
            return candidates[Math.floor(Math.random() * candidates.length)];
          },
          120_000,
        );
        const victim = provisioners.get(slot)!;
        victim.child.kill('SIGKILL');
        await exited(victim.child);
        kills++;
        startProvisioner(slot);
      }
      const killPhaseMs = Date.now() - startedAt;
      sim.faults.setRules([]);

      const final = await until(
        'every request to end',
        async () => {
          const all = await Promise.all(
            ids.map(async (id) => (await call<Request>('GET', `/v1/provisioning-requests/${id}`)).body),
          );
          return all.every((r) => !['pending', 'running'].includes(r.status)) ? all : undefined;
        },
        300_000,
      );
      const statuses = Object.fromEntries(
        ['succeeded', 'failed', 'refused'].map((s) => [s, final.filter((r) => r.status === s).length]),
      );
      const interrupted = final.filter((r) => r.attempt > 1).length;
      const janitorFixes = processes.flatMap((p) =>
        logged(p, 'provisioning requests whose job was lost were fixed'),
      );
      const requeuedByJanitor = janitorFixes.reduce((n, r) => n + Number(r.requeued ?? 0), 0);
      const deadLettered = processes.flatMap((p) => logged(p, 'job dead-lettered')).length;
      const stalled = processes.flatMap((p) =>
        logged(p, 'job stalled; its worker stopped renewing the lock'),
      ).length;

      // What the cluster does, asked as alice, against what the requests say.
      const granted = new Set(final.filter((r) => r.status === 'succeeded').map((r) => r.entitlementId));
      const mismatches: string[] = [];
      for (let i = 0; i < NAMESPACES.length; i++) {
        const can = await aliceCanList(NAMESPACES[i]!);
        if (can !== granted.has(entitlementFor(i)))
          mismatches.push(
            `${NAMESPACES[i]!}: cluster ${can ? 'grants' : 'denies'}, request ${final.find((r) => r.entitlementId === entitlementFor(i))?.status ?? '?'}`,
          );
      }
      // Nothing written twice: one binding per namespace, one access entry, each scope namespace once.
      const cluster = sim.findCluster('prod-eu')!;
      const bindings = NAMESPACES.map(
        (ns) =>
          cluster.kube
            .list('rolebindings', { namespace: ns })
            .items.filter((b) => b.metadata.labels?.['app.kubernetes.io/managed-by'] !== undefined).length,
      );
      const entry = cluster.accessEntries.get(DEMO.alice.userArn)!;
      const scope = [...(entry.associations.get(POLICY)?.accessScope.namespaces ?? [])].filter((n) =>
        n.startsWith('crash-'),
      );
      const duplicates =
        bindings.filter((n) => n > 1).length +
        (scope.length - new Set(scope).size) +
        (entry.kubernetesGroups.length - new Set(entry.kubernetesGroups).size);

      report('provisioning under SIGKILL', {
        requests: final.length,
        final: final.length - final.filter((r) => ['pending', 'running'].includes(r.status)).length,
        ...statuses,
        kills,
        killPhaseSeconds: Math.round(killPhaseMs / 1000),
        requestsInterrupted: interrupted,
        stalledJobsLogged: stalled,
        deadLetteredJobsLogged: deadLettered,
        requeuedByJanitor,
        clusterMismatches: mismatches.length,
        duplicates,
      });
      expect(kills).toBeGreaterThanOrEqual(20);
      expect(final).toHaveLength(20);
      expect(mismatches).toEqual([]);
      expect(duplicates).toBe(0);
      expect(bindings.filter((n, i) => i % 2 === 0 && granted.has(entitlementFor(i)) && n !== 1)).toEqual([]);
      expect(
        final
          .filter((r) => r.status !== 'succeeded')
          .map((r) => `${r.entitlementId}: ${r.status} ${r.error?.code ?? ''} ${r.error?.message ?? ''}`),
      ).toEqual([]);
      expect(unstructuredLines(processes)).toEqual([]);
    },
  );
});
