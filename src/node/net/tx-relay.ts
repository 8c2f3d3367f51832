/**
 * Tx forwarding over `/jrchain/tx/1.0.0`. A tx a client submits to one validator is forwarded once to every
 * other validator (the validators form a full mesh, so one hop reaches all; forwarded txs are not forwarded
 * again). Txs are batched into frames, never one frame per tx: a frame is flushed when it holds `maxFrameTxs`
 * txs, when the next tx would take it over `maxFrameBytes`, or `flushDelayMs` after its first tx.
 *
 * An observer node (not a validator) sends the txs its clients submit to the validators it reaches the same
 * way; a validator treats those as submitted to it and forwards them once to the others.
 *
 * Frame: `u8 version (1) ‖ varint count (1..maxFrameTxs) ‖ (bytes tx)*`, decoded strictly. Inbound frames are
 * accepted from validators and allowlisted observers only; every tx then goes through the mempool's normal
 * admission. A frame that does
 * not decode, or holds a tx that only a faulty forwarder could send (bad signature, unknown key, ...), is
 * rejected, and the host penalises the sender.
 */
import { type CryptoSuite, ED25519_SHA256 } from '../../core/crypto-suite.ts';
import { Limits } from '../../core/limits.ts';
import { decodeTxList, encodeTxList, TX_LIST_VERSION, type TxEnvelope } from '../../core/tx.ts';
import { type Logger, type P2PHost, ProtocolId, type Verdict, Verdicts } from '../../p2p/index.ts';

export const TX_FRAME_VERSION = TX_LIST_VERSION;
/** Most txs any tx frame may hold (part of the protocol: receivers refuse more whatever their own settings). */
export const TX_FRAME_MAX_TXS = 4096;

export interface TxRelayLimits {
  /** Most txs in one frame. */
  readonly maxFrameTxs: number;
  /** Most bytes in one frame; must stay under the tx protocol's frame limit (1 MiB by default). */
  readonly maxFrameBytes: number;
  /** A frame that is not full is sent this long after its first tx. */
  readonly flushDelayMs: number;
}

export const DEFAULT_TX_RELAY_LIMITS: TxRelayLimits = Object.freeze({
  maxFrameTxs: 512,
  maxFrameBytes: 512 * 1024,
  flushDelayMs: 5,
});

/** Frame overhead: version byte and the count varint. */
const FRAME_HEADER_BYTES = 4;
/** A tx's own length prefix (a varint under 2^21 for any tx of at most Limits.txBytes). */
const TX_PREFIX_BYTES = 3;

export function encodeTxFrame(txs: readonly Uint8Array[]): Uint8Array {
  return encodeTxList(txs);
}

/**
 * Strict decode: version, 1..TX_FRAME_MAX_TXS txs each a valid tx encoding, no trailing bytes. The host has
 * already refused frames over the protocol's size limit. Throws CodecError.
 */
export function decodeTxFrame(frame: Uint8Array, suite: CryptoSuite = ED25519_SHA256): TxEnvelope[] {
  return decodeTxList(frame, TX_FRAME_MAX_TXS, 'tx frame', suite);
}

export interface TxRelayDeps {
  readonly host: P2PHost;
  readonly isValidator: (peerId: string) => boolean;
  /** An allowlisted observer: its frames are accepted, but nothing is forwarded to it. */
  readonly isObserver: (peerId: string) => boolean;
  readonly logger: Logger;
  /** The chain's suite (ADR 014), which hashes relayed txs. Default: Ed25519/SHA-256. */
  readonly suite?: CryptoSuite | undefined;
}

export class TxRelay {
  readonly #d: TxRelayDeps;
  readonly #limits: TxRelayLimits;
  #pending: Uint8Array[] = [];
  #pendingBytes = FRAME_HEADER_BYTES;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(deps: TxRelayDeps, limits: TxRelayLimits = DEFAULT_TX_RELAY_LIMITS) {
    if (limits.maxFrameBytes < FRAME_HEADER_BYTES + TX_PREFIX_BYTES + Limits.txBytes) {
      throw new RangeError('tx relay maxFrameBytes must fit one largest tx');
    }
    if (!(limits.maxFrameTxs >= 1 && limits.maxFrameTxs <= TX_FRAME_MAX_TXS)) {
      throw new RangeError(`tx relay maxFrameTxs must be 1..${TX_FRAME_MAX_TXS}`);
    }
    this.#d = deps;
    this.#limits = limits;
  }

  /**
   * Serves inbound tx frames: `onTxs` admits a peer's txs and returns `reject` when the frame shows the
   * sender is faulty. Called once, when whatever admits them (the mempool) exists.
   */
  serve(onTxs: (peerId: string, txs: TxEnvelope[]) => Promise<Verdict>): void {
    this.#d.host.onMessage(ProtocolId.tx, (peerId, frame) => this.#onFrame(onTxs, peerId, frame));
  }

  /** Queues a tx for every other validator. */
  forward(env: TxEnvelope): void {
    const size = env.bytes.length + TX_PREFIX_BYTES;
    if (this.#pendingBytes + size > this.#limits.maxFrameBytes) this.flush();
    this.#pending.push(env.bytes);
    this.#pendingBytes += size;
    if (this.#pending.length >= this.#limits.maxFrameTxs) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#limits.flushDelayMs);
  }

  /** Sends `txs` to one peer now, in as many frames as they need (e.g. the pool to a peer that connected). */
  sendTo(peerId: string, txs: readonly TxEnvelope[]): void {
    for (const frame of this.#frames(txs.map((t) => t.bytes))) {
      if (!this.#send(() => this.#d.host.send(peerId, ProtocolId.tx, frame))) return;
    }
  }

  /** Sends the frame being filled to every validator. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const frame = encodeTxFrame(this.#pending);
    this.#pending = [];
    this.#pendingBytes = FRAME_HEADER_BYTES;
    this.#send(() => this.#d.host.broadcast(ProtocolId.tx, frame, this.#d.isValidator));
  }

  /** Drops what is not sent yet. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = [];
    this.#pendingBytes = FRAME_HEADER_BYTES;
  }

  *#frames(txs: readonly Uint8Array[]): Generator<Uint8Array> {
    let batch: Uint8Array[] = [];
    let bytes = FRAME_HEADER_BYTES;
    for (const t of txs) {
      const size = t.length + TX_PREFIX_BYTES;
      if (
        batch.length > 0 &&
        (bytes + size > this.#limits.maxFrameBytes || batch.length >= this.#limits.maxFrameTxs)
      ) {
        yield encodeTxFrame(batch);
        batch = [];
        bytes = FRAME_HEADER_BYTES;
      }
      batch.push(t);
      bytes += size;
    }
    if (batch.length > 0) yield encodeTxFrame(batch);
  }

  /** Forwarding is best effort: a tx a peer misses still reaches the primary from the others, or a client retries. */
  #send(send: () => unknown): boolean {
    try {
      send();
      return true;
    } catch (err) {
      this.#d.logger.debug({ err: String(err) }, 'tx relay: send failed');
      return false;
    }
  }

  async #onFrame(
    onTxs: (peerId: string, txs: TxEnvelope[]) => Promise<Verdict>,
    peerId: string,
    frame: Uint8Array,
  ): Promise<Verdict> {
    if (!this.#d.isValidator(peerId) && !this.#d.isObserver(peerId)) {
      return Verdicts.reject('tx frame from a peer that is neither a validator nor an observer');
    }
    let txs: TxEnvelope[];
    try {
      txs = decodeTxFrame(frame, this.#d.suite);
    } catch {
      return Verdicts.reject('malformed tx frame');
    }
    return onTxs(peerId, txs);
  }
}
