// `eks-sim kubeconfig`: asks a running simulator for a cluster's endpoint and CA and prints a
// kubeconfig whose user runs `eks-sim token` as an exec credential plugin, so kubectl (or any
// client-go based tool) talks to the simulated cluster with real EKS tokens.
import { action, UsageError } from '@eks-access/cli-kit';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { createSimAdminClient } from '../admin-client.js';
import type { ReadyLine } from '../sim.js';
import { CliError, required, type CliIo } from './args.js';
import { DEFAULT_PORT } from './serve.js';
import { selfCommand } from './self.js';

interface KubeconfigFlags {
  cluster?: string;
  admin?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  roleArn?: string;
  externalId?: string;
}

/** Adds `eks-sim kubeconfig` to the program. */
export function kubeconfigCommand(program: Command, io: CliIo): void {
  program
    .command('kubeconfig')
    .summary('print a kubeconfig for a simulated cluster')
    .description(
      'Prints a kubeconfig for one simulated cluster. Its user runs "eks-sim token" to mint EKS tokens.',
    )
    .option('--cluster <name>', 'cluster name (required)')
    .option(
      '--admin <url>',
      `the simulator's AWS endpoint or admin URL (default $EKS_SIM_ADMIN_URL or http://127.0.0.1:${DEFAULT_PORT})`,
    )
    .option('--region <region>', "the cluster's region, when two clusters share a name")
    .option(
      '--access-key <id>',
      'credentials the token is minted with (default: the first long-lived credential the simulator lists, ' +
        "the demo's connector user, assuming the role the world names for the cluster: in the demo the " +
        "connector's role, with its ExternalId for legacy-us)",
    )
    .option('--secret-key <secret>', 'the secret of --access-key')
    .option('--session-token <token>', 'a session token for temporary credentials')
    .option('--role-arn <arn>', "assume this role first, through the simulator's STS")
    .option('--external-id <id>', 'external id for the AssumeRole call')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  eks-sim kubeconfig --cluster prod-eu > /tmp/prod-eu.kubeconfig\n' +
        '  KUBECONFIG=/tmp/prod-eu.kubeconfig kubectl get rolebindings -A',
    )
    .action(action<KubeconfigFlags>((flags) => kubeconfig(flags, io)));
}

/**
 * A kubeconfig with one cluster, user and context, all called `name` (the cluster ARN, as
 * `aws eks update-kubeconfig` names them); `user` is the kubeconfig user (`exec` or `token`).
 */
export function kubeconfigDocument(options: {
  name: string;
  server: string;
  caData: string;
  user: Record<string, unknown>;
}): Record<string, unknown> {
  const { name } = options;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server, 'certificate-authority-data': options.caData } }],
    users: [{ name, user: options.user }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
}

/** Runs `eks-sim kubeconfig`. */
export async function kubeconfig(flags: KubeconfigFlags, io: CliIo): Promise<number> {
  const name = required(flags.cluster, '--cluster');
  if ((flags.accessKey === undefined) !== (flags.secretKey === undefined)) {
    throw new UsageError('--access-key and --secret-key go together');
  }
  if (flags.externalId !== undefined && flags.roleArn === undefined)
    throw new UsageError('--external-id needs --role-arn');
  const adminUrl = flags.admin ?? io.env.EKS_SIM_ADMIN_URL ?? `http://127.0.0.1:${DEFAULT_PORT}`;
  if (!/^https?:\/\//.test(adminUrl))
    throw new UsageError(`--admin must be an http(s) URL (got "${adminUrl}")`);

  let info: ReadyLine;
  try {
    info = await createSimAdminClient(adminUrl).info();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    throw new CliError(
      `cannot reach the simulator at ${adminUrl} (${why}); is "eks-sim serve" running? (--admin URL)`,
    );
  }
  const matches = info.clusters.filter(
    (c) => c.name === name && (flags.region === undefined || c.region === flags.region),
  );
  if (matches.length === 0) {
    throw new CliError(
      `no cluster ${name}${flags.region ? ` in ${flags.region}` : ''}; the simulator has ${info.clusters.map((c) => `${c.name} (${c.region})`).join(', ') || 'none'}`,
    );
  }
  if (matches.length > 1)
    throw new UsageError(
      `${matches.length} clusters are named ${name}; add --region (${matches.map((c) => c.region).join(', ')})`,
    );
  const cluster = matches[0]!;

  const credential = flags.accessKey
    ? { accessKeyId: flags.accessKey, secretAccessKey: flags.secretKey! }
    : info.credentials[0];
  if (!credential)
    throw new CliError('the simulator lists no long-lived credentials; pass --access-key and --secret-key');

  // Without an identity on the command line, the one the world names for this cluster (the demo's
  // connector role): the first listed credential alone is usually mapped nowhere.
  const operator = !flags.accessKey && !flags.roleArn ? cluster.operator : undefined;
  const roleArn = flags.roleArn ?? operator?.roleArn;
  const externalId = flags.externalId ?? operator?.externalId;
  const self = selfCommand();
  const tokenArgs = ['token', '--cluster', cluster.name, '--region', cluster.region];
  if (roleArn) tokenArgs.push('--role-arn', roleArn, '--sts-endpoint', info.aws.endpoint);
  if (externalId) tokenArgs.push('--external-id', externalId);
  const env = [
    { name: 'AWS_ACCESS_KEY_ID', value: credential.accessKeyId },
    { name: 'AWS_SECRET_ACCESS_KEY', value: credential.secretAccessKey },
    ...(flags.sessionToken ? [{ name: 'AWS_SESSION_TOKEN', value: flags.sessionToken }] : []),
  ];
  const config = kubeconfigDocument({
    name: cluster.arn,
    server: cluster.endpoint,
    caData: cluster.caData,
    user: {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: self.command,
        args: [...self.args, ...tokenArgs],
        env,
        interactiveMode: 'Never',
        provideClusterInfo: false,
      },
    },
  });
  io.stdout(stringify(config, { lineWidth: 0 }));
  return 0;
}
