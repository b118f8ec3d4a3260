// The CLI's configuration: flags first, then the environment names of C1's EKS connector docs, so
// a baton-eks Secret can be reused as-is. The only place (with main.ts) that reads process.env.
import { parseArgs } from 'node:util';
import {
  resolveBatonConfig,
  type AwsEndpoints,
  type CredentialsConfig,
  type ResolvedBatonConfig,
} from '@eks-access/eks-core';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface SyncCommandConfig {
  target: ResolvedBatonConfig;
  endpoints: AwsEndpoints;
  output: 'table' | 'json';
  /** Write the snapshot (resources, entitlements, grants and report) as JSON to this file. */
  outFile?: string;
  /** Write the snapshot as a c1z file (what baton-eks writes, sync.c1z by default). */
  c1zFile?: string;
  progress: boolean;
  accessEntryConcurrency: number;
}

const SYNC_OPTIONS = {
  cluster: { type: 'string', short: 'c' },
  region: { type: 'string', short: 'r' },
  'role-arn': { type: 'string' },
  'external-id': { type: 'string' },
  'access-key': { type: 'string' },
  'secret-access-key': { type: 'string' },
  'global-role-arn': { type: 'string' },
  'global-binding-external-id': { type: 'string' },
  'endpoint-url': { type: 'string' },
  output: { type: 'string', short: 'o' },
  out: { type: 'string' },
  file: { type: 'string', short: 'f' },
  'no-progress': { type: 'boolean' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SYNC_USAGE = `Usage: eks-access sync --cluster NAME --region REGION [options]

Syncs one EKS cluster and prints who can reach it with what. Needs no Redis or Postgres.

Target and credentials (flags win over the environment):
  -c, --cluster NAME             BATON_EKS_CLUSTER_NAME
  -r, --region REGION            BATON_EKS_REGION
      --role-arn ARN             BATON_ROLE_ARN or BATON_EKS_ASSUME_ROLE_ARN
      --external-id ID           BATON_EXTERNAL_ID
      --access-key ID            BATON_EKS_ACCESS_KEY         (self-hosted)
      --secret-access-key KEY    BATON_EKS_SECRET_ACCESS_KEY  (self-hosted)
      --global-role-arn ARN      BATON_GLOBAL_ROLE_ARN        (cloud-hosted binding role)
      --global-binding-external-id ID  BATON_GLOBAL_BINDING_EXTERNAL_ID
      --endpoint-url URL         AWS_ENDPOINT_URL (e.g. the simulator); per service
                                 AWS_ENDPOINT_URL_STS / _IAM / _EKS
Without static keys the AWS default credential chain is used.

Output:
  -o, --output table|json        summary table (default) or the report as JSON
      --out FILE                 also write the whole snapshot as JSON to FILE
  -f, --file FILE                also write the snapshot as a c1z file, C1's format (baton-eks: sync.c1z)
      --no-progress              no progress line on a terminal
      --concurrency N            parallel access-entry reads (default 10)

Exit codes: 0 synced, 1 failed, 2 bad usage or configuration, 3 synced but a source could not be read.`;

function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

interface TargetFlags {
  cluster?: string | undefined;
  region?: string | undefined;
  'role-arn'?: string | undefined;
  'external-id'?: string | undefined;
  'access-key'?: string | undefined;
  'secret-access-key'?: string | undefined;
  'global-role-arn'?: string | undefined;
  'global-binding-external-id'?: string | undefined;
  'endpoint-url'?: string | undefined;
}

/** The cluster, the connector's credentials (flags over BATON_* names) and the AWS endpoints. */
function resolveTarget(v: TargetFlags): {
  resolved: ReturnType<typeof resolveBatonConfig>;
  endpoints: AwsEndpoints;
  problems: string[];
} {
  const resolved = resolveBatonConfig({
    clusterName: v.cluster ?? env('BATON_EKS_CLUSTER_NAME'),
    region: v.region ?? env('BATON_EKS_REGION'),
    roleArn: v['role-arn'] ?? env('BATON_ROLE_ARN') ?? env('BATON_EKS_ASSUME_ROLE_ARN'),
    externalId: v['external-id'] ?? env('BATON_EXTERNAL_ID'),
    accessKeyId: v['access-key'] ?? env('BATON_EKS_ACCESS_KEY'),
    secretAccessKey: v['secret-access-key'] ?? env('BATON_EKS_SECRET_ACCESS_KEY'),
    globalAccessKeyId: env('BATON_GLOBAL_ACCESS_KEY_ID'),
    globalSecretAccessKey: env('BATON_GLOBAL_SECRET_ACCESS_KEY'),
    globalRoleArn: v['global-role-arn'] ?? env('BATON_GLOBAL_ROLE_ARN'),
    globalBindingExternalId: v['global-binding-external-id'] ?? env('BATON_GLOBAL_BINDING_EXTERNAL_ID'),
  });
  const problems = resolved.ok ? [] : [...resolved.problems];
  const common = v['endpoint-url'] ?? env('AWS_ENDPOINT_URL');
  const endpoints: AwsEndpoints = {};
  for (const service of ['sts', 'iam', 'eks'] as const) {
    const url = env(`AWS_ENDPOINT_URL_${service.toUpperCase()}`) ?? common;
    if (url === undefined) continue;
    if (!/^https?:\/\/[^\s/]+/.test(url))
      problems.push(`endpoint URL "${url}" for ${service} is not an http(s) URL`);
    endpoints[service] = url;
  }
  return { resolved, endpoints, problems };
}

/** BATON_PROVISIONING as the C1 docs use it: "true"/"1" on, anything else off. */
function provisioningFromEnv(): boolean {
  const v = env('BATON_PROVISIONING')?.toLowerCase();
  return v === 'true' || v === '1' || v === 'yes';
}

/** Parses `eks-access sync` arguments and environment into a validated config. */
export function loadSyncConfig(argv: string[], isTty: boolean): SyncCommandConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: SYNC_OPTIONS, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const { resolved, endpoints, problems } = resolveTarget(v);
  const rawOutput = v.output ?? 'table';
  const output = rawOutput === 'json' ? 'json' : 'table';
  if (rawOutput !== 'table' && rawOutput !== 'json')
    problems.push(`--output must be "table" or "json", not "${rawOutput}"`);
  const concurrency = v.concurrency === undefined ? 10 : Number(v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100)
    problems.push('--concurrency must be a whole number from 1 to 100');
  if (v.out && v.file)
    problems.push('--out (JSON) and --file (c1z) cannot be combined; write one, then the other');
  if (v.file !== undefined && !v.file.endsWith('.c1z'))
    problems.push(`--file "${v.file}" should end in .c1z`);
  if (!resolved.ok || problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    target: resolved.value,
    endpoints,
    output,
    ...(v.out ? { outFile: v.out } : {}),
    ...(v.file ? { c1zFile: v.file } : {}),
    progress: isTty && !v['no-progress'],
    accessEntryConcurrency: concurrency,
  };
}

const TARGET_OPTIONS = {
  cluster: { type: 'string', short: 'c' },
  region: { type: 'string', short: 'r' },
  'role-arn': { type: 'string' },
  'external-id': { type: 'string' },
  'access-key': { type: 'string' },
  'secret-access-key': { type: 'string' },
  'global-role-arn': { type: 'string' },
  'global-binding-external-id': { type: 'string' },
  'endpoint-url': { type: 'string' },
} as const;

const TARGET_USAGE = `Target and connector credentials (flags win over the environment; as for sync):
  -c, --cluster NAME             BATON_EKS_CLUSTER_NAME
  -r, --region REGION            BATON_EKS_REGION
      --role-arn ARN             BATON_ROLE_ARN or BATON_EKS_ASSUME_ROLE_ARN
      --external-id ID           BATON_EXTERNAL_ID
      --access-key ID            BATON_EKS_ACCESS_KEY         (self-hosted)
      --secret-access-key KEY    BATON_EKS_SECRET_ACCESS_KEY  (self-hosted)
      --global-role-arn ARN      BATON_GLOBAL_ROLE_ARN        (cloud-hosted binding role)
      --global-binding-external-id ID  BATON_GLOBAL_BINDING_EXTERNAL_ID
      --endpoint-url URL         AWS_ENDPOINT_URL (e.g. the simulator)`;

export interface DoctorCommandConfig {
  target: ResolvedBatonConfig;
  endpoints: AwsEndpoints;
  output: 'table' | 'json';
  provisioning: boolean;
}

export const DOCTOR_USAGE = `Usage: eks-access doctor --cluster NAME --region REGION [options]

Checks every step of the connector's setup for one cluster with the connector's own credentials,
and prints a table: credentials, role trust and ExternalId, each AWS permission the sync needs (each
one called for real), the authentication mode, how the connector reaches Kubernetes, each
Kubernetes list (SelfSubjectAccessReview), bindings whose roleRef does not exist, and with
--provisioning each write provisioning needs. Every failure comes with its least-privilege fix.
Nothing is written anywhere.

${TARGET_USAGE}

Options:
      --provisioning             also check the writes provisioning needs (BATON_PROVISIONING=true)
  -o, --output table|json        table (default) or the report as JSON

Exit codes: 0 every check passed, 1 a check failed, 2 bad usage or configuration, 3 passed with warnings.`;

/** Parses `eks-access doctor` arguments and environment. */
export function loadDoctorConfig(argv: string[]): DoctorCommandConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...TARGET_OPTIONS,
        output: { type: 'string', short: 'o' },
        provisioning: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const { resolved, endpoints, problems } = resolveTarget(v);
  const rawOutput = v.output ?? 'table';
  if (rawOutput !== 'table' && rawOutput !== 'json')
    problems.push(`--output must be "table" or "json", not "${rawOutput}"`);
  if (!resolved.ok || problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    target: resolved.value,
    endpoints,
    output: rawOutput === 'json' ? 'json' : 'table',
    provisioning: v.provisioning === true || provisioningFromEnv(),
  };
}

export interface SetupCommandConfig {
  target: ResolvedBatonConfig;
  endpoints: AwsEndpoints;
  principalArn: string;
  admin: CredentialsConfig;
  /** The connector's own credentials when static keys were given: the doctor then says which AWS calls are missing. */
  connector?: CredentialsConfig;
  apply: boolean;
  provisioning: boolean;
  output: 'table' | 'json';
}

export const SETUP_USAGE = `Usage: eks-access setup --cluster NAME --region REGION --role-arn ARN (--plan | --apply) [options]

Computes the connector's least-privilege setup for one cluster and, with --apply, makes it with an
administrator's credentials. Reads the current state first and changes only what differs (a re-run
changes nothing); prints every write before it is made.
  API, API_AND_CONFIG_MAP: an access entry for the connector with AmazonEKSAdminViewPolicy.
  CONFIG_MAP: the connector's aws-auth entry (merged in; other entries untouched; resourceVersion
              checked), a read-only ClusterRole eks-access-connector-read bound to its group, and
              bindings left by the C1 guide that name a missing role and bind only the connector
              removed.
  Both: an IAM policy on the connector's role, scoped to this cluster, when its policies miss a call.
  --provisioning adds the narrowest grants provisioning needs (never system:masters).

${TARGET_USAGE}
The connector principal is --role-arn (BATON_ROLE_ARN), or --principal-arn for a connector IAM user.
With static connector keys (BATON_EKS_ACCESS_KEY) the doctor runs first as the connector.

Administrator credentials (IAM in the connector's account; EKS and Kubernetes admin of the cluster):
      --admin-access-key ID      EKS_ACCESS_ADMIN_ACCESS_KEY_ID
      --admin-secret-access-key KEY  EKS_ACCESS_ADMIN_SECRET_ACCESS_KEY
      --admin-role-arn ARN       EKS_ACCESS_ADMIN_ROLE_ARN (assumed with the keys above)
Without admin keys the AWS default credential chain is used (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...).

Options:
      --plan                     print what would change (the default)
      --apply                    make the changes
      --principal-arn ARN        the connector's IAM user or role, if not --role-arn
      --provisioning             also grant what provisioning needs (BATON_PROVISIONING=true)
  -o, --output table|json        steps as text (default) or the result as JSON

Exit codes: 0 set up (or nothing to do), 1 a step failed, 2 bad usage or configuration.`;

/** Parses `eks-access setup` arguments and environment. */
export function loadSetupConfig(argv: string[]): SetupCommandConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...TARGET_OPTIONS,
        plan: { type: 'boolean' },
        apply: { type: 'boolean' },
        'principal-arn': { type: 'string' },
        'admin-access-key': { type: 'string' },
        'admin-secret-access-key': { type: 'string' },
        'admin-role-arn': { type: 'string' },
        provisioning: { type: 'boolean' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const { resolved, endpoints, problems } = resolveTarget(v);
  if (v.plan && v.apply) problems.push('--plan and --apply cannot be combined');
  const rawOutput = v.output ?? 'table';
  if (rawOutput !== 'table' && rawOutput !== 'json')
    problems.push(`--output must be "table" or "json", not "${rawOutput}"`);
  const roleArn = v['role-arn'] ?? env('BATON_ROLE_ARN') ?? env('BATON_EKS_ASSUME_ROLE_ARN');
  const principalArn = v['principal-arn'] ?? roleArn;
  if (principalArn === undefined)
    problems.push(
      "the connector's IAM role is required (BATON_ROLE_ARN or --role-arn), or --principal-arn for an IAM user",
    );
  else if (!/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+/.test(principalArn))
    problems.push(`"${principalArn}" is not an IAM role or user ARN (--principal-arn / --role-arn)`);
  const adminKey = v['admin-access-key'] ?? env('EKS_ACCESS_ADMIN_ACCESS_KEY_ID');
  const adminSecret = v['admin-secret-access-key'] ?? env('EKS_ACCESS_ADMIN_SECRET_ACCESS_KEY');
  if ((adminKey === undefined) !== (adminSecret === undefined))
    problems.push(
      'EKS_ACCESS_ADMIN_ACCESS_KEY_ID and EKS_ACCESS_ADMIN_SECRET_ACCESS_KEY (--admin-access-key / --admin-secret-access-key) must be set together',
    );
  const adminRole = v['admin-role-arn'] ?? env('EKS_ACCESS_ADMIN_ROLE_ARN');
  if (!resolved.ok || problems.length > 0 || principalArn === undefined)
    throw new UsageError(problems.join('\n'));
  const admin: CredentialsConfig = {
    base:
      adminKey && adminSecret
        ? { kind: 'static', accessKeyId: adminKey, secretAccessKey: adminSecret }
        : { kind: 'default-chain' },
    assume: adminRole ? [{ roleArn: adminRole, sessionName: 'eks-access-setup' }] : [],
  };
  const connector =
    resolved.value.credentials.base.kind === 'static' ? resolved.value.credentials : undefined;
  return {
    target: resolved.value,
    endpoints,
    principalArn,
    admin,
    ...(connector ? { connector } : {}),
    apply: v.apply === true,
    provisioning: v.provisioning === true || provisioningFromEnv(),
    output: rawOutput === 'json' ? 'json' : 'table',
  };
}
