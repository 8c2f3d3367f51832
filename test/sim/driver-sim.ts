/**
 * The simulation on the production driver (issue 14, first part): n ConsensusDrivers (src/consensus/driver.ts)
 * with their MemoryConsensusStore, each over a FakeChain, on one virtual clock and a seeded in-memory network
 * (delays, loss, duplication, partitions), with crashes and restarts from the store. Every effect the driver
 * awaits is in memory, so after each event the run waits for one macrotask, by which time every driver has
 * drained its queue: one seed replays one run. The observer (observer.ts) watches every message sent, and the
 * run checks agreement and validity on the committed ledgers and liveness after the heal. The default world's
 * ledger is the simulation's SimLedger, whose state transfer copies certified blocks from a peer that has them;
 * ledger-world.ts runs LedgerChain, GovernanceState and the production StateSyncClient instead.
 */

import { createHash, type Hash } from 'node:crypto';
import { ConsensusDriver } from '../../src/consensus/driver.ts';
import type { ConsensusStore, EpochSource, Timers, Transport } from '../../src/consensus/interfaces.ts';
import { MemoryConsensusStore } from '../../src/consensus/memory-store.ts';
import type { ConsensusMessage } from '../../src/consensus/messages.ts';
import type { SignatureVerifier, TransferredBlock } from '../../src/consensus/types.ts';
import type { CommitCertificate } from '../../src/core/block.ts';
import { equalBytes, toHex } from '../../src/core/bytes.ts';
import type { Signer } from '../../src/core/crypto.ts';
import type { ConsensusParams } from '../../src/core/params.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { consensusChainId, type ValidatorSet } from '../../src/core/validators.ts';
import type { Chain } from '../../src/ledger/chain.ts';
import { FakeChain } from '../helpers/consensus-doubles.ts';
import { memoVerify, simValidators, simVerify } from './crypto.ts';
import type { AdversaryContext, DriverAdversary } from './driver-byzantine.ts';
import { CLEAN_NET, type NetFaults, type RunResult, SIM_OPTIONS, SIM_PARAMS } from './harness.ts';
import { SIM_GENESIS_HASH, SIM_GENESIS_TIME } from './ledger.ts';
import { reconfiguration } from './ledger-reconfig.ts';
import { ledgerWorld, reconfigWorld, type SyncEnv, type SyncHandle } from './ledger-world.ts';
import { Observer } from './observer.ts';
import { Prng } from './prng.ts';
import { EventQueue } from './queue.ts';
import { livenessBoundMs } from './scenarios.ts';
import { SharedDecoder } from './shared-decode.ts';
import { SIM_CHAIN_ID, simTx } from './txs.ts';

/** A chain the driver simulation can also read and copy between validators (state transfer). */
export interface SimChain extends Chain {
  hashAt(height: number): Promise<Uint8Array | undefined>;
  /** The commit certificate of the head block (none at genesis). */
  headCert(): Promise<CommitCertificate | undefined>;
  /** Stores `source`'s certified blocks above this chain's head up to `seq`; reports what it stored. */
  copyFrom(source: SimChain, seq: number): Promise<TransferredBlock[]>;
  /** Every committed block's hash and tx hashes (hex), by height from 1. */
  contents(): Promise<{ hash: Uint8Array; txs: string[] }[]>;
  /** The chain's validator-set epochs for the driver, every epoch running `params`. */
  epochs(params: ConsensusParams): EpochSource;
}

/** The validators, crypto, chain and txs a driver simulation runs on. */
export interface World {
  chainId: string;
  set: ValidatorSet;
  signers: readonly Signer[];
  verify: SignatureVerifier;
  genesisHash: Uint8Array;
  /** Virtual time at the start. */
  t0: number;
  chain(): Promise<SimChain>;
  /** The client tx with this nonce (the same for every run). */
  tx(nonce: number): TxEnvelope;
  /** Validator i's production state sync client, instead of the harness's stand-in for state transfer. */
  stateSync?(i: number, env: SyncEnv): SyncHandle;
}

/** The simulation's own ledger (SimLedger through FakeChain), keys and signature scheme: cheap. */
class SimWorldChain extends FakeChain implements SimChain {
  async hashAt(height: number): Promise<Uint8Array | undefined> {
    return this.ledger.hashAt(height);
  }
  async headCert(): Promise<CommitCertificate | undefined> {
    return this.ledger.blocks.at(-1)?.cert;
  }
  async copyFrom(source: SimChain, seq: number): Promise<TransferredBlock[]> {
    return this.ledger.copyFrom((source as SimWorldChain).ledger, seq).map(({ block }) => ({
      seq: block.header.height,
      headerHash: block.hash,
      txHashes: block.txs.map((t) => t.hash),
    }));
  }
  async contents(): Promise<{ hash: Uint8Array; txs: string[] }[]> {
    return this.ledger.blocks.map(({ block }) => ({
      hash: block.hash,
      txs: block.txs.map((t) => t.hashHex),
    }));
  }
}

/** Sim txs are the same in every run: built once per process (envelopes are immutable). */
const simTxCache: TxEnvelope[] = [];
function cachedSimTx(nonce: number): TxEnvelope {
  simTxCache[nonce] ??= simTx(nonce % 8, nonce);
  return simTxCache[nonce];
}

export function simWorld(n: number): World {
  const vals = simValidators(n, 'sim');
  const verify = memoVerify(simVerify);
  return {
    chainId: SIM_CHAIN_ID,
    set: vals.set,
    signers: vals.signers,
    verify,
    genesisHash: SIM_GENESIS_HASH,
    t0: SIM_GENESIS_TIME + 1000,
    chain: async () => new SimWorldChain(SIM_CHAIN_ID, vals.set, verify),
    tx: cachedSimTx,
  };
}

export interface DriverScenario {
  name: string;
  n: number;
  net: NetFaults;
  healAtMs: number;
  loadEndMs: number;
  txsPerSecond: number;
  livenessBoundMs: number;
  /** Crash a random validator every 200–600 ms until the heal; each restarts from its store 100–1500 ms later. */
  crashes: boolean;
  /** Split the validators in two halves, neither a quorum, from 0.5 s until the heal. */
  split: boolean;
  /** The world it runs in (default: simWorld); its signers are the n endpoints, its genesis set may be fewer. */
  world?: (n: number) => World;
  /** No state transfer or status exchange before this (virtual ms; the sim ledger's stand-in only). */
  syncBlockedUntilMs?: number;
  /** A scripted client run beside the load (e.g. governance: ledger-reconfig.ts). */
  script?: (env: ScriptEnv) => Script;
}

/** What a scripted client sees of a run. Validators are endpoint indexes (a world signer each). */
export interface ScriptEnv {
  readonly n: number;
  /** Virtual ms since the start. */
  elapsed(): number;
  /** Runs `run` at `ms` after the start. */
  at(ms: number, run: () => Promise<void> | void): void;
  /** A client tx: gossiped to the validators and checked like the load's. */
  submit(tx: TxEnvelope): void;
  /** One more tx of the load, now (after the load's end too; liveness is checked for the load's txs only). */
  loadTx(): void;
  chain(i: number): SimChain;
  running(i: number): boolean;
  fail(message: string): void;
}

export interface Script {
  /** Validator i stored block `height`, through consensus (`viaConsensus`) or state transfer. */
  onCommit?(i: number, height: number, viaConsensus: boolean): void;
  /** Checks the end state (after the run's own checks passed). */
  end?(): Promise<void> | void;
}

/** traceHash: of every delivery, timer and action with its virtual time; equal for equal (scenario, seed). */
export type DriverRunResult = Pick<
  RunResult,
  'scenario' | 'seed' | 'violations' | 'traceHash' | 'committedTxs' | 'heights' | 'events'
> & { byzantineEquivocations: number; syncFaults: number };

type Ev =
  | { type: 'deliver'; to: number; bytes: Uint8Array }
  | { type: 'timer'; node: number; key: string; token: number; fire: () => void }
  | { type: 'action'; run: () => Promise<void> | void };

/**
 * Resolves once every queued microtask has run: Node runs nextTick callbacks only after the microtask queue is
 * empty, and every effect the simulated nodes await is in memory, so by then each driver has drained its queue.
 * (A setImmediate per event did the same at several times the cost.)
 */
const settled = () => new Promise<void>((resolve) => process.nextTick(resolve));

/**
 * The load comes in rounds, this far apart: each round's txs reach a validator's mempool together (as a client's
 * burst would). Fewer, fuller rounds mean fewer blocks for the same txs, and the run's cost is mostly per block.
 */
const LOAD_TICK_MS = 100;

export interface DriverSimHooks {
  /** The consensus store of validator i (default: a MemoryConsensusStore, durable across its crashes). */
  store?(i: number): ConsensusStore;
  /** Called when validator i crashes (before it restarts from its store). */
  onCrash?(i: number): void;
  /** Byzantine validators: what each does to its driver's traffic. Only the others' ledgers are checked. */
  byzantine?: ReadonlyMap<number, (ctx: AdversaryContext) => DriverAdversary>;
  /** Lying state-sync peers (ledger world): validator p's rewrite of its SyncServer's answers. */
  syncLiar?(p: number): ((request: Uint8Array, response: Uint8Array) => Uint8Array) | undefined;
  /** Every receiver and the observer decode on their own, as nodes do (default: one shared decoding per send). */
  decodeApart?: boolean;
}

export async function runDriverScenario(
  s: DriverScenario,
  seed: number,
  hooks: DriverSimHooks = {},
): Promise<DriverRunResult> {
  return new DriverSim(s, seed, hooks).run();
}

class DriverSim {
  private readonly s: DriverScenario;
  private readonly seed: number;
  private readonly rng: Prng;
  private readonly queue = new EventQueue<Ev>();
  private readonly world: World;
  private readonly t0: number;
  private now: number;
  private net: NetFaults;
  private partition: Map<number, number> | undefined;
  private readonly violations: string[] = [];
  private readonly chains: SimChain[] = [];
  private readonly stores: ConsensusStore[] = [];
  private readonly hooks: DriverSimHooks;
  private readonly trace: Hash = createHash('sha256');
  private readonly drivers: (ConsensusDriver | undefined)[] = [];
  private readonly syncs: (SyncHandle | undefined)[] = [];
  private readonly handlers = new Map<number, (bytes: Uint8Array) => void>();
  /** One decoding per sent bytes object, for the observer and all its receivers (shared-decode.ts). */
  private readonly decode: ((bytes: Uint8Array) => ConsensusMessage) | undefined;
  private readonly timerTokens: Map<string, number>[] = [];
  private readonly observer: Observer;
  private readonly adversaries = new Map<number, DriverAdversary>();
  private readonly submitted = new Map<string, { tx: TxEnvelope; at: number }>();
  /** Per validator, the txs its running driver was handed since it last started (a crash empties its pool). */
  private readonly holds: Set<string>[] = [];
  /** Per validator, the set of the epoch its driver runs (or last ran); the transport addresses its members. */
  private readonly sets: ValidatorSet[] = [];
  /** Consensus chain id (one per epoch) → that epoch's set, as drivers enter epochs; for the observer. */
  private readonly epochSets = new Map<string, ValidatorSet>();
  /** Public key (hex) → endpoint index. */
  private readonly endpointOf: Map<string, number>;
  private readonly endpointIndexes = new WeakMap<ValidatorSet, number[]>();
  private script: Script | undefined;
  /** Script txs, resubmitted to every validator until committed. */
  private readonly sticky = new Set<string>();
  private readonly firstCommit = new Map<string, number>();
  private readonly canonical = new Map<number, string>();
  private nonce = 0;
  private token = 0;
  private events = 0;
  private syncFaults = 0;

  constructor(s: DriverScenario, seed: number, hooks: DriverSimHooks) {
    this.s = s;
    this.hooks = hooks;
    this.decode = hooks.decodeApart ? undefined : new SharedDecoder().decode;
    this.seed = seed;
    this.rng = new Prng(`driver:${s.name}#${seed}`);
    this.net = s.net;
    this.world = (s.world ?? simWorld)(s.n);
    this.t0 = this.world.t0;
    this.now = this.t0;
    this.endpointOf = new Map(this.world.signers.map((v, i) => [toHex(v.publicKey), i]));
    this.epochSets.set(consensusChainId(this.world.chainId, this.world.genesisHash, 0), this.world.set);
    this.observer = new Observer({
      setFor: (chainId) => this.epochSets.get(chainId),
      keyId: (hex) => this.endpointOf.get(hex),
      honestKey: (k) => !this.adversaries.has(k),
      verify: this.world.verify,
      fail: (m) => this.fail(m),
      decode: this.decode,
    });
    for (let i = 0; i < s.n; i++) {
      this.stores.push(hooks.store?.(i) ?? new MemoryConsensusStore());
      this.timerTokens.push(new Map());
      this.holds.push(new Set());
      this.sets.push(this.world.set);
    }
    const byzantine = [...(hooks.byzantine?.keys() ?? [])];
    const run = { rng: new Prng(`driver-byzantine:${s.name}#${seed}`) };
    for (const [i, make] of hooks.byzantine ?? []) {
      const rng = new Prng(`driver-byzantine:${s.name}#${seed}/${i}`);
      const signer = this.world.signers[i]!;
      this.adversaries.set(
        i,
        make({ index: i, n: s.n, l: SIM_PARAMS.watermarkWindow, signer, rng, byzantine, run }),
      );
    }
  }

  private fail(message: string): void {
    if (this.violations.length < 20) this.violations.push(message);
  }

  async run(): Promise<DriverRunResult> {
    const s = this.s;
    for (let i = 0; i < s.n; i++) this.chains.push(await this.world.chain());
    for (let i = 0; i < s.n; i++) await this.startNode(i);
    this.script = s.script?.(this.scriptEnv());
    this.schedule();
    const endAt = this.t0 + Math.max(s.loadEndMs, s.healAtMs) + s.livenessBoundMs + 1000;
    for (;;) {
      const at = this.queue.peekTime();
      if (at === undefined || at > endAt || this.violations.length > 0) break;
      const { event } = this.queue.pop()!;
      this.now = at;
      this.events++;
      try {
        await this.process(event);
        await settled();
      } catch (err) {
        this.fail(`exception at +${at - this.t0}ms: ${(err as Error).stack ?? err}`);
      }
    }
    if (this.violations.length === 0) await this.checkEnd();
    return {
      scenario: s.name,
      seed: this.seed,
      violations: this.violations,
      traceHash: this.trace.digest('hex'),
      committedTxs: this.firstCommit.size,
      heights: this.canonical.size,
      events: this.events,
      byzantineEquivocations: this.observer.byzantineEquivocations,
      syncFaults: this.syncFaults,
    };
  }

  private async process(e: Ev): Promise<void> {
    this.trace.update(
      `${this.now - this.t0}:${e.type}:${e.type === 'deliver' ? e.to : e.type === 'timer' ? `${e.node}${e.key}` : ''};`,
    );
    if (e.type === 'deliver') {
      this.trace.update(e.bytes);
      const adversary = this.adversaries.get(e.to);
      adversary?.observe(e.bytes);
      if (adversary?.admits?.(e.bytes) === false) return;
      this.handlers.get(e.to)?.(e.bytes);
    } else if (e.type === 'timer') {
      const tokens = this.timerTokens[e.node]!;
      if (tokens.get(e.key) !== e.token) return;
      tokens.delete(e.key);
      e.fire();
    } else await e.run();
  }

  private at(ms: number, run: () => Promise<void> | void): void {
    this.queue.push(this.t0 + ms, { type: 'action', run });
  }

  private schedule(): void {
    const s = this.s;
    const tick = () => {
      if (this.now > this.t0 + s.loadEndMs) return;
      this.newTxs((s.txsPerSecond * LOAD_TICK_MS) / 1000);
      this.at(this.now - this.t0 + LOAD_TICK_MS, tick);
    };
    this.at(0, tick);
    const status = async () => {
      if (this.world.stateSync === undefined) {
        if (!this.syncBlocked()) await this.statusRound();
      } else for (const sync of this.syncs) sync?.poll();
      this.at(this.now - this.t0 + 500, status);
    };
    this.at(500, status);
    // A client resubmits what is not committed yet; a validator's mempool ignores a tx it already holds.
    const retry = () => {
      const open = [...this.submitted.values()].filter((t) => !this.firstCommit.has(t.tx.hashHex));
      if (open.length > 0)
        this.gossip(
          open.map((t) => t.tx),
          true,
        );
      this.at(this.now - this.t0 + 1000, retry);
    };
    this.at(1000, retry);
    if (s.split) {
      const ids = [...Array(s.n).keys()];
      this.at(500, () => {
        this.partition = new Map(ids.map((i) => [i, i < s.n / 2 ? 0 : 1]));
      });
    }
    if (s.crashes) {
      for (let t = 300; t < s.healAtMs - 300; t += this.rng.int(200, 600)) {
        this.at(t, async () => {
          const victim = this.rng.int(0, s.n - 1);
          if (this.drivers[victim] === undefined) return;
          await this.crash(victim);
          // The heal may have restarted it already: never two instances of one validator.
          this.at(this.now - this.t0 + this.rng.int(100, 1500), async () => {
            if (this.drivers[victim] === undefined) await this.startNode(victim);
          });
        });
      }
    }
    this.at(s.healAtMs, async () => {
      this.net = CLEAN_NET;
      this.partition = undefined;
      for (let i = 0; i < s.n; i++) if (this.drivers[i] === undefined) await this.startNode(i);
    });
  }

  // ---- nodes ----

  private async startNode(i: number): Promise<void> {
    if (this.drivers[i] !== undefined) throw new Error(`validator ${i} is already running`);
    const chain = this.chains[i]!;
    const sync = this.world.stateSync?.(i, this.syncEnv());
    this.syncs[i] = sync;
    const driver = new ConsensusDriver({
      config: {
        chainId: this.world.chainId,
        genesisHash: this.world.genesisHash,
        signer: this.world.signers[i]!,
        verify: this.world.verify,
        options: SIM_OPTIONS,
      },
      epochs: chain.epochs(SIM_PARAMS),
      transport: this.transport(i),
      decode: this.decode,
      clock: { now: () => this.now },
      timers: this.timers(i),
      store: this.stores[i]!,
      chain,
      sync: sync ?? { requestTransfer: (seq, hash) => this.transfer(i, seq, hash) },
      fetcher: { fetch: (_seq, digest) => this.fetch(i, digest) },
      events: {
        onCommit: (seq, hash, block) =>
          this.committed(
            i,
            seq,
            hash,
            block.txs.map((t) => t.hashHex),
            true,
          ),
        onDrop: (reason, detail) => {
          // A PRE-PREPARE above head + 1 whose txs fail is held until the head reaches seq − 1 (its block builds
          // on that state): refused before, its txs were judged on an older state. (Byzantine ones could fill
          // the driver's bounded hold, so only without them.)
          const seq = reason === 'invalidTx' ? /^PRE-PREPARE (\d+):/.exec(detail)?.[1] : undefined;
          if (seq !== undefined && Number(seq) > chain.head().height + 1 && this.adversaries.size === 0)
            this.fail(
              `validity: validator ${i} at ${chain.head().height} refused an honest primary's ${detail}`,
            );
        },
        onFatal: (err) => this.fail(`fatal at validator ${i}: ${(err as Error).stack ?? err}`),
        onEpoch: (e) => {
          this.sets[i] = e.set;
          this.epochSets.set(consensusChainId(this.world.chainId, this.world.genesisHash, e.epoch), e.set);
          sync?.onEpoch(e.set);
        },
      },
    });
    this.drivers[i] = driver;
    await driver.start();
  }

  private async crash(i: number): Promise<void> {
    const d = this.drivers[i];
    this.drivers[i] = undefined;
    this.handlers.delete(i);
    this.timerTokens[i]!.clear();
    this.holds[i]!.clear();
    this.syncs[i]?.stop();
    this.syncs[i] = undefined;
    await d?.stop();
    this.hooks.onCrash?.(i);
  }

  private transport(i: number): Transport {
    const send = (to: number, bytes: Uint8Array) => {
      if (this.drivers[i] === undefined || !this.linked(i, to)) return;
      if (this.net.dropRate > 0 && this.rng.chance(this.net.dropRate)) return;
      const copies = this.net.dupRate > 0 && this.rng.chance(this.net.dupRate) ? 2 : 1;
      for (let c = 0; c < copies; c++)
        this.queue.push(this.now + this.rng.int(this.net.minDelayMs, this.net.maxDelayMs), {
          type: 'deliver',
          to,
          bytes,
        });
    };
    // Indexes are the sender's epoch set's; a broadcast goes to that set's other members.
    const endpoint = (index: number) => this.endpointsOf(this.sets[i]!)[index]!;
    const honest = (to: number | 'all', bytes: Uint8Array) => {
      this.observer.onSend(bytes, this.adversaries.has(i) ? undefined : i);
      if (to !== 'all') send(endpoint(to), bytes);
      else
        for (let m = 0; m < this.sets[i]!.validators.length; m++) {
          const p = endpoint(m);
          if (p !== i) send(p, bytes);
        }
    };
    const adversary = this.adversaries.get(i);
    const out =
      adversary === undefined
        ? honest
        : (to: number | 'all', bytes: Uint8Array) => adversary.outgoing(to, bytes, honest);
    return {
      send: (to, bytes) => out(to, bytes),
      broadcast: (bytes) => out('all', bytes),
      onMessage: (handler) => this.handlers.set(i, handler),
    };
  }

  /** A set's members as endpoint indexes, by validator index (sets are immutable: computed once each). */
  private endpointsOf(set: ValidatorSet): number[] {
    let out = this.endpointIndexes.get(set);
    if (out === undefined) {
      out = set.validators.map((v) => this.endpointOf.get(toHex(v.publicKey))!);
      this.endpointIndexes.set(set, out);
    }
    return out;
  }

  private scriptEnv(): ScriptEnv {
    return {
      n: this.s.n,
      elapsed: () => this.now - this.t0,
      at: (ms, run) => this.at(ms, run),
      submit: (tx) => {
        this.submitted.set(tx.hashHex, { tx, at: this.now });
        // A node may refuse it for now (an approval of a proposal it has not committed yet): always resubmitted.
        this.sticky.add(tx.hashHex);
        this.gossip([tx]);
      },
      loadTx: () => this.newTxs(1),
      chain: (i) => this.chains[i]!,
      running: (i) => this.drivers[i] !== undefined,
      fail: (m) => this.fail(m),
    };
  }

  private syncEnv(): SyncEnv {
    return {
      now: () => this.now,
      after: (ms, fire) => {
        let live = true;
        this.queue.push(this.now + ms, {
          type: 'action',
          run: () => {
            if (live) return fire();
          },
        });
        return () => {
          live = false;
        };
      },
      delay: () => this.rng.int(this.net.minDelayMs, this.net.maxDelayMs),
      reachable: (a, b) => this.drivers[b] !== undefined && this.linked(a, b),
      driver: (i) => this.drivers[i],
      chain: (i) => this.chains[i]!,
      onStored: (i, block) =>
        this.committed(
          i,
          block.header.height,
          block.hash,
          block.txs.map((t) => t.hashHex),
        ),
      fail: (m) => this.fail(m),
      lie: (p) => this.hooks.syncLiar?.(p),
      caught: () => {
        this.syncFaults++;
      },
    };
  }

  private linked(a: number, b: number): boolean {
    return this.partition === undefined || this.partition.get(a) === this.partition.get(b);
  }

  private timers(i: number): Timers {
    const tokens = this.timerTokens[i]!;
    return {
      set: (key, ms, fire) => {
        const token = ++this.token;
        tokens.set(key, token);
        this.queue.push(this.now + ms, { type: 'timer', node: i, key, token, fire });
      },
      clearAll: () => tokens.clear(),
    };
  }

  /** State transfer: certified blocks copied from a running, connected peer whose ledger has that hash there. */
  private syncBlocked(): boolean {
    return this.now < this.t0 + (this.s.syncBlockedUntilMs ?? 0);
  }

  private transfer(i: number, seq: number, hash: Uint8Array): void {
    this.queue.push(this.now + this.rng.int(5, 30), {
      type: 'action',
      run: async () => {
        if (this.syncBlocked()) return;
        const sources: number[] = [];
        for (let p = 0; p < this.s.n; p++) {
          if (p === i || this.drivers[p] === undefined || !this.linked(i, p)) continue;
          if (equalBytes((await this.chains[p]!.hashAt(seq)) ?? new Uint8Array(), hash)) sources.push(p);
        }
        if (this.drivers[i] === undefined || sources.length === 0) return;
        const copied = await this.chains[i]!.copyFrom(this.chains[this.rng.pick(sources)]!, seq);
        if (copied.length === 0) return;
        for (const b of copied) this.committed(i, b.seq, b.headerHash, b.txHashes.map(toHex));
        const head = this.chains[i]!.head();
        this.drivers[i]?.stateTransferred(head.height, head.hash, copied);
      },
    });
  }

  private fetch(i: number, digest: Uint8Array): void {
    for (let p = 0; p < this.s.n; p++) {
      const batch = p === i || !this.linked(i, p) ? undefined : this.drivers[p]?.batchFor(digest);
      if (batch === undefined) continue;
      this.queue.push(this.now + this.rng.int(2, 20), {
        type: 'action',
        run: () => this.drivers[i]?.batchFetched(batch),
      });
      return;
    }
  }

  /** Each running validator hears one random running peer's certified progress, as state sync polls it. */
  private async statusRound(): Promise<void> {
    for (let i = 0; i < this.s.n; i++) {
      const me = this.drivers[i];
      const peers = [...this.drivers.keys()].filter((p) => p !== i && this.drivers[p] && this.linked(i, p));
      if (me === undefined || peers.length === 0) continue;
      const p = this.rng.pick(peers);
      const checkpoint = this.drivers[p]!.stableCheckpoint();
      const cert = await this.chains[p]!.headCert();
      const head = cert !== undefined && cert.height > this.chains[i]!.head().height ? cert : undefined;
      const cp = checkpoint.seq > me.status().stableSeq ? checkpoint : undefined;
      if (head !== undefined || cp !== undefined) me.peerProgress(cp, head);
    }
  }

  // ---- clients and checks ----

  /** `count` new txs of the load, sent together. */
  private newTxs(count: number): void {
    const txs: TxEnvelope[] = [];
    for (let k = 0; k < count; k++) {
      const tx = this.world.tx(this.nonce);
      this.nonce++;
      this.submitted.set(tx.hashHex, { tx, at: this.now });
      txs.push(tx);
    }
    this.gossip(txs);
  }

  /**
   * Txs reach every running validator's mempool (a client and the relay) after a short delay, as one round that
   * the mempool checks (Chain.checkTxs) and hands to the driver (txsArrived), as the node's mempool does; a
   * resubmission (`again`) only reaches the validators that do not hold them.
   */
  private gossip(txs: readonly TxEnvelope[], again = false): void {
    for (let i = 0; i < this.s.n; i++) {
      const holds = this.holds[i]!;
      const mine = again ? txs.filter((t) => !holds.has(t.hashHex) || this.sticky.has(t.hashHex)) : txs;
      if (mine.length === 0) continue;
      this.queue.push(this.now + this.rng.int(1, 10), {
        type: 'action',
        run: async () => {
          const d = this.drivers[i];
          if (d === undefined) return;
          for (const t of mine) holds.add(t.hashHex);
          const verdicts = await this.chains[i]!.checkTxs(mine, this.now);
          d.txsArrived(mine.filter((_, k) => verdicts[k] === undefined));
        },
      });
    }
  }

  private committed(
    i: number,
    height: number,
    hash: Uint8Array,
    txs: readonly string[],
    viaConsensus = false,
  ): void {
    if (this.adversaries.has(i)) return;
    this.script?.onCommit?.(i, height, viaConsensus);
    const hex = toHex(hash);
    const prev = this.canonical.get(height);
    if (prev === undefined) this.canonical.set(height, hex);
    else if (prev !== hex)
      this.fail(
        `agreement: validator ${i} committed ${hex.slice(0, 12)} at ${height}, another ${prev.slice(0, 12)}`,
      );
    for (const t of txs) {
      if (!this.submitted.has(t)) this.fail(`validity: validator ${i} committed an unknown tx`);
      if (!this.firstCommit.has(t)) this.firstCommit.set(t, this.now);
    }
  }

  private async checkEnd(): Promise<void> {
    for (const [i, chain] of this.chains.entries()) {
      if (this.adversaries.has(i)) continue;
      const seen = new Set<string>();
      for (const [h, block] of (await chain.contents()).entries()) {
        if (this.canonical.get(h + 1) !== toHex(block.hash))
          this.fail(`agreement: validator ${i}'s ledger differs at height ${h + 1}`);
        for (const t of block.txs) {
          if (seen.has(t) || !this.submitted.has(t))
            this.fail(`validity: validator ${i}'s ledger holds a tx twice or unsubmitted`);
          seen.add(t);
        }
      }
    }
    const heal = this.t0 + this.s.healAtMs;
    let late = 0;
    for (const t of this.submitted.values()) {
      if (t.at > this.t0 + this.s.loadEndMs) continue;
      const at = this.firstCommit.get(t.tx.hashHex);
      if (at === undefined || at > Math.max(t.at, heal) + this.s.livenessBoundMs) late++;
    }
    if (late > 0) this.fail(`liveness: ${late} txs not committed in time`);
    if (this.violations.length === 0) await this.script?.end?.();
  }
}

const MILD_NET: NetFaults = { dropRate: 0, dupRate: 0, minDelayMs: 1, maxDelayMs: 20 };
const LOSSY_NET: NetFaults = { dropRate: 0.1, dupRate: 0.05, minDelayMs: 1, maxDelayMs: 60 };

/** The production-driver scenarios, for n = 4 and n = 7. */
export const DRIVER_SCENARIOS: readonly DriverScenario[] = [4, 7].flatMap((n) => {
  const base = {
    n,
    net: MILD_NET,
    healAtMs: 0,
    loadEndMs: 4000,
    txsPerSecond: 20,
    livenessBoundMs: livenessBoundMs(n),
    crashes: false,
    split: false,
  };
  return [
    { ...base, name: `driver-baseline-n${n}` },
    {
      ...base,
      name: `driver-crash-lossy-n${n}`,
      net: LOSSY_NET,
      healAtMs: 3500,
      loadEndMs: 5000,
      crashes: true,
    },
    { ...base, name: `driver-split-n${n}`, healAtMs: 3000, split: true },
  ];
});

/**
 * On the production ledger (ledger-world.ts): LedgerChain, GovernanceState, Ed25519-signed evidence txs; n = 4 (the
 * test genesis) and 7 (a genesis of seven validators, as reconfigWorld builds it). The
 * reconfiguration scenarios (ledger-reconfig.ts) add a validator by governance txs, then remove a genesis one:
 * n = 4 -> 5 -> 4 and 7 -> 8 -> 7, with one more endpoint than the genesis set (the joiner); on a mild network,
 * and under loss, duplication and crashes (which may hit the proposer, approvers, the joiner or the removed one).
 */
export const LEDGER_SCENARIOS: readonly DriverScenario[] = [
  {
    name: 'ledger-crash-lossy-n4',
    n: 4,
    net: LOSSY_NET,
    healAtMs: 3500,
    loadEndMs: 5000,
    txsPerSecond: 20,
    livenessBoundMs: livenessBoundMs(4),
    crashes: true,
    split: false,
    world: ledgerWorld,
  },
  {
    name: 'ledger-crash-lossy-n7',
    n: 7,
    net: LOSSY_NET,
    healAtMs: 3500,
    loadEndMs: 5000,
    txsPerSecond: 20,
    livenessBoundMs: livenessBoundMs(7),
    crashes: true,
    split: false,
    world: () => reconfigWorld(7, 0),
  },
  ...[4, 7].flatMap((v): DriverScenario[] => {
    const reconfig: DriverScenario = {
      name: `ledger-reconfig-n${v}`,
      n: v + 1,
      net: MILD_NET,
      healAtMs: 0,
      loadEndMs: 3000,
      txsPerSecond: 20,
      livenessBoundMs: livenessBoundMs(v + 1),
      crashes: false,
      split: false,
      world: () => reconfigWorld(v, 1),
      script: reconfiguration(v, [{ add: v }, { remove: 0 }]),
    };
    const faults = { net: LOSSY_NET, healAtMs: 3500, loadEndMs: 5000, crashes: true };
    return [reconfig, { ...reconfig, ...faults, name: `ledger-reconfig-crash-lossy-n${v}` }];
  }),
];
