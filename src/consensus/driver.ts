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
 * time, in one call) before the core sees it; one for a seq above head + 1 that fails is judged again once the
 * head reaches seq − 1, the state its block builds on. A transport that validates at the network edge (decode, signature, sender)
 * hands over decoded messages with `receive` instead, so nothing is decoded or verified twice. A failing
 * store, chain or core invariant stops the driver (`onFatal`).
 *
 * The driver follows validator-set epochs (ADR 006); a fixed set is epoch 0 that never ends. It runs one
 * Replica per epoch, builds no block of a later epoch for the current instance, and once the head reaches the
 * epoch's last block it drops the instance and its records and starts the next epoch's (none while this key is
 * not in the set).
 *
 * The validator's component factory (src/node/validator-components.ts) wires it once:
 *   const driver = new ConsensusDriver({
 *     config: { chainId, genesisHash, signer, suite, options },   // verify defaults to suite.verify
 *     transport, clock, timers: new SystemTimers(), store, chain, sync, fetcher, events,
 *     epochs: { epochAt: (h) => chain.epochAt(h), headerHash },   // set, self and params come from here
 *   });
 *   await driver.start();            // restores from the store and the chain head, then runs
 *   mempool admitted     ─► driver.txsArrived(txs)            // the mempool ran Chain.checkTx
 *   edge-checked message ─► driver.receive(message)           // decoded, signature checked at the edge
 *   sync stored blocks   ─► driver.stateTransferred(seq, hash, blocks)
 *   sync status poll     ─► driver.peerProgress(checkpoint, head)
 *   batch requests       ─► driver.batchFor(digest); fetched bodies ─► driver.batchFetched(batch)
 *   ...
 *   await driver.stop();
 */
import type { Batch } from '../core/batch.ts';
import type { CommitCertificate } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { InvariantError } from '../core/errors.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { consensusChainId } from '../core/validators.ts';
import type { BuiltBlock, Chain } from '../ledger/chain.ts';
import type { QuorumContext } from './certificates.ts';
import { ConsensusError, ConsensusErrorCode, type DropReason, DropReason as Drops } from './errors.ts';
import type {
  BatchFetcher,
  Clock,
  ConsensusEvents,
  ConsensusStore,
  EpochSource,
  StateSync,
  Timers,
  Transport,
} from './interfaces.ts';
import {
  type CheckpointProof,
  type ConsensusMessage,
  decodeMessage,
  encodeMessage,
  type PrePrepare,
} from './messages.ts';
import { readPersisted } from './persist.ts';
import { Replica, type ReplicaConfig } from './replica.ts';
import type { Input, Output, ReplicaStatusReport, TransferredBlock } from './types.ts';

/**
 * What every epoch's instance shares: the plain chain id (each epoch signs under its own, consensusChainId),
 * the genesis hash, the signer and the options. `suite` is the chain's (ADR 014, default Ed25519/SHA-256): it
 * decodes messages and stored records and hashes batches; `verify` defaults to the suite's.
 */
export type DriverConfig = Pick<ReplicaConfig, 'chainId' | 'genesisHash' | 'signer' | 'options'> &
  Partial<Pick<ReplicaConfig, 'verify'>> & { suite?: CryptoSuite | undefined };

export interface DriverComponents {
  config: DriverConfig;
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
  /**
   * Strict decoding of inbound bytes (default: decodeMessage with the config's suite). The simulation passes one
   * that decodes each sent bytes object once and hands all its receivers the same frozen result; it must throw
   * on exactly the bytes decodeMessage refuses. The signature is still checked by the core.
   */
  decode?: ((bytes: Uint8Array) => ConsensusMessage) | undefined;
  /** The validator-set epochs (ADR 006): set, self, params and base of each instance come from the one in force. */
  epochs: EpochSource;
}

/** Most PRE-PREPAREs held for a check against a later head (see `ConsensusDriver.deferred`). */
export const MAX_DEFERRED_PRE_PREPARES = 16;

/** The consensus record holding the epoch the other records belong to (not a replica record). */
export const EPOCH_RECORD_KEY = 'epoch';

interface Job {
  run: () => Promise<Input | undefined>;
  /** Called once the job is processed or discarded (stop, failure). */
  done?: (() => void) | undefined;
}

export class ConsensusDriver {
  private readonly c: DriverComponents;
  private replica: Replica | undefined;
  private started_ = false;
  /** The epoch of the running instance. */
  private epoch = 0;
  /** The current instance's epoch ended while executing a step: run no more of its outputs. */
  private epochEnded = false;
  /** The pending txs of an instance stopped by `suspend`, for the next epoch's. */
  private suspendedPending: TxEnvelope[] = [];
  private readonly queue: Job[] = [];
  private pumping = false;
  private stopped = false;
  private failure: unknown;
  private readonly built = new Map<string, BuiltBlock>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly dropCounts = new Map<string, number>();
  /**
   * PRE-PREPAREs for a seq above head + 1 whose txs failed Chain.checkTxs. Their txs were judged against the
   * head, but the batch executes on the state after seq − 1, which the blocks in between may change (an approval
   * of a proposal committed in one of them): each is judged again once the head reaches seq − 1, then handed to
   * the core or dropped (`invalidTx`). Keyed by (view, seq, sender); at most MAX_DEFERRED_PRE_PREPARES (beyond
   * that one is dropped at once), forgotten when the head passes it or the instance changes.
   */
  private readonly deferred = new Map<string, { message: PrePrepare; verified: boolean }>();

  constructor(components: DriverComponents) {
    this.c = components;
  }

  private get suite(): CryptoSuite {
    return this.c.config.suite ?? ED25519_SHA256;
  }

  /** Restores the core from the store and the chain head, listens to the transport, and starts the core. */
  async start(): Promise<void> {
    if (this.started_) throw new ConsensusError(ConsensusErrorCode.lifecycle, 'driver already started');
    this.started_ = true;
    await this.startEpoch(await this.c.store.load());
    this.c.transport.onMessage?.((bytes) => this.onBytes(bytes));
    this.enqueue(async () => ({ now: this.c.clock.now(), type: 'start' }));
  }

  /**
   * Starts the instance of the epoch in force at head + 1, restored from `records` if they belong to it, else
   * fresh (the records of an ended epoch are deleted: its votes can never count again, ADR 006).
   */
  private async startEpoch(records: Array<readonly [string, Uint8Array]>): Promise<void> {
    const source = this.c.epochs;
    const head = this.c.chain.head();
    const e = source.epochAt(head.height + 1);
    const stored = records.find(([k]) => k === EPOCH_RECORD_KEY);
    const storedEpoch = stored === undefined ? 0 : Number(new TextDecoder().decode(stored[1]));
    let state = readPersisted(
      records.filter(([k]) => k !== EPOCH_RECORD_KEY),
      this.suite,
    );
    if (storedEpoch !== e.epoch) {
      await this.c.store.write([
        ...records.map(([key]) => ({ op: 'del' as const, key })),
        { op: 'put', key: EPOCH_RECORD_KEY, value: new TextEncoder().encode(String(e.epoch)) },
      ]);
      state = readPersisted([]);
    }
    this.epoch = e.epoch;
    this.epochEnded = false;
    const pub = Buffer.from(this.c.config.signer.publicKey).toString('hex');
    const self = e.set.validators.findIndex((v) => Buffer.from(v.publicKey).toString('hex') === pub);
    let replica: Replica | undefined;
    if (self >= 0) {
      const base =
        e.epoch === 0
          ? undefined
          : { seq: e.firstHeight - 1, headerHash: await source.headerHash(e.firstHeight - 1) };
      const config: ReplicaConfig = {
        verify: this.suite.verify,
        ...this.c.config,
        suite: this.suite,
        chainId: consensusChainId(this.c.config.chainId, this.c.config.genesisHash, e.epoch),
        validators: e.set,
        self,
        params: e.params,
        base,
      };
      replica = Replica.restore(config, state, head);
    }
    this.replica = replica;
    this.c.events?.onEpoch?.(e, self >= 0 ? self : undefined);
  }

  /** The head passed the current instance's epoch: start the next one and hand it the pending txs. */
  private async switchEpoch(): Promise<void> {
    const pending = this.replica?.pendingTxs() ?? this.suspendedPending;
    this.suspendedPending = [];
    this.built.clear();
    this.deferred.clear();
    this.c.timers.clearAll();
    await this.startEpoch(await this.c.store.load());
    const r = this.replica;
    if (r === undefined) return;
    await this.execute(r.step({ now: this.c.clock.now(), type: 'start' }));
    for (const tx of pending) {
      if (this.replica !== r || this.epochEnded) break;
      await this.execute(r.step({ now: this.c.clock.now(), type: 'txArrived', tx }));
    }
  }

  private epochChanged(): boolean {
    return this.c.epochs.epochAt(this.c.chain.head().height + 1).epoch !== this.epoch;
  }

  /** Stops taking inputs, cancels timers, and waits for the input in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.discardQueue();
    this.deferred.clear();
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
      const r = this.replica;
      // Outside the set in force this node runs no instance: the txs have nowhere to go (as for one tx).
      if (r === undefined) return undefined;
      for (const [i, tx] of txs.entries()) {
        if (this.stopped) break;
        // The epoch ended with this round half given: the rest go to the next instance, after the switch.
        if (this.epochEnded || this.replica !== r) {
          this.txsArrived(txs.slice(i));
          break;
        }
        await this.execute(r.step({ now: this.c.clock.now(), type: 'txArrived', tx }));
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
      if (!this.started_ || !this.enqueueInbound(() => this.messageInput(message, true), done)) done();
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

  /**
   * StateSync stood down at ledger height `seq` (no peer could serve the next block) and writes nothing until
   * asked again. Resolves once the core has taken it in: a request made before then is stale.
   */
  transferStalled(seq: number): Promise<void> {
    return new Promise((done) => {
      const queued = this.enqueue(
        async () => ({ now: this.c.clock.now(), type: 'transferStalled', seq }),
        done,
      );
      if (!queued) done();
    });
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
    if (!this.replica) {
      throw new ConsensusError(
        ConsensusErrorCode.lifecycle,
        this.started_ ? 'this validator is not in the set in force' : 'driver not started',
      );
    }
    return this.replica;
  }

  /**
   * Stops the running instance until the next epoch's starts (ADR 006): state sync has proof (f+1 peers) that
   * this instance's epoch ended and will write blocks the core did not ask for. Resolves once it is stopped:
   * nothing this instance does can reach the ledger after that. Its records stay (a restart resumes it).
   */
  suspend(): Promise<void> {
    return new Promise((done) => {
      const ran = this.enqueue(async () => {
        if (this.replica !== undefined) {
          this.suspendedPending = this.replica.pendingTxs();
          this.built.clear();
          this.c.timers.clearAll();
          this.replica = undefined;
          this.dropped(
            Drops.staleResult,
            `epoch ${this.epoch} ended elsewhere: instance stopped for state sync`,
          );
        }
        return undefined;
      }, done);
      if (!ran) done();
    });
  }

  /** The running instance's quorum context; undefined while this validator is not in the set in force. */
  quorumContext(): QuorumContext | undefined {
    return this.replica?.quorumContext();
  }

  /** The epoch of the running instance, and this validator's index in it (undefined: not in the set). */
  currentEpoch(): { epoch: number; member: boolean } {
    return { epoch: this.epoch, member: this.replica !== undefined };
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
        message = this.c.decode === undefined ? decodeMessage(bytes, this.suite) : this.c.decode(bytes);
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

  /**
   * The input for a decoded message; a PRE-PREPARE's txs must pass Chain.checkTx at its proposed time, on the
   * state its block builds on: one above head + 1 that fails is judged again at seq − 1 (`deferred`).
   */
  private async messageInput(message: ConsensusMessage, verified: boolean): Promise<Input | undefined> {
    if (message.type === 'prePrepare') {
      const verdicts = await this.c.chain.checkTxs(message.batch.txs, message.batch.time);
      const bad = verdicts.find((v) => v !== undefined);
      if (bad && !(message.seq > this.c.chain.head().height + 1 && this.defer(message, verified)))
        return this.dropped(Drops.invalidTx, `PRE-PREPARE ${message.seq}: tx ${bad.code}`);
      if (bad) return undefined;
    }
    const now = this.c.clock.now();
    return verified ? { now, type: 'message', message, verified } : { now, type: 'message', message };
  }

  /** Holds a PRE-PREPARE until the head reaches its seq − 1; false when the bound is reached. */
  private defer(message: PrePrepare, verified: boolean): boolean {
    const key = `${message.view}/${message.seq}/${message.from}`;
    if (!this.deferred.has(key) && this.deferred.size >= MAX_DEFERRED_PRE_PREPARES) return false;
    this.deferred.set(key, { message, verified });
    return true;
  }

  /** The head moved: PRE-PREPAREs deferred for seq head + 1 are judged again, those at or below it forgotten. */
  private releaseDeferred(): void {
    const next = this.c.chain.head().height + 1;
    for (const [key, { message, verified }] of this.deferred) {
      if (message.seq > next) continue;
      this.deferred.delete(key);
      if (message.seq === next) this.enqueueInbound(() => this.messageInput(message, verified));
    }
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
          // Outside the set in force this node runs no instance: inputs have nowhere to go.
          if (input !== undefined && !this.stopped && this.replica !== undefined) {
            await this.execute(this.replica.step(input));
          }
          // A state transfer (or a commit) reached the end of the epoch: switch instances.
          if (!this.stopped && (this.epochEnded || this.epochChanged())) await this.switchEpoch();
          if (this.deferred.size > 0 && !this.stopped) this.releaseDeferred();
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

  private encode(m: ConsensusMessage): Uint8Array {
    return this.c.transport.encode?.(m) ?? encodeMessage(m);
  }

  private async execute(outputs: Output[]): Promise<void> {
    for (const o of outputs) {
      // The rest of a step that ended the epoch belongs to the old instance (its records are deleted anyway).
      if (this.epochEnded) return;
      switch (o.type) {
        case 'persist':
          await this.c.store.write(o.ops);
          break;
        case 'send':
          this.c.transport.send(o.to, this.encode(o.message));
          break;
        case 'broadcast':
          this.c.transport.broadcast(this.encode(o.message));
          break;
        case 'setTimer': {
          const { kind, view, seq } = o;
          this.c.timers.set(kind, o.ms, () => {
            this.enqueue(async () => ({ now: this.c.clock.now(), type: 'timeout', kind, view, seq }));
          });
          break;
        }
        case 'buildBlock': {
          // A block of a later epoch is not this instance's to build (ADR 006).
          if (this.c.epochs.epochAt(o.seq).epoch !== this.epoch) {
            this.dropped(Drops.staleResult, `block ${o.seq} belongs to a later epoch`);
            break;
          }
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
          if (this.epochChanged()) this.epochEnded = true;
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
