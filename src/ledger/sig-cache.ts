/**
 * Tx hashes whose signatures this node has already verified (admission fills it; execution consults it), so
 * each signature costs one Ed25519 verify per node. The tx hash covers the body but not the signature, so an
 * entry remembers the exact signature bytes that verified: the same body with other signature bytes misses
 * and is verified afresh. Bounded, oldest entry evicted first, so a flood of txs cannot grow memory.
 */
import { equalBytes } from '../core/bytes.ts';

export class VerifiedSignatures {
  readonly capacity: number;
  readonly #entries = new Map<string, Uint8Array>();

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) throw new RangeError('capacity must be >= 0');
    this.capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(hashHex: string, signature: Uint8Array): boolean {
    const sig = this.#entries.get(hashHex);
    return sig !== undefined && equalBytes(sig, signature);
  }

  add(hashHex: string, signature: Uint8Array): void {
    if (this.capacity === 0) return;
    this.#entries.delete(hashHex);
    if (this.#entries.size >= this.capacity) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(hashHex, signature);
  }

  delete(hashHex: string): void {
    this.#entries.delete(hashHex);
  }
}
