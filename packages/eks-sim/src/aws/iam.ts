// IAM (awsQuery, 2010-05-08): the read side the connector syncs from — ListRoles, GetRole,
// ListUsers, GetUser — and the inline identity policies of roles and users (Put/Get/List/Delete
// RolePolicy and UserPolicy), always scoped to the caller's own account, as IAM is.
import type { IamRole, IamUser, IdentityPolicies, PolicyDocument, Tag } from '../world/types.js';
import { decodeMarker, encodeMarker, pageAfter } from './query-marker.js';
import { QueryParams, validationError } from './query-params.js';
import { createQueryService } from './query-service.js';
import { queryReply, type XmlFields } from './query-xml.js';
import { AwsError, type AwsCall, type AwsReply, type AwsService } from './server.js';

const VERSION = '2010-05-08';

const PATH_PREFIX_RULE = {
  min: 1,
  max: 512,
  pattern: /^\/[\x21-\x7f]*$/,
  patternText: '\\u002F[\\u0021-\\u007F]*',
};
const MARKER_RULE = { min: 1, pattern: /^[\x20-\xff]+$/, patternText: '[\\u0020-\\u00FF]+' };
const MAX_ITEMS_RULE = { min: 1, max: 1000 };
const DEFAULT_MAX_ITEMS = 100;
const ROLE_NAME_RULE = { min: 1, max: 64, pattern: /^[\w+=,.@-]+$/, patternText: '[\\w+=,.@-]+' };
const USER_NAME_RULE = { min: 1, max: 128, pattern: /^[\w+=,.@-]+$/, patternText: '[\\w+=,.@-]+' };

/** When the world does not know an account's creation date (only GetUser on the root reports it). */
const ACCOUNT_CREATE_DATE = new Date('2024-01-01T00:00:00Z');

function tagsXml(tags: readonly Tag[]): XmlFields[] | undefined {
  return tags.length === 0 ? undefined : tags.map((t) => ({ Key: t.Key, Value: t.Value }));
}

/** A role as IAM lists it; the trust policy is URL-encoded JSON, as IAM returns it. */
function roleXml(role: IamRole, withTags: boolean): XmlFields {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(role.assumeRolePolicyDocument)),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    // List operations leave tags out; only GetRole returns them.
    Tags: withTags ? tagsXml(role.tags) : undefined,
  };
}

function userXml(user: IamUser, withTags: boolean): XmlFields {
  return {
    Path: user.path,
    UserName: user.userName,
    UserId: user.userId,
    Arn: user.arn,
    CreateDate: user.createDate,
    Tags: withTags ? tagsXml(user.tags) : undefined,
  };
}

interface ListInput {
  pathPrefix: string;
  after: string | undefined;
  maxItems: number;
}

function readListInput(call: AwsCall, operation: string): ListInput {
  const input = new QueryParams(call.params);
  const pathPrefix = input.optionalString('PathPrefix', PATH_PREFIX_RULE) ?? '/';
  const marker = input.optionalString('Marker', MARKER_RULE);
  const maxItems = input.optionalInteger('MaxItems', MAX_ITEMS_RULE) ?? DEFAULT_MAX_ITEMS;
  input.validate();
  const after = marker === undefined ? undefined : decodeMarker(marker, markerScope(call, operation));
  return { pathPrefix, after, maxItems };
}

/** Markers are bound to the listing and account they came from. */
function markerScope(call: AwsCall, operation: string): string {
  return `${operation}/${call.caller.identity.accountId}`;
}

function listRoles(call: AwsCall): AwsReply {
  const { pathPrefix, after, maxItems } = readListInput(call, 'ListRoles');
  const roles = call.world
    .rolesInAccount(call.caller.identity.accountId)
    .filter((r) => r.path.startsWith(pathPrefix));
  // Path plus name is unique (paths end in "/", names hold none) and is the world's listing order.
  const page = pageAfter(roles, (r) => r.path + r.roleName, after, maxItems);
  return queryReply('iam', 'ListRoles', call.requestId, {
    Roles: page.items.map((r) => roleXml(r, false)),
    IsTruncated: page.nextKey !== undefined,
    Marker:
      page.nextKey === undefined ? undefined : encodeMarker(markerScope(call, 'ListRoles'), page.nextKey),
  });
}

function getRole(call: AwsCall): AwsReply {
  const input = new QueryParams(call.params);
  const roleName = input.requiredString('RoleName', ROLE_NAME_RULE);
  input.validate();
  const role = call.world.findRoleByName(call.caller.identity.accountId, roleName);
  if (!role) throw new AwsError('NoSuchEntity', `The role with name ${roleName} cannot be found.`, 404);
  return queryReply('iam', 'GetRole', call.requestId, { Role: roleXml(role, true) });
}

function listUsers(call: AwsCall): AwsReply {
  const { pathPrefix, after, maxItems } = readListInput(call, 'ListUsers');
  const users = call.world
    .usersInAccount(call.caller.identity.accountId)
    .filter((u) => u.path.startsWith(pathPrefix));
  const page = pageAfter(users, (u) => u.path + u.userName, after, maxItems);
  return queryReply('iam', 'ListUsers', call.requestId, {
    Users: page.items.map((u) => userXml(u, false)),
    IsTruncated: page.nextKey !== undefined,
    Marker:
      page.nextKey === undefined ? undefined : encodeMarker(markerScope(call, 'ListUsers'), page.nextKey),
  });
}

function getUser(call: AwsCall): AwsReply {
  const input = new QueryParams(call.params);
  const userName = input.optionalString('UserName', USER_NAME_RULE);
  input.validate();
  const caller = call.caller.identity;
  let user: IamUser | undefined;
  if (userName !== undefined) {
    user = call.world.findUserByName(caller.accountId, userName);
    if (!user) throw new AwsError('NoSuchEntity', `The user with name ${userName} cannot be found.`, 404);
  } else if (caller.kind === 'user') {
    user = call.world.users.get(caller.arn);
    if (!user) throw new AwsError('NoSuchEntity', `The user with ARN ${caller.arn} cannot be found.`, 404);
  } else if (caller.kind === 'root') {
    // The root user has neither a name nor a path in IAM's answer.
    return queryReply('iam', 'GetUser', call.requestId, {
      User: { UserId: caller.userId, Arn: caller.arn, CreateDate: ACCOUNT_CREATE_DATE },
    });
  } else {
    throw validationError('Must specify userName when calling with non-User credentials');
  }
  return queryReply('iam', 'GetUser', call.requestId, { User: userXml(user, true) });
}

const POLICY_NAME_RULE = { min: 1, max: 128, pattern: /^[\w+=,.@-]+$/, patternText: '[\\w+=,.@-]+' };

function readPolicyDocument(raw: string): PolicyDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new AwsError('MalformedPolicyDocument', 'Syntax errors in policy.', 400);
  }
  const doc = parsed as { Statement?: unknown } | null;
  if (doc === null || typeof doc !== 'object' || doc.Statement === undefined) {
    throw new AwsError('MalformedPolicyDocument', 'Syntax errors in policy.', 400);
  }
  const statements = Array.isArray(doc.Statement) ? (doc.Statement as unknown[]) : [doc.Statement];
  for (const st of statements) {
    const s = st as Record<string, unknown> | null;
    if (s === null || typeof s !== 'object' || (s.Effect !== 'Allow' && s.Effect !== 'Deny')) {
      throw new AwsError(
        'MalformedPolicyDocument',
        'Policy statement must contain an Effect of Allow or Deny.',
        400,
      );
    }
    if (s.Principal !== undefined || s.NotPrincipal !== undefined) {
      throw new AwsError('MalformedPolicyDocument', 'Policy document should not specify a principal.', 400);
    }
    if (s.Action === undefined && s.NotAction === undefined) {
      throw new AwsError('MalformedPolicyDocument', 'Policy statement must contain actions.', 400);
    }
    if (s.Resource === undefined && s.NotResource === undefined) {
      throw new AwsError('MalformedPolicyDocument', 'Policy statement must contain resources.', 400);
    }
  }
  return { ...(parsed as PolicyDocument), Statement: statements as PolicyDocument['Statement'] };
}

/** The role or user an inline-policy call names, in the caller's account. */
function policyOwner(
  call: AwsCall,
  kind: 'role' | 'user',
  name: string,
): { arn: string; holder: IamRole | IamUser } {
  const account = call.caller.identity.accountId;
  const holder =
    kind === 'role' ? call.world.findRoleByName(account, name) : call.world.findUserByName(account, name);
  if (!holder) throw new AwsError('NoSuchEntity', `The ${kind} with name ${name} cannot be found.`, 404);
  return { arn: holder.arn, holder };
}

function inlinePolicyHandlers(kind: 'role' | 'user') {
  const Kind = kind === 'role' ? 'Role' : 'User';
  const nameParam = `${Kind}Name`;
  const nameRule = kind === 'role' ? ROLE_NAME_RULE : USER_NAME_RULE;
  const put = (call: AwsCall): AwsReply => {
    const input = new QueryParams(call.params);
    const name = input.requiredString(nameParam, nameRule);
    const policyName = input.requiredString('PolicyName', POLICY_NAME_RULE);
    const document = input.requiredString('PolicyDocument', { min: 1, max: 131072 });
    input.validate();
    const { holder } = policyOwner(call, kind, name);
    const parsed = readPolicyDocument(document);
    // A principal whose policies were not modelled starts being evaluated from its first policy on.
    const policies: IdentityPolicies = holder.policies ?? { inline: new Map(), managed: [] };
    policies.inline.set(policyName, parsed);
    holder.policies = policies;
    return queryReply('iam', `Put${Kind}Policy`, call.requestId);
  };
  const get = (call: AwsCall): AwsReply => {
    const input = new QueryParams(call.params);
    const name = input.requiredString(nameParam, nameRule);
    const policyName = input.requiredString('PolicyName', POLICY_NAME_RULE);
    input.validate();
    const { holder } = policyOwner(call, kind, name);
    const document = holder.policies?.inline.get(policyName);
    if (!document) {
      throw new AwsError('NoSuchEntity', `The ${kind} policy with name ${policyName} cannot be found.`, 404);
    }
    return queryReply('iam', `Get${Kind}Policy`, call.requestId, {
      [nameParam]: name,
      PolicyName: policyName,
      PolicyDocument: encodeURIComponent(JSON.stringify(document)),
    });
  };
  const list = (call: AwsCall): AwsReply => {
    const input = new QueryParams(call.params);
    const name = input.requiredString(nameParam, nameRule);
    input.validate();
    const { holder } = policyOwner(call, kind, name);
    return queryReply('iam', `List${Kind}Policies`, call.requestId, {
      PolicyNames: [...(holder.policies?.inline.keys() ?? [])].sort(),
      IsTruncated: false,
    });
  };
  const remove = (call: AwsCall): AwsReply => {
    const input = new QueryParams(call.params);
    const name = input.requiredString(nameParam, nameRule);
    const policyName = input.requiredString('PolicyName', POLICY_NAME_RULE);
    input.validate();
    const { holder } = policyOwner(call, kind, name);
    if (!holder.policies?.inline.delete(policyName)) {
      throw new AwsError('NoSuchEntity', `The ${kind} policy with name ${policyName} cannot be found.`, 404);
    }
    return queryReply('iam', `Delete${Kind}Policy`, call.requestId);
  };
  return { put, get, list, remove };
}

const rolePolicies = inlinePolicyHandlers('role');
const userPolicies = inlinePolicyHandlers('user');

/** The resource IAM authorizes a call on: the named role or user (with its path when it exists). */
function namedResource(kind: 'role' | 'user', param: string) {
  return (call: AwsCall): string => {
    const account = call.caller.identity.accountId;
    const name = call.params.get(param);
    if (name === undefined) {
      // GetUser without a name describes the caller.
      return kind === 'user' && call.caller.identity.kind === 'user'
        ? call.caller.identity.arn
        : `arn:aws:iam::${account}:${kind}/`;
    }
    const found =
      kind === 'role' ? call.world.findRoleByName(account, name) : call.world.findUserByName(account, name);
    return found?.arn ?? `arn:aws:iam::${account}:${kind}/${name}`;
  };
}

const accountPath = (kind: 'role' | 'user') => (call: AwsCall) =>
  `arn:aws:iam::${call.caller.identity.accountId}:${kind}/`;

export const iamService: AwsService = createQueryService(
  'iam',
  VERSION,
  {
    ListRoles: listRoles,
    GetRole: getRole,
    ListUsers: listUsers,
    GetUser: getUser,
    PutRolePolicy: rolePolicies.put,
    GetRolePolicy: rolePolicies.get,
    ListRolePolicies: rolePolicies.list,
    DeleteRolePolicy: rolePolicies.remove,
    PutUserPolicy: userPolicies.put,
    GetUserPolicy: userPolicies.get,
    ListUserPolicies: userPolicies.list,
    DeleteUserPolicy: userPolicies.remove,
  },
  {},
  {
    ListRoles: accountPath('role'),
    ListUsers: accountPath('user'),
    GetRole: namedResource('role', 'RoleName'),
    GetUser: namedResource('user', 'UserName'),
    PutRolePolicy: namedResource('role', 'RoleName'),
    GetRolePolicy: namedResource('role', 'RoleName'),
    ListRolePolicies: namedResource('role', 'RoleName'),
    DeleteRolePolicy: namedResource('role', 'RoleName'),
    PutUserPolicy: namedResource('user', 'UserName'),
    GetUserPolicy: namedResource('user', 'UserName'),
    ListUserPolicies: namedResource('user', 'UserName'),
    DeleteUserPolicy: namedResource('user', 'UserName'),
  },
);
