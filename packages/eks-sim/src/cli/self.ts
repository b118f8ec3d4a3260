// How to run this CLI again from anywhere (kubectl runs the exec plugin from its own directory):
// the absolute path of node and of the entry point, with tsx registered by absolute URL when the
// package runs from its TypeScript sources rather than a build.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './args.js';

/** The command and leading arguments that start `eks-sim` the way this process was started. */
export function selfCommand(): { command: string; args: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return { command: process.execPath, args: [join(dirname(here), 'main.js')] };
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    throw new CliError(
      'cannot resolve tsx to run the TypeScript sources: build the package (pnpm build) or install its dependencies',
    );
  }
  return {
    command: process.execPath,
    args: ['--conditions=source', '--import', tsx, join(dirname(here), 'main.ts')],
  };
}
