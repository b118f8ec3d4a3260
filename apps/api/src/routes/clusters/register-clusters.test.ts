// Registering a fleet in one request, against a real Postgres and Redis: every item answered in
// order, invalid ones with their problems, and the same list again changes nothing.
import { scheduleOffsetMs } from '@eks-access/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(() => t.close());

const HOUR = 3_600_000;
const roleIn = (account: string) => `arn:aws:iam::${account}:role/C1EksConnector`;

interface BulkAnswer {
  summary: Record<'created' | 'updated' | 'unchanged' | 'invalid', number>;
  items: {
    index: number;
    status: string;
    name?: string;
    id?: string;
    changed?: string[];
    problems?: { path: string; message: string }[];
  }[];
}

async function register(clusters: unknown[]) {
  const res = await t.app.inject({
    method: 'PUT',
    url: '/v1/clusters/bulk',
    headers: { authorization: `Bearer ${t.keys.admin}` },
    payload: { clusters },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<BulkAnswer>();
}

async function allClusters() {
  const res = await t.app.inject({
    method: 'GET',
    url: '/v1/clusters?limit=1000',
    headers: { authorization: `Bearer ${t.keys.read}` },
  });
  return res.json<{ items: { id: string; name: string; region: string; accountId: string | null }[] }>()
    .items;
}

describe('PUT /v1/clusters/bulk', () => {
  const fleet = [
    {
      name: 'bulk-a',
      region: 'eu-west-1',
      roleArn: roleIn('111111111111'),
      externalId: 'ext-aaaa',
      schedule: { everyMs: HOUR },
      labels: { team: 'a' },
    },
    { name: 'bulk-a', region: 'eu-west-1', roleArn: roleIn('222222222222') },
    { name: 'bulk name', region: 'eu-west-1' },
    {
      name: 'bulk-keys',
      region: 'us-east-1',
      accessKey: { accessKeyId: 'AKIAABCDEFGHIJKLMNOP', secretAccessKey: 'x'.repeat(40) },
      bindingRoleArn: roleIn('333333333333'),
    },
    { name: 'bulk-a', region: 'eu-west-1', accountId: '111111111111', labels: { team: 'other' } },
    { name: 'bulk-b', region: 'eu-west-1', accountId: '111111111111', schedule: { everyMs: HOUR } },
  ];

  it('answers every item in order: new ones created, invalid ones with their problems, nothing lost', async () => {
    const answer = await register(fleet);
    expect(answer.items.map((i) => [i.index, i.status])).toEqual([
      [0, 'created'],
      // The same name and region in another account is another cluster.
      [1, 'created'],
      [2, 'invalid'],
      [3, 'invalid'],
      [4, 'invalid'],
      [5, 'created'],
    ]);
    expect(answer.summary).toEqual({ created: 3, updated: 0, unchanged: 0, invalid: 3 });
    expect(answer.items[2]!.problems).toEqual([
      { path: '/name', message: 'must be a valid EKS cluster name' },
    ]);
    expect(answer.items[3]!.problems?.[0]?.message).toMatch(/cannot be combined/);
    expect(answer.items[4]!.problems?.[0]?.message).toMatch(/same name, region and account as item 0/);

    const stored = await allClusters();
    expect(stored.map((c) => `${c.name}/${c.accountId}`).sort()).toEqual([
      'bulk-a/111111111111',
      'bulk-a/222222222222',
      'bulk-b/111111111111',
    ]);
    // Schedules are set up, each at its cluster's place in the hour.
    const id = answer.items[0]!.id!;
    const schedule = await t.producer.getSchedule(id);
    expect(schedule).toMatchObject({ everyMs: HOUR });
    expect((schedule?.nextRunAt ?? 0) % HOUR).toBe(scheduleOffsetMs(id, HOUR));
  });

  it('creates and changes nothing when the same list is sent again', async () => {
    const before = await allClusters();
    const answer = await register(fleet);
    expect(answer.summary).toEqual({ created: 0, updated: 0, unchanged: 3, invalid: 3 });
    expect(answer.items.map((i) => i.status)).toEqual([
      'unchanged',
      'unchanged',
      'invalid',
      'invalid',
      'invalid',
      'unchanged',
    ]);
    expect(await allClusters()).toEqual(before);
  });

  it('updates only what changed, secrets included, and matches clusters registered one by one', async () => {
    const single = await t.app.inject({
      method: 'POST',
      url: '/v1/clusters',
      headers: { authorization: `Bearer ${t.keys.admin}` },
      payload: { name: 'bulk-c', region: 'eu-north-1', roleArn: roleIn('444444444444') },
    });
    expect(single.statusCode).toBe(201);
    const changedList = [
      { ...fleet[0], externalId: 'ext-rotated', labels: { team: 'a', tier: '1' } },
      { name: 'bulk-c', region: 'eu-north-1', accountId: '444444444444', enabled: false },
      fleet[5],
    ];
    const answer = await register(changedList);
    expect(answer.items.map((i) => [i.status, i.changed])).toEqual([
      ['updated', ['labels', 'externalId']],
      ['updated', ['enabled']],
      ['unchanged', undefined],
    ]);
    expect(answer.items[1]!.id).toBe(single.json<{ id: string }>().id);
    // The rotated secret is now the stored one: sending it again is no change.
    expect((await register(changedList)).summary).toEqual({
      created: 0,
      updated: 0,
      unchanged: 3,
      invalid: 0,
    });
  });

  it('registers a fleet of 1,000 clusters in 100 accounts in one request, and finds it all unchanged after', async () => {
    const clusters = Array.from({ length: 1_000 }, (_, i) => ({
      name: `fleet-${i}`,
      region: 'us-west-2',
      roleArn: roleIn(String(500_000_000_000 + (i % 100))),
      externalId: `ext-${i % 100}`,
      schedule: { everyMs: HOUR },
    }));
    const first = await register(clusters);
    expect(first.summary).toEqual({ created: 1_000, updated: 0, unchanged: 0, invalid: 0 });
    const again = await register(clusters);
    expect(again.summary).toEqual({ created: 0, updated: 0, unchanged: 1_000, invalid: 0 });
    expect(again.items.map((i) => i.id)).toEqual(first.items.map((i) => i.id));
  }, 120_000);

  it('refuses a body that is not a list of clusters as a whole', async () => {
    for (const payload of [{ clusters: [] }, { clusters: 'fleet.yaml' }, { fleet: [] }]) {
      const res = await t.app.inject({
        method: 'PUT',
        url: '/v1/clusters/bulk',
        headers: { authorization: `Bearer ${t.keys.admin}` },
        payload,
      });
      expect(res.statusCode).toBe(400);
    }
  });
});
