// pnpm test:compose: the docker compose stack as a new user meets it, on a machine with a Docker
// engine (not part of pnpm check: CI has none). From clean volumes it builds and starts the stack,
// waits until every service is healthy (or, for the one-shot ones, exited 0 on the first try), runs
// the README's "Run the service" calls, probes every worker's /healthz, /readyz and /metrics, stops
// Redis and shows every /readyz turn red and then green again without a restart, scales the sync
// worker to 4 and syncs until every worker has taken jobs, kills a worker in the middle of a sync
// and shows the run still succeeds, then removes the stack with its volumes. It prints one line per
// step with its time and a one-line summary; it exits 1 on the first failure (after printing the
// stack's state and the failing service's logs).
//
//   pnpm test:compose                                          # docker compose v2, or docker-compose
//   COMPOSE=../shared/tools/compose-local/up.sh pnpm test:compose   # any compatible command
//   KEEP=1 pnpm test:compose                                   # leave the stack up on failure
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
// eslint-disable-next-line no-restricted-properties -- a command-line entry point: its settings are the environment
const env = process.env;
const ROOT = resolve(import.meta.dirname, '../..');
const API = env.API_URL ?? 'http://127.0.0.1:8080';
const SIM = env.SIM_URL ?? 'http://127.0.0.1:4510';
const C1_ADMIN = env.C1_ADMIN_URL ?? 'http://127.0.0.1:8089';
const KEY = 'local-dev-bootstrap-key-change-me'; // BOOTSTRAP_API_KEY in docker-compose.yml
const ALICE = 'arn:aws:iam::111111111111:user/people/alice';
const WORKERS = { 'sync-worker': 9464, provisioner: 9465, uploader: 9466 } as const;
const ONE_SHOT = new Set(['migrate', 'demo-clusters']);

class StepFailure extends Error {
  constructor(
    message: string,
    readonly service?: string,
  ) {
    super(message);
  }
}

const started = Date.now();
const timings: string[] = [];
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (line: string) => process.stdout.write(`[${secs(Date.now() - started).padStart(8)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function composeCommand(): Promise<string[]> {
  if (env.COMPOSE) return env.COMPOSE.split(' ').filter(Boolean);
  try {
    await exec('docker', ['compose', 'version']);
    return ['docker', 'compose'];
  } catch {
    return ['docker-compose'];
  }
}
let COMPOSE: string[] = [];

async function compose(args: string[], timeoutMs = 30 * 60_000): Promise<string> {
  const [cmd, ...pre] = COMPOSE;
  const { stdout } = await exec(cmd!, [...pre, ...args], {
    cwd: ROOT,
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await exec('docker', args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
  return stdout;
}

interface Container {
  id: string;
  service: string;
  name: string;
  hostname: string;
  status: string;
  health: string | undefined;
  exitCode: number;
  restarts: number;
}

async function containers(): Promise<Container[]> {
  const ids = (await compose(['ps', '-a', '-q'])).split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse(await docker(['inspect', ...ids])) as {
    Id: string;
    Name: string;
    RestartCount: number;
    Config: { Hostname: string; Labels: Record<string, string> };
    State: { Status: string; ExitCode: number; Health?: { Status: string } };
  }[];
  return inspected.map((c) => ({
    id: c.Id.slice(0, 12),
    service: c.Config.Labels['com.docker.compose.service'] ?? '?',
    name: c.Name.replace(/^\//, ''),
    hostname: c.Config.Hostname,
    status: c.State.Status,
    health: c.State.Health?.Status,
    exitCode: c.State.ExitCode,
    restarts: c.RestartCount,
  }));
}

/** Waits until every long-running service is healthy and every one-shot one exited 0, first try. */
async function waitHealthy(expect: Record<string, number>, timeoutMs: number): Promise<Container[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const all = await containers();
    for (const c of all) {
      if (ONE_SHOT.has(c.service) && c.status === 'exited' && c.exitCode !== 0)
        throw new StepFailure(`${c.name} exited ${c.exitCode}`, c.service);
      if (ONE_SHOT.has(c.service) && c.restarts > 0)
        throw new StepFailure(`${c.name} was restarted`, c.service);
    }
    const pending = all.filter((c) =>
      ONE_SHOT.has(c.service) ? c.status !== 'exited' : c.status !== 'running' || c.health !== 'healthy',
    );
    const counts = Object.entries(expect).filter(
      ([service, n]) => all.filter((c) => c.service === service && c.status === 'running').length !== n,
    );
    if (pending.length === 0 && counts.length === 0) return all;
    last = [
      ...pending.map((c) => `${c.name}: ${c.status}${c.health ? `/${c.health}` : ''}`),
      ...counts.map(([s, n]) => `${s}: want ${n} running`),
    ].join(', ');
    if (Date.now() > deadline)
      throw new StepFailure(`not healthy after ${secs(timeoutMs)}: ${last}`, pending[0]?.service);
    await sleep(2000);
  }
}

async function call<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function ok<T>(
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
): Promise<T> {
  const res = await call<T>(method, path, body, headers);
  if (res.status >= 300)
    throw new StepFailure(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`, 'api');
  return res.body;
}

interface Run {
  id: string;
  clusterId: string;
  status: string;
  worker: string | null;
  attempt?: number;
  error?: unknown;
}

async function waitRuns(
  ids: string[],
  timeoutMs: number,
  onPoll?: (runs: Run[]) => Promise<void>,
): Promise<Run[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const runs = await Promise.all(ids.map((id) => ok<Run>('GET', `/v1/syncs/${id}`)));
    if (onPoll) await onPoll(runs);
    const failed = runs.filter((r) => r.status === 'failed' || r.status === 'partial');
    if (failed.length > 0)
      throw new StepFailure(
        `sync runs ended ${failed.map((r) => `${r.status}: ${JSON.stringify(r.error)}`).join('; ')}`,
        'sync-worker',
      );
    if (runs.every((r) => r.status === 'succeeded')) return runs;
    if (Date.now() > deadline)
      throw new StepFailure(
        `sync runs not done after ${secs(timeoutMs)}: ${runs.map((r) => r.status).join(', ')}`,
        'sync-worker',
      );
    await sleep(500);
  }
}

async function syncAll(timeoutMs = 5 * 60_000, onPoll?: (runs: Run[]) => Promise<void>): Promise<Run[]> {
  const queued = await ok<{ items: { id: string }[] }>('POST', '/v1/syncs');
  return waitRuns(
    queued.items.map((r) => r.id),
    timeoutMs,
    onPoll,
  );
}

/** GET on a worker's health port from inside its container (worker ports are not published). */
async function probe(c: Container, port: number, path: string): Promise<{ status: number; body: string }> {
  const script = `fetch('http://127.0.0.1:${port}${path}',{signal:AbortSignal.timeout(8000)}).then(async r=>{process.stdout.write(JSON.stringify({status:r.status,body:await r.text()}))},e=>{process.stdout.write(JSON.stringify({status:0,body:String(e)}))})`;
  try {
    return JSON.parse(await docker(['exec', c.id, 'node', '-e', script], 30_000)) as {
      status: number;
      body: string;
    };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

async function untilStatus(c: Container, port: number, want: number, timeoutMs: number): Promise<number> {
  const from = Date.now();
  for (;;) {
    const r = await probe(c, port, '/readyz');
    if (r.status === want) return Date.now() - from;
    if (Date.now() - from > timeoutMs)
      throw new StepFailure(
        `${c.name} /readyz stayed ${r.status} (want ${want}): ${r.body.slice(0, 300)}`,
        c.service,
      );
    await sleep(1000);
  }
}

async function apiReady(want: number, timeoutMs: number): Promise<number> {
  const from = Date.now();
  for (;;) {
    const status = await fetch(`${API}/readyz`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === want) return Date.now() - from;
    if (Date.now() - from > timeoutMs)
      throw new StepFailure(`API /readyz stayed ${status} (want ${want})`, 'api');
    await sleep(1000);
  }
}

async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const from = Date.now();
  log(`▶ ${name}`);
  const result = await work();
  timings.push(`${name} ${secs(Date.now() - from)}`);
  log(`✔ ${name} (${secs(Date.now() - from)})`);
  return result;
}

async function main(): Promise<void> {
  COMPOSE = await composeCommand();
  log(`compose command: ${COMPOSE.join(' ')}; project directory ${ROOT}`);

  await step('down -v (clean volumes)', () => compose(['down', '-v', '--remove-orphans']));
  await step('up --build -d', () => compose(['up', '--build', '-d']));
  const first = await step('every service healthy, migrate and demo-clusters exited 0 on the first try', () =>
    waitHealthy({ 'sync-worker': 2 }, 15 * 60_000),
  );
  log(
    `  ${first.map((c) => `${c.service}=${ONE_SHOT.has(c.service) ? `exit ${c.exitCode}` : c.health}`).join(' ')}`,
  );

  // README "Run the service", call by call.
  const clusters = await step('GET /v1/clusters', async () => {
    const list = await ok<{ items: { id: string; name: string; region: string }[] }>('GET', '/v1/clusters');
    const names = list.items.map((c) => c.name).sort();
    if (names.join() !== 'legacy-us,prod-eu,staging-us')
      throw new StepFailure(`clusters: ${names.join(', ')}`, 'demo-clusters');
    log(`  ${list.items.map((c) => `${c.name} (${c.region})`).join(', ')}`);
    return list.items;
  });
  const byName = Object.fromEntries(clusters.map((c) => [c.name, c.id]));
  await step('POST /v1/syncs, every run succeeded', async () => {
    const runs = await syncAll();
    for (const r of runs) {
      const full = await ok<{ counts?: Record<string, unknown> }>('GET', `/v1/syncs/${r.id}`);
      log(
        `  ${clusters.find((c) => c.id === r.clusterId)?.name}: ${r.status} by ${r.worker} ${JSON.stringify(full.counts ?? {})}`,
      );
    }
  });
  await step('system:masters grants per cluster', async () => {
    let total = 0;
    for (const c of clusters) {
      const grants = await ok<{ items: { principal: unknown }[] }>(
        'GET',
        `/v1/clusters/${c.id}/grants?entitlementId=${encodeURIComponent('k8s_group:system:masters:member')}`,
      );
      total += grants.items.length;
      log(`  ${c.name}: ${grants.items.length} member(s)`);
    }
    if (total === 0) throw new StepFailure('no system:masters members in any cluster', 'sync-worker');
  });
  await step("alice's access across clusters", async () => {
    const access = await ok<{ items: { cluster: { name: string }; grant: { entitlementId: string } }[] }>(
      'GET',
      `/v1/principals/${encodeURIComponent(ALICE)}/access`,
    );
    const where = [...new Set(access.items.map((a) => a.cluster.name))];
    log(`  ${access.items.length} grants in ${where.join(', ')}`);
    if (where.length < 2) throw new StepFailure(`alice's access in ${where.length} cluster(s)`, 'api');
  });
  await step('enable provisioning on prod-eu, grant alice view in team-a', async () => {
    await ok('PATCH', `/v1/clusters/${byName['prod-eu']}`, { provisioningEnabled: true });
    const req = await ok<{ id: string }>(
      'POST',
      '/v1/provisioning-requests',
      {
        clusterId: byName['prod-eu'],
        action: 'grant',
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'iam_user', arn: ALICE },
        reason: 'compose smoke test',
      },
      { 'idempotency-key': randomUUID() },
    );
    const deadline = Date.now() + 3 * 60_000;
    for (;;) {
      const r = await ok<{ status: string; result?: string; error?: unknown }>(
        'GET',
        `/v1/provisioning-requests/${req.id}`,
      );
      if (r.status === 'succeeded') return log(`  ${r.status}: ${r.result}`);
      if (r.status === 'failed' || r.status === 'refused')
        throw new StepFailure(`provisioning ${r.status}: ${JSON.stringify(r.error)}`, 'provisioner');
      if (Date.now() > deadline) throw new StepFailure(`provisioning still ${r.status}`, 'provisioner');
      await sleep(1000);
    }
  });
  await step("the stand-in C1's first upload", async () => {
    // The stand-in queues a full sync every two minutes; its admin API queues one now.
    const task = await fetch(`${C1_ADMIN}/admin/tasks`, {
      method: 'POST',
      body: JSON.stringify({ syncFull: {} }),
      headers: { 'content-type': 'application/json' },
    });
    if (!task.ok) throw new StepFailure(`stand-in admin API answered ${task.status}`, 'c1-standin');
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      const uploads = await ok<{
        items: { status: string; sizeBytes?: number; size?: number; attempts?: number }[];
      }>('GET', '/v1/uploads');
      const done = uploads.items.find((u) => u.status === 'succeeded');
      if (done) return log(`  upload succeeded: ${JSON.stringify(done).slice(0, 200)}`);
      const dead = uploads.items.find((u) => u.status === 'dead');
      if (dead) throw new StepFailure(`upload dead: ${JSON.stringify(dead)}`, 'uploader');
      if (Date.now() > deadline)
        throw new StepFailure(
          `no upload succeeded: ${uploads.items.map((u) => u.status).join(', ')}`,
          'uploader',
        );
      await sleep(2000);
    }
  });

  const workers = (await containers()).filter((c) => c.service in WORKERS && c.status === 'running');
  const portOf = (c: Container) => WORKERS[c.service as keyof typeof WORKERS];
  await step('every worker answers /healthz, /readyz and /metrics', async () => {
    for (const c of workers) {
      const [healthz, readyz, metrics] = [
        await probe(c, portOf(c), '/healthz'),
        await probe(c, portOf(c), '/readyz'),
        await probe(c, portOf(c), '/metrics'),
      ];
      const series = metrics.body.split('\n').filter((l) => /^(eks_access_job_|bullmq_job_)/.test(l)).length;
      log(
        `  ${c.name}: /healthz ${healthz.status}, /readyz ${readyz.status}, /metrics ${metrics.status} (${series} job and queue samples)`,
      );
      if (healthz.status !== 200 || readyz.status !== 200 || metrics.status !== 200)
        throw new StepFailure(
          `${c.name} probes ${healthz.status}/${readyz.status}/${metrics.status}`,
          c.service,
        );
      for (const name of [
        'eks_access_job_duration_seconds',
        'eks_access_jobs_stalled_total',
        'bullmq_job_count',
      ]) {
        if (!metrics.body.includes(name))
          throw new StepFailure(`${c.name} /metrics has no ${name}`, c.service);
      }
    }
  });

  const redis = (await containers()).find((c) => c.service === 'redis');
  if (!redis) throw new StepFailure('no redis container', 'redis');
  await step('stop Redis: every /readyz turns 503', async () => {
    await docker(['stop', redis.id]);
    for (const c of workers)
      log(`  ${c.name}: 503 after ${secs(await untilStatus(c, portOf(c), 503, 120_000))}`);
    log(`  API: 503 after ${secs(await apiReady(503, 120_000))}`);
  });
  await step('start Redis: every /readyz back to 200 without a restart', async () => {
    await docker(['start', redis.id]);
    for (const c of workers)
      log(`  ${c.name}: 200 after ${secs(await untilStatus(c, portOf(c), 200, 180_000))}`);
    log(`  API: 200 after ${secs(await apiReady(200, 180_000))}`);
    const now = await containers();
    for (const c of workers) {
      const same = now.find((n) => n.id === c.id);
      if (!same || same.restarts !== c.restarts || same.status !== 'running')
        throw new StepFailure(`${c.name} was restarted`, c.service);
    }
  });
  await step('sync after the Redis restart', () => syncAll());

  await step('scale sync-worker to 4', async () => {
    await compose(['up', '-d', '--no-recreate', '--scale', 'sync-worker=4']);
    await waitHealthy({ 'sync-worker': 4 }, 10 * 60_000);
  });
  await step('sync until every one of the 4 workers has taken jobs', async () => {
    const syncWorkers = (await containers()).filter(
      (c) => c.service === 'sync-worker' && c.status === 'running',
    );
    const took = new Map<string, number>();
    for (let round = 1; round <= 12; round++) {
      for (const r of await syncAll()) {
        const c = syncWorkers.find((w) => r.worker?.startsWith(`${w.hostname}-`));
        if (c) took.set(c.name, (took.get(c.name) ?? 0) + 1);
      }
      log(`  round ${round}: ${syncWorkers.map((w) => `${w.name}=${took.get(w.name) ?? 0}`).join(' ')}`);
      if (syncWorkers.every((w) => took.has(w.name))) return;
    }
    throw new StepFailure('not every sync worker took a job in 12 rounds', 'sync-worker');
  });

  await step('docker kill a sync worker mid-sync: the run still succeeds', async () => {
    // 300 ms per Kubernetes call, so a sync lasts long enough to be caught running.
    await fetch(`${SIM}/_sim/faults`, {
      method: 'PUT',
      body: JSON.stringify([{ target: 'kube:*', latencyMs: 300 }]),
    });
    try {
      const syncWorkers = (await containers()).filter(
        (c) => c.service === 'sync-worker' && c.status === 'running',
      );
      let killed: { container: Container; run: string } | undefined;
      const runs = await syncAll(10 * 60_000, async (polled) => {
        if (killed) return;
        const running = polled.find((r) => r.status === 'running' && r.worker);
        const victim = running && syncWorkers.find((w) => running.worker!.startsWith(`${w.hostname}-`));
        if (!running || !victim) return;
        await docker(['kill', victim.id]);
        killed = { container: victim, run: running.id };
        log(
          `  killed ${victim.name} while it ran ${clusters.find((c) => c.id === running.clusterId)?.name} (run ${running.id})`,
        );
      });
      if (!killed) throw new StepFailure('no run was caught running', 'sync-worker');
      const run = runs.find((r) => r.id === killed!.run)!;
      log(`  run ${run.id}: ${run.status} by ${run.worker} (attempt ${run.attempt ?? '?'})`);
    } finally {
      await fetch(`${SIM}/_sim/faults`, { method: 'DELETE' }).catch(() => undefined);
    }
  });

  await step('down -v', () => compose(['down', '-v', '--remove-orphans']));
}

main().then(
  () => {
    process.stdout.write(
      `compose smoke test: PASS in ${secs(Date.now() - started)} (${timings.join('; ')})\n`,
    );
  },
  async (err: unknown) => {
    const failure =
      err instanceof StepFailure
        ? err
        : new StepFailure(err instanceof Error ? (err.stack ?? err.message) : String(err));
    log(`✘ ${failure.message}`);
    try {
      for (const c of await containers())
        log(
          `  ${c.name}: ${c.status}${c.health ? `/${c.health}` : ''} exit ${c.exitCode} restarts ${c.restarts}`,
        );
      if (failure.service)
        process.stdout.write(
          await compose(['logs', '--tail', '60', failure.service]).catch((e: unknown) => String(e)),
        );
      if (!env.KEEP) await compose(['down', '-v', '--remove-orphans']);
    } catch (cleanupErr) {
      log(`  (cleanup failed: ${String(cleanupErr)})`);
    }
    process.stdout.write(
      `compose smoke test: FAIL after ${secs(Date.now() - started)}: ${failure.message.split('\n')[0]} (${timings.join('; ')})\n`,
    );
    process.exitCode = 1;
  },
);
