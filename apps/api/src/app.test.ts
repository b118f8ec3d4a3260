// The API as a client sees it, over real Postgres and Redis: auth and scopes, cluster
// registration with secrets that never come back, sync enqueueing with one pending run per
// cluster, snapshot reads with pagination, and an error envelope for everything a client can
// get wrong (and no 500 for any of it).
import { completeSyncRun, startSyncRun } from '@eks-access/db';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './test-app.js';

let t: TestApi;

beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
});

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const ROLE = 'arn:aws:iam::111111111111:role/EksAccessConnector';

async function createCluster(body: Record<string, unknown>) {
  return t.app.inject({ method: 'POST', url: '/v1/clusters', headers: auth(t.keys.admin), payload: body });
}

describe('authentication and scopes', () => {
  it('refuses a request without a key, with the error envelope and request id', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/clusters' });
    expect(res.statusCode).toBe(401);
    const body = res.json<{ error: { code: string; message: string; requestId: string } }>();
    expect(body.error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('Bearer') });
    expect(body.error.requestId).toBe(res.headers['x-request-id']);
  });

  it('refuses an unknown key and a key without the needed scope', async () => {
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/clusters', headers: auth('eak_nope') })).statusCode,
    ).toBe(401);
    const res = await createCluster({ name: 'x', region: 'eu-west-1' }).then(() =>
      t.app.inject({
        method: 'POST',
        url: '/v1/clusters',
        headers: auth(t.keys.read),
        payload: { name: 'x', region: 'eu-west-1' },
      }),
    );
    expect(res.statusCode).toBe(403);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('FORBIDDEN');
  });

  it('serves health, readiness, metrics and the OpenAPI document without a key', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { ok: true }, redis: { ok: true } },
    });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('eks_access_http_requests_total');
    expect(metrics.body).toMatch(/eks_access_queue_jobs\{queue="eks-sync",state="waiting"\}/);
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/clusters', '/v1/clusters/{id}/syncs', '/v1/principals/{arn}/access']),
    );
  });
});

describe('clusters', () => {
  it('registers a cluster, keeps its secrets sealed and never returns them', async () => {
    const res = await createCluster({
      name: 'prod-eu',
      region: 'eu-west-1',
      roleArn: ROLE,
      externalId: 'tenant-external-id',
      accessKey: {
        accessKeyId: 'AKIAEKSSIMCONNECTOR1',
        secretAccessKey: 'eksSimConnectorSecretKeyDoNotUse/0000001',
      },
      labels: { env: 'prod' },
    });
    expect(res.statusCode).toBe(201);
    const cluster = res.json<Record<string, unknown>>();
    expect(cluster).toMatchObject({
      name: 'prod-eu',
      accountId: '111111111111',
      hostingMode: 'self-hosted',
      hasCredentials: true,
      hasExternalId: true,
    });
    expect(res.body).not.toContain('eksSimConnectorSecretKeyDoNotUse');
    expect(res.body).not.toContain('tenant-external-id');
    const raw = await t.database.pool.query<{ credentials_enc: string }>(
      'select credentials_enc from clusters where id = $1',
      [cluster.id],
    );
    expect(raw.rows[0]?.credentials_enc).not.toContain('eksSimConnectorSecretKeyDoNotUse');
    const got = await t.app.inject({
      method: 'GET',
      url: `/v1/clusters/${String(cluster.id)}`,
      headers: auth(t.keys.read),
    });
    expect(got.body).not.toContain('eksSimConnectorSecretKeyDoNotUse');
  });

  it('registers a cluster with no stored keys, which the workers reach with their own identity (IRSA, Pod Identity)', async () => {
    const res = await createCluster({
      name: 'pod-identity',
      region: 'eu-west-1',
      roleArn: ROLE,
      externalId: 'tenant-external-id',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      hostingMode: 'default-chain',
      hasCredentials: false,
      hasExternalId: true,
      roleArn: ROLE,
    });
  });

  it('refuses the same cluster twice with 409', async () => {
    const body = { name: 'twice', region: 'us-east-1', roleArn: ROLE };
    expect((await createCluster(body)).statusCode).toBe(201);
    const again = await createCluster(body);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ error: { code: string } }>().error.code).toBe('CONFLICT');
  });

  it('lists every problem of a bad body with a 400', async () => {
    const res = await createCluster({
      name: '-bad name',
      region: 'europe',
      roleArn: 'EksAccessConnector',
      surprise: 1,
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json<{ error: { code: string; message: string } }>();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/EKS cluster name/);
    expect(error.message).toMatch(/AWS region/);
    expect(error.message).toMatch(/IAM role ARN/);
  });

  it('filters by label, pages with a cursor, updates and deletes', async () => {
    for (const n of ['page-a', 'page-b', 'page-c'])
      expect(
        (await createCluster({ name: n, region: 'us-west-2', labels: { team: 'paging' } })).statusCode,
      ).toBe(201);
    const first = (
      await t.app.inject({
        method: 'GET',
        url: '/v1/clusters?label=team=paging&limit=2',
        headers: auth(t.keys.read),
      })
    ).json<{ items: { id: string; name: string }[]; nextCursor?: string }>();
    expect(first.items.map((c) => c.name)).toEqual(['page-a', 'page-b']);
    expect(first.nextCursor).toBeDefined();
    const second = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/clusters?label=team=paging&limit=2&cursor=${first.nextCursor!}`,
        headers: auth(t.keys.read),
      })
    ).json<{ items: { name: string }[]; nextCursor?: string }>();
    expect(second.items.map((c) => c.name)).toEqual(['page-c']);
    expect(second.nextCursor).toBeUndefined();

    const id = first.items[0]!.id;
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/v1/clusters/${id}`,
      headers: auth(t.keys.admin),
      payload: { enabled: false, schedule: { everyMs: 3_600_000 } },
    });
    expect(patched.json()).toMatchObject({ enabled: false, schedule: { every_ms: 3_600_000 } });
    expect(await t.producer.getSchedule(id)).toMatchObject({ everyMs: 3_600_000 });
    expect(
      (await t.app.inject({ method: 'DELETE', url: `/v1/clusters/${id}`, headers: auth(t.keys.admin) }))
        .statusCode,
    ).toBe(204);
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/clusters/${id}`, headers: auth(t.keys.read) }))
        .statusCode,
    ).toBe(404);
    expect(await t.producer.getSchedule(id)).toBeUndefined();
  });
});

describe('syncs and snapshots', () => {
  let clusterId: string;

  beforeAll(async () => {
    clusterId = (await createCluster({ name: 'sync-me', region: 'eu-central-1', roleArn: ROLE })).json<{
      id: string;
    }>().id;
  });

  it('queues one sync per cluster: asking again returns the pending run, and its job is on the queue', async () => {
    const first = await t.app.inject({
      method: 'POST',
      url: `/v1/clusters/${clusterId}/syncs`,
      headers: auth(t.keys.sync),
    });
    expect(first.statusCode).toBe(202);
    const run = first.json<{ id: string; status: string; created: boolean }>();
    expect(run).toMatchObject({ status: 'queued', created: true });
    const second = (
      await t.app.inject({
        method: 'POST',
        url: `/v1/clusters/${clusterId}/syncs`,
        headers: auth(t.keys.sync),
      })
    ).json<{ id: string; created: boolean }>();
    expect(second).toMatchObject({ id: run.id, created: false });
    const queue = new Queue('eks-sync', { connection: t.redis, prefix: t.prefix });
    const job = await queue.getJob(`sync-${run.id}`);
    expect(job?.data).toEqual({ clusterId, syncRunId: run.id, trigger: 'api' });
    const waiting = await queue.getJobs(['waiting']);
    expect(
      waiting.filter(
        (j) => j.name === 'cluster.sync' && (j.data as { clusterId: string }).clusterId === clusterId,
      ),
    ).toHaveLength(1);
    await queue.close();
    expect(
      (await t.app.inject({ method: 'GET', url: `/v1/syncs/${run.id}`, headers: auth(t.keys.read) })).json(),
    ).toMatchObject({ id: run.id, status: 'queued' });
  });

  it('serves the current snapshot with filters and pagination, and one principal across clusters', async () => {
    const runs = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/clusters/${clusterId}/syncs`,
        headers: auth(t.keys.read),
      })
    ).json<{ items: { id: string }[] }>();
    const runId = runs.items[0]!.id;
    const empty = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/clusters/${clusterId}/grants`,
        headers: auth(t.keys.read),
      })
    ).json<{ items: unknown[]; syncRunId: string | null }>();
    expect(empty).toMatchObject({ items: [], syncRunId: null });

    const alice = 'arn:aws:iam::111111111111:user/people/alice';
    const grants = Array.from({ length: 5 }, (_, i) => ({
      id: `cluster_role:view:ns-${i}:member:iam_user:${alice}`,
      entitlementId: `cluster_role:view:ns-${i}:member`,
      resource: { type: 'cluster_role', id: 'view' },
      principal: { type: 'iam_user', id: alice },
      annotations: [{ type: 'ExternalResourceMatchID' as const, id: alice }],
    }));
    await startSyncRun(t.database, runId, 'test');
    await completeSyncRun(t.database, runId, {
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
          grants.map((g) => ({
            id: g.entitlementId,
            resource: g.resource,
            slug: g.entitlementId.split(':').slice(2).join(':'),
            displayName: g.entitlementId,
            description: '',
            purpose: 'assignment' as const,
            grantableTo: ['iam_user'],
          })),
        grants: () => grants,
      },
    });

    const page1 = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/clusters/${clusterId}/grants?limit=2&principalId=${encodeURIComponent(alice)}`,
        headers: auth(t.keys.read),
      })
    ).json<{ items: { id: string }[]; nextCursor?: string; syncRunId: string }>();
    expect(page1.syncRunId).toBe(runId);
    const seen = [...page1.items.map((g) => g.id)];
    let cursor = page1.nextCursor;
    while (cursor) {
      const page = (
        await t.app.inject({
          method: 'GET',
          url: `/v1/clusters/${clusterId}/grants?limit=2&principalId=${encodeURIComponent(alice)}&cursor=${cursor}`,
          headers: auth(t.keys.read),
        })
      ).json<{ items: { id: string }[]; nextCursor?: string }>();
      seen.push(...page.items.map((g) => g.id));
      cursor = page.nextCursor;
    }
    expect(seen.sort()).toEqual(grants.map((g) => g.id).sort());

    const access = await t.app.inject({
      method: 'GET',
      url: `/v1/principals/${encodeURIComponent(alice)}/access`,
      headers: auth(t.keys.read),
    });
    expect(access.statusCode).toBe(200);
    expect(access.json<{ items: { cluster: { name: string } }[] }>().items).toHaveLength(5);
    expect(access.json<{ items: { cluster: { name: string } }[] }>().items[0]?.cluster.name).toBe('sync-me');

    // An AWS SSO role ARN carries its path: 160 characters here, 200 encoded. It holds nothing
    // here, and says so, instead of the router refusing the path as too long.
    const sso =
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_PlatformEngineersAdministratorAccess_0123456789abcdef';
    const ssoAccess = await t.app.inject({
      method: 'GET',
      url: `/v1/principals/${encodeURIComponent(sso)}/access`,
      headers: auth(t.keys.read),
    });
    expect(ssoAccess.statusCode, ssoAccess.body).toBe(200);
    expect(ssoAccess.json()).toEqual({ principalArn: sso, items: [] });
    const tooLong = await t.app.inject({
      method: 'GET',
      url: `/v1/principals/${encodeURIComponent(`arn:aws:iam::123456789012:role/${'x'.repeat(2100)}`)}/access`,
      headers: auth(t.keys.read),
    });
    expect(tooLong.json<{ error: { code: string } }>().error.code).toBe('VALIDATION_FAILED');
  });
});

describe('nothing a client sends produces a 500', () => {
  const cases: [string, string, string, unknown?, Record<string, string>?][] = [
    ['GET', '/v1/clusters/not-a-uuid', 'VALIDATION_FAILED'],
    ['GET', '/v1/clusters/00000000-0000-4000-8000-000000000000', 'NOT_FOUND'],
    ['GET', '/v1/clusters?cursor=garbage', 'INVALID_CURSOR'],
    ['GET', '/v1/clusters?limit=0', 'VALIDATION_FAILED'],
    ['GET', '/v1/clusters?label=novalue', 'VALIDATION_FAILED'],
    ['POST', '/v1/clusters', 'VALIDATION_FAILED', '{"name": '],
    [
      'POST',
      '/v1/clusters',
      'VALIDATION_FAILED',
      'name=x',
      { 'content-type': 'application/x-www-form-urlencoded' },
    ],
    ['POST', '/v1/clusters/00000000-0000-4000-8000-000000000000/syncs', 'NOT_FOUND'],
    ['GET', '/v1/syncs/00000000-0000-4000-8000-000000000000', 'NOT_FOUND'],
    ['GET', '/v1/clusters/00000000-0000-4000-8000-000000000000/diff?from=nope', 'VALIDATION_FAILED'],
    ['GET', '/v1/principals/not-an-arn/access', 'VALIDATION_FAILED'],
    ['GET', '/v1/nowhere', 'NOT_FOUND'],
  ];
  for (const [method, url, code, payload, headers] of cases) {
    it(`${method} ${url} → ${code}`, async () => {
      const res = await t.app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...auth(t.keys.admin),
          ...(typeof payload === 'string' && !headers ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(payload === undefined ? {} : { payload: payload as string }),
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json<{ error: { code: string } }>().error.code).toBe(code);
    });
  }
});
