// Value checks shared by the CLI commands, the error that ends a command with exit code 1, and what
// a command may touch of the outside world. Parsing itself is commander's (command-line.ts).
import { UsageError, type CliStreams } from '@eks-access/cli-kit';

/** The command could not do its job; exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
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
export interface CliIo extends CliStreams {
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves with the signal's name once the process is asked to stop (SIGINT, SIGTERM). */
  untilSignal: () => Promise<string>;
}
