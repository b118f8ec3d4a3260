// AWS credentials for every hosting mode of the C1 docs:
// - default: the SDK's default chain (env, shared config, IRSA web identity, EKS Pod Identity,
//   container/instance roles): the process's own identity, e.g. a pod's on EKS;
// - self-hosted: a static access key, then AssumeRole into the connector role;
// - cloud-hosted: base → AssumeRole(intermediate role, its ExternalId) → AssumeRole(role, ExternalId).
// Providers are cached per (base identity, role chain), so many clusters in one account share one
// set of temporary credentials, and they refresh five minutes before expiry (single-flight).
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { EksAccessError, classifyAwsError } from '../errors.js';
import { callWithPolicy, type CallPolicy } from '../limits/call-policy.js';
import { awsEndpointUrl } from './clients.js';

export type BaseCredentials =
  | { kind: 'default-chain' }
  | { kind: 'static'; accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export interface AssumeRoleStep {
  roleArn: string;
  externalId?: string;
  sessionName?: string;
  durationSeconds?: number;
}

export interface CredentialsConfig {
  base: BaseCredentials;
  /** Roles assumed in order, each with the credentials of the previous step. */
  assume: AssumeRoleStep[];
}

export interface CredentialOptions {
  /** Region of the STS endpoint used for AssumeRole. */
  region: string;
  /** Custom STS endpoint (the simulator, a VPC endpoint). */
  stsEndpoint?: string;
  policy: CallPolicy;
  /** Refresh this long before expiry. */
  refreshBeforeMs?: number;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+/;

/** A key that identifies a credential chain without containing any secret. */
export function credentialsKey(config: CredentialsConfig): string {
  const base = config.base.kind === 'static' ? `static:${config.base.accessKeyId}` : 'default-chain';
  return [
    base,
    ...config.assume.map(
      (s) => `${s.roleArn}#${s.externalId === undefined ? '' : 'x'}${s.externalId?.length ?? 0}`,
    ),
  ].join('>');
}

/** Checks a credentials config and returns every problem found (empty when usable). */
export function validateCredentialsConfig(config: CredentialsConfig): string[] {
  const problems: string[] = [];
  if (config.base.kind === 'static') {
    if (!config.base.accessKeyId) problems.push('the access key id is empty (BATON_EKS_ACCESS_KEY)');
    if (!config.base.secretAccessKey)
      problems.push('the secret access key is empty (BATON_EKS_SECRET_ACCESS_KEY)');
  }
  config.assume.forEach((step, i) => {
    if (!ROLE_ARN.test(step.roleArn))
      problems.push(
        `role ${i + 1} "${step.roleArn}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
      );
  });
  return problems;
}

const WEB_IDENTITY_PREFIX = 'Not authorized to perform sts:AssumeRoleWithWebIdentity';
const WEB_IDENTITY_ERRORS = new Set([
  'InvalidIdentityToken',
  'InvalidIdentityTokenException',
  'ExpiredTokenException',
  'IDPRejectedClaim',
  'IDPRejectedClaimException',
  'IDPCommunicationError',
  'IDPCommunicationErrorException',
]);

/**
 * Why the process's own identity (the SDK's default chain: IRSA, EKS Pod Identity, environment,
 * profiles, instance roles) gave no credentials, in one line naming what to fix. The SDK reports
 * an STS refusal of the pod's token as STS's own error, the Pod Identity agent's refusal as
 * `Code`/`Message` on its error, and finding nothing at all as a CredentialsProviderError.
 */
export function defaultChainError(err: unknown): EksAccessError {
  if (err instanceof EksAccessError) return err;
  const e = (err ?? {}) as { name?: string; message?: string; Code?: string; Message?: string };
  const name = e.name ?? 'Error';
  const message = (e.message ?? '').split('\n')[0]!;
  const base = { cause: err, operation: 'default credential chain' };
  if (message.startsWith(WEB_IDENTITY_PREFIX)) {
    // The simulator (and any STS that says more than AWS does) appends the reason after a colon.
    const reason = message.slice(WEB_IDENTITY_PREFIX.length).replace(/^[:.]\s*/, '');
    return new EksAccessError(
      'ASSUME_ROLE_DENIED',
      reason ||
        "the pod's role (AWS_ROLE_ARN) cannot be assumed with web identity: its trust policy must allow the cluster's OIDC provider with aud sts.amazonaws.com and sub system:serviceaccount:<namespace>:<service account>",
      base,
    );
  }
  if (WEB_IDENTITY_ERRORS.has(name)) {
    return new EksAccessError(
      'AWS_CREDENTIALS_INVALID',
      `STS refused the pod's web identity token (AWS_WEB_IDENTITY_TOKEN_FILE): ${name}: ${message}`,
      base,
    );
  }
  if (e.Code !== undefined || e.Message !== undefined) {
    return new EksAccessError(
      e.Code === 'AccessDeniedException' ? 'ASSUME_ROLE_DENIED' : 'AWS_CREDENTIALS_INVALID',
      `the EKS Pod Identity agent (AWS_CONTAINER_CREDENTIALS_FULL_URI) refused the pod's credentials: ${e.Code ?? 'error'}: ${e.Message ?? message}`,
      base,
    );
  }
  if (name === 'CredentialsProviderError') {
    return new EksAccessError(
      'AWS_CREDENTIALS_INVALID',
      `no AWS credentials for the process's own identity: set up IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) or EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI), or store keys with the cluster (${message})`,
      base,
    );
  }
  return classifyAwsError(err, { operation: 'default credential chain' });
}

function baseProvider(base: BaseCredentials, options: CredentialOptions): AwsCredentialIdentityProvider {
  if (base.kind === 'static') {
    const identity: AwsCredentialIdentity = {
      accessKeyId: base.accessKeyId,
      secretAccessKey: base.secretAccessKey,
      ...(base.sessionToken ? { sessionToken: base.sessionToken } : {}),
    };
    return async () => identity;
  }
  // The SDK's own chain. Its web-identity step calls STS: the same region and endpoint as our
  // AssumeRole calls, so a configured STS endpoint (a VPC endpoint, the simulator) serves both.
  const chain = defaultProvider({
    clientConfig: {
      region: options.region,
      ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
    },
  });
  return async () => {
    try {
      return await chain();
    } catch (err) {
      throw await explainDefaultChainFailure(err);
    }
  };
}

/**
 * The default chain reports only that no source worked when the Pod Identity agent refuses (its
 * answer is swallowed by the next link). Asking the agent once more, through the SDK's own
 * container provider and only when the chain found nothing, recovers its reason; without Pod
 * Identity configured that provider fails at once and the chain's own error stands.
 */
async function explainDefaultChainFailure(err: unknown): Promise<EksAccessError> {
  if ((err as { name?: string } | undefined)?.name === 'CredentialsProviderError') {
    // fromHttp throws at once, before any request, when no agent URL is configured.
    const agent: unknown = await Promise.resolve()
      .then(() => fromHttp({ maxRetries: 0, timeout: 2000 })())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const refusal = agent as { Code?: string; Message?: string } | undefined;
    if (refusal?.Code !== undefined || refusal?.Message !== undefined) return defaultChainError(agent);
  }
  return defaultChainError(err);
}

/** Wraps a provider so it is called once per validity period, even under concurrent callers. */
export function memoizeCredentials(
  provider: AwsCredentialIdentityProvider,
  refreshBeforeMs: number,
  now = Date.now,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const fresh = current && (!current.expiration || current.expiration.getTime() - refreshBeforeMs > now());
    if (fresh) return current!;
    pending ??= provider().then(
      (c) => {
        current = c;
        pending = undefined;
        return c;
      },
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}

function assumeRoleError(
  err: unknown,
  step: AssumeRoleStep,
  callerHint: string,
  endpoint: string,
): EksAccessError {
  const classified = classifyAwsError(err, { operation: 'sts:AssumeRole', target: step.roleArn, endpoint });
  if (classified.code !== 'AWS_ACCESS_DENIED') return classified;
  const hint =
    step.externalId === undefined
      ? 'its trust policy does not allow this caller, or it requires an ExternalId and none was given (set BATON_EXTERNAL_ID)'
      : 'its trust policy does not allow this caller, or the ExternalId given does not match the one it requires';
  return new EksAccessError(
    'ASSUME_ROLE_DENIED',
    `role ${step.roleArn} cannot be assumed by ${callerHint}: ${hint}`,
    {
      cause: err,
      operation: 'sts:AssumeRole',
      ...(classified.status === undefined ? {} : { status: classified.status }),
    },
  );
}

function assumeRoleProvider(
  previous: AwsCredentialIdentityProvider,
  step: AssumeRoleStep,
  callerHint: string,
  options: CredentialOptions,
): AwsCredentialIdentityProvider {
  const sts = new STSClient({
    region: options.region,
    credentials: previous,
    maxAttempts: 1,
    ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
  });
  const accountId = /:iam::(\d{12}):/.exec(step.roleArn)?.[1] ?? 'unknown';
  return async () => {
    const out = await callWithPolicy(
      options.policy,
      {
        operation: 'sts:AssumeRole',
        limiterKey: `aws:${accountId}:${options.region}:sts`,
        classify: (err) =>
          assumeRoleError(
            err,
            step,
            callerHint,
            awsEndpointUrl('sts', options.region, options.stsEndpoint ? { sts: options.stsEndpoint } : {}),
          ),
      },
      () =>
        sts.send(
          new AssumeRoleCommand({
            RoleArn: step.roleArn,
            RoleSessionName: step.sessionName ?? 'eks-access-connector',
            ...(step.externalId === undefined ? {} : { ExternalId: step.externalId }),
            ...(step.durationSeconds === undefined ? {} : { DurationSeconds: step.durationSeconds }),
          }),
        ),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) {
      throw new EksAccessError('INTERNAL', `sts:AssumeRole for ${step.roleArn} returned no credentials`, {
        operation: 'sts:AssumeRole',
      });
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
  };
}

/** Builds the (memoised) provider for a credentials config: base, then each AssumeRole step. */
export function createCredentialProvider(
  config: CredentialsConfig,
  options: CredentialOptions,
): AwsCredentialIdentityProvider {
  const refresh = options.refreshBeforeMs ?? 5 * 60_000;
  let provider = memoizeCredentials(baseProvider(config.base, options), refresh);
  let callerHint =
    config.base.kind === 'static'
      ? `access key ${config.base.accessKeyId}`
      : "the process's own AWS identity";
  for (const step of config.assume) {
    provider = memoizeCredentials(assumeRoleProvider(provider, step, callerHint, options), refresh);
    callerHint = step.roleArn;
  }
  return provider;
}

/** Shares credential providers across clusters: one per (chain, STS region, endpoint). */
export class CredentialCache {
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();

  get(config: CredentialsConfig, options: CredentialOptions): AwsCredentialIdentityProvider {
    const key = `${credentialsKey(config)}@${options.region}@${options.stsEndpoint ?? ''}`;
    let provider = this.providers.get(key);
    if (!provider) {
      provider = createCredentialProvider(config, options);
      this.providers.set(key, provider);
    }
    return provider;
  }
}
