import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { LockLostError } from '@eks-access/queue';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from './index.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A TCP proxy to the real Redis that can be cut and restored, standing in for a Redis outage. */
async function redisProxy(): Promise<{
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const s of sockets) s.destroy();
    await closed;
    server = undefined;
  };
  await listen();
  return { url: `redis://127.0.0.1:${port}`, cut, restore: listen, close: cut };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
}

/** Polls `url` until it answers `status`; returns how it answered last. */
async function until(
  url: string,
  status: number,
  timeoutMs = 60_000,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  let last = await get(url);
  while (last.status !== status && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await get(url);
  }
  return last;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function config(redisUrl: string, prefix: string) {
  return {
    DATABASE_URL,
    REDIS_URL: redisUrl,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    SHUTDOWN_TIMEOUT_MS: 1000,
    WORKER_ID: 'kit-test',
    JOB_LOCK_MS: 30_000,
    STALLED_CHECK_MS: 30_000,
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: 0,
  };
}

async function start(
  redisUrl: string,
  prefix: string,
  more: Partial<WorkerProcessOptions<'c1-upload'>> = {},
): Promise<WorkerProcess<'c1-upload'>> {
  const worker = await startWorkerProcess({
    service: 'kit-test',
    config: config(redisUrl, prefix),
    queue: 'c1-upload',
    concurrency: 1,
    maxConnections: 2,
    ...more,
  });
  cleanups.push(() => worker.stop('test'));
  return worker;
}

async function dropKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

describe('worker health server', () => {
  it('answers /healthz at once and /readyz only once the queue worker runs', async () => {
    const prefix = `test-kit-${randomUUID().slice(0, 8)}`;
    cleanups.push(() => dropKeys(prefix));
    const worker = await start(REDIS_URL, prefix);
    expect((await get(`${worker.health.url}/healthz`)).status).toBe(200);
    const before = await get(`${worker.health.url}/readyz`);
    expect(before.status).toBe(503);
    expect(JSON.parse(before.body).checks.worker.ok).toBe(false);
    await worker.consume({ 'upload.snapshot': async () => ({}) });
    const after = await get(`${worker.health.url}/readyz`);
    expect(after.status).toBe(200);
    expect(JSON.parse(after.body).checks).toEqual({
      postgres: { ok: true },
      redis: { ok: true },
      worker: { ok: true },
    });
  });

  it(
    'goes not-ready while Redis is unreachable and ready again when it is back, without a restart',
    { timeout: 180_000 },
    async () => {
      const prefix = `test-kit-${randomUUID().slice(0, 8)}`;
      cleanups.push(() => dropKeys(prefix));
      const proxy = await redisProxy();
      cleanups.push(() => proxy.close());
      const worker = await start(proxy.url, prefix);
      await worker.consume({ 'upload.snapshot': async () => ({}) });
      expect((await until(`${worker.health.url}/readyz`, 200)).status).toBe(200);

      await proxy.cut();
      const down = await until(`${worker.health.url}/readyz`, 503);
      expect(down.status).toBe(503);
      expect(JSON.parse(down.body).checks.redis.ok).toBe(false);
      expect((await get(`${worker.health.url}/healthz`)).status).toBe(200);

      await proxy.restore();
      const back = await until(`${worker.health.url}/readyz`, 200, 120_000);
      expect(back.status).toBe(200);
    },
  );

  it(
    'serves per-job metrics, the job-health counters and BullMQ’s queue metrics on /metrics',
    { timeout: 60_000 },
    async () => {
      const prefix = `test-kit-${randomUUID().slice(0, 8)}`;
      cleanups.push(() => dropKeys(prefix));
      const worker = await start(REDIS_URL, prefix);
      let runs = 0;
      const failing = randomUUID();
      await worker.consume({
        'upload.snapshot': async ({ uploadId }) => {
          runs++;
          // A lock that lapsed under the work: counted as a failure by its code and as a lock loss.
          if (uploadId === failing) throw new LockLostError('lock:test');
          return {};
        },
      });
      await worker.producer.enqueue('upload.snapshot', { uploadId: randomUUID() });
      await worker.producer.enqueue('upload.snapshot', { uploadId: failing });
      const deadline = Date.now() + 30_000;
      const want = [
        'eks_access_job_duration_seconds_count{queue="c1-upload",job="upload.snapshot",outcome="completed"} 1',
        'eks_access_job_duration_seconds_count{queue="c1-upload",job="upload.snapshot",outcome="retrying"} 1',
        'eks_access_job_failures_total{queue="c1-upload",job="upload.snapshot",code="LOCK_LOST"} 1',
        'eks_access_job_lock_losses_total{queue="c1-upload",kind="work"} 1',
        'eks_access_job_attempts_total{queue="c1-upload",job="upload.snapshot",retry="false"} 2',
      ];
      // Each run is counted right after its handler returns or throws.
      let text = '';
      while (Date.now() < deadline) {
        text = (await get(`${worker.health.url}/metrics`)).body;
        if (want.every((line) => text.includes(line))) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(runs).toBeGreaterThanOrEqual(2);
      for (const line of want) expect(text).toContain(line);
      expect(text).toContain('# TYPE eks_access_jobs_stalled_total counter');
      expect(text).toContain('# TYPE eks_access_job_failures_total counter');
      expect(text).toMatch(/bullmq_job_count\{queue="c1-upload", state="waiting"\} \d+/);
      expect(text).toContain('# TYPE bullmq_job_completed_total counter');
      expect(text).toContain('process_cpu_seconds_total');
    },
  );

  it(
    'stops taking jobs while queries wait for a Postgres connection, and takes them again once they stop',
    { timeout: 60_000 },
    async () => {
      const prefix = `test-kit-${randomUUID().slice(0, 8)}`;
      cleanups.push(() => dropKeys(prefix));
      const worker = await start(REDIS_URL, prefix, {
        backpressure: { maxPgWaiting: 1, maxRedisLatencyMs: 5_000, checkEveryMs: 50 },
      });
      const done: string[] = [];
      const consumer = await worker.consume({
        'upload.snapshot': async ({ uploadId }) => {
          done.push(uploadId);
          return {};
        },
      });
      // Both pool connections busy and two more queries waiting for one: over the limit of 1.
      const { pool } = worker.database;
      const held = await Promise.all([pool.connect(), pool.connect()]);
      let released = false;
      const release = () => {
        if (!released) for (const client of held) client.release();
        released = true;
      };
      cleanups.push(async () => release());
      const waiting = [pool.query('select 1'), pool.query('select 1')];
      await waitUntil(() => consumer.isIntakePaused(), 'intake to pause');

      const first = randomUUID();
      await worker.producer.enqueue('upload.snapshot', { uploadId: first });
      // Still paused many samples later (nothing changed), with the job untouched and readiness green.
      const metrics = await get(`${worker.health.url}/metrics`);
      expect(metrics.body).toContain('eks_access_worker_intake_paused 1');
      expect((await get(`${worker.health.url}/readyz`)).status).toBe(200);
      // A fetch in flight when intake paused may pick the job up; it is handed back before it runs.
      await waitUntilAsync(
        async () => (await worker.producer.jobState('upload.snapshot', { uploadId: first })) === 'waiting',
        'the job to wait',
      );
      expect(done).toEqual([]);
      expect(consumer.isIntakePaused()).toBe(true);

      release();
      await Promise.all(waiting);
      await waitUntil(() => done.includes(first), 'the held-back job to run');
      expect(consumer.isIntakePaused()).toBe(false);
      expect((await get(`${worker.health.url}/metrics`)).body).toContain('eks_access_worker_intake_paused 0');
    },
  );
});

async function waitUntil(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitUntilAsync(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
