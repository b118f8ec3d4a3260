// The CLI's configuration: flags first, then the environment names of C1's EKS connector docs, so
// a baton-eks Secret can be reused as-is. The only place (with main.ts) that reads process.env.
import { parseArgs } from 'node:util';
import { resolveBatonConfig, type AwsEndpoints, type ResolvedBatonConfig } from '@eks-access/eks-core';

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
  const rawOutput = v.output ?? 'table';
  const output = rawOutput === 'json' ? 'json' : 'table';
  if (rawOutput !== 'table' && rawOutput !== 'json') problems.push(`--output must be "table" or "json", not "${rawOutput}"`);
  const concurrency = v.concurrency === undefined ? 10 : Number(v.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100) problems.push('--concurrency must be a whole number from 1 to 100');
  const common = v['endpoint-url'] ?? env('AWS_ENDPOINT_URL');
  const endpoints: AwsEndpoints = {};
  for (const service of ['sts', 'iam', 'eks'] as const) {
    const url = env(`AWS_ENDPOINT_URL_${service.toUpperCase()}`) ?? common;
    if (url === undefined) continue;
    if (!/^https?:\/\/[^\s/]+/.test(url)) problems.push(`endpoint URL "${url}" for ${service} is not an http(s) URL`);
    endpoints[service] = url;
  }
  if (v.out && v.file) problems.push('--out (JSON) and --file (c1z) cannot be combined; write one, then the other');
  if (v.file !== undefined && !v.file.endsWith('.c1z')) problems.push(`--file "${v.file}" should end in .c1z`);
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
