// POST /v1/provisioning-requests: record a grant or revoke and queue it. Everything a client can
// get wrong is answered here with a 4xx (unknown cluster, provisioning off, a denied or unknown
// entitlement, a malformed principal); only what needs AWS to know (an IAM user that does not
// exist) is found by the provisioner, which then marks the request refused with the reason. The
// policy check here only answers sooner: the provisioner enforces the policy itself.
import {
  createProvisioningRequest,
  findCurrentEntitlement,
  getCluster,
  hasCurrentResource,
} from '@eks-access/db';
import { z } from 'zod';
import type { App } from '../../app-type.js';
import type { AppDeps } from '../../deps.js';
import { ApiError } from '../../errors.js';
import { component } from '../../openapi/component.js';
import * as examples from '../../openapi/examples.js';
import { route } from '../../openapi/route.js';
import { assertQueueRoom } from '../queue-room.js';
import { auditOf } from '../common.js';
import { checkProvisioningAllowed } from './policy.js';
import { acceptedProvisioningRequestOut } from './schemas.js';

const PRINCIPAL = /^arn:aws[a-z-]*:iam::(\d{12}):(user|role)\/.+$/;

const body = component(
  'NewProvisioningRequest',
  'A grant or revoke of one entitlement for one IAM user or role. Unknown fields are refused.',
  z
    .object({
      clusterId: z.uuid({ error: 'must be a cluster id' }),
      action: z.enum(['grant', 'revoke']),
      entitlementId: z.string().min(3).max(4096),
      principal: z
        .object({
          type: z.enum(['iam_user', 'role']),
          arn: z.string().regex(PRINCIPAL, 'must be an IAM user or role ARN'),
        })
        .strict(),
      /** A time-bound grant: revoked at this instant. */
      expiresAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 timestamp' }).optional(),
      dryRun: z.boolean().optional(),
      reason: z.string().max(1000).optional(),
    })
    .strict(),
);

const headers = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\w.:-]{8,200}$/, 'must be 8–200 characters of letters, digits, . _ : -')
    .optional(),
});

const options = route({
  operationId: 'createProvisioningRequest',
  summary: 'Request a grant or a revoke',
  description:
    'Records the request and queues it for the provisioner, after checking what can be checked now: the cluster, its provisioning switch and policy, the entitlement in the current snapshot, and the principal. With `dryRun`, the provisioner only plans (the exact AWS and Kubernetes calls). With the same `Idempotency-Key` (per API key), a retry returns the first request (`created: false`).',
  tag: 'provisioning',
  scope: 'provision',
  method: 'POST',
  body,
  headers,
  requestExample: examples.provisioningRequestBody,
  responses: {
    202: {
      description:
        'Recorded and queued (or the earlier request with this Idempotency-Key); follow it with GET /v1/provisioning-requests/{id}.',
      schema: acceptedProvisioningRequestOut,
      example: examples.acceptedProvisioningRequest,
    },
  },
  errors: {
    403: {
      when: 'The API key lacks the `provision` scope, or the cluster refuses the grant: provisioning is off for it, or its policy (or the built-in cluster-admin deny) refuses it; `details.code` says which and `details.rule` names the rule.',
      example:
        "cluster_role:cluster-admin:all:member is denied by the built-in rule cluster_role:cluster-admin:* (the cluster-admin ClusterRole); allow it in the cluster's provisioningPolicy to grant it",
    },
    404: {
      when: 'No registered cluster has this id.',
      example: 'cluster 3f0c9a52-7d1e-4c3b-9a61-2b8f0d4e5a17 not found',
    },
    409: {
      when: 'The cluster has not been synced yet, or the Idempotency-Key was used for a different request.',
      example: 'cluster prod-eu has not been synced yet; sync it so the request can be checked',
    },
    422: {
      when: 'The entitlement is not in the current snapshot or cannot be provisioned, or the IAM role does not exist in the cluster’s account.',
      example:
        "entitlement cluster_role:viewer:all:member does not exist in cluster prod-eu's current snapshot",
    },
  },
});

/** Registers the route. */
export function registerCreateProvisioningRequest(app: App, deps: AppDeps): void {
  app.post('/v1/provisioning-requests', options, async (req, reply) => {
    const b = req.body;
    const kind = PRINCIPAL.exec(b.principal.arn)?.[2];
    if ((kind === 'user') !== (b.principal.type === 'iam_user')) {
      throw new ApiError(
        'VALIDATION_FAILED',
        `principal.type ${b.principal.type} does not match the ARN ${b.principal.arn}`,
      );
    }
    const expiresAt = b.expiresAt ? new Date(b.expiresAt) : undefined;
    if (expiresAt && b.action !== 'grant')
      throw new ApiError('VALIDATION_FAILED', 'only a grant can have expiresAt');
    if (expiresAt && expiresAt.getTime() < Date.now() + 60_000)
      throw new ApiError('VALIDATION_FAILED', 'expiresAt must be at least a minute in the future');

    const cluster = await getCluster(deps.database, b.clusterId);
    checkProvisioningAllowed(cluster, {
      action: b.action,
      entitlementId: b.entitlementId,
      principalArn: b.principal.arn,
    });
    const entitlement = await findCurrentEntitlement(deps.database, cluster.id, b.entitlementId);
    if (entitlement === null)
      throw new ApiError(
        'CONFLICT',
        `cluster ${cluster.name} has not been synced yet; sync it so the request can be checked`,
      );
    if (entitlement === undefined)
      throw new ApiError(
        'UNPROCESSABLE',
        `entitlement ${b.entitlementId} does not exist in cluster ${cluster.name}'s current snapshot`,
      );
    if (
      b.principal.type === 'role' &&
      cluster.accountId &&
      PRINCIPAL.exec(b.principal.arn)?.[1] === cluster.accountId
    ) {
      if ((await hasCurrentResource(deps.database, cluster.id, 'role', b.principal.arn)) === false) {
        throw new ApiError(
          'UNPROCESSABLE',
          `IAM role ${b.principal.arn} does not exist in account ${cluster.accountId} (as of the last sync)`,
        );
      }
    }

    // Redis first, so during an outage nothing is recorded; if it fails after the insert, a retry
    // with the same Idempotency-Key queues the job, and the provisioner's request janitor queues
    // the job of any request left pending without one.
    await assertQueueRoom(deps, 'eks-provision');
    const idempotencyKey = req.headers['idempotency-key'];
    const { request, created } = await createProvisioningRequest(
      deps.database,
      {
        clusterId: cluster.id,
        action: b.action,
        entitlementId: b.entitlementId,
        principalType: b.principal.type,
        principalArn: b.principal.arn,
        reason: b.reason ?? null,
        expiresAt: expiresAt ?? null,
        dryRun: b.dryRun ?? false,
        idempotencyKey: idempotencyKey ?? null,
        requestedBy: req.caller?.actor ?? 'anonymous',
      },
      { audit: auditOf(req) },
    );
    if (request.status === 'pending')
      await deps.producer.enqueue(request.action === 'grant' ? 'access.grant' : 'access.revoke', {
        requestId: request.id,
      });
    return reply.status(202).send({ ...request, created });
  });
}
