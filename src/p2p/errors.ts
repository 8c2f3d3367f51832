/** Errors raised by the p2p host. Each has a stable code that callers and tests match on. */
import { ExitCode, exitCodes, JrError } from '../core/errors.ts';

export const P2PErrorCode = {
  /** The options given to createP2PHost are inconsistent or out of range. */
  configInvalid: 'P2P_CONFIG_INVALID',
  /** A method that needs the network was called before start() or after stop(). */
  notStarted: 'P2P_NOT_STARTED',
  /** The protocol id is not configured, or is configured with the other pattern (message vs request). */
  unknownProtocol: 'P2P_UNKNOWN_PROTOCOL',
  /** A handler is already registered for the protocol. */
  handlerExists: 'P2P_HANDLER_EXISTS',
  /** A frame is larger than the protocol allows: a local send, or a length prefix read from a peer. */
  frameTooLarge: 'P2P_FRAME_TOO_LARGE',
  /** No open connection to the peer. */
  notConnected: 'P2P_NOT_CONNECTED',
  /** The per-peer cap on concurrent outbound requests is reached. */
  tooManyRequests: 'P2P_TOO_MANY_REQUESTS',
  /** The peer did not answer a request in time. */
  requestTimeout: 'P2P_REQUEST_TIMEOUT',
  /** The peer announced a response larger than the protocol allows; it was not read. */
  responseTooLarge: 'P2P_RESPONSE_TOO_LARGE',
  /** The peer closed the request stream without a response (it refused or failed the request). */
  noResponse: 'P2P_NO_RESPONSE',
  /** Opening or using a stream failed (connection closed, reset, protocol not supported). */
  streamFailed: 'P2P_STREAM_FAILED',
  /** The request was cancelled by the caller's abort signal. */
  aborted: 'P2P_ABORTED',
} as const;
export type P2PErrorCode = (typeof P2PErrorCode)[keyof typeof P2PErrorCode];
/** A peer that cannot be reached or answers badly is unavailable; the rest are this node's own mistakes. */
export const P2PErrorExit = exitCodes(P2PErrorCode, {
  configInvalid: ExitCode.failed,
  notStarted: ExitCode.failed,
  unknownProtocol: ExitCode.failed,
  handlerExists: ExitCode.failed,
  frameTooLarge: ExitCode.failed,
  notConnected: ExitCode.unavailable,
  tooManyRequests: ExitCode.unavailable,
  requestTimeout: ExitCode.unavailable,
  responseTooLarge: ExitCode.unavailable,
  noResponse: ExitCode.unavailable,
  streamFailed: ExitCode.unavailable,
  aborted: ExitCode.failed,
});

export class P2PError extends JrError {
  declare readonly code: P2PErrorCode;
  constructor(
    code: P2PErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(code, message, details, options);
  }
}
