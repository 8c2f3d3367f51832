/**
 * Consensus messages over `/jrchain/consensus/1.0.0`, and the validation every inbound frame passes at the
 * network edge before consensus sees it (GUIDE §3):
 *
 *   size (the host, on the length prefix) → strict decode → schema (chain id, sender index) → the sending peer
 *   is the validator that signed it → signature
 *
 * Cheap checks come first, so a flood of forged frames costs no signature verification. A frame that fails is
 * dropped, counted by reason, and answered with a `reject` verdict: the host penalises the peer and bans it
 * once its score crosses the threshold. A valid message goes to the driver already decoded and with its
 * signature checked (`ConsensusDriver.receive`), so neither is done twice; the core still checks everything
 * else (view, watermarks, nested certificates).
 *
 * Every message type except NEW-VIEW must come from the validator that signed it: replicas only broadcast their
 * own votes. A NEW-VIEW is also relayed, by any validator, to a replica that missed it (its signature is the
 * new primary's, so relaying cannot forge it).
 *
 * A PRE-PREPARE with txs goes out compact (compact-pre-prepare.ts: its txs named by hash); a backup checks it at
 * the edge like any message, then has the TxResolver (tx-resolver.ts) fill in the txs before the driver sees it.
 */
import type { ConsensusDriver } from '../../consensus/driver.ts';
import type { Transport } from '../../consensus/interfaces.ts';
import { type ConsensusMessage, decodeMessage, encodeMessage, signedPart } from '../../consensus/messages.ts';
import type { SignatureVerifier } from '../../consensus/types.ts';
import type { CryptoSuite } from '../../core/crypto-suite.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import {
  type Logger,
  P2PError,
  P2PErrorCode,
  type P2PHost,
  ProtocolId,
  type Verdict,
  Verdicts,
} from '../../p2p/index.ts';
import {
  type CompactPrePrepare,
  compactSignedPart,
  decodeCompactPrePrepare,
  encodeCompactPrePrepare,
  isCompactFrame,
} from './compact-pre-prepare.ts';
import type { TxResolver } from './tx-resolver.ts';
import type { ValidatorPeers } from './validator-peers.ts';

/** Why the edge dropped a frame; metric label values (`jrchain_consensus_drops_total{reason}`). */
export const EdgeDropReason = {
  /** The bytes do not decode strictly as a consensus message. */
  malformed: 'malformed',
  wrongChain: 'wrongChain',
  /**
   * A message of this chain signed for another validator-set epoch (ADR 006): the sender switched before or
   * after this node. Not a fault: ignored without a penalty.
   */
  otherEpoch: 'otherEpoch',
  /** The sender index is outside the validator set. */
  unknownSender: 'unknownSender',
  /** The frame came from a peer that is not a validator (an observer). */
  notValidator: 'notValidator',
  /** The sending peer is not the validator that signed the message (and the type may not be relayed). */
  senderMismatch: 'senderMismatch',
  badSignature: 'badSignature',
  /** A relayed NEW-VIEW this replica made itself: harmless, nothing to do. */
  fromSelf: 'fromSelf',
  /** A compact PRE-PREPARE whose txs this replica neither holds nor could fetch from the primary. */
  txsUnavailable: 'txsUnavailable',
} as const;
export type EdgeDropReason = (typeof EdgeDropReason)[keyof typeof EdgeDropReason];

export interface EdgeContext {
  readonly chainId: string;
  readonly set: ValidatorSet;
  /** This replica's validator index. */
  readonly self: number;
  readonly verify: SignatureVerifier;
  /** The chain's suite (ADR 014): decodes frames (tx hashes, batch digests). Default: Ed25519/SHA-256. */
  readonly suite?: CryptoSuite | undefined;
}

/** What the edge passes on: a consensus message, or a compact PRE-PREPARE still to be filled in. */
export type EdgeMessage = ConsensusMessage | CompactPrePrepare;

export type EdgeResult =
  | { readonly ok: true; readonly message: EdgeMessage }
  | { readonly ok: false; readonly reason: EdgeDropReason; readonly detail: string };

/** The edge pipeline for one frame from the peer with validator index `peerIndex` (undefined: not a validator). */
export function checkConsensusFrame(
  frame: Uint8Array,
  peerIndex: number | undefined,
  ctx: EdgeContext,
): EdgeResult {
  const fail = (reason: EdgeDropReason, detail: string): EdgeResult => ({ ok: false, reason, detail });
  if (peerIndex === undefined)
    return fail(EdgeDropReason.notValidator, 'consensus frame from a non-validator');
  let m: EdgeMessage;
  try {
    m = isCompactFrame(frame) ? decodeCompactPrePrepare(frame, ctx.suite) : decodeMessage(frame, ctx.suite);
  } catch (err) {
    return fail(EdgeDropReason.malformed, (err as Error).message);
  }
  if (m.chainId !== ctx.chainId) {
    const base = (id: string) => id.split('/')[0];
    if (base(m.chainId) === base(ctx.chainId))
      return fail(
        EdgeDropReason.otherEpoch,
        `${m.type} of epoch ${m.chainId}, this node runs ${ctx.chainId}`,
      );
    return fail(EdgeDropReason.wrongChain, `${m.type} for chain ${m.chainId}`);
  }
  const signer = ctx.set.validators[m.from];
  if (signer === undefined) return fail(EdgeDropReason.unknownSender, `${m.type} from validator ${m.from}`);
  if (m.type !== 'newView' && m.from !== peerIndex) {
    return fail(EdgeDropReason.senderMismatch, `${m.type} signed by ${m.from}, sent by ${peerIndex}`);
  }
  if (m.from === ctx.self) return fail(EdgeDropReason.fromSelf, `${m.type} made by this replica`);
  const { domain, body } = m.type === 'compactPrePrepare' ? compactSignedPart(m) : signedPart(m);
  if (!ctx.verify(signer.publicKey, domain, body, m.signature)) {
    return fail(EdgeDropReason.badSignature, `${m.type} from ${m.from}`);
  }
  return { ok: true, message: m };
}

export interface ConsensusTransportDeps {
  readonly host: P2PHost;
  readonly peers: ValidatorPeers;
  /** Replaced with `setEdge` when the validator-set epoch changes (ADR 006). */
  edge: EdgeContext;
  readonly logger: Logger;
  /** Every edge drop, for metrics and status. */
  readonly onDrop: (reason: EdgeDropReason, detail: string) => void;
}

/** The driver's Transport over the p2p host, plus the inbound edge pipeline (`attach`). */
export class P2PConsensusTransport implements Transport {
  readonly #d: ConsensusTransportDeps;
  #resolver: TxResolver | undefined;
  #beforePrePrepare: (() => void) | undefined;

  constructor(deps: ConsensusTransportDeps) {
    this.#d = { ...deps };
  }

  /** The epoch's chain id, set and this replica's index (-1 outside the set) for the edge checks. */
  setEdge(edge: EdgeContext): void {
    this.#d.edge = edge;
  }

  send(to: number, bytes: Uint8Array): void {
    const peerId = this.#d.peers.peerId(to);
    if (peerId === undefined || to === this.#d.edge.self) return;
    this.#safely(() => this.#d.host.send(peerId, ProtocolId.consensus, bytes));
  }

  /** A PRE-PREPARE with txs names them by hash; everything else has its one encoding. */
  encode(m: ConsensusMessage): Uint8Array {
    if (m.type !== 'prePrepare' || m.batch.txs.length === 0) return encodeMessage(m);
    // Forwarded txs go out first, so backups mostly hold them already when the PRE-PREPARE arrives.
    this.#beforePrePrepare?.();
    return encodeCompactPrePrepare(m);
  }

  /**
   * Registered once the mempool exists: where compact PRE-PREPAREs get their txs, and what to do before
   * sending one (flush the tx relay). Compact frames that arrive before are dropped as txsUnavailable.
   */
  resolveWith(resolver: TxResolver, beforePrePrepare: () => void): void {
    this.#resolver = resolver;
    this.#beforePrePrepare = beforePrePrepare;
  }

  broadcast(bytes: Uint8Array): void {
    // Validators only: observers follow the chain through sync, not consensus traffic.
    this.#safely(() =>
      this.#d.host.broadcast(ProtocolId.consensus, bytes, (peerId) => this.#d.peers.isValidator(peerId)),
    );
  }

  /** Starts serving inbound frames: valid ones go to `driver.receive`, one at a time per peer. */
  attach(driver: Pick<ConsensusDriver, 'receive'>): void {
    this.#d.host.onMessage(ProtocolId.consensus, (peerId, frame) => this.#onFrame(driver, peerId, frame));
  }

  #onFrame(
    driver: Pick<ConsensusDriver, 'receive'>,
    peerId: string,
    frame: Uint8Array,
  ): Verdict | Promise<Verdict> {
    const result = checkConsensusFrame(frame, this.#d.peers.indexOf(peerId), this.#d.edge);
    if (!result.ok) {
      this.#d.onDrop(result.reason, result.detail);
      this.#d.logger.debug(
        { peer: peerId, reason: result.reason, detail: result.detail },
        'consensus: dropped',
      );
      return result.reason === EdgeDropReason.fromSelf || result.reason === EdgeDropReason.otherEpoch
        ? Verdicts.ignore(result.reason)
        : Verdicts.reject(result.reason);
    }
    // Waiting for the driver holds back this peer's next frame (and only this peer's): back-pressure.
    const m = result.message;
    if (m.type === 'compactPrePrepare') return this.#expand(driver, peerId, m);
    return driver.receive(m).then(() => Verdicts.accept());
  }

  /** Fills in a compact PRE-PREPARE's txs; one that cannot be filled in is dropped, and this replica does not prepare it. */
  async #expand(
    driver: Pick<ConsensusDriver, 'receive'>,
    peerId: string,
    m: CompactPrePrepare,
  ): Promise<Verdict> {
    let full: ConsensusMessage;
    try {
      if (this.#resolver === undefined) throw new Error('not serving yet');
      full = await this.#resolver.resolve(peerId, m);
    } catch (err) {
      const detail = `pre-prepare ${m.view}/${m.seq}: ${(err as Error).message}`;
      this.#d.onDrop(EdgeDropReason.txsUnavailable, detail);
      this.#d.logger.debug({ peer: peerId, detail }, 'consensus: pre-prepare txs unavailable');
      // A wrong txs response was already reported on the sync protocol; the frame itself was well formed.
      return Verdicts.ignore(EdgeDropReason.txsUnavailable);
    }
    await driver.receive(full);
    return Verdicts.accept();
  }

  /** Sending is best effort (PBFT tolerates loss); a send must never throw into the driver. */
  #safely(send: () => unknown): void {
    try {
      send();
    } catch (err) {
      // Not started (we are stopping) is routine; a message over the frame limit is a configuration problem.
      const tooLarge = err instanceof P2PError && err.code === P2PErrorCode.frameTooLarge;
      if (tooLarge)
        this.#d.logger.error({ err: err.message }, 'consensus: message over the frame limit, not sent');
      else this.#d.logger.debug({ err: String(err) }, 'consensus: send failed');
    }
  }
}
