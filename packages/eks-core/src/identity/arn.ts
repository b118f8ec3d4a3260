// IAM ARN parsing and canonicalisation. EKS has two identity mechanisms that disagree on the form of
// a role ARN: aws-auth compares against the path-less ARN that aws-iam-authenticator derives from an
// STS session, while access entries store the full ARN with its IAM path (SSO roles live under
// `aws-reserved/sso.amazonaws.com/<region>/`). Everything that compares ARNs goes through here.

/** The five colon-separated fields of an ARN after `arn:`; `resource` keeps any further colons. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

export type IamPrincipalKind = 'user' | 'role' | 'root' | 'assumed-role' | 'federated-user';

/** An IAM identity ARN split into its parts. `path` is `/` or `/a/b/`, as IAM reports it. */
export interface IamPrincipalArn {
  kind: IamPrincipalKind;
  arn: string;
  partition: string;
  accountId: string;
  path: string;
  /** User or role name; for `assumed-role` the role name, for `root` empty. */
  name: string;
  /** Only for `assumed-role`. */
  sessionName?: string;
}

// aws, aws-cn, aws-us-gov and the isolated partitions (aws-iso, aws-iso-b, ...) share this shape.
const PARTITION = /^aws(?:-[a-z]+)*$/;
const ACCOUNT_ID = /^\d{12}$/;
// IAM allows these characters in user/role names and path segments.
const IAM_NAME = /^[\w+=,.@-]+$/;

/** Splits an ARN into partition, service, region, account and resource, or undefined if it is not one. */
export function parseArn(arn: string): Arn | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition = '', service = '', region = '', accountId = ''] = parts;
  if (!PARTITION.test(partition) || service === '') return undefined;
  return { partition, service, region, accountId, resource: parts.slice(5).join(':') };
}

/** True for a 12-digit AWS account id. */
export function isAccountId(value: string): boolean {
  return ACCOUNT_ID.test(value);
}

/** Parses an IAM user, role, account-root, STS assumed-role or federated-user ARN. */
export function parseIamPrincipalArn(arn: string): IamPrincipalArn | undefined {
  const parsed = parseArn(arn);
  if (!parsed || !isAccountId(parsed.accountId) || parsed.region !== '') return undefined;
  const { partition, accountId, resource } = parsed;
  if (parsed.service === 'iam') {
    if (resource === 'root') return { kind: 'root', arn, partition, accountId, path: '/', name: '' };
    const slash = resource.indexOf('/');
    if (slash < 0) return undefined;
    const type = resource.slice(0, slash);
    if (type !== 'user' && type !== 'role') return undefined;
    const segments = resource.slice(slash + 1).split('/');
    const name = segments.pop() ?? '';
    if (!IAM_NAME.test(name) || !segments.every((s) => IAM_NAME.test(s))) return undefined;
    const path = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
    return { kind: type, arn, partition, accountId, path, name };
  }
  if (parsed.service === 'sts') {
    const segments = resource.split('/');
    if (segments[0] === 'assumed-role' && segments.length >= 3) {
      // STS session ARNs never carry the role path; the session name is always the last segment.
      const sessionName = segments[segments.length - 1] ?? '';
      const name = segments.slice(1, -1).join('/');
      if (name === '' || sessionName === '') return undefined;
      return { kind: 'assumed-role', arn, partition, accountId, path: '/', name, sessionName };
    }
    if (segments[0] === 'federated-user' && segments.length === 2 && segments[1]) {
      return { kind: 'federated-user', arn, partition, accountId, path: '/', name: segments[1] };
    }
  }
  return undefined;
}

/** Grant principal type of an IAM ARN: `iam_user` for users, `role` for roles, otherwise undefined. */
export function principalTypeOf(arn: string): 'iam_user' | 'role' | undefined {
  const parsed = parseIamPrincipalArn(arn);
  if (parsed?.kind === 'user') return 'iam_user';
  if (parsed?.kind === 'role') return 'role';
  return undefined;
}

/** True for a user ARN or role ARN (with or without path) in any partition. */
export function isIamPrincipalArn(arn: string): boolean {
  return principalTypeOf(arn) !== undefined;
}

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
