// One provisioning request, carried out (the `access.grant` and `access.revoke` jobs both land here).
// - The cluster's provisioning policy (@eks-access/model `decideProvisioning`) is enforced here, for
//   every request whatever its origin (the API, a C1 task, an expiry revoke, the reconciler, a job
//   queued by hand), read fresh from Postgres under the lock and before any credential or AWS call:
//   a refused request ends `refused` with the policy's stable code and reason and changes nothing.
//   Revokes are never refused by allow/deny rules, and expiry revokes not even by the switch, so a
//   policy can never keep access in place (see the header of packages/model/src/policy.ts).
// - Serialised per (cluster, principal) across every provisioner process (a Redis lock), because
//   AssociateAccessPolicy and aws-auth edits are read–merge–write.
// - eks-core reads fresh state and is idempotent, so a retry after a crash completes the request.
// - Requests that can never succeed (unknown principal or entitlement, refused by mode) end as
//   `refused` with the reason instead of failing and retrying.
// - A granted time-bound request gets its revoke request now, queued for the expiry instant; the
//   reconciler re-queues it if that job is lost. A grant given for a duration (C1 tasks) gets its
//   expiry when it is carried out, recorded in the same write that finishes the request, so the
//   reconciler sees it even if this process dies before queueing the revoke.
// - A change that was applied queues a sync, so reads reflect it.
import {
  createExpiryRevoke,
  enqueueSyncRun,
  finishProvisioningRequest,
  getCluster,
  getClusterCredentials,
  getProvisioningRequest,
  isFinished,
  startProvisioningRequest,
  type Database,
} from '@eks-access/db';
import {
  ClusterSession,
  credentialsFromStoredSecrets,
  grantAccess,
  isEksAccessError,
  revokeAccess,
  type AwsEndpoints,
  type CredentialCache,
  type RateLimiter,
} from '@eks-access/eks-core';
import { decideProvisioning } from '@eks-access/model';
import {
  isNonRetryable,
  principalLockKey,
  type JobContext,
  type LockManager,
  type Producer,
} from '@eks-access/queue';

export interface ProvisionJobDeps {
  database: Database;
  producer: Producer;
  limiter: RateLimiter;
  locks: LockManager;
  credentialCache: CredentialCache;
  endpoints: AwsEndpoints;
  workerId: string;
  lockMs: number;
}

const REFUSAL_CODES = new Set([
  'INVALID_ENTITLEMENT',
  'PRINCIPAL_NOT_FOUND',
  'PROVISIONING_REFUSED',
  'ACCESS_ENTRIES_UNSUPPORTED',
]);

export interface ProvisionJobResult {
  requestId: string;
  status: string;
  result?: string;
}

/** Carries out one provisioning request. */
export async function runProvisioningRequest(
  deps: ProvisionJobDeps,
  requestId: string,
  ctx: JobContext,
): Promise<ProvisionJobResult> {
  const request = await getProvisioningRequest(deps.database, requestId);
  if (isFinished(request)) return { requestId, status: request.status };
  const actor = `worker:${deps.workerId}`;
  return deps.locks.withLock(
    principalLockKey(request.clusterId, request.principalArn),
    { ttlMs: deps.lockMs, waitMs: deps.lockMs + 1_000, signal: ctx.signal },
    async (signal) => {
      const started = await startProvisioningRequest(deps.database, requestId, deps.workerId);
      const cluster = await getCluster(deps.database, request.clusterId);
      const decision = decideProvisioning(cluster, {
        action: request.action,
        entitlementId: request.entitlementId,
        principalArn: request.principalArn,
        expiry: request.action === 'revoke' && request.parentRequestId !== null,
      });
      if (!decision.allowed) {
        await finishProvisioningRequest(
          deps.database,
          requestId,
          { status: 'refused', error: { code: decision.code, message: decision.message } },
          { attempt: started.attempt, actor },
        );
        ctx.logger.info(
          {
            requestId,
            clusterId: request.clusterId,
            action: request.action,
            entitlementId: request.entitlementId,
            code: decision.code,
          },
          'provisioning request refused by policy',
        );
        return { requestId, status: 'refused' };
      }
      const secrets = await getClusterCredentials(deps.database, request.clusterId);
      const session = new ClusterSession({
        cluster: { name: secrets.name, region: secrets.region },
        credentials: credentialsFromStoredSecrets(secrets),
        endpoints: deps.endpoints,
        limiter: deps.limiter,
        credentialCache: deps.credentialCache,
        signal,
      });
      try {
        const change = {
          entitlementId: request.entitlementId,
          principal: { type: request.principalType, arn: request.principalArn },
        };
        const outcome =
          request.action === 'grant'
            ? await grantAccess(session, change, { dryRun: request.dryRun })
            : await revokeAccess(session, change, { dryRun: request.dryRun });
        signal.throwIfAborted();
        const expiresAt =
          request.durationMs && !request.dryRun ? new Date(Date.now() + request.durationMs) : undefined;
        const finished = await finishProvisioningRequest(
          deps.database,
          requestId,
          {
            status: 'succeeded',
            result: outcome.result,
            plan: outcome.steps,
            ...(expiresAt ? { expiresAt } : {}),
          },
          { attempt: started.attempt, actor },
        );
        if (finished.action === 'grant' && finished.expiresAt && !finished.dryRun) {
          const { request: revoke } = await createExpiryRevoke(deps.database, finished, actor);
          if (revoke.status === 'pending') {
            await deps.producer.enqueue(
              'access.revoke',
              { requestId: revoke.id },
              { delayMs: Math.max(0, finished.expiresAt.getTime() - Date.now()) },
            );
          }
        }
        if (!request.dryRun && (outcome.result === 'granted' || outcome.result === 'revoked')) {
          const { run } = await enqueueSyncRun(deps.database, request.clusterId, 'provision');
          if (run.status === 'queued')
            await deps.producer.enqueue('cluster.sync', {
              clusterId: request.clusterId,
              syncRunId: run.id,
              trigger: 'provision',
            });
        }
        return { requestId, status: 'succeeded', result: outcome.result };
      } catch (err) {
        if (isEksAccessError(err) && REFUSAL_CODES.has(err.code)) {
          await finishProvisioningRequest(
            deps.database,
            requestId,
            { status: 'refused', error: { code: err.code, message: err.message } },
            { attempt: started.attempt, actor },
          );
          return { requestId, status: 'refused' };
        }
        if ((isNonRetryable(err) || ctx.attempt >= ctx.job.maxAttempts) && !signal.aborted) {
          const e = err as { code?: unknown; message?: unknown };
          await finishProvisioningRequest(
            deps.database,
            requestId,
            {
              status: 'failed',
              error: {
                code: typeof e.code === 'string' ? e.code : 'INTERNAL',
                message: typeof e.message === 'string' ? e.message : String(err),
              },
            },
            { attempt: started.attempt, actor },
          ).catch((finishErr: unknown) =>
            ctx.logger.warn({ err: finishErr }, 'could not record the failed request'),
          );
        }
        throw err;
      } finally {
        session.close();
      }
    },
  );
}
