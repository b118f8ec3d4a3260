// Every provisionable entitlement type × every authentication mode × an IAM user and an IAM role,
// checked by its effect: the principal mints its own EKS token and asks the simulated API server.
import { startSim, type RunningSim } from '@eks-access/eks-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grantAccess } from './grant-access.js';
import {
  AP,
  T,
  clusterState,
  createProvisioningWorld,
  credentialsOf,
  listConfigMapsAs,
  withSession,
  type ClusterName,
} from './provision.test-support.js';
import { revokeAccess } from './revoke-access.js';

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

interface Actor {
  label: string;
  type: 'iam_user' | 'role';
  arn: string;
  user: { arn: string; accessKeyId: string; secretAccessKey: string };
  role?: string;
}

const actors: Record<ClusterName, Actor[]> = {
  'prod-eu': [
    { label: 'IAM user', type: 'iam_user', arn: T.carol.arn, user: T.carol },
    { label: 'SSO role', type: 'role', arn: T.ssoTester, user: T.carol, role: T.ssoTester },
  ],
  'staging-us': [
    { label: 'IAM user', type: 'iam_user', arn: T.carol.arn, user: T.carol },
    { label: 'role with a path', type: 'role', arn: T.tester, user: T.carol, role: T.tester },
  ],
  'legacy-us': [
    { label: 'IAM user', type: 'iam_user', arn: T.dave.arn, user: T.dave },
    { label: 'role with a path', type: 'role', arn: T.legacyTester, user: T.dave, role: T.legacyTester },
  ],
};

// legacy-us has no team-b and its deployer Role lives in legacy-apps.
const places: Record<ClusterName, { inside: string; outside: string; role: string }> = {
  'prod-eu': { inside: 'team-a', outside: 'team-b', role: 'team-a/deployer' },
  'staging-us': { inside: 'team-a', outside: 'team-b', role: 'team-a/deployer' },
  'legacy-us': { inside: 'team-a', outside: 'legacy-apps', role: 'legacy-apps/deployer' },
};

interface Case {
  name: string;
  cluster: ClusterName;
  actor: Actor;
  entitlementId: string;
  inside: string;
  outside: string;
}

const cases: Case[] = [];
for (const cluster of ['prod-eu', 'staging-us', 'legacy-us'] as const) {
  const p = places[cluster];
  for (const actor of actors[cluster]) {
    const base = { cluster, actor, outside: p.outside };
    if (cluster !== 'legacy-us') {
      cases.push({
        ...base,
        name: `${cluster}: AmazonEKSViewPolicy in team-a to an ${actor.label}`,
        entitlementId: `access_policy:${AP}/AmazonEKSViewPolicy:assigned:team-a`,
        inside: 'team-a',
      });
    }
    cases.push({
      ...base,
      name: `${cluster}: ClusterRole view in team-a to an ${actor.label}`,
      entitlementId: 'cluster_role:view:team-a:member',
      inside: p.inside,
      outside: cluster === 'legacy-us' ? 'legacy-apps' : 'team-b',
    });
    const roleNs = p.role.split('/')[0] ?? '';
    cases.push({
      ...base,
      name: `${cluster}: Role ${p.role} to an ${actor.label}`,
      entitlementId: `namespace_role:${p.role}:member`,
      inside: roleNs,
      outside: roleNs === 'team-a' ? 'team-b' : 'team-a',
    });
  }
}

describe('grant and revoke, checked by acting as the principal', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const change = { entitlementId: c.entitlementId, principal: { type: c.actor.type, arn: c.actor.arn } };
    const creds = await credentialsOf(sim, c.actor.user, c.actor.role);
    expect(await listConfigMapsAs(sim, c.cluster, creds, c.inside)).not.toBe('allowed');

    const granted = await withSession(sim, c.cluster, (s) => grantAccess(s, change));
    expect(granted.result).toBe('granted');
    expect(granted.steps.filter((s) => s.state === 'applied').length).toBeGreaterThan(0);
    expect(await listConfigMapsAs(sim, c.cluster, creds, c.inside)).toBe('allowed');
    expect(await listConfigMapsAs(sim, c.cluster, creds, c.outside)).toBe('forbidden');

    const again = await withSession(sim, c.cluster, (s) => grantAccess(s, change));
    expect(again.result).toBe('already-granted');
    expect(again.steps.every((s) => s.state === 'unchanged')).toBe(true);

    const revoked = await withSession(sim, c.cluster, (s) => revokeAccess(s, change));
    expect(revoked.result).toBe('revoked');
    expect(await listConfigMapsAs(sim, c.cluster, creds, c.inside)).toBe('forbidden');

    const state = clusterState(sim, c.cluster);
    const twice = await withSession(sim, c.cluster, (s) => revokeAccess(s, change));
    expect(twice.result).toBe('already-revoked');
    expect(clusterState(sim, c.cluster)).toBe(state);
  });

  it('a ClusterRole for all namespaces becomes a ClusterRoleBinding', async () => {
    const change = {
      entitlementId: 'cluster_role:view:all:member',
      principal: { type: 'role' as const, arn: T.tester },
    };
    const creds = await credentialsOf(sim, T.carol, T.tester);
    const granted = await withSession(sim, 'staging-us', (s) => grantAccess(s, change));
    expect(
      granted.steps.find((s) => s.state === 'applied' && s.operation === 'create:clusterrolebindings'),
    ).toBeDefined();
    expect(await listConfigMapsAs(sim, 'staging-us', creds, 'team-a')).toBe('allowed');
    expect(await listConfigMapsAs(sim, 'staging-us', creds, 'team-b')).toBe('allowed');
    await withSession(sim, 'staging-us', (s) => revokeAccess(s, change));
    expect(await listConfigMapsAs(sim, 'staging-us', creds, 'team-b')).toBe('forbidden');
  });

  it('CONFIG_MAP clusters refuse access policies and say what to do instead', async () => {
    const before = clusterState(sim, 'legacy-us');
    const change = {
      entitlementId: `access_policy:${AP}/AmazonEKSViewPolicy:assigned:team-a`,
      principal: { type: 'iam_user' as const, arn: T.dave.arn },
    };
    await expect(withSession(sim, 'legacy-us', (s) => grantAccess(s, change))).rejects.toMatchObject({
      code: 'PROVISIONING_REFUSED',
      message: expect.stringContaining(
        'authentication mode CONFIG_MAP has no access entries; switch to API_AND_CONFIG_MAP or use a cluster role',
      ),
    });
    expect(clusterState(sim, 'legacy-us')).toBe(before);
    expect((await withSession(sim, 'legacy-us', (s) => revokeAccess(s, change))).result).toBe(
      'already-revoked',
    );
  });
});
