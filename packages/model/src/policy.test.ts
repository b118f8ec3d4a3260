// The provisioning policy as the provisioner, the API and the uploader apply it: what is refused,
// with which stable code and reason, and that no policy can keep access in place (revokes).
import { describe, expect, it } from 'vitest';
import {
  decideProvisioning,
  globMatches,
  validateProvisioningPolicy,
  type ClusterProvisioning,
  type ProvisioningSubject,
} from './policy.js';

const ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
const ALICE = 'arn:aws:iam::111122223333:user/people/alice';
const BREAK_GLASS = 'arn:aws:iam::111122223333:role/ops/BreakGlass';
const CLUSTER_ADMIN = 'cluster_role:cluster-admin:all:member';

const cluster = (provisioningPolicy: unknown = {}, provisioningEnabled = true): ClusterProvisioning => ({
  name: 'prod',
  provisioningEnabled,
  provisioningPolicy,
});
const grant = (entitlementId: string, principalArn = ALICE): ProvisioningSubject => ({
  action: 'grant',
  entitlementId,
  principalArn,
});
const revoke = (entitlementId: string, extra: Partial<ProvisioningSubject> = {}): ProvisioningSubject => ({
  action: 'revoke',
  entitlementId,
  principalArn: ALICE,
  ...extra,
});

describe('the built-in denies', () => {
  it.each([
    CLUSTER_ADMIN,
    'cluster_role:cluster-admin:team-a:member',
    `access_policy:${ADMIN_POLICY}:assigned:cluster`,
    `access_policy:${ADMIN_POLICY}:assigned:team-a`,
    'access_policy:arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy:assigned:cluster',
  ])('refuse a grant of %s on a cluster with the default policy, saying how to allow it', (id) => {
    const decision = decideProvisioning(cluster(), grant(id));
    expect(decision).toMatchObject({ allowed: false, code: 'POLICY_DENIED' });
    if (!decision.allowed) expect(decision.message).toMatch(/denied by default.*provisioningPolicy\.allow/);
  });

  it('leave every other provisionable entitlement alone: allow is not an allow-list', () => {
    for (const id of [
      'cluster_role:view:all:member',
      'cluster_role:admin:team-a:member',
      'namespace_role:team-a/deployer:member',
      'access_policy:arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy:assigned:cluster',
    ]) {
      expect(decideProvisioning(cluster({ allow: [CLUSTER_ADMIN] }), grant(id)), id).toEqual({
        allowed: true,
      });
    }
  });

  it('are lifted by a matching allow rule: an exact id, a glob, or one principal only', () => {
    expect(decideProvisioning(cluster({ allow: [CLUSTER_ADMIN] }), grant(CLUSTER_ADMIN))).toEqual({
      allowed: true,
    });
    expect(
      decideProvisioning(
        cluster({ allow: [CLUSTER_ADMIN] }),
        grant('cluster_role:cluster-admin:team-a:member'),
      ).allowed,
    ).toBe(false);
    expect(
      decideProvisioning(
        cluster({ allow: ['cluster_role:cluster-admin:*'] }),
        grant('cluster_role:cluster-admin:team-a:member'),
      ),
    ).toEqual({ allowed: true });
    const breakGlassOnly = cluster({
      allow: [{ entitlement: 'access_policy:*AmazonEKSClusterAdminPolicy:*', principal: BREAK_GLASS }],
    });
    expect(
      decideProvisioning(
        breakGlassOnly,
        grant(`access_policy:${ADMIN_POLICY}:assigned:cluster`, BREAK_GLASS),
      ),
    ).toEqual({ allowed: true });
    expect(
      decideProvisioning(breakGlassOnly, grant(`access_policy:${ADMIN_POLICY}:assigned:cluster`, ALICE))
        .allowed,
    ).toBe(false);
  });
});

describe('deny rules', () => {
  it('refuse what they match, whatever allow says, and name the rule', () => {
    const policy = {
      allow: ['*'],
      deny: ['cluster_role:edit:*', { principal: 'arn:aws:iam::999999999999:*' }],
    };
    const edit = decideProvisioning(cluster(policy), grant('cluster_role:edit:team-a:member'));
    expect(edit).toMatchObject({ allowed: false, code: 'POLICY_DENIED', rule: 'cluster_role:edit:*' });
    if (!edit.allowed) expect(edit.message).toContain('deny rule "cluster_role:edit:*"');
    expect(
      decideProvisioning(
        cluster(policy),
        grant('cluster_role:view:all:member', 'arn:aws:iam::999999999999:role/x'),
      ),
    ).toMatchObject({ allowed: false, code: 'POLICY_DENIED' });
    expect(decideProvisioning(cluster(policy), grant('cluster_role:view:all:member'))).toEqual({
      allowed: true,
    });
  });
});

describe('revokes', () => {
  const strict = cluster({ deny: ['*'] });
  it.each([
    ['the built-in cluster-admin deny', cluster(), CLUSTER_ADMIN],
    ['a deny of everything', strict, 'cluster_role:view:team-a:member'],
    [
      'a deny of the admin policy',
      cluster({ deny: ['access_policy:*'] }),
      `access_policy:${ADMIN_POLICY}:assigned:cluster`,
    ],
  ])('are never refused by %s: a policy cannot keep access in place', (_, c, id) => {
    expect(decideProvisioning(c, grant(id)).allowed).toBe(false);
    expect(decideProvisioning(c, revoke(id))).toEqual({ allowed: true });
  });

  it('that end a time-bound grant run even with provisioning switched off; others wait for the switch', () => {
    const off = cluster({}, false);
    expect(decideProvisioning(off, revoke(CLUSTER_ADMIN, { expiry: true }))).toEqual({ allowed: true });
    expect(decideProvisioning(off, revoke(CLUSTER_ADMIN))).toMatchObject({
      allowed: false,
      code: 'PROVISIONING_DISABLED',
    });
    expect(decideProvisioning(off, grant('cluster_role:view:all:member'))).toMatchObject({
      allowed: false,
      code: 'PROVISIONING_DISABLED',
    });
  });

  it('and grants of what cannot be provisioned are refused as invalid, whatever the policy', () => {
    for (const subject of [
      grant('k8s_group:system:masters:member'),
      revoke('k8s_group:system:masters:member'),
      grant('cluster_role:view'),
      revoke(`role:${BREAK_GLASS}:assignment`),
    ]) {
      expect(decideProvisioning(cluster({ allow: ['*'] }), subject)).toMatchObject({
        allowed: false,
        code: 'INVALID_ENTITLEMENT',
      });
    }
  });
});

describe('a stored policy that does not validate', () => {
  it('refuses every grant (fail closed) but no revoke', () => {
    const broken = cluster({ allow: 'cluster_role:cluster-admin:*' });
    expect(decideProvisioning(broken, grant('cluster_role:view:all:member'))).toMatchObject({
      allowed: false,
      code: 'POLICY_INVALID',
    });
    expect(decideProvisioning(broken, revoke('cluster_role:view:all:member'))).toEqual({ allowed: true });
  });
});

describe('policy validation', () => {
  it('accepts exact ids, globs and principal-scoped rules', () => {
    expect(
      validateProvisioningPolicy({
        allow: [
          CLUSTER_ADMIN,
          'access_policy:*',
          { entitlement: 'cluster_role:cluster-admin:*', principal: BREAK_GLASS },
          { principal: 'arn:aws:iam::111122223333:role/*' },
        ],
        deny: ['*', 'namespace_role:kube-system/*'],
      }),
    ).toEqual([]);
    expect(validateProvisioningPolicy({})).toEqual([]);
  });

  it('names every problem with its path: unknown fields, typos that would match nothing, bad principals', () => {
    const issues = validateProvisioningPolicy({
      allow: [
        'clusterrole:cluster-admin:*',
        'cluster_role:cluster-admin',
        { entitlement: CLUSTER_ADMIN, who: 'x' },
        {},
        7,
      ],
      deny: [{ principal: 'BreakGlass' }],
      allowed: [],
    });
    expect(issues.map((i) => i.path.join('.'))).toEqual([
      'allowed',
      'allow.0',
      'allow.1',
      'allow.2.who',
      'allow.3',
      'allow.4',
      'deny.0.principal',
    ]);
    expect(issues[1]!.message).toMatch(
      /must start with \* or one of access_policy:, cluster_role:, namespace_role:/,
    );
    expect(issues[2]!.message).toMatch(/exact id must be a valid entitlement id/);
    expect(validateProvisioningPolicy([])).toEqual([
      { path: [], message: expect.stringMatching(/object/) as string },
    ]);
    expect(validateProvisioningPolicy({ deny: Array.from({ length: 101 }, () => '*') })).toMatchObject([
      { path: ['deny'] },
    ]);
  });
});

describe('glob matching', () => {
  it('lets * cross colons and slashes, and matches everything else literally', () => {
    expect(
      globMatches(
        'cluster_role:*:member',
        'cluster_role:eks:podsecuritypolicy:privileged:kube-system:member',
      ),
    ).toBe(true);
    expect(
      globMatches('access_policy:arn:*:eks::aws:*', `access_policy:${ADMIN_POLICY}:assigned:cluster`),
    ).toBe(true);
    expect(globMatches('cluster_role:view.all:member', 'cluster_role:view:all:member')).toBe(false);
    expect(globMatches('cluster_role:view:*', 'cluster_role:View:all:member')).toBe(false);
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('a*b*c', 'abc')).toBe(true);
    expect(globMatches('a*b*c', 'acb')).toBe(false);
  });

  it('answers patterns built to make a regular expression backtrack (one would not finish here)', () => {
    expect(globMatches(`${'a*'.repeat(100)}b`, 'a'.repeat(4000))).toBe(false);
    expect(globMatches(`${'a*'.repeat(100)}b`, `${'a'.repeat(4000)}b`)).toBe(true);
  });
});
