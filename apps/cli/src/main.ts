#!/usr/bin/env node
// eks-access: the one-shot CLI. Errors end with one clear line on stderr and a non-zero exit code,
// never a stack trace (set EKS_ACCESS_DEBUG=1 to see one).
import { isEksAccessError } from '@eks-access/eks-core';
import {
  DOCTOR_USAGE,
  SETUP_USAGE,
  SYNC_USAGE,
  UsageError,
  loadDoctorConfig,
  loadSetupConfig,
  loadSyncConfig,
} from './config.js';
import { runDemo, DEMO_USAGE } from './commands/demo.js';
import { runDoctorCommand } from './commands/doctor.js';
import { runSetupCommand } from './commands/setup.js';
import { runSync, type CommandIo } from './commands/sync.js';

const USAGE = `Usage: eks-access <command> [options]

Commands:
  sync     sync one EKS cluster and print who can reach it with what
  doctor   check every step of the connector's setup for one cluster, with a fix for each failure
  setup    plan (default) or --apply the connector's least-privilege setup for one cluster
  demo     start the simulated demo world, sync every cluster, print the findings

Run "eks-access <command> --help" for a command's options.`;

// The AWS SDK warns about Node 20 on every client; the CLI's output is for people.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const io: CommandIo = {
  stdout: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  stderr: (t) => process.stderr.write(t),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sync': {
      const config = loadSyncConfig(rest, Boolean(process.stderr.isTTY));
      if (config === 'help') {
        io.stdout(SYNC_USAGE);
        return 0;
      }
      return runSync(config, io);
    }
    case 'doctor': {
      const config = loadDoctorConfig(rest);
      if (config === 'help') {
        io.stdout(DOCTOR_USAGE);
        return 0;
      }
      return runDoctorCommand(config, io);
    }
    case 'setup': {
      const config = loadSetupConfig(rest);
      if (config === 'help') {
        io.stdout(SETUP_USAGE);
        return 0;
      }
      return runSetupCommand(config, io);
    }
    case 'demo':
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout(DEMO_USAGE);
        return 0;
      }
      return runDemo(rest, io);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`eks-access: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (isEksAccessError(err)) {
      process.stderr.write(`eks-access: ${err.message}\n`);
      process.exitCode = err.code === 'CONFIG_INVALID' ? 2 : 1;
    } else {
      process.stderr.write(
        `eks-access: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      process.exitCode = 1;
    }
    if (process.env.EKS_ACCESS_DEBUG === '1' && err instanceof Error)
      process.stderr.write(`${err.stack ?? ''}\n`);
  },
);
