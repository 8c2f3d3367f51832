import { ExitCode, exitCodes, JrError } from '../core/errors.ts';

/** Stable codes for every RFC 3161 failure that crosses a module boundary. */
export const TimestampErrorCode = {
  /** The TSA answered with a non-2xx HTTP status, or could not be reached at all. */
  httpError: 'TSA_HTTP_ERROR',
  /** The TSA answered 2xx but not with `application/timestamp-reply`. */
  badContentType: 'TSA_BAD_CONTENT_TYPE',
  /** The TSA's answer exceeded the response size limit. */
  responseTooLarge: 'TSA_RESPONSE_TOO_LARGE',
  /** No answer within the per-attempt timeout. */
  timeout: 'TSA_TIMEOUT',
  /** The caller cancelled the request, or the client was stopped. */
  aborted: 'TSA_ABORTED',
  /** The TSA answered with a PKIStatus other than granted; details carry the PKIFailureInfo names. */
  rejected: 'TSA_REJECTED',
  /** Bytes that should be a TimeStampReq, TimeStampResp, token or certificate do not decode. */
  unparsable: 'TSA_UNPARSABLE',
  /** A token decodes but fails a verification check; details carry the check's name. */
  verifyFailed: 'TSA_VERIFY_FAILED',
  /** An evidence token covers a different hash than the evidence it is attached to. */
  imprintMismatch: 'TSA_IMPRINT_MISMATCH',
  /** An evidence token's genTime lies outside the allowed tolerance around the reference time. */
  timeSkew: 'TSA_TIME_SKEW',
  /** A caller passed arguments we cannot use (wrong digest length, unknown algorithm, bad PEM). */
  badInput: 'TSA_BAD_INPUT',
  /** `tsa init` found key files and was not told to overwrite them. */
  keyExists: 'TSA_KEY_EXISTS',
  /** A TSA directory is missing files or holds a key that does not match its certificate. */
  badConfig: 'TSA_BAD_CONFIG',
  /** Another live process holds the TSA directory's lock. */
  dirLocked: 'TSA_DIR_LOCKED',
  /** The persisted serial state is unreadable, corrupt or cannot be made durable. */
  serialStore: 'TSA_SERIAL_STORE',
  /** The component was used before start() or after stop(). */
  notStarted: 'TSA_NOT_STARTED',
} as const;
export type TimestampErrorCode = (typeof TimestampErrorCode)[keyof typeof TimestampErrorCode];
/** A TSA that fails, refuses or answers garbage is unavailable (an undecodable input *file* is the CLI's FILE_INVALID); unusable certificates, keys or TSA directories are bad input. */
export const TimestampErrorExit = exitCodes(TimestampErrorCode, {
  httpError: ExitCode.unavailable,
  badContentType: ExitCode.unavailable,
  responseTooLarge: ExitCode.unavailable,
  timeout: ExitCode.unavailable,
  aborted: ExitCode.failed,
  rejected: ExitCode.unavailable,
  unparsable: ExitCode.unavailable,
  verifyFailed: ExitCode.failed,
  imprintMismatch: ExitCode.failed,
  timeSkew: ExitCode.failed,
  badInput: ExitCode.badInput,
  keyExists: ExitCode.failed,
  badConfig: ExitCode.badInput,
  dirLocked: ExitCode.failed,
  serialStore: ExitCode.badInput,
  notStarted: ExitCode.failed,
});

export class TimestampError extends JrError {
  declare readonly code: TimestampErrorCode;

  constructor(
    code: TimestampErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}

export function isTimestampError(err: unknown, code?: TimestampErrorCode): err is TimestampError {
  return err instanceof TimestampError && (code === undefined || err.code === code);
}
