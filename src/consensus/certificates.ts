/**
 * Quorum context and certificate checks: checkpoint proofs, prepared certificates, VIEW-CHANGE messages,
 * and assembling a commit certificate from COMMIT votes. All signature checks go through the injected
 * verifier, including the ones nested inside VIEW-CHANGE and NEW-VIEW.
 */
import { type CommitCertificate, commitVoteBody } from '../core/block.ts';
import { equalBytes } from '../core/bytes.ts';
import { Domain } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { faultTolerance, primaryIndex, quorumSize, type ValidatorSet } from '../core/validators.ts';
import { DropReason, drop } from './errors.ts';
import {
  type CheckpointProof,
  checkpointBody,
  type PreparedCertificate,
  prePrepareBody,
  prepareBody,
  type SignatureShare,
  signedPart,
  type ViewChange,
} from './messages.ts';
import type { SignatureVerifier } from './types.ts';

/** Everything needed to judge a message: the chain, the validator set, quorum sizes and the window. */
export interface QuorumContext {
  readonly chainId: string;
  readonly set: ValidatorSet;
  readonly n: number;
  readonly f: number;
  /** Quorum size ⌈(n+f+1)/2⌉. */
  readonly q: number;
  /** Checkpoint interval K. */
  readonly k: number;
  /** Watermark window L. */
  readonly l: number;
  /** The header hash at `baseSeq`: the genesis hash, or the last block of the previous epoch (ADR 006). */
  readonly genesisHash: Uint8Array;
  /** Where this epoch's instance starts: 0, or the last block of the previous epoch. Its proof has no signatures. */
  readonly baseSeq: number;
  readonly verify: SignatureVerifier;
  /** The chain's suite (ADR 014): batch digests are its hash. */
  readonly suite: CryptoSuite;
}

export function makeQuorumContext(
  chainId: string,
  set: ValidatorSet,
  k: number,
  l: number,
  genesisHash: Uint8Array,
  verify: SignatureVerifier,
  baseSeq = 0,
  suite: CryptoSuite = ED25519_SHA256,
): QuorumContext {
  const n = set.validators.length;
  return {
    chainId,
    set,
    n,
    f: faultTolerance(n),
    q: quorumSize(n),
    k,
    l,
    genesisHash,
    baseSeq,
    verify,
    suite,
  };
}

/**
 * The context's suite with the context's signature check (the suite's own, or the simulation's cheap one): what
 * verifyCommitCertificate takes, so it hashes headers with the chain's hash either way.
 */
export function quorumScheme(ctx: QuorumContext): CryptoSuite {
  return ctx.verify === ctx.suite.verify ? ctx.suite : { ...ctx.suite, verify: ctx.verify };
}

export function primaryOf(ctx: QuorumContext, view: number): number {
  return primaryIndex(view, ctx.n);
}

export function verifyFrom(
  ctx: QuorumContext,
  validator: number,
  domain: Domain,
  body: Uint8Array,
  sig: Uint8Array,
): boolean {
  const v = ctx.set.validators[validator];
  return v !== undefined && ctx.verify(v.publicKey, domain, body, sig);
}

/** Distinct known signers, each with a valid signature over `body`; throws a drop naming `what`. */
function checkShares(
  ctx: QuorumContext,
  shares: readonly SignatureShare[],
  domain: Domain,
  body: Uint8Array,
  what: string,
  reason: DropReason,
): void {
  let last = -1;
  for (const s of shares) {
    if (s.validator <= last || s.validator >= ctx.n) throw drop(reason, `${what}: bad signer ${s.validator}`);
    last = s.validator;
    if (!verifyFrom(ctx, s.validator, domain, body, s.signature)) {
      throw drop(reason, `${what}: bad signature from ${s.validator}`);
    }
  }
}

export function verifyCheckpointProof(ctx: QuorumContext, p: CheckpointProof, reason: DropReason): void {
  if (p.seq === ctx.baseSeq) {
    if (p.signatures.length !== 0 || !equalBytes(p.headerHash, ctx.genesisHash)) {
      throw drop(reason, 'the base checkpoint must name the base hash and carry no signatures');
    }
    return;
  }
  if (p.seq < ctx.baseSeq)
    throw drop(reason, `checkpoint ${p.seq} is below this epoch's base ${ctx.baseSeq}`);
  if (p.seq % ctx.k !== 0) throw drop(reason, `checkpoint seq ${p.seq} is not a multiple of ${ctx.k}`);
  if (p.signatures.length < ctx.q) {
    throw drop(reason, `checkpoint proof has ${p.signatures.length} signatures, quorum ${ctx.q}`);
  }
  const body = checkpointBody(ctx.chainId, p.seq, p.headerHash);
  checkShares(ctx, p.signatures, Domain.checkpoint, body, 'checkpoint proof', reason);
}

export function verifyPreparedCertificate(
  ctx: QuorumContext,
  c: PreparedCertificate,
  reason: DropReason,
): void {
  const primary = primaryOf(ctx, c.view);
  if (
    !verifyFrom(
      ctx,
      primary,
      Domain.prePrepare,
      prePrepareBody(ctx.chainId, c.view, c.seq, c.digest),
      c.prePrepareSignature,
    )
  ) {
    throw drop(reason, `prepared certificate for seq ${c.seq}: bad pre-prepare signature`);
  }
  if (c.prepares.length < ctx.q - 1) {
    throw drop(
      reason,
      `prepared certificate for seq ${c.seq}: ${c.prepares.length} prepares, need ${ctx.q - 1}`,
    );
  }
  if (c.prepares.some((s) => s.validator === primary)) {
    throw drop(reason, `prepared certificate for seq ${c.seq}: the primary cannot prepare`);
  }
  const body = prepareBody(ctx.chainId, c.view, c.seq, c.digest);
  checkShares(ctx, c.prepares, Domain.prepare, body, `prepared certificate for seq ${c.seq}`, reason);
}

/** Full check of a VIEW-CHANGE: signature, checkpoint proof, every prepared certificate. */
export function verifyViewChange(ctx: QuorumContext, vc: ViewChange): void {
  if (vc.chainId !== ctx.chainId) throw drop(DropReason.wrongChain, 'nested view change for another chain');
  if (vc.from >= ctx.n) throw drop(DropReason.unknownSender, `view change from ${vc.from}`);
  const { domain, body } = signedPart(vc);
  if (!verifyFrom(ctx, vc.from, domain, body, vc.signature)) {
    throw drop(DropReason.badSignature, `view change from ${vc.from}: bad signature`);
  }
  if (vc.newView < 1) throw drop(DropReason.badViewChange, 'view change to view 0');
  verifyCheckpointProof(ctx, vc.checkpoint, DropReason.badViewChange);
  const low = vc.checkpoint.seq;
  for (const c of vc.prepared) {
    if (c.seq <= low || c.seq > low + ctx.l) {
      throw drop(DropReason.badViewChange, `prepared seq ${c.seq} outside (${low}, ${low + ctx.l}]`);
    }
    if (c.view >= vc.newView) throw drop(DropReason.badViewChange, `prepared in view ${c.view} >= new view`);
    verifyPreparedCertificate(ctx, c, DropReason.badViewChange);
  }
}

/**
 * A commit certificate on its own (no header at hand): at least a quorum of distinct validators signed
 * `commitVoteBody` for its (view, height, header hash). It proves block `height` has that header hash.
 */
export function verifyCommitQuorum(ctx: QuorumContext, cert: CommitCertificate, reason: DropReason): void {
  if (cert.height < 1) throw drop(reason, 'commit certificate for height 0');
  if (cert.signatures.length < ctx.q) {
    throw drop(reason, `commit certificate has ${cert.signatures.length} signatures, quorum ${ctx.q}`);
  }
  const body = commitVoteBody(ctx.chainId, cert.view, cert.height, cert.headerHash);
  checkShares(ctx, cert.signatures, Domain.commit, body, `commit certificate ${cert.height}`, reason);
}

/** The commit certificate: the matching COMMIT signatures, sorted by validator index. */
export function assembleCommitCertificate(
  seq: number,
  view: number,
  headerHash: Uint8Array,
  shares: Iterable<SignatureShare>,
): CommitCertificate {
  const signatures = [...shares].sort((a, b) => a.validator - b.validator);
  return { height: seq, view, headerHash, signatures };
}
