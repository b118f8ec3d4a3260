// One provisioning request, carried out (the `access.grant` and `access.revoke` jobs both land here).
// - Serialised per (cluster, principal) across every provisioner process (a Redis lock), because
//   AssociateAccessPolicy and aws-auth edits are read–merge–write.
// - eks-core reads fresh state and is idempotent, so a retry after a crash completes the request.
// - Requests that can never succeed (unknown principal or entitlement, refused by mode) end as
//   `refused` with the reason instead of failing and retrying.
// - A granted time-bound request gets its revoke request now, queued for the expiry instant; the
//   reconciler re-queues it if that job is lost.
// - A change that was applied queues a sync, so reads reflect it.
import {
  createExpiryRevoke,
  enqueueSyncRun,
  finishProvisioningRequest,
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
import { isNonRetryable, principalLockKey, type JobContext, type LockManager, type Producer } from '@eks-access/queue';

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

const REFUSAL_CODES = new Set(['INVALID_ENTITLEMENT', 'PRINCIPAL_NOT_FOUND', 'PROVISIONING_REFUSED', 'ACCESS_ENTRIES_UNSUPPORTED']);

export interface ProvisionJobResult {
  requestId: string;
  status: string;
  result?: string;
}

/** Carries out one provisioning request. */
export async function runProvisioningRequest(deps: ProvisionJobDeps, requestId: string, ctx: JobContext): Promise<ProvisionJobResult> {
  const request = await getProvisioningRequest(deps.database, requestId);
  if (isFinished(request)) return { requestId, status: request.status };
  const actor = `worker:${deps.workerId}`;
  return deps.locks.withLock(principalLockKey(request.clusterId, request.principalArn), { ttlMs: deps.lockMs, waitMs: deps.lockMs + 1_000, signal: ctx.signal }, async (signal) => {
    const started = await startProvisioningRequest(deps.database, requestId, deps.workerId);
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
      const change = { entitlementId: request.entitlementId, principal: { type: request.principalType, arn: request.principalArn } };
      const outcome = request.action === 'grant' ? await grantAccess(session, change, { dryRun: request.dryRun }) : await revokeAccess(session, change, { dryRun: request.dryRun });
      signal.throwIfAborted();
      await finishProvisioningRequest(deps.database, requestId, { status: 'succeeded', result: outcome.result, plan: outcome.steps }, { attempt: started.attempt, actor });
      if (request.action === 'grant' && request.expiresAt && !request.dryRun) {
        const { request: revoke } = await createExpiryRevoke(deps.database, request, actor);
        if (revoke.status === 'pending') {
          await deps.producer.enqueue('access.revoke', { requestId: revoke.id }, { delayMs: Math.max(0, request.expiresAt.getTime() - Date.now()) });
        }
      }
      if (!request.dryRun && (outcome.result === 'granted' || outcome.result === 'revoked')) {
        const { run } = await enqueueSyncRun(deps.database, request.clusterId, 'provision');
        if (run.status === 'queued') await deps.producer.enqueue('cluster.sync', { clusterId: request.clusterId, syncRunId: run.id, trigger: 'provision' });
      }
      return { requestId, status: 'succeeded', result: outcome.result };
    } catch (err) {
      if (isEksAccessError(err) && REFUSAL_CODES.has(err.code)) {
        await finishProvisioningRequest(deps.database, requestId, { status: 'refused', error: { code: err.code, message: err.message } }, { attempt: started.attempt, actor });
        return { requestId, status: 'refused' };
      }
      if ((isNonRetryable(err) || ctx.attempt >= ctx.job.maxAttempts) && !signal.aborted) {
        const e = err as { code?: unknown; message?: unknown };
        await finishProvisioningRequest(
          deps.database,
          requestId,
          { status: 'failed', error: { code: typeof e.code === 'string' ? e.code : 'INTERNAL', message: typeof e.message === 'string' ? e.message : String(err) } },
          { attempt: started.attempt, actor },
        ).catch((finishErr: unknown) => ctx.logger.warn({ err: finishErr }, 'could not record the failed request'));
      }
      throw err;
    } finally {
      session.close();
    }
  });
}
