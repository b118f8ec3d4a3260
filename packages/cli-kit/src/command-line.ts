// The conventions every CLI of the product follows, on top of commander: `--help` and `--version`
// on stdout with exit 0 for the program and each command; a wrong command line is ONE line on
// stderr naming what is wrong and pointing to the right `--help`, exit 2; any other failure is one
// line, exit 1, never a stack trace. Used by eks-access, the API's admin CLI, eks-sim and the C1
// stand-in; generic (nothing here knows the connector), so eks-sim may depend on it.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';

/** The command line or the environment is wrong: exit code 2. */
export class UsageError extends Error {
  /** With `pointToHelp`, the message ends with the `--help` to run. */
  constructor(
    message: string,
    readonly pointToHelp = false,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where a program writes. */
export interface CliStreams {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** A failure the program knows how to word, and the exit code it ends with. */
export type DescribeError = (err: unknown) => { message: string; exitCode: number } | undefined;

const exitCodes = new WeakMap<Command, number>();

/** The `version` field of the package.json at `url` (relative to the caller), or "unknown". */
export function packageVersion(url: URL): string {
  try {
    const { version } = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The root command of a CLI, with help and errors routed to `streams` and nothing exiting the process. */
export function createProgram(
  name: string,
  version: string,
  description: string,
  streams: CliStreams,
): Command {
  return (
    new Command(name)
      .description(description)
      .version(version, '-V, --version', 'print the version')
      .helpOption('-h, --help', 'show this help')
      .helpCommand('help [command]', 'show help for a command')
      // Subcommands made with .command() inherit all of these.
      .exitOverride()
      .configureOutput({
        writeOut: streams.stdout,
        writeErr: streams.stderr,
        // Reworded by runProgram, which knows the command to point at.
        outputError: () => undefined,
      })
      .showSuggestionAfterError(true)
  );
}

/**
 * An action handler that receives the command's parsed options and returns the exit code.
 * (Commander drops an action's return value; runProgram reads it from here.)
 */
export function action<T extends object>(
  run: (options: T, command: Command) => Promise<number> | number,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    let root = command;
    while (root.parent) root = root.parent;
    exitCodes.set(root, await run(command.opts<T>(), command));
  };
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Commander's message as one line, without its "error: " prefix. */
function oneLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\.$/, '');
}

/** Parses `argv` (without node and script), runs the chosen action and resolves with the exit code. */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  streams: CliStreams,
  describe: DescribeError = () => undefined,
): Promise<number> {
  const name = program.name();
  let current = program;
  program.hook('preSubcommand', (_, sub) => {
    current = sub;
  });
  const pointer = () => `; see "${commandPath(current)} --help"`;
  // pnpm 12 passes a `--` on to the script (`pnpm demo -- --keep-running`). No command here takes
  // operands, so it separates nothing: dropped, the options after it count as options.
  const args = argv.filter((arg) => arg !== '--');
  // Every command answers --version too, not only the program.
  const version = program.version();
  const withVersion = (command: Command) => {
    for (const sub of command.commands) {
      if (version !== undefined) sub.version(version, '-V, --version', 'print the version');
      withVersion(sub);
    }
  };
  withVersion(program);
  try {
    if (args.length === 0 && program.commands.length > 0) throw new UsageError('a command is required', true);
    exitCodes.delete(program);
    await program.parseAsync(args, { from: 'user' });
    return exitCodes.get(program) ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0 and their text already written.
      if (err.exitCode === 0) return 0;
      streams.stderr(`${name}: ${oneLine(err.message)}${pointer()}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      streams.stderr(`${name}: ${err.message}${err.pointToHelp ? pointer() : ''}\n`);
      return 2;
    }
    const known = describe(err);
    if (known) {
      streams.stderr(`${name}: ${known.message}\n`);
      return known.exitCode;
    }
    streams.stderr(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
