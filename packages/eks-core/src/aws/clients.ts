// AWS SDK clients for one (credentials, region). SDK retries are off (maxAttempts 1): every call
// goes through callWithPolicy, which owns retries, rate limits and call counts.
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface AwsEndpoints {
  sts?: string;
  iam?: string;
  eks?: string;
}

export interface AwsClients {
  eks: EKSClient;
  iam: IAMClient;
  region: string;
}

/** IAM is global: its signing region depends only on the partition. */
export function iamRegionFor(region: string): string {
  if (region.startsWith('cn-')) return 'cn-north-1';
  if (region.startsWith('us-gov-')) return 'us-gov-west-1';
  return 'us-east-1';
}

/**
 * The URL a service's calls go to, for messages: the configured endpoint, else AWS's public one
 * (what the SDK resolves in the commercial partition).
 */
export function awsEndpointUrl(
  service: 'sts' | 'iam' | 'eks',
  region: string,
  endpoints: AwsEndpoints = {},
): string {
  const configured = endpoints[service];
  if (configured) return configured;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return service === 'iam' ? `https://iam.${suffix}` : `https://${service}.${region}.${suffix}`;
}

/** Creates the EKS and IAM clients a cluster sync or provisioning run uses. */
export function createAwsClients(
  credentials: AwsCredentialIdentityProvider,
  region: string,
  endpoints: AwsEndpoints = {},
): AwsClients {
  return {
    region,
    eks: new EKSClient({
      region,
      credentials,
      maxAttempts: 1,
      ...(endpoints.eks ? { endpoint: endpoints.eks } : {}),
    }),
    iam: new IAMClient({
      region: iamRegionFor(region),
      credentials,
      maxAttempts: 1,
      ...(endpoints.iam ? { endpoint: endpoints.iam } : {}),
    }),
  };
}
