// What the doctor routes return: a doctor run of a registered cluster and, once it ran, eks-core's
// DoctorReport (every check of the connector's setup with its least-privilege fix), as stored.
import { DOCTOR_RUN_STATUSES } from '@eks-access/db';
import { z } from 'zod';
import { component, timestamp, uuidOut } from '../../openapi/component.js';

const doctorFixOut = component(
  'DoctorFix',
  'How to fix a failed check with the least privilege that suffices: an IAM policy or trust statement, `aws` commands, RBAC YAML or an aws-auth entry, ready to apply.',
  z.object({
    kind: z.enum(['iam-policy', 'trust-policy', 'aws-cli', 'rbac-yaml', 'aws-auth', 'config']),
    summary: z.string(),
    text: z.string(),
  }),
);

const doctorCheckOut = component(
  'DoctorCheck',
  'One step of the connector setup, checked with its own credentials.',
  z.object({
    id: z.string().meta({
      description:
        'Stable id: `credentials`, `assume-role:1`, `aws:eks:DescribeCluster`, `kube:identity`, `kube:list:namespaces`, `kube:roleRef:ClusterRoleBinding:<name>`, `provision:…`',
    }),
    group: z.enum(['credentials', 'aws', 'cluster', 'kubernetes', 'provisioning']),
    title: z.string(),
    status: z.enum(['pass', 'warn', 'fail', 'skip']),
    detail: z.string(),
    fix: doctorFixOut.optional(),
  }),
);

// Not a named component: OpenAPI 3.0 cannot mark a $ref nullable, and it is used as nullable.
export const doctorReportOut = z
  .object({
    cluster: z.object({
      name: z.string(),
      region: z.string(),
      arn: z.string().optional(),
      accountId: z.string().optional(),
      authenticationMode: z.string().optional(),
    }),
    identity: z.object({ arn: z.string(), accountId: z.string(), principalArn: z.string() }).optional(),
    kubernetesUser: z
      .object({ username: z.string(), groups: z.array(z.string()), via: z.string() })
      .optional(),
    provisioning: z.boolean(),
    status: z.enum(['pass', 'warn', 'fail']),
    checks: z.array(doctorCheckOut),
    fixes: z.array(doctorFixOut),
    checkedAt: z.string().meta({ description: 'ISO 8601 timestamp (UTC)' }),
    durationMs: z.number(),
  })
  .meta({
    description:
      'What `eks-access doctor` found: who the connector acts as, how it reaches Kubernetes, every check, and the fixes merged (one IAM policy, one ClusterRole).',
  });

// Not a named component: OpenAPI 3.0 cannot mark a $ref nullable, and it is used as nullable.
export const doctorRunOut = z
  .object({
    id: uuidOut,
    clusterId: uuidOut,
    status: z.enum(DOCTOR_RUN_STATUSES).meta({
      description:
        '`succeeded`: the doctor ran (its `result` says what it found); `failed`: it could not run (`error`).',
    }),
    provisioning: z
      .boolean()
      .meta({ description: 'Whether the writes provisioning needs were checked too.' }),
    result: z.enum(['pass', 'warn', 'fail']).nullable(),
    requestedAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    report: doctorReportOut.nullable(),
  })
  .meta({
    description:
      'A doctor run of a registered cluster: queued by POST /v1/clusters/{id}/doctor, run by a sync worker with the cluster’s stored credentials.',
  });

export const queuedDoctorRunOut = component(
  'QueuedDoctorRun',
  'The doctor run queued (or the one already pending, `created: false`).',
  doctorRunOut.extend({ created: z.boolean() }),
);
