// Two credential endpoints a pod on EKS talks to besides the AWS APIs, served on the AWS port:
//
// - The EKS Pod Identity agent (`GET /v1/credentials`, what AWS_CONTAINER_CREDENTIALS_FULL_URI
//   points at, normally http://169.254.170.23/v1/credentials). The SDK sends the projected token
//   from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as the Authorization header; the agent (through
//   eks-auth:AssumeRoleForPodIdentity) checks it was issued by the cluster for the
//   `pods.eks.amazonaws.com` audience, finds the pod identity association of the token's service
//   account, and returns credentials for its role if the role trusts `pods.eks.amazonaws.com` for
//   sts:AssumeRole and sts:TagSession. The AWS SDK only accepts this endpoint over plain HTTP on
//   loopback or the link-local agent addresses, so it works with a simulator on 127.0.0.1.
// - Each cluster's OIDC issuer: `/_oidc/<issuer host and path>/.well-known/openid-configuration`
//   and `/keys` (the JWKS), the documents AWS reads to verify IRSA tokens.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Faults } from '../faults.js';
import { sleep } from '../faults.js';
import { explainTrustDecision } from '../aws/trust-policy.js';
import type { CallerIdentity } from '../world/types.js';
import type { World } from '../world/world.js';
import { POD_IDENTITY_AUDIENCE, TokenError, verifyServiceAccountToken } from './service-account-token.js';

export const POD_IDENTITY_PATH = '/v1/credentials';
const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';
/** EKS Pod Identity credentials last six hours, whatever the role's maximum session duration. */
const POD_IDENTITY_SECONDS = 6 * 3600;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** The agent's error body, which the SDK attaches to its error as Code and Message. */
function fail(res: ServerResponse, status: number, code: string, message: string): true {
  sendJson(res, status, { Code: code, Message: message });
  return true;
}

export interface AgentOptions {
  world: () => World;
  faults: Faults;
  now?: () => Date;
}

/** The Pod Identity agent's credentials endpoint, as a handler tried before SigV4. */
export function createPodIdentityAgent(options: AgentOptions) {
  const now = options.now ?? (() => new Date());
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== POD_IDENTITY_PATH) return false;
    if (req.method !== 'GET') return fail(res, 405, 'MethodNotAllowed', 'use GET');
    const world = options.world();
    const token = req.headers.authorization;
    if (!token) {
      return fail(
        res,
        400,
        'InvalidParameterException',
        'the Authorization header must carry the service account token',
      );
    }
    let verified;
    try {
      verified = verifyServiceAccountToken(world, token, now());
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      return fail(
        res,
        401,
        err.code === 'expired' ? 'ExpiredTokenException' : 'InvalidTokenException',
        err.message,
      );
    }
    const { claims, cluster } = verified;
    const decision = options.faults.decide('eks-auth:AssumeRoleForPodIdentity', {
      cluster: cluster.name,
      account: cluster.accountId,
    });
    await sleep(decision.delayMs);
    if (decision.throttle) return fail(res, 429, 'ThrottlingException', 'Rate exceeded');
    if (decision.errorStatus)
      return fail(res, decision.errorStatus, 'InternalServerException', 'Internal error');
    if (!claims.aud.includes(POD_IDENTITY_AUDIENCE)) {
      return fail(
        res,
        401,
        'InvalidTokenException',
        `the token's audience ${claims.aud.join(', ') || '(none)'} is not ${POD_IDENTITY_AUDIENCE}`,
      );
    }
    const { namespace, serviceaccount } = claims['kubernetes.io'];
    const association = [...cluster.podIdentityAssociations.values()].find(
      (a) => a.namespace === namespace && a.serviceAccount === serviceaccount.name,
    );
    if (!association) {
      return fail(
        res,
        404,
        'ResourceNotFoundException',
        `no pod identity association for service account ${namespace}/${serviceaccount.name} in cluster ${cluster.name}`,
      );
    }
    const role = world.roles.get(association.roleArn);
    if (!role) return fail(res, 403, 'AccessDeniedException', `role ${association.roleArn} does not exist`);
    const context = {
      'aws:sourceaccount': cluster.accountId,
      'aws:sourcearn': cluster.arn,
      'aws:requesttag/eks-cluster-arn': cluster.arn,
      'aws:requesttag/eks-cluster-name': cluster.name,
      'aws:requesttag/kubernetes-namespace': namespace,
      'aws:requesttag/kubernetes-service-account': serviceaccount.name,
    };
    // EKS assumes the role with session tags, so the trust policy must allow both actions.
    for (const action of ['sts:AssumeRole', 'sts:TagSession']) {
      const { decision: allowed, reason } = explainTrustDecision(role.assumeRolePolicyDocument, {
        action,
        caller: { kind: 'service', service: POD_IDENTITY_SERVICE },
        context,
      });
      if (allowed !== 'allow') {
        return fail(
          res,
          403,
          'AccessDeniedException',
          `role ${role.arn} cannot be assumed by ${POD_IDENTITY_SERVICE}: ${reason}`,
        );
      }
    }
    const sessionName =
      `eks-${cluster.name}-${serviceaccount.name}`.slice(0, 50) + `-${randomBytes(6).toString('hex')}`;
    const expiresAt = new Date(Math.floor(now().getTime() / 1000) * 1000 + POD_IDENTITY_SECONDS * 1000);
    const identity: CallerIdentity = {
      kind: 'assumed-role',
      accountId: role.accountId,
      arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`,
      userId: `${role.roleId}:${sessionName}`,
      roleArn: role.arn,
      sessionName,
    };
    const credential = world.issueTemporaryCredentials(identity, expiresAt);
    sendJson(res, 200, {
      AccessKeyId: credential.accessKeyId,
      SecretAccessKey: credential.secretAccessKey,
      Token: credential.sessionToken,
      AccountId: role.accountId,
      Expiration: expiresAt.toISOString(),
    });
    return true;
  };
}

export const OIDC_PREFIX = '/_oidc/';

/** Each cluster issuer's discovery document and JWKS, under `/_oidc/<issuer without https://>`. */
export function createOidcDiscovery(options: { world: () => World }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!path.startsWith(OIDC_PREFIX)) return false;
    const rest = path.slice(OIDC_PREFIX.length);
    const m = /^(.+?)\/(\.well-known\/openid-configuration|keys)$/.exec(rest);
    const world = options.world();
    const cluster = m ? world.clusterByIssuer(`https://${m[1]!}`) : undefined;
    if (!m || !cluster) return fail(res, 404, 'NotFound', `no OIDC issuer document at ${path}`);
    const issuer = cluster.oidcIssuer;
    const key = world.issuerKeys.get(issuer);
    if (m[2] === 'keys') {
      sendJson(res, 200, { keys: [key.jwk] });
    } else {
      sendJson(res, 200, {
        issuer,
        // The issuer's real host does not resolve to the simulator, so the JWKS link points here.
        jwks_uri: `http://${req.headers.host ?? '127.0.0.1'}${OIDC_PREFIX}${m[1]!}/keys`,
        authorization_endpoint: 'urn:kubernetes:programmatic_authorization',
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        claims_supported: ['sub', 'iss'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    return true;
  };
}
