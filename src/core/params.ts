/** Consensus parameters, fixed by the genesis. Defaults suit a loopback devnet and a LAN alliance alike. */
import { invalidField } from './codec.ts';
import { Limits } from './limits.ts';

export interface ConsensusParams {
  /** Most txs a primary puts in one batch (one block). */
  maxBatchTxs: number;
  /** Most bytes of encoded txs in one batch. */
  maxBatchBytes: number;
  /** How long a primary waits for a batch to fill before proposing what it has. */
  maxBatchWaitMs: number;
  /** K: a checkpoint every K sequence numbers. */
  checkpointInterval: number;
  /** L: the high watermark is the low watermark (last stable checkpoint) + L. A multiple of K. */
  watermarkWindow: number;
  /**
   * A replica suspects the primary when none of the txs it waits for commits for this long, or when the oldest
   * one it has not seen proposed was overtaken by txs that arrived this long after it (docs/protocol.md).
   */
  requestTimeoutMs: number;
  /** First view-change timeout; doubles on each failed attempt, up to the cap. */
  viewChangeTimeoutMs: number;
  viewChangeTimeoutMaxMs: number;
  /** Largest difference a backup accepts between a proposed block time and its own clock. */
  maxClockSkewMs: number;
}

export const DEFAULT_CONSENSUS_PARAMS: Readonly<ConsensusParams> = Object.freeze({
  maxBatchTxs: 2000,
  maxBatchBytes: 4 * 1024 * 1024,
  maxBatchWaitMs: 50,
  checkpointInterval: 64,
  watermarkWindow: 256,
  requestTimeoutMs: 5000,
  viewChangeTimeoutMs: 3000,
  viewChangeTimeoutMaxMs: 60_000,
  maxClockSkewMs: 10_000,
});

const positiveInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** Strict: every field present, a positive integer, within the protocol's hard caps, and consistent. */
export function validateConsensusParams(p: ConsensusParams): void {
  for (const k of Object.keys(DEFAULT_CONSENSUS_PARAMS) as (keyof ConsensusParams)[]) {
    if (!positiveInt(p[k])) throw invalidField(`consensus.${k} must be a positive integer`);
  }
  if (p.maxBatchTxs > Limits.blockTxs) throw invalidField(`consensus.maxBatchTxs above ${Limits.blockTxs}`);
  if (p.maxBatchBytes > Limits.blockBytes)
    throw invalidField(`consensus.maxBatchBytes above ${Limits.blockBytes}`);
  if (p.watermarkWindow % p.checkpointInterval !== 0 || p.watermarkWindow < 2 * p.checkpointInterval) {
    throw invalidField(
      'consensus.watermarkWindow must be a multiple of checkpointInterval, at least twice it',
    );
  }
  if (p.viewChangeTimeoutMaxMs < p.viewChangeTimeoutMs) {
    throw invalidField('consensus.viewChangeTimeoutMaxMs must be >= viewChangeTimeoutMs');
  }
}
