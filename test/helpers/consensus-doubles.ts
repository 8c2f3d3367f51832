/** Test doubles for the consensus driver: a chain over SimLedger, a manual clock and timers, an in-memory network. */

import type { Clock, EpochInfo, EpochSource, Timers, Transport } from '../../src/consensus/interfaces.ts';
import type { SignatureVerifier } from '../../src/consensus/types.ts';
import type { Batch } from '../../src/core/batch.ts';
import type { CommitCertificate } from '../../src/core/block.ts';
import { verifySignature } from '../../src/core/crypto.ts';
import type { ConsensusParams } from '../../src/core/params.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import type { Validator, ValidatorSet } from '../../src/core/validators.ts';
import type { BuiltBlock, Chain, ChainHead, TxRejection } from '../../src/ledger/chain.ts';
import { SimLedger } from '../sim/ledger.ts';

/** The async Chain contract over the simulation's ledger (Ed25519 certificates by default). */
export class FakeChain implements Chain {
  readonly ledger: SimLedger;
  /** Tx hashes checkTx refuses, as if their signatures were bad. */
  readonly refused = new Set<string>();
  /**
   * Tx hash → the height the head must reach before checkTx accepts it, as if it needed a block not executed
   * yet (an approval of a proposal in that block).
   */
  readonly refusedBelow = new Map<string, number>();
  failCommit = false;
  /** How many times checkTxs was called (a PRE-PREPARE's txs are checked in one call). */
  checkTxsCalls = 0;

  /** `keys`: every validator a reconfiguration (the simulation's stand-in tx) may name, by key id. */
  constructor(
    chainId: string,
    set: ValidatorSet,
    verify: SignatureVerifier = verifySignature,
    keys: readonly Validator[] = set.validators,
  ) {
    this.ledger = new SimLedger(chainId, set, verify, () => true, keys);
  }

  head(): ChainHead {
    return this.ledger.head();
  }

  /** The ledger's epochs for a driver, all with `params` (a fixed set is epoch 0 that never ends). */
  epochs(params: ConsensusParams): EpochSource {
    return {
      epochAt: (h): EpochInfo => ({ ...this.ledger.epochAt(h), params }),
      headerHash: async (h) => this.ledger.hashAt(h)!,
    };
  }

  async buildBlock(batch: Batch): Promise<BuiltBlock> {
    return this.ledger.build(batch);
  }

  async commitBlock(block: BuiltBlock, cert: CommitCertificate): Promise<void> {
    if (this.failCommit) throw new Error('disk full');
    this.ledger.commit(block, cert);
  }

  async checkTx(env: TxEnvelope): Promise<TxRejection | undefined> {
    if (this.refused.has(env.hashHex))
      return { hash: env.hash, code: 'TX_BAD_SIGNATURE', message: 'refused' };
    if (this.head().height < (this.refusedBelow.get(env.hashHex) ?? 0))
      return { hash: env.hash, code: 'TX_GOV_UNKNOWN_PROPOSAL', message: 'needs a later block' };
    if (this.ledger.isCommitted(env.hashHex))
      return { hash: env.hash, code: 'TX_REPLAYED', message: 'committed' };
    return undefined;
  }

  async checkTxs(envs: readonly TxEnvelope[]): Promise<(TxRejection | undefined)[]> {
    this.checkTxsCalls++;
    return Promise.all(envs.map((e) => this.checkTx(e)));
  }
}

export class ManualClock implements Clock {
  t: number;
  constructor(t: number) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
}

/** Timers that fire only when the test advances time. Keeps every callback ever armed, for staleness tests. */
export class ManualTimers implements Timers {
  readonly pending = new Map<string, { at: number; fire: () => void }>();
  readonly armed: { key: string; fire: () => void }[] = [];
  private readonly clock: ManualClock;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  set(key: string, ms: number, fire: () => void): void {
    this.pending.set(key, { at: this.clock.t + ms, fire });
    this.armed.push({ key, fire });
  }

  clearAll(): void {
    this.pending.clear();
  }

  /** Fires, in time order, every timer due by `t`. */
  fireDue(): void {
    const due = [...this.pending].filter(([, p]) => p.at <= this.clock.t).sort((a, b) => a[1].at - b[1].at);
    for (const [key, p] of due) {
      if (this.pending.get(key) !== p) continue;
      this.pending.delete(key);
      p.fire();
    }
  }
}

/** An in-memory network: delivery on a later macrotask, in send order; links can be cut. */
export class MemoryNetwork {
  private readonly handlers = new Map<number, (bytes: Uint8Array) => void>();
  private inFlight = 0;
  readonly cut = new Set<number>();
  /** Every send: [from, to, bytes]. */
  readonly log: [number, number, Uint8Array][] = [];
  onSend: ((from: number, to: number, bytes: Uint8Array) => void) | undefined;
  private readonly n: number;

  constructor(n: number) {
    this.n = n;
  }

  transport(self: number): Transport {
    return {
      send: (to, bytes) => this.deliver(self, to, bytes),
      broadcast: (bytes) => {
        for (let to = 0; to < this.n; to++) if (to !== self) this.deliver(self, to, bytes);
      },
      onMessage: (handler) => {
        this.handlers.set(self, handler);
      },
    };
  }

  /** Delivers bytes to `to` as if from the network (for injected messages). */
  inject(to: number, bytes: Uint8Array): void {
    this.deliver(-1, to, bytes);
  }

  /** Hands bytes to `to`'s handler synchronously (to fill an input queue). */
  injectNow(to: number, bytes: Uint8Array): void {
    this.handlers.get(to)?.(bytes);
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  private deliver(from: number, to: number, bytes: Uint8Array): void {
    this.log.push([from, to, bytes]);
    this.onSend?.(from, to, bytes);
    if (this.cut.has(from) || this.cut.has(to)) return;
    this.inFlight++;
    setImmediate(() => {
      this.inFlight--;
      this.handlers.get(to)?.(bytes);
    });
  }
}
