// eks-access-api, the admin CLI (run with DATABASE_URL and ENCRYPTION_KEY set): migrations, API
// keys, and registering a cluster from a baton-eks configuration. One commander program; the
// commands live in cli/, and this is the one CLI file that reads process.env.
import { createProgram, packageVersion, runProgram } from '@eks-access/cli-kit';
import { keyCommands } from './cli/keys.js';
import type { CliContext } from './cli/context.js';
import { migrateCommand } from './cli/migrate.js';
import { registerClusterCommand } from './cli/register-cluster.js';

const ctx: CliContext = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: (name) => {
    const value = process.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  },
};

const program = createProgram(
  'eks-access-api',
  // src/cli.ts and dist/cli.js both sit right below the package.
  packageVersion(new URL('../package.json', import.meta.url)),
  'Admin CLI of the eks-access API: database migrations, API keys, cluster registration. ' +
    'Needs DATABASE_URL and ENCRYPTION_KEY.',
  ctx,
);
migrateCommand(program, ctx);
keyCommands(program, ctx);
registerClusterCommand(program, ctx);

process.exitCode = await runProgram(program, process.argv.slice(2), ctx);
