// `setup`: the least-privilege setup of the connector for one cluster, planned (the default) or
// applied with an administrator's credentials. Every step reads the current state fresh and
// writes only when it differs, so a re-run changes nothing; every write is announced before it is
// made (onStep 'before') and reported after (onStep 'after'), which the CLI prints and audits.
//
// - IAM: an inline policy on the connector's role (or user), scoped to this cluster, when the
//   doctor finds a call its policies do not allow.
// - API modes: an access entry with AmazonEKSAdminViewPolicy (cluster scope); with provisioning,
//   the group `eks-access-connector-provisioners` on it.
// - CONFIG_MAP: the connector's aws-auth entry (merged in with optimistic concurrency; no other
//   entry is rewritten), group `eks-access-connector-readers` bound to the read-only ClusterRole
//   `eks-access-connector-read`; bindings that name a missing role and bind only the connector
//   (the C1 guide's `read-only-access` mistake) are deleted, as they grant nothing.
// - Provisioning (when asked): ClusterRole `eks-access-connector-provision` (binding writes, bind,
//   aws-auth updates by name), never system:masters.
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DescribeAccessEntryCommand,
  ListAssociatedAccessPoliciesCommand,
  UpdateAccessEntryCommand,
  type AccessEntry,
} from '@aws-sdk/client-eks';
import {
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Role,
  V1RoleBinding,
} from '@kubernetes/client-node';
import type { AwsEndpoints } from '../aws/clients.js';
import type { CredentialsConfig } from '../aws/credentials.js';
import { runDoctor } from '../doctor/run-doctor.js';
import {
  PROVISION_AWS,
  PROVISION_KUBE,
  SETUP_NAMES,
  SYNC_AWS,
  SYNC_KUBE,
  appliesIn,
  awsAuthArn,
  policyStatements,
  rbacRules,
  type ClusterCoordinates,
  type RbacRule,
} from '../doctor/requirements.js';
import type { DoctorReport } from '../doctor/types.js';
import { EksAccessError, isEksAccessError } from '../errors.js';
import { parseAwsAuth } from '../identity/aws-auth.js';
import type { AuthenticationMode } from '../identity/identity-map.js';
import type { KubeClient } from '../kube/client.js';
import {
  addGroupToMapping,
  appendMapping,
  assertOnlyEntryChanged,
  type AwsAuthListKey,
} from '../provision/aws-auth-edit.js';
import { FIELD_MANAGER, noConflictRetry } from '../provision/context.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../provision/names.js';
import { ClusterSession, type ClusterRef } from '../session.js';

export interface SetupOptions {
  cluster: ClusterRef;
  /** The connector's IAM user or role, full ARN with its path (BATON_ROLE_ARN). */
  principalArn: string;
  /** An administrator's credentials: IAM in the principal's account, EKS and Kubernetes admin of the cluster. */
  admin: CredentialsConfig;
  /** The connector's own credentials, to find which AWS calls its policies already allow. */
  connector?: CredentialsConfig;
  endpoints?: AwsEndpoints;
  provisioning?: boolean;
  /** false: plan only (the default); true: make the changes. */
  apply: boolean;
  /** Called before each write ('before', status planned) and after it ('after', applied or failed). */
  onStep?: (step: SetupStep, phase: 'before' | 'after') => void;
}

export type SetupSystem = 'iam' | 'eks' | 'kubernetes';
export type SetupStepStatus = 'unchanged' | 'planned' | 'applied' | 'failed' | 'manual';

export interface SetupStep {
  system: SetupSystem;
  /** `iam:PutRolePolicy`, `eks:CreateAccessEntry`, `create:clusterroles`… */
  action: string;
  target: string;
  status: SetupStepStatus;
  detail: string;
  /** The request body (policy document, manifest, aws-auth text), never a secret. */
  request?: unknown;
}

export interface SetupResult {
  cluster: { name: string; region: string; arn: string; authenticationMode: AuthenticationMode };
  principalArn: string;
  applied: boolean;
  steps: SetupStep[];
  /** What the doctor found before, when the connector's credentials were given. */
  doctorBefore?: DoctorReport;
}

const RBAC = 'rbac.authorization.k8s.io';
const LABELS = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };

interface Ctx {
  options: SetupOptions;
  session: ClusterSession;
  steps: SetupStep[];
  coordinates: ClusterCoordinates;
  mode: AuthenticationMode;
}

/** Records a step that needs no write. */
function unchanged(ctx: Ctx, step: Omit<SetupStep, 'status'>): void {
  ctx.steps.push({ ...step, status: 'unchanged' });
}

/** Announces a write, makes it when applying, and records the outcome. */
async function write(ctx: Ctx, step: Omit<SetupStep, 'status'>, run: () => Promise<unknown>): Promise<void> {
  const planned: SetupStep = { ...step, status: 'planned' };
  ctx.steps.push(planned);
  ctx.options.onStep?.(planned, 'before');
  if (!ctx.options.apply) return;
  try {
    await run();
    planned.status = 'applied';
  } catch (err) {
    planned.status = 'failed';
    planned.detail = `${planned.detail}: ${err instanceof Error ? err.message : String(err)}`;
    ctx.options.onStep?.(planned, 'after');
    throw err;
  }
  ctx.options.onStep?.(planned, 'after');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function principalName(arn: string): { kind: 'role' | 'user'; name: string } {
  const m = /^arn:[^:]+:iam::\d{12}:(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (!m)
    throw new EksAccessError(
      'CONFIG_INVALID',
      `"${arn}" is not an IAM role or user ARN (BATON_ROLE_ARN / --role-arn)`,
    );
  return { kind: m[1] as 'role' | 'user', name: m[2]! };
}

/** The IAM policy: only when the connector's policies miss a call (or nothing is known about them). */
async function ensureIamPolicy(ctx: Ctx, doctor: DoctorReport | undefined): Promise<void> {
  const { options, coordinates, mode } = ctx;
  const needed = [...SYNC_AWS, ...(options.provisioning ? PROVISION_AWS : [])].filter((r) =>
    appliesIn(r, mode),
  );
  const policyName = `EksAccessConnector-${coordinates.name}-${coordinates.region}`;
  const { kind, name } = principalName(options.principalArn);
  const target = `${options.principalArn} inline policy ${policyName}`;
  const principalAccount = /:iam::(\d{12}):/.exec(options.principalArn)?.[1];
  if (doctor?.identity) {
    const missing = needed.filter((r) =>
      doctor.checks.some(
        (c) => c.id.endsWith(`:${r.action}`) && c.status === 'fail' && c.fix?.kind === 'iam-policy',
      ),
    );
    if (missing.length === 0) {
      unchanged(ctx, {
        system: 'iam',
        action: `iam:Put${kind === 'role' ? 'Role' : 'User'}Policy`,
        target,
        detail: "the connector's IAM policies already allow every call it makes",
      });
      return;
    }
  }
  const document = {
    Version: '2012-10-17',
    Statement: policyStatements(needed, coordinates, 'EksAccessConnector'),
  };
  const { iam } = ctx.session.aws;
  let current: unknown;
  try {
    const out = await ctx.session.awsCall(
      'iam',
      kind === 'role' ? 'GetRolePolicy' : 'GetUserPolicy',
      target,
      async (): Promise<{ PolicyDocument?: string }> =>
        kind === 'role'
          ? iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName }))
          : iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: policyName })),
    );
    current = out.PolicyDocument ? JSON.parse(decodeURIComponent(out.PolicyDocument)) : undefined;
  } catch (err) {
    if (!(isEksAccessError(err) && err.code === 'NOT_FOUND')) {
      if (
        isEksAccessError(err) &&
        err.code === 'AWS_ACCESS_DENIED' &&
        principalAccount !== ctx.coordinates.accountId
      ) {
        ctx.steps.push({
          system: 'iam',
          action: 'iam:PutRolePolicy',
          target,
          status: 'manual',
          detail: `the connector's ${kind} is in account ${principalAccount ?? '?'}: apply this policy there with that account's administrator`,
          request: document,
        });
        return;
      }
      throw err;
    }
  }
  if (current !== undefined && canonical(current) === canonical(document)) {
    unchanged(ctx, {
      system: 'iam',
      action: `iam:Put${kind === 'role' ? 'Role' : 'User'}Policy`,
      target,
      detail: 'the policy is in place',
    });
    return;
  }
  await write(
    ctx,
    {
      system: 'iam',
      action: `iam:Put${kind === 'role' ? 'Role' : 'User'}Policy`,
      target,
      detail: `${current === undefined ? 'add' : 'update'} the calls the connector makes on ${coordinates.name} (${needed.map((r) => r.action).join(', ')})`,
      request: document,
    },
    () =>
      ctx.session.awsCall('iam', kind === 'role' ? 'PutRolePolicy' : 'PutUserPolicy', target, () =>
        kind === 'role'
          ? iam.send(
              new PutRolePolicyCommand({
                RoleName: name,
                PolicyName: policyName,
                PolicyDocument: JSON.stringify(document),
              }),
            )
          : iam.send(
              new PutUserPolicyCommand({
                UserName: name,
                PolicyName: policyName,
                PolicyDocument: JSON.stringify(document),
              }),
            ),
      ),
  );
}

/** API modes: the access entry, its read-only access policy, and the provisioners group when asked. */
async function ensureAccessEntry(ctx: Ctx, readsOk: boolean): Promise<void> {
  const { options, session } = ctx;
  const clusterName = options.cluster.name;
  const principalArn = options.principalArn;
  const wantGroups = options.provisioning ? [SETUP_NAMES.provisionersGroup] : [];
  if (readsOk && wantGroups.length === 0) {
    unchanged(ctx, {
      system: 'eks',
      action: 'eks:CreateAccessEntry',
      target: `access entry ${principalArn} on ${clusterName}`,
      detail:
        'the connector already reaches Kubernetes through its access entry with every read the sync needs',
    });
    return;
  }
  let entry: AccessEntry | undefined;
  try {
    entry = (
      await session.awsCall('eks', 'DescribeAccessEntry', principalArn, () =>
        session.aws.eks.send(new DescribeAccessEntryCommand({ clusterName, principalArn })),
      )
    ).accessEntry;
  } catch (err) {
    if (!(isEksAccessError(err) && err.code === 'NOT_FOUND')) throw err;
  }
  const target = `access entry ${principalArn} on ${clusterName}`;
  if (!entry) {
    await write(
      ctx,
      {
        system: 'eks',
        action: 'eks:CreateAccessEntry',
        target,
        detail: `create a STANDARD access entry${wantGroups.length ? ` with groups [${wantGroups.join(', ')}]` : ''}`,
        request: { principalArn, type: 'STANDARD', kubernetesGroups: wantGroups },
      },
      () =>
        session.awsCall('eks', 'CreateAccessEntry', principalArn, () =>
          session.aws.eks.send(
            new CreateAccessEntryCommand({
              clusterName,
              principalArn,
              type: 'STANDARD',
              ...(wantGroups.length ? { kubernetesGroups: wantGroups } : {}),
            }),
          ),
        ),
    );
  } else {
    const groups = entry.kubernetesGroups ?? [];
    const missing = wantGroups.filter((g) => !groups.includes(g));
    if (missing.length === 0)
      unchanged(ctx, {
        system: 'eks',
        action: 'eks:CreateAccessEntry',
        target,
        detail: `exists (username ${entry.username ?? '?'}, groups [${groups.join(', ')}])`,
      });
    else {
      const after = [...groups, ...missing];
      await write(
        ctx,
        {
          system: 'eks',
          action: 'eks:UpdateAccessEntry',
          target,
          detail: `add groups [${missing.join(', ')}] (keeping [${groups.join(', ')}])`,
          request: { kubernetesGroups: after },
        },
        () =>
          session.awsCall('eks', 'UpdateAccessEntry', principalArn, () =>
            session.aws.eks.send(
              new UpdateAccessEntryCommand({ clusterName, principalArn, kubernetesGroups: after }),
            ),
          ),
      );
    }
  }
  let hasView = false;
  if (entry) {
    const out = await session.awsCall('eks', 'ListAssociatedAccessPolicies', principalArn, () =>
      session.aws.eks.send(new ListAssociatedAccessPoliciesCommand({ clusterName, principalArn })),
    );
    hasView = (out.associatedAccessPolicies ?? []).some(
      (p) => p.policyArn === SETUP_NAMES.readAccessPolicy && p.accessScope?.type === 'cluster',
    );
  }
  const policyTarget = `${SETUP_NAMES.readAccessPolicy.split('/').pop() ?? ''} for ${principalArn} on ${clusterName}`;
  if (hasView) {
    unchanged(ctx, {
      system: 'eks',
      action: 'eks:AssociateAccessPolicy',
      target: policyTarget,
      detail: 'associated with cluster scope',
    });
    return;
  }
  await write(
    ctx,
    {
      system: 'eks',
      action: 'eks:AssociateAccessPolicy',
      target: policyTarget,
      detail: 'associate the read-only access policy with cluster scope',
      request: { policyArn: SETUP_NAMES.readAccessPolicy, accessScope: { type: 'cluster' } },
    },
    () =>
      session.awsCall('eks', 'AssociateAccessPolicy', principalArn, () =>
        session.aws.eks.send(
          new AssociateAccessPolicyCommand({
            clusterName,
            principalArn,
            policyArn: SETUP_NAMES.readAccessPolicy,
            accessScope: { type: 'cluster' },
          }),
        ),
      ),
  );
}

/** Where the connector stands in aws-auth: the matching entry's index, username and groups. */
function findConnectorEntry(data: Record<string, string>, principalArn: string) {
  const parsed = parseAwsAuth(data);
  const isRole = /:role\//.test(principalArn);
  const want = (isRole ? awsAuthArn(principalArn) : principalArn).toLowerCase();
  return parsed.mappings
    .filter((m) =>
      isRole
        ? m.key === 'mapRoles' && m.roleArn?.toLowerCase() === want
        : m.key === 'mapUsers' && m.userArn.toLowerCase() === want,
    )
    .at(-1) as { key: AwsAuthListKey; index: number; username?: string; groups: string[] } | undefined;
}

/** CONFIG_MAP: the connector's aws-auth entry carries `groups`; read fresh, written with resourceVersion. */
async function ensureAwsAuth(
  ctx: Ctx,
  kube: KubeClient,
  groups: readonly string[],
): Promise<{ groups: string[]; username: string }> {
  const principalArn = ctx.options.principalArn;
  const key: AwsAuthListKey = /:role\//.test(principalArn) ? 'mapRoles' : 'mapUsers';
  for (let attempt = 1; ; attempt++) {
    const configMap = await kube.getConfigMap('kube-system', 'aws-auth');
    const data = { ...(configMap?.data ?? {}) };
    const entry = findConnectorEntry(data, principalArn);
    const have = entry?.groups ?? [];
    const missing = groups.filter((g) => !have.includes(g));
    const target = `kube-system/aws-auth ${key}`;
    if (entry && missing.length === 0) {
      unchanged(ctx, {
        system: 'kubernetes',
        action: 'update:configmaps',
        target,
        detail: `maps ${awsAuthArn(principalArn)} as ${entry.username ?? '?'} with groups [${have.join(', ')}]`,
      });
      return { groups: have, username: entry.username ?? '' };
    }
    const before = data[key];
    let after = before ?? '';
    if (entry) {
      for (const g of missing) after = addGroupToMapping(key, after, entry.index, g);
    } else {
      after = appendMapping(key, before, {
        [key === 'mapRoles' ? 'rolearn' : 'userarn']: awsAuthArn(principalArn),
        username: SETUP_NAMES.awsAuthUsername,
        groups: [...groups],
      });
    }
    assertOnlyEntryChanged(key, before, after, entry ? entry.index : 'appended');
    const rv = configMap?.metadata?.resourceVersion;
    const body: V1ConfigMap = configMap
      ? { ...configMap, data: { ...data, [key]: after } }
      : {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'aws-auth', namespace: 'kube-system' },
          data: { [key]: after },
        };
    try {
      await write(
        ctx,
        {
          system: 'kubernetes',
          action: configMap ? 'update:configmaps' : 'create:configmaps',
          target,
          detail: `${entry ? `add groups [${missing.join(', ')}] to the connector's entry #${entry.index}` : `append an entry mapping ${awsAuthArn(principalArn)} as ${SETUP_NAMES.awsAuthUsername}`}; every other entry is kept byte for byte${rv ? ` (resourceVersion ${rv})` : ''}${attempt > 1 ? `; redone on a fresh read after ${attempt - 1} conflicting write(s)` : ''}`,
          request: { [key]: after },
        },
        () =>
          configMap
            ? kube.call(
                'kube:update:configmaps',
                'kube-system/aws-auth',
                () =>
                  kube.core.replaceNamespacedConfigMap({
                    namespace: 'kube-system',
                    name: 'aws-auth',
                    body,
                    fieldManager: FIELD_MANAGER,
                  }),
                noConflictRetry,
              )
            : kube.call(
                'kube:create:configmaps',
                'kube-system/aws-auth',
                () =>
                  kube.core.createNamespacedConfigMap({
                    namespace: 'kube-system',
                    body,
                    fieldManager: FIELD_MANAGER,
                  }),
                noConflictRetry,
              ),
      );
      return { groups: [...have, ...missing], username: entry?.username ?? SETUP_NAMES.awsAuthUsername };
    } catch (err) {
      const conflict =
        isEksAccessError(err) && (err.code === 'KUBE_CONFLICT' || err.code === 'ALREADY_EXISTS');
      if (!conflict || attempt >= 5) throw err;
      // Someone else wrote aws-auth in between: read it again and redo the edit on top of theirs.
      ctx.steps.pop();
    }
  }
}

function sameRules(a: readonly RbacRule[] | undefined, b: readonly RbacRule[]): boolean {
  const norm = (rules: readonly RbacRule[] | undefined) =>
    canonical(
      (rules ?? []).map((r) => ({
        apiGroups: r.apiGroups ?? [],
        resources: r.resources ?? [],
        verbs: r.verbs,
        resourceNames: r.resourceNames ?? [],
      })),
    );
  return norm(a) === norm(b);
}

async function readOrUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isEksAccessError(err) && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/** Where a role and its binding live: cluster-wide, or in one namespace. */
function rbacScope(kube: KubeClient, namespace: string | undefined) {
  const ns = namespace;
  if (ns === undefined) {
    return {
      role: 'ClusterRole' as const,
      binding: 'ClusterRoleBinding' as const,
      roles: 'clusterroles',
      bindings: 'clusterrolebindings',
      target: (name: string) => name,
      metadata: (name: string) => ({ name, labels: LABELS }),
      readRole: (name: string) => kube.rbac.readClusterRole({ name }),
      createRole: (body: V1ClusterRole) => kube.rbac.createClusterRole({ body, fieldManager: FIELD_MANAGER }),
      replaceRole: (name: string, body: V1ClusterRole) =>
        kube.rbac.replaceClusterRole({ name, body, fieldManager: FIELD_MANAGER }),
      readBinding: (name: string) => kube.rbac.readClusterRoleBinding({ name }),
      createBinding: (body: V1ClusterRoleBinding) =>
        kube.rbac.createClusterRoleBinding({ body, fieldManager: FIELD_MANAGER }),
      deleteBinding: (name: string, resourceVersion: string | undefined) =>
        kube.rbac.deleteClusterRoleBinding({ name, body: { preconditions: { resourceVersion } } }),
    };
  }
  return {
    role: 'Role' as const,
    binding: 'RoleBinding' as const,
    roles: 'roles',
    bindings: 'rolebindings',
    target: (name: string) => `${ns}/${name}`,
    metadata: (name: string) => ({ name, namespace: ns, labels: LABELS }),
    readRole: (name: string) => kube.rbac.readNamespacedRole({ namespace: ns, name }),
    createRole: (body: V1Role) =>
      kube.rbac.createNamespacedRole({ namespace: ns, body, fieldManager: FIELD_MANAGER }),
    replaceRole: (name: string, body: V1Role) =>
      kube.rbac.replaceNamespacedRole({ namespace: ns, name, body, fieldManager: FIELD_MANAGER }),
    readBinding: (name: string) => kube.rbac.readNamespacedRoleBinding({ namespace: ns, name }),
    createBinding: (body: V1RoleBinding) =>
      kube.rbac.createNamespacedRoleBinding({ namespace: ns, body, fieldManager: FIELD_MANAGER }),
    deleteBinding: (name: string, resourceVersion: string | undefined) =>
      kube.rbac.deleteNamespacedRoleBinding({
        namespace: ns,
        name,
        body: { preconditions: { resourceVersion } },
      }),
  };
}

/**
 * A role with exactly `rules` and a binding of the same name that binds it to `group` only:
 * cluster-wide (ClusterRole) or, with `namespace`, a Role in that namespace (for what a ClusterRole
 * would grant too widely). Read fresh, created or corrected (a binding's roleRef cannot change: a
 * wrong binding of ours is deleted with its resourceVersion and created again), each write announced.
 */
async function ensureRoleAndBinding(
  ctx: Ctx,
  kube: KubeClient,
  want: { namespace?: string; name: string; rules: RbacRule[]; group: string },
): Promise<void> {
  const { name, rules, group } = want;
  const scope = rbacScope(kube, want.namespace);
  const target = scope.target(name);
  const step = (verb: string, kind: 'roles' | 'bindings') => ({
    system: 'kubernetes' as const,
    action: `${verb}:${scope[kind]}`,
    target,
  });
  const call = <T>(verb: string, kind: 'roles' | 'bindings', fn: () => Promise<T>) =>
    kube.call(`kube:${verb}:${scope[kind]}`, target, fn, noConflictRetry);

  const role = await readOrUndefined(() =>
    kube.call(`kube:get:${scope.roles}`, target, () => scope.readRole(name)),
  );
  const roleBody = { apiVersion: `${RBAC}/v1`, kind: scope.role, metadata: scope.metadata(name), rules };
  const described = rules
    .map(
      (r) =>
        `${r.verbs.join('/')} ${r.resources.join(',')}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}`,
    )
    .join('; ');
  if (!role) {
    await write(
      ctx,
      {
        ...step('create', 'roles'),
        detail: `create ${scope.role} ${target} (${described})`,
        request: roleBody,
      },
      () => call('create', 'roles', () => scope.createRole(roleBody)),
    );
  } else if (!sameRules(role.rules as RbacRule[] | undefined, rules)) {
    const body = {
      ...roleBody,
      metadata: { ...roleBody.metadata, resourceVersion: role.metadata?.resourceVersion },
    };
    await write(
      ctx,
      {
        ...step('update', 'roles'),
        detail: `set the rules of ${scope.role} ${target} to exactly what the connector needs (${described})`,
        request: body,
      },
      () => call('update', 'roles', () => scope.replaceRole(name, body)),
    );
  } else unchanged(ctx, { ...step('create', 'roles'), detail: 'in place with the needed rules' });

  const binding = await readOrUndefined(() =>
    kube.call(`kube:get:${scope.bindings}`, target, () => scope.readBinding(name)),
  );
  const subjects = [{ apiGroup: RBAC, kind: 'Group', name: group }];
  const bindingBody = {
    apiVersion: `${RBAC}/v1`,
    kind: scope.binding,
    metadata: scope.metadata(name),
    roleRef: { apiGroup: RBAC, kind: scope.role, name },
    subjects,
  };
  const bound = `${scope.role} ${target} to Group ${group}`;
  if (
    binding &&
    binding.roleRef.name === name &&
    binding.roleRef.kind === scope.role &&
    canonical(binding.subjects ?? []) === canonical(subjects)
  ) {
    unchanged(ctx, { ...step('create', 'bindings'), detail: `binds ${bound}` });
    return;
  }
  if (binding) {
    await write(
      ctx,
      {
        ...step('delete', 'bindings'),
        detail: `remove ${scope.binding} ${target}: it does not bind ${bound} only`,
      },
      () => call('delete', 'bindings', () => scope.deleteBinding(name, binding.metadata?.resourceVersion)),
    );
  }
  await write(ctx, { ...step('create', 'bindings'), detail: `bind ${bound}`, request: bindingBody }, () =>
    call('create', 'bindings', () => scope.createBinding(bindingBody)),
  );
}

/**
 * Deletes ClusterRoleBindings whose ClusterRole does not exist and whose every subject is the
 * connector itself (its aws-auth username, or a group only its entry carries): they grant nothing,
 * and they are what following the C1 guide literally leaves behind. Anything binding others stays.
 */
async function removeDeadConnectorBindings(
  ctx: Ctx,
  kube: KubeClient,
  username: string,
  groups: readonly string[],
): Promise<void> {
  const configMap = await kube.getConfigMap('kube-system', 'aws-auth');
  const mappings = parseAwsAuth(configMap?.data ?? {}).mappings;
  const own = findConnectorEntry({ ...(configMap?.data ?? {}) }, ctx.options.principalArn);
  // Groups carried only by the connector's own entry.
  const exclusive = groups.filter(
    (g) =>
      !mappings.some(
        (m) =>
          m.key !== 'mapAccounts' && !(m.key === own?.key && m.index === own.index) && m.groups.includes(g),
      ),
  );
  const [roles, bindings] = await Promise.all([
    kube.listAll<V1ClusterRole>('clusterroles'),
    kube.listAll<V1ClusterRoleBinding>('clusterrolebindings'),
  ]);
  const roleNames = new Set(roles.items.map((r) => r.metadata?.name));
  for (const b of bindings.items) {
    if (roleNames.has(b.roleRef.name) || b.roleRef.kind !== 'ClusterRole') continue;
    const subjects = b.subjects ?? [];
    const onlyConnector =
      subjects.length > 0 &&
      subjects.every(
        (s) =>
          (s.kind === 'User' && s.name === username) || (s.kind === 'Group' && exclusive.includes(s.name)),
      );
    const name = b.metadata?.name ?? '';
    if (!onlyConnector) continue;
    await write(
      ctx,
      {
        system: 'kubernetes',
        action: 'delete:clusterrolebindings',
        target: name,
        detail: `remove ClusterRoleBinding ${name}: its ClusterRole ${b.roleRef.name} does not exist (it grants nothing) and it binds only the connector`,
      },
      () =>
        kube.call(
          'kube:delete:clusterrolebindings',
          name,
          () =>
            kube.rbac.deleteClusterRoleBinding({
              name,
              body: { preconditions: { resourceVersion: b.metadata?.resourceVersion } },
            }),
          noConflictRetry,
        ),
    );
  }
}

/** Plans (and with `apply`, makes) the connector's least-privilege setup for one cluster. */
export async function setupCluster(options: SetupOptions): Promise<SetupResult> {
  const session = new ClusterSession({
    cluster: options.cluster,
    credentials: options.admin,
    retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000 },
    ...(options.endpoints ? { endpoints: options.endpoints } : {}),
  });
  try {
    const d = await session.describe();
    const ctx: Ctx = {
      options,
      session,
      steps: [],
      coordinates: { name: d.name, region: d.region, accountId: d.accountId },
      mode: d.authenticationMode,
    };
    principalName(options.principalArn);
    const doctorBefore = options.connector
      ? await runDoctor({
          cluster: options.cluster,
          credentials: options.connector,
          ...(options.endpoints ? { endpoints: options.endpoints } : {}),
          provisioning: options.provisioning === true,
        })
      : undefined;
    const result: SetupResult = {
      cluster: { name: d.name, region: d.region, arn: d.arn, authenticationMode: d.authenticationMode },
      principalArn: options.principalArn,
      applied: options.apply,
      steps: ctx.steps,
      ...(doctorBefore ? { doctorBefore } : {}),
    };
    await ensureIamPolicy(ctx, doctorBefore);
    const kube = await session.kube();
    // Kubernetes reads the doctor (run as the connector) already found working are left alone.
    const kubeChecks =
      doctorBefore?.checks.filter((c) => c.group === 'kubernetes' && !c.id.startsWith('kube:roleRef')) ?? [];
    const viaEntry = doctorBefore?.kubernetesUser?.via.startsWith('access entry') === true;
    const readsOk =
      kubeChecks.length > 1 &&
      kubeChecks.every((c) => c.status === 'pass') &&
      (d.authenticationMode === 'CONFIG_MAP' || viaEntry);
    if (d.authenticationMode === 'CONFIG_MAP') {
      const groups = [
        ...(readsOk ? [] : [SETUP_NAMES.readersGroup]),
        ...(options.provisioning ? [SETUP_NAMES.provisionersGroup] : []),
      ];
      if (groups.length > 0) await ensureAwsAuth(ctx, kube, groups);
      else {
        unchanged(ctx, {
          system: 'kubernetes',
          action: 'update:configmaps',
          target: 'kube-system/aws-auth',
          detail: `the connector already reaches Kubernetes with every read the sync needs (${doctorBefore?.kubernetesUser?.via ?? 'aws-auth'})`,
        });
      }
      if (!readsOk) {
        await ensureRoleAndBinding(ctx, kube, {
          name: SETUP_NAMES.readClusterRole,
          rules: rbacRules(SYNC_KUBE.filter((r) => appliesIn(r, d.authenticationMode))),
          group: SETUP_NAMES.readersGroup,
        });
      }
      const configMap = await kube.getConfigMap('kube-system', 'aws-auth');
      const entry = findConnectorEntry({ ...(configMap?.data ?? {}) }, options.principalArn);
      // Without an entry yet (a plan), the connector's username is the one setup would give it.
      await removeDeadConnectorBindings(
        ctx,
        kube,
        entry?.username ?? SETUP_NAMES.awsAuthUsername,
        entry?.groups ?? [],
      );
    } else {
      await ensureAccessEntry(ctx, readsOk);
    }
    if (options.provisioning) {
      const kubeNeeds = PROVISION_KUBE.filter((r) => appliesIn(r, d.authenticationMode));
      const clusterWide = kubeNeeds.filter((r) => !r.namespace || r.name);
      await ensureRoleAndBinding(ctx, kube, {
        name: SETUP_NAMES.provisionClusterRole,
        rules: rbacRules(clusterWide),
        group: SETUP_NAMES.provisionersGroup,
      });
      const inKubeSystem = kubeNeeds.filter((r) => r.namespace && !r.name);
      if (inKubeSystem.length > 0) {
        await ensureRoleAndBinding(ctx, kube, {
          namespace: 'kube-system',
          name: SETUP_NAMES.provisionRole,
          rules: rbacRules(inKubeSystem),
          group: SETUP_NAMES.provisionersGroup,
        });
      }
    }
    return result;
  } finally {
    session.close();
  }
}
