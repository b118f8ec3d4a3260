// `pnpm bench:scale`: horizontal scaling of the sync worker. N worker processes (1, 2, 4), started
// from their compiled entry points (apps/sync-worker/dist/main.js; build first), sync one fleet of
// 48 simulated clusters over 6 AWS accounts against real Postgres and Redis, with a fresh database
// and queue prefix per run and 30 ms of latency on every AWS and Kubernetes call. Two
// configurations:
// - unbound: the simulator limits nothing and the workers are told limits far above the demand,
//   so throughput is bounded by latency and CPU: the goal is 4 workers >= 3.2x one worker;
// - bound: the simulator throttles EKS per account and Kubernetes per cluster, and the workers
//   are told the same limits (AWS_MAX_CALLS_PER_SECOND, KUBE_MAX_CALLS_PER_SECOND): the goal is a
//   wall time within 1.2x of the rate-limit bound (the busiest account's EKS calls / its limit),
//   with the observed per-account peak never above the limit, because the limiter is shared.
// It prints a markdown report (the README's figures) with the machine's load average, and never
// fails on timing: it exits non-zero only when a sync fails or the fleet does not finish.
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createCluster, enqueueSyncRun } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  createSimAdminClient,
  generateInto,
  startSim,
  World,
  type FaultRule,
  type RateSnapshot,
} from '@eks-access/eks-sim';
import { createProducer, createRedisConnection } from '@eks-access/queue';
import { pino } from 'pino';
import {
  cpuSeconds,
  deleteKeys,
  peakRssMiB,
  startService,
  stopAll,
  WORKER_NODE_FLAGS,
  type ServiceProcess,
} from './support.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WORKER = resolve(ROOT, 'apps/sync-worker/dist/main.js');
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const ACCOUNTS = [
  '100000000001',
  '100000000002',
  '100000000003',
  '100000000004',
  '100000000005',
  '100000000006',
];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2', 'ap-northeast-1'];
const CLUSTERS_PER_ACCOUNT = 8;
const LATENCY_MS = 30;
const WORKER_COUNTS = [1, 2, 4];
const SYNC_CONCURRENCY = 2;
const ACCESS_ENTRY_CONCURRENCY = 4;
/** The bound configuration's limits, in the simulator and told to the workers alike. */
const EKS_PER_ACCOUNT = 30;
const KUBE_PER_CLUSTER = 10;
/** "Not binding": far above what the fleet asks for. */
const UNBOUND = 100_000;
const logger = pino({ level: 'warn' });
const CONNECTOR = {
  accessKeyId: 'AKIAEKSSIMGENERATOR1',
  secretAccessKey: 'eksSimGeneratorSecretKeyDoNotUse/0000001',
};

interface Config {
  name: 'unbound' | 'bound';
  faults: FaultRule[];
  awsCeiling: number;
  kubeCeiling: number;
}

const latency: FaultRule = { target: '*', latencyMs: LATENCY_MS };
const CONFIGS: Config[] = [
  { name: 'unbound', faults: [latency], awsCeiling: UNBOUND, kubeCeiling: UNBOUND },
  {
    name: 'bound',
    faults: [
      latency,
      { target: 'eks:*', throttleAbovePerSecond: EKS_PER_ACCOUNT, per: 'account' },
      { target: 'kube:*', throttleAbovePerSecond: KUBE_PER_CLUSTER, per: 'cluster' },
    ],
    awsCeiling: EKS_PER_ACCOUNT,
    kubeCeiling: KUBE_PER_CLUSTER,
  },
];

interface ClusterRef {
  name: string;
  accountId: string;
  region: string;
}

/** 6 accounts × 8 clusters; IAM principals are generated once per account. */
function buildWorld(): World {
  const world = new World();
  ACCOUNTS.forEach((accountId, a) => {
    for (let c = 0; c < CLUSTERS_PER_ACCOUNT; c++) {
      const first = c === 0;
      generateInto(world, {
        seed: a * 100 + c + 1,
        clusterName: `fleet-${a + 1}-${c + 1}`,
        accountId,
        region: REGIONS[a]!,
        authenticationMode: 'API',
        namespaces: 20,
        serviceAccounts: 20,
        clusterRoles: 10,
        roles: 20,
        roleBindings: 60,
        clusterRoleBindings: 10,
        accessEntries: 40,
        iamRoles: first ? 60 : 0,
        iamUsers: first ? 10 : 0,
      });
    }
  });
  // One connector identity for the whole fleet, as a deployment has: the first account's user
  // (the generator's fixed key) may assume every account's EksAccessConnector role.
  const hosting = `arn:aws:iam::${ACCOUNTS[0]!}:user/eks-access-connector`;
  for (const accountId of ACCOUNTS) {
    const role = world.findRoleByName(accountId, 'EksAccessConnector')!;
    role.assumeRolePolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: hosting }, Action: 'sts:AssumeRole' }],
    };
  }
  return world;
}

/** Clusters in round-robin account order, so the queue spreads work over every account. */
function fleet(): ClusterRef[] {
  const out: ClusterRef[] = [];
  for (let c = 0; c < CLUSTERS_PER_ACCOUNT; c++) {
    ACCOUNTS.forEach((accountId, a) =>
      out.push({ name: `fleet-${a + 1}-${c + 1}`, accountId, region: REGIONS[a]! }),
    );
  }
  return out;
}

function startWorker(id: string, env: Record<string, string>): ServiceProcess {
  // "sync worker ready" today; "worker ready" once the workers share one start-up package.
  return startService(
    id,
    WORKER,
    { WORKER_ID: id, ...env },
    /"msg":"(sync )?worker ready"/,
    [],
    WORKER_NODE_FLAGS,
  );
}

interface RunResult {
  config: Config['name'];
  workers: number;
  wallMs: number;
  failed: number;
  jobsPerWorker: number[];
  rssMiB: (number | undefined)[];
  /** CPU seconds the workers used during the fleet sync, together. */
  workerCpu: number;
  /** CPU seconds this process (the simulator, and the polling) used meanwhile. */
  simCpu: number;
  rates: RateSnapshot;
  load: number;
}

async function runOnce(config: Config, n: number, awsEndpoint: string): Promise<RunResult> {
  const admin = createSimAdminClient(awsEndpoint);
  const prefix = `bench-scale-${Math.random().toString(36).slice(2, 10)}`;
  const database: TestDatabase = await createTestDatabase(ADMIN_URL, { maxConnections: 4 });
  const producerConnection = await createRedisConnection({ url: REDIS_URL, role: 'producer', logger });
  const producer = createProducer({ connection: producerConnection, prefix });
  const workers: ServiceProcess[] = [];
  try {
    const ids: string[] = [];
    for (const c of fleet()) {
      const cluster = await createCluster(database, {
        name: c.name,
        region: c.region,
        roleArn: `arn:aws:iam::${c.accountId}:role/EksAccessConnector`,
        hostingMode: 'self-hosted',
        credentials: { static: CONNECTOR },
      });
      ids.push(cluster.id);
    }
    await admin.setFaults(config.faults);
    for (let i = 1; i <= n; i++) {
      workers.push(
        startWorker(`bench-${i}`, {
          DATABASE_URL: database.url,
          ENCRYPTION_KEY: database.encryptionKey,
          REDIS_URL,
          QUEUE_PREFIX: prefix,
          AWS_ENDPOINT_URL: awsEndpoint,
          // Several workers on one host: each health server on a free port.
          HEALTH_PORT: '0',
          SYNC_CONCURRENCY: String(SYNC_CONCURRENCY),
          ACCESS_ENTRY_CONCURRENCY: String(ACCESS_ENTRY_CONCURRENCY),
          AWS_MAX_CALLS_PER_SECOND: String(config.awsCeiling),
          KUBE_MAX_CALLS_PER_SECOND: String(config.kubeCeiling),
        }),
      );
    }
    await Promise.all(workers.map((w) => w.ready));
    await admin.resetCounters();

    const cpuBefore = workers.map((w) => cpuSeconds(w.child.pid) ?? 0);
    const simBefore = process.cpuUsage();
    const started = performance.now();
    for (const id of ids) {
      const { run } = await enqueueSyncRun(database, id, 'bulk');
      await producer.enqueue('cluster.sync', { clusterId: id, syncRunId: run.id, trigger: 'bulk' });
    }
    const deadline = Date.now() + 15 * 60_000;
    let finished = 0;
    let failed = 0;
    while (finished < ids.length) {
      if (Date.now() > deadline)
        throw new Error(`the fleet did not finish in 15 minutes (${finished}/${ids.length})`);
      await new Promise((r) => setTimeout(r, 100));
      const { rows } = await database.pool.query<{ done: string; failed: string }>(
        `SELECT count(*) FILTER (WHERE status NOT IN ('queued', 'running')) AS done,
                count(*) FILTER (WHERE status = 'failed') AS failed FROM sync_runs`,
      );
      finished = Number(rows[0]!.done);
      failed = Number(rows[0]!.failed);
    }
    const wallMs = performance.now() - started;
    const sim = process.cpuUsage(simBefore);
    const workerCpu = workers.reduce((sum, w, i) => sum + (cpuSeconds(w.child.pid) ?? 0) - cpuBefore[i]!, 0);
    const rssMiB = workers.map((w) => peakRssMiB(w.child.pid));
    const rates = await admin.rates();
    const { rows } = await database.pool.query<{ worker: string; n: string }>(
      'SELECT worker, count(*) AS n FROM sync_runs GROUP BY worker ORDER BY worker',
    );
    const byWorker = new Map(rows.map((r) => [r.worker, Number(r.n)]));
    return {
      config: config.name,
      workers: n,
      wallMs,
      failed,
      jobsPerWorker: workers.map((w) => byWorker.get(w.id) ?? 0),
      rssMiB,
      workerCpu,
      simCpu: (sim.user + sim.system) / 1e6,
      rates,
      load: loadavg()[0]!,
    };
  } finally {
    await stopAll(workers);
    await producer.close();
    producerConnection.disconnect();
    await database.drop();
    await deleteKeys(prefix);
  }
}

/** The least time the limits allow: the busiest account's EKS calls over its limit, or a cluster's Kubernetes calls over its. */
function rateLimitBoundMs(rates: RateSnapshot): number {
  const served = (s?: { calls: number; throttled: number }) => (s ? s.calls - s.throttled : 0);
  const accounts = Object.values(rates.accounts).map((a) => served(a.eks) / EKS_PER_ACCOUNT);
  const clusters = Object.values(rates.clusters).map((c) => served(c.kube) / KUBE_PER_CLUSTER);
  return Math.max(...accounts, ...clusters) * 1000;
}

function peaks(rates: RateSnapshot, service: 'eks' | 'kube', group: 'accounts' | 'clusters') {
  const values = Object.values(rates[group])
    .map((r) => r[service])
    .filter((r) => r !== undefined);
  return {
    received: Math.max(0, ...values.map((r) => r.peakPerSecond)),
    served: Math.max(0, ...values.map((r) => r.peakServedPerSecond)),
    throttled: values.reduce((sum, r) => sum + r.throttled, 0),
  };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  if (!existsSync(WORKER)) {
    console.error(`${WORKER} is missing: build first (pnpm bench:scale builds, or pnpm build)`);
    process.exit(2);
  }
  const sim = await startSim({ world: buildWorld });
  const results: RunResult[] = [];
  const loadBefore = loadavg();
  try {
    for (const config of CONFIGS) {
      for (const n of WORKER_COUNTS) {
        const r = await runOnce(config, n, sim.awsEndpoint);
        results.push(r);
        console.error(
          `${config.name} N=${n}: ${fmt(r.wallMs)}, ${r.failed} failed, load ${r.load.toFixed(1)}`,
        );
      }
    }
  } finally {
    await sim.close();
  }
  const loadAfter = loadavg();
  const jobs = ACCOUNTS.length * CLUSTERS_PER_ACCOUNT;

  const lines: string[] = [];
  lines.push(
    `Fleet: ${jobs} clusters over ${ACCOUNTS.length} accounts (API mode, 40 access entries, 20 namespaces, 60 RoleBindings each), ` +
      `${LATENCY_MS} ms per AWS and Kubernetes call; each worker SYNC_CONCURRENCY=${SYNC_CONCURRENCY}, ACCESS_ENTRY_CONCURRENCY=${ACCESS_ENTRY_CONCURRENCY}.`,
  );
  lines.push(
    `Load average (1/5/15 min) before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (2 cores, shared).`,
  );
  lines.push('');
  lines.push(
    '| config | workers | wall time | jobs/s | speed-up | peak EKS calls/s per account (received / served / limit) | peak Kubernetes calls/s per cluster (received / served / limit) | throttled | jobs per worker | peak RSS per worker (MiB) | CPU s (workers / sim) | load |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const base = results.find((x) => x.config === r.config && x.workers === 1)!;
    const eks = peaks(r.rates, 'eks', 'accounts');
    const kube = peaks(r.rates, 'kube', 'clusters');
    const limit = (l: number) => (r.config === 'bound' ? String(l) : 'none');
    lines.push(
      `| ${r.config} | ${r.workers} | ${fmt(r.wallMs)} | ${(jobs / (r.wallMs / 1000)).toFixed(2)} | ${(base.wallMs / r.wallMs).toFixed(2)}x | ` +
        `${eks.received} / ${eks.served} / ${limit(EKS_PER_ACCOUNT)} | ${kube.received} / ${kube.served} / ${limit(KUBE_PER_CLUSTER)} | ` +
        `${eks.throttled + kube.throttled} | ${r.jobsPerWorker.join(', ')} | ${r.rssMiB.map((m) => m ?? '?').join(', ')} | ` +
        `${r.workerCpu.toFixed(0)} / ${r.simCpu.toFixed(0)} | ${r.load.toFixed(1)} |`,
    );
  }
  lines.push('');
  const unbound1 = results.find((r) => r.config === 'unbound' && r.workers === 1)!;
  const unbound4 = results.find((r) => r.config === 'unbound' && r.workers === 4)!;
  const speedUp = unbound1.wallMs / unbound4.wallMs;
  lines.push(
    `Goal 1, limits not binding: 4 workers >= 3.2x the throughput of 1: ${speedUp.toFixed(2)}x, ${speedUp >= 3.2 ? 'met' : 'NOT met'}.`,
  );
  for (const r of results.filter((x) => x.config === 'bound')) {
    const bound = rateLimitBoundMs(r.rates);
    const eks = peaks(r.rates, 'eks', 'accounts');
    const ratio = r.wallMs / bound;
    lines.push(
      `Goal 2, limits binding, ${r.workers} worker(s): wall ${fmt(r.wallMs)} vs rate-limit bound ${fmt(bound)} = ${ratio.toFixed(2)}x (goal <= 1.2x: ${ratio <= 1.2 ? 'met' : 'NOT met'}); ` +
        `peak received per account ${eks.received}/s vs limit ${EKS_PER_ACCOUNT}/s (${eks.received <= EKS_PER_ACCOUNT ? 'never above' : 'ABOVE'}).`,
    );
  }
  // The measured reason when a goal is missed: the CPU the fleet sync used (workers and the in-process
  // simulator), spread over every core of the machine, is a floor under the wall time whatever N is.
  const cores = availableParallelism();
  for (const r of results) {
    const floorMs = ((r.workerCpu + r.simCpu) / cores) * 1000;
    lines.push(
      `CPU floor, ${r.config} N=${r.workers}: ${(r.workerCpu + r.simCpu).toFixed(1)} CPU s over ${cores} cores = ${fmt(floorMs)} ` +
        `(${((floorMs / r.wallMs) * 100).toFixed(0)}% of the wall time; the rate-limit bound is ${fmt(rateLimitBoundMs(r.rates))}).`,
    );
  }
  console.log(lines.join('\n'));
  if (results.some((r) => r.failed > 0)) process.exit(1);
}

await main();
