// Outages of the service's own Postgres and Redis, started by this test on free ports, while the
// API, two sync workers and a provisioner (each its own process from its entry point) carry a
// steady load of reads, sync requests and grants:
// - Postgres stopped for 30 s, then Redis stopped for 30 s: no answer is a 500 or slower than the
//   request timeout (an unreachable dependency is 503 with Retry-After), no process restarts, and
//   afterwards every recorded run and request ends.
// - Redis SIGKILLed during syncs and grants and restarted from its AOF: everything still ends, and
//   alice's access in the cluster matches the succeeded grants.
// - Postgres stopped with `-m immediate` while a sync writes its snapshot: the sync ends succeeded
//   with a snapshot identical to a clean sync of the same cluster.
import { request as httpsRequest } from 'node:https';
import { createDb, type Database } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  allowConnectorProvisioning,
  createDemoWorld,
  DEMO,
  generateInto,
  GENERATOR_CONNECTOR_KEY,
  mintEksToken,
  startSim,
  type RunningSim,
} from '@eks-access/eks-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiReady, checkAnswer, exited, freePort, randomId, until } from '../e2e/support.js';
import {
  report,
  sleep,
  startPostgres,
  startProduct,
  startRedis,
  unstructuredLines,
  type OwnPostgres,
  type OwnRedis,
  type ProductProcess,
} from './support.js';

const KEY = `rel-${randomId(16)}`;
const REQUEST_TIMEOUT_MS = 10_000;
const OUTAGE_MS = 30_000;
const NAMESPACES = Array.from({ length: 40 }, (_, i) => `out-${String(i).padStart(2, '0')}`);
const BIG = { name: 'big', region: 'us-west-2', accountId: '333333333333' };

let pg: OwnPostgres;
let redis: OwnRedis;
let sim: RunningSim;
let database: TestDatabase;
/** The test's own view of the product's database; its pool reconnects after each outage. */
let observer: Database;
let baseUrl: string;
const processes: ProductProcess[] = [];
const clusters: Record<string, string> = {};
// Fingerprint of the big cluster's first (clean) sync, taken at once: later syncs of the outage tests
// can prune its snapshot (SNAPSHOT_RETENTION) before the crash test compares with it.
let cleanBigPrint: Record<string, string>;

function start(name: string, entry: string, env: Record<string, string>): void {
  const timings = {
    JOB_LOCK_MS: '2000',
    STALLED_CHECK_MS: '1000',
    RECONCILE_EVERY_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '1000',
  };
  processes.push(
    startProduct(name, entry, {
      DATABASE_URL: database.url,
      ENCRYPTION_KEY: database.encryptionKey,
      REDIS_URL: redis.url,
      AWS_ENDPOINT_URL: sim.awsEndpoint,
      ...(entry.includes('api') ? {} : timings),
      ...env,
    }),
  );
}

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; ms: number; retryAfter: string | null }> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS * 3),
  });
  const text = await res.text();
  await checkAnswer(
    baseUrl,
    { method, path },
    { status: res.status, contentType: res.headers.get('content-type'), text },
  );
  return {
    status: res.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    ms: performance.now() - started,
    retryAfter: res.headers.get('retry-after'),
  };
}

interface Sample {
  op: string;
  status: number;
  ms: number;
  retryAfter: string | null;
}

let nextNamespace = 0;
const grantIds: string[] = [];

/** Two clients sending a mix of reads, sync requests and grants until `stop` is set. */
async function load(stop: { done: boolean }): Promise<Sample[]> {
  const samples: Sample[] = [];
  const ops: [
    string,
    () => Promise<{ status: number; ms: number; retryAfter: string | null; body: unknown }>,
  ][] = [
    ['list clusters', () => call('GET', '/v1/clusters')],
    ['list grants', () => call('GET', `/v1/clusters/${clusters['prod-eu']!}/grants?limit=50`)],
    [
      'sync a cluster',
      () => call('POST', `/v1/clusters/${clusters[Math.random() < 0.5 ? 'prod-eu' : 'staging-us']!}/syncs`),
    ],
    ['sync all', () => call('POST', '/v1/syncs')],
    ['list requests', () => call('GET', '/v1/provisioning-requests?limit=20')],
    [
      'grant',
      () => {
        const ns = NAMESPACES[nextNamespace++ % NAMESPACES.length]!;
        return call('POST', '/v1/provisioning-requests', {
          clusterId: clusters['prod-eu']!,
          action: 'grant',
          entitlementId: `cluster_role:view:${ns}:member`,
          principal: { type: 'iam_user', arn: DEMO.alice.userArn },
        });
      },
    ],
  ];
  let turn = 0;
  const client = async () => {
    while (!stop.done) {
      // Every operation in turn, so each outage sees grants and sync requests as well as reads.
      const [op, send] = ops[turn++ % ops.length]!;
      if (op === 'grant' && nextNamespace >= NAMESPACES.length) continue;
      try {
        const res = await send();
        samples.push({ op, status: res.status, ms: res.ms, retryAfter: res.retryAfter });
        if (op === 'grant' && res.status === 202) grantIds.push((res.body as { id: string }).id);
      } catch (err) {
        samples.push({ op, status: -1, ms: REQUEST_TIMEOUT_MS * 3, retryAfter: `${String(err)}` });
      }
      await sleep(150 + Math.random() * 250);
    }
  };
  await Promise.all([client(), client()]);
  return samples;
}

/** Runs the load across an outage of `what`: down for OUTAGE_MS, then back, then a few more seconds. */
async function outage(what: string, down: () => Promise<void>, up: () => Promise<void>) {
  const stop = { done: false };
  const running = load(stop);
  await sleep(3_000);
  await down();
  const downAt = Date.now();
  await sleep(OUTAGE_MS);
  await up();
  const downMs = Date.now() - downAt;
  await sleep(5_000);
  stop.done = true;
  const samples = await running;
  const byStatus: Record<string, number> = {};
  for (const s of samples) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const unavailable = samples.filter((s) => s.status === 503);
  const figures = {
    downSeconds: Math.round(downMs / 1000),
    requests: samples.length,
    byStatus,
    status500: samples.filter((s) => s.status === 500).length,
    slowestMs: Math.round(Math.max(...samples.map((s) => s.ms))),
    slowest503Ms: Math.round(Math.max(0, ...unavailable.map((s) => s.ms))),
    retryAfterOnEvery503: unavailable.every((s) => s.retryAfter !== null),
  };
  report(`${what} outage under load`, figures);
  return { samples, figures };
}

const unfinished = async () => {
  const runs = await observer.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM sync_runs WHERE status IN ('queued', 'running')`,
  );
  const requests = await observer.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM provisioning_requests WHERE status IN ('pending', 'running')`,
  );
  return { runs: Number(runs.rows[0]!.n), requests: Number(requests.rows[0]!.n) };
};

/** Waits until no run or request is left unfinished; returns how long that took. */
async function everythingEnds(what: string): Promise<number> {
  const started = Date.now();
  await until(
    what,
    async () => {
      const left = await unfinished();
      return left.runs === 0 && left.requests === 0 ? true : undefined;
    },
    240_000,
  );
  return Date.now() - started;
}

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

/**
 * Namespaces where alice's access differs from what the provisioning requests say: the last
 * request that succeeded for an entitlement (grant or revoke) decides whether she should have it.
 */
async function provisioningMismatches(): Promise<string[]> {
  const { rows } = await observer.pool.query<{ entitlement_id: string; action: string | null }>(
    `SELECT entitlement_id, (array_agg(action ORDER BY finished_at DESC) FILTER (WHERE status = 'succeeded'))[1] AS action FROM provisioning_requests GROUP BY entitlement_id`,
  );
  const out: string[] = [];
  for (const ns of NAMESPACES) {
    const row = rows.find((r) => r.entitlement_id === `cluster_role:view:${ns}:member`);
    if (!row) continue;
    if ((await aliceCanList(ns)) !== (row.action === 'grant'))
      out.push(`${ns}: last succeeded ${row.action ?? 'none'}`);
  }
  return out;
}

/**
 * Counts and a digest of every id in one run's snapshot, to compare two snapshots. A run that found
 * nothing new shares an earlier run's rows, so each table is read where the run's rows are held.
 */
async function fingerprint(runId: string): Promise<Record<string, string>> {
  const one = async (table: string, part: string, column: string) =>
    (
      await observer.pool.query<{ n: string; digest: string }>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(${column}, ',' ORDER BY ${column}), '')) AS digest FROM ${table}
          WHERE sync_run_id = (SELECT ${part}_run_id FROM sync_runs WHERE id = $1)`,
        [runId],
      )
    ).rows[0]!;
  const [r, e, g] = await Promise.all([
    one('snapshot_resources', 'resources', `type || '/' || resource_id`),
    one('snapshot_entitlements', 'entitlements', 'entitlement_id'),
    one('snapshot_grants', 'grants', 'grant_id'),
  ]);
  return {
    resources: `${r.n}:${r.digest}`,
    entitlements: `${e.n}:${e.digest}`,
    grants: `${g.n}:${g.digest}`,
  };
}

async function syncAndWait(clusterId: string): Promise<{ id: string; status: string; attempt: number }> {
  const queued = await until('a sync to be queued', async () => {
    const res = await call<{ id: string }>('POST', `/v1/clusters/${clusterId}/syncs`);
    return res.status === 202 ? res.body : undefined;
  });
  return until(
    'the sync to end',
    async () => {
      const run = (
        await call<{ id: string; status: string; attempt: number }>('GET', `/v1/syncs/${queued.id}`)
      ).body;
      return ['queued', 'running'].includes(run.status) ? undefined : run;
    },
    240_000,
  );
}

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  sim = await startSim({
    world: () => {
      const world = allowConnectorProvisioning(createDemoWorld());
      const prod = [...world.clusters.values()].find((c) => c.name === 'prod-eu')!;
      for (const name of NAMESPACES) prod.kube.create('namespaces', { metadata: { name } });
      // Big enough that writing its snapshot takes a moment to catch Postgres crashing in.
      generateInto(world, {
        clusterName: BIG.name,
        region: BIG.region,
        accountId: BIG.accountId,
        namespaces: 400,
        clusterRoles: 80,
        roles: 800,
        roleBindings: 4000,
        clusterRoleBindings: 200,
        accessEntries: 100,
        iamRoles: 300,
      });
      return world;
    },
  });
  database = await createTestDatabase(pg.adminUrl);
  observer = createDb({
    url: database.url,
    encryptionKey: database.encryptionKey,
    maxConnections: 2,
    connectionTimeoutMs: 2_000,
    onPoolError: () => undefined,
  });
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  start('api', 'apps/api/src/main.ts', {
    HOST: '127.0.0.1',
    PORT: String(port),
    BOOTSTRAP_API_KEY: KEY,
    REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    DEPENDENCY_TIMEOUT_MS: '2000',
  });
  start('sync-worker-1', 'apps/sync-worker/src/main.ts', { WORKER_ID: 'sync-1', SYNC_CONCURRENCY: '2' });
  start('sync-worker-2', 'apps/sync-worker/src/main.ts', { WORKER_ID: 'sync-2', SYNC_CONCURRENCY: '2' });
  start('provisioner', 'apps/provisioner/src/main.ts', { WORKER_ID: 'prov-1', PROVISION_CONCURRENCY: '2' });
  await until('the API to be ready', () => apiReady(baseUrl), 120_000);
  const key = { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey };
  for (const [name, body] of [
    [
      'prod-eu',
      {
        name: 'prod-eu',
        region: 'eu-west-1',
        roleArn: DEMO.connector.roleArn,
        accessKey: key,
        provisioningEnabled: true,
      },
    ],
    [
      'staging-us',
      { name: 'staging-us', region: 'us-east-1', roleArn: DEMO.connector.roleArn, accessKey: key },
    ],
    [
      'big',
      {
        name: BIG.name,
        region: BIG.region,
        roleArn: `arn:aws:iam::${BIG.accountId}:role/EksAccessConnector`,
        accessKey: { ...GENERATOR_CONNECTOR_KEY },
      },
    ],
  ] as const) {
    const res = await call<{ id: string }>('POST', '/v1/clusters', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    clusters[name] = res.body.id;
  }
  // The big cluster's first sync is the clean one its crashed sync is compared with.
  const first = await Promise.all(
    ['prod-eu', 'staging-us', 'big'].map((name) => syncAndWait(clusters[name]!)),
  );
  expect(first.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  cleanBigPrint = await fingerprint(first[2]!.id);
  expect(cleanBigPrint.grants).not.toMatch(/^0:/);
}, 300_000);

afterAll(async () => {
  for (const p of processes) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => exited(p.child)));
  await observer?.close();
  await sim?.close();
  await Promise.all([pg?.close(), redis?.close()]);
});

const alive = () => {
  const up = processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  // What a process that died last said, so a failure shows why.
  for (const p of processes.filter((q) => !up.includes(q)))
    report(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode ?? '?'})`, {
      lastLines: p.lines.slice(-12).map((l) => l.text.slice(0, 600)),
    });
  return up.map((p) => p.name);
};

describe('outages of Postgres and Redis', () => {
  it(
    'answers 503 in time while each is down for 30 s, restarts no process, and loses or strands no run or request',
    { timeout: 600_000 },
    async () => {
      const postgres = await outage(
        'postgres',
        () => pg.stop('fast'),
        () => pg.start(),
      );
      const postgresSettleMs = await everythingEnds('runs and requests after the Postgres outage');
      const redisOutage = await outage(
        'redis',
        () => redis.stop(),
        () => redis.start(),
      );
      const redisSettleMs = await everythingEnds('runs and requests after the Redis outage');
      const mismatches = await provisioningMismatches();
      const { rows: endings } = await observer.pool.query<{ kind: string; status: string; n: string }>(
        `SELECT 'run' AS kind, status, count(*) AS n FROM sync_runs GROUP BY status UNION ALL SELECT 'request', status, count(*) FROM provisioning_requests GROUP BY status`,
      );
      report('after the outages', {
        postgresSettleSeconds: Math.round(postgresSettleMs / 1000),
        redisSettleSeconds: Math.round(redisSettleMs / 1000),
        endings: endings.map((r) => `${r.kind} ${r.status}: ${r.n}`),
        grantsAccepted: grantIds.length,
        clusterMismatches: mismatches.length,
        processesAlive: `${alive().length}/${processes.length}`,
      });

      for (const { samples, figures } of [postgres, redisOutage]) {
        expect(figures.status500).toBe(0);
        expect(samples.filter((s) => s.status === -1)).toEqual([]);
        // The API's own limit, plus room for the answer to travel on a loaded machine.
        expect(figures.slowestMs).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);
        expect(figures.retryAfterOnEvery503).toBe(true);
        expect(samples.filter((s) => s.status === 503).length).toBeGreaterThan(0);
      }
      expect(mismatches).toEqual([]);
      expect(alive()).toHaveLength(processes.length);
    },
  );

  it(
    'ends every sync and grant when Redis is SIGKILLed mid-way and restarted from its AOF',
    { timeout: 400_000 },
    async () => {
      const before = grantIds.length;
      expect((await call('POST', '/v1/syncs')).status).toBe(202);
      // Three new grants, and revokes of two grants that succeeded before.
      const { rows: granted } = await observer.pool.query<{ entitlement_id: string }>(
        `SELECT entitlement_id FROM provisioning_requests WHERE status = 'succeeded' AND action = 'grant' ORDER BY finished_at LIMIT 2`,
      );
      const changes = [
        ...Array.from({ length: 3 }, () => ({
          action: 'grant',
          entitlementId: `cluster_role:view:${NAMESPACES[nextNamespace++ % NAMESPACES.length]!}:member`,
        })),
        ...granted.map((r) => ({ action: 'revoke', entitlementId: r.entitlement_id })),
      ];
      for (const change of changes) {
        const res = await call<{ id: string }>('POST', '/v1/provisioning-requests', {
          clusterId: clusters['prod-eu']!,
          ...change,
          principal: { type: 'iam_user', arn: DEMO.alice.userArn },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        grantIds.push(res.body.id);
      }
      await until(
        'work in flight',
        async () => {
          const { rows } = await observer.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM sync_runs WHERE status = 'running'`,
          );
          return Number(rows[0]!.n) > 0 ? true : undefined;
        },
        60_000,
      );
      await redis.kill();
      await sleep(2_000);
      await redis.start();
      const settleMs = await everythingEnds('runs and requests after Redis was killed');
      const mismatches = await provisioningMismatches();
      report('redis SIGKILL and AOF restart', {
        requestsSent: grantIds.length - before,
        settleSeconds: Math.round(settleMs / 1000),
        clusterMismatches: mismatches.length,
        processesAlive: `${alive().length}/${processes.length}`,
      });
      expect(mismatches).toEqual([]);
      expect(alive()).toHaveLength(processes.length);
    },
  );

  it(
    'keeps a snapshot identical to a clean sync when Postgres stops with -m immediate during its write',
    { timeout: 600_000 },
    async () => {
      const cleanPrint = cleanBigPrint;
      let caught = false;
      let crashed: { id: string; status: string; attempt: number } | undefined;
      for (let tries = 0; tries < 4 && !caught; tries++) {
        const queued = (await call<{ id: string }>('POST', `/v1/clusters/${clusters.big!}/syncs`)).body;
        // Watch Postgres itself, as closely as it answers, for the sync worker's COPY of the
        // snapshot (into the staging tables every sync fills first, or the snapshot tables), and
        // crash it then.
        const deadline = Date.now() + 240_000;
        for (;;) {
          const { rows } = await observer.pool.query<{ n: string; status: string }>(
            `SELECT (SELECT count(*) FROM pg_stat_activity WHERE (query LIKE 'COPY "snapshot_%' OR query LIKE 'COPY "staged_%') AND state = 'active') AS n, (SELECT status FROM sync_runs WHERE id = $1) AS status`,
            [queued.id],
          );
          if (Number(rows[0]!.n) > 0) {
            caught = true;
            break;
          }
          if (['succeeded', 'failed', 'partial'].includes(rows[0]!.status) || Date.now() > deadline) break;
          await sleep(5);
        }
        if (caught) {
          await pg.stop('immediate');
          await sleep(3_000);
          await pg.start();
        }
        crashed = await until(
          'the run to end',
          async () => {
            const run = (
              await call<{ id: string; status: string; attempt: number }>('GET', `/v1/syncs/${queued.id}`)
            ).body;
            return ['queued', 'running'].includes(run.status) ? undefined : run;
          },
          240_000,
        );
      }
      const crashedPrint = await fingerprint(crashed!.id);
      const current = (await call<{ currentSyncRunId: string }>('GET', `/v1/clusters/${clusters.big!}`)).body
        .currentSyncRunId;
      report('postgres -m immediate during a snapshot write', {
        caughtMidWrite: caught,
        run: crashed!.status,
        attempt: crashed!.attempt,
        identicalToCleanSync: JSON.stringify(crashedPrint) === JSON.stringify(cleanPrint),
        grants: cleanPrint.grants?.split(':')[0],
      });
      expect(caught).toBe(true);
      expect(crashed!.status).toBe('succeeded');
      expect(crashedPrint).toEqual(cleanPrint);
      expect(current).toBe(crashed!.id);
      expect(alive()).toHaveLength(processes.length);
      expect(unstructuredLines(processes)).toEqual([]);
    },
  );
});
