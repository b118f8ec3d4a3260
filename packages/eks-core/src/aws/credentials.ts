// AWS credentials for every hosting mode of the C1 docs:
// - default: the SDK's default chain (env, shared config, container/instance roles);
// - self-hosted: a static access key, then AssumeRole into the connector role;
// - cloud-hosted: base → AssumeRole(intermediate role, its ExternalId) → AssumeRole(role, ExternalId).
// Providers are cached per (base identity, role chain), so many clusters in one account share one
// set of temporary credentials, and they refresh five minutes before expiry (single-flight).
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { EksAccessError, classifyAwsError } from '../errors.js';
import { callWithPolicy, type CallPolicy } from '../limits/call-policy.js';

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
  return [base, ...config.assume.map((s) => `${s.roleArn}#${s.externalId === undefined ? '' : 'x'}${s.externalId?.length ?? 0}`)].join('>');
}

/** Checks a credentials config and returns every problem found (empty when usable). */
export function validateCredentialsConfig(config: CredentialsConfig): string[] {
  const problems: string[] = [];
  if (config.base.kind === 'static') {
    if (!config.base.accessKeyId) problems.push('the access key id is empty (BATON_EKS_ACCESS_KEY)');
    if (!config.base.secretAccessKey) problems.push('the secret access key is empty (BATON_EKS_SECRET_ACCESS_KEY)');
  }
  config.assume.forEach((step, i) => {
    if (!ROLE_ARN.test(step.roleArn)) problems.push(`role ${i + 1} "${step.roleArn}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`);
  });
  return problems;
}

function baseProvider(base: BaseCredentials): AwsCredentialIdentityProvider {
  if (base.kind === 'static') {
    const identity: AwsCredentialIdentity = {
      accessKeyId: base.accessKeyId,
      secretAccessKey: base.secretAccessKey,
      ...(base.sessionToken ? { sessionToken: base.sessionToken } : {}),
    };
    return async () => identity;
  }
  return defaultProvider();
}

/** Wraps a provider so it is called once per validity period, even under concurrent callers. */
export function memoizeCredentials(provider: AwsCredentialIdentityProvider, refreshBeforeMs: number, now = Date.now): AwsCredentialIdentityProvider {
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

function assumeRoleError(err: unknown, step: AssumeRoleStep, callerHint: string): EksAccessError {
  const classified = classifyAwsError(err, { operation: 'sts:AssumeRole', target: step.roleArn });
  if (classified.code !== 'AWS_ACCESS_DENIED') return classified;
  const hint =
    step.externalId === undefined
      ? 'its trust policy does not allow this caller, or it requires an ExternalId and none was given (set BATON_EXTERNAL_ID)'
      : 'its trust policy does not allow this caller, or the ExternalId given does not match the one it requires';
  return new EksAccessError('ASSUME_ROLE_DENIED', `role ${step.roleArn} cannot be assumed by ${callerHint}: ${hint}`, {
    cause: err,
    operation: 'sts:AssumeRole',
    ...(classified.status === undefined ? {} : { status: classified.status }),
  });
}

function assumeRoleProvider(previous: AwsCredentialIdentityProvider, step: AssumeRoleStep, callerHint: string, options: CredentialOptions): AwsCredentialIdentityProvider {
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
        classify: (err) => assumeRoleError(err, step, callerHint),
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
      throw new EksAccessError('INTERNAL', `sts:AssumeRole for ${step.roleArn} returned no credentials`, { operation: 'sts:AssumeRole' });
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
export function createCredentialProvider(config: CredentialsConfig, options: CredentialOptions): AwsCredentialIdentityProvider {
  const refresh = options.refreshBeforeMs ?? 5 * 60_000;
  let provider = memoizeCredentials(baseProvider(config.base), refresh);
  let callerHint = config.base.kind === 'static' ? `access key ${config.base.accessKeyId}` : 'the default AWS credentials';
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
