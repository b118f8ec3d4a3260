import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { C1Entitlement, C1Grant, C1Resource, C1ResourceType, C1Snapshot } from './model.js';
import { readC1z, type C1zContents } from './read.js';
import type { C1SyncOptions } from './sync-options.js';
import { writeC1z } from './write.js';

// A C1 full-sync task's options, applied as baton-sdk's syncer applies them.

const resourceTypes: C1ResourceType[] = [
  { id: 'namespace', displayName: 'Namespace', traits: [] },
  { id: 'service_account', displayName: 'Service Account', traits: ['USER'] },
  { id: 'namespace_role', displayName: 'Namespace Role', traits: ['ROLE'] },
  { id: 'cluster_role', displayName: 'Cluster Role', traits: ['ROLE'] },
  { id: 'iam_user', displayName: 'IAM User', traits: ['USER'] },
];

const USER = 'arn:aws:iam::111122223333:user/alice';
const namespace = (id: string): C1Resource => ({
  type: 'namespace',
  id,
  displayName: id,
  annotations: [{ type: 'ChildResourceType', resourceTypeId: 'service_account' }],
});
const resources: C1Resource[] = [
  // A child before its parent: the selection must not depend on the order.
  {
    type: 'service_account',
    id: 'team-a/ci',
    displayName: 'ci',
    parent: { type: 'namespace', id: 'team-a' },
  },
  namespace('team-a'),
  namespace('team-b'),
  {
    type: 'service_account',
    id: 'team-b/ci',
    displayName: 'ci',
    parent: { type: 'namespace', id: 'team-b' },
  },
  // Under team-a, but not a child type team-a lists: a sync of team-a does not reach it.
  {
    type: 'namespace_role',
    id: 'team-a/reader',
    displayName: 'reader',
    parent: { type: 'namespace', id: 'team-a' },
  },
  { type: 'cluster_role', id: 'admin', displayName: 'admin' },
  { type: 'iam_user', id: USER, displayName: 'alice' },
];

const entitlement = (type: string, id: string, slug: string): C1Entitlement => ({
  id: `${type}:${id}:${slug}`,
  resource: { type, id },
  slug,
  displayName: `${id} ${slug}`,
  description: '',
  purpose: 'assignment',
  grantableTo: [],
});
const entitlements = [
  entitlement('service_account', 'team-a/ci', 'impersonate'),
  entitlement('service_account', 'team-b/ci', 'impersonate'),
  entitlement('namespace_role', 'team-a/reader', 'member'),
  entitlement('cluster_role', 'admin', 'all:member'),
];
const grant = (e: C1Entitlement, type: string, id: string): C1Grant => ({
  id: `${e.id}:${type}:${id}`,
  entitlementId: e.id,
  resource: e.resource,
  principal: { type, id },
});
const grants = [
  grant(entitlements[0]!, 'cluster_role', 'admin'),
  grant(entitlements[1]!, 'cluster_role', 'admin'),
  grant(entitlements[2]!, 'iam_user', USER),
  grant(entitlements[3]!, 'iam_user', USER),
];

const snapshot: C1Snapshot = {
  resourceTypes,
  resources: () => resources,
  entitlements: () => entitlements,
  grants: () => grants,
};

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'c1z-sync-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function written(sync: C1SyncOptions): Promise<C1zContents & { ids: Record<string, string[]> }> {
  const path = join(dir, `sync-${n++}.c1z`);
  await writeC1z(path, snapshot, { sync });
  const contents = await readC1z(path);
  return {
    ...contents,
    ids: {
      resourceTypes: contents.resourceTypes.map((r) => r.externalId),
      resources: contents.resources.map((r) => r.externalId),
      entitlements: contents.entitlements.map((e) => e.externalId),
      grants: contents.grants.map((g) => g.externalId),
    },
  };
}

describe('a targeted sync', () => {
  it('is a partial sync of the targeted resource, what it lists as children, and their entitlements and grants', async () => {
    const file = await written({ targetedResources: [{ type: 'namespace', id: 'team-a' }] });
    expect(file.ids).toEqual({
      resourceTypes: resourceTypes.map((t) => t.id),
      resources: ['service_account:team-a/ci', 'namespace:team-a'],
      entitlements: ['service_account:team-a/ci:impersonate'],
      grants: ['service_account:team-a/ci:impersonate:cluster_role:admin'],
    });
    expect(file.syncRuns).toMatchObject([{ syncType: 'partial', supportsDiff: 0, parentSyncId: '' }]);
  });

  it('reaches no child type the sync resource types leave out, and no resource the snapshot lacks', async () => {
    const file = await written({
      targetedResources: [
        { type: 'namespace', id: 'team-a' },
        { type: 'namespace', id: 'no-such-namespace' },
      ],
      resourceTypeIds: ['namespace'],
    });
    expect(file.ids).toEqual({
      resourceTypes: ['namespace'],
      resources: ['namespace:team-a'],
      entitlements: [],
      grants: [],
    });
  });

  it('keeps only the resources when entitlements and grants are skipped, and stays partial', async () => {
    const file = await written({
      targetedResources: [{ type: 'cluster_role', id: 'admin' }],
      skipEntitlementsAndGrants: true,
    });
    expect(file.ids.resources).toEqual(['cluster_role:admin']);
    expect(file.ids.entitlements).toEqual([]);
    expect(file.syncRuns[0]?.syncType).toBe('partial');
  });
});

describe('a full sync with options', () => {
  it('writes resources only, as a resources_only sync, when entitlements and grants are skipped', async () => {
    const file = await written({ skipEntitlementsAndGrants: true });
    expect(file.ids.resources).toHaveLength(resources.length);
    expect(file.ids.entitlements).toEqual([]);
    expect(file.ids.grants).toEqual([]);
    expect(file.syncRuns).toMatchObject([{ syncType: 'resources_only', supportsDiff: 0 }]);
    // baton-sdk counts no entitlements or grants for a resources-only sync.
    expect(JSON.parse(file.syncRuns[0]?.stats ?? '{}')).toEqual({
      resource_types: 5,
      resources: 7,
      resources_by_resource_type: {
        cluster_role: 1,
        iam_user: 1,
        namespace: 2,
        namespace_role: 1,
        service_account: 2,
      },
    });
  });

  it('keeps entitlements but no grants when grants are skipped', async () => {
    const file = await written({ skipGrants: true });
    expect(file.ids.entitlements).toHaveLength(entitlements.length);
    expect(file.ids.grants).toEqual([]);
    expect(file.syncRuns).toMatchObject([{ syncType: 'full', supportsDiff: 1 }]);
  });

  it('keeps only the listed resource types, their resources and their entitlements and grants', async () => {
    const file = await written({ resourceTypeIds: ['cluster_role', 'iam_user'] });
    expect(file.ids).toEqual({
      resourceTypes: ['cluster_role', 'iam_user'],
      resources: ['cluster_role:admin', `iam_user:${USER}`],
      entitlements: ['cluster_role:admin:all:member'],
      grants: [`cluster_role:admin:all:member:iam_user:${USER}`],
    });
  });

  it('writes everything as a full sync without options', async () => {
    const file = await written({});
    expect(file.ids.grants).toHaveLength(grants.length);
    expect(file.syncRuns).toMatchObject([{ syncType: 'full', supportsDiff: 1, grantsBackfilled: 1 }]);
  });
});
