// The eks-sim command line: one commander program with a file per command. Failures end as one
// message on stderr (2: the command line is wrong; 1: the command failed), never a stack trace.
import { createProgram, packageVersion, runProgram } from '@eks-access/cli-kit';
import { WorldFileError } from '../world/load.js';
import { CliError, type CliIo } from './args.js';
import { kubeconfigCommand } from './kubeconfig.js';
import { saTokenCommand } from './sa-token.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';

/** The eks-sim program, its commands writing to `io`. */
export function createEksSimProgram(io: CliIo) {
  const program = createProgram(
    'eks-sim',
    // src/cli/ and dist/cli/ sit at the same depth below the package.
    packageVersion(new URL('../../package.json', import.meta.url)),
    'Emulator of the AWS (STS, IAM, EKS) and per-cluster Kubernetes APIs used by eks-access-connector.',
    io,
  );
  serveCommand(program, io);
  kubeconfigCommand(program, io);
  tokenCommand(program, io);
  saTokenCommand(program, io);
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  return runProgram(createEksSimProgram(io), argv, io, (err) =>
    // A world file's problems are listed one per line under the file name.
    err instanceof WorldFileError || err instanceof CliError
      ? { message: err.message, exitCode: 1 }
      : undefined,
  );
}
