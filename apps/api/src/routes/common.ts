// Schemas and helpers shared by routes: ids, pagination, audit context, and the cluster body.
import { validateProvisioningPolicy } from '@eks-access/model';
// The subpath keeps BullMQ out of the admin CLI, which imports these schemas.
import { scheduleProblem } from '@eks-access/queue/schedule';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

export const idParams = z.object({
  id: z.uuid({ error: 'must be a UUID' }).meta({ example: '3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17' }),
});

export const pageQuery = z.object({
  cursor: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page; opaque.' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .meta({ description: 'Items per page (default 100).', example: 100 }),
});

/** The audit context of a mutating request: who, and under which request id. */
export function auditOf(req: FastifyRequest): { actor: string; requestId: string } {
  return { actor: req.caller?.actor ?? 'anonymous', requestId: req.id };
}

const roleArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
    'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
  );
// Strict, like every object of a request body: an unknown field (a session token the caller
// expected to be stored) is refused by name rather than silently dropped.
const awsKeys = z
  .object({
    accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be an AWS access key id'),
    secretAccessKey: z.string().min(16).max(128),
  })
  .strict();

// The cron pattern is checked as BullMQ will run it, before the cluster is saved: a pattern that
// only failed at the scheduler would leave a saved cluster behind a 500.
const cronPattern = z
  .string()
  .min(9)
  .max(100)
  .superRefine((cron, ctx) => {
    const problem = scheduleProblem({ cron });
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

// One object rather than a union, so a problem is reported at its field (schedule.cron) with its
// own message instead of as "no variant matched".
export const scheduleSchema = z
  .object({
    everyMs: z
      .number()
      .int()
      .min(60_000, 'must be at least one minute')
      .max(31 * 24 * 3600_000)
      .optional(),
    cron: cronPattern.optional(),
  })
  .strict()
  .refine((s) => (s.everyMs === undefined) !== (s.cron === undefined), 'give exactly one of everyMs and cron')
  .transform((s): { everyMs: number } | { cron: string } =>
    s.cron === undefined ? { everyMs: s.everyMs! } : { cron: s.cron },
  );

const policyPattern = z.string().min(1).max(1000);
const policyRule = z.union([
  policyPattern,
  z.object({ entitlement: policyPattern.optional(), principal: policyPattern.optional() }).strict(),
]);

/**
 * A cluster's provisioning policy (the rules: packages/model/src/policy.ts). Patterns are globs: `*`
 * matches any run of characters, everything else is literal, no `*` means an exact id. A string
 * rule globs the entitlement id; `{ entitlement?, principal? }` also globs the principal's IAM ARN.
 * `allow` lifts the built-in cluster-admin denies for what it matches; `deny` always wins; neither
 * ever refuses a revoke.
 */
export const provisioningPolicySchema = z
  .object({ allow: z.array(policyRule).max(100).optional(), deny: z.array(policyRule).max(100).optional() })
  .strict()
  .superRefine((policy, ctx) => {
    for (const issue of validateProvisioningPolicy(policy))
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

/** A cluster as a client registers it. Secrets go in, and never come out again. */
export const clusterBody = z
  .object({
    name: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'must be a valid EKS cluster name'),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/, 'must be an AWS region such as eu-west-1'),
    accountId: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
      .optional(),
    roleArn: roleArn.optional(),
    externalId: z.string().min(2).max(1224).optional(),
    /** Self-hosted: the connector's own key (BATON_EKS_ACCESS_KEY / BATON_EKS_SECRET_ACCESS_KEY). */
    accessKey: awsKeys.optional(),
    /** Cloud-hosted: global keys, and the binding role assumed first. */
    globalKey: awsKeys.optional(),
    bindingRoleArn: roleArn.optional(),
    bindingExternalId: z.string().min(2).max(1224).optional(),
    c1ClientId: z.string().min(3).max(500).optional(),
    c1ClientSecret: z.string().min(10).max(2000).optional(),
    schedule: scheduleSchema.optional(),
    provisioningEnabled: z.boolean().optional(),
    provisioningPolicy: provisioningPolicySchema.optional(),
    labels: z
      .record(
        z.string().regex(/^[\w./-]{1,63}$/, 'label keys are letters, digits, . _ / -'),
        z.string().max(256),
      )
      .optional(),
    enabled: z.boolean().optional(),
    snapshotRetention: z.number().int().min(1).max(10_000).nullable().optional().meta({
      description:
        'Finished sync runs kept for the cluster (older ones are pruned after each sync); null or absent: the deployment default, SNAPSHOT_RETENTION. A run that found nothing new stores no snapshot rows, so a long history costs little.',
    }),
  })
  .strict();

export type ClusterBody = z.infer<typeof clusterBody>;
