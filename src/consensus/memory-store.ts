/** An in-memory ConsensusStore: for tests and throwaway devnets (nothing survives the process). */
import type { ConsensusStore } from './interfaces.ts';
import type { PersistOp } from './persist.ts';

export class MemoryConsensusStore implements ConsensusStore {
  private readonly records = new Map<string, Uint8Array>();

  async load(): Promise<Array<readonly [string, Uint8Array]>> {
    return [...this.records]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, v.slice()] as const);
  }

  async write(ops: readonly PersistOp[]): Promise<void> {
    // Validate first so a bad batch changes nothing (atomicity).
    for (const op of ops) if (op.key.length === 0) throw new RangeError('empty record key');
    for (const op of ops) {
      if (op.op === 'put') this.records.set(op.key, op.value.slice());
      else this.records.delete(op.key);
    }
  }

  get size(): number {
    return this.records.size;
  }

  has(key: string): boolean {
    return this.records.has(key);
  }

  get(key: string): Uint8Array | undefined {
    return this.records.get(key)?.slice();
  }
}
