// Helpers for this package's tests (excluded from the build): a real Redis, a unique key prefix
// per test, key cleanup, and a logger that records what it is given.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { createRedisConnection, type RedisConnection, type RedisRole } from './connection.js';
import type { Logger } from './logger.js';

// eslint-disable-next-line no-restricted-properties -- test support: CI may run Redis elsewhere
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string | undefined;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line (with its child bindings) in `lines`. */
export function createTestLogger(
  lines: LogLine[] = [],
  bindings: Record<string, unknown> = {},
): Logger & { lines: LogLine[] } {
  const write = (level: LogLine['level']) => (obj: object, msg?: string) => {
    lines.push({ level, msg, fields: { ...bindings, ...(obj as Record<string, unknown>) } });
  };
  return {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => createTestLogger(lines, { ...bindings, ...more }),
  };
}

/** A key prefix no other test uses. */
export function uniquePrefix(): string {
  return `test-queue-${randomUUID().slice(0, 8)}`;
}

/** Tracks what a test opens and removes it, with every key under its prefix, afterwards. */
export function createTestRedis(prefix: string) {
  const connections: RedisConnection[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  return {
    async connect(role: RedisRole): Promise<RedisConnection> {
      const redis = await createRedisConnection({ url: REDIS_URL, role, logger: createTestLogger() });
      connections.push(redis);
      return redis;
    },
    /** Registers something to close before the keys are deleted (consumers, producers, queues). */
    onCleanup(close: () => Promise<unknown>): void {
      closers.push(close);
    },
    /** A plain BullMQ queue for inspecting jobs. */
    inspect(connection: RedisConnection, name: string): Queue {
      const queue = new Queue(name, { connection, prefix });
      closers.push(() => queue.close());
      return queue;
    },
    async cleanup(): Promise<void> {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      const redis = connections[0] ?? (await this.connect('producer'));
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      await Promise.all(connections.map((c) => c.quit().catch(() => undefined)));
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until job `id` is in one of `states`, and returns the job as stored then. */
export async function waitForJobState(
  queue: Queue,
  id: string,
  states: readonly string[],
  timeoutMs = 5_000,
) {
  return waitFor(
    async () => {
      // State first, then the job: a job read before its state changes would be stale.
      if (!states.includes(await queue.getJobState(id))) return undefined;
      return queue.getJob(id);
    },
    timeoutMs,
    `job ${id} to be ${states.join(' or ')}`,
  );
}
