// `doctor`: walks the connector's setup step by step, as the C1 guide lays it out, with the
// connector's own credentials, and says for each step whether it works and, if not, the exact
// least-privilege change that fixes it. Every check is a real call: AWS permissions are exercised
// (writes with requests that cannot change anything: a principal that does not exist), Kubernetes
// permissions are asked with SelfSubjectAccessReview, nothing is written anywhere.
import {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAccessEntriesCommand,
  ListAccessPoliciesCommand,
  ListAssociatedAccessPoliciesCommand,
  UpdateAccessEntryCommand,
  type AccessEntry,
} from '@aws-sdk/client-eks';
import { GetRoleCommand, GetUserCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Role,
  V1RoleBinding,
  RbacV1Subject,
} from '@kubernetes/client-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { iamRegionFor, type AwsEndpoints } from '../aws/clients.js';
import type { AssumeRoleStep, CredentialsConfig } from '../aws/credentials.js';
import { classifyAwsError, isEksAccessError } from '../errors.js';
import { AUTHENTICATION_MODES, type AuthenticationMode } from '../identity/identity-map.js';
import { KubeClient } from '../kube/client.js';
import { EksTokenSource } from '../kube/eks-token.js';
import { CallStats, type CallPolicy } from '../limits/call-policy.js';
import { InProcessRateLimiter } from '../limits/rate-limiter.js';
import type { ClusterRef } from '../session.js';
import {
  PROVISION_AWS,
  PROVISION_KUBE,
  SETUP_NAMES,
  SYNC_AWS,
  SYNC_KUBE,
  accessEntryCommands,
  appliesIn,
  awsAuthEntryYaml,
  clusterRoleYaml,
  policyStatements,
  rbacRules,
  type AwsRequirement,
  type ClusterCoordinates,
  type KubeRequirement,
  type Subject,
} from './requirements.js';
import { overallStatus, type DoctorCheck, type DoctorFix, type DoctorReport } from './types.js';

export interface DoctorOptions {
  cluster: ClusterRef;
  credentials: CredentialsConfig;
  endpoints?: AwsEndpoints;
  /** Also check every write provisioning needs. */
  provisioning?: boolean;
  now?: () => Date;
}

/** A principal that does not exist: write probes name it, so an allowed write still changes nothing. */
export const PROBE_PRINCIPAL_NAME = 'eks-access-doctor-probe-does-not-exist';

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

interface AwsFailure {
  name: string;
  message: string;
}

function failureOf(err: unknown): AwsFailure {
  const e = (err ?? {}) as { name?: string; message?: string };
  return { name: e.name ?? 'Error', message: (e.message ?? String(err)).split('\n')[0]! };
}

function staticProvider(c: AwsCredentialIdentity): AwsCredentialIdentityProvider {
  return () => Promise.resolve(c);
}

/** The IAM user or role ARN behind an STS identity (role ARNs from a session lose their path). */
function principalOfCaller(arn: string): string {
  const m = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}

function accountOfArn(arn: string | undefined): string | undefined {
  return arn ? /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1] : undefined;
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function iamPolicyFix(
  requirements: readonly AwsRequirement[],
  c: ClusterCoordinates,
  principalArn: string,
  policyName: string,
): DoctorFix {
  const document = { Version: '2012-10-17', Statement: policyStatements(requirements, c) };
  const role = /:role\/(?:.*\/)?([^/]+)$/.exec(principalArn)?.[1];
  const user = /:user\/(?:.*\/)?([^/]+)$/.exec(principalArn)?.[1];
  const target = role
    ? `aws iam put-role-policy --role-name ${role}`
    : `aws iam put-user-policy --user-name ${user ?? '<user>'}`;
  return {
    kind: 'iam-policy',
    summary: `allow ${requirements.map((r) => r.action).join(', ')} in the identity policy of ${principalArn}`,
    text: `${json(document)}\n\n# apply it as an inline policy (or merge the statements into an existing one):\n${target} --policy-name ${policyName} --policy-document '${JSON.stringify(document)}'`,
  };
}

interface Ctx {
  checks: DoctorCheck[];
  options: DoctorOptions;
  stsRegion: string;
}

function add(ctx: Ctx, check: DoctorCheck): DoctorCheck {
  ctx.checks.push(check);
  return check;
}

function sts(ctx: Ctx, credentials: AwsCredentialIdentityProvider): STSClient {
  const endpoint = ctx.options.endpoints?.sts;
  return new STSClient({
    region: ctx.stsRegion,
    credentials,
    maxAttempts: 3,
    ...(endpoint ? { endpoint } : {}),
  });
}

async function callerIdentity(
  ctx: Ctx,
  credentials: AwsCredentialIdentityProvider,
): Promise<{ ok: true; arn: string; account: string } | { ok: false; failure: AwsFailure }> {
  const client = sts(ctx, credentials);
  try {
    const out = await client.send(new GetCallerIdentityCommand({}));
    return { ok: true, arn: out.Arn ?? '', account: out.Account ?? '' };
  } catch (err) {
    return { ok: false, failure: failureOf(err) };
  } finally {
    client.destroy();
  }
}

async function assumeRole(
  ctx: Ctx,
  credentials: AwsCredentialIdentityProvider,
  step: AssumeRoleStep,
  externalId: string | undefined,
): Promise<{ ok: true; credentials: AwsCredentialIdentity } | { ok: false; failure: AwsFailure }> {
  const client = sts(ctx, credentials);
  try {
    const out = await client.send(
      new AssumeRoleCommand({
        RoleArn: step.roleArn,
        RoleSessionName: 'eks-access-doctor',
        ...(externalId === undefined ? {} : { ExternalId: externalId }),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey)
      return { ok: false, failure: { name: 'Error', message: 'no credentials returned' } };
    return {
      ok: true,
      credentials: {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      },
    };
  } catch (err) {
    return { ok: false, failure: failureOf(err) };
  } finally {
    client.destroy();
  }
}

function trustStatement(callerPrincipal: string, externalId: string | undefined): string {
  return json({
    Effect: 'Allow',
    Principal: { AWS: callerPrincipal },
    Action: 'sts:AssumeRole',
    ...(externalId === undefined ? {} : { Condition: { StringEquals: { 'sts:ExternalId': externalId } } }),
  });
}

/** Credentials: the base identity, then each role of the chain. Returns the connector's credentials, or undefined. */
async function checkCredentials(
  ctx: Ctx,
): Promise<
  | { credentials: AwsCredentialIdentityProvider; arn: string; account: string; principalArn: string }
  | undefined
> {
  const { credentials: config } = ctx.options;
  const base: AwsCredentialIdentityProvider =
    config.base.kind === 'static'
      ? staticProvider({
          accessKeyId: config.base.accessKeyId,
          secretAccessKey: config.base.secretAccessKey,
          ...(config.base.sessionToken ? { sessionToken: config.base.sessionToken } : {}),
        })
      : defaultProvider({
          clientConfig: {
            region: ctx.stsRegion,
            ...(ctx.options.endpoints?.sts ? { endpoint: ctx.options.endpoints.sts } : {}),
          },
        });
  const baseName =
    config.base.kind === 'static'
      ? `access key ${config.base.accessKeyId}`
      : "the process's own AWS identity";
  const who = await callerIdentity(ctx, base);
  if (!who.ok) {
    add(ctx, {
      id: 'credentials',
      group: 'credentials',
      title: 'credentials valid',
      status: 'fail',
      detail: `${baseName} was refused by STS (${who.failure.name}: ${who.failure.message})`,
      fix: {
        kind: 'config',
        summary: 'give the connector a valid access key, or an AWS identity of its own',
        text:
          config.base.kind === 'static'
            ? 'Set BATON_EKS_ACCESS_KEY and BATON_EKS_SECRET_ACCESS_KEY (--access-key / --secret-access-key) to an active access key of the connector IAM user (IAM > Users > Security credentials > Create access key).'
            : 'Run with IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), EKS Pod Identity, or set BATON_EKS_ACCESS_KEY and BATON_EKS_SECRET_ACCESS_KEY.',
      },
    });
    return undefined;
  }
  add(ctx, {
    id: 'credentials',
    group: 'credentials',
    title: 'credentials valid',
    status: 'pass',
    detail: `${baseName} is ${who.arn} (account ${who.account})`,
  });

  let current = base;
  let callerPrincipal = principalOfCaller(who.arn);
  let account = who.account;
  for (const [i, step] of config.assume.entries()) {
    const id = `assume-role:${i + 1}`;
    const title = `role ${step.roleArn} assumable`;
    const attempt = await assumeRole(ctx, current, step, step.externalId);
    if (!attempt.ok) {
      const identitySide = /identity-based policy/.test(attempt.failure.message);
      const crossAccount = accountOfArn(step.roleArn) !== account;
      const hint =
        step.externalId === undefined
          ? 'its trust policy does not allow this caller, or it requires an ExternalId and none was given'
          : 'its trust policy does not allow this caller, or the ExternalId given is not the one it requires';
      add(ctx, {
        id,
        group: 'credentials',
        title,
        status: 'fail',
        detail: `${attempt.failure.name}: ${attempt.failure.message}${identitySide ? '' : ` (${hint})`}`,
        fix: identitySide
          ? {
              kind: 'iam-policy',
              summary: `allow sts:AssumeRole on ${step.roleArn} in the identity policy of ${callerPrincipal} (needed across accounts)`,
              text: json({
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: step.roleArn }],
              }),
            }
          : {
              kind: 'trust-policy',
              summary:
                step.externalId === undefined
                  ? `if the role's trust policy has an sts:ExternalId condition, set BATON_EXTERNAL_ID (--external-id) to its value; otherwise add this statement to the trust policy of ${step.roleArn}`
                  : `make the trust policy of ${step.roleArn} allow ${callerPrincipal} with this ExternalId`,
              text: `${trustStatement(callerPrincipal, step.externalId ?? '<the ExternalId C1 shows>')}${crossAccount ? `\n\n# across accounts the caller's own identity policy must also allow it:\n${json({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: step.roleArn })}` : ''}`,
            },
      });
      return undefined;
    }
    if (step.externalId !== undefined) {
      const without = await assumeRole(ctx, current, step, undefined);
      add(
        ctx,
        without.ok
          ? {
              id,
              group: 'credentials',
              title,
              status: 'warn',
              detail: `assumed with the ExternalId, but the trust policy does not require it: anyone ${callerPrincipal} acts for could use this role (confused deputy)`,
              fix: {
                kind: 'trust-policy',
                summary: `require the ExternalId in the trust policy of ${step.roleArn}`,
                text: trustStatement(callerPrincipal, step.externalId),
              },
            }
          : {
              id,
              group: 'credentials',
              title,
              status: 'pass',
              detail: `assumed by ${callerPrincipal}; the ExternalId is required and accepted`,
            },
      );
    } else {
      add(ctx, {
        id,
        group: 'credentials',
        title,
        status: 'pass',
        detail: `assumed by ${callerPrincipal} (no ExternalId required)`,
      });
    }
    current = staticProvider(attempt.credentials);
    callerPrincipal = step.roleArn;
    account = accountOfArn(step.roleArn) ?? account;
  }
  const final = await callerIdentity(ctx, current);
  if (!final.ok) {
    add(ctx, {
      id: 'identity',
      group: 'credentials',
      title: 'connector identity',
      status: 'fail',
      detail: `${final.failure.name}: ${final.failure.message}`,
    });
    return undefined;
  }
  const callerArn = final.arn;
  const principalArn = config.assume.at(-1)?.roleArn ?? principalOfCaller(final.arn);
  add(ctx, {
    id: 'identity',
    group: 'credentials',
    title: 'connector identity',
    status: 'pass',
    detail: `the connector acts as ${callerArn}${principalArn !== callerArn ? ` (${principalArn})` : ''}`,
  });
  return { credentials: current, arn: callerArn, account: final.account, principalArn };
}

/** Runs an AWS call as a check: a refusal fails it with the statement that grants it. */
async function awsCheck(
  ctx: Ctx,
  group: 'aws' | 'provisioning',
  req: AwsRequirement,
  coordinates: ClusterCoordinates,
  principalArn: string,
  call: () => Promise<string>,
  /** Error names that prove the call was authorized (probes of writes). */
  authorizedWhen: readonly string[] = [],
): Promise<DoctorCheck> {
  const id = `${group === 'aws' ? 'aws' : 'provision'}:${req.action}`;
  const title = `${req.action} (${req.why})`;
  try {
    const detail = await call();
    return add(ctx, { id, group, title, status: 'pass', detail });
  } catch (err) {
    const f = failureOf(err);
    if (authorizedWhen.includes(f.name)) {
      return add(ctx, { id, group, title, status: 'pass', detail: `allowed (probe answered ${f.name})` });
    }
    if (DENIED.has(f.name)) {
      return add(ctx, {
        id,
        group,
        title,
        status: 'fail',
        detail: `${f.name}: ${f.message}`,
        fix: iamPolicyFix(
          [req],
          coordinates,
          principalArn,
          group === 'aws' ? SETUP_NAMES.syncPolicy : SETUP_NAMES.provisionPolicy,
        ),
      });
    }
    const classified = classifyAwsError(err, { operation: req.action });
    return add(ctx, { id, group, title, status: 'fail', detail: classified.message });
  }
}

interface KubeIdentity {
  username: string;
  groups: string[];
}

function subjectFor(identity: KubeIdentity): Subject {
  const group = identity.groups.find((g) => !g.startsWith('system:') && !g.startsWith('eks:'));
  return group ? { kind: 'Group', name: group } : { kind: 'User', name: identity.username };
}

async function accessReview(
  kube: KubeClient,
  req: KubeRequirement,
): Promise<{ allowed: boolean; reason: string }> {
  const out = await kube.call(`kube:create:selfsubjectaccessreviews`, `${req.verb} ${req.resource}`, () =>
    kube.authz.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: req.verb,
            group: req.group,
            resource: req.resource,
            ...(req.namespace ? { namespace: req.namespace } : {}),
            ...(req.name ? { name: req.name } : {}),
          },
        },
      },
    }),
  );
  return {
    allowed: out.status?.allowed === true,
    reason: out.status?.reason ?? out.status?.evaluationError ?? '',
  };
}

function kubeId(req: KubeRequirement): string {
  return `kube:${req.verb}:${req.resource}${req.name ? `/${req.namespace ?? ''}/${req.name}` : ''}`;
}

function kubeTitle(req: KubeRequirement): string {
  const where = req.name
    ? ` ${req.namespace}/${req.name}`
    : req.namespace
      ? ` in ${req.namespace}`
      : ' (all namespaces)';
  return `${req.verb} ${req.resource}${where}`;
}

interface DanglingBinding {
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  namespace?: string;
  name: string;
  roleRef: { kind: string; name: string };
  subjects: RbacV1Subject[];
}

function findDangling(
  clusterRoles: V1ClusterRole[],
  roles: V1Role[],
  clusterBindings: V1ClusterRoleBinding[],
  bindings: V1RoleBinding[],
): DanglingBinding[] {
  const crNames = new Set(clusterRoles.map((r) => r.metadata?.name ?? ''));
  const roleNames = new Set(roles.map((r) => `${r.metadata?.namespace ?? ''}/${r.metadata?.name ?? ''}`));
  const out: DanglingBinding[] = [];
  for (const b of clusterBindings) {
    if (!crNames.has(b.roleRef.name)) {
      out.push({
        kind: 'ClusterRoleBinding',
        name: b.metadata?.name ?? '',
        roleRef: b.roleRef,
        subjects: b.subjects ?? [],
      });
    }
  }
  for (const b of bindings) {
    const ns = b.metadata?.namespace ?? '';
    const exists =
      b.roleRef.kind === 'ClusterRole'
        ? crNames.has(b.roleRef.name)
        : roleNames.has(`${ns}/${b.roleRef.name}`);
    if (!exists) {
      out.push({
        kind: 'RoleBinding',
        namespace: ns,
        name: b.metadata?.name ?? '',
        roleRef: b.roleRef,
        subjects: b.subjects ?? [],
      });
    }
  }
  return out;
}

/** The existing role a dangling roleRef most likely meant (the guide's read-only-access → read-only-access-cluster-role). */
function closestRole(missing: string, candidates: readonly string[]): string | undefined {
  const related = candidates.filter((c) => c.startsWith(missing) || missing.startsWith(c));
  return related.sort((a, b) => Math.abs(a.length - missing.length) - Math.abs(b.length - missing.length))[0];
}

function subjectYaml(s: RbacV1Subject): string[] {
  return [
    `- kind: ${s.kind}`,
    `  name: ${JSON.stringify(s.name)}`,
    ...(s.kind === 'ServiceAccount'
      ? [`  namespace: ${s.namespace ?? ''}`]
      : ['  apiGroup: rbac.authorization.k8s.io']),
  ];
}

function danglingFix(d: DanglingBinding, candidates: readonly string[]): DoctorFix {
  const meant = closestRole(d.roleRef.name, candidates);
  const kubectlKind =
    d.kind === 'ClusterRoleBinding' ? 'clusterrolebinding' : `rolebinding -n ${d.namespace}`;
  if (!meant) {
    return {
      kind: 'rbac-yaml',
      summary: `create the ${d.roleRef.kind} ${d.roleRef.name} the binding names, or delete the binding (it grants nothing)`,
      text: `kubectl delete ${kubectlKind} ${d.name}`,
    };
  }
  return {
    kind: 'rbac-yaml',
    summary: `point ${d.kind} ${d.name} at the existing ${d.roleRef.kind} ${meant} (a roleRef cannot be changed: delete, then apply)`,
    text: [
      `kubectl delete ${kubectlKind} ${d.name}`,
      '---',
      'apiVersion: rbac.authorization.k8s.io/v1',
      `kind: ${d.kind}`,
      'metadata:',
      `  name: ${d.name}`,
      ...(d.namespace ? [`  namespace: ${d.namespace}`] : []),
      'roleRef:',
      '  apiGroup: rbac.authorization.k8s.io',
      `  kind: ${d.roleRef.kind}`,
      `  name: ${meant}`,
      'subjects:',
      ...d.subjects.flatMap(subjectYaml),
    ].join('\n'),
  };
}

function bindsIdentity(d: DanglingBinding, identity: KubeIdentity | undefined): boolean {
  if (!identity) return false;
  return d.subjects.some(
    (s) =>
      (s.kind === 'User' && s.name === identity.username) ||
      (s.kind === 'Group' && identity.groups.includes(s.name)),
  );
}

/** Runs every check of the connector's setup for one cluster. Never throws for a failed check. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  const ctx: Ctx = { checks: [], options, stsRegion: options.cluster.region };
  let readSubject: Subject | undefined;
  const report: DoctorReport = {
    cluster: { name: options.cluster.name, region: options.cluster.region },
    provisioning: options.provisioning === true,
    status: 'fail',
    checks: ctx.checks,
    fixes: [],
    checkedAt: now().toISOString(),
    durationMs: 0,
  };
  const finish = (): DoctorReport => {
    report.status = overallStatus(ctx.checks);
    report.fixes = mergeFixes(ctx.checks, report, readSubject);
    report.durationMs = Date.now() - started;
    return report;
  };

  const identity = await checkCredentials(ctx);
  if (!identity) return finish();
  report.identity = { arn: identity.arn, accountId: identity.account, principalArn: identity.principalArn };

  const { region, name } = options.cluster;
  const eks = new EKSClient({
    region,
    credentials: identity.credentials,
    maxAttempts: 3,
    ...(options.endpoints?.eks ? { endpoint: options.endpoints.eks } : {}),
  });
  const iam = new IAMClient({
    region: iamRegionFor(region),
    credentials: identity.credentials,
    maxAttempts: 3,
    ...(options.endpoints?.iam ? { endpoint: options.endpoints.iam } : {}),
  });
  let kube: KubeClient | undefined;
  try {
    const coordinates: ClusterCoordinates = { name, region, accountId: identity.account };
    const need = (action: string) => SYNC_AWS.find((r) => r.action === action)!;

    // DescribeCluster first: everything on the cluster depends on it.
    let described: { arn: string; endpoint: string; caData: string; mode: AuthenticationMode } | undefined;
    const describe = await awsCheck(
      ctx,
      'aws',
      need('eks:DescribeCluster'),
      coordinates,
      identity.principalArn,
      async () => {
        const out = await eks.send(new DescribeClusterCommand({ name }));
        const c = out.cluster;
        const mode = c?.accessConfig?.authenticationMode ?? 'CONFIG_MAP';
        if (!c?.arn || !c.endpoint || !c.certificateAuthority?.data || !AUTHENTICATION_MODES.includes(mode)) {
          throw new Error(`cluster ${name} has no endpoint yet (status ${c?.status ?? 'unknown'})`);
        }
        described = { arn: c.arn, endpoint: c.endpoint, caData: c.certificateAuthority.data, mode };
        return `${c.arn} (Kubernetes ${c.version ?? '?'}, ${c.status ?? 'status unknown'})`;
      },
    );
    if (describe.status === 'fail' && /not found/i.test(describe.detail)) {
      describe.fix = {
        kind: 'config',
        summary: 'name a cluster that exists in this account and region',
        text: `Cluster "${name}" is not in region ${region} of account ${identity.account}: check BATON_EKS_CLUSTER_NAME / --cluster and BATON_EKS_REGION / --region (aws eks list-clusters --region ${region}).`,
      };
    }
    if (described) {
      const d: { arn: string; endpoint: string; caData: string; mode: AuthenticationMode } = described;
      report.cluster.arn = d.arn;
      report.cluster.accountId = accountOfArn(d.arn) ?? identity.account;
      report.cluster.authenticationMode = d.mode;
      coordinates.accountId = report.cluster.accountId;
      add(ctx, {
        id: 'cluster:authentication-mode',
        group: 'cluster',
        title: 'authentication mode',
        status: 'pass',
        detail:
          d.mode === 'API'
            ? 'API: access entries only (aws-auth is ignored)'
            : d.mode === 'CONFIG_MAP'
              ? 'CONFIG_MAP: the aws-auth ConfigMap only (no access entries)'
              : 'API_AND_CONFIG_MAP: access entries and the aws-auth ConfigMap',
      });
    }
    const mode = described?.mode;

    // The connector's own access entry, when the mode has them.
    let entry: AccessEntry | undefined;
    let entryPolicies: string[] = [];
    if (mode && appliesIn(need('eks:ListAccessEntries'), mode)) {
      await awsCheck(
        ctx,
        'aws',
        need('eks:ListAccessEntries'),
        coordinates,
        identity.principalArn,
        async () => {
          const out = await eks.send(new ListAccessEntriesCommand({ clusterName: name, maxResults: 100 }));
          return `${out.accessEntries?.length ?? 0}${out.nextToken ? '+' : ''} access entries`;
        },
      );
      await awsCheck(
        ctx,
        'aws',
        need('eks:DescribeAccessEntry'),
        coordinates,
        identity.principalArn,
        async () => {
          try {
            const out = await eks.send(
              new DescribeAccessEntryCommand({ clusterName: name, principalArn: identity.principalArn }),
            );
            entry = out.accessEntry;
            return `the connector's entry: username ${entry?.username ?? '?'}, groups [${(entry?.kubernetesGroups ?? []).join(', ')}]`;
          } catch (err) {
            if (failureOf(err).name === 'ResourceNotFoundException')
              return 'allowed (the connector itself has no access entry)';
            throw err;
          }
        },
      );
      await awsCheck(
        ctx,
        'aws',
        need('eks:ListAssociatedAccessPolicies'),
        coordinates,
        identity.principalArn,
        async () => {
          try {
            const out = await eks.send(
              new ListAssociatedAccessPoliciesCommand({
                clusterName: name,
                principalArn: identity.principalArn,
              }),
            );
            entryPolicies = (out.associatedAccessPolicies ?? []).map(
              (p) => `${(p.policyArn ?? '').split('/').pop() ?? ''} (${p.accessScope?.type ?? '?'})`,
            );
            return `the connector's policies: ${entryPolicies.join(', ') || 'none'}`;
          } catch (err) {
            if (failureOf(err).name === 'ResourceNotFoundException')
              return 'allowed (the connector itself has no access entry)';
            throw err;
          }
        },
      );
    } else if (mode) {
      for (const action of [
        'eks:ListAccessEntries',
        'eks:DescribeAccessEntry',
        'eks:ListAssociatedAccessPolicies',
      ]) {
        add(ctx, {
          id: `aws:${action}`,
          group: 'aws',
          title: `${action} (${need(action).why})`,
          status: 'skip',
          detail: `not used: ${mode} has no access entries`,
        });
      }
    }
    await awsCheck(
      ctx,
      'aws',
      need('eks:ListAccessPolicies'),
      coordinates,
      identity.principalArn,
      async () => {
        const out = await eks.send(new ListAccessPoliciesCommand({ maxResults: 100 }));
        return `${out.accessPolicies?.length ?? 0} access policies`;
      },
    );
    await awsCheck(ctx, 'aws', need('iam:ListRoles'), coordinates, identity.principalArn, async () => {
      const out = await iam.send(new ListRolesCommand({ MaxItems: 1 }));
      return `allowed (${out.IsTruncated ? 'many roles' : `${out.Roles?.length ?? 0} role`})`;
    });

    if (options.provisioning && mode)
      await provisioningAwsChecks(ctx, eks, iam, mode, coordinates, identity.principalArn);

    if (!described || !mode) {
      add(ctx, {
        id: 'kube:identity',
        group: 'kubernetes',
        title: 'Kubernetes identity',
        status: 'skip',
        detail: 'needs eks:DescribeCluster',
      });
      return finish();
    }
    const d: { arn: string; endpoint: string; caData: string; mode: AuthenticationMode } = described;
    const policy: CallPolicy = {
      limiter: new InProcessRateLimiter(),
      retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000 },
      stats: new CallStats(),
    };
    const tokens = new EksTokenSource({ credentials: identity.credentials, region, clusterName: name });
    kube = new KubeClient(
      { clusterName: name, clusterArn: d.arn, endpoint: d.endpoint, caData: d.caData },
      tokens,
      policy,
    );
    const kubeIdentity = await checkKubeIdentity(
      ctx,
      kube,
      mode,
      coordinates,
      identity.principalArn,
      entry,
      entryPolicies,
    );
    if (!kubeIdentity) return finish();
    report.kubernetesUser = kubeIdentity;

    const subject = subjectFor(kubeIdentity);
    readSubject = subject;
    const listFailures: KubeRequirement[] = [];
    for (const req of SYNC_KUBE) {
      if (!appliesIn(req, mode)) continue;
      const review = await accessReview(kube, req);
      if (!review.allowed) listFailures.push(req);
      add(ctx, {
        id: kubeId(req),
        group: 'kubernetes',
        title: kubeTitle(req),
        status: review.allowed ? 'pass' : 'fail',
        detail: review.allowed
          ? `allowed${review.reason ? `: ${review.reason}` : ''}`
          : `${kubeIdentity.username} may not ${req.verb} ${req.resource}`,
        ...(review.allowed
          ? {}
          : { fix: kubeReadFix([req], mode, coordinates, identity.principalArn, entry, subject) }),
      });
    }
    await checkDangling(ctx, kube, kubeIdentity, listFailures);
    if (options.provisioning)
      await provisioningKubeChecks(ctx, kube, mode, coordinates, identity.principalArn, kubeIdentity);
    return finish();
  } finally {
    kube?.close();
    eks.destroy();
    iam.destroy();
  }
}

function kubeReadFix(
  reqs: readonly KubeRequirement[],
  mode: AuthenticationMode,
  c: ClusterCoordinates,
  principalArn: string,
  entry: AccessEntry | undefined,
  subject: Subject,
): DoctorFix {
  if (mode !== 'CONFIG_MAP' && entry) {
    return {
      kind: 'aws-cli',
      summary: `associate ${SETUP_NAMES.readAccessPolicy.split('/').pop() ?? ''} with the connector's access entry (cluster scope)`,
      text: accessEntryCommands(c, principalArn, false),
    };
  }
  return {
    kind: 'rbac-yaml',
    summary: `grant ${reqs.map((r) => `${r.verb} ${r.resource}`).join(', ')} to ${subject.kind} ${subject.name} (kubectl apply -f)`,
    text: clusterRoleYaml(SETUP_NAMES.readClusterRole, rbacRules(reqs), subject, SETUP_NAMES.readBinding),
  };
}

async function checkKubeIdentity(
  ctx: Ctx,
  kube: KubeClient,
  mode: AuthenticationMode,
  c: ClusterCoordinates,
  principalArn: string,
  entry: AccessEntry | undefined,
  entryPolicies: string[],
): Promise<{ username: string; groups: string[]; via: string } | undefined> {
  try {
    const review = await kube.call('kube:create:selfsubjectreviews', undefined, () =>
      kube.authn.createSelfSubjectReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      }),
    );
    const username = review.status?.userInfo?.username ?? '';
    const groups = review.status?.userInfo?.groups ?? [];
    const via =
      entry && mode !== 'CONFIG_MAP'
        ? `access entry${entryPolicies.length ? ` (${entryPolicies.join(', ')})` : ''}`
        : 'aws-auth mapping';
    add(ctx, {
      id: 'kube:identity',
      group: 'kubernetes',
      title: 'connector reaches Kubernetes',
      status: 'pass',
      detail: `via ${via}: user ${username}, groups [${groups.join(', ')}]`,
    });
    return { username, groups, via };
  } catch (err) {
    const code = isEksAccessError(err) ? err.code : undefined;
    if (code !== 'KUBE_UNAUTHORIZED') {
      add(ctx, {
        id: 'kube:identity',
        group: 'kubernetes',
        title: 'connector reaches Kubernetes',
        status: 'fail',
        detail: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
    const fix: DoctorFix =
      mode === 'CONFIG_MAP'
        ? {
            kind: 'aws-auth',
            summary: `map ${principalArn} under mapRoles in kube-system/aws-auth (merge it in; do not replace the other entries), then bind its group read-only (or run eks-access setup --apply)`,
            text: `${awsAuthEntryYaml(principalArn, SETUP_NAMES.awsAuthUsername, [SETUP_NAMES.readersGroup])}\n---\n${clusterRoleYaml(SETUP_NAMES.readClusterRole, rbacRules(SYNC_KUBE.filter((r) => appliesIn(r, mode))), { kind: 'Group', name: SETUP_NAMES.readersGroup }, SETUP_NAMES.readBinding)}`,
          }
        : {
            kind: 'aws-cli',
            summary: `give ${principalArn} an access entry with the read-only AmazonEKSAdminViewPolicy (or run eks-access setup --apply)`,
            text: accessEntryCommands(c, principalArn, !entry),
          };
    add(ctx, {
      id: 'kube:identity',
      group: 'kubernetes',
      title: 'connector reaches Kubernetes',
      status: 'fail',
      detail: `the cluster does not know ${principalArn}: ${mode === 'CONFIG_MAP' ? 'no aws-auth mapping for it' : mode === 'API' ? 'no access entry for it' : 'no access entry and no aws-auth mapping for it'} (401 Unauthorized)`,
      fix,
    });
    return undefined;
  }
}

async function checkDangling(
  ctx: Ctx,
  kube: KubeClient,
  identity: KubeIdentity,
  listFailures: readonly KubeRequirement[],
): Promise<void> {
  const needed = ['clusterroles', 'roles', 'clusterrolebindings', 'rolebindings'];
  const blocked = listFailures.filter((r) => needed.includes(r.resource));
  if (blocked.length > 0) {
    add(ctx, {
      id: 'kube:roleRefs',
      group: 'kubernetes',
      title: 'bindings whose roleRef does not exist',
      status: 'skip',
      detail: `cannot tell: the connector may not list ${blocked.map((r) => r.resource).join(', ')}`,
    });
    return;
  }
  const [clusterRoles, roles, clusterBindings, bindings] = await Promise.all([
    kube.listAll<V1ClusterRole>('clusterroles'),
    kube.listAll<V1Role>('roles'),
    kube.listAll<V1ClusterRoleBinding>('clusterrolebindings'),
    kube.listAll<V1RoleBinding>('rolebindings'),
  ]);
  const dangling = findDangling(clusterRoles.items, roles.items, clusterBindings.items, bindings.items);
  const total = clusterBindings.items.length + bindings.items.length;
  if (dangling.length === 0) {
    add(ctx, {
      id: 'kube:roleRefs',
      group: 'kubernetes',
      title: 'bindings whose roleRef does not exist',
      status: 'pass',
      detail: `none: every roleRef of the ${total} bindings exists`,
    });
    return;
  }
  const clusterRoleNames = clusterRoles.items.map((r) => r.metadata?.name ?? '');
  for (const d of dangling) {
    const own = bindsIdentity(d, identity);
    const candidates =
      d.roleRef.kind === 'ClusterRole'
        ? clusterRoleNames
        : roles.items.filter((r) => r.metadata?.namespace === d.namespace).map((r) => r.metadata?.name ?? '');
    const where = d.namespace ? `${d.namespace}/${d.name}` : d.name;
    add(ctx, {
      id: `kube:roleRef:${d.kind}:${where}`,
      group: 'kubernetes',
      title: `${d.kind} ${where} names a missing ${d.roleRef.kind}`,
      status: own ? 'fail' : 'warn',
      detail: `roleRef ${d.roleRef.kind} ${d.roleRef.name} does not exist, so the binding grants nothing${own ? ' — and it binds the connector, which was meant to get its access from it' : ''}`,
      fix: own
        ? {
            kind: 'rbac-yaml',
            summary: `delete ${d.kind} ${where}: it grants nothing, and the connector's read access comes from ClusterRole ${SETUP_NAMES.readClusterRole} (binding the guide's role instead would grant more, e.g. secrets)`,
            text: `kubectl delete ${d.kind === 'ClusterRoleBinding' ? 'clusterrolebinding' : `rolebinding -n ${d.namespace}`} ${d.name}`,
          }
        : danglingFix(d, candidates),
    });
  }
}

async function provisioningAwsChecks(
  ctx: Ctx,
  eks: EKSClient,
  iam: IAMClient,
  mode: AuthenticationMode,
  c: ClusterCoordinates,
  principalArn: string,
): Promise<void> {
  const probeUser = `arn:aws:iam::${c.accountId}:user/${PROBE_PRINCIPAL_NAME}`;
  const probes: Record<string, () => Promise<unknown>> = {
    // A node-type entry for a user that does not exist: EKS refuses it whatever the permissions.
    'eks:CreateAccessEntry': () =>
      eks.send(
        new CreateAccessEntryCommand({ clusterName: c.name, principalArn: probeUser, type: 'EC2_LINUX' }),
      ),
    'eks:UpdateAccessEntry': () =>
      eks.send(new UpdateAccessEntryCommand({ clusterName: c.name, principalArn: probeUser })),
    'eks:AssociateAccessPolicy': () =>
      eks.send(
        new AssociateAccessPolicyCommand({
          clusterName: c.name,
          principalArn: probeUser,
          policyArn: SETUP_NAMES.readAccessPolicy,
          accessScope: { type: 'cluster' },
        }),
      ),
    'eks:DisassociateAccessPolicy': () =>
      eks.send(
        new DisassociateAccessPolicyCommand({
          clusterName: c.name,
          principalArn: probeUser,
          policyArn: SETUP_NAMES.readAccessPolicy,
        }),
      ),
    'iam:GetRole': () => iam.send(new GetRoleCommand({ RoleName: PROBE_PRINCIPAL_NAME })),
    'iam:GetUser': () => iam.send(new GetUserCommand({ UserName: PROBE_PRINCIPAL_NAME })),
  };
  const authorizedWhen = [
    'ResourceNotFoundException',
    'NoSuchEntity',
    'NoSuchEntityException',
    'InvalidParameterException',
    'InvalidRequestException',
  ];
  for (const req of PROVISION_AWS) {
    const probe = probes[req.action];
    if (!probe) continue;
    if (!appliesIn(req, mode)) {
      add(ctx, {
        id: `provision:${req.action}`,
        group: 'provisioning',
        title: `${req.action} (${req.why})`,
        status: 'skip',
        detail: `not used: ${mode} has no access entries`,
      });
      continue;
    }
    await awsCheck(
      ctx,
      'provisioning',
      req,
      c,
      principalArn,
      async () => {
        await probe();
        return 'allowed';
      },
      authorizedWhen,
    );
  }
}

async function provisioningKubeChecks(
  ctx: Ctx,
  kube: KubeClient,
  mode: AuthenticationMode,
  c: ClusterCoordinates,
  principalArn: string,
  identity: KubeIdentity,
): Promise<void> {
  const missing: KubeRequirement[] = [];
  const results: [KubeRequirement, boolean][] = [];
  for (const req of PROVISION_KUBE) {
    if (!appliesIn(req, mode)) continue;
    const review = await accessReview(kube, req);
    results.push([req, review.allowed]);
    if (!review.allowed) missing.push(req);
  }
  const group =
    mode === 'CONFIG_MAP'
      ? subjectFor(identity)
      : { kind: 'Group' as const, name: SETUP_NAMES.provisionersGroup };
  const yaml = clusterRoleYaml(
    SETUP_NAMES.provisionClusterRole,
    rbacRules(missing),
    group,
    SETUP_NAMES.provisionBinding,
  );
  const fix: DoctorFix = {
    kind: 'rbac-yaml',
    summary:
      mode === 'CONFIG_MAP'
        ? `grant the provisioning writes to ${group.kind} ${group.name} (never system:masters), or run eks-access setup --apply --provisioning`
        : `grant the provisioning writes to group ${group.name} and add that group to the connector's access entry (never system:masters), or run eks-access setup --apply --provisioning`,
    text:
      mode === 'CONFIG_MAP'
        ? yaml
        : `${yaml}\n---\n# then:\naws eks update-access-entry --cluster-name ${c.name} --region ${c.region} --principal-arn ${principalArn} --kubernetes-groups ${SETUP_NAMES.provisionersGroup}`,
  };
  for (const [req, allowed] of results) {
    add(ctx, {
      id: `provision:${kubeId(req)}`,
      group: 'provisioning',
      title: kubeTitle(req),
      status: allowed ? 'pass' : 'fail',
      detail: allowed ? 'allowed' : `${identity.username} may not ${req.verb} ${req.resource}`,
      ...(allowed ? {} : { fix }),
    });
  }
}

/** One fix per kind of change: the IAM statements merged into one policy, the RBAC reads into one ClusterRole. */
function mergeFixes(
  checks: readonly DoctorCheck[],
  report: DoctorReport,
  readSubject: Subject | undefined,
): DoctorFix[] {
  const out: DoctorFix[] = [];
  const seen = new Set<string>();
  const principal = report.identity?.principalArn;
  const coordinates: ClusterCoordinates | undefined = report.identity && {
    name: report.cluster.name,
    region: report.cluster.region,
    accountId: report.cluster.accountId ?? report.identity.accountId,
  };
  const failedAws = (group: 'aws' | 'provisioning', list: readonly AwsRequirement[]) =>
    list.filter((r) =>
      checks.some(
        (c) =>
          c.group === group &&
          c.id.endsWith(`:${r.action}`) &&
          c.status === 'fail' &&
          c.fix?.kind === 'iam-policy',
      ),
    );
  if (principal && coordinates) {
    const sync = failedAws('aws', SYNC_AWS);
    if (sync.length > 0) out.push(iamPolicyFix(sync, coordinates, principal, SETUP_NAMES.syncPolicy));
    const provision = failedAws('provisioning', PROVISION_AWS);
    if (provision.length > 0)
      out.push(iamPolicyFix(provision, coordinates, principal, SETUP_NAMES.provisionPolicy));
  }
  const readIds = new Set(SYNC_KUBE.map(kubeId));
  const failedReads = SYNC_KUBE.filter((r) =>
    checks.some((c) => c.id === kubeId(r) && c.status === 'fail' && c.fix?.kind === 'rbac-yaml'),
  );
  if (failedReads.length > 0 && readSubject) {
    out.push({
      kind: 'rbac-yaml',
      summary: `grant ${failedReads.map((r) => `${r.verb} ${r.resource}`).join(', ')} to ${readSubject.kind} ${readSubject.name} (kubectl apply -f)`,
      text: clusterRoleYaml(
        SETUP_NAMES.readClusterRole,
        rbacRules(failedReads),
        readSubject,
        SETUP_NAMES.readBinding,
      ),
    });
  }
  for (const c of checks) {
    if ((c.status !== 'fail' && c.status !== 'warn') || !c.fix) continue;
    if (c.fix.kind === 'iam-policy' && (c.group === 'aws' || c.group === 'provisioning') && principal)
      continue;
    if (c.fix.kind === 'rbac-yaml' && readIds.has(c.id) && readSubject) continue;
    const key = `${c.fix.kind}\n${c.fix.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(c.fix);
  }
  return out;
}
