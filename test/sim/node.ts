/**
 * One simulated endpoint: a Replica plus what the production driver would do around it, synchronously:
 * apply `persist` ops to a durable key/value map before anything else of the step, send through the simulated
 * network, keep one timer per kind (re-arming replaces it), build and commit blocks on a SimLedger, fetch
 * batch bodies from peers and transfer state from a peer's ledger. Two endpoints with the same validator
 * index are twins (one key, two instances).
 *
 * Reconfiguration (ADR 006) as the node does it: one Replica per epoch. After executing the last block of an
 * epoch (by consensus or state transfer) the endpoint drops the instance and its persisted records and starts
 * the next epoch's instance from that block, if its key is in the new set (otherwise it only follows the chain
 * by state transfer). `index` is the endpoint's key id (its genesis index for genesis validators); `member` is
 * its validator index in the epoch in force.
 */

import { DropReason } from '../../src/consensus/errors.ts';
import { type ConsensusMessage, decodeMessage, encodeMessage } from '../../src/consensus/messages.ts';
import { readPersisted } from '../../src/consensus/persist.ts';
import { Replica } from '../../src/consensus/replica.ts';
import type { Input, Output, ReplicaOptions, TimerKind } from '../../src/consensus/types.ts';
import { toHex } from '../../src/core/bytes.ts';
import type { ConsensusParams } from '../../src/core/params.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { consensusChainId, type Validator, type ValidatorSet } from '../../src/core/validators.ts';
import type { BuiltBlock } from '../../src/ledger/chain.ts';
import type { Behaviour } from './byzantine.ts';
import type { SimSigner } from './crypto.ts';
import { simVerify } from './crypto.ts';
import type { Packet, Simulation, StatusPacket } from './harness.ts';
import { SIM_GENESIS_HASH, SimLedger } from './ledger.ts';
import { SIM_CHAIN_ID } from './txs.ts';

export interface NodeConfig {
  id: number;
  index: number;
  signer: SimSigner;
  set: ValidatorSet;
  /** Every key a reconfiguration may name, by key id. */
  keys: readonly Validator[];
  params: ConsensusParams;
  options: Partial<ReplicaOptions>;
  isValidTx: (env: TxEnvelope) => boolean;
  behaviour: Behaviour | undefined;
}

export class SimNode {
  readonly id: number;
  readonly index: number;
  readonly signer: SimSigner;
  readonly behaviour: Behaviour | undefined;
  readonly ledger: SimLedger;
  /** The durable consensus store: survives crashes. */
  readonly store = new Map<string, Uint8Array>();
  replica: Replica | undefined;
  /** Started and not crashed (a running endpoint outside the set in force has no replica). */
  running = false;
  /** The epoch of the running instance (or, outside the set, the epoch in force at head + 1). */
  epoch = 0;
  /** This endpoint's validator index in that epoch; undefined when its key is not in the set. */
  member: number | undefined;
  /** The epoch the durable store's records belong to (durable, like the store). */
  private storeEpoch = 0;
  /** The instance's epoch ended in this step: apply no more of its outputs, then switch. */
  private switchPending = false;
  readonly drops = new Map<string, number>();
  private readonly config: NodeConfig;
  private readonly timers = new Map<TimerKind, number>();
  private timerToken = 0;
  private readonly built = new Map<string, BuiltBlock>();
  /** The ledger height when the previous status arrived (-1: none yet). */
  private statusHeight = -1;
  /** This endpoint's clock: virtual time plus an offset, its timers running `clockRate` times as long. */
  clockOffsetMs = 0;
  clockRate = 1;
  /**
   * Armed by `Simulation.tornCrash`: the next step that persists anything crashes part-way through its outputs
   * and the endpoint restarts this many ms later.
   */
  tornRestartMs: number | undefined;
  /**
   * Negative control only (test hook): apply a step's persist outputs after its sends, the order the driver
   * must never use.
   */
  persistLast = false;

  constructor(config: NodeConfig) {
    this.config = config;
    this.id = config.id;
    this.index = config.index;
    this.signer = config.signer;
    this.behaviour = config.behaviour;
    this.ledger = new SimLedger(SIM_CHAIN_ID, config.set, simVerify, config.isValidTx, config.keys);
  }

  get honest(): boolean {
    return this.behaviour === undefined;
  }

  get up(): boolean {
    return this.running;
  }

  /** Starts (or restarts after a crash) from the durable store and the ledger. */
  start(sim: Simulation): void {
    this.running = true;
    this.startEpoch(sim);
  }

  /**
   * Starts the instance of the epoch in force at head + 1 from the store (wiped if it holds another epoch's
   * records) and the ledger; none when this key is not in that epoch's set.
   */
  private startEpoch(sim: Simulation): void {
    const head = this.ledger.head();
    const e = this.ledger.epochAt(head.height + 1);
    if (this.storeEpoch !== e.epoch) {
      this.store.clear();
      this.storeEpoch = e.epoch;
    }
    this.epoch = e.epoch;
    const self = e.set.validators.findIndex((v) => toHex(v.publicKey) === toHex(this.signer.publicKey));
    this.member = self < 0 ? undefined : self;
    if (this.member === undefined) {
      this.replica = undefined;
      return;
    }
    const base =
      e.epoch === 0
        ? undefined
        : { seq: e.firstHeight - 1, headerHash: this.ledger.hashAt(e.firstHeight - 1)! };
    this.replica = Replica.restore(
      {
        chainId: consensusChainId(SIM_CHAIN_ID, SIM_GENESIS_HASH, e.epoch),
        validators: e.set,
        self: this.member,
        params: this.config.params,
        genesisHash: SIM_GENESIS_HASH,
        base,
        signer: this.signer,
        verify: simVerify,
        options: this.config.options,
      },
      readPersisted(this.store),
      head,
    );
    this.input(sim, { now: sim.now, type: 'start' });
  }

  /** The epoch in force at head + 1 is not the instance's: hand over to the next epoch's instance. */
  private switchEpoch(sim: Simulation): void {
    this.switchPending = false;
    const pending = this.replica?.pendingTxs() ?? [];
    this.timers.clear();
    this.built.clear();
    this.statusHeight = -1;
    this.startEpoch(sim);
    for (const tx of pending) {
      if (this.replica === undefined) break;
      if (this.ledger.checkTx(tx)) this.input(sim, { now: sim.now, type: 'txArrived', tx });
    }
  }

  private epochEnded(): boolean {
    return this.ledger.epochAt(this.ledger.head().height + 1).epoch !== this.epoch;
  }

  /** Loses everything not in the store or the ledger. */
  crash(): void {
    this.running = false;
    this.switchPending = false;
    this.replica = undefined;
    this.statusHeight = -1;
    this.timers.clear();
    this.built.clear();
  }

  input(sim: Simulation, input: Input): void {
    const r = this.replica;
    if (r === undefined) return;
    let outputs = r.step({ ...input, now: input.now + this.clockOffsetMs });
    if (this.persistLast) {
      outputs = [
        ...outputs.filter((o) => o.type !== 'persist'),
        ...outputs.filter((o) => o.type === 'persist'),
      ];
    }
    const torn = this.tornRestartMs !== undefined && outputs.some((o) => o.type === 'persist');
    // A torn step crashes before output `cut`: everything before it happened (persists included), nothing after.
    const cut = torn ? sim.rng.int(0, outputs.length - 1) : outputs.length;
    if (!torn) sim.afterStep(this);
    for (const o of outputs.slice(0, cut)) {
      // The rest of a step that ended the epoch belongs to the old instance: its records are wiped anyway.
      if (this.switchPending) break;
      this.apply(sim, o);
    }
    if (torn) {
      const after = this.tornRestartMs!;
      this.tornRestartMs = undefined;
      this.crash();
      sim.at(sim.now - sim.t0 + after, 'torn restart', () => sim.restart(this.id));
      return;
    }
    if (this.switchPending) this.switchEpoch(sim);
  }

  timerFired(sim: Simulation, kind: TimerKind, token: number, view: number): void {
    if (this.timers.get(kind) !== token) return;
    this.timers.delete(kind);
    this.input(sim, { now: sim.now, type: 'timeout', kind, view });
  }

  receive(sim: Simulation, packet: Packet): void {
    if (!this.up) return;
    switch (packet.kind) {
      case 'consensus':
        this.receiveConsensus(sim, packet.bytes);
        return;
      case 'tx':
        this.receiveTx(sim, packet.tx, packet.fromClient);
        return;
      case 'fetchReq': {
        const batch = this.replica?.batchFor(packet.digest);
        if (batch) sim.sendPacket(this, packet.replyTo, { kind: 'fetchResp', batch });
        return;
      }
      case 'fetchResp':
        this.input(sim, { now: sim.now, type: 'batchFetched', batch: packet.batch });
        return;
      case 'status':
        this.receiveStatus(sim, packet);
        return;
    }
  }

  /** This endpoint's sync status, as its state sync server answers it (a Byzantine one may lie). */
  status(sim: Simulation): StatusPacket {
    const last = this.ledger.blocks[this.ledger.blocks.length - 1];
    const honest: StatusPacket = {
      kind: 'status',
      epoch: this.epoch,
      checkpoint: this.replica?.stableCheckpoint(),
      head: last?.cert,
    };
    return this.behaviour?.status?.(this, sim, honest) ?? honest;
  }

  /**
   * Like the state sync layer: a peer's certified checkpoint above ours goes to the core, and so does its head
   * above ours while our head has not moved since the previous status.
   */
  private receiveStatus(sim: Simulation, s: StatusPacket): void {
    const height = this.ledger.head().height;
    // A peer in a later epoch (or any peer ahead, for an endpoint outside the set): its proofs mean nothing to
    // this instance, so transfer state from it directly; the transfer checks every block (ADR 006).
    if (
      s.head !== undefined &&
      s.head.height > height &&
      (s.epoch > this.epoch || this.replica === undefined)
    ) {
      sim.scheduleTransfer(this, s.head.height, s.head.headerHash);
      return;
    }
    if (s.epoch !== this.epoch || this.replica === undefined) return;
    const moving = this.statusHeight >= 0 && height !== this.statusHeight;
    this.statusHeight = height;
    const checkpoint =
      s.checkpoint !== undefined && s.checkpoint.seq > this.replica.status().stableSeq
        ? s.checkpoint
        : undefined;
    const head =
      s.head !== undefined &&
      ((!moving && s.head.height > height) || s.head.view > this.replica.status().view)
        ? s.head
        : undefined;
    if (checkpoint === undefined && head === undefined) return;
    this.input(sim, {
      now: sim.now,
      type: 'peerProgress',
      ...(checkpoint ? { checkpoint } : {}),
      ...(head ? { head } : {}),
    });
  }

  private receiveConsensus(sim: Simulation, bytes: Uint8Array): void {
    let message: ConsensusMessage;
    try {
      message = decodeMessage(bytes);
    } catch {
      this.countDrop(DropReason.malformed);
      return;
    }
    this.behaviour?.observe?.(this, sim, bytes);
    if (this.behaviour?.admits && !this.behaviour.admits(this, sim, message)) return;
    // The driver's admission check of the txs in a PRE-PREPARE, before the core sees it.
    if (message.type === 'prePrepare' && !message.batch.txs.every((t) => this.ledger.checkTx(t))) {
      this.countDrop(DropReason.invalidTx);
      return;
    }
    this.input(sim, { now: sim.now, type: 'message', message });
  }

  private receiveTx(sim: Simulation, tx: TxEnvelope, fromClient: boolean): void {
    if (!this.ledger.checkTx(tx)) return;
    if (this.behaviour?.admitsTx && !this.behaviour.admitsTx(tx)) return;
    // The mempool gossips what clients hand it, once.
    if (fromClient) sim.broadcastPacket(this, { kind: 'tx', tx, fromClient: false });
    this.input(sim, { now: sim.now, type: 'txArrived', tx });
  }

  private countDrop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  private apply(sim: Simulation, o: Output): void {
    switch (o.type) {
      case 'persist':
        for (const op of o.ops) {
          if (op.op === 'put') this.store.set(op.key, op.value);
          else this.store.delete(op.key);
        }
        return;
      case 'send':
        this.sendMessage(sim, o.to, o.message);
        return;
      case 'broadcast':
        this.sendMessage(sim, 'all', o.message);
        return;
      case 'setTimer': {
        const token = ++this.timerToken;
        this.timers.set(o.kind, token);
        sim.scheduleTimer(
          this,
          o.kind,
          token,
          o.view,
          this.clockRate === 1 ? o.ms : Math.round(o.ms * this.clockRate),
        );
        return;
      }
      case 'buildBlock': {
        // A block of a later epoch is not this instance's to build (ADR 006).
        if (this.ledger.epochAt(o.seq).epoch !== this.epoch) {
          this.countDrop('epochEnded');
          return;
        }
        const block = this.ledger.build(o.batch);
        this.built.set(`${o.seq}/${toHex(o.digest)}`, block);
        sim.scheduleLocal(this, {
          now: sim.now,
          type: 'blockBuilt',
          seq: o.seq,
          digest: o.digest,
          headerHash: block.hash,
        });
        return;
      }
      case 'commitBlock': {
        const block = this.built.get(`${o.seq}/${toHex(o.digest)}`);
        if (block === undefined) throw new Error(`commitBlock ${o.seq} without a built block`);
        this.ledger.commit(block, o.certificate);
        for (const key of [...this.built.keys()])
          if (Number(key.split('/')[0]) <= o.seq) this.built.delete(key);
        sim.onCommitted(this, [block]);
        if (this.epochEnded()) this.switchPending = true;
        return;
      }
      case 'stateTransfer':
        sim.scheduleTransfer(this, o.targetSeq, o.headerHash);
        return;
      case 'fetchBatch':
        sim.broadcastPacket(this, { kind: 'fetchReq', digest: o.digest, replyTo: this.id });
        return;
      case 'dropped':
        this.countDrop(o.reason);
        return;
    }
  }

  /** Sends through the behaviour (if Byzantine), else as is. */
  private sendMessage(sim: Simulation, to: number | 'all', message: ConsensusMessage): void {
    if (this.behaviour?.outgoing) {
      this.behaviour.outgoing(this, sim, message, to);
      return;
    }
    sim.sendConsensus(this, to, encodeMessage(message));
  }

  /** Completes a state transfer by copying certified blocks from `source` up to `targetSeq`. */
  transferFrom(sim: Simulation, source: SimNode, targetSeq: number): void {
    if (!this.up) return;
    const copied = this.ledger.copyFrom(source.ledger, targetSeq);
    if (copied.length === 0) return;
    this.built.clear();
    sim.onCommitted(
      this,
      copied.map((b) => b.block),
    );
    if (this.epochEnded()) {
      this.switchEpoch(sim);
      return;
    }
    const head = this.ledger.head();
    this.input(sim, {
      now: sim.now,
      type: 'stateTransferred',
      seq: head.height,
      headerHash: head.hash,
      blocks: copied.map((b) => ({
        seq: b.block.header.height,
        headerHash: b.block.hash,
        txHashes: b.block.txs.map((t) => t.hash),
      })),
    });
  }
}
