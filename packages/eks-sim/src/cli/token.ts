// `eks-sim token`: mints an EKS bearer token and prints it as an ExecCredential, the contract of a
// kubectl exec credential plugin (what `aws eks get-token` prints). With --role-arn it first
// assumes the role through the simulator's STS, as a connector configured with a role ARN does.
import { parseArgs } from 'node:util';
import { mintEksToken, type EksTokenCredentials } from '../kube/token.js';
import { CliError, parseFlags, required, UsageError, type CliIo } from './args.js';

/** How long clients may cache a token: a minute less than the 15 minutes EKS accepts it. */
const TOKEN_LIFETIME_MS = 14 * 60_000;

export const TOKEN_USAGE = `usage: eks-sim token --cluster NAME --region R [options]

Prints an ExecCredential (client.authentication.k8s.io/v1beta1) holding an EKS token.

  --cluster NAME         cluster name (required)
  --region R             cluster region (default $AWS_REGION or $AWS_DEFAULT_REGION)
  --access-key ID        credentials (default $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY,
  --secret-key SECRET    $AWS_SESSION_TOKEN)
  --session-token T
  --role-arn ARN         assume this role first
  --external-id X        external id for AssumeRole
  --role-session-name S  session name (default eks-sim)
  --sts-endpoint URL     STS endpoint for --role-arn (default $AWS_ENDPOINT_URL_STS or
                         $AWS_ENDPOINT_URL): the simulator's AWS endpoint
`;

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

/** Runs `eks-sim token`. */
export async function token(args: string[], io: CliIo, now = () => new Date()): Promise<number> {
  const { values: flags } = parseFlags(() =>
    parseArgs({
      args,
      strict: true,
      options: {
        cluster: { type: 'string' },
        region: { type: 'string' },
        'access-key': { type: 'string' },
        'secret-key': { type: 'string' },
        'session-token': { type: 'string' },
        'role-arn': { type: 'string' },
        'external-id': { type: 'string' },
        'role-session-name': { type: 'string' },
        'sts-endpoint': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (flags.help) {
    io.stdout(TOKEN_USAGE);
    return 0;
  }
  const clusterName = required(flags.cluster, '--cluster');
  const region = flags.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  if (!region) throw new UsageError('--region is required (or set AWS_REGION)');
  const fromFlags = flags['access-key'] !== undefined || flags['secret-key'] !== undefined;
  const accessKeyId = fromFlags ? flags['access-key'] : io.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = fromFlags ? flags['secret-key'] : io.env.AWS_SECRET_ACCESS_KEY;
  const sessionToken = fromFlags
    ? flags['session-token']
    : (flags['session-token'] ?? io.env.AWS_SESSION_TOKEN);
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

  if (flags['external-id'] !== undefined && flags['role-arn'] === undefined)
    throw new UsageError('--external-id needs --role-arn');
  if (flags['role-arn']) {
    const endpoint = flags['sts-endpoint'] ?? io.env.AWS_ENDPOINT_URL_STS ?? io.env.AWS_ENDPOINT_URL;
    if (!endpoint)
      throw new UsageError(
        "--role-arn needs --sts-endpoint (the simulator's AWS endpoint) or AWS_ENDPOINT_URL",
      );
    credentials = await assumeRole(credentials, {
      region,
      endpoint,
      roleArn: flags['role-arn'],
      externalId: flags['external-id'],
      sessionName: flags['role-session-name'] ?? 'eks-sim',
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
