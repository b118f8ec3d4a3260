// The world the Kubernetes endpoint tests share: one account, a cluster per authentication mode,
// principals mapped through access entries and/or aws-auth, and a little RBAC in each cluster.
//
//   alice   IAM user            access entry → "alice", group team-a-viewers
//                               aws-auth mapUsers → "alice-from-aws-auth" (what CONFIG_MAP clusters see)
//   bob     IAM user            aws-auth only → "bob", group team-a-viewers
//   Admin   role /ops/Admin     access entry + AmazonEKSClusterAdminPolicy (cluster scope) on API clusters;
//                               aws-auth `role/Admin` (path stripped) → "admin:{{SessionName}}", system:masters
//   Dev     role /Dev           access entry "dev:{{SessionName}}" + AmazonEKSEditPolicy scoped to team-b, svc-*
//   Auditor role /teams/Auditor aws-auth lists it WITH its path, so it never matches (as on EKS)
//
// Every cluster holds the same access entries and aws-auth; the authentication mode decides which count.
// RBAC in every cluster: ClusterRole `view` (read configmaps, serviceaccounts, namespaces) bound to
// group team-a-viewers by RoleBinding team-a/viewers.
import type { Cluster, Credential, IamRole, IamUser } from '../world/types.js';
import { World } from '../world/world.js';
import { addNamespaces, assumeRole } from './test-helpers.js';

export const ACCOUNT = '111122223333';
export const REGION = 'us-west-2';
export const CLUSTER_ADMIN_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';
export const EDIT_POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';

export interface TestWorld {
  world: World;
  clusters: { api: Cluster; configMap: Cluster; mixed: Cluster };
  users: { alice: IamUser; bob: IamUser };
  roles: { admin: IamRole; dev: IamRole; auditor: IamRole };
  credentials: {
    alice: Credential;
    bob: Credential;
    /** Session "alice@example.com" of role ops/Admin. */
    admin: Credential;
    /** Session "dana" of role Dev. */
    dev: Credential;
    auditor: Credential;
  };
}

const TRUST = {
  Statement: [
    {
      Effect: 'Allow' as const,
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'sts:AssumeRole',
    },
  ],
};

/** An aws-auth ConfigMap body (YAML lists in string values, as eksctl writes them). */
export function awsAuthData(): Record<string, string> {
  return {
    mapRoles: [
      `- rolearn: arn:aws:iam::${ACCOUNT}:role/Admin`,
      '  username: admin:{{SessionName}}',
      '  groups:',
      '    - system:masters',
      `- rolearn: arn:aws:iam::${ACCOUNT}:role/teams/Auditor`,
      '  username: auditor',
      '  groups: [team-a-viewers]',
      '',
    ].join('\n'),
    mapUsers: [
      `- userarn: arn:aws:iam::${ACCOUNT}:user/bob`,
      '  username: bob',
      '  groups: [team-a-viewers]',
      `- userarn: arn:aws:iam::${ACCOUNT}:user/alice`,
      '  username: alice-from-aws-auth',
      '  groups: []',
      '',
    ].join('\n'),
  };
}

function seedKube(cluster: Cluster): void {
  addNamespaces(cluster, 'default', 'kube-system', 'team-a', 'team-b', 'svc-x');
  const kube = cluster.kube;
  kube.create('configmaps', {
    metadata: { name: 'aws-auth', namespace: 'kube-system' },
    data: awsAuthData(),
  });
  for (const ns of ['team-a', 'team-b']) {
    kube.create('configmaps', {
      metadata: { name: 'settings', namespace: ns, labels: { app: 'web' } },
      data: { color: 'blue' },
    });
  }
  kube.create('clusterroles', {
    metadata: { name: 'view' },
    rules: [
      {
        apiGroups: [''],
        resources: ['configmaps', 'serviceaccounts', 'namespaces'],
        verbs: ['get', 'list', 'watch'],
      },
    ],
  });
  kube.create('rolebindings', {
    metadata: { name: 'viewers', namespace: 'team-a' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'team-a-viewers' }],
  });
}

function addApiEntries(world: World, cluster: Cluster, roles: TestWorld['roles'], alice: IamUser): void {
  world.addAccessEntry(cluster, {
    principalArn: alice.arn,
    username: 'alice',
    kubernetesGroups: ['team-a-viewers'],
  });
  const admin = world.addAccessEntry(cluster, { principalArn: roles.admin.arn });
  admin.associations.set(CLUSTER_ADMIN_POLICY, {
    policyArn: CLUSTER_ADMIN_POLICY,
    accessScope: { type: 'cluster', namespaces: [] },
    associatedAt: new Date(),
    modifiedAt: new Date(),
  });
  const dev = world.addAccessEntry(cluster, { principalArn: roles.dev.arn, username: 'dev:{{SessionName}}' });
  dev.associations.set(EDIT_POLICY, {
    policyArn: EDIT_POLICY,
    accessScope: { type: 'namespace', namespaces: ['team-b', 'svc-*'] },
    associatedAt: new Date(),
    modifiedAt: new Date(),
  });
}

/** Builds the shared test world (TLS is added by startKubeEndpoint). */
export function buildTestWorld(): TestWorld {
  const world = new World();
  const alice = world.addUser({ accountId: ACCOUNT, userName: 'alice' });
  const bob = world.addUser({ accountId: ACCOUNT, userName: 'bob' });
  const roles = {
    admin: world.addRole({
      accountId: ACCOUNT,
      roleName: 'Admin',
      path: '/ops/',
      assumeRolePolicyDocument: TRUST,
    }),
    dev: world.addRole({ accountId: ACCOUNT, roleName: 'Dev', assumeRolePolicyDocument: TRUST }),
    auditor: world.addRole({
      accountId: ACCOUNT,
      roleName: 'Auditor',
      path: '/teams/',
      assumeRolePolicyDocument: TRUST,
    }),
  };
  const clusters = {
    api: world.addCluster({
      accountId: ACCOUNT,
      region: REGION,
      name: 'api-cluster',
      authenticationMode: 'API',
    }),
    configMap: world.addCluster({
      accountId: ACCOUNT,
      region: REGION,
      name: 'cm-cluster',
      authenticationMode: 'CONFIG_MAP',
    }),
    mixed: world.addCluster({
      accountId: ACCOUNT,
      region: REGION,
      name: 'mixed-cluster',
      authenticationMode: 'API_AND_CONFIG_MAP',
    }),
  };
  for (const cluster of Object.values(clusters)) seedKube(cluster);
  // The CONFIG_MAP cluster has the same access entries; its API server must ignore them.
  for (const cluster of Object.values(clusters)) addApiEntries(world, cluster, roles, alice);
  return {
    world,
    clusters,
    users: { alice, bob },
    roles,
    credentials: {
      alice: world.addAccessKey(alice.arn),
      bob: world.addAccessKey(bob.arn),
      admin: assumeRole(world, roles.admin, 'alice@example.com'),
      dev: assumeRole(world, roles.dev, 'dana'),
      auditor: assumeRole(world, roles.auditor, 'audit'),
    },
  };
}
