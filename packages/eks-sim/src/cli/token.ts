// `eks-sim token`: mints an EKS bearer token and prints it as an ExecCredential, the contract of a
// kubectl exec credential plugin (what `aws eks get-token` prints). With --role-arn it first
// assumes the role through the simulator's STS, as a connector configured with a role ARN does.
import { action, UsageError } from '@eks-access/cli-kit';
import type { Command } from 'commander';
import { mintEksToken, type EksTokenCredentials } from '../kube/token.js';
import { CliError, required, type CliIo } from './args.js';

/** How long clients may cache a token: a minute less than the 15 minutes EKS accepts it. */
const TOKEN_LIFETIME_MS = 14 * 60_000;

async function assumeRole(
  credentials: EksTokenCredentials,
  options: {
    region: string;
    endpoint: string;
    roleArn: string;
    externalId?: string | undefined;
    sessionName: string;
  },
): Promise<EksTokenCredentials> {
  // Loaded on demand: only this path needs the SDK, and it is slow to import.
  const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({
    region: options.region,
    endpoint: options.endpoint,
    credentials,
    maxAttempts: 2,
  });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: options.roleArn,
        RoleSessionName: options.sessionName,
        ...(options.externalId === undefined ? {} : { ExternalId: options.externalId }),
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new CliError('AssumeRole returned no credentials');
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
    };
  } catch (err) {
    if (err instanceof CliError) throw err;
    const name = err instanceof Error ? err.name : 'Error';
    throw new CliError(
      `AssumeRole ${options.roleArn} failed: ${name}: ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    sts.destroy();
  }
}

interface TokenFlags {
  cluster?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  roleArn?: string;
  externalId?: string;
  roleSessionName?: string;
  stsEndpoint?: string;
}

/** Adds `eks-sim token` to the program. */
export function tokenCommand(program: Command, io: CliIo): void {
  program
    .command('token')
    .summary('print an EKS token as a kubectl ExecCredential')
    .description('Prints an ExecCredential (client.authentication.k8s.io/v1beta1) holding an EKS token.')
    .option('--cluster <name>', 'cluster name (required)')
    .option('--region <region>', 'cluster region (default $AWS_REGION or $AWS_DEFAULT_REGION)')
    .option('--access-key <id>', 'access key id (default $AWS_ACCESS_KEY_ID)')
    .option('--secret-key <secret>', 'secret access key (default $AWS_SECRET_ACCESS_KEY)')
    .option('--session-token <token>', 'session token (default $AWS_SESSION_TOKEN)')
    .option('--role-arn <arn>', 'assume this role first')
    .option('--external-id <id>', 'external id for AssumeRole')
    .option('--role-session-name <name>', 'session name (default eks-sim)')
    .option(
      '--sts-endpoint <url>',
      "STS endpoint for --role-arn (default $AWS_ENDPOINT_URL_STS or $AWS_ENDPOINT_URL): the simulator's AWS endpoint",
    )
    .action(action<TokenFlags>((flags) => token(flags, io)));
}

/** Runs `eks-sim token`. */
export async function token(flags: TokenFlags, io: CliIo, now = () => new Date()): Promise<number> {
  const clusterName = required(flags.cluster, '--cluster');
  const region = flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('--region is required (or set AWS_REGION)');
  const fromFlags = flags.accessKey !== undefined || flags.secretKey !== undefined;
  const accessKeyId = fromFlags ? flags.accessKey : io.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = fromFlags ? flags.secretKey : io.env.AWS_SECRET_ACCESS_KEY;
  const sessionToken = fromFlags ? flags.sessionToken : (flags.sessionToken ?? io.env.AWS_SESSION_TOKEN);
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError(
      'no AWS credentials: pass --access-key and --secret-key, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    );
  }
  let credentials: EksTokenCredentials = {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
  };

  if (flags.externalId !== undefined && flags.roleArn === undefined)
    throw new UsageError('--external-id needs --role-arn');
  if (flags.roleArn) {
    const endpoint = flags.stsEndpoint ?? io.env.AWS_ENDPOINT_URL_STS ?? io.env.AWS_ENDPOINT_URL;
    if (!endpoint)
      throw new UsageError(
        "--role-arn needs --sts-endpoint (the simulator's AWS endpoint) or AWS_ENDPOINT_URL",
      );
    credentials = await assumeRole(credentials, {
      region,
      endpoint,
      roleArn: flags.roleArn,
      externalId: flags.externalId,
      sessionName: flags.roleSessionName ?? 'eks-sim',
    });
  }

  const issuedAt = now();
  const value = await mintEksToken({ credentials, region, clusterName, now: issuedAt });
  const credential = {
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    spec: {},
    status: {
      expirationTimestamp: new Date(issuedAt.getTime() + TOKEN_LIFETIME_MS)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z'),
      token: value,
    },
  };
  io.stdout(`${JSON.stringify(credential)}\n`);
  return 0;
}
