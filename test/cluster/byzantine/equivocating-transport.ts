/**
 * Test-only (see start.ts): the consensus transport of a Byzantine validator. The node's core stays honest;
 * what it sends is rewritten:
 * - equivocation: every PRE-PREPARE it proposes, and every PREPARE and COMMIT it votes, goes as signed to some
 *   validators and in a conflicting, validly signed version (another batch time; another digest or header
 *   hash) to the others, who then also get the original, so they hold both signatures: proof of equivocation;
 * - garbage: once it has equivocated, every 2 s it sends each validator a consensus frame that is either
 *   random bytes or a vote with a broken signature (what the network edge must refuse and penalise), and a
 *   validly signed compact PRE-PREPARE naming a tx nobody has (which backups must drop as txsUnavailable).
 * Its own PRE-PREPAREs go whole, so a backup's core gets both conflicting versions without a tx fetch.
 * Which validators get which version rotates, so every honest validator sees both kinds.
 */
import { randomBytes } from 'node:crypto';
import {
  type Commit,
  type ConsensusMessage,
  decodeMessage,
  encodeMessage,
  type PrePrepare,
  type Prepare,
  withSignature,
} from '../../../src/consensus/messages.ts';
import { batchDigest, isNullBatch } from '../../../src/core/batch.ts';
import type { Domain } from '../../../src/core/crypto.ts';
import { readKeyFile } from '../../../src/core/keys.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { encodeCompactPrePrepare } from '../../../src/node/net/compact-pre-prepare.ts';
import * as honest from '../../../src/node/net/consensus-transport.ts';
import { ProtocolId } from '../../../src/p2p/index.ts';

export * from '../../../src/node/net/consensus-transport.ts';

const GARBAGE_INTERVAL_MS = 2000;

export class P2PConsensusTransport extends honest.P2PConsensusTransport {
  readonly #deps: honest.ConsensusTransportDeps;
  readonly #sign: (domain: Domain, body: Uint8Array) => Uint8Array;
  #equivocations = 0;
  #garbage: ReturnType<typeof setInterval> | undefined;
  #garbageSent = 0;

  constructor(deps: honest.ConsensusTransportDeps) {
    super(deps);
    this.#deps = deps;
    const keyFile = process.env.JRCHAIN_BYZANTINE_KEY;
    if (keyFile === undefined) throw new Error('JRCHAIN_BYZANTINE_KEY must name the validator key file');
    const { signer } = readKeyFile(keyFile);
    this.#sign = (domain, body) => signer.sign(domain, body);
  }

  override encode(m: ConsensusMessage): Uint8Array {
    return encodeMessage(m);
  }

  override broadcast(bytes: Uint8Array): void {
    const m = decodeMessage(bytes);
    const alt = this.#conflicting(m);
    if (alt === undefined) {
      super.broadcast(bytes);
      return;
    }
    const others = this.#others();
    const turn = this.#equivocations++ % others.length;
    const rotated = [...others.slice(turn), ...others.slice(0, turn)];
    const cut = Math.max(1, Math.floor(rotated.length / 2));
    for (const i of rotated.slice(0, cut)) this.send(i, bytes);
    for (const i of rotated.slice(cut)) {
      this.send(i, encodeMessage(alt));
      this.send(i, bytes);
    }
    if (this.#equivocations === 1) {
      this.#deps.logger.warn(
        { type: m.type, view: 'view' in m ? m.view : undefined },
        'byzantine: equivocating',
      );
      this.#garbage = setInterval(() => this.#sendGarbage(m), GARBAGE_INTERVAL_MS);
      this.#garbage.unref();
    }
  }

  /** A validly signed message conflicting with `m`, for the kinds this validator equivocates on. */
  #conflicting(m: ConsensusMessage): ConsensusMessage | undefined {
    switch (m.type) {
      case 'prePrepare': {
        if (isNullBatch(m.batch)) return undefined;
        const batch = { ...m.batch, time: m.batch.time + 1 };
        return withSignature<PrePrepare>({ ...m, batch, digest: batchDigest(batch) }, this.#sign);
      }
      case 'prepare':
        return withSignature<Prepare>({ ...m, digest: randomBytes(32) }, this.#sign);
      case 'commit':
        return withSignature<Commit>({ ...m, headerHash: randomBytes(32) }, this.#sign);
      default:
        return undefined;
    }
  }

  #sendGarbage(sample: ConsensusMessage): void {
    for (const i of this.#others()) {
      const peerId = this.#deps.peers.peerId(i)!;
      const frame =
        this.#garbageSent++ % 2 === 0
          ? randomBytes(64 + (this.#garbageSent % 200))
          : encodeMessage({ ...sample, signature: randomBytes(64) } as ConsensusMessage);
      const frames = sample.type === 'prePrepare' ? [frame, this.#unknownTxs(sample)] : [frame];
      try {
        for (const f of frames) this.#deps.host.send(peerId, ProtocolId.consensus, f);
      } catch {
        // not connected (banned by now): nothing to do
      }
    }
  }

  /** A validly signed compact PRE-PREPARE for `m`'s slot whose one tx exists nowhere. */
  #unknownTxs(m: PrePrepare): Uint8Array {
    const ghost = { hash: randomBytes(32) } as unknown as TxEnvelope;
    const batch = { ...m.batch, txs: [ghost] };
    return encodeCompactPrePrepare(
      withSignature<PrePrepare>({ ...m, batch, digest: batchDigest(batch) }, this.#sign),
    );
  }

  #others(): number[] {
    const { self, set } = this.#deps.edge;
    return [...set.validators.keys()].filter((i) => i !== self);
  }
}
