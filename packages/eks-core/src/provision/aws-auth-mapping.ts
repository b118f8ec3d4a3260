// The principal's entry in kube-system/aws-auth: find it the way aws-iam-authenticator does, and
// add or extend the one entry the connector owns. Writes carry the ConfigMap's resourceVersion; a
// 409 means another writer (eksctl, GitOps, a person) got there first, so the ConfigMap is read
// again and the edit redone on top of their change.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { EksAccessError } from '../errors.js';
import { isSsoRole, parseIamPrincipalArn, ssoPermissionSetName, stripRolePath } from '../identity/arn.js';
import { parseAwsAuth, type AwsAuthRoleMapping, type AwsAuthUserMapping } from '../identity/aws-auth.js';
import {
  addGroupToMapping,
  appendMapping,
  assertOnlyEntryChanged,
  type AwsAuthListKey,
} from './aws-auth-edit.js';
import { FIELD_MANAGER, noConflictRetry, type ProvisionContext } from './context.js';
import { managedGroupFor, managedUsernameFor } from './names.js';

const NAMESPACE = 'kube-system';
const NAME = 'aws-auth';
const TARGET = `${NAMESPACE}/${NAME}`;
/** Conflicts tolerated before giving up; each one means a concurrent writer changed aws-auth. */
export const AWS_AUTH_MAX_ATTEMPTS = 5;

/** The principal's effective aws-auth entry. */
export interface AwsAuthEntry {
  key: AwsAuthListKey;
  index: number;
  username?: string;
  groups: string[];
  /** The connector added it (its username starts with this principal's managed prefix). */
  owned: boolean;
  /** Matched by an `sso:` permission-set matcher rather than by ARN. */
  viaSso: boolean;
  /** Every other field, for the audit trail. */
  raw: Record<string, unknown>;
}

export interface AwsAuthState {
  configMap: V1ConfigMap | undefined;
  entry: AwsAuthEntry | undefined;
  /** The principal's account is listed in mapAccounts (its identity then defaults to its ARN). */
  viaMapAccounts: boolean;
}

/** Reads aws-auth fresh; undefined ConfigMap when it does not exist. */
export async function readAwsAuthConfigMap(ctx: ProvisionContext): Promise<V1ConfigMap | undefined> {
  return ctx.kube.getConfigMap(NAMESPACE, NAME);
}

function isOwned(ctx: ProvisionContext, username: string | undefined): boolean {
  return username !== undefined && username.startsWith(managedGroupFor(ctx.principal.arn));
}

/**
 * Finds the principal's entry as aws-iam-authenticator would: ARNs compared lower-cased, role ARNs
 * only path-less (an entry with a path never matches), the last duplicate wins, and an explicit
 * rolearn before an `sso:` matcher.
 */
export function findAwsAuthEntry(
  ctx: ProvisionContext,
  data: Readonly<Record<string, string>> | undefined,
): AwsAuthEntry | undefined {
  const parsed = parseAwsAuth(data);
  const { principal } = ctx;
  const raw = (key: AwsAuthListKey, index: number) => rawEntry(data?.[key], index);
  const toEntry = (m: AwsAuthRoleMapping | AwsAuthUserMapping, viaSso: boolean): AwsAuthEntry => ({
    key: m.key,
    index: m.index,
    ...(m.username === undefined ? {} : { username: m.username }),
    groups: m.groups,
    owned: !viaSso && isOwned(ctx, m.username),
    viaSso,
    raw: raw(m.key, m.index),
  });
  if (principal.kind === 'user') {
    const want = principal.arn.toLowerCase();
    const hit = parsed.mappings
      .filter((m): m is AwsAuthUserMapping => m.key === 'mapUsers' && m.userArn.toLowerCase() === want)
      .at(-1);
    return hit ? toEntry(hit, false) : undefined;
  }
  const want = stripRolePath(principal.arn).toLowerCase();
  const roles = parsed.mappings.filter((m): m is AwsAuthRoleMapping => m.key === 'mapRoles');
  const explicit = roles
    .filter(
      (m) =>
        m.roleArn !== undefined &&
        parseIamPrincipalArn(m.roleArn)?.path === '/' &&
        m.roleArn.toLowerCase() === want,
    )
    .at(-1);
  if (explicit) return toEntry(explicit, false);
  if (!isSsoRole(principal.arn)) return undefined;
  const permissionSet = ssoPermissionSetName(principal.arn);
  const sso = roles
    .filter(
      (m) =>
        m.sso &&
        m.sso.permissionSetName === permissionSet &&
        m.sso.accountId === principal.accountId &&
        m.sso.partition === principal.partition,
    )
    .at(-1);
  return sso ? toEntry(sso, true) : undefined;
}

// The entry as written, every field kept, for the audit trail (the authoritative parse is parseAwsAuth).
function rawEntry(text: string | undefined, index: number): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const list: unknown = parseYaml(text, { schema: 'failsafe', uniqueKeys: false });
    const item: unknown = Array.isArray(list) ? list[index] : undefined;
    return typeof item === 'object' && item !== null && !Array.isArray(item)
      ? (item as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Reads aws-auth and finds the principal's entry in it. */
export async function readAwsAuthState(ctx: ProvisionContext): Promise<AwsAuthState> {
  const configMap = await readAwsAuthConfigMap(ctx);
  const data = configMap?.data;
  const viaMapAccounts = parseAwsAuth(data).mappings.some(
    (m) => m.key === 'mapAccounts' && m.accountId === ctx.principal.accountId,
  );
  return { configMap, entry: findAwsAuthEntry(ctx, data), viaMapAccounts };
}

function newEntry(ctx: ProvisionContext, group: string): Record<string, unknown> {
  const { principal } = ctx;
  const username = managedUsernameFor(principal.arn, principal.kind);
  return principal.kind === 'role'
    ? { rolearn: stripRolePath(principal.arn), username, groups: [group] }
    : { userarn: principal.arn, username, groups: [group] };
}

function isConflict(err: unknown): boolean {
  return (
    err instanceof EksAccessError &&
    (err.code === 'KUBE_CONFLICT' || err.code === 'ALREADY_EXISTS' || err.code === 'NOT_FOUND')
  );
}

/**
 * Makes sure aws-auth maps the principal with `group`: appends an entry the connector owns when the
 * principal has none (creating the `mapRoles`/`mapUsers` key, or the ConfigMap, when missing), or
 * adds the group to the connector's own entry. An entry someone else wrote is never touched: the
 * caller decides what to do about those before calling this.
 */
export async function ensureAwsAuthGroup(ctx: ProvisionContext, group: string): Promise<void> {
  const { kube, log, principal } = ctx;
  const key: AwsAuthListKey = principal.kind === 'role' ? 'mapRoles' : 'mapUsers';
  for (let attempt = 1; ; attempt++) {
    const configMap = await readAwsAuthConfigMap(ctx);
    const data = { ...(configMap?.data ?? {}) };
    const entry = findAwsAuthEntry(ctx, data);
    const rv = configMap?.metadata?.resourceVersion;
    const step = {
      system: 'kubernetes' as const,
      operation: configMap ? 'update:configmaps' : 'create:configmaps',
      target: TARGET,
    };
    if (entry && !entry.owned) {
      throw new EksAccessError(
        'PROVISIONING_REFUSED',
        `aws-auth ${entry.key} #${entry.index} maps ${principal.arn} and was not written by the connector; it is left as it is`,
      );
    }
    if (entry?.groups.includes(group)) {
      log.unchanged({
        ...step,
        before: { key, index: entry.index, entry: entry.raw, resourceVersion: rv },
        note: `the connector's aws-auth entry has group ${group}`,
      });
      return;
    }
    const before = data[key];
    const after = entry
      ? addGroupToMapping(key, before ?? '', entry.index, group)
      : appendMapping(key, before, newEntry(ctx, group));
    assertOnlyEntryChanged(key, before, after, entry ? entry.index : 'appended');
    const afterEntry = findAwsAuthEntry(ctx, { ...data, [key]: after });
    const body: V1ConfigMap = configMap
      ? { ...configMap, data: { ...data, [key]: after } }
      : {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: NAME, namespace: NAMESPACE },
          data: { [key]: after },
        };
    const notes = [
      entry
        ? `adds group ${group} to the connector's own entry ${key} #${entry.index}`
        : `adds an entry the connector owns to ${key}${before === undefined ? ' (creating the key)' : ''}`,
      ...(attempt > 1 ? [`redone on a fresh read after ${attempt - 1} conflicting write(s) by others`] : []),
    ];
    try {
      await log.write(
        {
          ...step,
          request: {
            metadata: { namespace: NAMESPACE, name: NAME, ...(rv ? { resourceVersion: rv } : {}) },
            data: { [key]: after },
          },
          before: { key, resourceVersion: rv ?? null, entry: entry ? entry.raw : null },
          after: { key, entry: afterEntry?.raw ?? null },
          note: notes.join('; '),
        },
        () =>
          configMap
            ? kube.call(
                'kube:update:configmaps',
                TARGET,
                () =>
                  kube.core.replaceNamespacedConfigMap({
                    namespace: NAMESPACE,
                    name: NAME,
                    body,
                    fieldManager: FIELD_MANAGER,
                  }),
                noConflictRetry,
              )
            : kube.call(
                'kube:create:configmaps',
                TARGET,
                () =>
                  kube.core.createNamespacedConfigMap({
                    namespace: NAMESPACE,
                    body,
                    fieldManager: FIELD_MANAGER,
                  }),
                noConflictRetry,
              ),
        (r) => ({ key, resourceVersion: r.metadata?.resourceVersion, entry: afterEntry?.raw ?? null }),
      );
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= AWS_AUTH_MAX_ATTEMPTS) throw err;
    }
  }
}
