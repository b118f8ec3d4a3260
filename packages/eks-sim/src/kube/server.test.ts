import {
  ApiException,
  ApisApi,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  VersionApi,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Faults } from '../faults.js';
import type { Cluster } from '../world/types.js';
import {
  kubeConfigOptions,
  rawRequest,
  startKubeEndpoint,
  tokenFor,
  type KubeEndpoint,
} from './test-helpers.js';
import { buildTestWorld, type TestWorld } from './test-world.js';

let t: TestWorld;
let cluster: Cluster;
let endpoint: KubeEndpoint;
let token: string;
let core: CoreV1Api;
let rbac: RbacAuthorizationV1Api;
const faults = new Faults();

beforeAll(async () => {
  t = buildTestWorld();
  cluster = t.clusters.api;
  endpoint = await startKubeEndpoint({ world: t.world, cluster, faults });
  // Admin holds AmazonEKSClusterAdminPolicy: these tests are about the API, not authorization.
  token = await tokenFor(t.credentials.admin, cluster);
  const kc = new KubeConfig();
  kc.loadFromOptions(kubeConfigOptions(endpoint, token));
  core = kc.makeApiClient(CoreV1Api);
  rbac = kc.makeApiClient(RbacAuthorizationV1Api);
});

afterAll(async () => {
  await endpoint.close();
});

afterEach(() => {
  faults.setRules([]);
});

interface StatusBody {
  kind: string;
  status: string;
  code: number;
  reason: string;
  message: string;
  details?: Record<string, unknown>;
}

async function failure(promise: Promise<unknown>): Promise<StatusBody & { headers: Record<string, string> }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiException);
  const apiErr = err as ApiException<string>;
  return { ...(JSON.parse(apiErr.body) as StatusBody), headers: apiErr.headers };
}

function binding(name: string, namespace: string, labels: Record<string, string> = {}) {
  return {
    metadata: { name, namespace, labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `user-${name}` }],
  };
}

describe('discovery', () => {
  it('reports an EKS-style version for the cluster minor', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions(kubeConfigOptions(endpoint, token));
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.31\.\d+-eks-[0-9a-f]{7}$/);
    expect(version.major).toBe('1');
    expect(version.minor).toBe('31');
  });

  it('lists the API groups and the RBAC resources with kinds, verbs and scope', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions(kubeConfigOptions(endpoint, token));
    const groups = await kc.makeApiClient(ApisApi).getAPIVersions();
    expect(groups.groups.map((g) => g.name)).toEqual(
      expect.arrayContaining(['rbac.authorization.k8s.io', 'authorization.k8s.io', 'authentication.k8s.io']),
    );
    const resources = await rbac.getAPIResources();
    expect(resources.groupVersion).toBe('rbac.authorization.k8s.io/v1');
    expect(resources.resources.find((r) => r.name === 'rolebindings')).toMatchObject({
      kind: 'RoleBinding',
      namespaced: true,
      verbs: expect.arrayContaining(['create', 'delete', 'get', 'list', 'patch', 'update']),
    });
    const coreResources = await core.getAPIResources();
    expect(coreResources.resources.find((r) => r.name === 'configmaps')).toMatchObject({
      kind: 'ConfigMap',
      shortNames: ['cm'],
    });
    const api = await rawRequest(endpoint, { path: '/api', token });
    expect(api.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
  });
});

describe('listing', () => {
  it('pages with limit and continue over one snapshot while another client writes', async () => {
    for (let i = 0; i < 25; i++) {
      cluster.kube.create('rolebindings', binding(`page-${String(i).padStart(2, '0')}`, 'team-b'));
    }
    const first = await rbac.listNamespacedRoleBinding({ namespace: 'team-b', limit: 10 });
    expect(first.items).toHaveLength(10);
    expect(first.metadata?.remainingItemCount).toBe(15);
    expect(first.metadata?._continue).toBeTruthy();
    // Between pages: one binding not yet returned disappears, a new one appears.
    await rbac.deleteNamespacedRoleBinding({ name: 'page-20', namespace: 'team-b' });
    await rbac.createNamespacedRoleBinding({ namespace: 'team-b', body: binding('page-15a', 'team-b') });
    const second = await rbac.listNamespacedRoleBinding({
      namespace: 'team-b',
      limit: 10,
      _continue: first.metadata!._continue!,
    });
    const third = await rbac.listNamespacedRoleBinding({
      namespace: 'team-b',
      limit: 10,
      _continue: second.metadata!._continue!,
    });
    expect(third.metadata?._continue).toBeUndefined();
    const names = [...first.items, ...second.items, ...third.items].map((b) => b.metadata?.name);
    expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`));
    // Every page reports the snapshot's resourceVersion; a fresh list sees the writes.
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const fresh = await rbac.listNamespacedRoleBinding({ namespace: 'team-b' });
    expect(fresh.items.map((b) => b.metadata?.name)).toContain('page-15a');
    expect(fresh.items.map((b) => b.metadata?.name)).not.toContain('page-20');
    expect(Number(fresh.metadata?.resourceVersion)).toBeGreaterThan(Number(first.metadata?.resourceVersion));
  });

  it('lists across all namespaces in namespace/name order', async () => {
    const all = await rbac.listRoleBindingForAllNamespaces({ limit: 500 });
    const keys = all.items.map((b) => `${b.metadata?.namespace}/${b.metadata?.name}`);
    expect(keys).toEqual([...keys].sort());
    expect(new Set(all.items.map((b) => b.metadata?.namespace))).toEqual(new Set(['team-a', 'team-b']));
  });

  it('answers 410 Expired to a continue token whose revision was compacted', async () => {
    const first = await core.listNamespace({ limit: 2 });
    // Compaction after later writes drops the snapshot the token points at, as etcd's does.
    await core.createNamespace({ body: { metadata: { name: 'after-first-page' } } });
    cluster.kube.compact();
    const gone = await failure(core.listNamespace({ limit: 2, _continue: first.metadata!._continue! }));
    expect(gone).toMatchObject({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired' });
    expect(gone.message).toMatch(/^The provided continue parameter is too old/);
  });

  it('answers 410 Expired to a continued list when the expireContinue fault applies', async () => {
    const first = await core.listNamespace({ limit: 2 });
    faults.setRules([{ target: 'kube:list:namespaces', expireContinue: true }]);
    // A list without a continue token is not affected.
    await expect(core.listNamespace({ limit: 2 })).resolves.toBeDefined();
    expect(
      (await failure(core.listNamespace({ limit: 2, _continue: first.metadata!._continue! }))).code,
    ).toBe(410);
  });

  it('answers 400 to a continue token it did not issue', async () => {
    const bad = await failure(core.listNamespace({ limit: 2, _continue: 'not-a-token!' }));
    expect(bad).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(bad.message).toMatch(/^continue key is not valid/);
  });

  it('filters by label selector (=, !=, in, notin, exists, !key) and field selector', async () => {
    const ns = 'team-a';
    const labels: Record<string, Record<string, string>> = {
      red: { color: 'red', tier: 'web' },
      blue: { color: 'blue', tier: 'db' },
      plain: {},
    };
    for (const [name, l] of Object.entries(labels)) {
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: { metadata: { name: `sel-${name}`, labels: l } },
      });
    }
    const names = async (labelSelector: string, fieldSelector?: string) =>
      (
        await core.listNamespacedConfigMap({
          namespace: ns,
          labelSelector,
          ...(fieldSelector ? { fieldSelector } : {}),
        })
      ).items
        .map((c) => c.metadata?.name ?? '')
        .filter((n) => n.startsWith('sel-'));
    expect(await names('color=red')).toEqual(['sel-red']);
    expect(await names('color==blue')).toEqual(['sel-blue']);
    expect(await names('color!=red')).toEqual(['sel-blue', 'sel-plain']);
    expect(await names('color in (red, blue),tier notin (db)')).toEqual(['sel-red']);
    expect(await names('tier')).toEqual(['sel-blue', 'sel-red']);
    expect(await names('!tier')).toEqual(['sel-plain']);
    expect(await names('', 'metadata.name=sel-blue')).toEqual(['sel-blue']);
    expect(
      (await failure(core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'color in red' }))).code,
    ).toBe(400);
    expect(
      (await failure(core.listNamespacedConfigMap({ namespace: ns, fieldSelector: 'data.x=1' }))).message,
    ).toBe('field label not supported: data.x');
  });
});

describe('writing', () => {
  it('creates an object, and answers 409 AlreadyExists to a second create', async () => {
    const made = await rbac.createNamespacedRoleBinding({
      namespace: 'team-a',
      body: binding('dup', 'team-a'),
    });
    expect(made.metadata?.uid).toBeTruthy();
    expect(made.metadata?.resourceVersion).toBeTruthy();
    const again = await failure(
      rbac.createNamespacedRoleBinding({ namespace: 'team-a', body: binding('dup', 'team-a') }),
    );
    expect(again).toMatchObject({
      code: 409,
      reason: 'AlreadyExists',
      message: 'rolebindings.rbac.authorization.k8s.io "dup" already exists',
      details: { name: 'dup', group: 'rbac.authorization.k8s.io', kind: 'rolebindings' },
    });
  });

  it('round-trips RBAC objects exactly', async () => {
    const role = {
      metadata: { name: 'aggregated' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate': 'true' } }] },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['a', 'b'] },
        { nonResourceURLs: ['/healthz', '/metrics/*'], verbs: ['get'] },
      ],
    };
    await rbac.createClusterRole({ body: role });
    const read = await rbac.readClusterRole({ name: 'aggregated' });
    expect(read.rules).toEqual(role.rules);
    expect(read.aggregationRule).toEqual(role.aggregationRule);
    const crb = {
      metadata: { name: 'mixed-subjects' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'aggregated' },
      subjects: [
        {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'User',
          name: 'arn:aws:sts::111122223333:assumed-role/Dev/x',
        },
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'builder', namespace: 'team-a' },
      ],
    };
    await rbac.createClusterRoleBinding({ body: crb });
    const got = await rbac.readClusterRoleBinding({ name: 'mixed-subjects' });
    expect(got.roleRef).toEqual(crb.roleRef);
    expect(got.subjects).toEqual(crb.subjects);
  });

  it('answers 422 Invalid to a missing or malformed name and to a bad roleRef', async () => {
    const badName = await failure(
      core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'Bad_Name' } } }),
    );
    expect(badName).toMatchObject({
      code: 422,
      reason: 'Invalid',
      details: { name: 'Bad_Name', kind: 'ConfigMap' },
    });
    expect(badName.message).toMatch(
      /^ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    const noName = await failure(
      core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: {} } }),
    );
    expect(noName.message).toBe(
      'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
    );
    // RBAC names only need to be URL path segments: colons are fine.
    await rbac.createClusterRole({ body: { metadata: { name: 'system:aggregate-to-custom' }, rules: [] } });
    const badRef = await failure(
      rbac.createNamespacedRoleBinding({
        namespace: 'team-a',
        body: {
          metadata: { name: 'bad-ref' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Secret', name: 'x' },
        },
      }),
    );
    expect(badRef.message).toBe(
      'RoleBinding.rbac.authorization.k8s.io "bad-ref" is invalid: roleRef.kind: Unsupported value: "Secret": supported values: "Role", "ClusterRole"',
    );
  });

  it('refuses to change a binding roleRef, and creates a missing RBAC object on PUT as the API server does', async () => {
    const made = await rbac.createNamespacedRoleBinding({
      namespace: 'team-a',
      body: binding('fixed-ref', 'team-a'),
    });
    // The same roleRef with its keys in another order is not a change.
    const reordered = {
      ...made,
      roleRef: { name: 'view', kind: 'ClusterRole', apiGroup: 'rbac.authorization.k8s.io' },
    };
    await rbac.replaceNamespacedRoleBinding({ name: 'fixed-ref', namespace: 'team-a', body: reordered });
    const changed = await failure(
      rbac.replaceNamespacedRoleBinding({
        name: 'fixed-ref',
        namespace: 'team-a',
        body: {
          ...binding('fixed-ref', 'team-a'),
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
        },
      }),
    );
    expect(changed).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(changed.message).toContain('roleRef: Invalid value');
    expect(changed.message).toContain('cannot change roleRef');
    // RBAC kinds allow create-on-update; ConfigMaps do not (see the 404 above).
    const created = await rbac.replaceNamespacedRoleBinding({
      name: 'put-created',
      namespace: 'team-a',
      body: binding('put-created', 'team-a'),
    });
    expect(created.metadata?.uid).toBeTruthy();
  });

  it('answers 404 to a create in a namespace that does not exist, and 400 to a mismatched body namespace', async () => {
    const missing = await failure(
      core.createNamespacedConfigMap({ namespace: 'nowhere', body: { metadata: { name: 'x' } } }),
    );
    expect(missing).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'namespaces "nowhere" not found',
    });
    const mismatch = await failure(
      core.createNamespacedConfigMap({
        namespace: 'team-a',
        body: { metadata: { name: 'x', namespace: 'team-b' } },
      }),
    );
    expect(mismatch).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'the namespace of the provided object does not match the namespace sent on the request',
    });
  });

  it('updates with optimistic concurrency: 409 Conflict on a stale resourceVersion, 404 when absent', async () => {
    const made = await core.createNamespacedConfigMap({
      namespace: 'team-a',
      body: { metadata: { name: 'occ' }, data: { v: '1' } },
    });
    const updated = await core.replaceNamespacedConfigMap({
      name: 'occ',
      namespace: 'team-a',
      body: { ...made, data: { v: '2' } },
    });
    expect(updated.data).toEqual({ v: '2' });
    expect(updated.metadata?.uid).toBe(made.metadata?.uid);
    const stale = await failure(
      core.replaceNamespacedConfigMap({
        name: 'occ',
        namespace: 'team-a',
        body: { ...made, data: { v: '3' } },
      }),
    );
    expect(stale).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again',
    });
    const absent = await failure(
      core.replaceNamespacedConfigMap({
        name: 'ghost',
        namespace: 'team-a',
        body: { metadata: { name: 'ghost', namespace: 'team-a' } },
      }),
    );
    expect(absent).toMatchObject({ code: 404, message: 'configmaps "ghost" not found' });
  });

  it('applies a merge patch and a JSON patch, and answers 422 when a JSON patch test fails', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'team-a',
      body: { metadata: { name: 'patched', labels: { keep: 'yes', drop: 'yes' } }, data: { a: '1', b: '2' } },
    });
    const merged = await core.patchNamespacedConfigMap(
      {
        name: 'patched',
        namespace: 'team-a',
        body: { metadata: { labels: { drop: null, added: 'yes' } }, data: { b: '3' } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ keep: 'yes', added: 'yes' });
    expect(merged.data).toEqual({ a: '1', b: '3' });
    const jsonPatched = await core.patchNamespacedConfigMap(
      {
        name: 'patched',
        namespace: 'team-a',
        body: [
          { op: 'test', path: '/data/a', value: '1' },
          { op: 'replace', path: '/data/a', value: 'one' },
          { op: 'add', path: '/metadata/labels/x~1y', value: 'slash' },
          { op: 'remove', path: '/data/b' },
          { op: 'copy', from: '/data/a', path: '/data/c' },
          { op: 'move', from: '/data/c', path: '/data/d' },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.data).toEqual({ a: 'one', d: 'one' });
    expect(jsonPatched.metadata?.labels?.['x/y']).toBe('slash');
    const failedTest = await failure(
      core.patchNamespacedConfigMap(
        {
          name: 'patched',
          namespace: 'team-a',
          body: [
            { op: 'test', path: '/data/a', value: '1' },
            { op: 'remove', path: '/data/a' },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(failedTest).toMatchObject({
      code: 422,
      reason: 'Invalid',
      message: 'the server rejected our request due to an error in our request',
    });
    expect((await core.readNamespacedConfigMap({ name: 'patched', namespace: 'team-a' })).data).toEqual({
      a: 'one',
      d: 'one',
    });
    // A patch carrying a stale resourceVersion is an optimistic-lock failure.
    const stale = await failure(
      core.patchNamespacedConfigMap(
        {
          name: 'patched',
          namespace: 'team-a',
          body: { metadata: { resourceVersion: '1' }, data: { a: 'x' } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    expect(stale.code).toBe(409);
  });

  it('treats a strategic merge patch of RBAC subjects as replacing the list', async () => {
    await rbac.createNamespacedRoleBinding({ namespace: 'team-a', body: binding('smp', 'team-a') });
    const patched = await rbac.patchNamespacedRoleBinding(
      {
        name: 'smp',
        namespace: 'team-a',
        body: { subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'other' }] },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'other' },
    ]);
  });

  it('deletes an object with a success Status, and a namespace together with its contents', async () => {
    await core.createNamespacedConfigMap({ namespace: 'team-a', body: { metadata: { name: 'doomed' } } });
    const deleted = await core.deleteNamespacedConfigMap({ name: 'doomed', namespace: 'team-a' });
    expect(deleted).toMatchObject({ status: 'Success', details: { name: 'doomed', kind: 'configmaps' } });
    expect((await failure(core.readNamespacedConfigMap({ name: 'doomed', namespace: 'team-a' }))).code).toBe(
      404,
    );

    await core.createNamespace({ body: { metadata: { name: 'short-lived' } } });
    await core.createNamespacedConfigMap({
      namespace: 'short-lived',
      body: { metadata: { name: 'inside' } },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'short-lived',
      body: binding('inside', 'short-lived'),
    });
    // As on a real server, deleting a namespace answers with the Namespace, now terminating.
    const ns = await core.deleteNamespace({ name: 'short-lived' });
    expect(ns).toMatchObject({ kind: 'Namespace', status: { phase: 'Terminating' } });
    expect((await failure(core.readNamespace({ name: 'short-lived' }))).code).toBe(404);
    expect(cluster.kube.list('configmaps', { namespace: 'short-lived' }).items).toEqual([]);
    expect(cluster.kube.list('rolebindings', { namespace: 'short-lived' }).items).toEqual([]);
    expect((await failure(core.deleteNamespace({ name: 'kube-system' }))).code).toBe(403);
  });
});

describe('faults and protocol errors', () => {
  it('answers 429 TooManyRequests with Retry-After under a throttle fault', async () => {
    faults.setRules([{ target: 'kube:list:rolebindings', throttleRate: 1, retryAfterSeconds: 3, count: 1 }]);
    const throttled = await failure(rbac.listNamespacedRoleBinding({ namespace: 'team-a' }));
    expect(throttled).toMatchObject({
      code: 429,
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 3 },
    });
    expect(throttled.headers['retry-after']).toBe('3');
    // The rule was for one request only.
    await expect(rbac.listNamespacedRoleBinding({ namespace: 'team-a' })).resolves.toBeDefined();
  });

  it('answers an injected server error and an injected write conflict with their Status', async () => {
    faults.setRules([{ target: 'kube:get:configmaps', errorRate: 1, errorStatus: 503 }]);
    expect(
      await failure(core.readNamespacedConfigMap({ name: 'settings', namespace: 'team-a' })),
    ).toMatchObject({
      code: 503,
      reason: 'ServiceUnavailable',
    });
    faults.setRules([{ target: 'kube:update:configmaps', conflictRate: 1 }]);
    faults.resetCounters();
    const current = await core.readNamespacedConfigMap({ name: 'settings', namespace: 'team-a' });
    expect(
      (
        await failure(
          core.replaceNamespacedConfigMap({ name: 'settings', namespace: 'team-a', body: current }),
        )
      ).code,
    ).toBe(409);
    expect(faults.snapshot().clusters[cluster.name]?.['kube:update:configmaps']).toBe(1);
  });

  it('refuses a PUT on a collection with 405, bodies over 3 MiB with 413 and malformed JSON with 400', async () => {
    const put = await rawRequest(endpoint, {
      method: 'PUT',
      path: '/api/v1/namespaces/team-a/configmaps',
      token,
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(put.status).toBe(405);
    expect(put.json).toMatchObject({ kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
    const big = await rawRequest(endpoint, {
      method: 'POST',
      path: '/api/v1/namespaces/team-a/configmaps',
      token,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'big' }, data: { x: 'x'.repeat(3 * 1024 * 1024) } }),
    });
    expect(big.status).toBe(413);
    expect(big.json).toMatchObject({ reason: 'RequestEntityTooLarge', code: 413 });
    const malformed = await rawRequest(endpoint, {
      method: 'POST',
      path: '/api/v1/namespaces/team-a/configmaps',
      token,
      headers: { 'Content-Type': 'application/json' },
      body: '{"metadata": {"name": ',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    const unknown = await rawRequest(endpoint, { path: '/apis/apps/v1/deployments', token });
    expect(unknown.json).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
    });
  });

  it('serves the Table form kubectl asks for', async () => {
    const table = await rawRequest(endpoint, {
      path: '/api/v1/namespaces/team-a/configmaps?limit=1',
      token,
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    expect(table.json).toMatchObject({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      columnDefinitions: [{ name: 'Name' }, { name: 'Created At' }],
      rows: [{ object: { kind: 'PartialObjectMetadata' } }],
    });
  });
});
