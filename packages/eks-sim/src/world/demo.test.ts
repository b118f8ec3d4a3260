import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { createDemoWorld, DEMO } from './demo.js';

const world = createDemoWorld();
const clusters = [...world.clusters.values()];
const cluster = (name: string) => clusters.find((c) => c.name === name)!;

interface Mapping {
  rolearn?: string;
  userarn?: string;
  username: string;
  groups: string[];
}
function awsAuth(name: string): { mapRoles: Mapping[]; mapUsers: Mapping[] } {
  const data = cluster(name).kube.get('configmaps', 'kube-system', 'aws-auth')!.data as Record<
    string,
    string
  >;
  return {
    mapRoles: (parse(data.mapRoles ?? '[]') ?? []) as Mapping[],
    mapUsers: (parse(data.mapUsers ?? '[]') ?? []) as Mapping[],
  };
}
function policies(clusterName: string, principalArn: string) {
  const entry = cluster(clusterName).accessEntries.get(principalArn);
  return entry
    ? [...entry.associations.values()].map((a) => [
        a.policyArn.split('/')[1],
        a.accessScope.type,
        ...a.accessScope.namespaces,
      ])
    : undefined;
}

describe('the demo world', () => {
  it('has three clusters over two accounts and two regions, one per authentication mode', () => {
    expect(clusters.map((c) => [c.name, c.accountId, c.region, c.authenticationMode])).toEqual([
      ['prod-eu', '111111111111', 'eu-west-1', 'API'],
      ['staging-us', '111111111111', 'us-east-1', 'API_AND_CONFIG_MAP'],
      ['legacy-us', '222222222222', 'us-east-1', 'CONFIG_MAP'],
    ]);
  });

  it('gives the connector user a fixed key, listed first', () => {
    const [first] = world.credentials.values();
    expect(first).toMatchObject({
      accessKeyId: 'AKIAEKSSIMCONNECTOR1',
      secretAccessKey: DEMO.connector.secretAccessKey,
    });
    expect(first!.identity.arn).toBe(DEMO.connector.userArn);
    expect(DEMO.connector.secretAccessKey).toHaveLength(40);
  });

  it('lets the connector assume EksAccessConnector in each account, in the legacy one only with the ExternalId', () => {
    const main = world.findRoleByName('111111111111', 'EksAccessConnector')!;
    expect(main.assumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { AWS: DEMO.connector.userArn }, Action: 'sts:AssumeRole' },
    ]);
    const legacy = world.findRoleByName('222222222222', 'EksAccessConnector')!;
    expect(legacy.assumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { AWS: DEMO.connector.userArn },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': DEMO.connector.externalId } },
      },
    ]);
  });

  it('maps the connector read-only in every cluster, through the source its mode reads', () => {
    expect(policies('prod-eu', DEMO.connector.roleArn)).toEqual([['AmazonEKSAdminViewPolicy', 'cluster']]);
    expect(policies('staging-us', DEMO.connector.roleArn)).toEqual([['AmazonEKSAdminViewPolicy', 'cluster']]);
    const legacy = awsAuth('legacy-us').mapRoles.find((m) => m.rolearn === DEMO.connector.legacyRoleArn)!;
    expect(legacy.groups).toEqual(['readers']);
    const binding = cluster('legacy-us').kube.get('clusterrolebindings', undefined, 'reader-role-binding')!;
    expect(binding.subjects).toEqual([
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'readers' },
    ]);
    const rules = cluster('legacy-us').kube.get('clusterroles', undefined, 'read-only-access')!.rules as {
      resources: string[];
      verbs: string[];
    }[];
    expect(rules.flatMap((r) => r.resources)).toEqual(
      expect.arrayContaining(['configmaps', 'rolebindings', 'clusterroles']),
    );
  });

  it('has SSO roles under the reserved path with SAML trust, given namespace-scoped access entries', () => {
    const sso = [...world.roles.values()].filter((r) => r.roleName.startsWith('AWSReservedSSO_'));
    expect(sso).toHaveLength(4);
    for (const role of sso) {
      expect(role.path).toBe('/aws-reserved/sso.amazonaws.com/eu-west-1/');
      expect(role.roleName).toMatch(/^AWSReservedSSO_[A-Za-z]+_[0-9a-f]{16}$/);
      const [statement] = role.assumeRolePolicyDocument.Statement;
      expect((statement!.Principal as { Federated: string }).Federated).toMatch(
        /^arn:aws:iam::\d{12}:saml-provider\/AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE$/,
      );
      expect(statement!.Action).toContain('sts:AssumeRoleWithSAML');
    }
    expect(policies('prod-eu', DEMO.roles.ssoDeveloper)).toEqual([
      ['AmazonEKSEditPolicy', 'namespace', 'team-a', 'team-b'],
    ]);
    expect(policies('staging-us', DEMO.roles.ssoDeveloper)).toEqual([
      ['AmazonEKSEditPolicy', 'namespace', 'team-a'],
    ]);
  });

  it('has a role trusting an IAM user and roles trusting account roots', () => {
    const principal = (account: string, name: string) =>
      world.findRoleByName(account, name)!.assumeRolePolicyDocument.Statement[0]!.Principal;
    expect(principal('111111111111', 'PlatformDeployer')).toEqual({ AWS: DEMO.alice.userArn });
    expect(principal('111111111111', 'BreakGlassAdmin')).toEqual({ AWS: 'arn:aws:iam::111111111111:root' });
    expect(principal('222222222222', 'LegacyDeployer')).toEqual({ AWS: 'arn:aws:iam::222222222222:root' });
  });

  it('maps admins to system:masters in aws-auth, with role ARNs stripped of their paths', () => {
    const masters = (name: string) =>
      [...awsAuth(name).mapRoles, ...awsAuth(name).mapUsers]
        .filter((m) => m.groups.includes('system:masters'))
        .map((m) => m.rolearn ?? m.userarn);
    expect(masters('staging-us')).toEqual([DEMO.roles.breakGlassAdmin, DEMO.alice.userArn]);
    expect(masters('legacy-us')).toEqual([
      'arn:aws:iam::222222222222:role/AWSReservedSSO_AdministratorAccess_9e0d1c2b3a4f5e6d',
      DEMO.legacyAdmin.userArn,
    ]);
    expect(awsAuth('legacy-us').mapRoles.map((m) => m.rolearn)).toContain(
      'arn:aws:iam::222222222222:role/LegacyDeployer',
    );
    expect(
      awsAuth('staging-us').mapRoles.find((m) => m.rolearn === DEMO.roles.breakGlassAdmin)!.username,
    ).toBe('break-glass:{{SessionName}}');
  });

  it('has the RBAC the table promises', () => {
    for (const c of clusters) {
      for (const name of ['cluster-admin', 'admin', 'edit', 'view'])
        expect(c.kube.get('clusterroles', undefined, name), `${c.name} ${name}`).toBeDefined();
      expect(c.kube.get('clusterrolebindings', undefined, 'cluster-admin')!.subjects).toEqual([
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:masters' },
      ]);
    }
    const prod = cluster('prod-eu');
    expect(prod.kube.list('namespaces').items.map((n) => n.metadata.name)).toEqual([
      'default',
      'kube-system',
      'monitoring',
      'team-a',
      'team-b',
    ]);
    expect(prod.kube.get('roles', 'team-a', 'deployer')).toBeDefined();
    // A RoleBinding granting a ClusterRole in one namespace, to a service account of another.
    expect(prod.kube.get('rolebindings', 'monitoring', 'team-a-app-view')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', namespace: 'team-a', name: 'app' }],
    });
    expect(prod.kube.get('rolebindings', 'team-b', 'alice-edit')!.subjects).toEqual([
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: DEMO.alice.userArn },
    ]);
    const subjectKinds = new Set(
      clusters.flatMap((c) =>
        c.kube
          .list('rolebindings')
          .items.flatMap((b) => (b.subjects as { kind: string }[]).map((s) => s.kind)),
      ),
    );
    expect([...subjectKinds].sort()).toEqual(['Group', 'ServiceAccount', 'User']);
    expect(prod.kube.get('clusterroles', undefined, 'monitoring-reader')).toBeDefined();
  });

  it('is rebuilt identically (reset depends on it)', () => {
    const again = createDemoWorld();
    expect([...again.roles.values()]).toEqual([...world.roles.values()]);
    expect([...again.credentials.keys()]).toEqual([...world.credentials.keys()]);
  });
});
