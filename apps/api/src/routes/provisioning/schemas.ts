// What the provisioning routes return: requests as the db package records them, and their audit trail.
import { PROVISIONING_ACTIONS, PROVISIONING_RESULTS, PROVISIONING_STATUSES } from '@eks-access/db';
import { z } from 'zod';
import { component, page, timestamp, uuidOut } from '../../openapi/component.js';

export const provisioningRequestOut = component(
  'ProvisioningRequest',
  'A grant or revoke request: pending → running → succeeded or failed; refused when the policy or a check turns it down (the reason is in `error`).',
  z.object({
    id: uuidOut,
    clusterId: uuidOut,
    action: z.enum(PROVISIONING_ACTIONS),
    entitlementId: z.string(),
    principalType: z.enum(['iam_user', 'role']),
    principalArn: z.string(),
    reason: z.string().nullable(),
    expiresAt: timestamp.nullable().meta({ description: 'A time-bound grant is revoked at this instant.' }),
    durationMs: z.number().int().nullable().meta({
      description:
        'A time-bound grant given as a duration (C1 grant tasks): it expires this long after it is carried out.',
    }),
    dryRun: z.boolean(),
    idempotencyKey: z.string().nullable(),
    requestedBy: z
      .string()
      .meta({ description: '`api-key:<id>`, `bootstrap`, `c1` or `system` (expiry revokes).' }),
    status: z.enum(PROVISIONING_STATUSES),
    result: z.enum(PROVISIONING_RESULTS).nullable(),
    plan: z.array(z.unknown()).nullable().meta({
      description:
        'The exact AWS and Kubernetes calls: planned for a dry run, done otherwise, with before and after.',
    }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    attempt: z.number().int(),
    worker: z.string().nullable(),
    parentRequestId: uuidOut
      .nullable()
      .meta({ description: 'For the revoke that ends a time-bound grant: the grant request it ends.' }),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  }),
);

export const acceptedProvisioningRequestOut = component(
  'AcceptedProvisioningRequest',
  'The request as recorded and queued, or the earlier one with the same Idempotency-Key (`created: false`).',
  provisioningRequestOut.extend({ created: z.boolean() }),
);

export const auditEventOut = component(
  'AuditEvent',
  'One change, with who made it and, for writes to a cluster, what it was before and after.',
  z.object({
    id: z.number().int(),
    at: timestamp,
    actor: z.string(),
    action: z
      .string()
      .meta({ description: '`<domain>.<verb>`, e.g. `access.grant.request`, `access.grant`.' }),
    clusterId: uuidOut.nullable(),
    target: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    requestId: z.string().nullable(),
    details: z.unknown(),
  }),
);

export const provisioningRequestWithAuditOut = component(
  'ProvisioningRequestWithAudit',
  'A request with its audit trail (newest first, at most 100 events).',
  provisioningRequestOut.extend({ audit: z.array(auditEventOut) }),
);

export const provisioningRequestPage = component(
  'ProvisioningRequestPage',
  'A page of provisioning requests, newest first.',
  page(provisioningRequestOut),
);
