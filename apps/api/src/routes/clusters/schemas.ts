// What the cluster routes return. Built from the db package's Cluster view, which never reads a
// secret column: the answer says only whether each secret is set.
import { HOSTING_MODES } from '@eks-access/db';
import { z } from 'zod';
import { component, page, timestamp, uuidOut } from '../../openapi/component.js';
import { doctorRunOut } from './doctor-schemas.js';

const policyRule = z.union([
  z.string().meta({ description: 'Shorthand for `{ entitlement: <pattern> }`.' }),
  z.object({ entitlement: z.string().optional(), principal: z.string().optional() }),
]);

/** A cluster's provisioning policy as stored (validated when it was written). */
export const provisioningPolicyOut = component(
  'ProvisioningPolicy',
  'Which grants the connector may carry out on the cluster. Patterns are globs (`*` matches any run of characters). `allow` lifts the built-in cluster-admin denies for what it matches; `deny` always wins; neither ever refuses a revoke.',
  z.object({ allow: z.array(policyRule).optional(), deny: z.array(policyRule).optional() }),
);

// One object with one of two fields rather than a union: OpenAPI 3.0 cannot make a union nullable.
export const syncScheduleOut = z
  .object({ every_ms: z.number().int().optional(), cron: z.string().optional() })
  .meta({
    description:
      'How often the cluster is synced: `every_ms` (a fixed interval in milliseconds) or `cron` (a cron pattern, UTC); exactly one is set.',
    minProperties: 1,
    maxProperties: 1,
  });

export const clusterOut = component(
  'Cluster',
  'A registered EKS cluster. Secrets (ExternalId, AWS keys, the C1 client secret) are sealed when stored and never returned: only whether each one is set.',
  z.object({
    id: uuidOut,
    name: z.string(),
    region: z.string(),
    accountId: z
      .string()
      .nullable()
      .meta({ description: 'The AWS account; from the role ARN or the first sync until known.' }),
    arn: z
      .string()
      .nullable()
      .meta({ description: 'The cluster ARN, once a sync has described the cluster.' }),
    roleArn: z.string().nullable(),
    hostingMode: z.enum(HOSTING_MODES),
    c1ClientId: z.string().nullable(),
    schedule: syncScheduleOut.nullable(),
    provisioningEnabled: z.boolean(),
    provisioningPolicy: provisioningPolicyOut,
    labels: z.record(z.string(), z.string()),
    enabled: z.boolean(),
    snapshotRetention: z.number().int().nullable().meta({
      description:
        'Finished sync runs kept for the cluster; null: the deployment default (SNAPSHOT_RETENTION).',
    }),
    currentSyncRunId: uuidOut.nullable().meta({
      description: 'The sync run whose snapshot is current; null before the first successful sync.',
    }),
    createdAt: timestamp,
    updatedAt: timestamp,
    hasExternalId: z.boolean(),
    hasCredentials: z.boolean(),
    hasC1ClientSecret: z.boolean(),
  }),
);

export const clusterWithDoctorOut = component(
  'ClusterWithDoctor',
  'A registered EKS cluster with its latest doctor run (null before the first; see POST /v1/clusters/{id}/doctor).',
  clusterOut.extend({ doctor: doctorRunOut.nullable() }),
);

export const clusterPage = component(
  'ClusterPage',
  'A page of registered clusters, oldest first.',
  page(clusterOut),
);
