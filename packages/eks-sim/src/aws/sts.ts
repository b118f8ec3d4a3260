// STS (awsQuery, 2011-06-15): GetCallerIdentity, AssumeRole and (unsigned, in sts-web-identity.ts)
// AssumeRoleWithWebIdentity. AssumeRole enforces the role's trust policy and issues temporary
// credentials into the world, so the session it returns is accepted by every other simulated API
// (IAM, EKS, the clusters' token authenticators) at once.
import type { CallerIdentity, Credential } from '../world/types.js';
import { accessDeniedMessage, decideForCaller } from './identity-policy.js';
import { QueryParams, validationError } from './query-params.js';
import { createQueryService } from './query-service.js';
import { queryReply } from './query-xml.js';
import { AwsError, type AwsCall, type AwsReply, type AwsService } from './server.js';
import { assumeRoleWithWebIdentityHandler } from './sts-web-identity.js';
import { evaluateTrustPolicy, type TrustRequest } from './trust-policy.js';

const VERSION = '2011-06-15';

/** AWS's cap on a session obtained by role chaining, whatever the role's MaxSessionDuration. */
const CHAINED_MAX_SECONDS = 3600;
const DEFAULT_DURATION_SECONDS = 3600;

const NAME_PATTERN = /^[\w+=,.@-]*$/;
const NAME_PATTERN_TEXT = '[\\w+=,.@-]*';

/**
 * The source identity of each session. It cannot live on the world's CallerIdentity (a type owned
 * by the world model), and it must follow the credential through role chaining, so it is keyed by
 * the credential object and disappears with it.
 */
const sourceIdentities = new WeakMap<Credential, string>();

function getCallerIdentity(call: AwsCall): AwsReply {
  const { identity } = call.caller;
  return queryReply('sts', 'GetCallerIdentity', call.requestId, {
    Arn: identity.arn,
    UserId: identity.userId,
    Account: identity.accountId,
  });
}

function principalType(caller: CallerIdentity): string {
  switch (caller.kind) {
    case 'user':
      return 'User';
    case 'assumed-role':
      return 'AssumedRole';
    case 'root':
      return 'Account';
  }
}

function notAuthorized(caller: CallerIdentity, action: string, resource: string): AwsError {
  return new AwsError(
    'AccessDenied',
    `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${resource}`,
    403,
  );
}

function assumeRole(call: AwsCall): AwsReply {
  const input = new QueryParams(call.params);
  const roleArn = input.requiredString('RoleArn', { min: 20, max: 2048 });
  const sessionName = input.requiredString('RoleSessionName', {
    min: 2,
    max: 64,
    pattern: NAME_PATTERN,
    patternText: NAME_PATTERN_TEXT,
  });
  const requestedDuration = input.optionalInteger('DurationSeconds', { min: 900, max: 43200 });
  const externalId = input.optionalString('ExternalId', {
    min: 2,
    max: 1224,
    pattern: /^[\w+=,.@:/-]*$/,
    patternText: '[\\w+=,.@:\\/-]*',
  });
  const requestedSourceIdentity = input.optionalString('SourceIdentity', {
    min: 2,
    max: 64,
    pattern: NAME_PATTERN,
    patternText: NAME_PATTERN_TEXT,
  });
  input.validate();
  if (!/^arn:[^:]+:[^:]*:[^:]*:[^:]*:.+$/.test(roleArn)) throw validationError(`${roleArn} is invalid`);
  if (requestedSourceIdentity?.toLowerCase().startsWith('aws:')) {
    throw validationError('SourceIdentity cannot begin with the prefix "aws:".');
  }

  const caller = call.caller.identity;
  if (caller.kind === 'root')
    throw new AwsError('AccessDenied', 'Roles may not be assumed by root accounts.', 403);

  const inheritedSourceIdentity = sourceIdentities.get(call.caller);
  if (
    inheritedSourceIdentity !== undefined &&
    requestedSourceIdentity !== undefined &&
    requestedSourceIdentity !== inheritedSourceIdentity
  ) {
    // Once set, a source identity stays with every session chained from it.
    throw notAuthorized(caller, 'sts:SetSourceIdentity', roleArn);
  }
  const sourceIdentity = requestedSourceIdentity ?? inheritedSourceIdentity;

  // AWS requires the exact ARN, path included, and says "not authorized" rather than revealing
  // whether a role exists.
  const role = call.world.roles.get(roleArn);
  if (!role) throw notAuthorized(caller, 'sts:AssumeRole', roleArn);
  const context: TrustRequest['context'] = {
    'sts:externalid': externalId,
    'sts:rolesessionname': sessionName,
    'sts:sourceidentity': requestedSourceIdentity,
    'aws:sourceidentity': sourceIdentity,
    'aws:principalarn': caller.kind === 'assumed-role' ? caller.roleArn : caller.arn,
    'aws:principalaccount': caller.accountId,
    'aws:principaltype': principalType(caller),
    'aws:userid': caller.userId,
    'aws:username': caller.kind === 'user' ? caller.arn.slice(caller.arn.lastIndexOf('/') + 1) : undefined,
  };
  const permits = (action: string) =>
    evaluateTrustPolicy(role.assumeRolePolicyDocument, { action, caller, context }) === 'allow';
  if (!permits('sts:AssumeRole')) throw notAuthorized(caller, 'sts:AssumeRole', role.arn);
  // The caller's own policies count too: an explicit deny always refuses, and across accounts they
  // must allow it (within one account the trust policy alone may grant; the simulator lets it).
  const own = decideForCaller(call.world, caller, { action: 'sts:AssumeRole', resource: role.arn });
  if (own === 'explicit-deny' || (own === 'implicit-deny' && role.accountId !== caller.accountId)) {
    throw new AwsError('AccessDenied', accessDeniedMessage(caller, 'sts:AssumeRole', role.arn, own), 403);
  }
  // Carrying a source identity into a session, even an inherited one, needs its own permission.
  if (sourceIdentity !== undefined && !permits('sts:SetSourceIdentity')) {
    throw notAuthorized(caller, 'sts:SetSourceIdentity', role.arn);
  }

  const chained = caller.kind === 'assumed-role';
  if (requestedDuration !== undefined) {
    if (chained && requestedDuration > CHAINED_MAX_SECONDS) {
      throw validationError(
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (requestedDuration > role.maxSessionDuration) {
      throw validationError(
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );
    }
  }
  const duration = requestedDuration ?? Math.min(DEFAULT_DURATION_SECONDS, role.maxSessionDuration);
  // Whole seconds, so the instant reported in Expiration is exactly when the credentials stop working.
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
  if (sourceIdentity !== undefined) sourceIdentities.set(credential, sourceIdentity);

  return queryReply('sts', 'AssumeRole', call.requestId, {
    Credentials: {
      AccessKeyId: credential.accessKeyId,
      SecretAccessKey: credential.secretAccessKey,
      SessionToken: credential.sessionToken,
      Expiration: expiresAt,
    },
    AssumedRoleUser: { AssumedRoleId: identity.userId, Arn: identity.arn },
    SourceIdentity: sourceIdentity,
  });
}

export const stsService: AwsService = createQueryService(
  'sts',
  VERSION,
  { GetCallerIdentity: getCallerIdentity, AssumeRole: assumeRole },
  { AssumeRoleWithWebIdentity: assumeRoleWithWebIdentityHandler },
);
