// IAM ARN parsing and canonicalisation. EKS has two identity mechanisms that disagree on the form of
// a role ARN: aws-auth compares against the path-less ARN that aws-iam-authenticator derives from an
// STS session, while access entries store the full ARN with its IAM path (SSO roles live under
// `aws-reserved/sso.amazonaws.com/<region>/`). Everything that compares ARNs goes through here; the
// ARN grammar itself is @eks-access/model's, re-exported.
import { isAccountId, parseIamPrincipalArn } from '@eks-access/model';

export {
  parseArn,
  isAccountId,
  parseIamPrincipalArn,
  principalTypeOf,
  isIamPrincipalArn,
  type Arn,
  type IamPrincipalKind,
  type IamPrincipalArn,
} from '@eks-access/model';

/** Builds `arn:<partition>:iam::<account>:role/<path><name>`; `path` defaults to `/`. */
export function roleArn(partition: string, accountId: string, name: string, path = '/'): string {
  return `arn:${partition}:iam::${accountId}:role${path}${name}`;
}

/** Removes the IAM path from a role ARN (the form aws-auth `rolearn` needs); other ARNs are returned unchanged. */
export function stripRolePath(arn: string): string {
  const parsed = parseIamPrincipalArn(arn);
  if (parsed?.kind !== 'role' || parsed.path === '/') return arn;
  return roleArn(parsed.partition, parsed.accountId, parsed.name);
}

/** The path-less IAM role ARN behind an STS `assumed-role/<name>/<session>` ARN, or undefined. */
export function roleArnFromAssumedRole(arn: string): string | undefined {
  const parsed = parseIamPrincipalArn(arn);
  if (parsed?.kind !== 'assumed-role') return undefined;
  return roleArn(parsed.partition, parsed.accountId, parsed.name);
}

/** True for `arn:<partition>:iam::<account>:root`. */
export function isAccountRoot(arn: string): boolean {
  return parseIamPrincipalArn(arn)?.kind === 'root';
}

/** Account id named by an IAM/STS principal ARN or a bare 12-digit id; undefined otherwise. */
export function accountIdOf(arnOrAccountId: string): string | undefined {
  if (isAccountId(arnOrAccountId)) return arnOrAccountId;
  return parseIamPrincipalArn(arnOrAccountId)?.accountId;
}

const SSO_ROLE_PREFIX = 'AWSReservedSSO_';
const SSO_PATH = /^\/aws-reserved\/sso\.amazonaws\.com\//;

/**
 * True for a role created by IAM Identity Center (AWS SSO): its name starts `AWSReservedSSO_`, and when
 * the path is known it is `aws-reserved/sso.amazonaws.com/...`. Works on path-less aws-auth ARNs too.
 */
export function isSsoRole(arn: string): boolean {
  const parsed = parseIamPrincipalArn(arn);
  if (parsed?.kind !== 'role' && parsed?.kind !== 'assumed-role') return false;
  if (!parsed.name.startsWith(SSO_ROLE_PREFIX)) return false;
  return parsed.path === '/' || SSO_PATH.test(parsed.path);
}

/**
 * The permission-set name inside an SSO role name `AWSReservedSSO_<permissionSet>_<16 hex>`; the
 * random suffix differs per account, so the permission set is what ties roles across accounts.
 */
export function ssoPermissionSetName(arn: string): string | undefined {
  if (!isSsoRole(arn)) return undefined;
  const name = parseIamPrincipalArn(arn)?.name ?? '';
  const rest = name.slice(SSO_ROLE_PREFIX.length);
  const cut = rest.lastIndexOf('_');
  return cut > 0 ? rest.slice(0, cut) : undefined;
}

/** Case-insensitive key of a role within its partition and account; IAM role names are unique ignoring case. */
function roleKey(partition: string, accountId: string, name: string): string {
  return `${partition}|${accountId}|${name.toLowerCase()}`;
}

/** Resolves path-less role ARNs (aws-auth form, STS sessions) to the real role ARN with its path. */
export interface RoleArnIndex {
  /** The known role ARN with path for a role ARN with or without path, or an assumed-role ARN. */
  resolve(arn: string): string | undefined;
  /** Known roles of one account whose names start with `prefix` (case-insensitive). */
  rolesWithPrefix(partition: string, accountId: string, prefix: string): string[];
  readonly size: number;
}

/** Indexes role ARNs (as listed by IAM ListRoles, paths included) for path restoration. */
export function createRoleArnIndex(knownRoleArns: Iterable<string> = []): RoleArnIndex {
  const byKey = new Map<string, string>();
  for (const arn of knownRoleArns) {
    const parsed = parseIamPrincipalArn(arn);
    if (parsed?.kind === 'role') byKey.set(roleKey(parsed.partition, parsed.accountId, parsed.name), arn);
  }
  return {
    size: byKey.size,
    resolve(arn) {
      const parsed = parseIamPrincipalArn(arn);
      if (parsed?.kind !== 'role' && parsed?.kind !== 'assumed-role') return undefined;
      return byKey.get(roleKey(parsed.partition, parsed.accountId, parsed.name));
    },
    rolesWithPrefix(partition, accountId, prefix) {
      const start = roleKey(partition, accountId, prefix);
      return [...byKey.entries()]
        .filter(([key]) => key.startsWith(start))
        .map(([, arn]) => arn)
        .sort();
    },
  };
}

/**
 * Comparison key for "is this the same IAM principal", following aws-iam-authenticator: lower-cased,
 * and for roles without the path (the authenticator never sees it).
 */
export function principalMatchKey(arn: string): string {
  return stripRolePath(arn).toLowerCase();
}
