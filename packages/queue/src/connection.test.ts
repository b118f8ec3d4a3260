import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEvictionPolicy, createRedisConnection, redactUrl, type RedisConnection } from './connection.js';
import { RedisUnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import { REDIS_URL, createTestLogger } from './test-support.js';

describe('redis connection', () => {
  const opened: RedisConnection[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.quit()));
  });

  it('fails fast with a clear error, password masked, when Redis is unreachable', async () => {
    const start = Date.now();
    const err = await createRedisConnection({
      url: 'redis://:s3cret@127.0.0.1:1',
      role: 'producer',
      logger: createTestLogger(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    const message = (err as Error).message;
    expect(message).toContain('cannot reach Redis at redis://:***@127.0.0.1:1');
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain('s3cret');
    expect((err as RedisUnavailableError).retryable).toBe(true);
    expect(Date.now() - start).toBeLessThan(3_000);
  });

  it('configures workers to wait through outages and producers to fail fast', async () => {
    const worker = await createRedisConnection({
      url: REDIS_URL,
      role: 'worker',
      logger: createTestLogger(),
      name: 'test-worker',
    });
    const producer = await createRedisConnection({
      url: REDIS_URL,
      role: 'producer',
      logger: createTestLogger(),
    });
    opened.push(worker, producer);
    expect(worker.options.maxRetriesPerRequest).toBeNull();
    expect(worker.options.enableOfflineQueue).toBe(true);
    expect(producer.options.enableOfflineQueue).toBe(false);
    expect(await producer.ping()).toBe('PONG');
    expect(await worker.client('GETNAME')).toBe('test-worker');
  });

  it('warns when the eviction policy could drop jobs, and stays quiet for noeviction', async () => {
    const logger = createTestLogger();
    const fake = (policy: string) => ({
      info: async () => `# Memory\r\nused_memory:1\r\nmaxmemory_policy:${policy}\r\n`,
    });
    expect(await checkEvictionPolicy(fake('allkeys-lru') as never, logger)).toBe('allkeys-lru');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', fields: { maxmemoryPolicy: 'allkeys-lru' } });
    expect(logger.lines[0]?.msg).toContain('noeviction');
    expect(await checkEvictionPolicy(fake('noeviction') as never, logger)).toBe('noeviction');
    expect(logger.lines).toHaveLength(1);
  });

  it('accepts a pino logger', async () => {
    const logger: Logger = pino({ level: 'silent' });
    const redis = await createRedisConnection({ url: REDIS_URL, role: 'producer', logger });
    opened.push(redis);
    expect(await redis.ping()).toBe('PONG');
  });

  it('masks only the password when printing a URL', () => {
    expect(redactUrl('redis://user:pw@host:6380/2')).toBe('redis://user:***@host:6380/2');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(redactUrl('not a url')).toBe('(unparseable Redis URL)');
  });
});
