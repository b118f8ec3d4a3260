// The per-account semaphore against a real Redis, alone and under a real BullMQ consumer: the cap
// holds across processes, a full account's jobs step aside (deferred, no attempt spent) so other
// accounts run, and a holder that dies frees its slot once its lease lapses.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RedisConnection } from './connection.js';
import { createConsumer } from './consumer.js';
import { createProducer } from './producer.js';
import { accountSlotKey, createSemaphore } from './semaphore.js';
import { createTestLogger, createTestRedis, uniquePrefix, waitFor } from './test-support.js';

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('semaphore', () => {
  let prefix: string;
  let env: ReturnType<typeof createTestRedis>;
  let redis: RedisConnection;

  beforeEach(async () => {
    prefix = uniquePrefix();
    env = createTestRedis(prefix);
    redis = await env.connect('producer');
  });
  afterEach(() => env.cleanup());

  it('lets at most `limit` holders in across clients, and the next one in once a holder leaves', async () => {
    const one = createSemaphore({ connection: redis, prefix });
    const two = createSemaphore({ connection: await env.connect('producer'), prefix });
    const key = accountSlotKey('111111111111');
    const opts = { limit: 2, leaseMs: 10_000 };
    const first = gate();
    const second = gate();
    const holding = [
      one.withSlot(key, opts, () => first.opened.then(() => 'first')),
      two.withSlot(key, opts, () => second.opened.then(() => 'second')),
    ];
    await waitFor(async () => ((await one.holders(key)) === 2 ? true : undefined), 5_000, 'two holders');

    expect(await two.withSlot(key, opts, async () => 'third')).toEqual({ acquired: false, holders: 2 });
    // Another key has slots of its own.
    expect(await two.withSlot(accountSlotKey('222222222222'), opts, async () => 'other')).toEqual({
      acquired: true,
      value: 'other',
    });

    first.open();
    expect(await holding[0]).toEqual({ acquired: true, value: 'first' });
    expect(await two.withSlot(key, opts, async () => 'third')).toEqual({ acquired: true, value: 'third' });
    second.open();
    await holding[1];
    expect(await one.holders(key)).toBe(0);
    // Nothing is left behind once every holder has gone.
    expect(await redis.keys(`${prefix}:sem:*`)).toEqual([]);
  });

  it('frees the slots of a holder that died (no renewals, no release) once their leases lapse', async () => {
    const key = accountSlotKey('333333333333');
    const opts = { limit: 2, leaseMs: 3_000 };
    const doomedConnection = await env.connect('producer');
    const doomed = createSemaphore({ connection: doomedConnection, prefix });
    const lostWork: Promise<unknown>[] = [];
    for (let i = 0; i < 2; i++) {
      // The work never ends by itself: only the lost lease stops it.
      lostWork.push(
        doomed
          .withSlot(
            key,
            opts,
            (signal) => new Promise((_, reject) => signal.addEventListener('abort', reject)),
          )
          .catch((err: unknown) => err),
      );
    }
    const survivor = createSemaphore({ connection: redis, prefix });
    await waitFor(async () => ((await survivor.holders(key)) === 2 ? true : undefined), 5_000, 'two holders');

    // The process dies: its connection goes, and with it every renewal and release.
    doomedConnection.disconnect();
    expect((await survivor.withSlot(key, opts, async () => 'too soon')).acquired).toBe(false);

    const taken = await waitFor(
      async () => {
        const r = await survivor.withSlot(key, opts, async () => 'after the lease');
        return r.acquired ? r : undefined;
      },
      15_000,
      'a slot once the dead holder’s lease lapsed',
    );
    expect(taken).toEqual({ acquired: true, value: 'after the lease' });
    // The dead holder's own work was told it lost its slot rather than running on over the cap.
    for (const err of await Promise.all(lostWork)) expect(err).toMatchObject({ code: 'LOCK_LOST' });
  });

  it("runs other accounts' jobs while one account floods the queue, with that account capped at 2", async () => {
    const workerRedis = await env.connect('worker');
    const producer = createProducer({ connection: redis, prefix });
    env.onCleanup(() => producer.close());
    const semaphore = createSemaphore({ connection: redis, prefix });
    const accountOf = new Map<string, 'A' | 'B'>();
    const running = { A: 0, B: 0 };
    const mostAtOnce = { A: 0, B: 0 };
    const completed = { A: 0, B: 0 };
    const accountA = gate();

    const consumer = createConsumer({
      connection: workerRedis,
      queue: 'eks-sync',
      prefix,
      concurrency: 4,
      logger: createTestLogger(),
      shutdownTimeoutMs: 500,
      handlers: {
        'cluster.sync': async (payload, ctx) => {
          const account = accountOf.get(payload.clusterId)!;
          const r = await semaphore.withSlot(
            accountSlotKey(account),
            { limit: 2, leaseMs: 10_000, signal: ctx.signal },
            async () => {
              running[account]++;
              mostAtOnce[account] = Math.max(mostAtOnce[account], running[account]);
              try {
                // Account A's syncs are long: they hold their slots until the test lets them go.
                if (account === 'A') await accountA.opened;
              } finally {
                running[account]--;
              }
              completed[account]++;
            },
          );
          if (!r.acquired) return ctx.defer(100);
          return undefined;
        },
        'cluster.scheduled-sync': async () => undefined,
        'cluster.doctor': async () => undefined,
      },
    });
    env.onCleanup(() => consumer.close({ timeoutMs: 500 }));

    const enqueue = async (account: 'A' | 'B') => {
      const clusterId = randomUUID();
      accountOf.set(clusterId, account);
      return producer.enqueue('cluster.sync', { clusterId, syncRunId: randomUUID(), trigger: 'schedule' });
    };
    // Account A's 20 clusters are queued first: a FIFO queue with 4 worker slots would give A all four.
    const aJobs = [];
    for (let i = 0; i < 20; i++) aJobs.push(await enqueue('A'));
    for (let i = 0; i < 3; i++) await enqueue('B');
    await consumer.ready();

    await waitFor(() => (completed.B === 3 ? true : undefined), 20_000, "account B's three syncs");
    // B finished while A's syncs were all still blocked: A never had more than its 2 slots.
    expect(completed.A).toBe(0);
    expect(mostAtOnce.A).toBe(2);
    expect(running.A).toBe(2);

    accountA.open();
    await waitFor(() => (completed.A === 20 ? true : undefined), 30_000, "account A's twenty syncs");
    expect(mostAtOnce.A).toBe(2);
    // Deferring spent no attempts: every job completed on its first.
    const queue = env.inspect(redis, 'eks-sync');
    const attempts = await Promise.all(aJobs.map(async (j) => (await queue.getJob(j.id))?.attemptsMade));
    expect(new Set(attempts)).toEqual(new Set([1]));
    expect(await queue.getJobCounts('failed')).toEqual({ failed: 0 });
  });
});
