// The eks-sim command line: dispatches to one command and maps failures to exit codes and a single
// message on stderr (2: the command line is wrong; 1: the command failed). Never a stack trace.
import { WorldFileError } from '../world/load.js';
import { CliError, UsageError, type CliIo } from './args.js';
import { kubeconfig } from './kubeconfig.js';
import { saToken } from './sa-token.js';
import { serve } from './serve.js';
import { token } from './token.js';

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  serve,
  kubeconfig,
  token,
  'sa-token': saToken,
};

export const USAGE = `usage: eks-sim <command> [options]

Commands:
  serve        start the simulator (AWS STS/IAM/EKS + a Kubernetes API per cluster)
  kubeconfig   print a kubeconfig for a simulated cluster
  token        print an EKS token as a kubectl ExecCredential
  sa-token     mint a pod's service-account token (IRSA / Pod Identity) from a cluster's issuer

Run "eks-sim <command> --help" for a command's options.
`;

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  try {
    if (command === undefined) throw new UsageError('a command is required');
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const known = command !== undefined && Object.hasOwn(COMMANDS, command);
      io.stderr(`eks-sim: ${err.message}\nRun "eks-sim ${known ? `${command} ` : ''}--help" for usage.\n`);
      return 2;
    }
    if (err instanceof WorldFileError || err instanceof CliError) io.stderr(`eks-sim: ${err.message}\n`);
    else io.stderr(`eks-sim: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
