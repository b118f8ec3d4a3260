// `eks-sim kubeconfig`: asks a running simulator for a cluster's endpoint and CA and prints a
// kubeconfig whose user runs `eks-sim token` as an exec credential plugin, so kubectl (or any
// client-go based tool) talks to the simulated cluster with real EKS tokens.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { createSimAdminClient } from '../admin-client.js';
import type { ReadyLine } from '../sim.js';
import { CliError, parseFlags, required, UsageError, type CliIo } from './args.js';
import { DEFAULT_PORT } from './serve.js';
import { selfCommand } from './self.js';

export const KUBECONFIG_USAGE = `usage: eks-sim kubeconfig --cluster NAME [options]

Prints a kubeconfig for one simulated cluster. Its user runs "eks-sim token" to mint EKS tokens.

  --cluster NAME         cluster name (required)
  --admin URL            the simulator's AWS endpoint or admin URL
                         (default $EKS_SIM_ADMIN_URL or http://127.0.0.1:${DEFAULT_PORT})
  --region R             the cluster's region, when two clusters share a name
  --access-key ID        credentials the token is minted with (default: the first long-lived
  --secret-key SECRET    credential the simulator lists, the demo's connector user)
  --session-token T
  --role-arn ARN         assume this role first, through the simulator's STS
  --external-id X        external id for the AssumeRole call

  eks-sim kubeconfig --cluster prod-eu > /tmp/prod-eu.kubeconfig
  KUBECONFIG=/tmp/prod-eu.kubeconfig kubectl get rolebindings -A
`;

/** Runs `eks-sim kubeconfig`. */
export async function kubeconfig(args: string[], io: CliIo): Promise<number> {
  const { values: flags } = parseFlags(() =>
    parseArgs({
      args,
      strict: true,
      options: {
        cluster: { type: 'string' },
        admin: { type: 'string' },
        region: { type: 'string' },
        'access-key': { type: 'string' },
        'secret-key': { type: 'string' },
        'session-token': { type: 'string' },
        'role-arn': { type: 'string' },
        'external-id': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (flags.help) {
    io.stdout(KUBECONFIG_USAGE);
    return 0;
  }
  const name = required(flags.cluster, '--cluster');
  if ((flags['access-key'] === undefined) !== (flags['secret-key'] === undefined)) {
    throw new UsageError('--access-key and --secret-key go together');
  }
  if (flags['external-id'] !== undefined && flags['role-arn'] === undefined)
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

  const credential = flags['access-key']
    ? { accessKeyId: flags['access-key'], secretAccessKey: flags['secret-key']! }
    : info.credentials[0];
  if (!credential)
    throw new CliError('the simulator lists no long-lived credentials; pass --access-key and --secret-key');

  const self = selfCommand();
  const tokenArgs = ['token', '--cluster', cluster.name, '--region', cluster.region];
  if (flags['role-arn']) tokenArgs.push('--role-arn', flags['role-arn'], '--sts-endpoint', info.aws.endpoint);
  if (flags['external-id']) tokenArgs.push('--external-id', flags['external-id']);
  const env = [
    { name: 'AWS_ACCESS_KEY_ID', value: credential.accessKeyId },
    { name: 'AWS_SECRET_ACCESS_KEY', value: credential.secretAccessKey },
    ...(flags['session-token'] ? [{ name: 'AWS_SESSION_TOKEN', value: flags['session-token'] }] : []),
  ];
  // Named by ARN, as `aws eks update-kubeconfig` does.
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster.arn,
        cluster: { server: cluster.endpoint, 'certificate-authority-data': cluster.caData },
      },
    ],
    users: [
      {
        name: cluster.arn,
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
      },
    ],
    contexts: [{ name: cluster.arn, context: { cluster: cluster.arn, user: cluster.arn } }],
    'current-context': cluster.arn,
  };
  io.stdout(stringify(config, { lineWidth: 0 }));
  return 0;
}
