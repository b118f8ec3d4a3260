#!/usr/bin/env node
// Launcher of the eks-sim CLI: runs the build (dist/) when there is one, else the TypeScript
// sources through tsx. Workspace packages resolve to their sources only under the `source` export
// condition, and conditions cannot be added to a running process, so without it node is started
// again with `--conditions=source --import tsx`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function hasSourceCondition() {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return args.some(
    (a, i) =>
      a === '--conditions=source' ||
      a === '-C=source' ||
      ((a === '--conditions' || a === '-C') && args[i + 1] === 'source'),
  );
}

function resolveTsx() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    process.stderr.write(
      'eks-sim: the package is not built and tsx cannot be found; run `pnpm install` or `pnpm build`\n',
    );
    process.exit(1);
  }
}

if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else if (hasSourceCondition()) {
  resolveTsx();
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', resolveTsx(), source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // The child decides when to stop; the launcher only passes signals on and mirrors the exit.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`eks-sim: cannot start node: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
  });
}
