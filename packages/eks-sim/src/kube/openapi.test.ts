// The OpenAPI documents as kubectl reads them: the v3 index and its per-group documents (schemas
// found by group-version-kind, PATCH operations that declare fieldValidation), and v2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../world/types.js';
import { objectVerbsFor } from './discovery.js';
import { readFields } from './protobuf.js';
import { MESSAGES, RESOURCE_MESSAGES } from './schema.js';
import { KUBE_RESOURCES, type KubeResource } from './store.js';
import { rawRequest, startKubeEndpoint, tokenFor, type KubeEndpoint } from './test-helpers.js';
import { buildTestWorld } from './test-world.js';

type Doc = Record<string, unknown>;

let cluster: Cluster;
let endpoint: KubeEndpoint;
let token: string;

beforeAll(async () => {
  const t = buildTestWorld();
  cluster = t.clusters.api;
  endpoint = await startKubeEndpoint({ world: t.world, cluster });
  // alice holds no grant beyond her team-a viewer binding: the documents are public to the authenticated.
  token = await tokenFor(t.credentials.alice, cluster);
});

afterAll(async () => {
  await endpoint.close();
});

async function get(path: string, accept = 'application/json') {
  return rawRequest(endpoint, { path, token, headers: { Accept: accept } });
}

/** Every `$ref` in a document, with the path it was found at. */
function refs(node: unknown, at = '#'): [string, string][] {
  if (Array.isArray(node)) return node.flatMap((n, i) => refs(n, `${at}/${i}`));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [[at, v] as [string, string]] : refs(v, `${at}/${k}`),
  );
}

function resolve(doc: Doc, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
}

async function v3(groupVersion: string): Promise<Doc> {
  const index = (await get('/openapi/v3')).json as { paths: Record<string, { serverRelativeURL: string }> };
  const url = index.paths[groupVersion]?.serverRelativeURL;
  expect(url, `${groupVersion} is in the v3 index`).toMatch(
    new RegExp(`^/openapi/v3/${groupVersion}\\?hash=[0-9A-F]+$`),
  );
  const res = await get(url!);
  expect(res.status).toBe(200);
  return res.json as Doc;
}

function schemaForKind(doc: Doc, kind: string): Doc | undefined {
  const schemas = (doc.components as { schemas: Record<string, Doc> }).schemas;
  return Object.values(schemas).find((s) =>
    (s['x-kubernetes-group-version-kind'] as { kind: string }[] | undefined)?.some((g) => g.kind === kind),
  );
}

describe('OpenAPI v3', () => {
  it('indexes a document per served group-version', async () => {
    const index = (await get('/openapi/v3')).json as { paths: Doc };
    expect(Object.keys(index.paths).sort()).toEqual([
      'api/v1',
      'apis/authentication.k8s.io/v1',
      'apis/authorization.k8s.io/v1',
      'apis/rbac.authorization.k8s.io/v1',
    ]);
    expect((await get('/openapi/v3/apis/apps/v1')).status).toBe(404);
  });

  it('describes every served kind with its fields, and every reference resolves', async () => {
    for (const groupVersion of ['api/v1', 'apis/rbac.authorization.k8s.io/v1']) {
      const doc = await v3(groupVersion);
      for (const [at, ref] of refs(doc)) expect(resolve(doc, ref), `${ref} at ${at}`).toBeDefined();
      const group = groupVersion === 'api/v1' ? '' : 'rbac.authorization.k8s.io';
      for (const resource of (Object.keys(KUBE_RESOURCES) as KubeResource[]).filter(
        (r) => KUBE_RESOURCES[r].group === group,
      )) {
        const spec = MESSAGES[RESOURCE_MESSAGES[resource]]!;
        const schema = schemaForKind(doc, KUBE_RESOURCES[resource].kind);
        expect(schema, resource).toBeDefined();
        expect(Object.keys(schema!.properties as Doc).sort()).toEqual(spec.fields.map((f) => f.name).sort());
      }
    }
    const rbac = await v3('apis/rbac.authorization.k8s.io/v1');
    const binding = schemaForKind(rbac, 'RoleBinding')!;
    expect(binding.required).toEqual(['roleRef']);
    const subjects = (binding.properties as Record<string, Doc>).subjects!;
    expect(subjects).toMatchObject({
      type: 'array',
      items: { allOf: [{ $ref: '#/components/schemas/io.k8s.api.rbac.v1.Subject' }] },
    });
  });

  it('declares fieldValidation on the PATCH of each kind, which tells kubectl the server validates fields', async () => {
    const rbac = await v3('apis/rbac.authorization.k8s.io/v1');
    const path = (rbac.paths as Record<string, Doc>)[
      '/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/{name}'
    ]!;
    const patch = path.patch as Doc;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind: 'RoleBinding',
    });
    expect((patch.parameters as { name: string; in: string }[]).map((p) => `${p.in}:${p.name}`)).toContain(
      'query:fieldValidation',
    );
    expect(Object.keys((patch.requestBody as { content: Doc }).content)).toContain(
      'application/apply-patch+yaml',
    );
  });

  it('offers deletecollection on the collections that have it, as discovery does', async () => {
    const core = await v3('api/v1');
    const paths = core.paths as Record<string, Doc>;
    expect(paths['/api/v1/namespaces/{namespace}/configmaps']!.delete).toMatchObject({
      'x-kubernetes-action': 'deletecollection',
    });
    expect(paths['/api/v1/namespaces']!.delete).toBeUndefined();
    expect(objectVerbsFor('namespaces')).not.toContain('deletecollection');
  });
});

describe('OpenAPI v2', () => {
  it('serves one Swagger 2.0 JSON document whose references resolve', async () => {
    const res = await get('/openapi/v2');
    expect(res.status).toBe(200);
    const doc = res.json as Doc;
    expect(doc.swagger).toBe('2.0');
    for (const [at, ref] of refs(doc)) expect(resolve(doc, ref), `${ref} at ${at}`).toBeDefined();
    expect((doc.definitions as Record<string, Doc>)['io.k8s.api.rbac.v1.RoleBinding']).toMatchObject({
      'x-kubernetes-group-version-kind': [
        { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' },
      ],
    });
  });

  it('serves the protobuf encoding kubectl asks for, with the same definitions', async () => {
    const res = await rawRequest(endpoint, {
      path: '/openapi/v2',
      token,
      headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const top = [...readFields(res.raw)];
    expect(top.find((f) => f.number === 1)?.bytes?.toString()).toBe('2.0');
    // definitions (9) → NamedSchema (1) {name (1), Schema (2)}; vendor extensions are Schema field 31.
    const definitions = top.find((f) => f.number === 9)!.bytes!;
    const named = new Map<string, Buffer>();
    for (const entry of readFields(definitions)) {
      const fields = [...readFields(entry.bytes!)];
      named.set(
        fields.find((f) => f.number === 1)!.bytes!.toString(),
        fields.find((f) => f.number === 2)!.bytes!,
      );
    }
    const json = (await get('/openapi/v2')).json as { definitions: Doc };
    expect([...named.keys()].sort()).toEqual(Object.keys(json.definitions).sort());
    const extensions = [...readFields(named.get('io.k8s.api.rbac.v1.RoleBinding')!)]
      .filter((f) => f.number === 31)
      .map((f) => [...readFields(f.bytes!)]);
    const gvk = extensions.find(
      (e) => e.find((f) => f.number === 1)?.bytes?.toString() === 'x-kubernetes-group-version-kind',
    )!;
    const yaml = [...readFields(gvk.find((f) => f.number === 2)!.bytes!)]
      .find((f) => f.number === 2)!
      .bytes!.toString();
    expect(JSON.parse(yaml)).toEqual([
      { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding' },
    ]);
  });

  it('answers 406 to a client that accepts neither encoding', async () => {
    const res = await get('/openapi/v2', 'application/xml');
    expect(res.status).toBe(406);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'NotAcceptable', code: 406 });
  });
});
