// Flag parsing shared by the CLI commands, and the two errors the CLI turns into exit codes:
// UsageError (exit 2: the command line is wrong) and CliError (exit 1: the request failed).

/** The command line is wrong; exit code 2 and a pointer to --help. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command could not do its job; exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Runs a strict `util.parseArgs` call, turning Node's parse errors into one-line usage errors.
 * (A thunk rather than a wrapper so each command keeps parseArgs' inferred flag types.)
 */
export function parseFlags<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const flag = /'(-[^']*)'/.exec((err as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${flag ?? ''}`.trim());
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(
        `unexpected argument ${/'([^']*)'/.exec((err as Error).message)?.[1] ?? ''}`.trim(),
      );
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = /Option '(?:-\w, )?(--[\w-]+)/.exec((err as Error).message)?.[1];
      throw new UsageError(name ? `option ${name} needs a value` : (err as Error).message.split('\n')[0]!);
    }
    throw err;
  }
}

/** An integer flag within bounds, or undefined when absent. */
export function intFlag(
  value: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${value}")`);
  return n;
}

/** A flag that must be given. */
export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

/** What a command may touch of the outside world (main.ts wires it to the process). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves with the signal's name once the process is asked to stop (SIGINT, SIGTERM). */
  untilSignal: () => Promise<string>;
}
