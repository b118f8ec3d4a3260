// Queueing work while Redis is down: the client gets 503 UNAVAILABLE with Retry-After at once, and
// nothing is recorded that would wait for a job that was never queued.
import { createProducer, createRedisConnection } from '@eks-access/queue';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../app.js';
import { REDIS_URL, checkContract, startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
let cut: App;
let clusterId: string;

beforeAll(async () => {
  t = await startTestApi();
  clusterId = (
    await t.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${t.keys.admin}` },
      payload: { name: 'prod', region: 'eu-west-1' },
    })
  ).json<{ id: string }>().id;
  // The same API, but its Redis connection is gone (as while Redis is stopped).
  const lost = await createRedisConnection({
    url: REDIS_URL,
    role: 'producer',
    logger: pino({ level: 'silent' }),
  });
  lost.disconnect();
  cut = checkContract(
    await buildApp({
      ...t.deps,
      redis: lost,
      producer: createProducer({ connection: lost, prefix: t.prefix }),
    }),
  );
  await cut.ready();
});
afterAll(async () => {
  await cut?.close();
  await t.close();
});

const auth = () => ({ authorization: `Bearer ${t.keys.admin}` });

describe('while Redis is down', () => {
  it('answers 503 with Retry-After for every route that queues work, and records nothing', async () => {
    const started = Date.now();
    for (const [method, url, payload] of [
      ['POST', `/v1/clusters/${clusterId}/syncs`, undefined],
      ['POST', '/v1/syncs', undefined],
      ['POST', '/v1/clusters', { name: 'scheduled', region: 'eu-west-1', schedule: { everyMs: 3_600_000 } }],
    ] as const) {
      const res = await cut.inject({ method, url, headers: auth(), ...(payload ? { payload } : {}) });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json<{ error: { code: string } }>().error.code).toBe('UNAVAILABLE');
    }
    // Generous: the point is that nothing waited for Redis to come back.
    expect(Date.now() - started).toBeLessThan(5_000);
    const runs = await t.app.inject({
      method: 'GET',
      url: `/v1/clusters/${clusterId}/syncs`,
      headers: auth(),
    });
    expect(runs.json<{ items: unknown[] }>().items).toEqual([]);
    const clusters = await t.app.inject({ method: 'GET', url: '/v1/clusters', headers: auth() });
    expect(clusters.json<{ items: { name: string }[] }>().items.map((c) => c.name)).toEqual(['prod']);
  });
});
