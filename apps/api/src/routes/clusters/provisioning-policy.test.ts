// A cluster's provisioning policy through the API: set on create and patch, validated (unknown
// fields and patterns that could never match are refused, naming where), shown on GET, audited.
import { listAudit } from '@eks-access/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test-app.js';

let t: TestApi;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const BREAK_GLASS = {
  entitlement: 'cluster_role:cluster-admin:*',
  principal: 'arn:aws:iam::111111111111:role/ops/BreakGlass',
};

beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t.close();
});

async function create(name: string, extra: Record<string, unknown> = {}) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/clusters',
    headers: auth(t.keys.admin),
    payload: {
      name,
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::111111111111:role/EksAccessConnector',
      ...extra,
    },
  });
}

const patch = (id: string, payload: Record<string, unknown>) =>
  t.app.inject({ method: 'PATCH', url: `/v1/clusters/${id}`, headers: auth(t.keys.admin), payload });
const get = async (id: string) =>
  (await t.app.inject({ method: 'GET', url: `/v1/clusters/${id}`, headers: auth(t.keys.read) })).json<{
    provisioningPolicy: unknown;
  }>();

describe('provisioningPolicy on a cluster', () => {
  it('is set when the cluster is registered and shown on GET; without one the built-in denies apply ({})', async () => {
    const policy = {
      allow: ['cluster_role:cluster-admin:all:member', BREAK_GLASS],
      deny: ['namespace_role:kube-system/*'],
    };
    const res = await create('with-policy', { provisioningEnabled: true, provisioningPolicy: policy });
    expect(res.statusCode).toBe(201);
    const { id } = res.json<{ id: string }>();
    expect(await get(id)).toMatchObject({ provisioningPolicy: policy });
    const plain = (await create('without-policy')).json<{ id: string }>();
    expect(await get(plain.id)).toMatchObject({ provisioningPolicy: {} });
  });

  it('is replaced by PATCH and audited with its before and after', async () => {
    const { id } = (await create('patched')).json<{ id: string }>();
    const res = await patch(id, { provisioningPolicy: { allow: [BREAK_GLASS] } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ provisioningPolicy: { allow: [BREAK_GLASS] } });
    expect(await get(id)).toMatchObject({ provisioningPolicy: { allow: [BREAK_GLASS] } });
    const events = (await listAudit(t.database, { clusterId: id })).items.filter(
      (e) => e.action === 'cluster.update',
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      before: { provisioningPolicy: {} },
      after: { provisioningPolicy: { allow: [BREAK_GLASS] } },
    });
    expect(events[0]!.actor).toMatch(/^api-key:/);
  });

  it.each([
    [{ allowed: ['cluster_role:cluster-admin:*'] }, /allowed/],
    [{ allow: 'cluster_role:cluster-admin:*' }, /allow/],
    [{ allow: [{ entitlement: 'cluster_role:cluster-admin:*', who: 'me' }] }, /who/],
    [
      { allow: ['clusterrole:cluster-admin:*'] },
      /must start with \* or one of access_policy:, cluster_role:, namespace_role:/,
    ],
    [{ allow: ['cluster_role:cluster-admin'] }, /exact id must be a valid entitlement id/],
    [{ deny: [{ principal: 'BreakGlass' }] }, /not a principal ARN pattern/],
    [{ deny: [{}] }, /needs an entitlement pattern, a principal pattern, or both/],
  ])(
    'refuses the invalid policy %j with 400, saying what is wrong and where, and changes nothing',
    async (provisioningPolicy, reason) => {
      const { id } = (
        await create(`bad-${Math.random().toString(36).slice(2, 8)}`, {
          provisioningPolicy: { deny: ['cluster_role:edit:*'] },
        })
      ).json<{ id: string }>();
      const res = await patch(id, { provisioningPolicy });
      expect(res.statusCode).toBe(400);
      const error = res.json<{ error: { code: string; message: string; details: unknown } }>().error;
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(`${error.message} ${JSON.stringify(error.details)}`).toMatch(reason);
      expect(await get(id)).toMatchObject({ provisioningPolicy: { deny: ['cluster_role:edit:*'] } });
      expect(
        (await create(`bad-create-${Math.random().toString(36).slice(2, 8)}`, { provisioningPolicy }))
          .statusCode,
      ).toBe(400);
    },
  );
});
