/**
 * Txs this replica knows of and has not seen committed, with the time it first saw each. Insertion order is
 * arrival order (after a view change every clock restarts together). The subset not in any live batch
 * ("free") is what the primary may propose; the log reports index changes so the subset stays exact. The
 * request timer (pacemaker.ts) reads the arrival times: executing a pending tx is progress, and the oldest free
 * tx overtaken by much later arrivals is evidence of censorship.
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

  /** Every pending tx, in arrival order. */
  envelopes(): TxEnvelope[] {
    return [...this.txs.values()].map((p) => p.env);
  }

  add(env: TxEnvelope, now: number, inFlight: boolean): void {
    this.txs.set(env.hashHex, { env, firstSeen: now });
    if (!inFlight) this.markFree(env);
  }

  /** Forgets a tx; returns when it was first seen, or undefined when it was not pending. */
  remove(hashHex: string): number | undefined {
    const p = this.txs.get(hashHex);
    if (p === undefined) return undefined;
    this.txs.delete(hashHex);
    this.unmarkFree(hashHex);
    return p.firstSeen;
  }

  /** The log indexed (true) or released (false) this tx. */
  setInFlight(hashHex: string, inFlight: boolean): void {
    const p = this.txs.get(hashHex);
    if (p === undefined) return;
    if (inFlight) this.unmarkFree(hashHex);
    else this.markFree(p.env);
  }

  /**
   * The longest-waiting tx that is in no live batch (the primary has not proposed it), with when it was first
   * seen. Walks past the in-flight txs ahead of it, at most the log's worth.
   */
  oldestFree(): { hashHex: string; firstSeen: number } | undefined {
    if (this.free.size === 0) return undefined;
    for (const [hashHex, p] of this.txs)
      if (this.free.has(hashHex)) return { hashHex, firstSeen: p.firstSeen };
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
