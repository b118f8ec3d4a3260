import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import zstdSimple from 'zstd-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKsuid } from './ksuid.js';
import type {
  C1Entitlement,
  C1Grant,
  C1GrantAnnotation,
  C1Resource,
  C1ResourceAnnotation,
  C1ResourceType,
} from './model.js';
import { openC1z, readC1z, type C1zContents } from './read.js';
import { walkZstdFrame, ZSTD_MAGIC } from './zstd-frame.js';
import { writeC1z, type WriteC1zResult } from './write.js';

// Objects in the shape of eks-core's model (extra fields such as grant sources included), written
// here by hand because this package must not depend on eks-core.
interface CoreResource extends C1Resource {
  profile: Record<string, unknown>;
  annotations: C1ResourceAnnotation[];
}
interface CoreGrant extends C1Grant {
  annotations: C1GrantAnnotation[];
  sources?: { kind: string; principalArn?: string }[];
}

const ROLE_ARN = 'arn:aws:iam::111122223333:role/platform/Admin';
const USER_ARN = 'arn:aws:iam::111122223333:user/alice';
const POLICY_ARN = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';

const resourceTypes: C1ResourceType[] = [
  { id: 'access_policy', displayName: 'Access Policy', traits: ['ROLE'], description: 'EKS Access Policy' },
  { id: 'role', displayName: 'IAM Role', traits: ['ROLE'], description: 'AWS IAM Role' },
  {
    id: 'cluster_role',
    displayName: 'Cluster Role',
    traits: ['ROLE'],
    description: 'Kubernetes ClusterRole',
  },
  { id: 'namespace', displayName: 'Namespace', traits: [], description: 'Kubernetes Namespace' },
  {
    id: 'service_account',
    displayName: 'Service Account',
    traits: ['USER'],
    description: 'Kubernetes Service Account',
  },
  { id: 'iam_user', displayName: 'IAM User', traits: ['USER'], description: 'AWS IAM User' },
  { id: 'configmap', displayName: 'Config Map', traits: [], description: 'Kubernetes ConfigMap' },
  { id: 'k8s_group', displayName: 'Kubernetes Group', traits: ['GROUP'], description: 'Kubernetes group' },
];

const resources: CoreResource[] = [
  {
    type: 'access_policy',
    id: POLICY_ARN,
    displayName: 'AmazonEKSViewPolicy',
    profile: { display_name: 'AmazonEKSViewPolicy', policy_arn: POLICY_ARN, description: 'read-only' },
    annotations: [],
  },
  {
    type: 'role',
    id: ROLE_ARN,
    displayName: 'Admin',
    profile: {
      role_name: 'Admin',
      arn: ROLE_ARN,
      path: '/platform/',
      max_session: 3600,
      tags: ['a', 'b'],
      z: null,
      '10': 'ten',
      '9': 'nine',
    },
    annotations: [],
  },
  {
    type: 'cluster_role',
    id: 'system:masters-ish',
    displayName: 'system:masters-ish',
    profile: { labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, aggregation: false },
    annotations: [],
  },
  {
    type: 'namespace',
    id: 'default',
    displayName: 'default',
    profile: {},
    annotations: [
      { type: 'ChildResourceType', resourceTypeId: 'service_account' },
      {
        type: 'ExternalId',
        id: '9f1c2d7e-uid',
        link: 'https://k8s.example/ns/default',
        description: 'namespace UID',
      },
    ],
  },
  {
    type: 'service_account',
    id: 'default/builder',
    displayName: 'builder',
    parent: { type: 'namespace', id: 'default' },
    profile: { namespace: 'default', name: 'builder' },
    annotations: [{ type: 'ExternalId', id: 'sa-uid-1' }],
  },
  {
    type: 'configmap',
    id: 'kube-system/aws-auth',
    displayName: 'aws-auth',
    parent: { type: 'namespace', id: 'kube-system' },
    profile: { ignored: 'configmaps have no trait, so no profile' },
    annotations: [{ type: 'SkipEntitlementsAndGrants' }],
  },
  { type: 'k8s_group', id: 'system:masters', displayName: 'system:masters', profile: {}, annotations: [] },
];

const entitlements: C1Entitlement[] = [
  {
    id: `access_policy:${POLICY_ARN}:assigned:cluster`,
    resource: { type: 'access_policy', id: POLICY_ARN },
    slug: 'assigned:cluster',
    displayName: 'AmazonEKSViewPolicy (cluster)',
    description: 'Associated with the cluster',
    purpose: 'assignment',
    grantableTo: ['iam_user', 'role'],
  },
  {
    id: `role:${ROLE_ARN}:assignment`,
    resource: { type: 'role', id: ROLE_ARN },
    slug: 'assignment',
    displayName: 'Admin assignment',
    description: 'Can assume the Admin role in AWS',
    purpose: 'assignment',
    grantableTo: ['iam_user', 'role'],
  },
  {
    id: 'configmap:kube-system/aws-auth:get',
    resource: { type: 'configmap', id: 'kube-system/aws-auth' },
    slug: 'get',
    displayName: 'get aws-auth',
    description: 'Can get the config map',
    purpose: 'permission',
    grantableTo: ['cluster_role', 'unknown_type'],
  },
];

const policyEntitlement = entitlements[0]!.id;
const roleEntitlement = entitlements[1]!.id;
const grants: CoreGrant[] = [
  {
    id: `${policyEntitlement}:iam_user:${USER_ARN}`,
    entitlementId: policyEntitlement,
    resource: { type: 'access_policy', id: POLICY_ARN },
    principal: { type: 'iam_user', id: USER_ARN },
    annotations: [{ type: 'ExternalResourceMatchID', id: USER_ARN }],
    sources: [{ kind: 'access-policy-association', principalArn: USER_ARN }],
  },
  {
    id: `${policyEntitlement}:role:${ROLE_ARN}`,
    entitlementId: policyEntitlement,
    resource: { type: 'access_policy', id: POLICY_ARN },
    principal: { type: 'role', id: ROLE_ARN },
    annotations: [{ type: 'GrantExpandable', entitlementIds: [roleEntitlement] }],
  },
  {
    id: `${roleEntitlement}:iam_user:${USER_ARN}`,
    entitlementId: roleEntitlement,
    resource: { type: 'role', id: ROLE_ARN },
    principal: { type: 'iam_user', id: USER_ARN },
    annotations: [
      { type: 'ExternalResourceMatchID', id: USER_ARN },
      { type: 'GrantImmutable', sourceId: 'trust-policy' },
    ],
  },
  {
    id: 'cluster_role:system:masters-ish:all:member:k8s_group:system:masters',
    entitlementId: 'cluster_role:system:masters-ish:all:member',
    resource: { type: 'cluster_role', id: 'system:masters-ish' },
    principal: { type: 'k8s_group', id: 'system:masters' },
    annotations: [
      {
        type: 'GrantExpandable',
        entitlementIds: ['k8s_group:system:masters:member'],
        shallow: true,
        resourceTypeIds: ['iam_user', 'role'],
      },
      { type: 'GrantImmutable' },
    ],
  },
  {
    id: 'cluster_role:system:masters-ish:all:member:service_account:default/builder',
    entitlementId: 'cluster_role:system:masters-ish:all:member',
    resource: { type: 'cluster_role', id: 'system:masters-ish' },
    principal: { type: 'service_account', id: 'default/builder' },
    annotations: [],
  },
  {
    // An expandable annotation that names no entitlement: baton-sdk drops it and stores no expansion.
    id: 'cluster_role:system:masters-ish:all:member:role:blank',
    entitlementId: 'cluster_role:system:masters-ish:all:member',
    resource: { type: 'cluster_role', id: 'system:masters-ish' },
    principal: { type: 'role', id: 'arn:aws:iam::111122223333:role/blank' },
    annotations: [{ type: 'GrantExpandable', entitlementIds: ['  '] }],
  },
];

async function* slowly<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

const syncId = newKsuid(new Date('2026-05-20T10:00:00Z'));
const startedAt = new Date('2026-05-20T10:00:00.123Z');
const endedAt = new Date('2026-05-20T10:00:05Z');

let dir: string;
let path: string;
let written: WriteC1zResult;
let contents: C1zContents;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'c1z-write-test-'));
  path = join(dir, 'sync.c1z');
  written = await writeC1z(
    path,
    {
      resourceTypes,
      resources: () => slowly(resources),
      entitlements: () => entitlements,
      grants: function* () {
        yield* grants;
      },
    },
    { syncId, startedAt, endedAt, batchSize: 2 },
  );
  contents = await readC1z(path);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRAITED = new Set(resourceTypes.filter((t) => t.traits.length > 0).map((t) => t.id));

/** What reading back gives for an input resource: profile only through a trait, ExternalId last. */
function expectedResource(resource: CoreResource): C1Resource {
  const expected: C1Resource = { type: resource.type, id: resource.id, displayName: resource.displayName };
  if (resource.parent) expected.parent = resource.parent;
  if (TRAITED.has(resource.type)) expected.profile = resource.profile;
  if (resource.type === 'service_account') expected.accountType = 'SERVICE';
  if (resource.type === 'iam_user') expected.accountType = 'HUMAN';
  expected.annotations = [
    ...resource.annotations.filter((a) => a.type !== 'ExternalId'),
    ...resource.annotations.filter((a) => a.type === 'ExternalId'),
  ];
  return expected;
}

/** What reading back gives for an input grant: GrantExpandable first (from the expansion column), blank ones dropped. */
function expectedGrant(grant: CoreGrant): C1Grant {
  const expandable = grant.annotations.filter(
    (a) => a.type === 'GrantExpandable' && a.entitlementIds.some((id) => id.trim() !== ''),
  );
  const others = grant.annotations.filter((a) => a.type !== 'GrantExpandable');
  return {
    id: grant.id,
    entitlementId: grant.entitlementId,
    resource: grant.resource,
    principal: grant.principal,
    annotations: [...expandable, ...others],
  };
}

describe('writeC1z round trip', () => {
  it('reports what it wrote', () => {
    expect(written.syncId).toBe(syncId);
    expect(written.counts).toEqual({
      resourceTypes: 8,
      resources: 7,
      entitlements: 3,
      grants: 6,
      expandedGrants: 0,
    });
    expect(written.syncType).toBe('full');
    expect(written.duplicates).toBe(0);
    expect(written.fileBytes).toBe(readFileSync(path).length);
    expect(written.databaseBytes).toBe(contents.info.databaseBytes);
  });

  it('reads back the snapshot object by object', () => {
    const snapshot = contents.snapshot!;
    expect(snapshot.syncId).toBe(syncId);
    expect(snapshot.resourceTypes).toEqual(resourceTypes);
    expect(snapshot.resources).toEqual(resources.map(expectedResource));
    expect(snapshot.entitlements).toEqual(entitlements);
    expect(snapshot.grants).toEqual(grants.map(expectedGrant));
  });

  it('writes one full sync run with baton-sdk times', () => {
    expect(contents.syncRuns).toEqual([
      {
        id: 1,
        syncId,
        startedAt: '2026-05-20 10:00:00.123',
        endedAt: '2026-05-20 10:00:05',
        syncToken: '',
        syncType: 'full',
        parentSyncId: '',
        linkedSyncId: '',
        supportsDiff: 1,
        grantsBackfilled: 1,
        // As Go's encoding/json writes c1.reader.v2.SyncStats: zeros and empty maps left out,
        // every catalogued resource type in the resource counts.
        stats: JSON.stringify({
          resource_types: 8,
          resources: 7,
          entitlements: 3,
          grants: 6,
          resources_by_resource_type: {
            access_policy: 1,
            cluster_role: 1,
            configmap: 1,
            iam_user: 0,
            k8s_group: 1,
            namespace: 1,
            role: 1,
            service_account: 1,
          },
          grants_by_resource_type: { access_policy: 2, cluster_role: 3, role: 1 },
          entitlements_by_resource_type: { access_policy: 1, configmap: 1, role: 1 },
        }),
      },
    ]);
  });

  it('fills the index columns as baton-sdk does', () => {
    expect(contents.resourceTypes.map((row) => row.externalId)).toEqual(resourceTypes.map((t) => t.id));
    expect(
      contents.resources.map((row) => [
        row.resourceTypeId,
        row.externalId,
        row.parentResourceTypeId,
        row.parentResourceId,
      ]),
    ).toEqual(
      resources.map((r) => [r.type, `${r.type}:${r.id}`, r.parent?.type ?? null, r.parent?.id ?? null]),
    );
    expect(contents.entitlements.map((row) => [row.resourceTypeId, row.resourceId, row.externalId])).toEqual(
      entitlements.map((e) => [e.resource.type, e.resource.id, e.id]),
    );
    expect(
      contents.grants.map((row) => [
        row.resourceTypeId,
        row.resourceId,
        row.entitlementId,
        row.principalResourceTypeId,
        row.principalResourceId,
        row.externalId,
      ]),
    ).toEqual(
      grants.map((g) => [
        g.resource.type,
        g.resource.id,
        g.entitlementId,
        g.principal.type,
        g.principal.id,
        g.id,
      ]),
    );
    const rows = [
      ...contents.resourceTypes,
      ...contents.resources,
      ...contents.entitlements,
      ...contents.grants,
    ];
    for (const row of rows) {
      expect(row.syncId).toBe(syncId);
      expect(row.discoveredAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/);
    }
    expect(contents.assets).toEqual([]);
    expect(contents.connectorSessions).toEqual([]);
  });

  it('encodes resource types with their trait enums', () => {
    const serviceAccount = contents.resourceTypes.find(
      (row) => row.externalId === 'service_account',
    )!.message;
    expect(serviceAccount).toEqual({
      id: 'service_account',
      displayName: 'Service Account',
      traits: ['TRAIT_USER'],
      annotations: [],
      description: 'Kubernetes Service Account',
      sourcedExternally: false,
    });
  });

  it('puts trait annotations, child types and external ids on resources', () => {
    const byId = new Map(contents.resources.map((row) => [row.externalId, row.message]));
    const serviceAccount = byId.get('service_account:default/builder')!;
    expect(serviceAccount.id).toEqual({
      resourceType: 'service_account',
      resource: 'default/builder',
      batonResource: false,
    });
    expect(serviceAccount.parentResourceId).toEqual({
      resourceType: 'namespace',
      resource: 'default',
      batonResource: false,
    });
    expect(serviceAccount.externalId).toEqual({ id: 'sa-uid-1', link: '', description: '' });
    expect(serviceAccount.annotations).toHaveLength(1);
    expect(serviceAccount.annotations[0]).toMatchObject({
      typeUrl: 'type.googleapis.com/c1.connector.v2.UserTrait',
      message: {
        status: { status: 'STATUS_ENABLED', details: '' },
        profile: { namespace: 'default', name: 'builder' },
        accountType: 'ACCOUNT_TYPE_SERVICE',
      },
    });

    const role = byId.get(`role:${ROLE_ARN}`)!;
    expect(role.annotations.map((a) => a.typeUrl)).toEqual(['type.googleapis.com/c1.connector.v2.RoleTrait']);
    expect(role.annotations[0]!.message).toEqual({ profile: resources[1]!.profile });

    const namespace = byId.get('namespace:default')!;
    expect(namespace.annotations.map((a) => [a.typeUrl, a.message])).toEqual([
      ['type.googleapis.com/c1.connector.v2.ChildResourceType', { resourceTypeId: 'service_account' }],
    ]);
    expect(namespace.externalId).toEqual({
      id: '9f1c2d7e-uid',
      link: 'https://k8s.example/ns/default',
      description: 'namespace UID',
    });

    const group = byId.get('k8s_group:system:masters')!;
    expect(group.annotations.map((a) => [a.typeUrl, a.message])).toEqual([
      ['type.googleapis.com/c1.connector.v2.GroupTrait', { profile: {} }],
    ]);
    const configmap = byId.get('configmap:kube-system/aws-auth')!;
    expect(configmap.annotations.map((a) => a.typeUrl)).toEqual([
      'type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants',
    ]);
  });

  it('encodes entitlements with their resource, purpose and grantable-to resource types', () => {
    const [policy, , get] = contents.entitlements.map((row) => row.message);
    expect(policy!.resource!.id).toEqual({
      resourceType: 'access_policy',
      resource: POLICY_ARN,
      batonResource: false,
    });
    expect(policy!.purpose).toBe('PURPOSE_VALUE_ASSIGNMENT');
    expect(policy!.slug).toBe('assigned:cluster');
    expect(policy!.grantableTo.map((t) => [t.id, t.displayName, t.traits])).toEqual([
      ['iam_user', 'IAM User', ['TRAIT_USER']],
      ['role', 'IAM Role', ['TRAIT_ROLE']],
    ]);
    expect(get!.purpose).toBe('PURPOSE_VALUE_PERMISSION');
    // A type the snapshot does not declare is named by id only.
    expect(get!.grantableTo.map((t) => [t.id, t.displayName])).toEqual([
      ['cluster_role', 'Cluster Role'],
      ['unknown_type', ''],
    ]);
  });

  it('encodes grants with their entitlement, principal and annotations as google.protobuf.Any', () => {
    const grant = contents.grants[2]!.message;
    expect(grant.id).toBe(grants[2]!.id);
    expect(grant.entitlement!.id).toBe(roleEntitlement);
    expect(grant.entitlement!.resource!.id).toEqual({
      resourceType: 'role',
      resource: ROLE_ARN,
      batonResource: false,
    });
    expect(grant.principal!.id).toEqual({
      resourceType: 'iam_user',
      resource: USER_ARN,
      batonResource: false,
    });
    expect(grant.annotations.map((a) => [a.typeUrl, a.message])).toEqual([
      ['type.googleapis.com/c1.connector.v2.ExternalResourceMatchID', { id: USER_ARN }],
      ['type.googleapis.com/c1.connector.v2.GrantImmutable', { sourceId: 'trust-policy', metadata: null }],
    ]);
  });

  it('moves GrantExpandable from data into the expansion column, as baton-sdk does', () => {
    const [toUser, toRole, trusted, toGroup, toServiceAccount, blank] = contents.grants;
    expect(toRole!.needsExpansion).toBe(1);
    expect(toRole!.expansionMessage).toEqual({
      entitlementIds: [roleEntitlement],
      shallow: false,
      resourceTypeIds: [],
    });
    expect(toRole!.message.annotations).toEqual([]);
    expect(toGroup!.expansionMessage).toEqual({
      entitlementIds: ['k8s_group:system:masters:member'],
      shallow: true,
      resourceTypeIds: ['iam_user', 'role'],
    });
    expect(toGroup!.message.annotations.map((a) => a.typeName)).toEqual(['c1.connector.v2.GrantImmutable']);
    for (const row of [toUser, trusted, toServiceAccount, blank]) {
      expect(row!.expansion).toBeNull();
      expect(row!.needsExpansion).toBe(0);
      expect(row!.message.annotations.map((a) => a.typeName)).not.toContain(
        'c1.connector.v2.GrantExpandable',
      );
    }
    // No GrantExpandable type URL anywhere in a data blob.
    for (const row of contents.grants) {
      expect(Buffer.from(row.data).includes('c1.connector.v2.GrantExpandable')).toBe(false);
    }
  });
});

describe('the c1z file, byte by byte', () => {
  it('is C1ZF\\0 followed by exactly one zstd frame that declares the SQLite file size', () => {
    const file = readFileSync(path);
    expect(file.subarray(0, 5)).toEqual(Buffer.from([0x43, 0x31, 0x5a, 0x46, 0x00]));
    expect(file.readUInt32LE(5)).toBe(ZSTD_MAGIC);
    const frame = walkZstdFrame(file, 5);
    expect(frame.end).toBe(file.length);
    expect(frame.contentSize).toBe(written.databaseBytes);
    expect(frame.hasChecksum).toBe(true);

    const database = zstdSimple.decompress(file.subarray(5));
    expect(database.length).toBe(frame.contentSize);
    expect(database.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    // File format read/write versions 1: a rollback-journal database, not WAL.
    expect([database[18], database[19]]).toEqual([1, 1]);
  });

  it('serializes the same snapshot to the same message bytes', async () => {
    const again = join(dir, 'again.c1z');
    await writeC1z(
      again,
      { resourceTypes, resources: () => resources, entitlements: () => entitlements, grants: () => grants },
      { syncId, startedAt, endedAt },
    );
    const second = await readC1z(again);
    for (const table of ['resourceTypes', 'resources', 'entitlements', 'grants'] as const) {
      expect(second[table].map((row) => Buffer.from(row.data).toString('hex'))).toEqual(
        contents[table].map((row) => Buffer.from(row.data).toString('hex')),
      );
    }
  });
});

describe('writeC1z atomicity', () => {
  function failingGrants(after: number) {
    return function* () {
      for (let i = 0; ; i++) {
        if (i === after) throw new Error('listing grants failed');
        yield { ...grants[0]!, id: `grant-${i}` };
      }
    };
  }

  it('leaves no file behind when an input stream fails', async () => {
    const work = mkdtempSync(join(dir, 'work-'));
    const target = join(dir, 'failed.c1z');
    await expect(
      writeC1z(
        target,
        {
          resourceTypes,
          resources: () => resources,
          entitlements: () => entitlements,
          grants: failingGrants(2_500),
        },
        { tmpDir: work, batchSize: 1_000 },
      ),
    ).rejects.toThrow('listing grants failed');
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.tmp`)).toBe(false);
    expect(readdirSync(work)).toEqual([]);
  });

  it('keeps the previous file when writing over it fails', async () => {
    const target = join(dir, 'previous.c1z');
    writeFileSync(target, 'previous contents');
    await expect(
      writeC1z(target, {
        resourceTypes,
        resources: () => resources,
        entitlements: () => entitlements,
        grants: failingGrants(3),
      }),
    ).rejects.toThrow('listing grants failed');
    expect(readFileSync(target, 'utf8')).toBe('previous contents');
    expect(existsSync(`${target}.tmp`)).toBe(false);
  });

  it('rejects a sync id that is not a KSUID', async () => {
    await expect(
      writeC1z(
        join(dir, 'bad-id.c1z'),
        { resourceTypes, resources: () => [], entitlements: () => [], grants: () => [] },
        { syncId: 'sync-1' },
      ),
    ).rejects.toMatchObject({ code: 'C1Z_INVALID_INPUT' });
    expect(existsSync(join(dir, 'bad-id.c1z'))).toBe(false);
  });
});

describe('writeC1z streaming', () => {
  it('writes 100,000 generated grants without holding them', async () => {
    const total = 100_000;
    const batchSize = 10_000;
    const payload = 'x'.repeat(4096);
    let written = 0;
    let lag = 0;
    let peakHeap = 0;
    const baseline = getHeapStatistics().used_heap_size;
    function* generate(): Generator<CoreGrant> {
      for (let i = 0; i < total; i++) {
        // The writer must have stored what it pulled before pulling much more.
        lag = Math.max(lag, i - written);
        if (i % 5_000 === 0) peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size - baseline);
        yield {
          id: `${policyEntitlement}:iam_user:arn:aws:iam::111122223333:user/u${i}`,
          entitlementId: policyEntitlement,
          resource: { type: 'access_policy', id: POLICY_ARN },
          principal: { type: 'iam_user', id: `arn:aws:iam::111122223333:user/u${i}` },
          annotations: [{ type: 'ExternalResourceMatchID', id: `arn:aws:iam::111122223333:user/u${i}` }],
          // 4 KiB of provenance per grant that the writer ignores: 400 MB if anything kept them.
          sources: [{ kind: `${i}:${payload}` }],
        };
      }
    }
    const target = join(dir, 'large.c1z');
    const result = await writeC1z(
      target,
      { resourceTypes, resources: () => resources, entitlements: () => entitlements, grants: generate },
      {
        batchSize,
        onProgress: ({ table, rows }) => {
          if (table === 'v1_grants') written = rows;
        },
      },
    );
    expect(result.counts.grants).toBe(total);
    expect(lag).toBeLessThanOrEqual(batchSize);
    expect(peakHeap).toBeLessThan(200 * 1024 * 1024);
    const opened = await openC1z(target);
    try {
      expect(opened.db.prepare('select count(*) as n from v1_grants').get()).toEqual({ n: total });
    } finally {
      await opened.close();
    }
  }, 120_000);
});

describe('writeC1z counts', () => {
  it('counts the rows in the file, and reports the items that repeated an id as duplicates', async () => {
    const target = join(dir, 'duplicates.c1z');
    const grant = grants[0]!;
    const result = await writeC1z(target, {
      resourceTypes,
      resources: () => resources,
      entitlements: () => entitlements,
      grants: () => [grant, { ...grant }, grants[1]!],
    });
    expect(result.counts.grants).toBe(2);
    expect(result.duplicates).toBe(1);
    expect((await readC1z(target)).grants).toHaveLength(2);
  });
});
