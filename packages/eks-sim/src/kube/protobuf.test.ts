// Protobuf request bodies: bytes captured from kubectl 1.32.5 (`-v=8` prints them) decode to the
// JSON objects kubectl means, and the endpoint accepts them where it used to answer 415.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../world/types.js';
import { decodeMessage, decodeProtobufBody, ProtobufError, PROTOBUF_MEDIA_TYPE } from './protobuf.js';
import { message, messageForKind } from './schema.js';
import { rawRequest, startKubeEndpoint, tokenFor, type KubeEndpoint } from './test-helpers.js';
import { buildTestWorld, type TestWorld } from './test-world.js';

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** `kubectl create rolebinding x --clusterrole=view --user=bob -n default`. */
const ROLE_BINDING = hex(`
  6b 38 73 00 0a 2b 0a 1c 72 62 61 63 2e 61 75 74 68 6f 72 69 7a 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f
  76 31 12 0b 52 6f 6c 65 42 69 6e 64 69 6e 67 12 74 0a 18 0a 01 78 12 00 1a 07 64 65 66 61 75 6c 74 22
  00 2a 00 32 00 38 00 42 00 12 28 0a 04 55 73 65 72 12 19 72 62 61 63 2e 61 75 74 68 6f 72 69 7a 61 74
  69 6f 6e 2e 6b 38 73 2e 69 6f 1a 03 62 6f 62 22 00 1a 2e 0a 19 72 62 61 63 2e 61 75 74 68 6f 72 69 7a
  61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 12 0b 43 6c 75 73 74 65 72 52 6f 6c 65 1a 04 76 69 65 77 1a 00 22 00`);

/** `kubectl create role r2 --verb=get --resource=configmaps --resource-name=x -n team-a`. */
const ROLE = hex(`
  6b 38 73 00 0a 24 0a 1c 72 62 61 63 2e 61 75 74 68 6f 72 69 7a 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f
  76 31 12 04 52 6f 6c 65 12 32 0a 18 0a 02 72 32 12 00 1a 06 74 65 61 6d 2d 61 22 00 2a 00 32 00 38 00
  42 00 12 16 0a 03 67 65 74 12 00 1a 0a 63 6f 6e 66 69 67 6d 61 70 73 22 01 78 1a 00 22 00`);

/** `kubectl create clusterrole cr3 --aggregation-rule=x=y`. */
const CLUSTER_ROLE = hex(`
  6b 38 73 00 0a 2b 0a 1c 72 62 61 63 2e 61 75 74 68 6f 72 69 7a 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f
  76 31 12 0b 43 6c 75 73 74 65 72 52 6f 6c 65 12 21 0a 13 0a 03 63 72 33 12 00 1a 00 22 00 2a 00 32 00
  38 00 42 00 1a 0a 0a 08 0a 06 0a 01 78 12 01 79 1a 00 22 00`);

/** `kubectl create configmap c9 -n team-a --from-literal=a=b`. */
const CONFIG_MAP = hex(`
  6b 38 73 00 0a 0f 0a 02 76 31 12 09 43 6f 6e 66 69 67 4d 61 70 12 22 0a 18 0a 02 63 39 12 00 1a 06 74
  65 61 6d 2d 61 22 00 2a 00 32 00 38 00 42 00 12 06 0a 01 61 12 01 62 1a 00 22 00`);

/** `kubectl create namespace foo3`. */
const NAMESPACE = hex(`
  6b 38 73 00 0a 0f 0a 02 76 31 12 09 4e 61 6d 65 73 70 61 63 65 12 1c 0a 14 0a 04 66 6f 6f 33 12 00 1a
  00 22 00 2a 00 32 00 38 00 42 00 12 00 1a 02 0a 00 1a 00 22 00`);

/** `kubectl auth whoami`. */
const SELF_SUBJECT_REVIEW = hex(`
  6b 38 73 00 0a 2d 0a 18 61 75 74 68 65 6e 74 69 63 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f 76 31 12 11
  53 65 6c 66 53 75 62 6a 65 63 74 52 65 76 69 65 77 12 1a 0a 10 0a 00 12 00 1a 00 22 00 2a 00 32 00 38
  00 42 00 12 06 0a 04 0a 00 12 00 1a 00 22 00`);

describe('decodeProtobufBody', () => {
  it('decodes what kubectl sends into the JSON object it means, empty optional fields left out', () => {
    expect(decodeProtobufBody(ROLE_BINDING, messageForKind)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'x', namespace: 'default' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    });
    // The core group is an empty string inside a list, and is kept there.
    expect(decodeProtobufBody(ROLE, messageForKind)).toMatchObject({
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['x'] }],
    });
    expect(decodeProtobufBody(CLUSTER_ROLE, messageForKind)).toMatchObject({
      metadata: { name: 'cr3' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] },
    });
    expect(decodeProtobufBody(CONFIG_MAP, messageForKind)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c9', namespace: 'team-a' },
      data: { a: 'b' },
    });
  });

  it('reads times, integers, booleans, bytes and skips fields it does not know', () => {
    const varint = (v: number): Buffer => {
      const out: number[] = [];
      for (; v >= 0x80; v = Math.floor(v / 0x80)) out.push((v % 0x80) | 0x80);
      out.push(v);
      return Buffer.from(out);
    };
    const bytes = (n: number, payload: Buffer) =>
      Buffer.concat([varint((n << 3) | 2), varint(payload.length), payload]);
    const number = (n: number, v: number) => Buffer.concat([varint(n << 3), varint(v)]);
    const meta = Buffer.concat([
      bytes(1, Buffer.from('cm')),
      number(7, 3),
      bytes(8, number(1, Date.UTC(2026, 0, 1) / 1000)),
      bytes(99, Buffer.from('a field this schema does not know')),
      bytes(11, Buffer.concat([bytes(1, Buffer.from('app')), bytes(2, Buffer.from('web'))])),
    ]);
    const cm = Buffer.concat([
      bytes(1, meta),
      bytes(3, Buffer.concat([bytes(1, Buffer.from('bin')), bytes(2, Buffer.from([0, 1, 2]))])),
      number(4, 0),
    ]);
    expect(decodeMessage(cm, message('ConfigMap'))).toEqual({
      metadata: {
        name: 'cm',
        generation: 3,
        creationTimestamp: '2026-01-01T00:00:00Z',
        labels: { app: 'web' },
      },
      binaryData: { bin: 'AAEC' },
      immutable: false,
    });
  });

  it('refuses bodies that are not a Kubernetes protobuf envelope or name an unknown kind', () => {
    expect(() => decodeProtobufBody(Buffer.from('{"kind":"RoleBinding"}'), messageForKind)).toThrow(
      ProtobufError,
    );
    const unknownKind = Buffer.concat([
      ROLE_BINDING.subarray(0, 4),
      Buffer.from([0x0a, 0x0b, 0x0a, 0x02]),
      Buffer.from('v1'),
      Buffer.from([0x12, 0x05]),
      Buffer.from('Thing'),
    ]);
    expect(() => decodeProtobufBody(unknownKind, messageForKind)).toThrow(/no kind "Thing"/);
    expect(() => decodeProtobufBody(ROLE_BINDING.subarray(0, 30), messageForKind)).toThrow(ProtobufError);
  });
});

describe('protobuf request bodies over HTTPS', () => {
  let t: TestWorld;
  let cluster: Cluster;
  let endpoint: KubeEndpoint;
  let token: string;

  beforeAll(async () => {
    t = buildTestWorld();
    cluster = t.clusters.api;
    endpoint = await startKubeEndpoint({ world: t.world, cluster });
    token = await tokenFor(t.credentials.admin, cluster);
  });

  afterAll(async () => {
    await endpoint.close();
  });

  const post = (path: string, body: Buffer) =>
    rawRequest(endpoint, {
      method: 'POST',
      path: `${path}?fieldManager=kubectl-create&fieldValidation=Strict`,
      token,
      headers: { 'Content-Type': PROTOBUF_MEDIA_TYPE, Accept: `${PROTOBUF_MEDIA_TYPE},application/json` },
      body,
    });

  it('creates the objects typed kubectl commands send, answering JSON', async () => {
    const rb = await post('/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', ROLE_BINDING);
    expect(rb.status).toBe(201);
    expect(rb.headers['content-type']).toBe('application/json');
    expect(cluster.kube.get('rolebindings', 'default', 'x')).toMatchObject({
      subjects: [{ kind: 'User', name: 'bob' }],
      roleRef: { kind: 'ClusterRole', name: 'view' },
    });
    expect((await post('/api/v1/namespaces', NAMESPACE)).status).toBe(201);
    expect(cluster.kube.get('namespaces', undefined, 'foo3')).toMatchObject({ status: { phase: 'Active' } });
    expect((await post('/api/v1/namespaces/team-a/configmaps', CONFIG_MAP)).status).toBe(201);
    expect(cluster.kube.get('configmaps', 'team-a', 'c9')?.data).toEqual({ a: 'b' });
  });

  it('answers a protobuf SelfSubjectReview (kubectl auth whoami)', async () => {
    const res = await post('/apis/authentication.k8s.io/v1/selfsubjectreviews', SELF_SUBJECT_REVIEW);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      kind: 'SelfSubjectReview',
      status: { userInfo: { username: 'arn:aws:sts::111122223333:assumed-role/Admin/alice-example.com' } },
    });
  });

  it('answers 400 to a protobuf body that does not decode, and 415 to a media type it does not read', async () => {
    const bad = await post('/api/v1/namespaces', Buffer.from('k8s\0\x0a\xff'));
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ reason: 'BadRequest' });
    const cbor = await rawRequest(endpoint, {
      method: 'POST',
      path: '/api/v1/namespaces',
      token,
      headers: { 'Content-Type': 'application/cbor' },
      body: Buffer.from([0xa0]),
    });
    expect(cbor.status).toBe(415);
  });
});
