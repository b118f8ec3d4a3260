// Impersonation over HTTPS as kubectl sends it (`--as`, `--as-group`, `--as-uid`, extras): who may
// impersonate what, the 403s the API server words, and the identity the request then runs as.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../world/types.js';
import { rawRequest, startKubeEndpoint, tokenFor, type KubeEndpoint } from './test-helpers.js';
import { buildTestWorld, type TestWorld } from './test-world.js';

let t: TestWorld;
let cluster: Cluster;
let endpoint: KubeEndpoint;
/** alice: only the team-a viewer RoleBinding (through group team-a-viewers). */
let alice: string;
/** Admin: AmazonEKSClusterAdminPolicy, which includes impersonate on everything. */
let admin: string;
/** dev:dana: may impersonate user bob and group team-a-viewers, nothing else. */
let dana: string;

beforeAll(async () => {
  t = buildTestWorld();
  cluster = t.clusters.api;
  endpoint = await startKubeEndpoint({ world: t.world, cluster });
  cluster.kube.create('clusterroles', {
    metadata: { name: 'impersonate-bob' },
    rules: [
      { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['bob'] },
      { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['team-a-viewers'] },
    ],
  });
  cluster.kube.create('clusterrolebindings', {
    metadata: { name: 'dana-impersonates-bob' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'impersonate-bob' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dev:dana' }],
  });
  [alice, admin, dana] = await Promise.all([
    tokenFor(t.credentials.alice, cluster),
    tokenFor(t.credentials.admin, cluster),
    tokenFor(t.credentials.dev, cluster),
  ]);
});

afterAll(async () => {
  await endpoint.close();
});

function listConfigMaps(token: string, namespace: string, headers: Record<string, string | string[]>) {
  return rawRequest(endpoint, { path: `/api/v1/namespaces/${namespace}/configmaps`, token, headers });
}

async function whoami(token: string, headers: Record<string, string | string[]>) {
  const res = await rawRequest(endpoint, {
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    token,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
  });
  return { status: res.status, userInfo: (res.json as { status?: { userInfo?: unknown } }).status?.userInfo };
}

describe('impersonation', () => {
  it('refuses a caller without the impersonate verb with the API server 403, listing nothing', async () => {
    const res = await listConfigMaps(alice, 'team-a', { 'Impersonate-User': 'bob' });
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message:
        'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
      details: { name: 'bob', kind: 'users' },
    });
    expect(res.text).not.toContain('settings');
    // Without the header alice reads team-a as before.
    expect((await listConfigMaps(alice, 'team-a', {})).status).toBe(200);
  });

  it("runs the request as the impersonated user, with that user's RBAC and not the caller's", async () => {
    // The admin may read anything; bob alone may not read team-a ...
    const asBob = await listConfigMaps(admin, 'team-a', { 'Impersonate-User': 'bob' });
    expect(asBob.status).toBe(403);
    expect((asBob.json as { message: string }).message).toBe(
      'configmaps is forbidden: User "bob" cannot list resource "configmaps" in API group "" in the namespace "team-a"',
    );
    // ... but bob in group team-a-viewers may, through the viewers RoleBinding.
    const asViewer = await listConfigMaps(admin, 'team-a', {
      'Impersonate-User': 'bob',
      'Impersonate-Group': 'team-a-viewers',
    });
    expect(asViewer.status).toBe(200);
    expect(
      (asViewer.json as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name),
    ).toEqual(['settings']);
    // The admin's access policy belongs to its IAM principal: it does not follow the impersonation.
    expect(
      (
        await listConfigMaps(admin, 'team-b', {
          'Impersonate-User': 'bob',
          'Impersonate-Group': 'team-a-viewers',
        })
      ).status,
    ).toBe(403);
  });

  it('reports the impersonated identity in SelfSubjectReview, system:authenticated added', async () => {
    const review = await whoami(admin, {
      'Impersonate-User': 'bob',
      'Impersonate-Group': ['devs', 'ops'],
      'Impersonate-Uid': 'uid-1234',
      'Impersonate-Extra-Scopes': ['read', 'write'],
    });
    expect(review).toEqual({
      status: 201,
      userInfo: {
        username: 'bob',
        uid: 'uid-1234',
        groups: ['devs', 'ops', 'system:authenticated'],
        extra: { scopes: ['read', 'write'] },
      },
    });
  });

  it('authorizes each user, group, uid and extra by name, refusing the first not allowed', async () => {
    expect(
      (
        await listConfigMaps(dana, 'team-a', {
          'Impersonate-User': 'bob',
          'Impersonate-Group': 'team-a-viewers',
        })
      ).status,
    ).toBe(200);
    const cases: [Record<string, string>, string][] = [
      [
        { 'Impersonate-User': 'carol' },
        'users "carol" is forbidden: User "dev:dana" cannot impersonate resource "users" in API group "" at the cluster scope',
      ],
      [
        { 'Impersonate-User': 'bob', 'Impersonate-Group': 'system:masters' },
        'groups "system:masters" is forbidden: User "dev:dana" cannot impersonate resource "groups" in API group "" at the cluster scope',
      ],
      [
        { 'Impersonate-User': 'bob', 'Impersonate-Uid': 'u1' },
        'uids.authentication.k8s.io "u1" is forbidden: User "dev:dana" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope',
      ],
      [
        { 'Impersonate-User': 'bob', 'Impersonate-Extra-Scopes': 'admin' },
        'userextras.authentication.k8s.io "admin" is forbidden: User "dev:dana" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope',
      ],
    ];
    for (const [headers, message] of cases) {
      const res = await listConfigMaps(dana, 'team-a', headers);
      expect({ status: res.status, message: (res.json as { message: string }).message }).toEqual({
        status: 403,
        message,
      });
    }
  });

  it('impersonates a service account as serviceaccounts in its namespace, with its groups', async () => {
    const review = await whoami(admin, { 'Impersonate-User': 'system:serviceaccount:team-a:web' });
    expect(review.userInfo).toMatchObject({
      username: 'system:serviceaccount:team-a:web',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    });
    const refused = await whoami(alice, { 'Impersonate-User': 'system:serviceaccount:team-a:web' });
    expect(refused.status).toBe(403);
    const res = await listConfigMaps(alice, 'team-a', {
      'Impersonate-User': 'system:serviceaccount:team-a:web',
    });
    expect((res.json as { message: string }).message).toBe(
      'serviceaccounts "web" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team-a"',
    );
  });

  it('answers 400 to groups, uid or extras without a user to impersonate', async () => {
    const cases: Record<string, string>[] = [
      { 'Impersonate-Group': 'devs' },
      { 'Impersonate-Uid': 'u1' },
      { 'Impersonate-Extra-Scopes': 'read' },
    ];
    for (const headers of cases) {
      const res = await listConfigMaps(admin, 'team-a', headers);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ reason: 'BadRequest', code: 400 });
      expect((res.json as { message: string }).message).toMatch(
        /^requested \[.*\] without impersonating a user$/,
      );
    }
  });

  it('applies to discovery too: a refused impersonation fails kubectl before any object request', async () => {
    const res = await rawRequest(endpoint, {
      path: '/api',
      token: alice,
      headers: { 'Impersonate-User': 'bob' },
    });
    expect(res.status).toBe(403);
  });
});
