// Projected service-account tokens, as a cluster's token issuer signs them for pods: an RS256 JWT
// with `iss` = the cluster's OIDC issuer, `sub` = `system:serviceaccount:<namespace>:<name>`, an
// audience (`sts.amazonaws.com` for IRSA, `pods.eks.amazonaws.com` for Pod Identity) and the
// `kubernetes.io` claims. Tests and the local deployment mint them here (the admin API and
// `eks-sim sa-token`) because the simulated clusters run no pods; STS and the Pod Identity agent
// verify them the way AWS does: signature against the issuer's key, expiry, then audience.
import { randomUUID, sign, verify } from 'node:crypto';
import type { Cluster } from '../world/types.js';
import type { World } from '../world/world.js';

export const IRSA_AUDIENCE = 'sts.amazonaws.com';
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

/** Kubernetes' default projected-token lifetime is one hour; it refuses less than ten minutes. */
const DEFAULT_EXPIRATION_SECONDS = 3600;

export interface ServiceAccountClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': { namespace: string; serviceaccount: { name: string; uid: string } };
}

export interface MintOptions {
  namespace: string;
  serviceAccount: string;
  audience?: string | string[];
  expirationSeconds?: number;
  now?: Date;
}

export interface MintedToken {
  token: string;
  issuer: string;
  subject: string;
  audience: string[];
  expiresAt: Date;
}

/** A token the cluster's issuer would not vouch for; `code` is the kind of failure. */
export class TokenError extends Error {
  constructor(
    readonly code: 'malformed' | 'unknown-issuer' | 'bad-signature' | 'expired' | 'not-yet-valid',
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

/** Why a token cannot be minted (the service account does not exist, a bad lifetime). */
export class MintError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
    this.name = 'MintError';
  }
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Mints a token for a service account of `cluster`, signed by the cluster's issuer key. */
export function mintServiceAccountToken(world: World, cluster: Cluster, options: MintOptions): MintedToken {
  const sa = cluster.kube.get('serviceaccounts', options.namespace, options.serviceAccount);
  if (!sa) {
    throw new MintError(
      404,
      `serviceaccount "${options.namespace}/${options.serviceAccount}" not found in cluster ${cluster.name}`,
    );
  }
  const seconds = options.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  if (!Number.isInteger(seconds) || seconds < 600 || seconds > 7 * 24 * 3600) {
    throw new MintError(400, 'expirationSeconds must be an integer from 600 (10 minutes) to 604800 (7 days)');
  }
  const audience = [options.audience ?? IRSA_AUDIENCE].flat();
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims: ServiceAccountClaims = {
    aud: audience,
    exp: iat + seconds,
    iat,
    iss: cluster.oidcIssuer,
    jti: randomUUID(),
    'kubernetes.io': {
      namespace: options.namespace,
      serviceaccount: { name: options.serviceAccount, uid: sa.metadata.uid ?? randomUUID() },
    },
    nbf: iat,
    sub: `system:serviceaccount:${options.namespace}:${options.serviceAccount}`,
  };
  const key = world.issuerKeys.get(cluster.oidcIssuer);
  const signingInput = `${b64({ alg: 'RS256', kid: key.kid })}.${b64(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), key.privateKey).toString('base64url');
  return {
    token: `${signingInput}.${signature}`,
    issuer: claims.iss,
    subject: claims.sub,
    audience,
    expiresAt: new Date(claims.exp * 1000),
  };
}

function decodePart(part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
  return value as Record<string, unknown>;
}

/**
 * Verifies a token against the issuer of the world's cluster it names: signature, expiry and
 * not-before (one minute of clock skew allowed, as Kubernetes does). Returns the claims and the
 * issuing cluster; the caller checks the audience it expects.
 */
export function verifyServiceAccountToken(
  world: World,
  token: string,
  now: Date,
): { claims: ServiceAccountClaims; cluster: Cluster } {
  const parts = token.trim().split('.');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    if (parts.length !== 3) throw new Error('three parts expected');
    header = decodePart(parts[0]!);
    payload = decodePart(parts[1]!);
  } catch {
    throw new TokenError('malformed', 'the token is not a JWT (header.payload.signature, base64url JSON)');
  }
  const iss = typeof payload.iss === 'string' ? payload.iss : '';
  const cluster = world.clusterByIssuer(iss);
  if (!cluster) throw new TokenError('unknown-issuer', `no simulated cluster issues tokens as "${iss}"`);
  const key = world.issuerKeys.get(iss);
  const signed = Buffer.from(`${parts[0]!}.${parts[1]!}`);
  if (
    header.alg !== 'RS256' ||
    header.kid !== key.kid ||
    !verify('sha256', signed, key.publicKey, Buffer.from(parts[2]!, 'base64url'))
  ) {
    throw new TokenError('bad-signature', `the token's signature does not verify with the keys of ${iss}`);
  }
  const seconds = now.getTime() / 1000;
  const exp = typeof payload.exp === 'number' ? payload.exp : 0;
  const nbf = typeof payload.nbf === 'number' ? payload.nbf : 0;
  if (seconds >= exp) {
    throw new TokenError(
      'expired',
      `Token expired: current date/time ${now.toISOString()} must be before the expiration date/time ${new Date(exp * 1000).toISOString()}`,
    );
  }
  if (nbf > seconds + 60)
    throw new TokenError('not-yet-valid', 'the token is not valid yet (nbf is in the future)');
  const aud = payload.aud;
  const claims = {
    ...payload,
    aud: typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.map(String) : [],
  } as ServiceAccountClaims;
  return { claims, cluster };
}
