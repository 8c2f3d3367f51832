/** Errors the CLI itself raises: bad flags, and input or output files it cannot use. */
import { ExitCode, exitCodes, JrError } from '../core/errors.ts';

export const CliErrorCode = {
  /** Bad flags or arguments. */
  usage: 'USAGE',
  /** An input file or directory that cannot be read. */
  fileUnreadable: 'FILE_UNREADABLE',
  /** An input file that should be JSON and is not. */
  fileNotJson: 'FILE_NOT_JSON',
  /** An input file that reads but does not decode as what it should hold (a token, a PEM bundle). */
  fileInvalid: 'FILE_INVALID',
  /** An output file or directory that cannot be written. */
  fileUnwritable: 'FILE_UNWRITABLE',
  /** Another file-system failure on the user's files (permissions, no space, ...). */
  fileSystem: 'FILE_SYSTEM',
  /** The key file's key is no client key of the institution in the chain's registry. */
  keyNotRegistered: 'KEY_NOT_REGISTERED',
  /** The key file's key is no validator key of the set in force. */
  keyNotValidator: 'KEY_NOT_VALIDATOR',
  /** The document has no record of this institution to act on (or several, and none was chosen). */
  notRecorded: 'NOT_RECORDED',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];
export const CliErrorExit = exitCodes(CliErrorCode, {
  usage: ExitCode.usage,
  fileUnreadable: ExitCode.badInput,
  fileNotJson: ExitCode.badInput,
  fileInvalid: ExitCode.badInput,
  fileUnwritable: ExitCode.badInput,
  fileSystem: ExitCode.badInput,
  keyNotRegistered: ExitCode.failed,
  keyNotValidator: ExitCode.failed,
  notRecorded: ExitCode.failed,
});

export class CliError extends JrError {
  declare readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(CliErrorCode.usage, message);
  }
}
