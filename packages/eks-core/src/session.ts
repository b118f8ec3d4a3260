// One cluster's connection state for a sync or a provisioning run: credentials (shared through a
// CredentialCache across clusters of one account), AWS clients, the call policy (limiter, retry,
// counts), DescribeCluster, and the Kubernetes client built from what DescribeCluster reports.
import { DescribeClusterCommand } from '@aws-sdk/client-eks';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { awsEndpointUrl, createAwsClients, type AwsClients, type AwsEndpoints } from './aws/clients.js';
import { CredentialCache, validateCredentialsConfig, type CredentialsConfig } from './aws/credentials.js';
import { EksAccessError, classifyAwsError } from './errors.js';
import { KubeClient } from './kube/client.js';
import { EksTokenSource } from './kube/eks-token.js';
import { AUTHENTICATION_MODES, type AuthenticationMode } from './identity/identity-map.js';
import {
  CallStats,
  DEFAULT_RETRY,
  callWithPolicy,
  type CallPolicy,
  type RetryPolicy,
} from './limits/call-policy.js';
import { InProcessRateLimiter, type RateLimiter } from './limits/rate-limiter.js';

export interface ClusterRef {
  name: string;
  region: string;
}

export interface ClusterDescription {
  name: string;
  arn: string;
  accountId: string;
  region: string;
  version: string;
  endpoint: string;
  caData: string;
  authenticationMode: AuthenticationMode;
  status: string;
}

export interface SessionOptions {
  cluster: ClusterRef;
  credentials: CredentialsConfig;
  endpoints?: AwsEndpoints;
  limiter?: RateLimiter;
  retry?: RetryPolicy;
  credentialCache?: CredentialCache;
  signal?: AbortSignal;
  stats?: CallStats;
  /** Clock for EKS token lifetimes (tests move it to check renewal). */
  now?: () => number;
}

const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;

/** Checks a session's inputs and throws one CONFIG_INVALID error listing every problem. */
export function validateSessionOptions(options: SessionOptions): void {
  const problems = validateCredentialsConfig(options.credentials);
  if (!CLUSTER_NAME.test(options.cluster.name))
    problems.push(
      `cluster name "${options.cluster.name}" is not a valid EKS cluster name (BATON_EKS_CLUSTER_NAME)`,
    );
  if (!REGION.test(options.cluster.region))
    problems.push(
      `region "${options.cluster.region}" is not an AWS region name like eu-west-1 (BATON_EKS_REGION)`,
    );
  if (problems.length > 0)
    throw new EksAccessError('CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`);
}

function isAuthenticationMode(mode: string): mode is AuthenticationMode {
  return (AUTHENTICATION_MODES as readonly string[]).includes(mode);
}

function accountOf(arn: string | undefined): string | undefined {
  return arn ? /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1] : undefined;
}

export class ClusterSession {
  readonly stats: CallStats;
  readonly policy: CallPolicy;
  readonly aws: AwsClients;
  readonly credentials: AwsCredentialIdentityProvider;
  private description: ClusterDescription | undefined;
  private kubeClient: KubeClient | undefined;
  private tokenSource: EksTokenSource | undefined;
  private accountId: string;

  constructor(readonly options: SessionOptions) {
    validateSessionOptions(options);
    this.stats = options.stats ?? new CallStats();
    this.policy = {
      limiter: options.limiter ?? new InProcessRateLimiter(),
      retry: options.retry ?? DEFAULT_RETRY,
      stats: this.stats,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const cache = options.credentialCache ?? new CredentialCache();
    this.credentials = cache.get(options.credentials, {
      region: options.cluster.region,
      policy: this.policy,
      ...(options.endpoints?.sts ? { stsEndpoint: options.endpoints.sts } : {}),
    });
    this.aws = createAwsClients(this.credentials, options.cluster.region, options.endpoints);
    this.accountId = accountOf(options.credentials.assume.at(-1)?.roleArn) ?? 'default';
  }

  get cluster(): ClusterRef {
    return this.options.cluster;
  }

  /** Runs one AWS call under the policy; limits are keyed per account + region + service. */
  awsCall<T>(
    service: 'eks' | 'iam',
    operation: string,
    target: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const region = service === 'iam' ? 'global' : this.options.cluster.region;
    const op = `${service}:${operation}`;
    return callWithPolicy(
      this.policy,
      {
        operation: op,
        limiterKey: `aws:${this.accountId}:${region}:${service}`,
        classify: (err) =>
          classifyAwsError(err, {
            operation: op,
            endpoint: awsEndpointUrl(service, this.options.cluster.region, this.options.endpoints),
            ...(target ? { target } : {}),
          }),
      },
      fn,
    );
  }

  /** DescribeCluster, once per session: endpoint, CA and authentication mode. */
  async describe(): Promise<ClusterDescription> {
    if (this.description) return this.description;
    const { name, region } = this.options.cluster;
    let out;
    try {
      out = await this.awsCall('eks', 'DescribeCluster', name, () =>
        this.aws.eks.send(new DescribeClusterCommand({ name })),
      );
    } catch (err) {
      if (err instanceof EksAccessError && err.code === 'NOT_FOUND') {
        throw new EksAccessError(
          'CLUSTER_NOT_FOUND',
          `cluster "${name}" was not found in region ${region} for this account; check BATON_EKS_CLUSTER_NAME and BATON_EKS_REGION`,
          {
            cause: err,
            operation: 'eks:DescribeCluster',
          },
        );
      }
      throw err;
    }
    const c = out.cluster;
    const mode: string = c?.accessConfig?.authenticationMode ?? 'CONFIG_MAP';
    if (!c?.arn || !c.endpoint || !c.certificateAuthority?.data) {
      throw new EksAccessError(
        'INTERNAL',
        `eks:DescribeCluster for ${name} returned no endpoint or CA (cluster status ${c?.status ?? 'unknown'})`,
      );
    }
    if (!isAuthenticationMode(mode)) {
      throw new EksAccessError(
        'INTERNAL',
        `cluster ${name} reports an unknown authentication mode "${mode}"`,
      );
    }
    this.accountId = accountOf(c.arn) ?? this.accountId;
    this.description = {
      name: c.name ?? name,
      arn: c.arn,
      accountId: this.accountId,
      region,
      version: c.version ?? '',
      endpoint: c.endpoint,
      caData: c.certificateAuthority.data,
      authenticationMode: mode,
      status: c.status ?? 'UNKNOWN',
    };
    return this.description;
  }

  /** The Kubernetes client for this cluster (after DescribeCluster). */
  async kube(): Promise<KubeClient> {
    if (this.kubeClient) return this.kubeClient;
    const d = await this.describe();
    this.tokenSource = new EksTokenSource(
      { credentials: this.credentials, region: d.region, clusterName: d.name },
      this.options.now,
    );
    this.kubeClient = new KubeClient(
      { clusterName: d.name, clusterArn: d.arn, endpoint: d.endpoint, caData: d.caData },
      this.tokenSource,
      this.policy,
    );
    return this.kubeClient;
  }

  close(): void {
    this.kubeClient?.close();
    this.aws.eks.destroy();
    this.aws.iam.destroy();
  }
}
