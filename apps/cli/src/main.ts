#!/usr/bin/env node
// eks-access: the one-shot CLI, one commander program with a file per command under commands/.
// Errors end with one clear line on stderr and a non-zero exit code, never a stack trace (set
// EKS_ACCESS_DEBUG=1 to see one).
import { createProgram, packageVersion, runProgram } from '@eks-access/cli-kit';
import { isEksAccessError } from '@eks-access/eks-core';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { registerClustersCommand } from './commands/register-clusters.js';
import { setupCommand } from './commands/setup.js';
import { syncCommand, type CommandIo } from './commands/sync.js';

// The AWS SDK warns about Node 20 on every client; the CLI's output is for people.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const io: CommandIo = {
  stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  stderr: (t) => process.stderr.write(t),
};

/** What to set when the AWS SDK's default chain found no credentials at all. */
const NO_CREDENTIALS =
  'no AWS credentials: set BATON_EKS_ACCESS_KEY and BATON_EKS_SECRET_ACCESS_KEY (or --access-key and ' +
  '--secret-access-key), or give the process an AWS identity: AWS_PROFILE, AWS_ACCESS_KEY_ID and ' +
  'AWS_SECRET_ACCESS_KEY, IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) or EKS Pod Identity';

function describe(err: unknown): { message: string; exitCode: number } | undefined {
  if (process.env.EKS_ACCESS_DEBUG === '1' && err instanceof Error)
    process.stderr.write(`${err.stack ?? ''}\n`);
  if (!isEksAccessError(err)) return undefined;
  if ((err.cause as { name?: unknown } | undefined)?.name === 'CredentialsProviderError')
    return { message: NO_CREDENTIALS, exitCode: 2 };
  if (err.code === 'NETWORK')
    return {
      message: `${err.message}; check --endpoint-url / AWS_ENDPOINT_URL and the network`,
      exitCode: 1,
    };
  return { message: err.message, exitCode: err.code === 'CONFIG_INVALID' ? 2 : 1 };
}

const program = createProgram(
  'eks-access',
  // src/main.ts and dist/main.js both sit right below the package.
  packageVersion(new URL('../package.json', import.meta.url)),
  'Syncs EKS clusters without Redis or Postgres: who can reach which cluster with what, as baton-eks sees it.',
  io,
);
syncCommand(program, io, Boolean(process.stderr.isTTY));
doctorCommand(program, io);
setupCommand(program, io);
demoCommand(program, io);
registerClustersCommand(program, io);

process.exitCode = await runProgram(program, process.argv.slice(2), io, describe);
