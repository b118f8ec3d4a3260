// ARN grammar: an ARN split into its fields, and the IAM principal ARNs (users, roles, account
// roots, STS sessions, federated users) that grant ids and provisioning requests name. It lives here
// because the id grammar needs it (a `role:<arn>:assignment` id, a grant to `iam_user:<arn>`);
// eks-core adds the canonical forms EKS needs (paths stripped for aws-auth, SSO roles, indexes).

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
