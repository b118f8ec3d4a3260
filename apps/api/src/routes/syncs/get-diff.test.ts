// GET /v1/clusters/{id}/diff over real Postgres: which grants a sync added and removed, with "to"
// defaulting to the cluster's current snapshot, and envelope errors for runs that cannot be diffed.
import { completeSyncRun, enqueueSyncRun, startSyncRun, type SnapshotGrant } from '@eks-access/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;

beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
});

const auth = () => ({ authorization: `Bearer ${t.keys.read}` });
const ACCOUNT = '111111111111';

/** A grant of the `view` ClusterRole (in `namespace`) to one IAM user. */
function viewGrant(user: string, namespace: string) {
  const principal = `arn:aws:iam::${ACCOUNT}:user/${user}`;
  const entitlementId = `cluster_role:view:${namespace}:member`;
  return {
    id: `${entitlementId}:iam_user:${principal}`,
    entitlementId,
    resource: { type: 'cluster_role', id: 'view' },
    principal: { type: 'iam_user', id: principal },
    annotations: [{ type: 'ExternalResourceMatchID' as const, id: principal }],
  };
}
type Grant = ReturnType<typeof viewGrant>;

async function registerCluster(name: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: { authorization: `Bearer ${t.keys.admin}` },
    payload: { name, region: 'eu-west-1' },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>().id;
}

/** Runs one sync of `clusterId` to completion with exactly `grants` in its snapshot; returns the run id. */
async function completedRun(clusterId: string, grants: Grant[]): Promise<string> {
  const { run } = await enqueueSyncRun(t.database, clusterId, 'api');
  await startSyncRun(t.database, run.id, 'test');
  const entitlementIds = [...new Set(grants.map((g) => g.entitlementId))];
  await completeSyncRun(t.database, run.id, {
    report: {
      status: 'complete',
      counts: { resources: {}, entitlements: {}, grants: {} },
      apiCalls: {},
      totalApiCalls: 0,
      sources: {},
      sourceDurationsMs: {},
      warnings: [],
    },
    snapshot: {
      resources: () => [
        { type: 'cluster_role', id: 'view', displayName: 'view', profile: {}, annotations: [] },
      ],
      entitlements: () =>
        entitlementIds.map((id) => ({
          id,
          resource: { type: 'cluster_role', id: 'view' },
          slug: id.split(':').slice(2).join(':'),
          displayName: id,
          description: '',
          purpose: 'assignment' as const,
          grantableTo: ['iam_user'],
        })),
      grants: () => grants,
    },
  });
  return run.id;
}

async function diff(clusterId: string, query: string) {
  return t.app.inject({ method: 'GET', url: `/v1/clusters/${clusterId}/diff?${query}`, headers: auth() });
}

interface DiffBody {
  fromRunId: string;
  toRunId: string;
  added: SnapshotGrant[];
  removed: SnapshotGrant[];
}
interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

describe('GET /v1/clusters/{id}/diff', () => {
  const alice = viewGrant('alice', 'payments');
  const bob = viewGrant('bob', 'payments');
  const carol = viewGrant('carol', 'payments');
  const aliceLedger = viewGrant('alice', 'ledger');
  const dave = viewGrant('dave', 'ledger');
  let clusterId: string;
  let before: string;
  let after: string;

  beforeAll(async () => {
    clusterId = await registerCluster('diff-me');
    before = await completedRun(clusterId, [alice, bob, carol]);
    after = await completedRun(clusterId, [alice, carol, aliceLedger, dave]);
  });

  it('returns exactly the grants added and removed since "from", up to the current snapshot', async () => {
    const res = await diff(clusterId, `from=${before}`);
    expect(res.statusCode).toBe(200);
    const body = res.json<DiffBody>();
    expect(body.fromRunId).toBe(before);
    expect(body.toRunId).toBe(after);
    expect(body.added).toEqual([aliceLedger, dave].sort((a, b) => (a.id < b.id ? -1 : 1)));
    expect(body.removed).toEqual([bob]);
  });

  it('diffs the other way round when "to" is given', async () => {
    const body = (await diff(clusterId, `from=${after}&to=${before}`)).json<DiffBody>();
    expect(body.added.map((g) => g.id)).toEqual([bob.id]);
    expect(body.removed.map((g) => g.id).sort()).toEqual([aliceLedger.id, dave.id].sort());
  });

  it('finds nothing between a snapshot and itself', async () => {
    expect((await diff(clusterId, `from=${after}`)).json<DiffBody>()).toMatchObject({
      added: [],
      removed: [],
    });
  });

  it('refuses a run of another cluster with a 4xx in the error envelope', async () => {
    const other = await registerCluster('someone-else');
    const foreign = await completedRun(other, [dave]);
    const res = await diff(clusterId, `from=${foreign}`);
    expect(res.statusCode).toBe(400);
    const { error } = res.json<ErrorBody>();
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('another cluster'),
    });
    expect(error.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers 404 for a run that does not exist', async () => {
    const res = await diff(clusterId, 'from=00000000-0000-4000-8000-000000000000');
    expect(res.statusCode).toBe(404);
    expect(res.json<ErrorBody>().error.code).toBe('NOT_FOUND');
  });

  it('answers 409 CONFLICT when the cluster has no current snapshot and "to" is not given', async () => {
    const fresh = await registerCluster('never-synced');
    const res = await diff(fresh, `from=${before}`);
    expect(res.statusCode).toBe(409);
    const { error } = res.json<ErrorBody>();
    expect(error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('"to"') });
    expect(error.requestId).toBe(res.headers['x-request-id']);
  });
});

describe('a sync that found nothing new', () => {
  const alice = viewGrant('alice', 'payments');
  const bob = viewGrant('bob', 'payments');

  it('shares its predecessor’s snapshot and answers history reads like any other run', async () => {
    const clusterId = await registerCluster('same-again');
    const first = await completedRun(clusterId, [alice, bob]);
    const same = await completedRun(clusterId, [bob, alice]);
    const get = (id: string) => t.app.inject({ method: 'GET', url: `/v1/syncs/${id}`, headers: auth() });
    const [firstRun, sameRun] = [(await get(first)).json(), (await get(same)).json()] as {
      contentHash: string;
      counts: { totals: object; written: object };
    }[];
    expect(sameRun!.contentHash).toBe(firstRun!.contentHash);
    expect(sameRun!.counts).toMatchObject({
      totals: { resources: 1, entitlements: 1, grants: 2 },
      written: { resources: 0, entitlements: 0, grants: 0 },
    });
    const grants = await t.app.inject({
      method: 'GET',
      url: `/v1/clusters/${clusterId}/grants?syncRunId=${same}`,
      headers: auth(),
    });
    expect(grants.statusCode).toBe(200);
    expect(grants.json()).toMatchObject({ syncRunId: same, items: [alice, bob] });
    expect((await diff(clusterId, `from=${first}`)).json<DiffBody>()).toMatchObject({
      toRunId: same,
      added: [],
      removed: [],
    });
    const later = await completedRun(clusterId, [alice]);
    expect((await diff(clusterId, `from=${same}&to=${later}`)).json<DiffBody>().removed).toEqual([bob]);
    expect((await diff(clusterId, `from=${later}&to=${same}`)).json<DiffBody>().added).toEqual([bob]);
  });

  it('keeps as many runs as the cluster’s snapshotRetention says, or the default when it is null', async () => {
    const clusterId = await registerCluster('short-memory');
    const patch = (payload: object) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/clusters/${clusterId}`,
        headers: { authorization: `Bearer ${t.keys.admin}` },
        payload,
      });
    const set = await patch({ snapshotRetention: 3 });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ snapshotRetention: 3 });
    expect((await patch({ snapshotRetention: 0 })).statusCode).toBe(400);
    expect((await patch({ snapshotRetention: null })).json()).toMatchObject({ snapshotRetention: null });
  });
});
