// Names the provisioner gives the things it creates. They are derived from the principal ARN alone
// (no state, no random part), so a re-run after a crash finds what the first run made, and any
// worker computes the same names.
import { createHash } from 'node:crypto';

/** Label put on every binding the connector creates; only such bindings are ever deleted by it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'eks-access-connector';

/** Prefix of managed Kubernetes groups and of usernames in aws-auth mappings the connector owns. */
export const MANAGED_PREFIX = 'eks-access:';

// Object names must be DNS-1123 subdomains to be safe everywhere (RBAC accepts more, tools do not).
const MAX_NAME = 253;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** First 20 hex digits of sha256(principal ARN): 80 bits, short enough for names, unique in practice. */
export function principalHash(principalArn: string): string {
  return sha256Hex(principalArn).slice(0, 20);
}

/** The Kubernetes group only this principal is put in: `eks-access:<hash>`. */
export function managedGroupFor(principalArn: string): string {
  return `${MANAGED_PREFIX}${principalHash(principalArn)}`;
}

/**
 * The username of an aws-auth mapping the connector adds. Roles keep `{{SessionName}}` so the audit
 * log says who was behind the role (EKS best practice); users have exactly one identity.
 */
export function managedUsernameFor(principalArn: string, kind: 'user' | 'role'): string {
  return kind === 'role' ? `${managedGroupFor(principalArn)}:{{SessionName}}` : managedGroupFor(principalArn);
}

/** True for usernames and groups the connector made (`eks-access:` prefix). */
export function isManagedName(name: string | undefined): boolean {
  return name !== undefined && name.startsWith(MANAGED_PREFIX);
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `eks-access-<role>-<hash>` (ClusterRoleBinding) or `eks-access-<role>-<ns>-<hash>` (RoleBinding).
 * A role name that had to be changed to fit (colons in `system:…`, upper case, length) gets a short
 * hash of the real name, so two roles can never share a binding name.
 */
export function bindingName(roleName: string, principalArn: string, namespace?: string): string {
  const hash = principalHash(principalArn);
  const tail = `${namespace ? `${namespace}-` : ''}${hash}`;
  const room = MAX_NAME - 'eks-access-'.length - tail.length - 1;
  let role = slug(roleName);
  if (role !== roleName || role.length > room) {
    const roleHash = sha256Hex(roleName).slice(0, 8);
    role = `${role.slice(0, room - roleHash.length - 1).replace(/-+$/, '')}-${roleHash}`.replace(/^-/, '');
  }
  return `eks-access-${role}-${tail}`;
}
