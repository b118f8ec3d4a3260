// What the snapshot and access routes return: @eks-access/model's snapshot shapes (C1's connector v2
// messages: resources, entitlements, grants and their annotations), as the db package reads them back.
import { z } from 'zod';
import { component, uuidOut } from '../../openapi/component.js';

const resourceRef = component(
  'ResourceRef',
  'A resource by type and id, e.g. `{ "type": "role", "id": "arn:aws:iam::111122223333:role/Deployer" }`.',
  z.object({ type: z.string(), id: z.string() }),
);

const resourceAnnotation = component(
  'ResourceAnnotation',
  'C1 semantics attached to a resource: `ChildResourceType` (resources of that type are listed under this one), `ExternalId` (the object’s id in the source system), `SkipEntitlementsAndGrants`.',
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('ChildResourceType'), resourceTypeId: z.string() }),
    z.object({
      type: z.literal('ExternalId'),
      id: z.string(),
      link: z.string().optional(),
      description: z.string().optional(),
    }),
    z.object({ type: z.literal('SkipEntitlementsAndGrants') }),
  ]),
);

const grantAnnotation = component(
  'GrantAnnotation',
  'C1 semantics attached to a grant: `ExternalResourceMatchID` (C1 links the principal to its AWS connector resource with this ARN), `GrantExpandable` (holders of these entitlements inherit the grant), `GrantImmutable` (observed, not provisionable here).',
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('ExternalResourceMatchID'), id: z.string() }),
    z.object({
      type: z.literal('GrantExpandable'),
      entitlementIds: z.array(z.string()).readonly(),
      shallow: z.boolean().optional(),
      resourceTypeIds: z.array(z.string()).readonly().optional(),
    }),
    z.object({ type: z.literal('GrantImmutable'), sourceId: z.string().optional() }),
  ]),
);

const identitySource = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('aws-auth'),
      key: z.enum(['mapRoles', 'mapUsers', 'mapAccounts']),
      index: z.number().int(),
    }),
    z.object({
      kind: z.literal('access-entry'),
      principalArn: z.string(),
      accessEntryArn: z.string().optional(),
    }),
    z.object({ kind: z.literal('implicit'), group: z.string() }),
  ])
  .meta({ description: 'Where the Kubernetes identity (username or group) of an IAM principal comes from.' });

const grantSource = component(
  'GrantSource',
  'An object that gives a grant: an RBAC binding, an identity mapping (aws-auth or an access entry), an access policy association, or an IAM trust policy statement.',
  z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('rbac-binding'),
      binding: z.object({
        kind: z.enum(['ClusterRoleBinding', 'RoleBinding']),
        name: z.string(),
        namespace: z.string().optional(),
      }),
      subject: z.object({
        kind: z.enum(['User', 'Group', 'ServiceAccount']),
        name: z.string(),
        namespace: z.string().optional(),
      }),
      identity: identitySource.optional(),
    }),
    z.object({ kind: z.literal('identity-mapping'), identity: identitySource }),
    z.object({
      kind: z.literal('access-policy-association'),
      principalArn: z.string(),
      policyArn: z.string(),
      accessEntryArn: z.string().optional(),
    }),
    z.object({
      kind: z.literal('trust-policy'),
      roleArn: z.string(),
      statementIndex: z.number().int(),
      sid: z.string().optional(),
    }),
  ]),
);

const grantCondition = component(
  'GrantCondition',
  'A restriction on a grant that the snapshot describes but cannot enforce (an ExternalId the caller must present, a session name, an IAM condition).',
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('external-id-required') }),
    z.object({ kind: z.literal('session-name'), value: z.string(), raw: z.boolean() }),
    z.object({ kind: z.literal('ec2-private-dns-name'), value: z.string() }),
    z.object({ kind: z.literal('access-key-id'), value: z.string() }),
    z.object({
      kind: z.literal('iam-condition'),
      operator: z.string(),
      key: z.string(),
      values: z.array(z.string()).optional(),
    }),
  ]),
);

export const resourceOut = component(
  'Resource',
  'A resource of a snapshot, with baton-eks’s type ids (`access_policy`, `role`, `cluster_role`, `namespace_role`, `namespace`, `service_account`, `iam_user`, `k8s_group`).',
  z.object({
    type: z.string(),
    id: z.string(),
    displayName: z.string(),
    parent: resourceRef.optional(),
    description: z.string().optional(),
    profile: z.record(z.string(), z.unknown()),
    annotations: z.array(resourceAnnotation).readonly(),
  }),
);

export const entitlementOut = component(
  'Entitlement',
  'An entitlement of a snapshot: id `<resource type>:<resource id>:<slug>`.',
  z.object({
    id: z.string(),
    resource: resourceRef,
    slug: z.string(),
    displayName: z.string(),
    description: z.string(),
    purpose: z.enum(['assignment', 'permission']),
    grantableTo: z.array(z.string()).readonly(),
  }),
);

export const grantOut = component(
  'Grant',
  'A grant of a snapshot: id `<entitlement id>:<principal type>:<principal id>`, with every object that gives it.',
  z.object({
    id: z.string(),
    entitlementId: z.string(),
    resource: resourceRef,
    principal: resourceRef,
    annotations: z.array(grantAnnotation).readonly(),
    sources: z.array(grantSource).readonly().optional(),
    conditions: z.array(grantCondition).readonly().optional(),
  }),
);

function snapshotPage<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .optional()
      .meta({ description: 'Pass as `cursor` for the next page; it stays on the same snapshot.' }),
    syncRunId: uuidOut
      .nullable()
      .meta({ description: 'The sync run read; null when the cluster has no snapshot yet.' }),
  });
}

export const resourcePage = component(
  'ResourcePage',
  'A page of a snapshot’s resources, by type and id.',
  snapshotPage(resourceOut),
);
export const entitlementPage = component(
  'EntitlementPage',
  'A page of a snapshot’s entitlements, by id.',
  snapshotPage(entitlementOut),
);
export const grantPage = component(
  'GrantPage',
  'A page of a snapshot’s grants, by id.',
  snapshotPage(grantOut),
);

export const principalAccessOut = component(
  'PrincipalAccess',
  'What one IAM principal reaches in the current snapshot of every cluster: its own grants and those it inherits through roles it can assume and groups it is in.',
  z.object({
    principalArn: z.string(),
    items: z.array(
      z.object({
        cluster: z.object({
          id: uuidOut,
          name: z.string(),
          region: z.string(),
          accountId: z.string().nullable(),
        }),
        syncRunId: uuidOut,
        grant: grantOut,
        via: z.array(z.string()).meta({
          description:
            'The grant ids leading from the principal to the holder of this grant; empty for a grant held directly.',
        }),
      }),
    ),
  }),
);
