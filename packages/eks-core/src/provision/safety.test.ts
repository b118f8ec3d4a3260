// What keeps provisioning from overreaching: the scope of "already granted", bindings owned by
// others, objects squatting on our names, dry runs, and requests that must be refused up front.
import { DEMO, startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grantAccess } from './grant-access.js';
import { bindingName, managedGroupFor } from './names.js';
import {
  AP,
  T,
  clusterState,
  createProvisioningWorld,
  withSession,
  type ClusterName,
} from './provision.test-support.js';
import { revokeAccess } from './revoke-access.js';
import type { AccessChange } from './types.js';

const RBAC = 'rbac.authorization.k8s.io';
let sim: RunningSim;

beforeAll(async () => {
  sim = await startSim({ world: createProvisioningWorld });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sim.faults.setRules([]);
});

const alice = (entitlementId: string): AccessChange => ({
  entitlementId,
  principal: { type: 'iam_user', arn: DEMO.alice.userArn },
});
const grant = (cluster: ClusterName, change: AccessChange, dryRun = false) =>
  withSession(sim, cluster, (s) => grantAccess(s, change, { dryRun }));
const revoke = (cluster: ClusterName, change: AccessChange, dryRun = false) =>
  withSession(sim, cluster, (s) => revokeAccess(s, change, { dryRun }));

function prodKube() {
  const kube = sim.findCluster('prod-eu')?.kube;
  if (!kube) throw new Error('no prod-eu');
  return kube;
}

describe('bindings', () => {
  it('a RoleBinding in another namespace does not make a namespaced grant "already granted"', async () => {
    // prod-eu: alice has ClusterRole edit in team-b through the customer binding team-b/alice-edit.
    const teamA = await grant('prod-eu', alice('cluster_role:edit:team-a:member'));
    expect(teamA.result).toBe('granted');
    expect(
      teamA.steps.find((s) => s.state === 'applied' && s.operation === 'create:rolebindings')?.target,
    ).toBe(`team-a/${bindingName('edit', DEMO.alice.userArn, 'team-a')}`);
    const teamB = await grant('prod-eu', alice('cluster_role:edit:team-b:member'));
    expect(teamB.result).toBe('already-granted');
    expect(teamB.steps[0]?.note).toContain('team-b/alice-edit');
  });

  it('revoking from a binding the connector does not own removes only that subject and records the binding before', async () => {
    prodKube().create('rolebindings', {
      metadata: { name: 'shared-view', namespace: 'team-a', labels: { owner: 'platform' } },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
      subjects: [
        { apiGroup: RBAC, kind: 'User', name: DEMO.alice.userArn },
        { apiGroup: RBAC, kind: 'Group', name: 'qa' },
      ],
    });
    const outcome = await revoke('prod-eu', alice('cluster_role:view:team-a:member'));
    expect(outcome.result).toBe('revoked');
    const step = outcome.steps.find((s) => s.state === 'applied');
    expect(step).toMatchObject({
      operation: 'update:rolebindings',
      target: 'team-a/shared-view',
      before: {
        metadata: { name: 'shared-view', labels: { owner: 'platform' } },
        subjects: [
          { kind: 'User', name: DEMO.alice.userArn },
          { kind: 'Group', name: 'qa' },
        ],
      },
      after: { subjects: [{ kind: 'Group', name: 'qa' }] },
    });
    expect(prodKube().get('rolebindings', 'team-a', 'shared-view')?.subjects).toEqual([
      { apiGroup: RBAC, kind: 'Group', name: 'qa' },
    ]);

    // Emptying a customer binding keeps the binding: deleting it is its owner's call.
    await revoke('prod-eu', alice('cluster_role:edit:team-b:member'));
    expect(prodKube().get('rolebindings', 'team-b', 'alice-edit')?.subjects ?? []).toEqual([]);
  });

  it('refuses to take over an object that sits on its deterministic name without its label', async () => {
    const name = bindingName('view', T.carol.arn, 'team-a');
    prodKube().create('rolebindings', {
      metadata: { name, namespace: 'team-a' },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: RBAC, kind: 'Group', name: 'someone-else' }],
    });
    await expect(
      grant('prod-eu', {
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'iam_user', arn: T.carol.arn },
      }),
    ).rejects.toMatchObject({
      code: 'PROVISIONING_REFUSED',
      message: expect.stringContaining('was not created by the connector'),
    });
  });

  it('binds groups, not usernames, in API mode (a role username is a {{SessionName}} template)', async () => {
    const outcome = await grant('prod-eu', {
      entitlementId: 'namespace_role:team-a/deployer:member',
      principal: { type: 'role', arn: T.tester },
    });
    expect(outcome.steps.find((s) => s.operation === 'UpdateAccessEntry')).toMatchObject({
      state: 'applied',
      after: { kubernetesGroups: [managedGroupFor(T.tester)] },
    });
    expect(outcome.steps.find((s) => s.operation === 'create:rolebindings')?.request).toMatchObject({
      roleRef: { kind: 'Role', name: 'deployer' },
      subjects: [{ kind: 'Group', name: managedGroupFor(T.tester) }],
    });
    // The existing groups of an entry are kept: PlatformDeployer keeps platform-deployers.
    const deployer = await grant('prod-eu', {
      entitlementId: 'cluster_role:view:monitoring:member',
      principal: { type: 'role', arn: DEMO.roles.platformDeployer },
    });
    expect(deployer.steps.find((s) => s.operation === 'UpdateAccessEntry')?.after).toEqual({
      kubernetesGroups: ['platform-deployers', managedGroupFor(DEMO.roles.platformDeployer)],
    });
  });
});

describe('dry run', () => {
  it.each([
    [
      'prod-eu',
      {
        entitlementId: `access_policy:${AP}/AmazonEKSViewPolicy:assigned:team-a`,
        principal: { type: 'role', arn: T.ssoTester },
      },
      ['CreateAccessEntry', 'AssociateAccessPolicy'],
    ],
    [
      'staging-us',
      { entitlementId: 'cluster_role:view:team-a:member', principal: { type: 'iam_user', arn: T.carol.arn } },
      ['CreateAccessEntry', 'UpdateAccessEntry', 'create:rolebindings'],
    ],
    [
      'legacy-us',
      {
        entitlementId: 'namespace_role:legacy-apps/deployer:member',
        principal: { type: 'role', arn: T.legacyTester },
      },
      ['update:configmaps', 'create:rolebindings'],
    ],
  ] as const)(
    '%s: returns the plan with request bodies and changes nothing',
    async (cluster, change, operations) => {
      const before = clusterState(sim, cluster);
      const plan = await grant(cluster, change, true);
      expect(plan.result).toBe('planned');
      expect(plan.steps.map((s) => s.operation)).toEqual(operations);
      expect(plan.steps.every((s) => s.state === 'planned' && s.request !== undefined)).toBe(true);
      expect(clusterState(sim, cluster)).toBe(before);

      // The plan is what a real run then does.
      const done = await grant(cluster, change);
      expect(done.steps.map((s) => [s.operation, s.request])).toEqual(
        plan.steps.map((s) => [s.operation, s.request]),
      );
      const afterGrant = clusterState(sim, cluster);
      const revokePlan = await revoke(cluster, change, true);
      expect(revokePlan.result).toBe('planned');
      expect(clusterState(sim, cluster)).toBe(afterGrant);
    },
  );
});

describe('refused up front', () => {
  const carol = (entitlementId: string): AccessChange => ({
    entitlementId,
    principal: { type: 'iam_user', arn: T.carol.arn },
  });

  it.each([
    ['an unparseable id', carol('cluster_role:view'), 'INVALID_ENTITLEMENT', /expected slug/],
    [
      'a type that is not provisionable',
      carol(`role:${T.tester}:assignment`),
      'INVALID_ENTITLEMENT',
      /only access_policy, cluster_role and namespace_role/,
    ],
    [
      'a ClusterRole that does not exist',
      carol('cluster_role:no-such-role:team-a:member'),
      'INVALID_ENTITLEMENT',
      /ClusterRole "no-such-role" does not exist/,
    ],
    [
      'a namespace that does not exist',
      carol('cluster_role:view:team-z:member'),
      'INVALID_ENTITLEMENT',
      /namespace "team-z" does not exist/,
    ],
    [
      'a Role that does not exist',
      carol('namespace_role:team-a/nobody:member'),
      'INVALID_ENTITLEMENT',
      /Role "team-a\/nobody" does not exist/,
    ],
    [
      'an access policy that does not exist',
      carol(`access_policy:${AP}/AmazonEKSNoSuchPolicy:assigned:cluster`),
      'INVALID_ENTITLEMENT',
      /access policy .* does not exist/,
    ],
    [
      'a user that does not exist',
      {
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'iam_user', arn: 'arn:aws:iam::111111111111:user/nobody' },
      },
      'PRINCIPAL_NOT_FOUND',
      /does not exist/,
    ],
    [
      'a role ARN with the wrong path',
      {
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'role', arn: 'arn:aws:iam::111111111111:role/ProvisionTester' },
      },
      'PRINCIPAL_NOT_FOUND',
      /is arn:aws:iam::111111111111:role\/teams\/ProvisionTester/,
    ],
    [
      'an STS session ARN',
      {
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'role', arn: 'arn:aws:sts::111111111111:assumed-role/ProvisionTester/s' },
      },
      'INVALID_PRINCIPAL',
      /STS session ARN/,
    ],
    [
      'an unknown partition',
      {
        entitlementId: 'cluster_role:view:team-a:member',
        principal: { type: 'iam_user', arn: 'arn:aws-moon:iam::111111111111:user/x' },
      },
      'INVALID_PRINCIPAL',
      /not an AWS partition/,
    ],
    [
      'a principal type that does not match the ARN',
      { entitlementId: 'cluster_role:view:team-a:member', principal: { type: 'role', arn: T.carol.arn } },
      'INVALID_PRINCIPAL',
      /is an IAM user/,
    ],
  ] as const)('%s', async (_what, change, code, message) => {
    const before = clusterState(sim, 'prod-eu');
    await expect(grant('prod-eu', change)).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
      retryable: false,
    });
    expect(clusterState(sim, 'prod-eu')).toBe(before);
  });

  it('a cluster-wide id is refused where a namespace of the same name ("all") makes it ambiguous', async () => {
    prodKube().create('namespaces', { metadata: { name: 'all' } });
    await expect(grant('prod-eu', carol('cluster_role:view:all:member'))).rejects.toMatchObject({
      code: 'PROVISIONING_REFUSED',
      message: expect.stringContaining('ambiguous'),
    });
  });

  it('a revoke still works for an IAM principal that no longer exists', async () => {
    // What an earlier grant left behind for a user deleted since: the connector's binding to its group.
    const gone = 'arn:aws:iam::111111111111:user/people/gone';
    const name = bindingName('view', gone, 'team-a');
    prodKube().create('rolebindings', {
      metadata: {
        name,
        namespace: 'team-a',
        labels: { 'app.kubernetes.io/managed-by': 'eks-access-connector' },
      },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: RBAC, kind: 'Group', name: managedGroupFor(gone) }],
    });
    const change: AccessChange = {
      entitlementId: 'cluster_role:view:team-a:member',
      principal: { type: 'iam_user', arn: gone },
    };
    await expect(grant('prod-eu', change)).rejects.toMatchObject({ code: 'PRINCIPAL_NOT_FOUND' });
    expect((await revoke('prod-eu', change)).result).toBe('revoked');
    expect(prodKube().get('rolebindings', 'team-a', name)).toBeUndefined();
  });
});
