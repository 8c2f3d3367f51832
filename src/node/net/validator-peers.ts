/**
 * Validator index ↔ libp2p peer id, from the genesis and then the set in force (ADR 006). The validator key is the libp2p identity (Noise proves
 * it in the handshake), so a connection's remote peer id tells which validator is on the other end. On an
 * sm2-sm3 chain the identity is the Ed25519 peer key the genesis names beside the SM2 key, or the one the
 * governance action that added or rotated the validator named (ADR 014).
 */
import type { Genesis } from '../../core/genesis.ts';
import { type PeerKeyLookup, validatorPeerId } from '../../core/keys.ts';
import type { ValidatorSet } from '../../core/validators.ts';

export class ValidatorPeers {
  readonly #genesis: Genesis;
  readonly #peerKeyOf: PeerKeyLookup;
  /** undefined: a validator with no known peer id (an SM2 key nothing names), never reachable. */
  #peerIds: readonly (string | undefined)[];
  #institutions: readonly string[];
  #index: ReadonlyMap<string, number>;

  /** `peerKeyOf`: the governance registry in force (peer keys of SM2 validators governance added or rotated). */
  constructor(genesis: Genesis, peerKeyOf: PeerKeyLookup = () => undefined) {
    this.#genesis = genesis;
    this.#peerKeyOf = peerKeyOf;
    this.#peerIds = genesis.validators.map((v) => v.peerId);
    this.#institutions = genesis.validators.map((v) => v.institution);
    this.#index = indexOf(this.#peerIds);
  }

  /** The set in force changed (ADR 006): indexes and peers follow it. */
  update(set: ValidatorSet): void {
    this.#peerIds = set.validators.map((v) => validatorPeerId(v.publicKey, this.#genesis, this.#peerKeyOf));
    this.#institutions = set.validators.map((v) => v.institution);
    this.#index = indexOf(this.#peerIds);
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

function indexOf(peerIds: readonly (string | undefined)[]): Map<string, number> {
  return new Map(peerIds.flatMap((p, i) => (p === undefined ? [] : [[p, i] as const])));
}
