import { describe, expect, it } from 'vitest';
import { computeEffectiveAccess, type EffectiveAccess } from './effective-access.js';
import {
  accessPolicyEntitlementId,
  clusterRoleEntitlementId,
  createGrant,
  groupMemberEntitlementId,
  namespaceRoleEntitlementId,
  roleAssignmentEntitlementId,
  type Grant,
  type GrantCondition,
  type GrantSource,
  type ResourceRef,
} from './model.js';

const ACCT = '111122223333';
const ALICE = `arn:aws:iam::${ACCT}:user/alice`;
const BOB = `arn:aws:iam::${ACCT}:user/bob`;
const ADMIN_ROLE = `arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef`;
const CI_ROLE = `arn:aws:iam::${ACCT}:role/ci`;
const VIEW_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
const EDIT_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';

const user = (arn: string): ResourceRef => ({ type: 'iam_user', id: arn });
const role = (arn: string): ResourceRef => ({ type: 'role', id: arn });
const group = (name: string): ResourceRef => ({ type: 'k8s_group', id: name });

function canAssume(
  principal: ResourceRef,
  roleArn: string,
  extra: { conditions?: GrantCondition[] } = {},
): Grant {
  const source: GrantSource = { kind: 'trust-policy', roleArn, statementIndex: 0 };
  return createGrant({
    entitlementId: roleAssignmentEntitlementId(roleArn),
    resource: role(roleArn),
    principal,
    sources: [source],
    immutable: true,
    ...extra,
  });
}

function memberOf(principal: ResourceRef, name: string, index: number): Grant {
  return createGrant({
    entitlementId: groupMemberEntitlementId(name),
    resource: group(name),
    principal,
    sources: [{ kind: 'identity-mapping', identity: { kind: 'aws-auth', key: 'mapRoles', index } }],
  });
}

/** Compact rendering: principal, entitlement, scope, then each step as kind(holder). */
function render(records: EffectiveAccess[]): string[] {
  const short = (id: string): string => id.replace(/^arn:aws:iam::\d+:(user|role)\/(?:.*\/)?/, '$1/');
  return records.map((r) => {
    const scope = r.scope.type === 'cluster' ? 'cluster' : `ns=${r.scope.namespace}`;
    const path = r.path.map((s) => `${s.kind}(${short(s.holder.id)})`).join(' > ');
    return `${short(r.principalArn)} | ${r.entitlementId} | ${scope} | ${path}`;
  });
}

describe('computeEffectiveAccess', () => {
  it('follows role assumption, then group membership, then a binding, and says through which objects', async () => {
    const binding: GrantSource = {
      kind: 'rbac-binding',
      binding: { kind: 'RoleBinding', name: 'platform-admins', namespace: 'team-a' },
      subject: { kind: 'Group', name: 'platform-admins' },
    };
    const grants = [
      canAssume(user(ALICE), ADMIN_ROLE),
      memberOf(role(ADMIN_ROLE), 'platform-admins', 0),
      createGrant({
        entitlementId: clusterRoleEntitlementId('admin', 'team-a'),
        resource: { type: 'cluster_role', id: 'admin' },
        principal: group('platform-admins'),
        sources: [binding],
      }),
    ];
    const records = await computeEffectiveAccess({ grants, cluster: 'prod' });
    expect(render(records)).toEqual([
      'role/AWSReservedSSO_Admin_0123456789abcdef | cluster_role:admin:team-a:member | ns=team-a | group-membership(role/AWSReservedSSO_Admin_0123456789abcdef) > rbac-binding(platform-admins)',
      'role/AWSReservedSSO_Admin_0123456789abcdef | k8s_group:platform-admins:member | cluster | group-membership(role/AWSReservedSSO_Admin_0123456789abcdef)',
      'user/alice | cluster_role:admin:team-a:member | ns=team-a | assume-role(user/alice) > group-membership(role/AWSReservedSSO_Admin_0123456789abcdef) > rbac-binding(platform-admins)',
      'user/alice | k8s_group:platform-admins:member | cluster | assume-role(user/alice) > group-membership(role/AWSReservedSSO_Admin_0123456789abcdef)',
    ]);
    const alice = records.find((r) => r.principalArn === ALICE && r.resource.type === 'cluster_role')!;
    expect(alice).toMatchObject({
      cluster: 'prod',
      principalType: 'iam_user',
      resource: { type: 'cluster_role', id: 'admin' },
    });
    expect(alice.path.map((s) => s.sources[0]?.kind)).toEqual([
      'trust-policy',
      'identity-mapping',
      'rbac-binding',
    ]);
    expect(alice.path[2]?.sources).toEqual([binding]);
  });

  it('follows an access entry to its access policy with the namespace scope of the association', async () => {
    const grants = [
      createGrant({
        entitlementId: accessPolicyEntitlementId(VIEW_POLICY, 'team-b'),
        resource: { type: 'access_policy', id: VIEW_POLICY },
        principal: user(BOB),
        sources: [{ kind: 'access-policy-association', principalArn: BOB, policyArn: VIEW_POLICY }],
      }),
      createGrant({
        entitlementId: accessPolicyEntitlementId(EDIT_POLICY),
        resource: { type: 'access_policy', id: EDIT_POLICY },
        principal: role(CI_ROLE),
        sources: [{ kind: 'access-policy-association', principalArn: CI_ROLE, policyArn: EDIT_POLICY }],
      }),
      canAssume(user(BOB), CI_ROLE, { conditions: [{ kind: 'external-id-required' }] }),
    ];
    const records = await computeEffectiveAccess({ grants });
    expect(render(records)).toEqual([
      `role/ci | access_policy:${EDIT_POLICY}:assigned:cluster | cluster | access-policy(role/ci)`,
      `user/bob | access_policy:${EDIT_POLICY}:assigned:cluster | cluster | assume-role(user/bob) > access-policy(role/ci)`,
      `user/bob | access_policy:${VIEW_POLICY}:assigned:team-b | ns=team-b | access-policy(user/bob)`,
    ]);
    // Bob only gets Edit by presenting the ExternalId the CI role's trust policy demands.
    expect(records[1]?.conditions).toEqual([{ kind: 'external-id-required' }]);
    expect(records[2]?.conditions).toEqual([]);
  });

  it('terminates on roles that can assume each other and reports each reachable grant once', async () => {
    const roleA = `arn:aws:iam::${ACCT}:role/a`;
    const roleB = `arn:aws:iam::${ACCT}:role/b`;
    const grants = [
      canAssume(role(roleA), roleB),
      canAssume(role(roleB), roleA),
      canAssume(user(ALICE), roleA),
      createGrant({
        entitlementId: namespaceRoleEntitlementId('team-a', 'deployer'),
        resource: { type: 'namespace_role', id: 'team-a/deployer' },
        principal: role(roleB),
      }),
    ];
    expect(render(await computeEffectiveAccess({ grants }))).toEqual([
      'role/a | namespace_role:team-a/deployer:member | ns=team-a | assume-role(role/a) > rbac-binding(role/b)',
      'role/b | namespace_role:team-a/deployer:member | ns=team-a | rbac-binding(role/b)',
      'user/alice | namespace_role:team-a/deployer:member | ns=team-a | assume-role(user/alice) > assume-role(role/a) > rbac-binding(role/b)',
    ]);
  });

  it('shows membership of system:masters and one record per route when a principal has two', async () => {
    const grants = [
      memberOf(user(ALICE), 'system:masters', 1),
      canAssume(user(ALICE), ADMIN_ROLE),
      createGrant({
        entitlementId: clusterRoleEntitlementId('view'),
        resource: { type: 'cluster_role', id: 'view' },
        principal: role(ADMIN_ROLE),
      }),
      createGrant({
        entitlementId: clusterRoleEntitlementId('view'),
        resource: { type: 'cluster_role', id: 'view' },
        principal: user(ALICE),
      }),
    ];
    expect(
      render((await computeEffectiveAccess({ grants })).filter((r) => r.principalArn === ALICE)),
    ).toEqual([
      'user/alice | cluster_role:view:all:member | cluster | rbac-binding(user/alice)',
      'user/alice | cluster_role:view:all:member | cluster | assume-role(user/alice) > rbac-binding(role/AWSReservedSSO_Admin_0123456789abcdef)',
      'user/alice | k8s_group:system:masters:member | cluster | group-membership(user/alice)',
    ]);
  });

  it('accepts grants as an async stream and gives the same answer', async () => {
    const grants = [canAssume(user(ALICE), CI_ROLE), memberOf(role(CI_ROLE), 'deployers', 0)];
    async function* stream(): AsyncGenerator<Grant> {
      for (const g of [...grants].reverse()) yield g;
    }
    expect(await computeEffectiveAccess({ grants: stream() })).toEqual(
      await computeEffectiveAccess({ grants }),
    );
  });
});
