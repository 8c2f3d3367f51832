/** Why a peer's sync data was refused. Each but txsUnavailable is the peer's fault: it is penalised and skipped for a while. */
import { ExitCode, exitCodes, JrError } from '../../core/errors.ts';

export const SyncErrorCode = {
  /** The response does not decode, or holds more or other blocks than asked for. */
  badResponse: 'SYNC_BAD_RESPONSE',
  /** A block that does not extend the chain: wrong chain, height, prevHash or validator set, or txs that do not match its txRoot or txCount. */
  badBlock: 'SYNC_BAD_BLOCK',
  /** A commit certificate or checkpoint proof without a quorum of valid signatures for what it claims. */
  badCertificate: 'SYNC_BAD_CERTIFICATE',
  /** A certified block at the target height whose hash is not the certified target. */
  targetMismatch: 'SYNC_TARGET_MISMATCH',
  /** Executing the block's txs here does not give back the same block. */
  notReexecuted: 'SYNC_NOT_REEXECUTED',
  /**
   * The txs a compact PRE-PREPARE named could not all be had: not held here, and the primary did not answer or
   * holds no such batch. Not necessarily a fault (a timeout); the PRE-PREPARE is dropped, not prepared.
   */
  txsUnavailable: 'SYNC_TXS_UNAVAILABLE',
} as const;
export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];
export const SyncErrorExit = exitCodes(SyncErrorCode, {
  badResponse: ExitCode.failed,
  badBlock: ExitCode.failed,
  badCertificate: ExitCode.failed,
  targetMismatch: ExitCode.failed,
  notReexecuted: ExitCode.failed,
  txsUnavailable: ExitCode.failed,
});

export class SyncError extends JrError {
  declare readonly code: SyncErrorCode;
  constructor(code: SyncErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
