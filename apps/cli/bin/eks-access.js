#!/usr/bin/env node
// Runs the built CLI when there is one; otherwise runs the TypeScript sources through tsx with the
// `source` export condition, re-spawning node once so the condition applies to every import.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'main.js');
if (existsSync(built)) {
  await import(built);
} else {
  // Resolve tsx from this package, not from wherever the command is run.
  const tsx = import.meta.resolve('tsx');
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', tsx, join(root, 'src', 'main.ts'), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      cwd: process.cwd(),
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
