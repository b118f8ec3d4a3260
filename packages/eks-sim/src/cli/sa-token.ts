// `eks-sim sa-token`: mints the projected service-account token an EKS pod would find in its token
// file, signed by a simulated cluster's OIDC issuer, through the admin API. Tests and the local
// Kubernetes overlay use it to give a process the IRSA or Pod Identity environment with no static
// keys. With --out and --refresh it keeps the file fresh, as the kubelet does for a projected volume.
import { action, UsageError } from '@eks-access/cli-kit';
import { rename, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { createSimAdminClient, SimAdminError } from '../admin-client.js';
import { CliError, intFlag, required, type CliIo } from './args.js';
import { DEFAULT_PORT } from './serve.js';

/** A failed refresh is retried this soon; the previous token stays valid meanwhile. */
const RETRY_MS = 5000;

interface SaTokenFlags {
  cluster?: string;
  region?: string;
  namespace?: string;
  serviceAccount?: string;
  audience?: string;
  expirationSeconds?: string;
  out?: string;
  refresh?: boolean;
  admin?: string;
}

/** Adds `eks-sim sa-token` to the program. */
export function saTokenCommand(program: Command, io: CliIo): void {
  program
    .command('sa-token')
    .summary("mint a pod's service-account token (IRSA / Pod Identity) from a cluster's issuer")
    .description(
      "Mints a service-account token signed by the cluster's OIDC issuer: what an EKS pod reads from " +
        'AWS_WEB_IDENTITY_TOKEN_FILE (IRSA) or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (Pod Identity). ' +
        'The service account must exist in the simulated cluster.',
    )
    .option('--cluster <name>', 'the cluster whose issuer signs the token (required)')
    .option('--region <region>', 'when two clusters share the name')
    .option('--namespace <ns>', '(required)')
    .option('--service-account <sa>', '(required)')
    .option('--audience <aud>', 'sts.amazonaws.com (IRSA, default) or pods.eks.amazonaws.com (Pod Identity)')
    .option('--expiration-seconds <n>', 'lifetime, 600 to 604800 (default 3600)')
    .option('--out <file>', 'write the token to FILE (replaced atomically) instead of stdout')
    .option(
      '--refresh',
      "keep running and rewrite FILE at 80% of each token's lifetime (as the kubelet refreshes a projected token); needs --out",
    )
    .option(
      '--admin <url>',
      `the simulator's AWS endpoint or admin URL (default $EKS_SIM_ADMIN_URL or http://127.0.0.1:${DEFAULT_PORT})`,
    )
    .action(action<SaTokenFlags>((flags) => saToken(flags, io)));
}

/** Runs `eks-sim sa-token`. */
export async function saToken(flags: SaTokenFlags, io: CliIo): Promise<number> {
  const cluster = required(flags.cluster, '--cluster');
  const namespace = required(flags.namespace, '--namespace');
  const serviceAccount = required(flags.serviceAccount, '--service-account');
  const expirationSeconds = intFlag(flags.expirationSeconds, '--expiration-seconds', 600, 604800);
  if (flags.refresh && flags.out === undefined) throw new UsageError('--refresh needs --out FILE');
  const adminUrl = flags.admin ?? io.env.EKS_SIM_ADMIN_URL ?? `http://127.0.0.1:${DEFAULT_PORT}`;
  if (!/^https?:\/\//.test(adminUrl))
    throw new UsageError(`--admin must be an http(s) URL (got "${adminUrl}")`);
  const admin = createSimAdminClient(adminUrl);

  const mint = async () => {
    try {
      return await admin.serviceAccountToken(
        cluster,
        {
          namespace,
          serviceAccount,
          ...(flags.audience === undefined ? {} : { audience: flags.audience }),
          ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
        },
        flags.region === undefined ? {} : { region: flags.region },
      );
    } catch (err) {
      if (err instanceof SimAdminError) throw new CliError(err.message);
      const cause = (err as { cause?: { code?: string } }).cause;
      throw new CliError(
        `cannot reach the simulator at ${adminUrl} (${cause?.code ?? (err instanceof Error ? err.message : String(err))}); is "eks-sim serve" running? (--admin URL)`,
      );
    }
  };
  const write = async (file: string, token: string) => {
    const tmp = `${file}.${process.pid}.tmp`;
    // Readable by the other containers of a pod that share the volume; it is a bearer credential
    // for one role only, as the kubelet's projected token is.
    await writeFile(tmp, token, { mode: 0o644 });
    await rename(tmp, file);
  };

  const first = await mint();
  if (flags.out === undefined) {
    io.stdout(`${first.token}\n`);
    return 0;
  }
  const file = flags.out;
  await write(file, first.token);
  io.stderr(`eks-sim: wrote a token for ${first.subject} (expires ${first.expiresAt}) to ${file}\n`);
  if (!flags.refresh) return 0;

  let stopped = false;
  const stop = io.untilSignal().then(() => {
    stopped = true;
  });
  let expiresAt = Date.parse(first.expiresAt);
  let issuedAt = Date.now();
  while (!stopped) {
    const wait = Math.max(1000, issuedAt + (expiresAt - issuedAt) * 0.8 - Date.now());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stop, new Promise((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
    if (stopped) break;
    try {
      const next = await mint();
      await write(file, next.token);
      issuedAt = Date.now();
      expiresAt = Date.parse(next.expiresAt);
    } catch (err) {
      io.stderr(
        `eks-sim: token refresh failed, retrying: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      issuedAt = Date.now();
      expiresAt = issuedAt + RETRY_MS / 0.8;
    }
  }
  return 0;
}
