// The CLI's configuration: flags first (ours or baton-eks's names), then the environment names of
// C1's EKS connector docs, so a baton-eks Secret or command line can be reused as is. The only place
// (with main.ts) that reads process.env.
import { addBatonOption, batonValue, UsageError } from '@eks-access/cli-kit';
import {
  resolveBatonConfig,
  type AwsEndpoints,
  type CredentialsConfig,
  type ResolvedBatonConfig,
} from '@eks-access/eks-core';
import { BATON_FIELDS } from '@eks-access/model';
import type { Command } from 'commander';

export { UsageError };

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

/** The sync options that are not baton-eks fields (those are read through the command). */
export interface SyncFlags {
  output: string;
  out?: string;
  file?: string;
  progress: boolean;
  concurrency: string;
}

/** An environment variable, blank counting as unset. */
export function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** Adds the options that pick the cluster, the connector's credentials and the AWS endpoints. */
export function addTargetOptions(command: Command): Command {
  for (const field of Object.values(BATON_FIELDS)) addBatonOption(command, field);
  return command.option(
    '--endpoint-url <url>',
    'AWS endpoint for STS, IAM and EKS, e.g. the simulator (AWS_ENDPOINT_URL; per service AWS_ENDPOINT_URL_STS / _IAM / _EKS)',
  );
}

/**
 * The cluster and connector credentials (flags, ours or baton-eks's, over BATON_* names), the AWS
 * endpoints (--endpoint-url over AWS_ENDPOINT_URL_<SERVICE> and AWS_ENDPOINT_URL), and what is wrong.
 */
export function resolveTarget(command: Command): {
  resolved: ReturnType<typeof resolveBatonConfig>;
  endpoints: AwsEndpoints;
  problems: string[];
} {
  const value = (key: keyof typeof BATON_FIELDS) => batonValue(command, BATON_FIELDS[key], env)?.value;
  const resolved = resolveBatonConfig({
    clusterName: value('clusterName'),
    region: value('region'),
    roleArn: value('roleArn'),
    externalId: value('externalId'),
    accessKeyId: value('accessKeyId'),
    secretAccessKey: value('secretAccessKey'),
    globalAccessKeyId: value('globalAccessKeyId'),
    globalSecretAccessKey: value('globalSecretAccessKey'),
    globalRoleArn: value('globalRoleArn'),
    globalBindingExternalId: value('globalBindingExternalId'),
  });
  const problems = resolved.ok ? [] : [...resolved.problems];
  const endpointUrl = command.getOptionValue('endpointUrl') as string | undefined;
  const common = endpointUrl ?? env('AWS_ENDPOINT_URL');
  const endpoints: AwsEndpoints = {};
  for (const service of ['sts', 'iam', 'eks'] as const) {
    const url = (endpointUrl ? undefined : env(`AWS_ENDPOINT_URL_${service.toUpperCase()}`)) ?? common;
    if (url === undefined) continue;
    if (!/^https?:\/\/[^\s/]+/.test(url))
      problems.push(`endpoint URL "${url}" for ${service} is not an http(s) URL`);
    endpoints[service] = url;
  }
  return { resolved, endpoints, problems };
}

/** Validates `eks-access sync`'s flags and environment into a config; every problem in one line. */
export function loadSyncConfig(command: Command, flags: SyncFlags, isTty: boolean): SyncCommandConfig {
  const { resolved, endpoints, problems } = resolveTarget(command);
  const output = flags.output === 'json' ? 'json' : 'table';
  if (flags.output !== 'table' && flags.output !== 'json')
    problems.push(`--output must be "table" or "json", not "${flags.output}"`);
  const concurrency = Number(flags.concurrency);
  if (!/^\d+$/.test(flags.concurrency) || concurrency < 1 || concurrency > 100)
    problems.push('--concurrency must be a whole number from 1 to 100');
  if (flags.out && flags.file)
    problems.push('--out (JSON) and --file (c1z) cannot be combined; write one, then the other');
  if (flags.file !== undefined && !flags.file.endsWith('.c1z'))
    problems.push(`--file "${flags.file}" should end in .c1z`);
  if (!resolved.ok || problems.length > 0) throw new UsageError(problems.join('; '));
  return {
    target: resolved.value,
    endpoints,
    output,
    ...(flags.out ? { outFile: flags.out } : {}),
    ...(flags.file ? { c1zFile: flags.file } : {}),
    progress: isTty && flags.progress,
    accessEntryConcurrency: concurrency,
  };
}

/** BATON_PROVISIONING as the C1 docs use it: "true"/"1" on, anything else off. */
function provisioningFromEnv(): boolean {
  const v = env('BATON_PROVISIONING')?.toLowerCase();
  return v === 'true' || v === '1' || v === 'yes';
}

function outputFrom(raw: string, problems: string[]): 'table' | 'json' {
  if (raw !== 'table' && raw !== 'json') problems.push(`--output must be "table" or "json", not "${raw}"`);
  return raw === 'json' ? 'json' : 'table';
}

export interface DoctorCommandConfig {
  target: ResolvedBatonConfig;
  endpoints: AwsEndpoints;
  output: 'table' | 'json';
  provisioning: boolean;
}

/** `eks-access doctor`'s options beside the target ones. */
export interface DoctorFlags {
  output: string;
  provisioning?: boolean;
}

/** Validates `eks-access doctor`'s flags and environment; every problem in one line. */
export function loadDoctorConfig(command: Command, flags: DoctorFlags): DoctorCommandConfig {
  const { resolved, endpoints, problems } = resolveTarget(command);
  const output = outputFrom(flags.output, problems);
  if (!resolved.ok || problems.length > 0) throw new UsageError(problems.join('; '));
  return {
    target: resolved.value,
    endpoints,
    output,
    provisioning: flags.provisioning === true || provisioningFromEnv(),
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

/** `eks-access setup`'s options beside the target ones. */
export interface SetupFlags {
  plan?: boolean;
  apply?: boolean;
  principalArn?: string;
  adminAccessKey?: string;
  adminSecretAccessKey?: string;
  adminRoleArn?: string;
  provisioning?: boolean;
  output: string;
}

/** Validates `eks-access setup`'s flags and environment; every problem in one line. */
export function loadSetupConfig(command: Command, flags: SetupFlags): SetupCommandConfig {
  const { resolved, endpoints, problems } = resolveTarget(command);
  if (flags.plan && flags.apply) problems.push('--plan and --apply cannot be combined');
  const output = outputFrom(flags.output, problems);
  const roleArn = batonValue(command, BATON_FIELDS.roleArn, env)?.value;
  const principalArn = flags.principalArn ?? roleArn;
  if (principalArn === undefined)
    problems.push(
      "the connector's IAM role is required (BATON_ROLE_ARN or --role-arn), or --principal-arn for an IAM user",
    );
  else if (!/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+/.test(principalArn))
    problems.push(`"${principalArn}" is not an IAM role or user ARN (--principal-arn / --role-arn)`);
  const adminKey = flags.adminAccessKey ?? env('EKS_ACCESS_ADMIN_ACCESS_KEY_ID');
  const adminSecret = flags.adminSecretAccessKey ?? env('EKS_ACCESS_ADMIN_SECRET_ACCESS_KEY');
  if ((adminKey === undefined) !== (adminSecret === undefined))
    problems.push(
      'EKS_ACCESS_ADMIN_ACCESS_KEY_ID and EKS_ACCESS_ADMIN_SECRET_ACCESS_KEY (--admin-access-key / --admin-secret-access-key) must be set together',
    );
  const adminRole = flags.adminRoleArn ?? env('EKS_ACCESS_ADMIN_ROLE_ARN');
  if (!resolved.ok || problems.length > 0 || principalArn === undefined)
    throw new UsageError(problems.join('; '));
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
    apply: flags.apply === true,
    provisioning: flags.provisioning === true || provisioningFromEnv(),
    output,
  };
}
