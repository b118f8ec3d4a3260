// A queue backlog past QUEUE_BACKLOG_MAX: routes that queue work answer 503 with Retry-After and
// record nothing, other queues are unaffected, and work is accepted again once workers catch up.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../app.js';
import { checkContract, startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
let bounded: App;
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
  // The same API, with room for two jobs waiting per queue.
  bounded = checkContract(await buildApp({ ...t.deps, config: { ...t.deps.config, QUEUE_BACKLOG_MAX: 2 } }));
  await bounded.ready();
});
afterAll(async () => {
  await bounded?.close();
  await t.close();
});

const auth = () => ({ authorization: `Bearer ${t.keys.admin}` });

describe('with the sync queue at its backlog bound', () => {
  it('answers 503 with Retry-After to new syncs, records nothing, and takes them again once it drains', async () => {
    // Two syncs of other clusters wait for a worker (none runs in this test).
    const waiting = [];
    for (let i = 0; i < 2; i++) {
      waiting.push(
        await t.producer.enqueue('cluster.sync', {
          clusterId: randomUUID(),
          syncRunId: randomUUID(),
          trigger: 'api',
        }),
      );
    }
    // A schedule's next tick is delayed, not waiting: it does not count.
    await t.producer.upsertSchedule(clusterId, { everyMs: 3_600_000 });

    for (const url of [`/v1/clusters/${clusterId}/syncs`, '/v1/syncs', `/v1/clusters/${clusterId}/doctor`]) {
      const res = await bounded.inject({ method: 'POST', url, headers: auth() });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['retry-after'], url).toBe('30');
      const error = res.json<{ error: { code: string; message: string } }>().error;
      expect(error.code).toBe('UNAVAILABLE');
      expect(error.message).toMatch(/eks-sync has 2 jobs waiting/);
    }
    const runs = await bounded.inject({
      method: 'GET',
      url: `/v1/clusters/${clusterId}/syncs`,
      headers: auth(),
    });
    expect(runs.json<{ items: unknown[] }>().items).toEqual([]);

    // Workers catch up: the same request is accepted.
    const queue = new Queue('eks-sync', { connection: t.redis, prefix: t.prefix });
    try {
      for (const job of waiting) await (await queue.getJob(job.id))?.remove();
    } finally {
      await queue.close();
    }
    const accepted = await bounded.inject({
      method: 'POST',
      url: `/v1/clusters/${clusterId}/syncs`,
      headers: auth(),
    });
    expect(accepted.statusCode).toBe(202);
  });
});
