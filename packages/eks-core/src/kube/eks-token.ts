// The EKS bearer token, as aws-iam-authenticator and `aws eks get-token` make it: a SigV4
// query-presigned STS GetCallerIdentity URL with the cluster name in the signed `x-k8s-aws-id`
// header, base64url-encoded behind `k8s-aws-v1.`. It is a replayable credential for 15 minutes,
// so it is never logged, and it is re-minted a minute before that window closes.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** EKS accepts a token for 15 minutes after it was signed. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;

function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

function encodeQuery(query: Record<string, string | string[] | null>): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    const values = Array.isArray(value) ? value : [value ?? ''];
    for (const v of values) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`);
  }
  return parts.join('&');
}

/** Mints one EKS bearer token for `clusterName` with the given credentials. */
export async function mintEksToken(options: {
  credentials: AwsCredentialIdentityProvider;
  region: string;
  clusterName: string;
  now?: Date;
}): Promise<string> {
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const hostname = stsHost(options.region);
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, 'x-k8s-aws-id': options.clusterName },
    },
    { expiresIn: 60, ...(options.now ? { signingDate: options.now } : {}) },
  );
  const url = `https://${hostname}/?${encodeQuery(signed.query as Record<string, string>)}`;
  return TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** Keeps one token per cluster and mints a new one before the old one expires. */
export class EksTokenSource {
  private token: string | undefined;
  private mintedAt = 0;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly options: {
      credentials: AwsCredentialIdentityProvider;
      region: string;
      clusterName: string;
    },
    private readonly now: () => number = Date.now,
    /** Re-mint when less than this much of the token's life is left. */
    private readonly refreshBeforeMs = 60_000,
  ) {}

  async get(): Promise<string> {
    if (this.token && this.now() - this.mintedAt < TOKEN_LIFETIME_MS - this.refreshBeforeMs)
      return this.token;
    this.pending ??= mintEksToken({ ...this.options, now: new Date(this.now()) }).then(
      (t) => {
        this.token = t;
        this.mintedAt = this.now();
        this.pending = undefined;
        return t;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  /** Drops the current token (after a 401) so the next call mints a fresh one. */
  invalidate(): void {
    this.token = undefined;
  }
}
