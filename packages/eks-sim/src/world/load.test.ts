import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildWorld, loadWorldFile, WorldFileError, type WorldProblem } from './load.js';
import type { WorldDocumentInput } from './schema.js';

const EXAMPLE = fileURLToPath(new URL('../../worlds/example.yaml', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'eks-sim-world-'));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function base(): WorldDocumentInput {
  return {
    accounts: [{ id: '111111111111' }],
    iamRoles: [
      {
        accountId: '111111111111',
        roleName: 'Admin',
        trustPolicy: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::111111111111:root' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      },
    ],
    clusters: [
      {
        name: 'one',
        region: 'eu-west-1',
        accountId: '111111111111',
        authenticationMode: 'API',
        namespaces: ['default', 'kube-system', 'team-a'],
        accessEntries: [
          {
            principalArn: 'arn:aws:iam::111111111111:role/Admin',
            policyAssociations: [{ policyArn: 'AmazonEKSClusterAdminPolicy' }],
          },
        ],
      },
    ],
  };
}

function problemsOf(input: unknown): WorldProblem[] {
  try {
    buildWorld(input);
  } catch (err) {
    expect(err).toBeInstanceOf(WorldFileError);
    return (err as WorldFileError).problems;
  }
  throw new Error('expected the world to be rejected');
}

function messagesOf(input: unknown): string[] {
  return problemsOf(input).map((p) => `${p.path}: ${p.message}`);
}

describe('loadWorldFile', () => {
  it('builds the example world from YAML, with manifests, raw and structured aws-auth and a generated cluster', () => {
    const world = loadWorldFile(EXAMPLE);
    expect([...world.clusters.values()].map((c) => c.name)).toEqual(['example', 'example-bulk']);
    const cluster = [...world.clusters.values()][0]!;
    expect(cluster.kube.get('clusterroles', undefined, 'read-only-access')?.kind).toBe('ClusterRole');
    const binding = cluster.kube.get('clusterrolebindings', undefined, 'reader-role-binding');
    expect(binding?.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'read-only-access',
    });
    const awsAuth = cluster.kube.get('configmaps', 'kube-system', 'aws-auth')!.data as Record<string, string>;
    expect(awsAuth.mapRoles).toBe(
      '- rolearn: arn:aws:iam::123456789012:role/C1Integration\n  username: c1-integration\n  groups:\n  - readers\n',
    );
    expect(parse(awsAuth.mapUsers!)).toEqual([
      {
        userarn: 'arn:aws:iam::123456789012:user/people/test-user',
        username: 'test-user-1',
        groups: ['test-group-1'],
      },
    ]);
    const entry = cluster.accessEntries.get('arn:aws:iam::123456789012:user/people/test-user')!;
    expect([...entry.associations.values()].map((a) => [a.policyArn, a.accessScope])).toEqual([
      [
        'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy',
        { type: 'namespace', namespaces: ['apps'] },
      ],
    ]);
    expect(world.credentials.get('AKIAEXAMPLECONNECTR1')?.identity.arn).toBe(
      'arn:aws:iam::123456789012:user/eks-access-connector',
    );
    // A single-statement trust policy is stored as a list, as IAM returns it.
    expect(
      world.findRoleByName('123456789012', 'your-admin-role')?.assumeRolePolicyDocument.Statement,
    ).toHaveLength(1);
  });

  it('reads the same world from JSON', () => {
    const path = write('world.json', JSON.stringify(base()));
    const world = loadWorldFile(path);
    expect(world.getCluster('111111111111', 'eu-west-1', 'one')?.accessEntries.size).toBe(1);
  });

  it('accepts an unquoted 12-digit account id but explains a shortened one', () => {
    const ok = write('num.yaml', 'accounts:\n  - id: 111111111111\n');
    expect(loadWorldFile(ok).accounts.has('111111111111')).toBe(true);
    const bad = write('short.yaml', 'accounts:\n  - id: 012345678901\n');
    expect(() => loadWorldFile(bad)).toThrow(
      /accounts\[0\]\.id: must be a 12-digit AWS account id \(quote it in YAML/,
    );
  });

  it('reports a missing file, a YAML syntax error with its line, and bad JSON, without a stack', () => {
    expect(() => loadWorldFile(join(dir, 'nope.yaml'))).toThrow(
      /nope\.yaml is not a valid world \(1 problem\):\n {2}- file not found/,
    );
    const yaml = write('broken.yaml', 'accounts:\n  - id: "111111111111"\n    alias: [unclosed\n');
    expect(() => loadWorldFile(yaml)).toThrow(/line \d+, column \d+: invalid YAML/);
    const dup = write('dup.yaml', 'accounts: []\naccounts: []\n');
    expect(() => loadWorldFile(dup)).toThrow(/invalid YAML: Map keys must be unique/);
    const json = write('broken.json', '{"accounts": [');
    expect(() => loadWorldFile(json)).toThrow(/invalid JSON/);
  });
});

describe('buildWorld validation', () => {
  it('lists every shape problem at once, each with its path', () => {
    const doc = base() as Record<string, unknown> & WorldDocumentInput;
    doc.clusters![0]!.accessEntries![0]!.principalArn = 'arn:aws:iam::111111111111:group/admins';
    doc.clusters![0]!.region = 'europe';
    (doc.clusters![0] as Record<string, unknown>).acessEntries = [];
    doc.iamRoles![0]!.maxSessionDuration = 60;
    expect(messagesOf(doc)).toEqual(
      expect.arrayContaining([
        'clusters[0].accessEntries[0].principalArn: must be an IAM user or role ARN',
        'clusters[0].region: must be an AWS region such as eu-west-1',
        'clusters[0].acessEntries: unknown field',
        'iamRoles[0].maxSessionDuration: must be 3600–43200 seconds',
      ]),
    );
  });

  it('says which required field is missing and what type was expected', () => {
    const doc = base();
    delete (doc.clusters![0] as Partial<(typeof doc.clusters & object)[number]>).authenticationMode;
    (doc.iamRoles![0] as Record<string, unknown>).roleName = 42;
    expect(messagesOf(doc)).toEqual([
      'iamRoles[0].roleName: must be a string (got number)',
      'clusters[0].authenticationMode: is required',
    ]);
  });

  it('checks trust policies, policy associations and scopes', () => {
    const doc = base();
    doc.iamRoles![0]!.trustPolicy = { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] };
    doc.clusters![0]!.accessEntries![0]!.policyAssociations = [
      { policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' },
      { policyArn: 'AmazonEKSViewPolicy', accessScope: { type: 'namespace' } },
    ];
    expect(messagesOf(doc)).toEqual([
      'iamRoles[0].trustPolicy.Statement[0].Principal: a trust policy statement needs a Principal',
      'clusters[0].accessEntries[0].policyAssociations[0].policyArn: must be an EKS access policy ARN (arn:aws:eks::aws:cluster-access-policy/<Name>)',
      'clusters[0].accessEntries[0].policyAssociations[1].accessScope.namespaces: a namespace scope needs at least one namespace',
    ]);
  });

  it('reports references to undeclared accounts and namespaces', () => {
    const doc = base();
    doc.clusters!.push({
      name: 'two',
      region: 'us-east-1',
      accountId: '222222222222',
      authenticationMode: 'CONFIG_MAP',
      namespaces: ['default'],
    });
    doc.clusters![0]!.roleBindings = [
      {
        namespace: 'team-b',
        name: 'x',
        roleRef: { kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', name: 'g' }],
      },
    ];
    doc.clusters![0]!.kubernetes = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'ghost' } },
    ];
    doc.clusters![1]!.awsAuth = { mapUsers: [] };
    expect(messagesOf(doc)).toEqual([
      'clusters[0].roleBindings[0].namespace: namespace "team-b" is not declared in this cluster',
      'clusters[0].kubernetes[0].metadata.namespace: namespace "ghost" is not declared in this cluster',
      'clusters[1].accountId: account 222222222222 is not declared under accounts',
      'clusters[1].awsAuth: namespace "kube-system" is not declared in this cluster',
    ]);
  });

  it('reports duplicates: accounts, roles, access keys, clusters, access entries, policies and objects', () => {
    const doc = base();
    doc.accounts!.push({ id: '111111111111' });
    doc.iamRoles!.push({ ...doc.iamRoles![0]!, path: '/other/' });
    doc.iamUsers = [
      {
        accountId: '111111111111',
        userName: 'a',
        accessKeys: [{ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'a'.repeat(40) }],
      },
      {
        accountId: '111111111111',
        userName: 'b',
        accessKeys: [{ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'b'.repeat(40) }],
      },
    ];
    const c = doc.clusters![0]!;
    c.accessEntries!.push({
      principalArn: c.accessEntries![0]!.principalArn,
      policyAssociations: [
        { policyArn: 'AmazonEKSViewPolicy' },
        { policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy' },
      ],
    });
    c.namespaces!.push('team-a');
    c.kubernetes = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }];
    doc.clusters!.push({ ...c, accessEntries: [], namespaces: [], kubernetes: [] });
    expect(messagesOf(doc)).toEqual([
      'accounts[1].id: account 111111111111 is already declared at accounts[0]',
      'iamUsers[1].accessKeys[0].accessKeyId: access key AKIAAAAAAAAAAAAAAAAA is already declared at iamUsers[0].accessKeys[0].accessKeyId',
      'iamRoles[1].roleName: IAM role Admin is already declared in account 111111111111 at iamRoles[0]',
      'clusters[0].accessEntries[1].principalArn: arn:aws:iam::111111111111:role/Admin already has an access entry at clusters[0].accessEntries[0]',
      'clusters[0].accessEntries[1].policyAssociations[1].policyArn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy is associated twice',
      'clusters[0].namespaces[3]: duplicate Namespace "team-a" (first declared at clusters[0].namespaces[2])',
      'clusters[0].kubernetes[0]: duplicate Namespace "default" (first declared at clusters[0].namespaces[0])',
      'clusters[1].name: cluster one is already declared in 111111111111/eu-west-1 at clusters[0]',
    ]);
  });

  it('refuses what EKS and Kubernetes would refuse', () => {
    const doc = base();
    doc.clusters![0]!.authenticationMode = 'CONFIG_MAP';
    doc.clusters![0]!.kubernetes = [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'b' },
        roleRef: { kind: 'Role', name: 'r' },
        subjects: [{ kind: 'ServiceAccount', name: 'sa' }],
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } } as never,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Team_B' } },
    ];
    expect(messagesOf(doc)).toEqual([
      'clusters[0].kubernetes[1].kind: kind must be one of Namespace, ServiceAccount, ConfigMap, ClusterRole, Role, ClusterRoleBinding, RoleBinding',
      'clusters[0].kubernetes[2].metadata.name: must be a DNS label: lower-case letters, digits and -, at most 63',
    ]);
    doc.clusters![0]!.kubernetes.splice(1, 2);
    expect(messagesOf(doc)).toEqual([
      'clusters[0].accessEntries: access entries need authenticationMode API or API_AND_CONFIG_MAP (this cluster is CONFIG_MAP)',
      'clusters[0].kubernetes[0].roleRef.kind: a ClusterRoleBinding can only refer to a ClusterRole',
      'clusters[0].kubernetes[0].subjects[0].namespace: a ServiceAccount subject of a ClusterRoleBinding needs a namespace',
    ]);
  });

  it('accepts bindings without subjects and manifests without a namespace (kubectl puts them in default)', () => {
    const doc = base();
    doc.clusters![0]!.kubernetes = [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'empty' },
        roleRef: { kind: 'ClusterRole', name: 'view' },
      },
      { kind: 'ConfigMap', metadata: { name: 'settings', uid: 'x', resourceVersion: '7' }, data: { a: 'b' } },
    ];
    const cluster = [...buildWorld(doc).clusters.values()][0]!;
    expect(cluster.kube.get('clusterrolebindings', undefined, 'empty')!.subjects).toBeUndefined();
    expect(cluster.kube.get('configmaps', 'default', 'settings')!.metadata.uid).not.toBe('x');
  });

  it('explains a malformed aws-auth mapping inside the structured list', () => {
    const doc = base();
    doc.clusters![0]!.awsAuth = {
      mapRoles: [{ rolearn: 'arn:aws:iam::111111111111:user/bob', groups: ['x'] }],
    };
    expect(messagesOf(doc)).toEqual(['clusters[0].awsAuth.mapRoles[0].rolearn: must be an IAM role ARN']);
  });

  it('formats one readable message for the whole document', () => {
    const doc = base();
    doc.clusters![0]!.accessEntries![0]!.principalArn = 'nope';
    expect(() => buildWorld(doc, { source: 'w.yaml' })).toThrow(
      'w.yaml is not a valid world (1 problem):\n  - clusters[0].accessEntries[0].principalArn: must be an IAM user or role ARN',
    );
  });

  it('rejects a generated cluster that collides with a declared one', () => {
    const doc = base();
    doc.generate = { clusterName: 'one', region: 'eu-west-1', accountId: '111111111111', namespaces: 1 };
    expect(messagesOf(doc)).toEqual([
      'generate.clusterName: cluster one is already declared in 111111111111/eu-west-1 at clusters[0]',
    ]);
  });
});

describe('pod credentials in world files', () => {
  it('registers OIDC providers for cluster issuers and pod identity associations', () => {
    const doc = base();
    doc.clusters![0]!.podIdentityAssociations = [
      { namespace: 'team-a', serviceAccount: 'app', roleArn: 'arn:aws:iam::111111111111:role/Admin' },
    ];
    doc.oidcProviders = [{ accountId: '111111111111', cluster: 'one' }];
    const world = buildWorld(doc);
    const cluster = world.getCluster('111111111111', 'eu-west-1', 'one')!;
    expect(
      [...cluster.podIdentityAssociations.values()].map(
        (a) => `${a.namespace}/${a.serviceAccount} ${a.roleArn}`,
      ),
    ).toEqual(['team-a/app arn:aws:iam::111111111111:role/Admin']);
    expect(world.findOidcProvider('111111111111', cluster.oidcIssuer)?.clientIds).toEqual([
      'sts.amazonaws.com',
    ]);
  });

  it('reports providers for unknown clusters and a second association of one service account', () => {
    const doc = base();
    const association = {
      namespace: 'team-a',
      serviceAccount: 'app',
      roleArn: 'arn:aws:iam::111111111111:role/Admin',
    };
    doc.clusters![0]!.podIdentityAssociations = [association, association];
    doc.oidcProviders = [{ accountId: '111111111111', cluster: 'two' }];
    expect(messagesOf(doc)).toEqual([
      'clusters[0].podIdentityAssociations[1].serviceAccount: service account team-a/app already has an association at clusters[0].podIdentityAssociations[0]',
      'oidcProviders[0].cluster: cluster two is not declared under clusters',
    ]);
  });
});
