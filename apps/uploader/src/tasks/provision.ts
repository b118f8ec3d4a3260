// C1 grant and revoke tasks become provisioning requests, carried out by the provisioner like
// any other request (the same per-principal lock, fresh reads, audit and provisioning policy), and
// the task finishes with their outcome: "already granted" / "already revoked" as the annotations C1
// expects.
// - Every task becomes a recorded request, even one the cluster's policy refuses (provisioning
//   off, cluster-admin not allowed): the provisioner decides, the refusal is on record, and the
//   task finishes non-retryable with the refusal's code and reason (C1 must not retry it).
// - A grant task's `duration` makes a time-bound grant: the provisioner sets its expiry when it
//   carries the grant out and revokes it then, as for a time-bound grant from the API.
// - The request's idempotency key comes from the task id, so a task delivered twice (or a loop
//   restarted mid-task) joins its request instead of provisioning twice.
// - A request that failed may be tried again when C1 re-sends the task: the next key is used.
import {
  durationToMs,
  grantAlreadyExistsAnnotation,
  grantAlreadyRevokedAnnotation,
  type Entitlement,
  type Grant,
  type GrantResult,
  type GrantTask,
  type Resource,
  type RevokeResult,
  type RevokeTask,
  type TaskContext,
} from '@eks-access/c1';
import {
  createProvisioningRequest,
  getProvisioningRequest,
  isFinished,
  type ProvisioningAction,
  type ProvisioningRequest,
} from '@eks-access/db';
import { grantId, principalTypeOf } from '@eks-access/model';
import { pollUntil } from '../wait.js';
import { c1Actor, type TaskDeps } from './deps.js';
import { taskError } from './task-error.js';

/** Re-sends of one failed task get this many fresh requests before the failure is final. */
const MAX_REQUESTS_PER_TASK = 5;

export interface AccessChange {
  entitlementId: string;
  principalType: 'iam_user' | 'role';
  principalArn: string;
}

/**
 * The entitlement and IAM principal a task names, as baton ids: the entitlement id
 * `<type>:<resource id>:<slug>` (built from its resource and slug when C1 left the id out) and a
 * principal of type `iam_user` or `role` whose id is its ARN.
 */
export function accessChangeOf(
  entitlement: Entitlement | undefined,
  principal: Resource | undefined,
): AccessChange {
  const resource = entitlement?.resource?.id;
  const entitlementId =
    entitlement?.id ||
    (resource?.resourceType && resource.resource && entitlement?.slug
      ? `${resource.resourceType}:${resource.resource}:${entitlement.slug}`
      : '');
  if (!entitlementId)
    throw taskError(
      'INVALID_ARGUMENT',
      'the task names no entitlement (no id, nor a resource and slug)',
      false,
    );
  const type = principal?.id?.resourceType ?? '';
  const arn = principal?.id?.resource ?? '';
  if (type !== 'iam_user' && type !== 'role') {
    throw taskError(
      'INVALID_ARGUMENT',
      `principals of type "${type}" cannot be provisioned on EKS; only iam_user and role (by ARN)`,
      false,
    );
  }
  if (principalTypeOf(arn) !== type)
    throw taskError(
      'INVALID_ARGUMENT',
      `principal id "${arn}" is not the ARN of an IAM ${type === 'role' ? 'role' : 'user'}`,
      false,
    );
  return { entitlementId, principalType: type, principalArn: arn };
}

/** How long C1 wants the grant to last (the task's `duration`), or undefined for a permanent grant. */
export function grantDurationMs(task: GrantTask): number | undefined {
  const ms = durationToMs(task.grant.duration);
  // proto3 sends no field, or a zero Duration, for "no expiry".
  if (ms === undefined || ms === 0) return undefined;
  if (ms < 0 || !Number.isSafeInteger(ms))
    throw taskError(
      'INVALID_ARGUMENT',
      `the grant's duration (${ms} ms) is not a positive length of time`,
      false,
    );
  return ms;
}

/** Carries out a grant task. */
export async function runGrantTask(deps: TaskDeps, task: GrantTask, ctx: TaskContext): Promise<GrantResult> {
  const change = accessChangeOf(task.grant.entitlement, task.grant.principal);
  const durationMs = grantDurationMs(task);
  const request = await provision(
    deps,
    'grant',
    { ...change, ...(durationMs ? { durationMs } : {}) },
    task.id,
    ctx,
  );
  const grant: Grant = {
    id: grantId(change.entitlementId, change.principalType, change.principalArn),
    ...(task.grant.entitlement ? { entitlement: task.grant.entitlement } : {}),
    ...(task.grant.principal ? { principal: task.grant.principal } : {}),
  };
  return {
    grants: [grant],
    ...(request.result === 'already-granted' ? { annotations: [grantAlreadyExistsAnnotation()] } : {}),
  };
}

/** Carries out a revoke task. */
export async function runRevokeTask(
  deps: TaskDeps,
  task: RevokeTask,
  ctx: TaskContext,
): Promise<RevokeResult> {
  const change = accessChangeOf(task.revoke.grant?.entitlement, task.revoke.grant?.principal);
  const request = await provision(deps, 'revoke', change, task.id, ctx);
  return request.result === 'already-revoked' ? { annotations: [grantAlreadyRevokedAnnotation()] } : {};
}

async function provision(
  deps: TaskDeps,
  action: ProvisioningAction,
  change: AccessChange & { durationMs?: number },
  taskId: string,
  ctx: TaskContext,
): Promise<ProvisioningRequest> {
  const actor = c1Actor(deps.clusterId);
  for (let n = 1; ; n++) {
    const { request, created } = await createProvisioningRequest(
      deps.database,
      {
        clusterId: deps.clusterId,
        action,
        ...change,
        reason: `ConductorOne task ${taskId}`,
        idempotencyKey: n === 1 ? `c1-task:${taskId}` : `c1-task:${taskId}:${n}`,
        requestedBy: actor,
      },
      { audit: { actor, details: { c1TaskId: taskId } } },
    );
    if (request.status === 'failed' && !created && n < MAX_REQUESTS_PER_TASK) continue;
    if (request.status === 'pending')
      await deps.producer.enqueue(action === 'grant' ? 'access.grant' : 'access.revoke', {
        requestId: request.id,
      });
    ctx.logger.info(
      {
        requestId: request.id,
        action,
        entitlementId: change.entitlementId,
        durationMs: change.durationMs,
        created,
      },
      'provisioning request queued for c1 task',
    );
    const done = await pollUntil(() => getProvisioningRequest(deps.database, request.id), isFinished, {
      intervalMs: deps.pollMs,
      signal: ctx.signal,
    });
    const why = done.error ? `${done.error.code}: ${done.error.message}` : 'no reason recorded';
    if (done.status === 'succeeded') return done;
    if (done.status === 'refused')
      throw taskError(
        'FAILED_PRECONDITION',
        `the ${action} was refused (provisioning request ${done.id}): ${why}`,
        false,
      );
    throw taskError('UNAVAILABLE', `the ${action} failed (provisioning request ${done.id}): ${why}`, true);
  }
}
