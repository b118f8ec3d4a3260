// `pnpm bench:freshness`: how fast a change in a cluster reaches the API through the watcher.
// The simulator runs in its own process with a fleet world (BENCH_FRESHNESS_FLEET, default 100
// clusters over 10 accounts and 2 regions, 20 ms per call, EKS 10 calls/s per account and region);
// one compiled sync worker makes the first full sync, the compiled API answers, and 2 compiled
// watcher processes (BENCH_WATCHERS) share the clusters through Redis leases. It reports:
// - idle cost: watcher RSS, and Kubernetes and AWS calls per cluster per hour while nothing changes;
// - RoleBinding latency: a Role and a RoleBinding created in the simulator (its admin API, as
//   `kubectl apply` from another terminal would) until the grant is in `GET /v1/clusters/{id}/grants`
//   and until the principal holding the bound group sees it in `GET /v1/principals/{arn}/access`
//   (p50/p95/p99; goal p95 < 2 s, p99 < 5 s);
// - access-entry association latency: an association added out of band until the grant is in the
//   API (goal p95 < 30 s), with the EKS calls per account and region never above the limit;
// - missed changes: 1,000 random changes (bindings created, modified, deleted; namespaces; service
//   accounts; roles) while 10% of watch connections are dropped, then a full sync of every cluster:
//   the rows it had to write are what the incremental state missed (goal 0 drift).
// It prints a markdown table and never fails on timing; it exits non-zero when a step cannot run.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createCluster, enqueueSyncRun } from '@eks-access/db';
import { createTestDatabase, type TestDatabase } from '@eks-access/db/testing';
import { accessPolicyEntitlementId, namespaceRoleEntitlementId } from '@eks-access/eks-core';
import {
  createSimAdminClient,
  fleetAccounts,
  fleetClusters,
  fleetSpecSchema,
  parseFleetFlag,
  GENERATOR_CONNECTOR_KEY,
  type FleetCluster,
  type FaultRule,
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
  process.env.BENCH_FRESHNESS_FLEET ?? 'clusters=100,accounts=10,regions=2,latencyMs=20,eksPerAccount=10';
const SPEC = fleetSpecSchema.parse(parseFleetFlag(SPEC_TEXT));
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 2);
const PROBES = Number(process.env.BENCH_PROBES ?? 100);
const ENTRY_PROBES = Number(process.env.BENCH_ENTRY_PROBES ?? 20);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 1000);
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 120);
const DROP = 0.1;
const BUILD = 'pnpm bench:freshness builds, or pnpm build';
const VIEW_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const GROUP = 'bench-fresh';
const NS = 'fresh';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const benchRole = (accountId: string) => `arn:aws:iam::${accountId}:role/bench-fresh`;
const usesEntries = (c: FleetCluster) => c.authenticationMode !== 'CONFIG_MAP';

/** Current resident set size of a live process, in MiB (VmRSS). */
function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Sums a metric over the watchers' /metrics. */
async function watcherMetric(ports: number[], name: string, label?: string): Promise<number> {
  let sum = 0;
  for (const port of ports) {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      if (rest[0] !== ' ' && rest[0] !== '{') continue;
      if (label && !rest.includes(label)) continue;
      sum += Number(line.split(' ').pop());
    }
  }
  return sum;
}

function summary(values: number[]): string {
  const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`);
  return `p50 ${ms(percentile(values, 50))}, p95 ${ms(percentile(values, 95))}, p99 ${ms(percentile(values, 99))} (n=${values.length})`;
}

function eksPeak(rates: RateSnapshot) {
  const regions = Object.values(rates.accountRegions ?? {})
    .map((r) => r.eks)
    .filter((r) => r !== undefined);
  return {
    peakServed: Math.max(0, ...regions.map((r) => r.peakServedPerSecond)),
    throttled: regions.reduce((s, r) => s + r.throttled, 0),
  };
}

function totalCalls(rates: RateSnapshot) {
  const aws = Object.values(rates.accounts)
    .flatMap((a) => Object.values(a))
    .reduce((s, r) => s + r.calls, 0);
  const kube = Object.values(rates.clusters).reduce((s, c) => s + (c.kube?.calls ?? 0), 0);
  return { aws, kube };
}

async function syncAll(database: TestDatabase, ids: string[], producer: ReturnType<typeof createProducer>) {
  // Waits for these runs by id: counting finished runs would miss the ones retention prunes
  // meanwhile (the watcher's runs count toward each cluster's retention). A run that is gone was
  // finished (only finished runs are pruned).
  const runs: string[] = [];
  for (const id of ids) {
    const { run } = await enqueueSyncRun(database, id, 'bulk');
    await producer.enqueue('cluster.sync', { clusterId: id, syncRunId: run.id, trigger: 'bulk' });
    runs.push(run.id);
  }
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    const { rows } = await database.pool.query<{ open: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE status IN ('queued', 'running')) AS open,
              count(*) FILTER (WHERE status = 'failed') AS failed
         FROM sync_runs WHERE id = ANY($1::uuid[])`,
      [runs],
    );
    if (Number(rows[0]!.open) === 0) return Number(rows[0]!.failed);
    if (Date.now() > deadline) throw new Error('the full syncs did not finish in 15 minutes');
    await sleep(500);
  }
}

async function main(): Promise<void> {
  const workerMain = compiled('apps/sync-worker/dist/main.js', BUILD);
  const apiMain = compiled('apps/api/dist/main.js', BUILD);
  const watcherMain = compiled('apps/watcher/dist/main.js', BUILD);
  const loadBefore = loadavg();
  console.error(`starting the simulator: fleet:${SPEC_TEXT}`);
  const sim = await startSimCli(['--world', `fleet:${SPEC_TEXT}`], BUILD);
  const admin = createSimAdminClient(sim.ready.aws.endpoint);
  const database = await createTestDatabase(ADMIN_URL, { maxConnections: 8 });
  const prefix = `bench-fresh-${randomId()}`;
  const key = `bench-${randomId(16)}`;
  const redis = await createRedisConnection({ url: REDIS_URL, role: 'producer', logger: quietLogger });
  const producer = createProducer({ connection: redis, prefix });
  const services: ServiceProcess[] = [];
  try {
    // The principal whose access the probes follow: a role in each account, in group bench-fresh
    // through an access entry (API modes), and a namespace for the probes' Roles.
    const clusters = fleetClusters(SPEC);
    for (const accountId of fleetAccounts(SPEC)) {
      await admin.addRole({
        accountId,
        roleName: 'bench-fresh',
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${accountId}:root` },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      });
    }
    const where = (c: FleetCluster) => ({ region: c.region, accountId: c.accountId });
    for (const c of clusters) {
      await admin.putObject(
        c.name,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
        where(c),
      );
      if (usesEntries(c))
        await admin.addAccessEntry(
          c.name,
          { principalArn: benchRole(c.accountId), kubernetesGroups: [GROUP] },
          where(c),
        );
    }
    const ids = new Map<string, string>();
    for (const c of clusters) {
      const cluster = await createCluster(database, {
        name: c.name,
        region: c.region,
        roleArn: c.roleArn,
        ...(c.externalId ? { externalId: c.externalId } : {}),
        hostingMode: 'self-hosted',
        credentials: { static: GENERATOR_CONNECTOR_KEY },
      });
      ids.set(c.name + '/' + c.region + '/' + c.accountId, cluster.id);
    }
    const idOf = (c: FleetCluster) => ids.get(c.name + '/' + c.region + '/' + c.accountId)!;
    const common = {
      DATABASE_URL: database.url,
      ENCRYPTION_KEY: database.encryptionKey,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      AWS_ENDPOINT_URL: sim.ready.aws.endpoint,
      ...(SPEC.eksPerAccount ? { AWS_MAX_CALLS_PER_SECOND: String(SPEC.eksPerAccount) } : {}),
    };
    const worker = startService(
      'sync-worker',
      workerMain,
      { ...common, WORKER_ID: 'fresh-sync', SYNC_CONCURRENCY: '16' },
      /"msg":"(sync )?worker ready"/,
      [],
      WORKER_NODE_FLAGS,
    );
    const port = await freePort();
    const api = startService(
      'api',
      apiMain,
      { ...common, HOST: '127.0.0.1', PORT: String(port), BOOTSTRAP_API_KEY: key },
      /Server listening/,
    );
    services.push(worker, api);
    await Promise.all(services.map((s) => s.ready));
    const base = `http://127.0.0.1:${port}`;
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
      if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };

    console.error(`first full sync of ${clusters.length} clusters`);
    const firstFailed = await syncAll(database, [...ids.values()], producer);
    if (firstFailed > 0) throw new Error(`${firstFailed} first syncs failed`);

    const healthPorts: number[] = [];
    const watchers: ServiceProcess[] = [];
    for (let i = 1; i <= WATCHERS; i++) {
      const healthPort = await freePort();
      healthPorts.push(healthPort);
      watchers.push(
        startService(
          `watcher-${i}`,
          watcherMain,
          { ...common, WORKER_ID: `watcher-${i}`, HEALTH_PORT: String(healthPort) },
          /"msg":"watcher ready"/,
          [],
          WORKER_NODE_FLAGS,
        ),
      );
    }
    services.push(...watchers);
    await Promise.all(watchers.map((w) => w.ready));
    const watchStarted = performance.now();
    for (;;) {
      const watching = await watcherMetric(healthPorts, 'eks_access_watch_clusters', 'state="watching"');
      if (watching >= clusters.length) break;
      if (performance.now() - watchStarted > 10 * 60_000)
        throw new Error(`only ${watching} of ${clusters.length} clusters watched after 10 minutes`);
      await sleep(500);
    }
    const watchReadyMs = performance.now() - watchStarted;
    console.error(`all clusters watched after ${(watchReadyMs / 1000).toFixed(1)} s; idle for ${IDLE_S} s`);

    // Idle cost.
    await admin.resetCounters();
    const cpuIdle0 = watchers.map((w) => cpuSeconds(w.child.pid) ?? 0);
    await sleep(IDLE_S * 1000);
    const idle = totalCalls(await admin.rates());
    const idleCpu = watchers.reduce((s, w, i) => s + (cpuSeconds(w.child.pid) ?? 0) - cpuIdle0[i]!, 0);
    const perClusterHour = (n: number) => (n / clusters.length) * (3600 / IDLE_S);
    const idleRss = watchers.map((w) => rssMiB(w.child.pid) ?? 0);

    // Changes from here on, with watch connections dropped.
    await admin.addFaults([dropWatches(DROP)]);
    await admin.resetCounters();

    console.error(`${PROBES} RoleBinding probes`);
    const grantLatency: number[] = [];
    const accessLatency: number[] = [];
    let probe = 0;
    const runProbe = async () => {
      const k = ++probe;
      const c = clusters[Math.floor(Math.random() * clusters.length)]!;
      const role = `fresh-role-${k}`;
      await admin.putObject(
        c.name,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: role, namespace: NS },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
        },
        where(c),
      );
      const t0 = performance.now();
      await admin.putObject(
        c.name,
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: `fresh-${k}`, namespace: NS },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
          subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: GROUP }],
        },
        where(c),
      );
      const entitlement = namespaceRoleEntitlementId(NS, role);
      const q = `entitlementId=${encodeURIComponent(entitlement)}&principalId=${GROUP}`;
      for (;;) {
        const page = await get<{ items: unknown[] }>(`/v1/clusters/${idOf(c)}/grants?${q}`);
        if (page.items.length > 0) break;
        if (performance.now() - t0 > 120_000) throw new Error(`probe ${k} never reached the API`);
        await sleep(25);
      }
      grantLatency.push(performance.now() - t0);
      if (!usesEntries(c)) return;
      for (;;) {
        const access = await get<{
          items: { cluster: { id: string }; grant: { entitlementId: string } }[];
        }>(`/v1/principals/${encodeURIComponent(benchRole(c.accountId))}/access`);
        if (access.items.some((g) => g.cluster.id === idOf(c) && g.grant.entitlementId === entitlement))
          break;
        if (performance.now() - t0 > 120_000) throw new Error(`probe ${k}: principal access never showed it`);
        await sleep(25);
      }
      accessLatency.push(performance.now() - t0);
    };
    for (let i = 0; i < PROBES; i += 4) await Promise.all([runProbe(), runProbe(), runProbe(), runProbe()]);

    console.error(`${ENTRY_PROBES} access-entry association probes`);
    const entryLatency: number[] = [];
    const entryClusters = clusters.filter(usesEntries);
    for (let i = 0; i < ENTRY_PROBES; i++) {
      const c = entryClusters[Math.floor(Math.random() * entryClusters.length)]!;
      const principalArn = benchRole(c.accountId);
      const entitlement = accessPolicyEntitlementId(VIEW_POLICY);
      const q = `entitlementId=${encodeURIComponent(entitlement)}&principalId=${encodeURIComponent(principalArn)}`;
      const has = async () =>
        (await get<{ items: unknown[] }>(`/v1/clusters/${idOf(c)}/grants?${q}`)).items.length > 0;
      const adding = !(await has());
      // Replaced out of band (same principal, other associations): only its associations say so.
      await admin.deleteAccessEntry(c.name, principalArn, where(c));
      await admin.addAccessEntry(
        c.name,
        {
          principalArn,
          kubernetesGroups: [GROUP],
          ...(adding
            ? { policyAssociations: [{ policyArn: VIEW_POLICY, accessScope: { type: 'cluster' } }] }
            : {}),
        },
        where(c),
      );
      const t0 = performance.now();
      while ((await has()) !== adding) {
        if (performance.now() - t0 > 180_000) throw new Error(`entry probe ${i} never reached the API`);
        await sleep(100);
      }
      entryLatency.push(performance.now() - t0);
    }
    const eks = eksPeak(await admin.rates());

    console.error(`${CHANGES} random changes with ${DROP * 100}% of watch connections dropped`);
    const created: { c: FleetCluster; name: string }[] = [];
    let n = 0;
    const change = async () => {
      const i = ++n;
      const c = clusters[Math.floor(Math.random() * clusters.length)]!;
      const op = Math.random();
      if (op < 0.4 || created.length === 0) {
        const name = `rand-${i}`;
        await admin.putObject(
          c.name,
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name, namespace: NS },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
            subjects: [
              { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `rand-group-${i % 37}` },
            ],
          },
          where(c),
        );
        created.push({ c, name });
      } else if (op < 0.6) {
        const [victim] = created.splice(Math.floor(Math.random() * created.length), 1);
        await admin.deleteObject(victim!.c.name, 'rolebindings', NS, victim!.name, where(victim!.c));
      } else if (op < 0.8) {
        const target = created[Math.floor(Math.random() * created.length)]!;
        await admin.putObject(
          target.c.name,
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'RoleBinding',
            metadata: { name: target.name, namespace: NS },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
            subjects: [
              { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `rand-group-${i % 41}` },
            ],
          },
          where(target.c),
        );
      } else if (op < 0.9) {
        await admin.putObject(
          c.name,
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `rand-sa-${i}`, namespace: NS } },
          where(c),
        );
      } else {
        await admin.putObject(
          c.name,
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `rand-ns-${i}` } },
          where(c),
        );
      }
    };
    for (let i = 0; i < CHANGES; i += 8) await Promise.all(Array.from({ length: 8 }, change));

    // Quiet: no change applied for 15 s (the drops' reconnects and resumes have settled).
    let last = -1;
    let stableSince = performance.now();
    const quietStarted = performance.now();
    for (;;) {
      const applied = await watcherMetric(healthPorts, 'eks_access_watch_changes_applied_total');
      if (applied !== last) {
        last = applied;
        stableSince = performance.now();
      } else if (performance.now() - stableSince > 15_000) break;
      if (performance.now() - quietStarted > 5 * 60_000) break;
      await sleep(1000);
    }
    const reconnects = await watcherMetric(healthPorts, 'eks_access_watch_reconnects');
    const relists = await watcherMetric(healthPorts, 'eks_access_watch_relists');
    await admin.clearFaults();
    const watcherRss = watchers.map((w) => peakRssMiB(w.child.pid) ?? 0);

    // The check: a full sync of every cluster writes only what the incremental state missed.
    console.error('full sync of every cluster to count drift');
    const checkStarted = new Date();
    const checkFailed = await syncAll(database, [...ids.values()], producer);
    const { rows: drift } = await database.pool.query<{ clusters: string; rows: string; drift: string }>(
      `SELECT count(*) FILTER (WHERE w.total > 0) AS clusters, coalesce(sum(w.total), 0) AS rows,
              (SELECT count(*) FROM change_events e
                WHERE e.drift AND e.kind IN ('grant', 'revoke') AND e.occurred_at >= $1) AS drift
         FROM sync_runs r,
              LATERAL (SELECT coalesce((r.counts->'written'->>'resources')::int, 0)
                            + coalesce((r.counts->'written'->>'entitlements')::int, 0)
                            + coalesce((r.counts->'written'->>'grants')::int, 0) AS total) w
        WHERE r.trigger <> 'watch' AND r.queued_at >= $1 AND r.status = 'succeeded'`,
      [checkStarted],
    );
    const loadAfter = loadavg();

    const ok = (met: boolean) => (met ? 'met' : '**not met**');
    const limit = SPEC.eksPerAccount ?? Number.POSITIVE_INFINITY;
    const lines: string[] = [];
    lines.push(
      `Fleet \`${SPEC_TEXT}\`: ${clusters.length} clusters watched by ${WATCHERS} compiled watcher processes (all watching ` +
        `${(watchReadyMs / 1000).toFixed(1)} s after start), 1 sync worker, the compiled API, real Postgres and Redis, the ` +
        `simulator in its own process. Load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ` +
        `${loadAfter.map((l) => l.toFixed(2)).join(' ')} (2 cores for everything).`,
    );
    lines.push('');
    lines.push('| figure | measured | goal |');
    lines.push('|---|---|---|');
    lines.push(
      `| RoleBinding → grants API | ${summary(grantLatency)} | p95 < 2 s: ${ok(percentile(grantLatency, 95) < 2000)}, p99 < 5 s: ${ok(percentile(grantLatency, 99) < 5000)} |`,
    );
    lines.push(
      `| RoleBinding → principal access | ${summary(accessLatency)} | p95 < 2 s: ${ok(percentile(accessLatency, 95) < 2000)}, p99 < 5 s: ${ok(percentile(accessLatency, 99) < 5000)} |`,
    );
    lines.push(
      `| access-entry association → grants API | ${summary(entryLatency)} | p95 < 30 s: ${ok(percentile(entryLatency, 95) < 30_000)} |`,
    );
    lines.push(
      `| peak EKS calls/s served per account-region during the probes | ${eks.peakServed} (limit ${limit}; ${eks.throttled} throttled) | <= limit: ${ok(eks.peakServed <= limit)} |`,
    );
    lines.push(
      `| missed changes after ${CHANGES} random changes, ${DROP * 100}% of watches dropped (${reconnects} reconnects, ${relists} relists) | ` +
        `full sync wrote ${drift[0]!.rows} rows in ${drift[0]!.clusters} clusters; drift reported ${drift[0]!.drift}; ${checkFailed} syncs failed | 0: ${ok(Number(drift[0]!.rows) === 0)} |`,
    );
    lines.push(
      `| watcher RSS per ${clusters.length} clusters | idle ${idleRss.join(' + ')} MiB, peak ${watcherRss.join(' + ')} MiB | reported |`,
    );
    lines.push(
      `| idle calls per cluster per hour (${IDLE_S} s measured) | Kubernetes ${perClusterHour(idle.kube).toFixed(0)}, AWS ${perClusterHour(idle.aws).toFixed(0)}; watcher CPU ${idleCpu.toFixed(1)} s | reported |`,
    );
    console.log(lines.join('\n'));
  } finally {
    await stopAll(services);
    await producer.close().catch(() => undefined);
    redis.disconnect();
    await deleteKeys(prefix);
    await database.drop();
    sim.child.kill('SIGTERM');
  }
}

/** The simulator's fault rule that cuts `fraction` of watch connections within 30 s of opening. */
function dropWatches(fraction: number): FaultRule {
  return { target: 'kube:watch:*', dropWatchRate: fraction, dropWithinMs: 30_000 };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
