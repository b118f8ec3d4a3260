// The EKS bearer token, minted the way aws-iam-authenticator and `aws eks get-token` do: a SigV4
// query-presigned STS GetCallerIdentity URL with the cluster name signed in the `x-k8s-aws-id`
// header, base64url-encoded behind `k8s-aws-v1.`. Nothing is sent anywhere: whoever holds the
// token can replay it for 15 minutes, so treat it as a secret.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { uriEscape } from '../aws/sigv4.js';

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
/** The header carrying the cluster name inside the signature. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

export interface EksTokenCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface MintEksTokenOptions {
  credentials: EksTokenCredentials;
  /** Region of the STS endpoint the URL names (the cluster's region, as the AWS CLI uses). */
  region: string;
  clusterName: string;
  /** Signing time; defaults to now. Pass an older instant to mint an already-expired token. */
  now?: Date;
}

/** The host a token's URL names: regional STS, as current AWS tooling presigns. */
export function stsHost(region: string): string {
  return `sts.${region}.amazonaws.com`;
}

/** Mints an EKS bearer token (`k8s-aws-v1.<base64url(presigned URL)>`) for one cluster. */
export async function mintEksToken(options: MintEksTokenOptions): Promise<string> {
  const { credentials, region, clusterName } = options;
  const host = stsHost(region);
  const signer = new SignatureV4({
    service: 'sts',
    region,
    sha256: Sha256,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    },
  });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: host,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host, [CLUSTER_ID_HEADER]: clusterName },
    },
    { expiresIn: 60, signingDate: options.now ?? new Date() },
  );
  const query = Object.entries(signed.query ?? {})
    .flatMap(([key, value]) =>
      Array.isArray(value)
        ? value.map((v) => [key, v] as const)
        : value == null
          ? []
          : [[key, value] as const],
    )
    .map(([key, value]) => `${uriEscape(key)}=${uriEscape(value)}`)
    .join('&');
  const url = `https://${host}/?${query}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}
