// `pnpm bench:api`: what the API costs over Fastify itself. One authenticated route,
// `GET /v1/clusters/{id}/grants?limit=100`, on a cluster whose current snapshot holds 30,000 grants,
// served by the compiled API (apps/api/dist/main.js, its own process, production log level, real
// Postgres and Redis) and, in the same run, by a bare Fastify process answering the same path with
// the same bytes (no auth, no database, no validation, no logging). One load generator
// (autocannon, in this process) drives both alike, alternating rounds so drift on a shared machine
// hits both; the figure is the API's throughput over the bare server's (goal >= 0.5x) and the
// p99 latency of each. It checks that every answer was a 200 of the expected length, and never
// fails on timing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { completeSyncRun, createApiKey, createCluster, enqueueSyncRun, startSyncRun } from '@eks-access/db';
import { createTestDatabase, syntheticReport, syntheticSnapshot } from '@eks-access/db/testing';
import {
  ADMIN_URL,
  REDIS_URL,
  compiled,
  cpuSeconds,
  deleteKeys,
  freePort,
  peakRssMiB,
  randomId,
  startService,
  stopAll,
  until,
  type ServiceProcess,
} from './support.js';

const GRANTS = 30_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PATH_QUERY = '?limit=100';

interface Round {
  target: 'api' | 'api-uncached' | 'bare';
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  bytesPerResponse: number;
}

const LABEL: Record<Round['target'], string> = {
  bare: 'bare Fastify (same bytes)',
  api: 'API with READ_CACHE_MB=64 (auth, read cache, schemas, logs)',
  'api-uncached': 'API as deployed by default (Postgres on every request)',
};

async function load(target: Round['target'], url: string, headers: Record<string, string>): Promise<Round> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  return {
    target,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    bytesPerResponse: result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
  };
}

async function main(): Promise<void> {
  const apiMain = compiled('apps/api/dist/main.js', 'pnpm bench:api builds, or pnpm build');
  const bare = resolve(import.meta.dirname, 'bare-fastify.ts');
  const database = await createTestDatabase(ADMIN_URL, { maxConnections: 4 });
  const prefix = `bench-api-${randomId()}`;
  const scratch = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const services: ServiceProcess[] = [];
  try {
    const cluster = await createCluster(database, {
      name: 'bench-api',
      region: 'eu-west-1',
      hostingMode: 'default-chain',
    });
    const { run } = await enqueueSyncRun(database, cluster.id, 'api');
    await startSyncRun(database, run.id, 'bench');
    await completeSyncRun(database, run.id, {
      snapshot: syntheticSnapshot({
        resources: 1_000,
        entitlements: GRANTS,
        grants: GRANTS,
        principals: 500,
      }),
      report: syntheticReport(),
    });
    await database.pool.query('ANALYZE');
    // A real read-scoped key (create-key's), verified through its hash as every caller's is.
    const { key } = await createApiKey(database, 'bench-api', ['read']);

    const startApi = async (id: string, env: Record<string, string>) => {
      const port = await freePort();
      const service = startService(
        id,
        apiMain,
        {
          DATABASE_URL: database.url,
          ENCRYPTION_KEY: database.encryptionKey,
          REDIS_URL,
          QUEUE_PREFIX: prefix,
          HOST: '127.0.0.1',
          PORT: String(port),
          ...env,
          // BENCH_API_PROFILE=<dir>: a V8 CPU profile of the API process, written when it stops.
          ...(process.env.BENCH_API_PROFILE
            ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_API_PROFILE}` }
            : {}),
        },
        /Server listening/,
      );
      services.push(service);
      await service.ready;
      return { service, url: `http://127.0.0.1:${port}/v1/clusters/${cluster.id}/grants${PATH_QUERY}` };
    };
    // With the opt-in read cache (READ_CACHE_MB=64), and as deployed by default: Postgres on every request.
    const { service: api, url: apiUrl } = await startApi('api', { READ_CACHE_MB: '64' });
    const { service: uncached, url: uncachedUrl } = await startApi('api-uncached', {});
    const auth = { authorization: `Bearer ${key}` };
    const sample = await until('the API to answer', async () => {
      const res = await fetch(apiUrl, { headers: auth });
      return res.ok ? res : undefined;
    });
    const body = Buffer.from(await sample.arrayBuffer());
    const items = (JSON.parse(body.toString('utf8')) as { items: unknown[] }).items.length;
    if (items !== 100) throw new Error(`the API answered ${items} grants, not a page of 100`);
    const bodyFile = join(scratch, 'grants.json');
    writeFileSync(bodyFile, body);

    const barePort = await freePort();
    const baseline = startService('bare', bare, {}, /bare fastify ready/, [
      String(barePort),
      bodyFile,
      sample.headers.get('content-type') ?? 'application/json',
    ]);
    services.push(baseline);
    await baseline.ready;
    const bareUrl = `http://127.0.0.1:${barePort}/v1/clusters/${cluster.id}/grants${PATH_QUERY}`;
    const bareBody = Buffer.from(await (await fetch(bareUrl)).arrayBuffer());
    if (!bareBody.equals(body)) throw new Error('the bare server does not answer the same bytes');

    // Warm both (JIT, connection pools, Postgres buffers) before measuring.
    await autocannon({ url: apiUrl, connections: CONNECTIONS, duration: 3, headers: auth });
    await autocannon({ url: uncachedUrl, connections: CONNECTIONS, duration: 3, headers: auth });
    const uncachedBody = Buffer.from(await (await fetch(uncachedUrl, { headers: auth })).arrayBuffer());
    if (!uncachedBody.equals(body)) throw new Error('the API answers differently without its cache');
    await autocannon({ url: bareUrl, connections: CONNECTIONS, duration: 3 });

    const rounds: Round[] = [];
    const loadBefore = loadavg();
    const apiCpuBefore = cpuSeconds(api.child.pid) ?? 0;
    const uncachedCpuBefore = cpuSeconds(uncached.child.pid) ?? 0;
    for (let i = 0; i < ROUNDS; i++) {
      rounds.push(await load('bare', bareUrl, {}));
      rounds.push(await load('api', apiUrl, auth));
      rounds.push(await load('api-uncached', uncachedUrl, auth));
      console.error(`round ${i + 1}/${ROUNDS} done`);
    }
    const apiCpu = (cpuSeconds(api.child.pid) ?? 0) - apiCpuBefore;
    const uncachedCpu = (cpuSeconds(uncached.child.pid) ?? 0) - uncachedCpuBefore;
    const loadAfter = loadavg();
    const of = (t: Round['target']) => rounds.filter((r) => r.target === t);
    const mean = (rs: Round[], f: (r: Round) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    const apiRps = mean(of('api'), (r) => r.requestsPerSecond);
    const bareRps = mean(of('bare'), (r) => r.requestsPerSecond);
    const uncachedRps = mean(of('api-uncached'), (r) => r.requestsPerSecond);
    const bad = rounds.reduce((s, r) => s + r.non2xx + r.errors, 0);

    const lines: string[] = [];
    lines.push(
      `\`GET /v1/clusters/{id}/grants?limit=100\` (${body.length} bytes, a 30,000-grant snapshot), ` +
        `autocannon ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per server, alternating; ` +
        `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')} (2 cores, shared with Postgres and the load generator).`,
    );
    lines.push('');
    lines.push('| server | round | requests/s | p50 (ms) | p99 (ms) | bytes/response | non-2xx + errors |');
    lines.push('|---|---|---|---|---|---|---|');
    rounds.forEach((r, i) =>
      lines.push(
        `| ${LABEL[r.target]} | ${Math.floor(i / 3) + 1} | ` +
          `${Math.round(r.requestsPerSecond)} | ${r.p50} | ${r.p99} | ${Math.round(r.bytesPerResponse)} | ${r.non2xx + r.errors} |`,
      ),
    );
    lines.push('');
    lines.push(
      `**API / bare Fastify: ${(apiRps / bareRps).toFixed(2)}x** (goal >= 0.5x; ${Math.round(apiRps)} vs ${Math.round(bareRps)} requests/s), ` +
        `API p99 ${Math.max(...of('api').map((r) => r.p99))} ms, bare p99 ${Math.max(...of('bare').map((r) => r.p99))} ms; ` +
        `API CPU ${apiCpu.toFixed(1)} s over ${ROUNDS * DURATION_S} s of its load (${(apiCpu / (ROUNDS * DURATION_S)).toFixed(2)} cores), peak RSS ${peakRssMiB(api.child.pid) ?? '?'} MiB. ` +
        `By default (no cache): **${(uncachedRps / bareRps).toFixed(2)}x** (${Math.round(uncachedRps)} requests/s, p99 ${Math.max(...of('api-uncached').map((r) => r.p99))} ms, ` +
        `CPU ${uncachedCpu.toFixed(1)} s). ` +
        `${bad} non-200 answers or errors.`,
    );
    console.log(lines.join('\n'));
    if (bad > 0) process.exitCode = 1;
  } finally {
    await stopAll(services);
    await database.drop();
    await deleteKeys(prefix);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
