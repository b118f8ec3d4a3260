// STS AssumeRoleWithWebIdentity, the call behind IRSA: a pod's projected service-account token (a
// JWT from its cluster's OIDC issuer) is exchanged for the role named by AWS_ROLE_ARN. AWS needs no
// signature for it (the token is the proof). The checks follow AWS's order and error codes: the
// token verifies against its issuer (InvalidIdentityToken / ExpiredTokenException), the role's
// account has an IAM OIDC provider for that issuer and lists the token's audience as a client id
// (InvalidIdentityToken), and the role's trust policy allows sts:AssumeRoleWithWebIdentity for the
// provider with the token's `<issuer>:sub` and `<issuer>:aud` (AccessDenied). AWS says only "Not
// authorized to perform sts:AssumeRoleWithWebIdentity"; the simulator appends which condition
// failed, so the classifier can show the reason in one line.
import type { CallerIdentity } from '../world/types.js';
import { TokenError, verifyServiceAccountToken } from '../oidc/service-account-token.js';
import { QueryParams, validationError } from './query-params.js';
import type { UnsignedQueryHandler } from './query-service.js';
import { queryReply } from './query-xml.js';
import { AwsError, type AwsReply, type AwsUnsignedCall } from './server.js';
import { explainTrustDecision } from './trust-policy.js';

const ACTION = 'sts:AssumeRoleWithWebIdentity';
const DEFAULT_DURATION_SECONDS = 3600;
const NAME_PATTERN = /^[\w+=,.@-]*$/;

function invalidToken(message: string): AwsError {
  return new AwsError('InvalidIdentityToken', message, 400);
}

function notAuthorized(reason: string): AwsError {
  return new AwsError('AccessDenied', `Not authorized to perform ${ACTION}: ${reason}`, 403);
}

function assumeRoleWithWebIdentity(call: AwsUnsignedCall): AwsReply {
  const input = new QueryParams(call.params);
  const roleArn = input.requiredString('RoleArn', { min: 20, max: 2048 });
  const sessionName = input.requiredString('RoleSessionName', {
    min: 2,
    max: 64,
    pattern: NAME_PATTERN,
    patternText: '[\\w+=,.@-]*',
  });
  const token = input.requiredString('WebIdentityToken', { min: 4, max: 20000 });
  const requestedDuration = input.optionalInteger('DurationSeconds', { min: 900, max: 43200 });
  input.validate();

  const role = call.world.roles.get(roleArn);
  if (!role) throw notAuthorized(`role ${roleArn} does not exist`);

  let verified;
  try {
    verified = verifyServiceAccountToken(call.world, token, call.now);
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    if (err.code === 'expired') throw new AwsError('ExpiredTokenException', err.message, 400);
    if (err.code === 'unknown-issuer') {
      throw new AwsError(
        'InvalidIdentityToken',
        `Couldn't retrieve verification key from your identity provider: ${err.message}`,
        400,
      );
    }
    throw invalidToken(err.message);
  }
  const { claims } = verified;
  const provider = call.world.findOidcProvider(role.accountId, claims.iss);
  if (!provider) throw invalidToken(`No OpenIDConnect provider found in your account for ${claims.iss}`);
  const audience = claims.aud.find((a) => provider.clientIds.includes(a));
  if (audience === undefined) {
    throw invalidToken(
      `Incorrect token audience: ${claims.aud.join(', ') || '(none)'} is not a client id of ${provider.arn} (${provider.clientIds.join(', ')})`,
    );
  }

  const { decision, reason } = explainTrustDecision(role.assumeRolePolicyDocument, {
    action: ACTION,
    caller: { kind: 'federated', provider: provider.arn },
    context: {
      [`${provider.url}:sub`.toLowerCase()]: claims.sub,
      [`${provider.url}:aud`.toLowerCase()]: audience,
      'sts:rolesessionname': sessionName,
      'aws:federatedprovider': provider.arn,
    },
  });
  if (decision !== 'allow')
    throw notAuthorized(`role ${role.arn} cannot be assumed with web identity: ${reason}`);

  if (requestedDuration !== undefined && requestedDuration > role.maxSessionDuration) {
    throw validationError('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  const duration = requestedDuration ?? Math.min(DEFAULT_DURATION_SECONDS, role.maxSessionDuration);
  const expiresAt = new Date(Math.floor(call.now.getTime() / 1000) * 1000 + duration * 1000);
  const identity: CallerIdentity = {
    kind: 'assumed-role',
    accountId: role.accountId,
    arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`,
    userId: `${role.roleId}:${sessionName}`,
    roleArn: role.arn,
    sessionName,
  };
  const credential = call.world.issueTemporaryCredentials(identity, expiresAt);
  return queryReply('sts', 'AssumeRoleWithWebIdentity', call.requestId, {
    Credentials: {
      AccessKeyId: credential.accessKeyId,
      SecretAccessKey: credential.secretAccessKey,
      SessionToken: credential.sessionToken,
      Expiration: expiresAt,
    },
    SubjectFromWebIdentityToken: claims.sub,
    AssumedRoleUser: { AssumedRoleId: identity.userId, Arn: identity.arn },
    Provider: provider.url,
    Audience: audience,
  });
}

/** The unsigned STS action; its rate limits count against the role's account. */
export const assumeRoleWithWebIdentityHandler: UnsignedQueryHandler = {
  handle: assumeRoleWithWebIdentity,
  account: (params) => /^arn:[^:]+:iam::(\d{12}):/.exec(params.get('RoleArn') ?? '')?.[1],
};
