import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, Credential } from '../world/types.js';
import { kubeConfigOptions, startKubeEndpoint, tokenFor, type KubeEndpoint } from './test-helpers.js';
import { buildTestWorld, type TestWorld } from './test-world.js';

let t: TestWorld;
const endpoints = new Map<Cluster, KubeEndpoint>();

beforeAll(async () => {
  t = buildTestWorld();
  for (const cluster of [t.clusters.api, t.clusters.configMap]) {
    endpoints.set(cluster, await startKubeEndpoint({ world: t.world, cluster }));
  }
});

afterAll(async () => {
  await Promise.all([...endpoints.values()].map((e) => e.close()));
});

async function clients(cluster: Cluster, credential: Credential) {
  const kc = new KubeConfig();
  kc.loadFromOptions(kubeConfigOptions(endpoints.get(cluster)!, await tokenFor(credential, cluster)));
  return {
    core: kc.makeApiClient(CoreV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    authz: kc.makeApiClient(AuthorizationV1Api),
  };
}

async function status(promise: Promise<unknown>): Promise<{ code: number; message: string; reason: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiException);
  const body = JSON.parse((err as ApiException<string>).body) as {
    code: number;
    message: string;
    reason: string;
  };
  return { code: body.code, message: body.message, reason: body.reason };
}

async function canI(
  cluster: Cluster,
  credential: Credential,
  attrs: { verb: string; resource: string; group?: string; namespace?: string; name?: string },
): Promise<boolean> {
  const { authz } = await clients(cluster, credential);
  const review = await authz.createSelfSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: attrs },
    },
  });
  return review.status?.allowed ?? false;
}

describe('RBAC authorization', () => {
  it('lets a RoleBinding to a ClusterRole grant its rules in the binding namespace only', async () => {
    const { core } = await clients(t.clusters.api, t.credentials.alice);
    const list = await core.listNamespacedConfigMap({ namespace: 'team-a' });
    expect(list.items.map((c) => c.metadata?.name)).toEqual(['settings']);
    expect(await status(core.listNamespacedConfigMap({ namespace: 'team-b' }))).toEqual({
      code: 403,
      reason: 'Forbidden',
      message:
        'configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "team-b"',
    });
  });

  it('words a denied named request and a cluster-scoped one as the API server does', async () => {
    const { core, rbac } = await clients(t.clusters.api, t.credentials.alice);
    expect(
      (await status(core.readNamespacedConfigMap({ name: 'settings', namespace: 'team-b' }))).message,
    ).toBe(
      'configmaps "settings" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "team-b"',
    );
    expect((await status(rbac.listClusterRole())).message).toBe(
      'clusterroles.rbac.authorization.k8s.io is forbidden: User "alice" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
    );
    // A list across all namespaces needs a cluster-wide grant, even where a namespace grant exists.
    expect((await status(core.listConfigMapForAllNamespaces())).message).toBe(
      'configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" at the cluster scope',
    );
  });

  it('does not let a read-only grant write', async () => {
    const { core } = await clients(t.clusters.api, t.credentials.alice);
    const denied = await status(
      core.createNamespacedConfigMap({
        namespace: 'team-a',
        body: { metadata: { name: 'mine' }, data: { a: '1' } },
      }),
    );
    expect(denied.code).toBe(403);
    expect(denied.message).toContain('cannot create resource "configmaps"');
  });

  it('follows binding changes on the next request', async () => {
    const cluster = t.clusters.api;
    const { core } = await clients(cluster, t.credentials.alice);
    const binding = cluster.kube.get('rolebindings', 'team-a', 'viewers')!;
    cluster.kube.delete('rolebindings', 'team-a', 'viewers');
    try {
      expect((await status(core.listNamespacedConfigMap({ namespace: 'team-a' }))).code).toBe(403);
    } finally {
      cluster.kube.create('rolebindings', binding);
    }
    await expect(core.listNamespacedConfigMap({ namespace: 'team-a' })).resolves.toBeDefined();
  });

  it('evaluates a Role bound in its namespace, a user subject and a ClusterRoleBinding', async () => {
    const cluster = t.clusters.api;
    const kube = cluster.kube;
    kube.create('roles', {
      metadata: { name: 'cm-writer', namespace: 'team-b' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get'], resourceNames: [] }],
    });
    kube.create('rolebindings', {
      metadata: { name: 'alice-writes', namespace: 'team-b' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-writer' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    });
    kube.create('clusterroles', {
      metadata: { name: 'ns-reader' },
      rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }],
    });
    kube.create('clusterrolebindings', {
      metadata: { name: 'everyone-lists-namespaces' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ns-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
    });
    expect(
      await canI(cluster, t.credentials.alice, {
        verb: 'create',
        resource: 'configmaps',
        namespace: 'team-b',
      }),
    ).toBe(true);
    expect(
      await canI(cluster, t.credentials.alice, {
        verb: 'create',
        resource: 'configmaps',
        namespace: 'team-a',
      }),
    ).toBe(false);
    expect(await canI(cluster, t.credentials.alice, { verb: 'list', resource: 'namespaces' })).toBe(true);
    expect(await canI(cluster, t.credentials.dev, { verb: 'list', resource: 'namespaces' })).toBe(true);
  });

  it('honours resourceNames and ClusterRole aggregation', async () => {
    const cluster = t.clusters.api;
    const kube = cluster.kube;
    kube.create('clusterroles', {
      metadata: { name: 'aggregate-reader' },
      aggregationRule: {
        clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-reader': 'true' } }],
      },
      rules: [],
    });
    kube.create('clusterroles', {
      metadata: { name: 'reader-part', labels: { 'example.com/aggregate-to-reader': 'true' } },
      rules: [
        {
          apiGroups: ['rbac.authorization.k8s.io'],
          resources: ['roles'],
          verbs: ['get'],
          resourceNames: ['special'],
        },
      ],
    });
    kube.create('rolebindings', {
      metadata: { name: 'alice-aggregate', namespace: 'team-a' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'aggregate-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    });
    const attrs = { verb: 'get', group: 'rbac.authorization.k8s.io', resource: 'roles', namespace: 'team-a' };
    expect(await canI(cluster, t.credentials.alice, { ...attrs, name: 'special' })).toBe(true);
    expect(await canI(cluster, t.credentials.alice, { ...attrs, name: 'other' })).toBe(false);
    expect(await canI(cluster, t.credentials.alice, { ...attrs, verb: 'list' })).toBe(false);
  });

  it('allows the system:masters group everything', async () => {
    // Admin maps to system:masters through aws-auth on the CONFIG_MAP cluster.
    const { rbac } = await clients(t.clusters.configMap, t.credentials.admin);
    const created = await rbac.createClusterRole({
      body: { metadata: { name: 'made-by-master' }, rules: [] },
    });
    expect(created.metadata?.name).toBe('made-by-master');
    expect(await canI(t.clusters.configMap, t.credentials.admin, { verb: 'delete', resource: 'nodes' })).toBe(
      true,
    );
  });
});

describe('EKS access policies', () => {
  it('grants a cluster-scoped policy everywhere', async () => {
    // Admin's access entry holds AmazonEKSClusterAdminPolicy with cluster scope; no RBAC binds it.
    const { rbac } = await clients(t.clusters.api, t.credentials.admin);
    const roles = await rbac.listClusterRole();
    expect(roles.items.map((r) => r.metadata?.name)).toContain('view');
  });

  it('confines a namespace-scoped policy to the listed namespaces and patterns', async () => {
    const cluster = t.clusters.api;
    const { core } = await clients(cluster, t.credentials.dev);
    for (const namespace of ['team-b', 'svc-x']) {
      const made = await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: 'from-dev' }, data: { a: '1' } },
      });
      expect(made.metadata?.namespace).toBe(namespace);
    }
    expect(
      await status(
        core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'from-dev' } } }),
      ),
    ).toEqual({
      code: 403,
      reason: 'Forbidden',
      message:
        'configmaps is forbidden: User "dev:dana" cannot create resource "configmaps" in API group "" in the namespace "team-a"',
    });
    // Namespace scope never reaches cluster-scoped resources.
    expect(
      await canI(cluster, t.credentials.dev, {
        verb: 'get',
        resource: 'serviceaccounts',
        namespace: 'team-b',
      }),
    ).toBe(true);
    expect(await canI(cluster, t.credentials.dev, { verb: 'list', resource: 'serviceaccounts' })).toBe(false);
  });

  it('applies a policy association change on the next request', async () => {
    const cluster = t.clusters.api;
    const association = cluster.accessEntries
      .get(t.roles.dev.arn)!
      .associations.get('arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy')!;
    const saved = association.accessScope;
    association.accessScope = { type: 'namespace', namespaces: ['team-a'] };
    try {
      expect(
        await canI(cluster, t.credentials.dev, {
          verb: 'create',
          resource: 'configmaps',
          namespace: 'team-a',
        }),
      ).toBe(true);
      expect(
        await canI(cluster, t.credentials.dev, {
          verb: 'create',
          resource: 'configmaps',
          namespace: 'team-b',
        }),
      ).toBe(false);
    } finally {
      association.accessScope = saved;
    }
  });

  it('ignores access policies on a CONFIG_MAP cluster', async () => {
    // On the CONFIG_MAP cluster Dev's access entry (with its policy) does not even authenticate; Admin
    // is system:masters through aws-auth. Alice maps through aws-auth with no groups: nothing allowed.
    expect(
      await canI(t.clusters.configMap, t.credentials.alice, {
        verb: 'list',
        resource: 'configmaps',
        namespace: 'team-a',
      }),
    ).toBe(false);
  });
});

describe('SelfSubjectAccessReview', () => {
  it('answers allowed with the reason RBAC gives, and denied without one', async () => {
    const { authz } = await clients(t.clusters.api, t.credentials.alice);
    const allowed = await authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: 'list', resource: 'configmaps', namespace: 'team-a' } } },
    });
    expect(allowed.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "viewers/team-a" of ClusterRole "view" to Group "team-a-viewers"',
    });
    const denied = await authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: 'delete', resource: 'configmaps', namespace: 'team-a' } } },
    });
    expect(denied.status).toEqual({ allowed: false });
  });

  it('lists the rules that apply in a namespace (kubectl auth can-i --list)', async () => {
    const { authz } = await clients(t.clusters.api, t.credentials.alice);
    const review = await authz.createSelfSubjectRulesReview({ body: { spec: { namespace: 'team-a' } } });
    expect(review.status?.resourceRules).toContainEqual({
      verbs: ['get', 'list', 'watch'],
      apiGroups: [''],
      resources: ['configmaps', 'serviceaccounts', 'namespaces'],
    });
  });
});
