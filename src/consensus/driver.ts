/**
 * The thin driver around the pure core. It turns the world into inputs and outputs into effects, one input at
 * a time, in order:
 * - `persist` is awaited (the store fsyncs) before any later output of the same step runs: nothing the core
 *   signed is sent before it is durable;
 * - `send`/`broadcast` encode and hand bytes to the transport;
 * - `setTimer` arms the timer of that kind, replacing the pending one, so a superseded timer never fires; a
 *   timer that fires for a view the core has left is dropped by the core (`staleTimer`);
 * - `buildBlock` calls Chain.buildBlock and feeds `blockBuilt` back; `commitBlock` stores the built block with
 *   its certificate through Chain.commitBlock;
 * - `stateTransfer` and `fetchBatch` go to StateSync and BatchFetcher, whose results come back through
 *   `stateTransferred` and `batchFetched`.
 * Inbound bytes are decoded strictly, and the txs of a PRE-PREPARE pass Chain.checkTxs (at the batch's proposed
 * time, in one call) before the core sees it. A transport that validates at the network edge (decode, signature, sender)
 * hands over decoded messages with `receive` instead, so nothing is decoded or verified twice. A failing
 * store, chain or core invariant stops the driver (`onFatal`).
 *
 * A node wires it once:
 *   const driver = new ConsensusDriver({
 *     config: { chainId, validators, self, params, genesisHash, signer },   // verify defaults to Ed25519
 *     transport, clock: new SystemClock(), timers: new SystemTimers(), store, chain, sync, fetcher, events,
 *   });
 *   await driver.start();            // restores from the store and the chain head, then runs
 *   mempool.onAdmitted((txs) => driver.txsArrived(txs));            // the mempool ran Chain.checkTx
 *   edge.onValid((message) => driver.receive(message));          // decoded, signature checked at the edge
 *   sync.onStored((seq, hash, blocks) => driver.stateTransferred(seq, hash, blocks));
 *   sync.onPeerStatus((checkpoint, head) => driver.peerProgress(checkpoint, head));
 *   peers.onBatchRequest((digest) => driver.batchFor(digest)); fetcher.onBatch((b) => driver.batchFetched(b));
 *   ...
 *   await driver.stop();
 */
import type { Batch } from '../core/batch.ts';
import type { CommitCertificate } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { verifySignature } from '../core/crypto.ts';
import { InvariantError } from '../core/errors.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { BuiltBlock, Chain } from '../ledger/chain.ts';
import { ConsensusError, ConsensusErrorCode, type DropReason, DropReason as Drops } from './errors.ts';
import type {
  BatchFetcher,
  Clock,
  ConsensusEvents,
  ConsensusStore,
  StateSync,
  Timers,
  Transport,
} from './interfaces.ts';
import { type CheckpointProof, type ConsensusMessage, decodeMessage, encodeMessage } from './messages.ts';
import { readPersisted } from './persist.ts';
import { Replica, type ReplicaConfig } from './replica.ts';
import type { Input, Output, ReplicaStatusReport, TransferredBlock } from './types.ts';

export interface DriverComponents {
  /** The core's configuration; `verify` defaults to Ed25519 (verifySignature). */
  config: Omit<ReplicaConfig, 'verify'> & Partial<Pick<ReplicaConfig, 'verify'>>;
  transport: Transport;
  clock: Clock;
  timers: Timers;
  store: ConsensusStore;
  chain: Chain;
  sync: StateSync;
  fetcher: BatchFetcher;
  events?: ConsensusEvents;
  /** Most inputs waiting to be processed; inbound messages beyond it are dropped (`overloaded`). */
  maxQueuedInputs?: number;
}

interface Job {
  run: () => Promise<Input | undefined>;
  /** Called once the job is processed or discarded (stop, failure). */
  done?: (() => void) | undefined;
}

export class ConsensusDriver {
  private readonly c: DriverComponents;
  private replica: Replica | undefined;
  private readonly queue: Job[] = [];
  private pumping = false;
  private stopped = false;
  private failure: unknown;
  private readonly built = new Map<string, BuiltBlock>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly dropCounts = new Map<string, number>();

  constructor(components: DriverComponents) {
    this.c = components;
  }

  /** Restores the core from the store and the chain head, listens to the transport, and starts the core. */
  async start(): Promise<void> {
    if (this.replica) throw new ConsensusError(ConsensusErrorCode.lifecycle, 'driver already started');
    const state = readPersisted(await this.c.store.load());
    const config: ReplicaConfig = { verify: verifySignature, ...this.c.config };
    this.replica = Replica.restore(config, state, this.c.chain.head());
    this.c.transport.onMessage?.((bytes) => this.onBytes(bytes));
    this.enqueue(async () => ({ now: this.c.clock.now(), type: 'start' }));
  }

  /** Stops taking inputs, cancels timers, and waits for the input in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.discardQueue();
    this.c.timers.clearAll();
    await this.idle();
  }

  /**
   * A tx for the core's pending set; it must pass Chain.checkTx now. `checked`: the caller (the mempool) has
   * just run Chain.checkTx on it, so the driver does not run it again.
   */
  txArrived(tx: TxEnvelope, checked = false): void {
    this.enqueue(async () => {
      const now = this.c.clock.now();
      const rejection = checked ? undefined : await this.c.chain.checkTx(tx, now);
      if (rejection) return this.dropped(Drops.invalidTx, `tx ${tx.hashHex.slice(0, 12)}: ${rejection.code}`);
      return { now, type: 'txArrived', tx };
    });
  }

  /**
   * Txs the mempool has just checked (Chain.checkTx), as one queued job: the core takes them one `txArrived`
   * input after another, with no other input in between, instead of one queue turn per tx.
   */
  txsArrived(txs: readonly TxEnvelope[]): void {
    if (txs.length === 0) return;
    this.enqueue(async () => {
      for (const tx of txs) {
        if (this.stopped) break;
        await this.execute(this.replica!.step({ now: this.c.clock.now(), type: 'txArrived', tx }));
      }
      return undefined;
    });
  }

  /**
   * A message the transport decoded strictly and whose signature it checked against the sending validator.
   * Resolves once the core has processed (or dropped) it, so the transport can hold back that peer's next
   * message meanwhile: each peer then has at most one message waiting here, whatever it sends.
   */
  receive(message: ConsensusMessage): Promise<void> {
    return new Promise((done) => {
      if (!this.replica || !this.enqueueInbound(() => this.messageInput(message, true), done)) done();
    });
  }

  /** A peer's certified progress (sync status): its stable checkpoint proof and its head's certificate. */
  peerProgress(checkpoint: CheckpointProof | undefined, head: CommitCertificate | undefined): void {
    this.enqueue(async () => ({
      now: this.c.clock.now(),
      type: 'peerProgress',
      ...(checkpoint === undefined ? {} : { checkpoint }),
      ...(head === undefined ? {} : { head }),
    }));
  }

  /** Txs the mempool evicted (expired, committed via state transfer, ...). */
  txRemoved(hashes: readonly Uint8Array[]): void {
    this.enqueue(async () => ({ now: this.c.clock.now(), type: 'txRemoved', hashes }));
  }

  /** StateSync stored certified blocks up to `seq` (header hash `headerHash`). */
  stateTransferred(seq: number, headerHash: Uint8Array, blocks: readonly TransferredBlock[]): void {
    this.enqueue(async () => ({
      now: this.c.clock.now(),
      type: 'stateTransferred',
      seq,
      headerHash,
      blocks,
    }));
  }

  /** A body answering a `fetch`. */
  batchFetched(batch: Batch): void {
    this.enqueue(async () => ({ now: this.c.clock.now(), type: 'batchFetched', batch }));
  }

  /** Serves a peer's batch fetch. */
  batchFor(digest: Uint8Array): Batch | undefined {
    return this.replica?.batchFor(digest);
  }

  status(): ReplicaStatusReport {
    return this.started().status();
  }

  /** The stable checkpoint and its quorum proof (served to peers in sync status). */
  stableCheckpoint(): CheckpointProof {
    return this.started().stableCheckpoint();
  }

  private started(): Replica {
    if (!this.replica) throw new ConsensusError(ConsensusErrorCode.lifecycle, 'driver not started');
    return this.replica;
  }

  /** Drops so far, by reason (the core's and the driver's own). */
  drops(): ReadonlyMap<string, number> {
    return this.dropCounts;
  }

  /** The error that stopped the driver, if any. */
  get fatal(): unknown {
    return this.failure;
  }

  /** Resolves once no input is queued or being processed. */
  idle(): Promise<void> {
    if (!this.pumping && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ---- input side ----------------------------------------------------------------------------------------

  private onBytes(bytes: Uint8Array): void {
    this.enqueueInbound(async () => {
      let message: ConsensusMessage;
      try {
        message = decodeMessage(bytes);
      } catch (err) {
        return this.dropped(Drops.malformed, (err as Error).message);
      }
      return this.messageInput(message, false);
    });
  }

  /** Queues an inbound message, or sheds it (`overloaded`) when too many inputs wait. */
  private enqueueInbound(run: Job['run'], done?: () => void): boolean {
    if (this.queue.length >= (this.c.maxQueuedInputs ?? 100_000)) {
      this.dropped(Drops.overloaded, 'input queue full');
      return false;
    }
    return this.enqueue(run, done);
  }

  /** The input for a decoded message; a PRE-PREPARE's txs must pass Chain.checkTx at its proposed time. */
  private async messageInput(message: ConsensusMessage, verified: boolean): Promise<Input | undefined> {
    if (message.type === 'prePrepare') {
      const verdicts = await this.c.chain.checkTxs(message.batch.txs, message.batch.time);
      const bad = verdicts.find((v) => v !== undefined);
      if (bad) return this.dropped(Drops.invalidTx, `PRE-PREPARE ${message.seq}: tx ${bad.code}`);
    }
    const now = this.c.clock.now();
    return verified ? { now, type: 'message', message, verified } : { now, type: 'message', message };
  }

  private dropped(reason: DropReason, detail: string): undefined {
    this.dropCounts.set(reason, (this.dropCounts.get(reason) ?? 0) + 1);
    this.c.events?.onDrop?.(reason, detail);
    return undefined;
  }

  /** False when the driver no longer takes inputs (stopped or failed). */
  private enqueue(run: Job['run'], done?: () => void): boolean {
    if (this.stopped || this.failure !== undefined) return false;
    this.queue.push({ run, done });
    if (!this.pumping) void this.pump();
    return true;
  }

  private discardQueue(): void {
    for (const job of this.queue.splice(0)) job.done?.();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
        try {
          const input = await job.run();
          if (input !== undefined && !this.stopped) await this.execute(this.replica!.step(input));
        } finally {
          job.done?.();
        }
      }
    } catch (err) {
      this.failure = err;
      this.stopped = true;
      this.discardQueue();
      this.c.timers.clearAll();
      this.c.events?.onFatal?.(err);
    } finally {
      this.pumping = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  // ---- output side ---------------------------------------------------------------------------------------

  private async execute(outputs: Output[]): Promise<void> {
    for (const o of outputs) {
      switch (o.type) {
        case 'persist':
          await this.c.store.write(o.ops);
          break;
        case 'send':
          this.c.transport.send(o.to, encodeMessage(o.message));
          break;
        case 'broadcast':
          this.c.transport.broadcast(encodeMessage(o.message));
          break;
        case 'setTimer': {
          const { kind, view, seq } = o;
          this.c.timers.set(kind, o.ms, () => {
            this.enqueue(async () => ({ now: this.c.clock.now(), type: 'timeout', kind, view, seq }));
          });
          break;
        }
        case 'buildBlock': {
          const block = await this.c.chain.buildBlock(o.batch);
          if (block.header.height !== o.seq) {
            throw new InvariantError('the chain built a block at another height than consensus asked for', {
              asked: o.seq,
              built: block.header.height,
            });
          }
          this.built.set(builtKey(o.seq, o.digest), block);
          const { seq, digest } = o;
          this.enqueue(async () => ({
            now: this.c.clock.now(),
            type: 'blockBuilt',
            seq,
            digest,
            headerHash: block.hash,
          }));
          break;
        }
        case 'commitBlock': {
          const block = this.built.get(builtKey(o.seq, o.digest));
          if (block === undefined)
            throw new InvariantError('commitBlock for a block that was not built', { seq: o.seq });
          await this.c.chain.commitBlock(block, o.certificate);
          for (const key of [...this.built.keys()])
            if (Number(key.split('/')[0]) <= o.seq) this.built.delete(key);
          this.c.events?.onCommit?.(o.seq, o.headerHash, block);
          break;
        }
        case 'stateTransfer':
          this.built.clear();
          this.c.sync.requestTransfer(o.targetSeq, o.headerHash);
          break;
        case 'fetchBatch':
          this.c.fetcher.fetch(o.seq, o.digest);
          break;
        case 'dropped':
          this.dropped(o.reason, o.detail);
          break;
      }
    }
  }
}

function builtKey(seq: number, digest: Uint8Array): string {
  return `${seq}/${toHex(digest)}`;
}
