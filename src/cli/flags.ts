import { Command, InvalidArgumentError } from 'commander';
import { isCalendarDate, isSupportedDay, SUPPORTED_DAY_RULE } from '../dates.js';
import { EXIT_CODES } from './exit-codes.js';

/** Exit code for bad flags or input: a usage error, as most CLIs use it. */
export const USAGE_EXIT_CODE = EXIT_CODES.usage;

export function positiveInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${flag} must be a positive integer, got '${value}'`);
    }
    return Number(value);
  };
}

export function collectPositiveInts(flag: string) {
  const parse = positiveInt(flag);
  return (value: string, previous: number[] = []): number[] => [...previous, parse(value)];
}

export function isoDay(flag: string) {
  return (value: string): string => {
    if (!isCalendarDate(value)) {
      throw new InvalidArgumentError(`${flag} must be a calendar date written YYYY-MM-DD, got '${value}'`);
    }
    if (!isSupportedDay(value)) throw new InvalidArgumentError(`${flag} ${SUPPORTED_DAY_RULE}, got '${value}'`);
    return value;
  };
}

/** A strict commander program: unknown flags and missing values are usage errors (exit 2). */
export function strictProgram(name: string, description: string): Command {
  const program = new Command(name).description(description).showHelpAfterError('(run with --help for usage)');
  program.exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
  });
  return program;
}

/**
 * A usage error found once work has begun (a database or a connection is open): thrown, so
 * the entry point cleans up first; runMain then prints it and exits 2.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints a usage-style error and exits 2 at once; only for rules checked before anything is started (else throw UsageError). */
export function usageError(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(USAGE_EXIT_CODE);
}
