// Seeded generator of large worlds for load tests and benchmarks: one cluster with many
// namespaces, RBAC objects and access entries, an account full of IAM roles with varied trust
// policies, and the connector's user and role so a sync can run against it. Deterministic for a
// seed (its own PRNG, never Math.random), and linear in the counts so 20,000 bindings build fast.
import type { KubeObjectInput } from '../kube/store.js';
import {
  awsAuthConfigMap,
  roleArnWithoutPath,
  type AwsAuthRoleMapping,
  type AwsAuthUserMapping,
} from './aws-auth.js';
import {
  BOOTSTRAP_LABELS,
  CONNECTOR_READERS_GROUP,
  CONNECTOR_READ_CLUSTER_ROLE,
  CONNECTOR_READ_RULES,
  CONNECTOR_ROLE_NAME,
  CONNECTOR_USER_NAME,
  STANDARD_CLUSTER_ROLES,
  WORLD_EPOCH,
  accessPolicyArn,
  type PolicyRule,
} from './defaults.js';
import type { GenerateOptions } from './schema.js';
import type { AuthenticationMode, Cluster, IamRole, IamUser, PolicyDocument } from './types.js';
import { World } from './world.js';

export type { GenerateOptions } from './schema.js';

export const GENERATE_DEFAULTS = {
  seed: 1,
  clusterName: 'generated',
  region: 'us-west-2',
  accountId: '333333333333',
  authenticationMode: 'API_AND_CONFIG_MAP' as AuthenticationMode,
  version: '1.31',
  namespaces: 20,
  serviceAccounts: 40,
  clusterRoles: 10,
  roles: 40,
  roleBindings: 100,
  clusterRoleBindings: 20,
  accessEntries: 20,
  iamRoles: 50,
  iamUsers: 10,
};

/** The connector key the generator gives its account's connector user when it has to create one. */
export const GENERATOR_CONNECTOR_KEY = {
  accessKeyId: 'AKIAEKSSIMGENERATOR1',
  secretAccessKey: 'eksSimGeneratorSecretKeyDoNotUse/0000001',
};

/**
 * What the generator adds beyond the requested counts: `default` and `kube-system`; the four
 * standard ClusterRoles and the connector's read-only one; the cluster-admin and connector
 * bindings; and the aws-auth ConfigMap when the mode reads it.
 */
export const GENERATED_BASELINE = {
  namespaces: ['default', 'kube-system'],
  clusterRoles: ['cluster-admin', 'admin', 'edit', 'view', CONNECTOR_READ_CLUSTER_ROLE],
  clusterRoleBindings: ['cluster-admin', 'reader-role-binding'],
};

const ACCESS_POLICIES = [
  'AmazonEKSClusterAdminPolicy',
  'AmazonEKSAdminPolicy',
  'AmazonEKSEditPolicy',
  'AmazonEKSViewPolicy',
  'AmazonEKSAdminViewPolicy',
].map(accessPolicyArn);

const RULE_POOL: PolicyRule[] = [
  { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'],
  },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets'],
    verbs: ['get', 'list', 'watch', 'update', 'patch'],
  },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['*'] },
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list'] },
  { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
  { nonResourceURLs: ['/metrics', '/healthz'], verbs: ['get'] },
];

/** mulberry32: tiny, fast and good enough to scatter test data. */
function createRandom(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  return {
    next,
    int,
    pick,
    chance: (p: number) => next() < p,
    /** k distinct items (k ≤ list length), in pick order. */
    sample<T>(list: readonly T[], k: number): T[] {
      const taken = new Set<number>();
      const out: T[] = [];
      while (out.length < Math.min(k, list.length)) {
        const i = int(list.length);
        if (!taken.has(i)) {
          taken.add(i);
          out.push(list[i]!);
        }
      }
      return out;
    },
    hex: (len: number) => {
      let s = '';
      for (let i = 0; i < len; i++) s += int(16).toString(16);
      return s;
    },
  };
}
type Random = ReturnType<typeof createRandom>;

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const widthFor = (count: number) => Math.max(4, String(count).length);

const RBAC = 'rbac.authorization.k8s.io';

type Subject =
  | { kind: 'User' | 'Group'; apiGroup: string; name: string }
  | { kind: 'ServiceAccount'; name: string; namespace: string };

function trustPolicy(
  kind: number,
  ctx: { accountId: string; region: string; users: IamUser[]; connector: IamUser },
  rnd: Random,
): PolicyDocument {
  const statement = (
    principal: Record<string, string>,
    action: string | string[],
    condition?: Record<string, Record<string, string>>,
  ) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow' as const,
        Principal: principal,
        Action: action,
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });
  switch (kind) {
    case 0:
      return statement(
        { Federated: `arn:aws:iam::${ctx.accountId}:saml-provider/AWSSSO_${rnd.hex(16)}_DO_NOT_DELETE` },
        ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
        {
          StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' },
        },
      );
    case 1:
      return statement(
        { AWS: (ctx.users.length > 0 ? rnd.pick(ctx.users) : ctx.connector).arn },
        'sts:AssumeRole',
      );
    case 2:
      return statement(
        { AWS: `arn:aws:iam::${rnd.chance(0.7) ? ctx.accountId : '444444444444'}:root` },
        'sts:AssumeRole',
      );
    case 3:
      return statement(
        { Service: rnd.pick(['ec2.amazonaws.com', 'lambda.amazonaws.com', 'eks.amazonaws.com']) },
        'sts:AssumeRole',
      );
    default: {
      const issuer = `oidc.eks.${ctx.region}.amazonaws.com/id/${rnd.hex(32).toUpperCase()}`;
      return statement(
        { Federated: `arn:aws:iam::${ctx.accountId}:oidc-provider/${issuer}` },
        'sts:AssumeRoleWithWebIdentity',
        {
          StringEquals: {
            [`${issuer}:sub`]: `system:serviceaccount:default:sa-${rnd.int(100)}`,
            [`${issuer}:aud`]: 'sts.amazonaws.com',
          },
        },
      );
    }
  }
}

/** Adds a generated cluster (and its IAM principals) to `world`; returns the cluster. */
export function generateInto(world: World, options: GenerateOptions = {}): Cluster {
  const o = { ...GENERATE_DEFAULTS };
  for (const [key, value] of Object.entries(options))
    if (value !== undefined) (o as Record<string, unknown>)[key] = value;
  const accountId = String(o.accountId);
  const rnd = createRandom(o.seed);
  const mode = o.authenticationMode;
  const usesApi = mode !== 'CONFIG_MAP';
  const usesConfigMap = mode !== 'API';

  if (!world.accounts.has(accountId)) world.addAccount(accountId, 'generated');
  let connector = world.findUserByName(accountId, CONNECTOR_USER_NAME);
  if (!connector) {
    connector = world.addUser({ accountId, userName: CONNECTOR_USER_NAME, createDate: WORLD_EPOCH });
    const free = !world.credentials.has(GENERATOR_CONNECTOR_KEY.accessKeyId);
    world.addAccessKey(
      connector.arn,
      ...(free ? [GENERATOR_CONNECTOR_KEY.accessKeyId, GENERATOR_CONNECTOR_KEY.secretAccessKey] : []),
    );
  }
  const connectorRole =
    world.findRoleByName(accountId, CONNECTOR_ROLE_NAME) ??
    world.addRole({
      accountId,
      roleName: CONNECTOR_ROLE_NAME,
      description: 'Assumed by eks-access-connector to read and provision EKS access',
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: connector.arn }, Action: 'sts:AssumeRole' }],
      },
      createDate: WORLD_EPOCH,
    });

  const users: IamUser[] = [];
  const uw = widthFor(o.iamUsers);
  for (let i = 1; i <= o.iamUsers; i++) {
    users.push(
      world.addUser({
        accountId,
        userName: `gen-user-${pad(i, uw)}`,
        path: i % 3 === 0 ? '/people/' : '/',
        createDate: WORLD_EPOCH,
      }),
    );
  }
  const roles: IamRole[] = [];
  const rw = widthFor(o.iamRoles);
  const trustCtx = { accountId, region: o.region, users, connector };
  for (let i = 1; i <= o.iamRoles; i++) {
    // 30% SSO, then user, root, service and OIDC trust in equal parts.
    const roll = rnd.next();
    const kind = roll < 0.3 ? 0 : 1 + Math.floor(((roll - 0.3) / 0.7) * 4);
    const sso = kind === 0;
    roles.push(
      world.addRole({
        accountId,
        roleName: sso ? `AWSReservedSSO_PermissionSet${pad(i, rw)}_${rnd.hex(16)}` : `gen-role-${pad(i, rw)}`,
        path: sso ? `/aws-reserved/sso.amazonaws.com/${o.region}/` : '/',
        assumeRolePolicyDocument: trustPolicy(kind, trustCtx, rnd),
        createDate: WORLD_EPOCH,
      }),
    );
  }

  const cluster = world.addCluster({
    accountId,
    region: o.region,
    name: o.clusterName,
    version: o.version,
    authenticationMode: mode,
    createdAt: WORLD_EPOCH,
  });
  const create = (resource: Parameters<typeof cluster.kube.create>[0], obj: KubeObjectInput) =>
    cluster.kube.create(resource, obj, WORLD_EPOCH);

  const nw = widthFor(o.namespaces);
  const namespaces: string[] = [];
  for (let i = 1; i <= o.namespaces; i++) namespaces.push(`ns-${pad(i, nw)}`);
  for (const name of [...GENERATED_BASELINE.namespaces, ...namespaces])
    create('namespaces', { metadata: { name } });
  const nsFor = (i: number) => (namespaces.length > 0 ? namespaces[i % namespaces.length]! : 'default');

  const clusterRoleNames: string[] = ['admin', 'edit', 'view'];
  for (const [name, rules] of Object.entries(STANDARD_CLUSTER_ROLES))
    create('clusterroles', { metadata: { name, labels: BOOTSTRAP_LABELS }, rules });
  create('clusterroles', { metadata: { name: CONNECTOR_READ_CLUSTER_ROLE }, rules: CONNECTOR_READ_RULES });
  const cw = widthFor(o.clusterRoles);
  for (let i = 1; i <= o.clusterRoles; i++) {
    const name = `custom-clusterrole-${pad(i, cw)}`;
    clusterRoleNames.push(name);
    create('clusterroles', { metadata: { name }, rules: rnd.sample(RULE_POOL, 1 + rnd.int(3)) });
  }

  const serviceAccounts: { namespace: string; name: string }[] = [];
  const sw = widthFor(o.serviceAccounts);
  for (let i = 0; i < o.serviceAccounts; i++) {
    const sa = { namespace: nsFor(i), name: `sa-${pad(i + 1, sw)}` };
    serviceAccounts.push(sa);
    create('serviceaccounts', { metadata: sa });
  }

  const rolesByNamespace = new Map<string, string[]>();
  const roleWidth = widthFor(o.roles);
  for (let i = 0; i < o.roles; i++) {
    const namespace = nsFor(i);
    const name = `role-${pad(i + 1, roleWidth)}`;
    let list = rolesByNamespace.get(namespace);
    if (!list) rolesByNamespace.set(namespace, (list = []));
    list.push(name);
    create('roles', { metadata: { namespace, name }, rules: rnd.sample(RULE_POOL, 1 + rnd.int(3)) });
  }

  const groups = Array.from({ length: 50 }, (_, i) => `group-${pad(i, 2)}`);
  const usernames: string[] = users.map((u) => u.arn);

  // Access entries (API modes) or aws-auth mappings (CONFIG_MAP), over distinct principals: the
  // generated roles and users first, then roles of another account (real EKS allows those).
  const candidates: string[] = [...roles.map((r) => r.arn), ...users.map((u) => u.arn)];
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  for (let i = candidates.length; i < o.accessEntries; i++)
    candidates.push(`arn:aws:iam::444444444444:role/external-role-${pad(i + 1, 6)}`);
  const mapRoles: AwsAuthRoleMapping[] = [];
  const mapUsers: AwsAuthUserMapping[] = [];
  for (let i = 0; i < o.accessEntries; i++) {
    const principalArn = candidates[i]!;
    const isRole = principalArn.includes(':role/');
    const shortName = principalArn.slice(principalArn.lastIndexOf('/') + 1);
    const custom = rnd.chance(0.3) ? shortName.toLowerCase() : undefined;
    if (custom) usernames.push(custom);
    const entryGroups = rnd.sample(groups, rnd.int(3));
    if (usesApi) {
      const entry = world.addAccessEntry(cluster, {
        principalArn,
        ...(custom ? { username: isRole ? `${custom}:{{SessionName}}` : custom } : {}),
        kubernetesGroups: entryGroups,
        now: WORLD_EPOCH,
      });
      for (const policyArn of rnd.sample(ACCESS_POLICIES, 1 + rnd.int(3))) {
        const namespaced = namespaces.length > 0 && rnd.chance(0.7);
        entry.associations.set(policyArn, {
          policyArn,
          accessScope: namespaced
            ? { type: 'namespace', namespaces: rnd.sample(namespaces, 1 + rnd.int(3)) }
            : { type: 'cluster', namespaces: [] },
          associatedAt: WORLD_EPOCH,
          modifiedAt: WORLD_EPOCH,
        });
      }
    } else if (isRole) {
      mapRoles.push({
        rolearn: roleArnWithoutPath(principalArn),
        username: `${custom ?? shortName}:{{SessionName}}`,
        groups: entryGroups,
      });
    } else {
      mapUsers.push({ userarn: principalArn, username: custom ?? shortName, groups: entryGroups });
    }
  }
  if (usernames.length === 0) usernames.push('gen-user');

  const subjects = (): Subject[] => {
    const out: Subject[] = [];
    const n = 1 + rnd.int(3);
    for (let k = 0; k < n; k++) {
      const roll = rnd.next();
      if (roll < 0.4) out.push({ kind: 'Group', apiGroup: RBAC, name: rnd.pick(groups) });
      else if (roll < 0.75 || serviceAccounts.length === 0)
        out.push({ kind: 'User', apiGroup: RBAC, name: rnd.pick(usernames) });
      else {
        const sa = rnd.pick(serviceAccounts);
        out.push({ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace });
      }
    }
    return out;
  };

  const bw = widthFor(o.roleBindings);
  for (let i = 0; i < o.roleBindings; i++) {
    const namespace = nsFor(i);
    const local = rolesByNamespace.get(namespace);
    const roleRef =
      local && rnd.chance(0.5)
        ? { apiGroup: RBAC, kind: 'Role', name: rnd.pick(local) }
        : { apiGroup: RBAC, kind: 'ClusterRole', name: rnd.pick(clusterRoleNames) };
    create('rolebindings', {
      metadata: { namespace, name: `rb-${pad(i + 1, bw)}` },
      roleRef,
      subjects: subjects(),
    });
  }

  create('clusterrolebindings', {
    metadata: { name: 'cluster-admin', labels: BOOTSTRAP_LABELS },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'Group', apiGroup: RBAC, name: 'system:masters' }],
  });
  create('clusterrolebindings', {
    metadata: { name: 'reader-role-binding' },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: CONNECTOR_READ_CLUSTER_ROLE },
    subjects: [{ kind: 'Group', apiGroup: RBAC, name: CONNECTOR_READERS_GROUP }],
  });
  const crw = widthFor(o.clusterRoleBindings);
  for (let i = 0; i < o.clusterRoleBindings; i++) {
    create('clusterrolebindings', {
      metadata: { name: `crb-${pad(i + 1, crw)}` },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: rnd.pick(clusterRoleNames) },
      subjects: subjects(),
    });
  }

  // How the connector gets in: an access entry where the mode reads them, aws-auth otherwise.
  if (usesApi) {
    const entry = world.addAccessEntry(cluster, { principalArn: connectorRole.arn, now: WORLD_EPOCH });
    const policyArn = accessPolicyArn('AmazonEKSAdminViewPolicy');
    entry.associations.set(policyArn, {
      policyArn,
      accessScope: { type: 'cluster', namespaces: [] },
      associatedAt: WORLD_EPOCH,
      modifiedAt: WORLD_EPOCH,
    });
  }
  if (usesConfigMap) {
    if (!usesApi) {
      mapRoles.unshift({
        rolearn: roleArnWithoutPath(connectorRole.arn),
        username: CONNECTOR_USER_NAME,
        groups: [CONNECTOR_READERS_GROUP],
      });
    }
    create('configmaps', awsAuthConfigMap({ mapRoles, mapUsers }));
  }
  return cluster;
}

/** Builds a new world holding only a generated cluster and its IAM principals. */
export function generateWorld(options: GenerateOptions = {}): World {
  const world = new World();
  generateInto(world, options);
  return world;
}
