/**
 * Validator index ↔ libp2p peer id, from the genesis. The validator key is the libp2p identity (Noise proves
 * it in the handshake), so a connection's remote peer id tells which validator is on the other end.
 */
import type { Genesis } from '../../core/genesis.ts';

export class ValidatorPeers {
  readonly #peerIds: readonly string[];
  readonly #institutions: readonly string[];
  readonly #index: ReadonlyMap<string, number>;

  constructor(genesis: Genesis) {
    this.#peerIds = genesis.validators.map((v) => v.peerId);
    this.#institutions = genesis.validators.map((v) => v.institution);
    this.#index = new Map(this.#peerIds.map((p, i) => [p, i] as const));
  }

  get size(): number {
    return this.#peerIds.length;
  }

  /** The peer id of validator `index`; undefined outside the set. */
  peerId(index: number): string | undefined {
    return this.#peerIds[index];
  }

  /** The validator index of `peerId`; undefined for observers and strangers. */
  indexOf(peerId: string): number | undefined {
    return this.#index.get(peerId);
  }

  institutionOf(peerId: string): string | undefined {
    const i = this.#index.get(peerId);
    return i === undefined ? undefined : this.#institutions[i];
  }

  institution(index: number): string | undefined {
    return this.#institutions[index];
  }

  isValidator(peerId: string): boolean {
    return this.#index.has(peerId);
  }
}
