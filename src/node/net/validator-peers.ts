/**
 * Validator index ↔ libp2p peer id, from the genesis and then the set in force (ADR 006). The validator key is the libp2p identity (Noise proves
 * it in the handshake), so a connection's remote peer id tells which validator is on the other end.
 */
import type { Genesis } from '../../core/genesis.ts';
import { peerIdOf } from '../../core/keys.ts';
import type { ValidatorSet } from '../../core/validators.ts';

export class ValidatorPeers {
  #peerIds: readonly string[];
  #institutions: readonly string[];
  #index: ReadonlyMap<string, number>;

  constructor(genesis: Genesis) {
    this.#peerIds = genesis.validators.map((v) => v.peerId);
    this.#institutions = genesis.validators.map((v) => v.institution);
    this.#index = new Map(this.#peerIds.map((p, i) => [p, i] as const));
  }

  /** The set in force changed (ADR 006): indexes and peers follow it. */
  update(set: ValidatorSet): void {
    this.#peerIds = set.validators.map((v) => peerIdOf(v.publicKey));
    this.#institutions = set.validators.map((v) => v.institution);
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
