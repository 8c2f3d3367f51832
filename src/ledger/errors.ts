/**
 * Ledger error codes. Tx rejections (TX_*) are data: the executor returns them in `TxRejection`s and never
 * throws them, because an invalid tx is ordinary outside input. `TxError` exists for callers (the API) that
 * want to raise a rejection. `LedgerError` covers bad arguments to the store and queries, and stores that do
 * not belong to the genesis. A broken invariant is an InvariantError (src/core/errors.ts).
 */
import { ExitCode, exitCodes, JrError } from '../core/errors.ts';
import type { TxRejection } from './chain.ts';

/** Exactly one code per rejected tx; the executor checks the rules in this order and reports the first. */
export const TxErrorCode = {
  /** (Execution only) The tx's batch position is at or past Limits.blockTxs, or past Limits.blockBytes. */
  blockFull: 'TX_BLOCK_FULL',
  /** The encoded tx (or its payload) is larger than the protocol limit. */
  oversize: 'TX_OVERSIZE',
  /** The tx names another chain. */
  wrongChain: 'TX_WRONG_CHAIN',
  /** The institution is not in the genesis. */
  unknownInstitution: 'TX_UNKNOWN_INSTITUTION',
  /** The institution has no client key with this key id. */
  unknownKey: 'TX_UNKNOWN_KEY',
  /**
   * An anchor tx not signed under the reserved key id `validator`, or from an institution with no validator
   * in the current set.
   */
  anchorNotValidator: 'TX_ANCHOR_NOT_VALIDATOR',
  /** An audit head tx not signed under the reserved key id `validator` by a validator of the current set. */
  auditNotValidator: 'TX_AUDIT_NOT_VALIDATOR',
  /** The signature does not verify under the named key. */
  badSignature: 'TX_BAD_SIGNATURE',
  /** The payload does not decode for the tx type. */
  malformedPayload: 'TX_MALFORMED_PAYLOAD',
  /** The same tx hash is already committed, or appears earlier in the same block. */
  duplicate: 'TX_DUPLICATE',
  /** A different tx already used this (institution, nonce): committed, or earlier in the same block. */
  replayedNonce: 'TX_REPLAYED_NONCE',
  /** time > createdAt + ttlMs. */
  expired: 'TX_EXPIRED',
  /** createdAt > time + Limits.txMaxFutureSkewMs. */
  notYetValid: 'TX_NOT_YET_VALID',
  /** The evidence carries an RFC 3161 token, and this ledger has no token verifier configured. */
  timestampTokenUnsupported: 'TX_TIMESTAMP_TOKEN_UNSUPPORTED',
  /** The evidence carries an RFC 3161 token that the verifier refused. */
  badTimestampToken: 'TX_BAD_TIMESTAMP_TOKEN',
  /** The anchored height is at or below the highest height already anchored (earlier in the block too). */
  anchorStale: 'TX_ANCHOR_STALE',
  /** The anchored height is above the head: that block is not committed. */
  anchorAhead: 'TX_ANCHOR_AHEAD',
  /** The anchor's header hash is not the stored header hash at the anchored height. */
  anchorMismatch: 'TX_ANCHOR_MISMATCH',
  /** An anchor tx, and this ledger has no anchor token verifier configured. */
  anchorUnsupported: 'TX_ANCHOR_UNSUPPORTED',
  /** The verifier refused the anchor's RFC 3161 token (its own code is in the message), or threw. */
  badAnchorToken: 'TX_BAD_ANCHOR_TOKEN',
  /**
   * (Anchor) Its hash renewal lists a request that is not a committed `hash-renewal` tx under the stamp's
   * hash, that an anchor already stamped (or one earlier in the block), or whose evidence another
   * institution recorded (ADR 016).
   */
  anchorBadHashRenewal: 'TX_ANCHOR_BAD_HASH_RENEWAL',
  /**
   * A governance tx not signed under the reserved key id `validator` by a validator of the set in force at the
   * block (a non-validator, a removed validator, or a rotated-out key).
   */
  govNotValidator: 'TX_GOV_NOT_VALIDATOR',
  /** A proposal's deadline is before the block time, or too far after the tx's createdAt. */
  govBadDeadline: 'TX_GOV_BAD_DEADLINE',
  /** Limits.governancePendingProposals proposals are already pending. */
  govTooManyPending: 'TX_GOV_TOO_MANY_PENDING',
  /** The proposed action cannot apply to the registry (unknown institution, key in use, last validator...). */
  govInvalidAction: 'TX_GOV_INVALID_ACTION',
  /** An approval names no known proposal. */
  govUnknownProposal: 'TX_GOV_UNKNOWN_PROPOSAL',
  /** An approval for a proposal that already passed, failed or expired. */
  govNotPending: 'TX_GOV_NOT_PENDING',
  /** An approval in a block whose time is past the proposal's deadline. */
  govExpired: 'TX_GOV_EXPIRED',
  /** The validator already approved (or proposed) this proposal. */
  govAlreadyApproved: 'TX_GOV_ALREADY_APPROVED',
  /**
   * (Case) The genesis requires sealing (cases.sealing = required, ADR 015) and the record names its case by
   * anything but a `k1:` case reference, or opens a case without sealed details.
   */
  caseUnsealed: 'TX_CASE_UNSEALED',
  /** (Case, open) A case with this id is already open. */
  caseExists: 'TX_CASE_EXISTS',
  /** (Case) No case has this id. */
  caseUnknown: 'TX_CASE_UNKNOWN',
  /** (Case) The signer's role may not record this event (e.g. a bank recording a court decision). */
  caseWrongRole: 'TX_CASE_WRONG_ROLE',
  /** (Case) The role fits, but the signer is not the party of this case that records it. */
  caseNotParty: 'TX_CASE_NOT_PARTY',
  /** (Case) The case's status does not allow this event (e.g. a decision before an application). */
  caseIllegalTransition: 'TX_CASE_ILLEGAL_TRANSITION',
  /** (Case) The case already holds Limits.caseEvents events. */
  caseFull: 'TX_CASE_FULL',
  /** (Case) The event does not follow the case's last event (`prev`), or a session or milestone number skips. */
  caseOutOfOrder: 'TX_CASE_OUT_OF_ORDER',
  /** (Case) A named respondent, mediator or court is not registered in that role. */
  caseInvalidParty: 'TX_CASE_INVALID_PARTY',
  /** (Case, agree) The co-signature of the other party (mediator or respondent bank) is missing. */
  caseMissingParty: 'TX_CASE_MISSING_PARTY',
  /** (Case, agree) The co-signature does not verify under a client key of the co-signer. */
  caseBadCoSignature: 'TX_CASE_BAD_COSIGNATURE',
  /**
   * (Case, sealed) A key wrap for an institution that is not a party, to a key that is not its registered
   * encryption key, or a party the event adds left without a wrap (ADR 011).
   */
  caseBadWrap: 'TX_CASE_BAD_WRAP',
  /** (Hash renewal) No committed evidence tx has the named hash. */
  renewalUnknownEvidence: 'TX_RENEWAL_UNKNOWN_EVIDENCE',
  /**
   * (Hash renewal) The evidence was recorded by another institution: only the recorder may attach a chain
   * to its document, so no third party can change what others export (ADR 016).
   */
  renewalNotRecorder: 'TX_RENEWAL_NOT_RECORDER',
  /** (Hash renewal) The evidence hash is not SHA-256, so no archive timestamp covers it to renew. */
  renewalNotArchived: 'TX_RENEWAL_NOT_ARCHIVED',
  /** (Hash renewal) A renewal of this evidence is already committed, or earlier in the block. */
  renewalAlreadyRequested: 'TX_RENEWAL_ALREADY_REQUESTED',
  /**
   * (Audit) The audit head's seq is not above the last one committed for the institution (earlier in the
   * block too): a node's audit log never shrinks (ADR 015).
   */
  auditStale: 'TX_AUDIT_STALE',
} as const;
export type TxErrorCode = (typeof TxErrorCode)[keyof typeof TxErrorCode];
/** A rejected tx is the answer "no". */
export const TxErrorExit = exitCodes(TxErrorCode, {
  blockFull: ExitCode.failed,
  oversize: ExitCode.failed,
  wrongChain: ExitCode.failed,
  unknownInstitution: ExitCode.failed,
  unknownKey: ExitCode.failed,
  anchorNotValidator: ExitCode.failed,
  auditNotValidator: ExitCode.failed,
  badSignature: ExitCode.failed,
  malformedPayload: ExitCode.failed,
  duplicate: ExitCode.failed,
  replayedNonce: ExitCode.failed,
  expired: ExitCode.failed,
  notYetValid: ExitCode.failed,
  timestampTokenUnsupported: ExitCode.failed,
  badTimestampToken: ExitCode.failed,
  anchorStale: ExitCode.failed,
  anchorAhead: ExitCode.failed,
  anchorMismatch: ExitCode.failed,
  anchorUnsupported: ExitCode.failed,
  badAnchorToken: ExitCode.failed,
  anchorBadHashRenewal: ExitCode.failed,
  govNotValidator: ExitCode.failed,
  govBadDeadline: ExitCode.failed,
  govTooManyPending: ExitCode.failed,
  govInvalidAction: ExitCode.failed,
  govUnknownProposal: ExitCode.failed,
  govNotPending: ExitCode.failed,
  govExpired: ExitCode.failed,
  govAlreadyApproved: ExitCode.failed,
  caseUnsealed: ExitCode.failed,
  caseExists: ExitCode.failed,
  caseUnknown: ExitCode.failed,
  caseWrongRole: ExitCode.failed,
  caseNotParty: ExitCode.failed,
  caseIllegalTransition: ExitCode.failed,
  caseFull: ExitCode.failed,
  caseOutOfOrder: ExitCode.failed,
  caseInvalidParty: ExitCode.failed,
  caseMissingParty: ExitCode.failed,
  caseBadCoSignature: ExitCode.failed,
  caseBadWrap: ExitCode.failed,
  renewalUnknownEvidence: ExitCode.failed,
  renewalNotRecorder: ExitCode.failed,
  renewalNotArchived: ExitCode.failed,
  renewalAlreadyRequested: ExitCode.failed,
  auditStale: ExitCode.failed,
});

export class TxError extends JrError {
  declare readonly code: TxErrorCode;
  readonly hash: Uint8Array;

  constructor(code: TxErrorCode, message: string, hash: Uint8Array) {
    super(code, message);
    this.hash = hash;
  }

  static fromRejection(r: TxRejection): TxError {
    return new TxError(r.code as TxErrorCode, r.message, r.hash);
  }
}

export const LedgerErrorCode = {
  /** The store holds a chain with another genesis (chain id, genesis hash or validator set). */
  genesisMismatch: 'LEDGER_GENESIS_MISMATCH',
  /** A batch handed to buildBlock has fields outside their domain (e.g. a proposer outside the set). */
  invalidBatch: 'LEDGER_INVALID_BATCH',
  /** A query argument is malformed (hash length, case id, institution id, time range). */
  invalidArgument: 'LEDGER_INVALID_ARGUMENT',
  /** A page limit is not an integer in [1, PAGE_LIMIT_MAX]. */
  invalidLimit: 'LEDGER_INVALID_LIMIT',
  /** A page cursor was not produced by this kind of query. */
  invalidCursor: 'LEDGER_INVALID_CURSOR',
  /** The store was used after close(). */
  closed: 'LEDGER_CLOSED',
} as const;
export type LedgerErrorCode = (typeof LedgerErrorCode)[keyof typeof LedgerErrorCode];
export const LedgerErrorExit = exitCodes(LedgerErrorCode, {
  genesisMismatch: ExitCode.failed,
  invalidBatch: ExitCode.failed,
  invalidArgument: ExitCode.failed,
  invalidLimit: ExitCode.failed,
  invalidCursor: ExitCode.failed,
  closed: ExitCode.failed,
});

export class LedgerError extends JrError {
  declare readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
