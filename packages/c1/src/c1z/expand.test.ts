import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { C1Entitlement, C1Grant, C1GrantAnnotation, C1Resource, C1Snapshot } from './model.js';
import { readC1z, type C1zContents, type GrantRow } from './read.js';
import type { C1SyncOptions } from './sync-options.js';
import { writeC1z, type WriteC1zResult } from './write.js';

// Grant expansion when C1 does not ask to do it itself (skip_expand_grants false): holders of an
// expandable grant's entitlements get the grant too, as baton-sdk's expander gives it.

const arn = (kind: 'user' | 'role', name: string) => `arn:aws:iam::111122223333:${kind}/${name}`;
const U1 = arn('user', 'u1');
const U2 = arn('user', 'u2');
const U3 = arn('user', 'u3');
const A = arn('role', 'A');
const B = arn('role', 'B');
const POLICY = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';

const entitlementOf = (type: string, id: string, slug: string): C1Entitlement => ({
  id: `${type}:${id}:${slug}`,
  resource: { type, id },
  slug,
  displayName: `${id} ${slug}`,
  description: `${slug} of ${id}`,
  purpose: 'assignment',
  grantableTo: ['iam_user', 'role'],
});
const assumeA = entitlementOf('role', A, 'assignment');
const assumeB = entitlementOf('role', B, 'assignment');
const policy = entitlementOf('access_policy', POLICY, 'assigned:cluster');
const group = entitlementOf('k8s_group', 'devs', 'member');
const clusterRole = entitlementOf('cluster_role', 'edit', 'all:member');

const expandable = (ids: string[], more: Partial<C1GrantAnnotation> = {}): C1GrantAnnotation =>
  ({ type: 'GrantExpandable', entitlementIds: ids, ...more }) as C1GrantAnnotation;

function grantOf(e: C1Entitlement, type: string, id: string, annotations: C1GrantAnnotation[] = []): C1Grant {
  return {
    id: `${e.id}:${type}:${id}`,
    entitlementId: e.id,
    resource: e.resource,
    principal: { type, id },
    annotations,
  };
}

const grants: C1Grant[] = [
  grantOf(assumeA, 'iam_user', U1, [{ type: 'ExternalResourceMatchID', id: U1 }]),
  grantOf(assumeB, 'iam_user', U2),
  // Role chaining both ways: whoever can assume A can assume B, and the other way round.
  grantOf(assumeB, 'role', A, [expandable([assumeA.id])]),
  grantOf(assumeA, 'role', B, [expandable([assumeB.id])]),
  // The policy is associated with role B (so with whoever can assume B) and directly with u2.
  grantOf(policy, 'role', B, [expandable([assumeB.id])]),
  grantOf(policy, 'iam_user', U2),
  // A group binding that passes on direct IAM-user members only.
  grantOf(clusterRole, 'k8s_group', 'devs', [
    expandable([group.id], { shallow: true, resourceTypeIds: ['iam_user'] }),
  ]),
  grantOf(group, 'iam_user', U3),
  grantOf(group, 'role', B),
  // Names an entitlement the file does not have: the edge is dropped.
  grantOf(policy, 'role', arn('role', 'Z'), [expandable(['role:missing:assignment'])]),
];

const resources: C1Resource[] = [
  { type: 'role', id: A, displayName: 'A' },
  { type: 'role', id: B, displayName: 'B' },
  { type: 'access_policy', id: POLICY, displayName: 'view' },
  { type: 'k8s_group', id: 'devs', displayName: 'devs' },
  { type: 'cluster_role', id: 'edit', displayName: 'edit' },
  { type: 'iam_user', id: U1, displayName: 'u1' },
];

const snapshot: C1Snapshot = {
  resourceTypes: [
    { id: 'role', displayName: 'IAM Role', traits: ['ROLE'] },
    { id: 'access_policy', displayName: 'Access Policy', traits: ['ROLE'] },
    { id: 'k8s_group', displayName: 'Group', traits: ['GROUP'] },
    { id: 'cluster_role', displayName: 'Cluster Role', traits: ['ROLE'] },
    { id: 'iam_user', displayName: 'IAM User', traits: ['USER'] },
  ],
  resources: () => resources,
  entitlements: () => [assumeA, assumeB, policy, group, clusterRole],
  grants: () => grants,
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'c1z-expand-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function write(
  name: string,
  sync: C1SyncOptions,
): Promise<{ result: WriteC1zResult; file: C1zContents }> {
  const path = join(dir, `${name}.c1z`);
  const result = await writeC1z(path, snapshot, { sync });
  return { result, file: await readC1z(path) };
}

const sourcesOf = (row: GrantRow | undefined) =>
  Object.fromEntries((row?.message.sources?.sources ?? []).map((s) => [s.key, s.value?.isDirect ?? false]));

describe('grant expansion', () => {
  let expanded: { result: WriteC1zResult; file: C1zContents };
  const row = (id: string) => expanded.file.grants.find((g) => g.externalId === id);

  beforeAll(async () => {
    expanded = await write('expanded', { expandGrants: true });
  });

  it('gives whoever can assume a role what the role was granted, through chains and cycles', () => {
    // u1 can assume A, A can assume B, B has the policy.
    const derived = row(`${policy.id}:iam_user:${U1}`);
    expect(derived).toBeDefined();
    expect(derived?.message.principal?.id).toMatchObject({ resourceType: 'iam_user', resource: U1 });
    expect(sourcesOf(derived)).toEqual({ [assumeB.id]: false });
    // u1 can assume B too (through A).
    expect(sourcesOf(row(`${assumeB.id}:iam_user:${U1}`))).toEqual({ [assumeA.id]: true });
  });

  it('writes a created grant as baton-sdk does: the whole entitlement, an immutable annotation, columns filled', () => {
    const derived = row(`${policy.id}:iam_user:${U1}`);
    expect(derived?.message.entitlement).toMatchObject({
      id: policy.id,
      displayName: policy.displayName,
      description: policy.description,
      slug: 'assigned:cluster',
    });
    expect(derived?.message.annotations.map((a) => a.typeName)).toEqual(['c1.connector.v2.GrantImmutable']);
    expect(derived).toMatchObject({
      resourceTypeId: 'access_policy',
      resourceId: POLICY,
      entitlementId: policy.id,
      principalResourceTypeId: 'iam_user',
      principalResourceId: U1,
      needsExpansion: 0,
      expansion: null,
    });
  });

  it('adds the sources to a grant the principal already had, its own entitlement as direct', () => {
    expect(sourcesOf(row(`${policy.id}:iam_user:${U2}`))).toEqual({ [policy.id]: true, [assumeB.id]: true });
  });

  it('passes on only direct holders of the listed types through a shallow, type-filtered edge', () => {
    expect(sourcesOf(row(`${clusterRole.id}:iam_user:${U3}`))).toEqual({ [group.id]: true });
    expect(row(`${clusterRole.id}:role:${B}`)).toBeUndefined();
  });

  it('drops an edge from an entitlement the file does not have', () => {
    expect(expanded.file.grants.filter((g) => g.entitlementId === 'role:missing:assignment')).toEqual([]);
  });

  it('keeps the expandable grants’ expansion column for C1, and counts what it added', () => {
    const expandableRows = expanded.file.grants.filter((g) => g.needsExpansion === 1);
    expect(expandableRows).toHaveLength(5);
    expect(expanded.result.counts.grants).toBe(grants.length);
    expect(expanded.result.counts.expandedGrants).toBe(expanded.file.grants.length - grants.length);
    expect(JSON.parse(expanded.file.syncRuns[0]?.stats ?? '{}').grants).toBe(expanded.file.grants.length);
  });

  it('leaves expansion to C1 when the task asks it to (skip_expand_grants), and in partial syncs', async () => {
    const skipped = await write('skipped', {});
    expect(skipped.file.grants).toHaveLength(grants.length);
    expect(skipped.file.grants.every((g) => g.message.sources === null)).toBe(true);
    const partial = await write('partial', {
      expandGrants: true,
      targetedResources: [{ type: 'role', id: B }],
    });
    expect(partial.result.counts.expandedGrants).toBe(0);
  });
});
