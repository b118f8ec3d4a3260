// `pnpm bench:provision`: how long a grant takes to work. 50 grant requests sent through the API at
// once, for 50 different IAM users (half a namespaced ClusterRole, half a namespaced EKS access
// policy, each user in their own namespace of prod-eu), carried out by TWO provisioner processes.
// Every process is the compiled product (apps/*/dist) and the simulator runs in its own process
// (`eks-sim serve`, its default latency unless BENCH_LATENCY_MS is set). A grant's latency runs
// from the moment its POST is sent until the user, with their OWN access key and EKS token, can
// list configmaps in their namespace (polled every 50 ms). Afterwards it checks nothing was lost
// or done twice: every request succeeded exactly once, every user holds exactly one RoleBinding or
// one namespace in the access policy's scope, and nobody holds more. Goal: p99 < 5 s. Prints a
// markdown report; never fails on timing (it exits non-zero when a grant is lost or duplicated).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@eks-access/db/testing';
import { createDemoDocument, DEMO, mintEksToken } from '@eks-access/eks-sim';
import {
  ADMIN_URL,
  REDIS_URL,
  compiled,
  deleteKeys,
  freePort,
  peakRssMiB,
  percentile,
  randomId,
  startService,
  startSimCli,
  stopAll,
  until,
  WORKER_NODE_FLAGS,
  type ServiceProcess,
} from './support.js';

const USERS = 50;
const POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 0);
const MAIN_ACCOUNT = DEMO.alice.userArn.split(':')[4]!;
const AUDITOR = {
  arn: `arn:aws:iam::${MAIN_ACCOUNT}:user/bench/bench-auditor`,
  accessKeyId: 'AKIABENCHAUDITOR0001',
  secretAccessKey: 'benchAuditorSecretKey/DoNotUse'.padEnd(40, '0'),
};

interface BenchUser {
  n: number;
  name: string;
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
  namespace: string;
  /** Even users get a namespaced ClusterRole (a RoleBinding), odd ones the EKS access policy. */
  kind: 'cluster_role' | 'access_policy';
  entitlementId: string;
}

function benchUsers(): BenchUser[] {
  return Array.from({ length: USERS }, (_, n) => {
    const id = String(n).padStart(2, '0');
    const namespace = `bench-${id}`;
    const kind = n % 2 === 0 ? 'cluster_role' : 'access_policy';
    return {
      n,
      name: `bench-user-${id}`,
      arn: `arn:aws:iam::${MAIN_ACCOUNT}:user/bench/bench-user-${id}`,
      accessKeyId: `AKIABENCHUSER00000${id}`,
      secretAccessKey: `benchUserSecretKey/${id}/DoNotUse`.padEnd(40, '0'),
      namespace,
      kind,
      entitlementId:
        kind === 'cluster_role'
          ? `cluster_role:view:${namespace}:member`
          : `access_policy:${POLICY}:assigned:${namespace}`,
    };
  });
}

/** The demo world plus the bench's users (each with a key) and their namespaces in prod-eu. */
function worldDocument(users: BenchUser[]): unknown {
  const doc = createDemoDocument();
  doc.iamUsers = [
    ...(doc.iamUsers ?? []),
    ...users.map((u) => ({
      accountId: MAIN_ACCOUNT,
      userName: u.name,
      path: '/bench/',
      accessKeys: [{ accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey }],
    })),
  ];
  doc.iamUsers.push({
    accountId: MAIN_ACCOUNT,
    userName: 'bench-auditor',
    path: '/bench/',
    accessKeys: [{ accessKeyId: AUDITOR.accessKeyId, secretAccessKey: AUDITOR.secretAccessKey }],
  });
  const prodEu = doc.clusters!.find((c) => c.name === 'prod-eu')!;
  prodEu.namespaces = [...(prodEu.namespaces ?? []), ...users.map((u) => u.namespace)];
  // Reads every RoleBinding afterwards, with the same view of RBAC the connector syncs with.
  prodEu.accessEntries = [
    ...(prodEu.accessEntries ?? []),
    {
      principalArn: AUDITOR.arn,
      policyAssociations: [{ policyArn: 'AmazonEKSAdminViewPolicy', accessScope: { type: 'cluster' } }],
    },
  ];
  return doc;
}

/** Whether the user, with their own token, may list configmaps in their namespace (200 vs 403). */
function canList(endpoint: string, ca: Buffer, token: string, namespace: string): Promise<boolean> {
  return new Promise((done, fail) => {
    const req = request(
      `${endpoint}/api/v1/namespaces/${namespace}/configmaps?limit=1`,
      { ca, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        res.resume();
        if (res.statusCode === 200) done(true);
        else if (res.statusCode === 403 || res.statusCode === 401) done(false);
        else fail(new Error(`unexpected ${res.statusCode ?? '?'}`));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

interface Outcome {
  user: BenchUser;
  requestId: string;
  acceptedMs: number;
  effectiveMs: number;
  status: string;
}

async function main(): Promise<void> {
  const apiMain = compiled('apps/api/dist/main.js');
  const syncMain = compiled('apps/sync-worker/dist/main.js');
  const provMain = compiled('apps/provisioner/dist/main.js');
  const users = benchUsers();
  const scratch = mkdtempSync(join(tmpdir(), 'bench-provision-'));
  const worldFile = join(scratch, 'world.json');
  writeFileSync(worldFile, JSON.stringify(worldDocument(users)));
  const faults = LATENCY_MS > 0 ? ['--fault', JSON.stringify({ target: '*', latencyMs: LATENCY_MS })] : [];
  const sim = await startSimCli(
    ['--world', worldFile, '--connector-can-provision', ...faults],
    'pnpm bench:provision builds, or pnpm build',
  );
  const database = await createTestDatabase(ADMIN_URL, { maxConnections: 4 });
  const prefix = `bench-prov-${randomId()}`;
  const key = `bench-${randomId(16)}`;
  const services: ServiceProcess[] = [];
  try {
    const common = {
      DATABASE_URL: database.url,
      ENCRYPTION_KEY: database.encryptionKey,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      AWS_ENDPOINT_URL: sim.ready.aws.endpoint,
    };
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    services.push(
      startService(
        'api',
        apiMain,
        { ...common, HOST: '127.0.0.1', PORT: String(port), BOOTSTRAP_API_KEY: key },
        /Server listening/,
      ),
      startService('sync-1', syncMain, { ...common, WORKER_ID: 'sync-1' }, /"msg":"sync worker ready"/),
      ...['prov-1', 'prov-2'].map((id) =>
        startService(
          id,
          provMain,
          {
            ...common,
            WORKER_ID: id,
            // The default unless set (PROVISION_CONCURRENCY=16 pnpm bench:provision).
            ...(process.env.PROVISION_CONCURRENCY
              ? { PROVISION_CONCURRENCY: process.env.PROVISION_CONCURRENCY }
              : {}),
          },
          /"msg":"provisioner ready"/,
          [],
          WORKER_NODE_FLAGS,
        ),
      ),
    );
    await Promise.all(services.map((s) => s.ready));
    const call = async <T>(
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    };

    const created = await call<{ id: string }>('POST', '/v1/clusters', {
      name: 'prod-eu',
      region: 'eu-west-1',
      roleArn: DEMO.connector.roleArn,
      accessKey: { accessKeyId: DEMO.connector.accessKeyId, secretAccessKey: DEMO.connector.secretAccessKey },
      provisioningEnabled: true,
    });
    if (created.status !== 201) throw new Error(`registering prod-eu: ${JSON.stringify(created.body)}`);
    const clusterId = created.body.id;
    const run = (await call<{ id: string }>('POST', `/v1/clusters/${clusterId}/syncs`)).body;
    await until(
      'the first sync',
      async () => {
        const r = (await call<{ status: string }>('GET', `/v1/syncs/${run.id}`)).body;
        if (r.status === 'failed') throw new Error('the first sync failed');
        return r.status === 'succeeded' ? r : undefined;
      },
      120_000,
    );

    const cluster = sim.ready.clusters.find((c) => c.name === 'prod-eu')!;
    const ca = Buffer.from(cluster.caData, 'base64');
    // Each user's own EKS token, minted once (valid 15 minutes), as kubectl caches it.
    const tokens = await Promise.all(
      users.map((u) =>
        mintEksToken({
          credentials: { accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey },
          region: cluster.region,
          clusterName: cluster.name,
        }),
      ),
    );
    for (const u of users) {
      if (await canList(cluster.endpoint, ca, tokens[u.n]!, u.namespace))
        throw new Error(`${u.name} can already list ${u.namespace}: the world is wrong`);
    }

    const loadBefore = loadavg();
    const started = performance.now();
    const outcomes = await Promise.all(
      users.map(async (u): Promise<Outcome> => {
        const t0 = performance.now();
        const res = await call<{ id: string }>(
          'POST',
          '/v1/provisioning-requests',
          {
            clusterId,
            action: 'grant',
            entitlementId: u.entitlementId,
            principal: { type: 'iam_user', arn: u.arn },
          },
          { 'idempotency-key': `bench-${u.name}-${prefix}` },
        );
        if (res.status !== 202) throw new Error(`${u.name}: ${res.status} ${JSON.stringify(res.body)}`);
        const acceptedMs = performance.now() - t0;
        await until(
          `${u.name} to be able to list ${u.namespace}`,
          async () => ((await canList(cluster.endpoint, ca, tokens[u.n]!, u.namespace)) ? true : undefined),
          120_000,
          50,
        );
        const effectiveMs = performance.now() - t0;
        const done = await until(`request ${res.body.id}`, async () => {
          const r = (await call<{ status: string }>('GET', `/v1/provisioning-requests/${res.body.id}`)).body;
          return r.status === 'pending' || r.status === 'running' ? undefined : r;
        });
        return { user: u, requestId: res.body.id, acceptedMs, effectiveMs, status: done.status };
      }),
    );
    const wallMs = performance.now() - started;
    const loadAfter = loadavg();

    // Nothing lost, nothing done twice: the requests, the audit of who ran them, and the cluster.
    const failed = outcomes.filter((o) => o.status !== 'succeeded');
    const { rows: runs } = await database.pool.query<{ n: string; workers: string }>(
      `SELECT count(*) AS n, count(DISTINCT worker) AS workers FROM provisioning_requests WHERE cluster_id = $1`,
      [clusterId],
    );
    const clusterState = await fetchClusterState(cluster.endpoint, ca);
    const problems: string[] = [...failed.map((o) => `${o.user.name}: request ${o.requestId} ${o.status}`)];
    // Each bench namespace is one user's: the connector's RoleBinding is the only one it may hold.
    for (const u of users) {
      const inNamespace = clusterState.bindings.get(u.namespace) ?? 0;
      const want = u.kind === 'cluster_role' ? 1 : 0;
      if (inNamespace !== want)
        problems.push(`${u.namespace} holds ${inNamespace} RoleBindings (want ${want})`);
    }
    // Access policies live in EKS: a final sync reads them back, and each odd user must hold
    // exactly their namespace of the policy (and no RoleBinding-made grant), each even user none.
    // A sync asked for while one is queued or running joins it (the provisioners queue one after
    // each grant), so ask until the run read the cluster after the last grant was done.
    const allDone = new Date();
    for (let attempt = 0; ; attempt++) {
      const asked = (await call<{ id: string }>('POST', `/v1/clusters/${clusterId}/syncs`)).body;
      const finished = await until(
        'the final sync',
        async () => {
          const r = (await call<{ status: string; startedAt: string | null }>('GET', `/v1/syncs/${asked.id}`))
            .body;
          return r.status === 'succeeded' || r.status === 'failed' ? r : undefined;
        },
        120_000,
      );
      if (finished.status !== 'succeeded') throw new Error('the final sync failed');
      if (new Date(finished.startedAt!) > allDone) break;
      if (attempt === 5) throw new Error('no sync started after the grants were done');
    }
    for (const u of users) {
      const held = await grantsOf(call, clusterId, u.arn);
      const policyNamespaces = held.filter((e) => e.startsWith(`access_policy:${POLICY}:assigned:`));
      const want = u.kind === 'access_policy' ? [u.entitlementId] : [];
      if (JSON.stringify(policyNamespaces) !== JSON.stringify(want))
        problems.push(
          `${u.name} holds ${policyNamespaces.join(', ') || 'no access policy'} (want ${want.join(', ') || 'none'})`,
        );
      if (!held.includes(u.entitlementId))
        problems.push(`${u.name} does not hold ${u.entitlementId} after a sync`);
    }
    // The other users must not be able to list a namespace that is not theirs.
    for (const u of users.slice(0, 6)) {
      const other = users[(u.n + 1) % USERS]!;
      if (await canList(cluster.endpoint, ca, tokens[u.n]!, other.namespace))
        problems.push(`${u.name} can list ${other.namespace}`);
    }
    const perWorker = await database.pool.query<{ worker: string | null; n: string }>(
      `SELECT worker, count(*) AS n FROM provisioning_requests WHERE cluster_id = $1 GROUP BY worker ORDER BY worker`,
      [clusterId],
    );

    const effective = outcomes.map((o) => o.effectiveMs);
    const accepted = outcomes.map((o) => o.acceptedMs);
    const byKind = (k: BenchUser['kind']) =>
      outcomes.filter((o) => o.user.kind === k).map((o) => o.effectiveMs);
    const ms = (v: number) => `${Math.round(v)} ms`;
    const lines: string[] = [];
    lines.push(
      `${USERS} grant requests sent at once through the API (25 namespaced ClusterRole, 25 namespaced access policy, ` +
        `one user and namespace each), 2 provisioner processes, simulator latency ${LATENCY_MS} ms per call` +
        `${LATENCY_MS === 0 ? ' (its default)' : ''}; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, ` +
        `after ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (2 cores, shared with Postgres, Redis, the simulator and the API).`,
    );
    lines.push('');
    lines.push('| figure | p50 | p99 | max |');
    lines.push('|---|---|---|---|');
    lines.push(
      `| POST answered (202) | ${ms(percentile(accepted, 50))} | ${ms(percentile(accepted, 99))} | ${ms(Math.max(...accepted))} |`,
    );
    lines.push(
      `| effective for the user's own token (all) | ${ms(percentile(effective, 50))} | ${ms(percentile(effective, 99))} | ${ms(Math.max(...effective))} |`,
    );
    for (const k of ['cluster_role', 'access_policy'] as const) {
      const v = byKind(k);
      lines.push(
        `| effective, ${k === 'cluster_role' ? 'namespaced ClusterRole' : 'namespaced access policy'} | ${ms(percentile(v, 50))} | ${ms(percentile(v, 99))} | ${ms(Math.max(...v))} |`,
      );
    }
    lines.push('');
    lines.push(
      `All 50 effective after ${ms(wallMs)}; requests recorded ${runs[0]!.n} (want ${USERS}), by worker ` +
        `${perWorker.rows.map((r) => `${r.worker ?? 'none'}: ${r.n}`).join(', ')}; ` +
        `lost or duplicated grants: ${problems.length}; provisioner peak RSS ` +
        `${services
          .filter((s) => s.id.startsWith('prov'))
          .map((s) => `${peakRssMiB(s.child.pid) ?? '?'} MiB`)
          .join(' / ')}. **Goal p99 < 5 s: ${percentile(effective, 99) < 5000 ? 'met' : 'not met'}.**`,
    );
    console.log(lines.join('\n'));
    if (problems.length > 0) {
      console.error(problems.join('\n'));
      process.exitCode = 1;
    }
  } finally {
    await stopAll(services);
    await stopAll([sim]);
    await database.drop();
    await deleteKeys(prefix);
    rmSync(scratch, { recursive: true, force: true });
  }
}

type Call = <T>(method: string, path: string) => Promise<{ status: number; body: T }>;

/** The entitlement ids a principal holds in the cluster's current snapshot (every page). */
async function grantsOf(call: Call, clusterId: string, arn: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const q = new URLSearchParams({ principalId: arn, limit: '500', ...(cursor ? { cursor } : {}) });
    const page = (
      await call<{ items: { entitlementId: string }[]; nextCursor?: string | null }>(
        'GET',
        `/v1/clusters/${clusterId}/grants?${q.toString()}`,
      )
    ).body;
    out.push(...page.items.map((g) => g.entitlementId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out.sort();
}

/** How many RoleBindings each namespace holds, read from the cluster by the auditor. */
async function fetchClusterState(endpoint: string, ca: Buffer): Promise<{ bindings: Map<string, number> }> {
  const token = await mintEksToken({
    credentials: { accessKeyId: AUDITOR.accessKeyId, secretAccessKey: AUDITOR.secretAccessKey },
    region: 'eu-west-1',
    clusterName: 'prod-eu',
  });
  const body = await new Promise<string>((done, fail) => {
    const req = request(
      `${endpoint}/apis/rbac.authorization.k8s.io/v1/rolebindings`,
      { ca, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          res.statusCode === 200 ? done(text) : fail(new Error(`${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on('error', fail);
    req.end();
  });
  const list = JSON.parse(body) as { items: { metadata: { namespace: string } }[] };
  const bindings = new Map<string, number>();
  for (const item of list.items)
    bindings.set(item.metadata.namespace, (bindings.get(item.metadata.namespace) ?? 0) + 1);
  return { bindings };
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
