/** Output, exit codes and option parsing shared by every command. */
import { InvalidArgumentError } from 'commander';
import { JrError } from '../core/errors.ts';

/** Exit codes shared by every command, so scripts can tell failures apart. */
export const ExitCode = {
  ok: 0,
  /** The command ran and the answer is "no": invalid, not proven, rejected. */
  failed: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** An input file that cannot be read or parsed. */
  badInput: 3,
  /** A node, TSA or other service could not be reached or answered with an error. */
  unavailable: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

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

export class UsageError extends JrError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

const BAD_INPUT_CODES = /^(KEY_FILE_|GENESIS_UNREADABLE|GENESIS_TOO_LARGE|CODEC_|FILE_|MEMBER_)/;
const UNAVAILABLE_CODES = /^(NODE_UNREACHABLE|TSA_HTTP|TSA_TIMEOUT|API_)/;

export function exitCodeFor(err: JrError): ExitCode {
  if (err.code === 'USAGE') return ExitCode.usage;
  if (BAD_INPUT_CODES.test(err.code)) return ExitCode.badInput;
  if (UNAVAILABLE_CODES.test(err.code)) return ExitCode.unavailable;
  return ExitCode.failed;
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
