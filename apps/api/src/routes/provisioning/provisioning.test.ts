// Provisioning requests through the API: everything a client can get wrong is a 4xx with the
// reason, never a failed job; a valid request is recorded once (Idempotency-Key) and queued.
import { completeSyncRun, enqueueSyncRun, startSyncRun } from '@eks-access/db';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
let clusterId: string;
const ALICE = 'arn:aws:iam::111111111111:user/people/alice';
const ROLE = 'arn:aws:iam::111111111111:role/PlatformDeployer';
const VIEW_TEAM_A = 'cluster_role:view:team-a:member';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

function entitlement(id: string, resource: { type: string; id: string }) {
  return {
    id,
    resource,
    slug: id.slice(resource.type.length + resource.id.length + 2),
    displayName: id,
    description: '',
    purpose: 'assignment' as const,
    grantableTo: ['iam_user', 'role'],
  };
}

beforeAll(async () => {
  t = await startTestApi();
  const created = await t.app.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: auth(t.keys.admin),
    payload: {
      name: 'prov',
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::111111111111:role/EksAccessConnector',
    },
  });
  clusterId = created.json<{ id: string }>().id;
});
afterAll(async () => {
  await t.close();
});

async function request(payload: Record<string, unknown>, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/provisioning-requests',
    headers: { ...auth(t.keys.admin), ...headers },
    payload,
  });
}

const grant = (extra: Record<string, unknown> = {}) => ({
  clusterId,
  action: 'grant',
  entitlementId: VIEW_TEAM_A,
  principal: { type: 'iam_user', arn: ALICE },
  ...extra,
});

describe('provisioning requests', () => {
  it('refuses while provisioning is off for the cluster, saying how to turn it on', async () => {
    const res = await request(grant());
    expect(res.statusCode).toBe(403);
    expect(res.json<{ error: { message: string } }>().error.message).toMatch(
      /provisioning is off.*provisioningEnabled/,
    );
  });

  it('refuses a cluster that was never synced, since nothing can be checked', async () => {
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/clusters/${clusterId}`,
      headers: auth(t.keys.admin),
      payload: { provisioningEnabled: true },
    });
    const res = await request(grant());
    expect(res.statusCode).toBe(409);
  });

  it('checks the request against the current snapshot and the cluster policy', async () => {
    const { run } = await enqueueSyncRun(t.database, clusterId, 'api');
    await startSyncRun(t.database, run.id, 'test');
    const ents = [
      entitlement(VIEW_TEAM_A, { type: 'cluster_role', id: 'view' }),
      entitlement('cluster_role:cluster-admin:all:member', { type: 'cluster_role', id: 'cluster-admin' }),
    ];
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
          { type: 'role', id: ROLE, displayName: 'PlatformDeployer', profile: {}, annotations: [] },
        ],
        entitlements: () => ents,
        grants: () => [],
      },
    });
    await t.app.inject({
      method: 'PATCH',
      url: `/v1/clusters/${clusterId}`,
      headers: auth(t.keys.admin),
      payload: { accountId: '111111111111' },
    });

    const denied = await request(grant({ entitlementId: 'cluster_role:cluster-admin:all:member' }));
    expect(denied.statusCode).toBe(403);
    expect(denied.json<{ error: { message: string } }>().error.message).toMatch(
      /policy denies .*cluster-admin/,
    );

    const unknown = await request(grant({ entitlementId: 'cluster_role:view:team-z:member' }));
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json<{ error: { message: string } }>().error.message).toMatch(
      /does not exist in cluster prov/,
    );

    const notProvisionable = await request(
      grant({ entitlementId: 'role:arn:aws:iam::111111111111:role/X:assignment' }),
    );
    expect(notProvisionable.statusCode).toBe(422);

    const wrongType = await request(grant({ principal: { type: 'role', arn: ALICE } }));
    expect(wrongType.statusCode).toBe(400);

    const missingRole = await request(
      grant({ principal: { type: 'role', arn: 'arn:aws:iam::111111111111:role/Nobody' } }),
    );
    expect(missingRole.statusCode).toBe(422);
    expect(missingRole.json<{ error: { message: string } }>().error.message).toMatch(
      /does not exist in account 111111111111/,
    );

    const past = await request(grant({ expiresAt: new Date(Date.now() - 1000).toISOString() }));
    expect(past.statusCode).toBe(400);
  });

  it('answers a grant the cluster policy refuses with 403 and its stable code, but never refuses the revoke', async () => {
    const denied = await request(grant({ entitlementId: 'cluster_role:cluster-admin:all:member' }));
    expect(denied.statusCode).toBe(403);
    expect(denied.json<{ error: { details: unknown } }>().error.details).toEqual({
      code: 'POLICY_DENIED',
      rule: 'cluster_role:cluster-admin:*',
    });
    // A revoke only takes access away: no allow/deny rule may keep cluster-admin in place.
    const revoke = await request({
      ...grant({ entitlementId: 'cluster_role:cluster-admin:all:member' }),
      action: 'revoke',
    });
    expect(revoke.statusCode).toBe(202);
    expect(revoke.json()).toMatchObject({ action: 'revoke', status: 'pending' });
  });

  it('lets the grant through once PATCH /v1/clusters/{id} allows it, and refuses again under a deny rule', async () => {
    const patch = (provisioningPolicy: unknown) =>
      t.app.inject({
        method: 'PATCH',
        url: `/v1/clusters/${clusterId}`,
        headers: auth(t.keys.admin),
        payload: { provisioningPolicy },
      });
    expect(
      (await patch({ allow: [{ entitlement: 'cluster_role:cluster-admin:all:member', principal: ALICE }] }))
        .statusCode,
    ).toBe(200);
    const allowed = await request(grant({ entitlementId: 'cluster_role:cluster-admin:all:member' }));
    expect(allowed.statusCode).toBe(202);
    const forRole = await request(
      grant({
        entitlementId: 'cluster_role:cluster-admin:all:member',
        principal: { type: 'role', arn: ROLE },
      }),
    );
    expect(forRole.statusCode).toBe(403);

    expect((await patch({ deny: ['cluster_role:view:*'] })).statusCode).toBe(200);
    const view = await request(grant());
    expect(view.statusCode).toBe(403);
    expect(view.json<{ error: { message: string } }>().error.message).toMatch(
      /deny rule "cluster_role:view:\*"/,
    );
    expect((await patch({})).statusCode).toBe(200);
  });

  it('records a valid request once per Idempotency-Key and queues it', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const first = await request(
      grant({ principal: { type: 'role', arn: ROLE }, expiresAt, reason: 'on-call' }),
      { 'idempotency-key': 'oncall-2026-11-28' },
    );
    expect(first.statusCode).toBe(202);
    const body = first.json<{ id: string; status: string; created: boolean; expiresAt: string }>();
    expect(body).toMatchObject({ status: 'pending', created: true });
    const again = await request(
      grant({ principal: { type: 'role', arn: ROLE }, expiresAt, reason: 'on-call' }),
      { 'idempotency-key': 'oncall-2026-11-28' },
    );
    expect(again.json()).toMatchObject({ id: body.id, created: false });
    const different = await request(grant({ entitlementId: VIEW_TEAM_A }), {
      'idempotency-key': 'oncall-2026-11-28',
    });
    expect(different.statusCode).toBe(409);

    const queue = new Queue('eks-provision', { connection: t.redis, prefix: t.prefix });
    expect((await queue.getJob(`grant-${body.id}`))?.data).toEqual({ requestId: body.id });
    await queue.close();

    const shown = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/provisioning-requests/${body.id}`,
        headers: auth(t.keys.read),
      })
    ).json<{ audit: { action: string; actor: string }[] }>();
    expect(shown.audit.map((a) => a.action)).toEqual(['access.grant.request']);
    const listed = (
      await t.app.inject({
        method: 'GET',
        url: `/v1/provisioning-requests?principalArn=${encodeURIComponent(ROLE)}`,
        headers: auth(t.keys.read),
      })
    ).json<{ items: { id: string }[] }>();
    expect(listed.items.map((r) => r.id)).toEqual([body.id]);
  });

  it('needs the provision scope', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/provisioning-requests',
      headers: auth(t.keys.sync),
      payload: grant(),
    });
    expect(res.statusCode).toBe(403);
  });
});
