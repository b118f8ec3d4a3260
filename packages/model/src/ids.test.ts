// The baton id grammar: every id shape baton-eks issues (and our k8s_group) is formatted and parsed
// back unchanged, including the ones whose names and ARNs contain colons.
import { describe, expect, it } from 'vitest';
import {
  accessPolicyEntitlementId,
  clusterRoleEntitlementId,
  entitlementId,
  formatEntitlementId,
  grantId,
  groupMemberEntitlementId,
  namespaceRoleEntitlementId,
  parseEntitlementId,
  parseGrantId,
  parseNamespacedResourceId,
  roleAssignmentEntitlementId,
} from './ids.js';
import { createGrant, RESOURCE_TYPES } from './snapshot.js';

const VIEW_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const SSO_ROLE =
  'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef';
const ALICE = 'arn:aws:iam::111122223333:user/engineering/alice';

describe('resource type catalogue', () => {
  it('advertises the baton-eks type ids and display names so C1 recognises them', () => {
    expect(Object.values(RESOURCE_TYPES).map((t) => [t.id, t.displayName, t.traits.join(',')])).toEqual([
      ['access_policy', 'Access Policy', 'ROLE'],
      ['role', 'IAM Role', 'ROLE'],
      ['cluster_role', 'Cluster Role', 'ROLE'],
      ['namespace_role', 'Namespace Role', 'ROLE'],
      ['namespace', 'Namespace', ''],
      ['service_account', 'Service Account', 'USER'],
      ['iam_user', 'IAM User', 'USER'],
      ['configmap', 'Config Map', ''],
      ['k8s_group', 'Kubernetes Group', 'GROUP'],
    ]);
  });
});

describe('entitlement and grant ids', () => {
  it('formats ids as <type>:<resource>:<slug> and <entitlement>:<principal type>:<principal id>', () => {
    const e = entitlementId('cluster_role', 'view', 'team-a:member');
    expect(e).toBe('cluster_role:view:team-a:member');
    expect(grantId(e, 'iam_user', ALICE)).toBe(`cluster_role:view:team-a:member:iam_user:${ALICE}`);
    expect(accessPolicyEntitlementId(VIEW_POLICY)).toBe(`access_policy:${VIEW_POLICY}:assigned:cluster`);
    expect(accessPolicyEntitlementId(VIEW_POLICY, 'default')).toBe(
      `access_policy:${VIEW_POLICY}:assigned:default`,
    );
    expect(clusterRoleEntitlementId('view')).toBe('cluster_role:view:all:member');
    expect(namespaceRoleEntitlementId('team-a', 'deployer')).toBe('namespace_role:team-a/deployer:member');
    expect(roleAssignmentEntitlementId(SSO_ROLE)).toBe(`role:${SSO_ROLE}:assignment`);
    expect(groupMemberEntitlementId('system:masters')).toBe('k8s_group:system:masters:member');
  });

  it.each([
    [
      'cluster_role:view:team-a:member',
      {
        resourceType: 'cluster_role',
        clusterRole: 'view',
        scope: { type: 'namespace', namespace: 'team-a' },
      },
    ],
    [
      'cluster_role:view:all:member',
      { resourceType: 'cluster_role', clusterRole: 'view', scope: { type: 'cluster' } },
    ],
    [
      'cluster_role:eks:podsecuritypolicy:privileged:kube-system:member',
      {
        resourceType: 'cluster_role',
        clusterRole: 'eks:podsecuritypolicy:privileged',
        scope: { type: 'namespace', namespace: 'kube-system' },
      },
    ],
    [
      `access_policy:${VIEW_POLICY}:assigned:cluster`,
      { resourceType: 'access_policy', policyArn: VIEW_POLICY, scope: { type: 'cluster' } },
    ],
    [
      `access_policy:${VIEW_POLICY}:assigned:team-a`,
      {
        resourceType: 'access_policy',
        policyArn: VIEW_POLICY,
        scope: { type: 'namespace', namespace: 'team-a' },
      },
    ],
    [
      'namespace_role:team-a/deployer:member',
      { resourceType: 'namespace_role', namespace: 'team-a', name: 'deployer' },
    ],
    [
      'namespace_role:team-a/ci:deployer:member',
      { resourceType: 'namespace_role', namespace: 'team-a', name: 'ci:deployer' },
    ],
    [`role:${SSO_ROLE}:assignment`, { resourceType: 'role', roleArn: SSO_ROLE }],
    [
      'role:arn:aws-cn:iam::111122223333:role/ops:assignment',
      { resourceType: 'role', roleArn: 'arn:aws-cn:iam::111122223333:role/ops' },
    ],
    ['k8s_group:system:masters:member', { resourceType: 'k8s_group', group: 'system:masters' }],
    [
      'service_account:kube-system/aws-node:impersonate',
      { resourceType: 'service_account', namespace: 'kube-system', name: 'aws-node' },
    ],
    [
      'configmap:kube-system/aws-auth:update',
      { resourceType: 'configmap', namespace: 'kube-system', name: 'aws-auth', verb: 'update' },
    ],
  ])('parses %s and formats it back unchanged', (id, expected) => {
    const parsed = parseEntitlementId(id);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value).toMatchObject(expected);
    expect(formatEntitlementId(parsed.value)).toBe(id);
  });

  it.each([
    ['view:all:member', 'resource type "view" has no entitlements'],
    ['cluster-admin', 'no resource type prefix'],
    ['cluster_role:view:member', 'expected "<cluster role>'],
    ['cluster_role:view:Team_A:member', 'not "all" or a namespace name'],
    [`access_policy:${VIEW_POLICY}`, 'assigned'],
    ['access_policy:AmazonEKSViewPolicy:assigned:cluster', 'not an ARN'],
    ['namespace_role:deployer:member', '<namespace>/<role>'],
    [`role:${ALICE}:assignment`, 'not an IAM role ARN'],
    ['k8s_group:system:masters:assignment', 'slug "member"'],
    ['namespace:default:member', 'no entitlements'],
  ])('rejects %s with a reason', (id, reason) => {
    const parsed = parseEntitlementId(id);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(reason);
  });

  it('splits grant ids whose entitlement and principal both contain colons', () => {
    const g = grantId(`access_policy:${VIEW_POLICY}:assigned:cluster`, 'role', SSO_ROLE);
    const parsed = parseGrantId(g);
    expect(parsed).toMatchObject({
      ok: true,
      value: {
        entitlementId: `access_policy:${VIEW_POLICY}:assigned:cluster`,
        principal: { type: 'role', id: SSO_ROLE },
      },
    });
    expect(parseGrantId('k8s_group:system:masters:member:iam_user:' + ALICE)).toMatchObject({
      ok: true,
      value: { entitlement: { group: 'system:masters' }, principal: { type: 'iam_user', id: ALICE } },
    });
    expect(parseGrantId('cluster_role:admin:all:member:k8s_group:system:masters')).toMatchObject({
      ok: true,
      value: {
        entitlementId: 'cluster_role:admin:all:member',
        principal: { type: 'k8s_group', id: 'system:masters' },
      },
    });
    expect(parseGrantId('cluster_role:admin:all:member:nobody:x').ok).toBe(false);
  });

  const ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
  const DEPLOYER = 'arn:aws:iam::111122223333:role/PlatformDeployer';
  it.each([
    ['cluster_role:view:all:member', 'cluster_role', 'view', 'all:member'],
    ['cluster_role:view:team-a:member', 'cluster_role', 'view', 'team-a:member'],
    ['namespace_role:team-a/deployer:member', 'namespace_role', 'team-a/deployer', 'member'],
    [`access_policy:${ADMIN_POLICY}:assigned:cluster`, 'access_policy', ADMIN_POLICY, 'assigned:cluster'],
    [`access_policy:${ADMIN_POLICY}:assigned:team-a`, 'access_policy', ADMIN_POLICY, 'assigned:team-a'],
    [`role:${SSO_ROLE}:assignment`, 'role', SSO_ROLE, 'assignment'],
    ['k8s_group:system:masters:member', 'k8s_group', 'system:masters', 'member'],
  ])(
    'grant ids on %s split back into the entitlement and each kind of principal',
    (id, type, resourceId, slug) => {
      const parsed = parseEntitlementId(id);
      expect(parsed).toMatchObject({ ok: true, value: { resourceType: type, resourceId, slug } });
      expect(entitlementId(type, resourceId, slug)).toBe(id);
      for (const principal of [
        { type: 'iam_user', id: ALICE },
        { type: 'role', id: DEPLOYER },
        { type: 'role', id: SSO_ROLE },
        { type: 'k8s_group', id: 'system:masters' },
        { type: 'service_account', id: 'kube-system/aws-node' },
      ]) {
        const g = grantId(id, principal.type, principal.id);
        expect(parseGrantId(g), g).toMatchObject({ ok: true, value: { entitlementId: id, principal } });
      }
    },
  );

  it('takes namespaced resource ids apart at the first slash, which a namespace name never contains', () => {
    expect(parseNamespacedResourceId('team-a/ci:deployer/x')).toEqual({
      namespace: 'team-a',
      name: 'ci:deployer/x',
    });
    expect(parseNamespacedResourceId('Team_A/deployer')).toBeUndefined();
    expect(parseNamespacedResourceId('deployer')).toBeUndefined();
  });
});

describe('createGrant', () => {
  it('marks IAM users for matching to the AWS connector and makes role grants expand to who can assume the role', () => {
    const e = clusterRoleEntitlementId('view');
    const resource = { type: 'cluster_role', id: 'view' };
    expect(createGrant({ entitlementId: e, resource, principal: { type: 'iam_user', id: ALICE } })).toEqual({
      id: `${e}:iam_user:${ALICE}`,
      entitlementId: e,
      resource,
      principal: { type: 'iam_user', id: ALICE },
      annotations: [{ type: 'ExternalResourceMatchID', id: ALICE }],
    });
    const toRole = createGrant({
      entitlementId: e,
      resource,
      principal: { type: 'role', id: SSO_ROLE },
      immutable: true,
    });
    expect(toRole.annotations).toEqual([
      { type: 'GrantExpandable', entitlementIds: [`role:${SSO_ROLE}:assignment`] },
      { type: 'GrantImmutable' },
    ]);
    const toGroup = createGrant({
      entitlementId: e,
      resource,
      principal: { type: 'k8s_group', id: 'system:masters' },
    });
    expect(toGroup.annotations).toEqual([
      { type: 'GrantExpandable', entitlementIds: ['k8s_group:system:masters:member'] },
    ]);
  });
});
