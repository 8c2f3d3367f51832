/**
 * The deterministic simulation: N endpoints in one process, a simulated network with virtual time, a client
 * load generator, scheduled faults, and the invariant checker after every step. Everything random comes from
 * one seeded PRNG and every event is ordered by (virtual time, insertion order), so a (scenario, seed) pair
 * always replays the same run; `traceHash` summarises it.
 */
import { createHash, type Hash } from 'node:crypto';
import type { CheckpointProof } from '../../src/consensus/messages.ts';
import {
  DEFAULT_REPLICA_OPTIONS,
  type Input,
  type ReplicaOptions,
  type TimerKind,
} from '../../src/consensus/types.ts';
import type { Batch } from '../../src/core/batch.ts';
import type { CommitCertificate } from '../../src/core/block.ts';
import { equalBytes, toHex } from '../../src/core/bytes.ts';
import { type ConsensusParams, DEFAULT_CONSENSUS_PARAMS } from '../../src/core/params.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { consensusChainId, type Validator, type ValidatorSet } from '../../src/core/validators.ts';
import type { BuiltBlock } from '../../src/ledger/chain.ts';
import type { Behaviour } from './byzantine.ts';
import { simValidators, simVerify } from './crypto.ts';
import { Checker } from './invariants.ts';
import { SIM_GENESIS_HASH, SIM_GENESIS_TIME } from './ledger.ts';
import { SimNode } from './node.ts';
import { Observer } from './observer.ts';
import { Prng } from './prng.ts';
import { EventQueue } from './queue.ts';
import { reconfigTx, SIM_CHAIN_ID, simTx } from './txs.ts';

export type Packet =
  | { kind: 'consensus'; bytes: Uint8Array }
  | { kind: 'tx'; tx: TxEnvelope; fromClient: boolean }
  | { kind: 'fetchReq'; digest: Uint8Array; replyTo: number }
  | { kind: 'fetchResp'; batch: Batch }
  /**
   * A peer's sync status: its epoch, its stable checkpoint (none outside the set) and the certificate of its
   * head block.
   */
  | {
      kind: 'status';
      epoch: number;
      checkpoint: CheckpointProof | undefined;
      head: CommitCertificate | undefined;
    };

export type StatusPacket = Extract<Packet, { kind: 'status' }>;

export interface NetFaults {
  dropRate: number;
  dupRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const CLEAN_NET: NetFaults = { dropRate: 0, dupRate: 0, minDelayMs: 1, maxDelayMs: 5 };
export const ZERO_LATENCY_NET: NetFaults = { dropRate: 0, dupRate: 0, minDelayMs: 0, maxDelayMs: 0 };

/** Consensus parameters for simulations: short timeouts and a small window, so windows move and views change. */
export const SIM_PARAMS: ConsensusParams = {
  ...DEFAULT_CONSENSUS_PARAMS,
  maxBatchTxs: 20,
  maxBatchWaitMs: 20,
  checkpointInterval: 4,
  watermarkWindow: 16,
  requestTimeoutMs: 1000,
  viewChangeTimeoutMs: 400,
  viewChangeTimeoutMaxMs: 3200,
};

export const SIM_OPTIONS: ReplicaOptions = {
  catchUpDelayMs: 300,
  retryMs: 300,
  maxPendingTxs: 20_000,
  maxBatchesInFlight: DEFAULT_REPLICA_OPTIONS.maxBatchesInFlight,
};

export interface Scenario {
  name: string;
  description: string;
  n: number;
  /** Validator indexes that get a second endpoint with the same key. */
  twins?: readonly number[];
  /** Validator index → behaviour of its endpoint. */
  byzantine?: Readonly<Record<number, () => Behaviour>>;
  /** Network faults in force until healAtMs; CLEAN_NET after. */
  net: NetFaults;
  /** The network after the heal (default CLEAN_NET). */
  healedNet?: NetFaults;
  /** Virtual ms after which no fault is injected (Byzantine endpoints stay Byzantine: at most f of them). */
  healAtMs: number;
  /** Clients submit txs until this time. */
  loadEndMs: number;
  txsPerSecond: number;
  /** Every tx must be committed within this long after max(submission, heal). */
  livenessBoundMs: number;
  /** Registers scheduled faults (partitions, crashes) on the simulation. */
  schedule?: (sim: Simulation) => void;
  /** Negative control: the checker must report a violation. */
  expectViolation?: boolean;
  /** Honest validators must stay in view 0 for the whole run (no primary may be suspected). */
  expectNoViewChange?: boolean;
  /** At the end, every honest validator runs the same view in the normal case (none is left out ahead). */
  expectViewsConverge?: boolean;
  /** Clients also submit this many txs at once at `atMs` (a backlog the chain needs a while to commit). */
  burst?: { atMs: number; txs: number };
  params?: Partial<ConsensusParams>;
  /** Keys beyond the genesis set (endpoints n..n+extraKeys-1): validators that a reconfiguration may add. */
  extraKeys?: number;
  /**
   * Reconfigurations (ADR 006): at `atMs` a client submits the governance stand-in naming the next set by key
   * ids; once committed in block p, that set rules from p + 1.
   */
  reconfigs?: readonly { atMs: number; members: readonly number[] }[];
  /**
   * Every endpoint's clock is off by up to ±maxOffsetMs and its timers run up to maxRateError slow or fast
   * (drawn per endpoint). Offsets stay within half maxClockSkewMs, so honest clocks agree within the bound.
   */
  clockSkew?: { maxOffsetMs: number; maxRateError: number };
}

export interface RunResult {
  scenario: string;
  seed: number;
  violations: string[];
  traceHash: string;
  committedTxs: number;
  heights: number;
  events: number;
  /** Virtual ms simulated. */
  simulatedMs: number;
  drops: Record<string, number>;
  /** Longest time from max(submission, heal) to the first honest commit of a tx. */
  maxLatencyMs: number;
  /** Virtual ms from the start to the last tx's first commit. */
  lastCommitMs: number;
}

type SimEvent =
  | { type: 'deliver'; to: number; packet: Packet }
  | { type: 'timer'; node: number; kind: TimerKind; token: number; view: number }
  | { type: 'local'; node: number; input: Input }
  | { type: 'client' }
  | { type: 'retry' }
  | { type: 'tick'; node: number }
  | { type: 'transfer'; node: number; targetSeq: number; headerHash: Uint8Array }
  | { type: 'status' }
  | { type: 'action'; label: string; run: () => void };

const CLIENT_TICK_MS = 50;
/** How often every endpoint hears one random peer's status, as the state sync layer polls. */
const STATUS_POLL_MS = 500;
const CLIENT_RETRY_MS = 1000;

interface Submitted {
  tx: TxEnvelope;
  at: number;
  lastSent: number;
}

export class Simulation {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly rng: Prng;
  readonly n: number;
  readonly k: number;
  readonly l: number;
  readonly chainId = SIM_CHAIN_ID;
  /** The chain identity epoch 0 signs (ADR 010): what a Byzantine node forges messages for. */
  readonly consensusId = consensusChainId(SIM_CHAIN_ID, SIM_GENESIS_HASH, 0);
  /** The genesis set. */
  readonly set: ValidatorSet;
  /** Every validator key (genesis and extra), by key id. */
  readonly keys: readonly Validator[];
  private readonly keyIds: Map<string, number>;
  readonly t0 = SIM_GENESIS_TIME + 1000;
  readonly endpoints: SimNode[] = [];
  readonly checker: Checker;
  readonly observer: Observer;
  now: number;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly trace: Hash = createHash('sha256');
  private partition: Map<number, number> | undefined;
  /** Directed links that lose everything, as `from>to` endpoint ids (one-way failures). */
  private readonly cuts = new Set<string>();
  private readonly submitted = new Map<string, Submitted>();
  private nonce = 0;
  private carry = 0;
  private events = 0;
  private net: NetFaults;
  /** The state sync layer delivers nothing (status polls are lost) while set. */
  private syncBlocked = false;

  constructor(scenario: Scenario, seed: number) {
    this.scenario = scenario;
    this.seed = seed;
    this.rng = new Prng(`${scenario.name}#${seed}`);
    this.n = scenario.n;
    const params = { ...SIM_PARAMS, ...scenario.params };
    this.k = params.checkpointInterval;
    this.l = params.watermarkWindow;
    this.now = this.t0;
    this.net = scenario.net;
    const extra = scenario.extraKeys ?? 0;
    const all = simValidators(scenario.n + extra, 'sim');
    const signers = all.signers;
    const set: ValidatorSet = { validators: all.set.validators.slice(0, scenario.n) };
    this.set = set;
    this.keys = all.set.validators;
    this.keyIds = new Map(this.keys.map((v, i) => [toHex(v.publicKey), i]));
    const largest = Math.max(scenario.n, ...(scenario.reconfigs ?? []).map((r) => r.members.length));
    this.checker = new Checker(
      { n: largest, k: this.k, l: this.l, maxPendingTxs: SIM_OPTIONS.maxPendingTxs },
      (hex) => this.submitted.has(hex),
    );
    this.observer = new Observer({
      setFor: (chainId) => this.setForChainId(chainId),
      keyId: (hex) => this.keyIds.get(hex),
      honestKey: (id) => this.endpoints.every((e) => e.index !== id || e.honest),
      verify: simVerify,
      fail: (message) => this.checker.fail(message),
    });
    const isValidTx = (env: TxEnvelope) => this.submitted.has(env.hashHex);
    const indexes = [...Array(scenario.n + extra).keys(), ...(scenario.twins ?? [])];
    const twinMark: Behaviour = { name: 'twin' };
    for (const [id, index] of indexes.entries()) {
      const isTwin = scenario.twins?.includes(index) ?? false;
      this.endpoints.push(
        new SimNode({
          id,
          index,
          signer: signers[index]!,
          set,
          keys: this.keys,
          params,
          options: SIM_OPTIONS,
          isValidTx,
          behaviour: scenario.byzantine?.[index]?.() ?? (isTwin ? twinMark : undefined),
        }),
      );
    }
    const skew = scenario.clockSkew;
    if (skew !== undefined) {
      for (const node of this.endpoints) {
        node.clockOffsetMs = this.rng.int(-skew.maxOffsetMs, skew.maxOffsetMs);
        node.clockRate = 1 + (this.rng.int(-1000, 1000) / 1000) * skew.maxRateError;
      }
    }
  }

  // ---- running -------------------------------------------------------------------------------------------

  run(): RunResult {
    const s = this.scenario;
    for (const node of this.endpoints) {
      node.start(this);
      if (node.behaviour?.tick)
        this.queue.push(this.t0 + node.behaviour.tickMs!, { type: 'tick', node: node.id });
    }
    this.queue.push(this.t0, { type: 'client' });
    this.queue.push(this.t0 + STATUS_POLL_MS, { type: 'status' });
    this.queue.push(this.t0 + CLIENT_RETRY_MS, { type: 'retry' });
    s.schedule?.(this);
    if (s.reconfigs !== undefined && s.reconfigs.length > 0)
      this.at(s.reconfigs[0]!.atMs, 'reconfig', () => this.reconfigure(0));
    if (s.burst) {
      const burst = s.burst;
      this.at(burst.atMs, 'burst', () => {
        for (let i = 0; i < burst.txs; i++) this.newTx();
      });
    }
    this.at(s.healAtMs, 'heal', () => {
      this.net = s.healedNet ?? CLEAN_NET;
      this.partition = undefined;
      this.cuts.clear();
      for (const node of this.endpoints) if (!node.up) node.start(this);
    });
    const endAt = this.t0 + Math.max(s.loadEndMs, s.healAtMs) + s.livenessBoundMs + 1000;
    for (;;) {
      const at = this.queue.peekTime();
      if (at === undefined || at > endAt || !this.checker.ok) break;
      const { event } = this.queue.pop()!;
      this.now = at;
      this.events++;
      try {
        this.process(event);
      } catch (err) {
        this.checker.fail(`exception at +${at - this.t0}ms in ${event.type}: ${(err as Error).stack ?? err}`);
      }
    }
    const heal = this.t0 + s.healAtMs;
    let maxLatencyMs = 0;
    for (const t of this.submitted.values()) {
      const at = this.checker.firstCommit.get(t.tx.hashHex);
      if (at !== undefined) maxLatencyMs = Math.max(maxLatencyMs, at - Math.max(t.at, heal));
    }
    if (this.checker.ok) this.checker.checkLedgers(this.endpoints);
    if (this.checker.ok && !s.expectViolation) this.checker.checkParticipation(this.endpoints);
    if (this.checker.ok && s.expectNoViewChange) this.checker.checkNoViewChange();
    if (this.checker.ok && s.expectViewsConverge) this.checker.checkViewsConverge(this.endpoints);
    if (this.checker.ok && s.reconfigs !== undefined) this.checkSchedule(s.reconfigs);
    if (this.checker.ok) {
      const deadlines = [...this.submitted.values()]
        .filter((t) => t.at <= this.t0 + s.loadEndMs)
        .map((t) => ({ hashHex: t.tx.hashHex, deadline: Math.max(t.at, heal) + s.livenessBoundMs }));
      this.checker.checkLiveness(deadlines);
    }
    const drops: Record<string, number> = {};
    for (const node of this.endpoints) {
      for (const [reason, count] of node.drops) drops[reason] = (drops[reason] ?? 0) + count;
    }
    return {
      scenario: s.name,
      seed: this.seed,
      violations: [...this.checker.violations],
      traceHash: this.trace.digest('hex'),
      committedTxs: this.checker.firstCommit.size,
      heights: this.checker.heights,
      events: this.events,
      simulatedMs: this.now - this.t0,
      drops,
      maxLatencyMs,
      lastCommitMs: Math.max(0, this.checker.lastCommitAt - this.t0),
    };
  }

  /**
   * Submits reconfiguration `i`, like a governance proposal, once the previous one is committed (proposals
   * are made one after another, so the sets follow the schedule), checking every 50 ms.
   */
  private reconfigure(i: number): void {
    const all = this.scenario.reconfigs!;
    const prev = i === 0 ? undefined : reconfigTx(all[i - 1]!.members, `${i - 1}`);
    if (prev !== undefined && !this.checker.firstCommit.has(prev.hashHex)) {
      this.at(this.now - this.t0 + 50, 'reconfig', () => this.reconfigure(i));
      return;
    }
    const tx = reconfigTx(all[i]!.members, `${i}`);
    this.submitted.set(tx.hashHex, { tx, at: this.now, lastSent: this.now });
    this.submit(tx);
    const next = all[i + 1];
    if (next !== undefined)
      this.at(Math.max(next.atMs, this.now - this.t0 + 50), 'reconfig', () => this.reconfigure(i + 1));
  }

  /** Validator sets as scheduled: every honest running endpoint's ledger went through each set in order. */
  private checkSchedule(reconfigs: NonNullable<Scenario['reconfigs']>): void {
    const want = [[...Array(this.n).keys()], ...reconfigs.map((r) => [...r.members])];
    for (const node of this.endpoints) {
      if (!node.honest || !node.up) continue;
      const got = node.ledger.epochs.map((e) =>
        e.set.validators.map((v) => this.keyIds.get(toHex(v.publicKey))!),
      );
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        this.checker.fail(`schedule: endpoint ${node.id} went through sets ${JSON.stringify(got)}`);
      }
    }
  }

  private process(e: SimEvent): void {
    switch (e.type) {
      case 'deliver': {
        const node = this.endpoints[e.to]!;
        this.record(`d${e.to}${e.packet.kind}`, e.packet.kind === 'consensus' ? e.packet.bytes : undefined);
        node.receive(this, e.packet);
        return;
      }
      case 'timer':
        this.record(`t${e.node}${e.kind}`);
        this.endpoints[e.node]!.timerFired(this, e.kind, e.token, e.view);
        return;
      case 'local':
        this.record(`l${e.node}${e.input.type}`);
        this.endpoints[e.node]!.input(this, { ...e.input, now: this.now });
        return;
      case 'client':
        this.clientTick();
        return;
      case 'retry':
        this.retryTick();
        return;
      case 'tick': {
        const node = this.endpoints[e.node]!;
        if (node.up) node.behaviour!.tick!(node, this);
        this.queue.push(this.now + node.behaviour!.tickMs!, e);
        return;
      }
      case 'transfer':
        this.record(`x${e.node}`);
        this.completeTransfer(this.endpoints[e.node]!, e.targetSeq, e.headerHash);
        return;
      case 'status':
        this.statusTick();
        return;
      case 'action':
        this.record(`a${e.label}`);
        e.run();
        return;
    }
  }

  private record(tag: string, bytes?: Uint8Array): void {
    this.trace.update(`${this.now - this.t0}:${tag};`);
    if (bytes) this.trace.update(bytes);
  }

  // ---- what nodes call -----------------------------------------------------------------------------------

  afterStep(node: SimNode): void {
    this.checker.afterStep(node);
  }

  onCommitted(node: SimNode, blocks: readonly BuiltBlock[]): void {
    for (const b of blocks) this.record(`c${node.id}:${b.header.height}`, b.hash);
    this.checker.onCommitted(node, blocks, this.now);
  }

  scheduleTimer(node: SimNode, kind: TimerKind, token: number, view: number, ms: number): void {
    this.queue.push(this.now + ms, { type: 'timer', node: node.id, kind, token, view });
  }

  scheduleLocal(node: SimNode, input: Input): void {
    this.queue.push(this.now, { type: 'local', node: node.id, input });
  }

  scheduleTransfer(node: SimNode, targetSeq: number, headerHash: Uint8Array): void {
    this.queue.push(this.now + this.rng.int(5, 30), {
      type: 'transfer',
      node: node.id,
      targetSeq,
      headerHash,
    });
  }

  /**
   * A consensus message to validator `to` of the sender's epoch (every endpoint holding that key) or to every
   * other endpoint (those outside the sender's epoch drop it: it is signed in another epoch's domain).
   */
  sendConsensus(from: SimNode, to: number | 'all', bytes: Uint8Array): void {
    this.observer.onSend(bytes);
    let key: number | undefined;
    if (to !== 'all') {
      const v = this.setOf(from).validators[to];
      key = v === undefined ? undefined : this.keyIds.get(toHex(v.publicKey));
      if (key === undefined) return;
    }
    for (const target of this.endpoints) {
      if (target.index === from.index || (key !== undefined && target.index !== key)) continue;
      this.transmit(from, target, { kind: 'consensus', bytes });
    }
  }

  /** The validator set of the epoch an endpoint runs. */
  setOf(node: SimNode): ValidatorSet {
    return node.ledger.epochs[node.epoch]?.set ?? this.set;
  }

  /** The validator set of the epoch with consensus chain id `chainId`, as any endpoint's ledger knows it. */
  private setForChainId(chainId: string): ValidatorSet | undefined {
    for (const node of this.endpoints) {
      for (const e of node.ledger.epochs) {
        if (consensusChainId(this.chainId, SIM_GENESIS_HASH, e.epoch) === chainId) return e.set;
      }
    }
    return undefined;
  }

  broadcastPacket(from: SimNode, packet: Packet): void {
    for (const target of this.endpoints) if (target.index !== from.index) this.transmit(from, target, packet);
  }

  sendPacket(from: SimNode, toEndpoint: number, packet: Packet): void {
    this.transmit(from, this.endpoints[toEndpoint]!, packet);
  }

  private transmit(from: SimNode, to: SimNode, packet: Packet): void {
    if (!this.connected(from.id, to.id) || this.cuts.has(`${from.id}>${to.id}`)) return;
    const net = this.net;
    if (net.dropRate > 0 && this.rng.chance(net.dropRate)) return;
    const copies = net.dupRate > 0 && this.rng.chance(net.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = net.maxDelayMs === 0 ? 0 : this.rng.int(net.minDelayMs, net.maxDelayMs);
      this.queue.push(this.now + delay, { type: 'deliver', to: to.id, packet });
    }
  }

  private connected(a: number, b: number): boolean {
    return this.partition === undefined || this.partition.get(a) === this.partition.get(b);
  }

  private completeTransfer(node: SimNode, targetSeq: number, headerHash: Uint8Array): void {
    if (!node.up || this.syncBlocked) return;
    const sources = this.endpoints.filter(
      (s) =>
        s !== node &&
        s.up &&
        this.connected(s.id, node.id) &&
        equalBytes(s.ledger.hashAt(targetSeq) ?? new Uint8Array(), headerHash),
    );
    if (sources.length === 0) return;
    node.transferFrom(this, this.rng.pick(sources), targetSeq);
  }

  /** Each up endpoint gets the status of one random other up endpoint, through the (faulty) network. */
  private statusTick(): void {
    for (const node of this.syncBlocked ? [] : this.endpoints) {
      const peers = this.endpoints.filter((p) => p !== node && p.up && p.index !== node.index);
      if (!node.up || peers.length === 0) continue;
      const peer = this.rng.pick(peers);
      this.transmit(peer, node, peer.status(this));
    }
    this.queue.push(this.now + STATUS_POLL_MS, { type: 'status' });
  }

  // ---- clients -------------------------------------------------------------------------------------------

  private clientTick(): void {
    const s = this.scenario;
    if (this.now > this.t0 + s.loadEndMs) return;
    this.carry += (s.txsPerSecond * CLIENT_TICK_MS) / 1000;
    while (this.carry >= 1) {
      this.carry -= 1;
      this.newTx();
    }
    this.queue.push(this.now + CLIENT_TICK_MS, { type: 'client' });
  }

  private newTx(): void {
    const tx = simTx(this.nonce % 8, this.nonce);
    this.nonce++;
    this.submitted.set(tx.hashHex, { tx, at: this.now, lastSent: this.now });
    this.submit(tx);
  }

  /** Clients resend what no honest endpoint has committed yet, each time to a random endpoint. */
  private retryTick(): void {
    for (const t of this.submitted.values()) {
      if (this.checker.firstCommit.has(t.tx.hashHex) || t.lastSent > this.now - CLIENT_RETRY_MS) continue;
      t.lastSent = this.now;
      this.submit(t.tx);
    }
    this.queue.push(this.now + CLIENT_RETRY_MS, { type: 'retry' });
  }

  private submit(tx: TxEnvelope): void {
    const target = this.rng.pick(this.endpoints);
    const delay = this.net.maxDelayMs === 0 ? 0 : this.rng.int(1, 5);
    this.queue.push(this.now + delay, {
      type: 'deliver',
      to: target.id,
      packet: { kind: 'tx', tx, fromClient: true },
    });
  }

  // ---- fault schedule API for scenarios ------------------------------------------------------------------

  /** Runs `fn` at virtual time t0 + ms. */
  at(ms: number, label: string, fn: () => void): void {
    this.queue.push(this.t0 + ms, { type: 'action', label, run: fn });
  }

  /** Splits endpoints into groups that can only talk within themselves; unlisted endpoints are isolated. */
  setPartition(groups: readonly (readonly number[])[]): void {
    const m = new Map<number, number>();
    groups.forEach((g, i) => {
      for (const id of g) m.set(id, i);
    });
    for (const node of this.endpoints) if (!m.has(node.id)) m.set(node.id, -1 - node.id);
    this.partition = m;
  }

  /** Everything endpoint `from` sends to each of `to` is lost (until the heal); the other direction works. */
  cutOneWay(from: number, to: readonly number[]): void {
    for (const t of to) this.cuts.add(`${from}>${t}`);
  }

  clearPartition(): void {
    this.partition = undefined;
  }

  /** Blocks or unblocks the state sync layer (status polls and the state transfers they start). */
  blockSync(blocked: boolean): void {
    this.syncBlocked = blocked;
  }

  /**
   * Endpoint `id` crashes in the middle of its next step that persists anything (after a random prefix of the
   * step's outputs) and restarts `restartAfterMs` later.
   */
  tornCrash(id: number, restartAfterMs: number): void {
    const node = this.endpoints[id]!;
    if (node.up) node.tornRestartMs = restartAfterMs;
  }

  crash(id: number): void {
    this.endpoints[id]!.crash();
  }

  restart(id: number): void {
    const node = this.endpoints[id]!;
    if (!node.up) node.start(this);
  }
}

export function runScenario(scenario: Scenario, seed: number): RunResult {
  return new Simulation(scenario, seed).run();
}
