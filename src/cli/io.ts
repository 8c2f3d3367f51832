/** Output, exit codes and option parsing shared by every command. */
import { InvalidArgumentError } from 'commander';
import { ExitCode, JrError } from '../core/errors.ts';
import { exitCodeFor } from './exit-codes.ts';

export { CliError, CliErrorCode, UsageError } from './errors.ts';
export { EXIT_CODES_HELP, exitCodeFor } from './exit-codes.ts';
export { ExitCode };

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Records an exit code; the highest recorded wins. */
  setExit(code: ExitCode): void;
  exitCode(): ExitCode;
}

export function processIo(): CliIo {
  let code: ExitCode = ExitCode.ok;
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    setExit: (c) => {
      if (c > code) code = c;
    },
    exitCode: () => code,
  };
}

/** Captures output in memory, for in-process CLI tests. */
export function memoryIo(): CliIo & { stdout: string; stderr: string } {
  let code: ExitCode = ExitCode.ok;
  const io = {
    stdout: '',
    stderr: '',
    out: (s: string) => {
      io.stdout += s;
    },
    err: (s: string) => {
      io.stderr += s;
    },
    setExit: (c: ExitCode) => {
      if (c > code) code = c;
    },
    exitCode: () => code,
  };
  return io;
}

/**
 * Reports an error that ended a command: `error [CODE]: message` on stderr, and its exit code. Returns false
 * for anything that is not a JrError (commander's own errors, bugs), which the caller rethrows.
 */
export function reportError(io: CliIo, err: unknown): boolean {
  if (!(err instanceof JrError)) return false;
  io.err(`error [${err.code}]: ${err.message}\n`);
  io.setExit(exitCodeFor(err));
  return true;
}

/** Prints `value` as one JSON document (for --json) or as the human text. */
export function emit(io: CliIo, json: boolean, value: unknown, human: () => string): void {
  io.out(json ? `${JSON.stringify(value, null, 2)}\n` : human());
}

/** commander argument parser for positive integers. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return n;
}

/** commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
