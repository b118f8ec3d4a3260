// Writes as kubectl sends them over HTTPS: field validation (Strict/Warn/Ignore), collection
// deletes with selectors, and server-side apply (create, update, dry run).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../world/types.js';
import { addNamespaces, rawRequest, startKubeEndpoint, tokenFor, type KubeEndpoint } from './test-helpers.js';
import { buildTestWorld, type TestWorld } from './test-world.js';

let t: TestWorld;
let cluster: Cluster;
let endpoint: KubeEndpoint;
let admin: string;

const RB_PATH = '/apis/rbac.authorization.k8s.io/v1/namespaces';

beforeAll(async () => {
  t = buildTestWorld();
  cluster = t.clusters.api;
  endpoint = await startKubeEndpoint({ world: t.world, cluster });
  admin = await tokenFor(t.credentials.admin, cluster);
});

afterAll(async () => {
  await endpoint.close();
});

function binding(name: string, namespace: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'carol' }],
    ...extra,
  };
}

function send(method: string, path: string, body: unknown, contentType = 'application/json', token = admin) {
  return rawRequest(endpoint, {
    method,
    path,
    token,
    headers: { 'Content-Type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function message(res: { json: unknown }): string {
  return (res.json as { message: string }).message;
}

describe('fieldValidation', () => {
  const withUnknown = (name: string) => ({
    ...binding(name, 'team-b'),
    spec: { foo: 1 },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'carol', bar: true }],
  });

  it('Strict refuses unknown fields with a 400 naming each one, storing nothing', async () => {
    const res = await send(
      'POST',
      `${RB_PATH}/team-b/rolebindings?fieldValidation=Strict`,
      withUnknown('strict'),
    );
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(message(res)).toBe(
      'RoleBinding in version "v1" cannot be handled as a RoleBinding: strict decoding error: unknown field "subjects[0].bar", unknown field "spec"',
    );
    expect(cluster.kube.get('rolebindings', 'team-b', 'strict')).toBeUndefined();
  });

  it('Warn (also the default) stores the object without them and says so in Warning headers', async () => {
    for (const [name, query] of [
      ['warned', '?fieldValidation=Warn'],
      ['defaulted', ''],
    ] as const) {
      const res = await send('POST', `${RB_PATH}/team-b/rolebindings${query}`, withUnknown(name));
      expect(res.status).toBe(201);
      expect(res.headers.warning).toBe(
        '299 - "unknown field \\"subjects[0].bar\\"", 299 - "unknown field \\"spec\\""',
      );
      const stored = cluster.kube.get('rolebindings', 'team-b', name)!;
      expect(stored.spec).toBeUndefined();
      expect(stored.subjects).toEqual([
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'carol' },
      ]);
    }
  });

  it('escapes unknown field names a header cannot carry', async () => {
    const res = await send('POST', `${RB_PATH}/team-b/rolebindings`, {
      ...binding('accented', 'team-b'),
      'price€': 1,
    });
    expect(res.status).toBe(201);
    expect(res.headers.warning).toBe('299 - "unknown field \\"price\\u20ac\\""');
  });

  it('Ignore drops them silently', async () => {
    const res = await send(
      'POST',
      `${RB_PATH}/team-b/rolebindings?fieldValidation=Ignore`,
      withUnknown('ignored'),
    );
    expect(res.status).toBe(201);
    expect(res.headers.warning).toBeUndefined();
    expect(cluster.kube.get('rolebindings', 'team-b', 'ignored')!.spec).toBeUndefined();
  });

  it('applies to updates and patches too, and refuses a directive it does not know', async () => {
    const put = await send('PUT', `${RB_PATH}/team-b/rolebindings/warned?fieldValidation=Strict`, {
      ...binding('warned', 'team-b'),
      extra: 1,
    });
    expect(put.status).toBe(400);
    expect(message(put)).toMatch(/strict decoding error: unknown field "extra"$/);
    const patch = await send(
      'PATCH',
      `${RB_PATH}/team-b/rolebindings/warned?fieldValidation=Warn`,
      { metadata: { labels: { a: 'b' }, colour: 'red' } },
      'application/merge-patch+json',
    );
    expect(patch.status).toBe(200);
    expect(patch.headers.warning).toBe('299 - "unknown field \\"metadata.colour\\""');
    expect(cluster.kube.get('rolebindings', 'team-b', 'warned')!.metadata).not.toHaveProperty('colour');
    // Strategic-merge directives are instructions, not unknown fields.
    const strategic = await send(
      'PATCH',
      `${RB_PATH}/team-b/rolebindings/warned?fieldValidation=Strict`,
      { $setElementOrder: [], metadata: { labels: { c: 'd' }, $retainKeys: ['labels'] } },
      'application/strategic-merge-patch+json',
    );
    expect(strategic.status).toBe(200);
    expect(cluster.kube.get('rolebindings', 'team-b', 'warned')!.metadata.labels).toEqual({ a: 'b', c: 'd' });
    const bad = await send(
      'POST',
      `${RB_PATH}/team-b/rolebindings?fieldValidation=Loose`,
      binding('loose', 'team-b'),
    );
    expect(bad.status).toBe(400);
  });
});

describe('deletecollection', () => {
  const NS = 'collect';

  beforeAll(() => {
    addNamespaces(cluster, NS);
    for (const [name, app] of [
      ['a1', 'alpha'],
      ['a2', 'alpha'],
      ['b1', 'beta'],
    ]) {
      cluster.kube.create('rolebindings', {
        ...binding(name!, NS),
        metadata: { name: name!, namespace: NS, labels: { app: app! } },
      });
    }
  });

  it('deletes what the selectors match and answers the list of deleted objects', async () => {
    const dry = await send(
      'DELETE',
      `${RB_PATH}/${NS}/rolebindings?labelSelector=app%3Dalpha&dryRun=All`,
      undefined,
    );
    expect(dry.status).toBe(200);
    expect(cluster.kube.list('rolebindings', { namespace: NS }).items).toHaveLength(3);
    const res = await send('DELETE', `${RB_PATH}/${NS}/rolebindings?labelSelector=app%3Dalpha`, undefined);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ kind: 'RoleBindingList', apiVersion: 'rbac.authorization.k8s.io/v1' });
    expect(
      (res.json as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name),
    ).toEqual(['a1', 'a2']);
    expect(cluster.kube.list('rolebindings', { namespace: NS }).items.map((o) => o.metadata.name)).toEqual([
      'b1',
    ]);
    const byField = await send(
      'DELETE',
      `${RB_PATH}/${NS}/rolebindings?fieldSelector=metadata.name%3Db1`,
      undefined,
    );
    expect(byField.status).toBe(200);
    expect(cluster.kube.list('rolebindings', { namespace: NS }).items).toEqual([]);
  });

  it('needs the deletecollection verb: delete alone is not enough', async () => {
    cluster.kube.create('clusterroles', {
      metadata: { name: 'binding-deleter' },
      rules: [
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['delete', 'list'] },
      ],
    });
    cluster.kube.create('rolebindings', {
      ...binding('alice-deletes', 'team-a'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'binding-deleter' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    });
    const alice = await tokenFor(t.credentials.alice, cluster);
    const res = await send('DELETE', `${RB_PATH}/team-a/rolebindings`, undefined, 'application/json', alice);
    expect(res.status).toBe(403);
    expect(message(res)).toBe(
      'rolebindings.rbac.authorization.k8s.io is forbidden: User "alice" cannot deletecollection resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "team-a"',
    );
    expect(cluster.kube.get('rolebindings', 'team-a', 'viewers')).toBeDefined();
  });

  it('is not served on namespaces, nor across all namespaces', async () => {
    expect((await send('DELETE', '/api/v1/namespaces', undefined)).status).toBe(405);
    expect((await send('DELETE', '/apis/rbac.authorization.k8s.io/v1/rolebindings', undefined)).status).toBe(
      405,
    );
  });
});

describe('server-side apply', () => {
  const path = `${RB_PATH}/team-b/rolebindings/applied?fieldManager=kubectl&fieldValidation=Strict&force=false`;
  const config = (user: string, labels: Record<string, string>) =>
    JSON.stringify({
      ...binding('applied', 'team-b'),
      metadata: { name: 'applied', namespace: 'team-b', labels },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
    });

  const APPLY = 'application/apply-patch+yaml';
  const as = (manager: string, force = false) =>
    `${RB_PATH}/team-b/rolebindings/applied?fieldManager=${manager}&fieldValidation=Strict&force=${force}`;
  const labelsNow = () => cluster.kube.get('rolebindings', 'team-b', 'applied')!.metadata.labels;

  it('creates the object (201), then applies later configurations to it (200)', async () => {
    const dry = await send('PATCH', `${path}&dryRun=All`, config('carol', { a: '1' }), APPLY);
    expect(dry.status).toBe(201);
    expect(cluster.kube.get('rolebindings', 'team-b', 'applied')).toBeUndefined();
    const created = await send('PATCH', path, config('carol', { a: '1' }), APPLY);
    expect(created.status).toBe(201);
    expect((created.json as { metadata: { managedFields: unknown } }).metadata.managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        time: expect.stringMatching(/Z$/),
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:a': {} } },
          'f:roleRef': { 'f:apiGroup': {}, 'f:kind': {}, 'f:name': {} },
          'f:subjects': {},
        },
      },
    ]);
    // A label someone else adds with a plain patch is not the applier's to remove.
    await send(
      'PATCH',
      `${RB_PATH}/team-b/rolebindings/applied`,
      { metadata: { labels: { x: 'kept' } } },
      'application/merge-patch+json',
    );
    const updated = await send('PATCH', path, config('dave', { b: '2' }), APPLY);
    expect(updated.status).toBe(200);
    const stored = cluster.kube.get('rolebindings', 'team-b', 'applied')!;
    // Lists are atomic (replaced whole); the label the manager stopped applying is gone.
    expect(stored.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dave' }]);
    expect(stored.metadata.labels).toEqual({ b: '2', x: 'kept' });
    // YAML, as the media type says.
    const yaml = [
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleBinding',
      'metadata: {name: applied, namespace: team-b, labels: {b: "2", c: "3"}}',
      'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}',
      'subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: dave}]',
    ].join('\n');
    expect((await send('PATCH', path, yaml, APPLY)).status).toBe(200);
    expect(labelsNow()).toEqual({ b: '2', c: '3', x: 'kept' });
  });

  it('refuses to change a field another applier owns unless forced, and keeps fields both own', async () => {
    // "ci" applies label b with the same value as kubectl: shared, no conflict.
    const shared = await send('PATCH', as('ci'), config('dave', { b: '2' }), APPLY);
    expect(shared.status, shared.text).toBe(200);
    // kubectl dropping b now keeps it: ci still owns it.
    const yaml = (labels: string) =>
      [
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: RoleBinding',
        `metadata: {name: applied, namespace: team-b, labels: {${labels}}}`,
        'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}',
        'subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: dave}]',
      ].join('\n');
    expect((await send('PATCH', as('kubectl'), yaml('c: "3"'), APPLY)).status).toBe(200);
    expect(labelsNow()).toEqual({ b: '2', c: '3', x: 'kept' });
    // ci changing the subjects kubectl applied is a conflict ...
    const conflict = await send('PATCH', as('ci'), config('erin', { b: '2' }), APPLY);
    expect(conflict.status).toBe(409);
    expect(conflict.json).toMatchObject({
      reason: 'Conflict',
      message:
        'Apply failed with 1 conflict: conflict with "kubectl" using rbac.authorization.k8s.io/v1: .subjects',
      details: { causes: [{ reason: 'FieldManagerConflict', field: '.subjects' }] },
    });
    // ... which force takes over: kubectl no longer owns the subjects.
    expect((await send('PATCH', as('ci', true), config('erin', { b: '2' }), APPLY)).status).toBe(200);
    const stored = cluster.kube.get('rolebindings', 'team-b', 'applied')!;
    expect(stored.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'erin' }]);
    const owners = (
      stored.metadata.managedFields as { manager: string; fieldsV1: Record<string, unknown> }[]
    ).map((e) => [e.manager, 'f:subjects' in e.fieldsV1]);
    expect(owners).toEqual([
      ['kubectl', false],
      ['ci', true],
    ]);
  });

  it('requires a field manager and a configuration of the right kind', async () => {
    const noManager = await send(
      'PATCH',
      `${RB_PATH}/team-b/rolebindings/applied`,
      config('erin', {}),
      APPLY,
    );
    expect(noManager.status).toBe(422);
    expect(message(noManager)).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const wrongKind = await send(
      'PATCH',
      path,
      JSON.stringify({ ...binding('applied', 'team-b'), kind: 'Role' }),
      APPLY,
    );
    expect(wrongKind.status).toBe(400);
  });
});
