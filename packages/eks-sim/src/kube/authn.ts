// Authentication as an EKS API server performs it: the bearer token is a presigned STS
// GetCallerIdentity URL; we re-verify its signature (instead of forwarding it to STS) with the
// cluster name as the signed `x-k8s-aws-id` value, then map the IAM principal to a Kubernetes
// user through access entries and/or aws-auth according to the cluster's authentication mode.
import { parseQuery, verifyPresignedUrl } from '../aws/sigv4.js';
import type { AccessEntry, AccessEntryType, CallerIdentity, Cluster, Credential } from '../world/types.js';
import type { World } from '../world/world.js';
import { readAwsAuth } from './aws-auth.js';
import { CLUSTER_ID_HEADER, EKS_TOKEN_PREFIX } from './token.js';

/** How long after X-Amz-Date a token is accepted, whatever X-Amz-Expires says (as EKS does). */
export const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
/** How far in the future X-Amz-Date may lie (clock skew between the minter and us). */
export const TOKEN_FUTURE_SKEW_MS = 5 * 60 * 1000;

/** A Kubernetes identity: what RBAC and access policies are evaluated against. */
export interface KubeUser {
  username: string;
  groups: string[];
  uid: string;
  extra: Record<string, string[]>;
  /** The access entry the caller was mapped through; its access policies also authorize. */
  accessEntry?: AccessEntry;
  /** Which mechanism produced the mapping. */
  mappedBy: 'access-entry' | 'aws-auth';
  /** Set when the request impersonates this user: the caller's user name. */
  impersonatedBy?: string;
}

export type AuthnResult = { ok: true; user: KubeUser } | { ok: false; reason: string };

export interface AuthnContext {
  cluster: Cluster;
  world: World;
  now: Date;
}

const STS_HOST = /^sts(?:\.([a-z0-9-]+))?\.amazonaws\.com(?:\.cn)?$/;
const ALLOWED_PARAMS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);
const NODE_ENTRY_TYPES = new Set<AccessEntryType>([
  'EC2_LINUX',
  'EC2_WINDOWS',
  'FARGATE_LINUX',
  'HYBRID_LINUX',
  'HYPERPOD_LINUX',
]);

function fail(reason: string): AuthnResult {
  return { ok: false, reason };
}

function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

export type TokenResult =
  { ok: true; credential: Credential; identity: CallerIdentity } | { ok: false; reason: string };

/** Checks an EKS token for `clusterName`: shape, STS host, freshness, and the SigV4 signature. */
export function verifyEksToken(token: string, clusterName: string, world: World, now: Date): TokenResult {
  if (!token.startsWith(EKS_TOKEN_PREFIX)) return { ok: false, reason: 'token lacks the k8s-aws-v1. prefix' };
  const encoded = token.slice(EKS_TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(encoded)) return { ok: false, reason: 'token is not base64url' };
  const rawUrl = Buffer.from(encoded, 'base64url').toString('utf8');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: 'token does not hold a URL' };
  }
  if (url.protocol !== 'https:' || url.port !== '' || url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'token URL is not a plain https URL' };
  }
  if (!STS_HOST.test(url.hostname)) return { ok: false, reason: `token URL host ${url.hostname} is not STS` };
  if (url.pathname !== '/') return { ok: false, reason: 'token URL path is not /' };
  const queryStart = rawUrl.indexOf('?');
  const rawQuery = queryStart < 0 ? '' : rawUrl.slice(queryStart + 1).split('#')[0]!;
  const pairs = parseQuery(rawQuery);
  const params = new Map<string, string>();
  for (const [key, value] of pairs) {
    if (!ALLOWED_PARAMS.has(key.toLowerCase())) {
      return { ok: false, reason: `unexpected query parameter ${key}` };
    }
    if (params.has(key)) return { ok: false, reason: `repeated query parameter ${key}` };
    params.set(key, value);
  }
  if (params.get('Action') !== 'GetCallerIdentity' || params.get('Version') !== '2011-06-15') {
    return { ok: false, reason: 'token is not for GetCallerIdentity 2011-06-15' };
  }
  const signedHeaders = (params.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes(CLUSTER_ID_HEADER)) {
    return { ok: false, reason: `token does not sign host and ${CLUSTER_ID_HEADER}` };
  }
  const signedAt = parseAmzDate(params.get('X-Amz-Date'));
  if (!signedAt) return { ok: false, reason: 'token lacks X-Amz-Date' };
  if (now.getTime() - signedAt.getTime() > TOKEN_LIFETIME_MS) return { ok: false, reason: 'token expired' };
  if (signedAt.getTime() - now.getTime() > TOKEN_FUTURE_SKEW_MS) {
    return { ok: false, reason: 'token signed in the future' };
  }
  const verified = verifyPresignedUrl(
    {
      method: 'GET',
      path: '/',
      query: rawQuery,
      headers: { host: url.host, [CLUSTER_ID_HEADER]: clusterName },
      body: Buffer.alloc(0),
    },
    (accessKeyId) => world.credentials.get(accessKeyId),
    now,
  );
  if (!verified.ok) return { ok: false, reason: `${verified.code}: ${verified.message}` };
  if (verified.service !== 'sts') return { ok: false, reason: 'token is not scoped to sts' };
  return { ok: true, credential: verified.credential, identity: verified.credential.identity };
}

/**
 * The ARN aws-iam-authenticator compares against aws-auth: an assumed-role session becomes its
 * role ARN with the IAM path dropped (the path is not in the session ARN), users and roots stay.
 */
export function canonicalArn(identity: CallerIdentity): string {
  if (identity.kind !== 'assumed-role') return identity.arn;
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(identity.arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : identity.arn;
}

/** Expands the username/group templates EKS supports; `{{EC2PrivateDNSName}}` is left alone. */
export function expandTemplate(template: string, identity: CallerIdentity, credential: Credential): string {
  const session = identity.sessionName ?? '';
  return template
    .replaceAll('{{AccountID}}', identity.accountId)
    .replaceAll('{{SessionNameRaw}}', session)
    .replaceAll('{{SessionName}}', session.replaceAll('@', '-'))
    .replaceAll('{{AccessKeyID}}', credential.accessKeyId);
}

function userOf(
  username: string,
  groups: string[],
  identity: CallerIdentity,
  credential: Credential,
  mappedBy: KubeUser['mappedBy'],
  accessEntry?: AccessEntry,
): KubeUser {
  const arn = canonicalArn(identity);
  return {
    username,
    groups: [...new Set([...groups, 'system:authenticated'])],
    uid: `aws-iam-authenticator:${identity.accountId}:${identity.userId.split(':')[0]}`,
    extra: {
      accessKeyId: [credential.accessKeyId],
      arn: [identity.arn],
      canonicalArn: [arn],
      principalId: [identity.userId],
      sessionName: [identity.sessionName ?? ''],
    },
    mappedBy,
    ...(accessEntry ? { accessEntry } : {}),
  };
}

function fromAccessEntry(
  cluster: Cluster,
  identity: CallerIdentity,
  credential: Credential,
): KubeUser | undefined {
  // Access entries name the IAM role with its path; a session ARN carries no path, so match the role.
  const principal = identity.kind === 'assumed-role' ? identity.roleArn : identity.arn;
  const entry = principal === undefined ? undefined : cluster.accessEntries.get(principal);
  if (!entry) return undefined;
  const groups = entry.kubernetesGroups.map((g) => expandTemplate(g, identity, credential));
  if (NODE_ENTRY_TYPES.has(entry.type)) groups.push('system:nodes');
  return userOf(
    expandTemplate(entry.username, identity, credential),
    groups,
    identity,
    credential,
    'access-entry',
    entry,
  );
}

function fromAwsAuth(
  cluster: Cluster,
  identity: CallerIdentity,
  credential: Credential,
): KubeUser | undefined {
  const config = readAwsAuth(cluster.kube);
  const arn = canonicalArn(identity);
  const key = arn.toLowerCase();
  const mapping = config.roles.get(key) ?? config.users.get(key);
  if (mapping) {
    const username = expandTemplate(mapping.username === '' ? arn : mapping.username, identity, credential);
    const groups = mapping.groups.map((g) => expandTemplate(g, identity, credential));
    return userOf(username, groups, identity, credential, 'aws-auth');
  }
  if (config.accounts.has(identity.accountId)) return userOf(arn, [], identity, credential, 'aws-auth');
  return undefined;
}

/** Maps an authenticated IAM principal to a Kubernetes user per the cluster's authentication mode. */
export function mapIdentity(
  cluster: Cluster,
  identity: CallerIdentity,
  credential: Credential,
): KubeUser | undefined {
  switch (cluster.authenticationMode) {
    case 'API':
      return fromAccessEntry(cluster, identity, credential);
    case 'CONFIG_MAP':
      return fromAwsAuth(cluster, identity, credential);
    case 'API_AND_CONFIG_MAP':
      return fromAccessEntry(cluster, identity, credential) ?? fromAwsAuth(cluster, identity, credential);
  }
}

/** Authenticates a request's Authorization header against one cluster. */
export function authenticate(authorization: string | undefined, ctx: AuthnContext): AuthnResult {
  if (!authorization) return fail('no credentials');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return fail('not a bearer token');
  const token = verifyEksToken(m[1]!, ctx.cluster.name, ctx.world, ctx.now);
  if (!token.ok) return token;
  const user = mapIdentity(ctx.cluster, token.identity, token.credential);
  if (!user) {
    return fail(
      `${token.identity.arn} maps to no Kubernetes identity on ${ctx.cluster.name} (${ctx.cluster.authenticationMode})`,
    );
  }
  return { ok: true, user };
}
