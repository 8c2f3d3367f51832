/**
 * Txs this replica knows of and has not seen committed, with the time it first saw each. A backup suspects
 * the primary when the oldest has waited requestTimeoutMs; insertion order is arrival order, so the oldest is
 * the first entry (after a view change every clock restarts together). The subset not in any live batch
 * ("free") is what the primary may propose; the log reports index changes so the subset stays exact.
 */
import type { TxEnvelope } from '../core/tx.ts';

interface PendingTx {
  env: TxEnvelope;
  firstSeen: number;
}

export class PendingTxs {
  private readonly txs = new Map<string, PendingTx>();
  private readonly free = new Map<string, TxEnvelope>();
  private freeBytesTotal = 0;

  get size(): number {
    return this.txs.size;
  }

  get freeCount(): number {
    return this.free.size;
  }

  get freeBytes(): number {
    return this.freeBytesTotal;
  }

  has(hashHex: string): boolean {
    return this.txs.has(hashHex);
  }

  add(env: TxEnvelope, now: number, inFlight: boolean): void {
    this.txs.set(env.hashHex, { env, firstSeen: now });
    if (!inFlight) this.markFree(env);
  }

  remove(hashHex: string): void {
    if (!this.txs.delete(hashHex)) return;
    this.unmarkFree(hashHex);
  }

  /** The log indexed (true) or released (false) this tx. */
  setInFlight(hashHex: string, inFlight: boolean): void {
    const p = this.txs.get(hashHex);
    if (p === undefined) return;
    if (inFlight) this.unmarkFree(hashHex);
    else this.markFree(p.env);
  }

  /** When the oldest pending tx was first seen. */
  oldestFirstSeen(): number | undefined {
    for (const p of this.txs.values()) return p.firstSeen;
    return undefined;
  }

  /** A new view gives its primary a fresh requestTimeoutMs for everything pending. */
  restartClocks(now: number): void {
    for (const p of this.txs.values()) p.firstSeen = now;
  }

  /** Free txs in order, as many as fit the limits. */
  takeBatch(maxTxs: number, maxBytes: number): TxEnvelope[] {
    const out: TxEnvelope[] = [];
    let bytes = 0;
    for (const env of this.free.values()) {
      if (out.length >= maxTxs || bytes + env.bytes.length > maxBytes) break;
      out.push(env);
      bytes += env.bytes.length;
    }
    return out;
  }

  private markFree(env: TxEnvelope): void {
    if (this.free.has(env.hashHex)) return;
    this.free.set(env.hashHex, env);
    this.freeBytesTotal += env.bytes.length;
  }

  private unmarkFree(hashHex: string): void {
    const env = this.free.get(hashHex);
    if (env === undefined) return;
    this.free.delete(hashHex);
    this.freeBytesTotal -= env.bytes.length;
  }
}
