// `pnpm bench:fleet`: one deployment against a fleet. The simulator runs in its own process as
// `eks-sim serve --world fleet:clusters=1000,accounts=100,regions=4,latencyMs=20,eksPerAccount=10`
// (BENCH_FLEET overrides the spec); the compiled API and 4 compiled sync-worker processes
// (BENCH_WORKERS, started with the image's Node flags) run against real Postgres and Redis, told the same EKS limit
// (AWS_MAX_CALLS_PER_SECOND). It registers the fleet, syncs every cluster once, then once more
// with nothing changed, and reports:
// - wall time of the full fleet sync against the rate-limit lower bound (the busiest account and
//   region's EKS calls over its limit; goal <= 1.2x);
// - calls sent against calls needed (calls the simulator served; the rest were throttled and
//   retried; goal <= 1.05x);
// - Postgres rows written (inserted, updated, deleted; from pg_stat_user_tables) and the
//   database's size after the first and after the unchanged second sync (goal: the second writes
//   < 1% of the first's rows);
// - peak RSS per worker (goal < 300 MB);
// - p95 of GET /v1/principals/{arn}/access for 50 principals (goal < 100 ms);
// - the highest per-account-and-region EKS rate the simulator served (never above the limit).
// It prints a markdown table (the README's figures) and never fails on timing: it exits non-zero
// only when a sync fails or the fleet does not finish.
import { loadavg } from 'node:os';
import { createCluster, enqueueSyncRun } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import {
  createSimAdminClient,
  fleetClusters,
  fleetSpecSchema,
  parseFleetFlag,
  GENERATOR_CONNECTOR_KEY,
  type RateSnapshot,
} from '@eks-access/eks-sim';
import { createProducer, createRedisConnection } from '@eks-access/queue';
import {
  ADMIN_URL,
  REDIS_URL,
  compiled,
  cpuSeconds,
  deleteKeys,
  freePort,
  peakRssMiB,
  percentile,
  quietLogger,
  randomId,
  startService,
  startSimCli,
  stopAll,
  WORKER_NODE_FLAGS,
  type ServiceProcess,
} from './support.js';

const SPEC_TEXT =
  process.env.BENCH_FLEET ?? 'clusters=1000,accounts=100,regions=4,latencyMs=20,eksPerAccount=10';
const SPEC = fleetSpecSchema.parse(parseFleetFlag(SPEC_TEXT));
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
/** Clusters each worker syncs at once: enough together to keep every account busy. */
const SYNC_CONCURRENCY = Number(process.env.BENCH_SYNC_CONCURRENCY ?? 16);
const PRINCIPALS = 50;
const DEADLINE_MS = 12 * 60_000;

/** Rows inserted, updated and deleted in the database so far, per table (pg_stat_user_tables). */
async function rowsWritten(database: TestDatabase): Promise<Map<string, number>> {
  // Other backends publish their counts once idle for 10 s at the latest (PGSTAT_IDLE_INTERVAL).
  await new Promise((r) => setTimeout(r, 12_000));
  const { rows } = await database.pool.query<{ relname: string; n: string }>(
    // Stored tables only: a sync stages incoming rows in temporary tables (pg_temp_*), dropped at commit.
    `SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables WHERE schemaname = 'public'`,
  );
  return new Map(rows.map((r) => [r.relname, Number(r.n)]));
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** Rows written per table between two readings, largest first. */
function delta(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  return [...after]
    .map(([t, n]): [string, number] => [t, n - (before.get(t) ?? 0)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
}

async function databaseBytes(database: TestDatabase): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(
    'SELECT pg_database_size(current_database()) AS n',
  );
  return Number(rows[0]!.n);
}

interface Round {
  wallMs: number;
  failed: number;
  rates: RateSnapshot;
  rows: number;
  /** Rows written per table, largest first. */
  tables: [string, number][];
  bytes: number;
  rss: (number | undefined)[];
  workerCpu: number;
}

async function syncFleet(
  database: TestDatabase,
  ids: string[],
  producer: ReturnType<typeof createProducer>,
  workers: ServiceProcess[],
  awsEndpoint: string,
): Promise<Round> {
  const admin = createSimAdminClient(awsEndpoint);
  await admin.resetCounters();
  const rowsBefore = await rowsWritten(database);
  const cpuBefore = workers.map((w) => cpuSeconds(w.child.pid) ?? 0);
  const { rows: before } = await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM sync_runs');
  const already = Number(before[0]!.n);
  const started = performance.now();
  for (const id of ids) {
    const { run } = await enqueueSyncRun(database, id, 'bulk');
    await producer.enqueue('cluster.sync', { clusterId: id, syncRunId: run.id, trigger: 'bulk' });
  }
  const deadline = Date.now() + DEADLINE_MS;
  let finished = 0;
  let failed = 0;
  let lastReport = 0;
  while (finished < ids.length) {
    if (Date.now() > deadline)
      throw new Error(`the fleet did not finish in time (${finished}/${ids.length})`);
    await new Promise((r) => setTimeout(r, 250));
    const { rows } = await database.pool.query<{ done: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE status NOT IN ('queued', 'running')) AS done,
              count(*) FILTER (WHERE status = 'failed') AS failed FROM sync_runs`,
    );
    finished = Number(rows[0]!.done) - already;
    failed = Number(rows[0]!.failed);
    if (Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      console.error(
        `  ${finished}/${ids.length} synced after ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
    }
  }
  const wallMs = performance.now() - started;
  const rates = await admin.rates();
  return {
    wallMs,
    failed,
    rates,
    ...(await (async () => {
      const after = await rowsWritten(database);
      return { rows: total(after) - total(rowsBefore), tables: delta(rowsBefore, after) };
    })()),
    bytes: await databaseBytes(database),
    rss: workers.map((w) => peakRssMiB(w.child.pid)),
    workerCpu: workers.reduce((s, w, i) => s + (cpuSeconds(w.child.pid) ?? 0) - cpuBefore[i]!, 0),
  };
}

function eksFigures(rates: RateSnapshot, limit: number) {
  const regions = Object.values(rates.accountRegions ?? {})
    .map((r) => r.eks)
    .filter((r) => r !== undefined);
  const served = regions.map((r) => r.calls - r.throttled);
  const all = Object.values(rates.accounts).flatMap((a) => Object.values(a));
  const calls = all.reduce((s, r) => s + r.calls, 0);
  const throttled = all.reduce((s, r) => s + r.throttled, 0);
  const kube = Object.values(rates.clusters)
    .map((c) => c.kube)
    .filter((r) => r !== undefined);
  return {
    boundMs: (Math.max(0, ...served) / limit) * 1000,
    peakServed: Math.max(0, ...regions.map((r) => r.peakServedPerSecond)),
    peakReceived: Math.max(0, ...regions.map((r) => r.peakPerSecond)),
    calls,
    needed: calls - throttled,
    throttled,
    kubeCalls: kube.reduce((s, r) => s + r.calls, 0),
  };
}

async function principalAccessP95(baseUrl: string, key: string, database: TestDatabase) {
  // 50 principals that hold grants, spread over the fleet (every Nth by ARN).
  const { rows } = await database.pool.query<{ principal_id: string }>(
    `SELECT DISTINCT principal_id FROM snapshot_grants
      WHERE principal_type IN ('iam_user', 'role') ORDER BY principal_id`,
  );
  const step = Math.max(1, Math.floor(rows.length / PRINCIPALS));
  const arns = rows
    .filter((_, i) => i % step === 0)
    .slice(0, PRINCIPALS)
    .map((r) => r.principal_id);
  const times: number[] = [];
  let clustersSeen = 0;
  for (let pass = 0; pass < 3; pass++) {
    for (const arn of arns) {
      const t0 = performance.now();
      const res = await fetch(`${baseUrl}/v1/principals/${encodeURIComponent(arn)}/access`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const body = (await res.json()) as { items?: { cluster: { id: string } }[] };
      if (!res.ok) throw new Error(`principal access for ${arn}: ${res.status} ${JSON.stringify(body)}`);
      if (pass > 0)
        times.push(performance.now() - t0); // the first pass warms caches
      else clustersSeen = Math.max(clustersSeen, new Set(body.items?.map((g) => g.cluster.id)).size);
    }
  }
  return { p50: percentile(times, 50), p95: percentile(times, 95), principals: arns.length, clustersSeen };
}

async function main(): Promise<void> {
  const workerMain = compiled('apps/sync-worker/dist/main.js', 'pnpm bench:fleet builds, or pnpm build');
  const apiMain = compiled('apps/api/dist/main.js', 'pnpm bench:fleet builds, or pnpm build');
  const loadBefore = loadavg();
  console.error(`starting the simulator: fleet:${SPEC_TEXT}`);
  const sim = await startSimCli(['--world', `fleet:${SPEC_TEXT}`], 'pnpm bench:fleet builds, or pnpm build');
  const simRss = () => peakRssMiB(sim.child.pid);
  const database = await createTestDatabase(ADMIN_URL, { maxConnections: 8 });
  const prefix = `bench-fleet-${randomId()}`;
  const key = `bench-${randomId(16)}`;
  const producerConnection = await createRedisConnection({
    url: REDIS_URL,
    role: 'producer',
    logger: quietLogger,
  });
  const producer = createProducer({ connection: producerConnection, prefix });
  const services: ServiceProcess[] = [];
  try {
    const registerStarted = performance.now();
    const ids: string[] = [];
    for (const c of fleetClusters(SPEC)) {
      const cluster = await createCluster(database, {
        name: c.name,
        region: c.region,
        roleArn: c.roleArn,
        ...(c.externalId ? { externalId: c.externalId } : {}),
        hostingMode: 'self-hosted',
        credentials: { static: GENERATOR_CONNECTOR_KEY },
      });
      ids.push(cluster.id);
    }
    const registerMs = performance.now() - registerStarted;
    const common = {
      DATABASE_URL: database.url,
      ENCRYPTION_KEY: database.encryptionKey,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      AWS_ENDPOINT_URL: sim.ready.aws.endpoint,
    };
    const workers: ServiceProcess[] = [];
    for (let i = 1; i <= WORKERS; i++) {
      workers.push(
        startService(
          `fleet-${i}`,
          workerMain,
          {
            ...common,
            WORKER_ID: `fleet-${i}`,
            SYNC_CONCURRENCY: String(SYNC_CONCURRENCY),
            ...(SPEC.eksPerAccount ? { AWS_MAX_CALLS_PER_SECOND: String(SPEC.eksPerAccount) } : {}),
            ...(SPEC.kubePerCluster ? { KUBE_MAX_CALLS_PER_SECOND: String(SPEC.kubePerCluster) } : {}),
          },
          /"msg":"(sync )?worker ready"/,
          [],
          WORKER_NODE_FLAGS,
        ),
      );
    }
    services.push(...workers);
    const port = await freePort();
    const api = startService(
      'api',
      apiMain,
      { ...common, HOST: '127.0.0.1', PORT: String(port), BOOTSTRAP_API_KEY: key },
      /Server listening/,
    );
    services.push(api);
    await Promise.all(services.map((s) => s.ready));

    console.error(`first sync of ${ids.length} clusters with ${WORKERS} workers`);
    const first = await syncFleet(database, ids, producer, workers, sim.ready.aws.endpoint);
    console.error(`second (unchanged) sync`);
    const second = await syncFleet(database, ids, producer, workers, sim.ready.aws.endpoint);
    // Which clusters' unchanged second sync still wrote snapshot rows (content that changed between two reads of the same world).
    const { rows: rewritten } = await database.pool.query<{ name: string; written: unknown }>(
      `SELECT DISTINCT ON (c.id) c.name, r.counts->'written' AS written
         FROM sync_runs r JOIN clusters c ON c.id = r.cluster_id
        WHERE r.status = 'succeeded' ORDER BY c.id, r.finished_at DESC`,
    );
    const changed = rewritten.filter((r) =>
      Object.values((r.written ?? {}) as Record<string, number>).some((n) => n > 0),
    );
    console.error(
      `second sync wrote snapshot rows for ${changed.length} clusters: ` +
        changed
          .slice(0, 8)
          .map((r) => `${r.name} ${JSON.stringify(r.written)}`)
          .join('; '),
    );
    await database.pool.query('ANALYZE');
    const access = await principalAccessP95(`http://127.0.0.1:${port}`, key, database);
    const loadAfter = loadavg();

    const limit = SPEC.eksPerAccount ?? Number.POSITIVE_INFINITY;
    const f1 = eksFigures(first.rates, limit);
    const f2 = eksFigures(second.rates, limit);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const ok = (met: boolean) => (met ? 'met' : '**not met**');
    const maxRss = Math.max(...first.rss.map((r) => r ?? 0), ...second.rss.map((r) => r ?? 0));
    const lines: string[] = [];
    lines.push(
      `Fleet \`${SPEC_TEXT}\`: ${ids.length} clusters, ${WORKERS} sync-worker processes (SYNC_CONCURRENCY=${SYNC_CONCURRENCY}, ` +
        `AWS_MAX_CALLS_PER_SECOND=${SPEC.eksPerAccount ?? 'unset'}), the compiled API, real Postgres and Redis, the simulator in its own process ` +
        `(started in ${s(sim.startMs)}, peak RSS ${simRss() ?? '?'} MiB). Registration of ${ids.length} clusters: ${s(registerMs)}. ` +
        `Load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (2 cores for everything).`,
    );
    lines.push('');
    lines.push('| figure | first sync | second sync (unchanged) | goal |');
    lines.push('|---|---|---|---|');
    lines.push(
      `| wall time / rate-limit lower bound | ${s(first.wallMs)} / ${s(f1.boundMs)} = ${(first.wallMs / f1.boundMs).toFixed(2)}x | ` +
        `${s(second.wallMs)} / ${s(f2.boundMs)} = ${(second.wallMs / f2.boundMs).toFixed(2)}x | <= 1.2x: ${ok(first.wallMs / f1.boundMs <= 1.2)} |`,
    );
    lines.push(
      `| AWS calls sent / needed (served) | ${f1.calls} / ${f1.needed} = ${(f1.calls / f1.needed).toFixed(3)}x (${f1.throttled} throttled) | ` +
        `${f2.calls} / ${f2.needed} = ${(f2.calls / f2.needed).toFixed(3)}x | <= 1.05x: ${ok(f1.calls / f1.needed <= 1.05)} |`,
    );
    lines.push(`| Kubernetes calls | ${f1.kubeCalls} | ${f2.kubeCalls} | |`);
    lines.push(
      `| Postgres rows written | ${first.rows} | ${second.rows} (${((100 * second.rows) / first.rows).toFixed(1)}% of the first) | second < 1%: ${ok(second.rows < first.rows / 100)} |`,
    );
    const perTable = (r: Round) =>
      r.tables
        .slice(0, 5)
        .map(([t, n]) => `${t} ${n}`)
        .join(', ');
    lines.push(`| rows written by table (top 5) | ${perTable(first)} | ${perTable(second)} | |`);
    lines.push(`| database size after | ${mib(first.bytes)} | ${mib(second.bytes)} | |`);
    lines.push(
      `| peak RSS per worker | ${first.rss.map((r) => r ?? '?').join(' / ')} MiB | ${second.rss.map((r) => r ?? '?').join(' / ')} MiB | < 300 MB: ${ok(maxRss * 1.048576 < 300)} |`,
    );
    lines.push(
      `| worker CPU (all workers) | ${first.workerCpu.toFixed(0)} s | ${second.workerCpu.toFixed(0)} s | |`,
    );
    lines.push(
      `| peak EKS calls/s per account and region, served (received) | ${f1.peakServed} (${f1.peakReceived}) | ${f2.peakServed} (${f2.peakReceived}) | never above ${SPEC.eksPerAccount ?? '-'}: ${ok(Math.max(f1.peakServed, f2.peakServed) <= limit)} |`,
    );
    lines.push(`| failed syncs | ${first.failed} | ${second.failed} | 0 |`);
    lines.push(
      `| GET /v1/principals/{arn}/access, ${access.principals} principals x 2 passes | p50 ${access.p50.toFixed(1)} ms, p95 ${access.p95.toFixed(1)} ms (up to ${access.clustersSeen} clusters each) | | p95 < 100 ms: ${ok(access.p95 < 100)} |`,
    );
    console.log(lines.join('\n'));
    if (first.failed + second.failed > 0) process.exitCode = 1;
  } finally {
    await stopAll(services);
    await stopAll([sim]);
    await producer.close();
    producerConnection.disconnect();
    await database.drop();
    await deleteKeys(prefix);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
