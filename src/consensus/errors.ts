/**
 * Consensus errors and drop reasons.
 *
 * Bad input from outside (a message, a timer that fired late, a driver result that no longer matters) never
 * throws out of `Replica.step`: it is dropped and reported as a `dropped` output carrying one of the
 * `DropReason` codes, so metrics can count drops by reason. Internally the core signals a drop by throwing a
 * `DropError`, which `step` catches. A broken internal invariant throws `InvariantError` (src/core/errors.ts)
 * and stops the node; a bad configuration or unreadable persisted state throws `ConsensusError`.
 */
import { ExitCode, exitCodes, JrError } from '../core/errors.ts';

export const DropReason = {
  /** (driver) The bytes did not decode as a consensus message. */
  malformed: 'malformed',
  /** (driver) A tx in a PRE-PREPARE (or handed to txArrived) failed the ledger's admission check. */
  invalidTx: 'invalidTx',
  /** (driver) Too many inputs waiting: inbound messages are shed until the queue drains. */
  overloaded: 'overloaded',
  wrongChain: 'wrongChain',
  unknownSender: 'unknownSender',
  fromSelf: 'fromSelf',
  badSignature: 'badSignature',
  /** A PRE-PREPARE or NEW-VIEW not sent by the primary of its view. */
  notPrimary: 'notPrimary',
  /** A PREPARE sent by the primary of its view (the PRE-PREPARE stands for the primary's vote). */
  primaryVote: 'primaryVote',
  /** A message for a view this replica has left, or left for a view change. */
  staleView: 'staleView',
  /** A message for a view too far ahead to buffer. */
  futureView: 'futureView',
  /** Sequence number at or below the low watermark h (the window is (h, H]). */
  outsideWindow: 'outsideWindow',
  /** Sequence number above the high watermark H: the sender is ahead, a sign this replica may be behind. */
  aboveWindow: 'aboveWindow',
  /** A fresh PRE-PREPARE for a sequence number this replica has already executed. */
  executed: 'executed',
  duplicate: 'duplicate',
  /** A second, different message from the same sender for the same (view, seq, phase). */
  equivocation: 'equivocation',
  /** A normal-case batch whose proposer or view does not match its PRE-PREPARE, or an empty batch. */
  badBatch: 'badBatch',
  batchTooLarge: 'batchTooLarge',
  /** The same tx twice inside one batch. */
  duplicateTx: 'duplicateTx',
  /** A tx already in another live log entry. */
  txInFlight: 'txInFlight',
  clockSkew: 'clockSkew',
  /** A CHECKPOINT for a sequence number that is not a multiple of the checkpoint interval. */
  badCheckpoint: 'badCheckpoint',
  /** A CHECKPOINT at or below the stable checkpoint. */
  staleCheckpoint: 'staleCheckpoint',
  /** A quorum-certified checkpoint that contradicts a block this replica executed. */
  conflictingCheckpoint: 'conflictingCheckpoint',
  /** A commit certificate (a peer's head, from its sync status) without a quorum of valid signatures. */
  badCertificate: 'badCertificate',
  badViewChange: 'badViewChange',
  badNewView: 'badNewView',
  /** A NEW-VIEW whose re-issued PRE-PREPAREs differ from the ones recomputed from its VIEW-CHANGEs. */
  newViewMismatch: 'newViewMismatch',
  /** A re-issued PRE-PREPARE whose digest differs from the batch this replica executed at that seq. */
  conflictsCommitted: 'conflictsCommitted',
  staleTimer: 'staleTimer',
  /** A driver result (built block, fetched batch, transferred state) that is no longer needed. */
  staleResult: 'staleResult',
  /** A tx that is already pending or in a live log entry. */
  txKnown: 'txKnown',
  mempoolFull: 'mempoolFull',
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];

/** Thrown inside the core to abandon processing of one input; `step` turns it into a `dropped` output. */
export class DropError extends JrError {
  declare readonly code: DropReason;
  constructor(reason: DropReason, message: string) {
    super(reason, message);
  }
}

/** Drops are routine control flow (a late vote, a duplicate), so they skip the cost of capturing a stack. */
export function drop(reason: DropReason, message: string): DropError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new DropError(reason, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export const ConsensusErrorCode = {
  /** Configuration the core cannot run with (bad index, window too large, ...). */
  config: 'CONSENSUS_CONFIG',
  /** Persisted consensus state that cannot be decoded or contradicts itself. */
  corruptState: 'CONSENSUS_CORRUPT_STATE',
  /** The driver was used in a way its lifecycle does not allow (e.g. input before start). */
  lifecycle: 'CONSENSUS_LIFECYCLE',
} as const;
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode];
export const ConsensusErrorExit = exitCodes(ConsensusErrorCode, {
  config: ExitCode.failed,
  corruptState: ExitCode.failed,
  lifecycle: ExitCode.failed,
});

export class ConsensusError extends JrError {
  declare readonly code: ConsensusErrorCode;
  constructor(code: ConsensusErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
