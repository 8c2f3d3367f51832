/**
 * ValidatorService: one validator on the network. It connects the pure PBFT core (through its driver) to real
 * peers: consensus messages with edge validation, tx forwarding and the mempool, state sync and batch fetching,
 * all over one p2p host. The Node opens (and later closes) the ledger store and chain and hands them in; this
 * service never closes them.
 *
 *   submit ─► Mempool ─admitted─► driver.txsArrived         TxRelay ─► other validators (batched frames)
 *   host /consensus ─► edge checks ─► driver.receive         driver ─► transport ─► host
 *   driver.stateTransfer ─► StateSyncClient ─► ledger ─► driver.stateTransferred
 *   status poll ─► driver.peerProgress (a quiet chain)       host /sync ◄─ SyncServer (ledger, core)
 *
 * A service is started once and stopped once.
 */
import { makeQuorumContext } from '../consensus/certificates.ts';
import { ConsensusDriver } from '../consensus/driver.ts';
import { DropReason } from '../consensus/errors.ts';
import type { Clock, EpochInfo } from '../consensus/interfaces.ts';
import { LedgerConsensusStore } from '../consensus/ledger-store.ts';
import type { ReplicaOptions, ReplicaStatusReport } from '../consensus/types.ts';
import { DEFAULT_REPLICA_OPTIONS } from '../consensus/types.ts';
import { equalBytes } from '../core/bytes.ts';
import { SystemTimers, systemClock } from '../core/clock.ts';
import { verifySignature } from '../core/crypto.ts';
import { ExitCode, exitCodes, InvariantError, JrError } from '../core/errors.ts';
import { type Genesis, genesisHash, genesisValidatorSet } from '../core/genesis.ts';
import { type KeyPair, peerIdOf } from '../core/keys.ts';
import type { ConsensusParams } from '../core/params.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { consensusChainId, quorumSize, type ValidatorSet } from '../core/validators.ts';
import type { BuiltBlock, TxRejection } from '../ledger/chain.ts';
import type { LedgerChain } from '../ledger/ledger-chain.ts';
import type { LedgerStore } from '../ledger/store.ts';
import {
  type Allowlist,
  allowlistFromGenesis,
  createP2PHost,
  DEFAULT_PROTOCOLS,
  type HostLimitsInit,
  type Logger,
  type MessageProtocolConfig,
  type P2PHost,
  type ProtocolConfig,
  ProtocolId,
  type RequestProtocolConfig,
  type Verdict,
  Verdicts,
} from '../p2p/index.ts';
import {
  type Admission,
  DEFAULT_MEMPOOL_LIMITS,
  isForwarderFault,
  Mempool,
  type MempoolLimits,
  MempoolRejection,
} from './mempool.ts';
import type { NodeMetrics } from './metrics.ts';
import { P2PBatchFetcher } from './net/batch-fetcher.ts';
import { type EdgeDropReason, P2PConsensusTransport } from './net/consensus-transport.ts';
import type { SyncErrorCode } from './net/errors.ts';
import { DEFAULT_STATE_SYNC_LIMITS, StateSyncClient, type StateSyncLimits } from './net/state-sync.ts';
import { SyncServer } from './net/sync-server.ts';
import { DEFAULT_TX_RELAY_LIMITS, TxRelay, type TxRelayLimits } from './net/tx-relay.ts';
import { ValidatorPeers } from './net/validator-peers.ts';

/** Node limits and tuning; every field is optional (defaults in docs/limits.md). */
export interface ValidatorLimits {
  /** p2p host limits (rate limits, scoring, backoff, stall timeout...). */
  readonly host?: HostLimitsInit;
  /** p2p protocols (frame, queue and request limits); DEFAULT_PROTOCOLS when absent. */
  readonly protocols?: readonly ProtocolConfig[];
  readonly mempool?: Partial<MempoolLimits>;
  readonly txRelay?: Partial<TxRelayLimits>;
  readonly sync?: Partial<StateSyncLimits>;
  /** Consensus core tuning: catch-up delay, retry interval, pending tx bound. */
  readonly consensus?: Partial<ReplicaOptions>;
  /** How often expired txs leave the mempool (default 1 s). */
  readonly sweepIntervalMs?: number;
}

export interface ValidatorServiceOptions {
  readonly genesis: Genesis;
  /** This node's institution; its validator is the genesis validator of that institution. */
  readonly institution: string;
  /** The validator key (src/core/keys.ts); also the libp2p identity. */
  readonly key: KeyPair;
  /** Opened by the caller (the Node), and closed by it after stop(). */
  readonly store: LedgerStore;
  readonly chain: LedgerChain;
  /** libp2p listen multiaddrs (port 0 allowed: see p2pAddrs()). */
  readonly listen: readonly string[];
  /** Dial address overrides by peer id, for validators whose genesis addresses are out of date. */
  readonly peerAddrs?: Readonly<Record<string, readonly string[]>>;
  /** Peer ids of observers allowed to connect (they may sync, not vote or submit). */
  readonly observers?: readonly string[];
  /** pino-compatible. */
  readonly logger: Logger;
  readonly metrics: NodeMetrics;
  readonly clock?: Clock;
  readonly limits?: ValidatorLimits;
}

export interface CommitEvent {
  height: number;
  hash: Uint8Array;
  txHashes: Uint8Array[];
  /** Block time, epoch ms. */
  time: number;
  /** How this node got the block: it took part in committing it, or fetched it by state sync. */
  source: 'consensus' | 'sync';
}

export type SubmitResult = Admission;

export interface PeerInfo {
  peerId: string;
  /** The validator's institution; undefined for observers. */
  institution?: string;
  role?: 'validator' | 'observer';
  connected: boolean;
  /** Misbehaviour score (decays); the peer is banned at the host's threshold. */
  score: number;
  bannedUntil?: number;
  lastSeen?: number;
  /** Frames and bytes queued towards the peer (bounded per protocol; a stalled peer shows here). */
  queuedFrames: number;
  queuedBytes: number;
  /** The peer's head height as last seen by state sync. */
  height?: number;
}

export interface ValidatorStatus {
  chainId: string;
  height: number;
  /** Hex. */
  headHash: string;
  view: number;
  primary: number;
  primaryInstitution: string;
  isPrimary: boolean;
  consensus: 'normal' | 'viewChange';
  /** The stable checkpoint and the watermark window (h, H]. */
  stableCheckpoint: number;
  highWatermark: number;
  peers: PeerInfo[];
  /** Validators this node can reach, itself included: consensus needs `quorum` of them. */
  connectedValidators: number;
  quorum: number;
  /** Epoch ms of the last block this node stored (by consensus or sync). */
  lastCommitAt?: number;
  pendingTxs: number;
  sync: {
    state: 'idle' | 'syncing';
    targetHeight?: number;
    blocksPerSec?: number;
    txsPerSec?: number;
    lastError?: string;
  };
  /** Consensus messages dropped, by reason: at the network edge and in the core. */
  drops: Record<string, number>;
  /** Set when consensus or sync stopped on an error of this node (the node must be restarted). */
  fatal?: string;
}

export const ValidatorErrorCode = {
  /** The key is not the genesis key of this institution's validator. */
  keyMismatch: 'VALIDATOR_KEY_MISMATCH',
  /** Limits that cannot work together (a frame limit below the largest batch, ...). */
  config: 'VALIDATOR_CONFIG_INVALID',
  /** start() twice, or after stop(). */
  lifecycle: 'VALIDATOR_LIFECYCLE',
} as const;
export type ValidatorErrorCode = (typeof ValidatorErrorCode)[keyof typeof ValidatorErrorCode];
export const ValidatorErrorExit = exitCodes(ValidatorErrorCode, {
  keyMismatch: ExitCode.failed,
  config: ExitCode.failed,
  lifecycle: ExitCode.failed,
});

export class ValidatorError extends JrError {
  declare readonly code: ValidatorErrorCode;
  constructor(code: ValidatorErrorCode, message: string) {
    super(code, message);
  }
}

/** A tx submitted to a node outside the validator set in force (HTTP 503: try another node). */
export const NOT_A_VALIDATOR = 'NODE_NOT_VALIDATOR';

const DEFAULT_SWEEP_INTERVAL_MS = 1000;
const GAUGE_INTERVAL_MS = 1000;
/** At most one equivocation log line per this interval; the others are counted in the next line. */
const EQUIVOCATION_LOG_INTERVAL_MS = 1000;

export class ValidatorService {
  readonly #o: ValidatorServiceOptions;
  /** This validator's index in the set in force; undefined while outside it (ADR 006: joining or removed). */
  #self: number | undefined;
  /** The set in force for the running consensus instance. */
  #set: ValidatorSet;
  #epoch = 0;
  readonly #clock: Clock;
  readonly #peers: ValidatorPeers;
  readonly #host: P2PHost;
  readonly #driver: ConsensusDriver;
  readonly #mempool: Mempool;
  readonly #relay: TxRelay;
  readonly #sync: StateSyncClient;
  readonly #server: SyncServer;
  readonly #fetcher: P2PBatchFetcher;
  readonly #listeners = new Set<(c: CommitEvent) => void>();
  readonly #edgeDrops = new Map<string, number>();
  readonly #sweepIntervalMs: number;
  #timers: ReturnType<typeof setInterval>[] = [];
  #state: 'new' | 'started' | 'stopped' = 'new';
  #stopping: Promise<void> | undefined;
  #lastCommitAt: number | undefined;
  #lastView = 0;
  #fatal: string | undefined;
  #equivocationLoggedAt = Number.NEGATIVE_INFINITY;
  #equivocationsUnlogged = 0;

  private constructor(o: ValidatorServiceOptions, self: number | undefined) {
    this.#o = o;
    this.#self = self;
    this.#set = genesisValidatorSet(o.genesis);
    const { genesis, limits = {} } = o;
    this.#clock = o.clock ?? systemClock;
    const protocols = limits.protocols ?? DEFAULT_PROTOCOLS;
    const replicaOptions = { ...DEFAULT_REPLICA_OPTIONS, ...limits.consensus };
    const mempoolLimits = { ...DEFAULT_MEMPOOL_LIMITS, ...limits.mempool };
    checkLimits(genesis.consensus, protocols, replicaOptions, mempoolLimits);
    this.#sweepIntervalMs = limits.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    const set = genesisValidatorSet(genesis);
    const gHash = genesisHash(genesis);
    const now = () => this.#clock.now();
    this.#peers = new ValidatorPeers(genesis);
    this.#host = createP2PHost(
      {
        seed: o.key.seed,
        listen: o.listen,
        allowlist: allowlistOf(genesis, o.peerAddrs, o.observers),
        protocols,
        ...(limits.host === undefined ? {} : { limits: limits.host }),
      },
      { logger: o.logger, metrics: o.metrics, clock: this.#clock },
    );
    const transport = new P2PConsensusTransport({
      host: this.#host,
      peers: this.#peers,
      edge: { chainId: genesis.chainId, set, self: self ?? -1, verify: verifySignature },
      logger: o.logger,
      onDrop: (reason) => this.#countEdgeDrop(reason),
    });
    const syncLimits = { ...DEFAULT_STATE_SYNC_LIMITS, ...limits.sync };
    this.#sync = new StateSyncClient(
      {
        host: this.#host,
        peers: this.#peers,
        chain: o.chain,
        quorum: makeQuorumContext(
          genesis.chainId,
          set,
          genesis.consensus.checkpointInterval,
          genesis.consensus.watermarkWindow,
          gHash,
          verifySignature,
        ),
        consensus: {
          transferred: (seq, hash, blocks) => this.#driver.stateTransferred(seq, hash, blocks),
          peerProgress: (checkpoint, head) => this.#driver.peerProgress(checkpoint, head),
          stableSeq: () => (this.#driver.currentEpoch().member ? this.#driver.status().stableSeq : 0),
          view: () =>
            this.#driver.currentEpoch().member ? this.#driver.status().view : Number.POSITIVE_INFINITY,
        },
        epochs: {
          setAt: (height: number) => o.chain.validatorSetAt(height),
          quorum: () => this.#driver.quorumContext(),
          suspend: () => this.#driver.suspend(),
        },
        onStored: (block) => this.#onStored(block, true),
        onFault: (code) => this.#countSyncFault(code),
        onFatal: (err) => this.#onFatal('sync', err),
        now,
        logger: o.logger,
      },
      syncLimits,
    );
    this.#fetcher = new P2PBatchFetcher({
      host: this.#host,
      peers: this.#peers,
      deliver: (batch) => this.#driver.batchFetched(batch),
      onFault: (code) => this.#countSyncFault(code),
      requestTimeoutMs: syncLimits.requestTimeoutMs,
      random: Math.random,
      logger: o.logger,
    });
    this.#driver = new ConsensusDriver({
      config: {
        chainId: genesis.chainId,
        genesisHash: gHash,
        signer: o.key.signer,
        options: replicaOptions,
      },
      transport,
      clock: this.#clock,
      timers: new SystemTimers(),
      store: new LedgerConsensusStore(o.store.consensus),
      chain: o.chain,
      sync: this.#sync,
      fetcher: this.#fetcher,
      events: {
        onDrop: (reason, detail) => {
          o.metrics.consensusDrops.inc({ reason });
          if (reason === DropReason.equivocation) this.#reportEquivocation(detail);
          // A message above the window: its sender is ahead, so ask the peers where the chain is.
          if (reason === DropReason.aboveWindow) this.#sync.pollSoon();
        },
        onCommit: (_seq, _hash, block) => this.#onStored(block, false),
        onFatal: (err) => this.#onFatal('consensus', err),
        onEpoch: (epoch, index) => this.#onEpoch(transport, epoch, index),
      },
      epochs: {
        epochAt: (height: number) => o.chain.epochAt(height),
        headerHash: async (height: number) => {
          if (height === 0) return gHash;
          const block = await o.store.block(height);
          if (block === undefined)
            throw new InvariantError(`block ${height} of an epoch boundary is missing`);
          return block.hash;
        },
      },
    });
    transport.attach(this.#driver);
    this.#mempool = new Mempool(
      {
        chain: o.chain,
        isCommitted: async (hash) => (await o.store.tx(hash)) !== undefined,
        now,
        onAdmitted: (admitted) => {
          this.#driver.txsArrived(admitted.map((a) => a.env));
          for (const a of admitted) if (a.local) this.#relay.forward(a.env);
        },
      },
      mempoolLimits,
    );
    this.#relay = new TxRelay(
      {
        host: this.#host,
        isValidator: (peerId) => this.#peers.isValidator(peerId),
        onTxs: (peerId, txs) => this.#admitForwarded(peerId, txs),
        logger: o.logger,
      },
      { ...DEFAULT_TX_RELAY_LIMITS, ...limits.txRelay },
    );
    this.#relay.attach();
    this.#server = new SyncServer({
      store: o.store,
      // Outside the set there is no instance: the genesis checkpoint (peers ignore one this low).
      stable: () =>
        this.#self === undefined
          ? { seq: 0, headerHash: gHash, signatures: [] }
          : this.#driver.stableCheckpoint(),
      batchFor: (digest) => this.#driver.batchFor(digest),
      maxResponseBytes: requestProtocol(protocols, ProtocolId.sync).maxResponseBytes,
    });
    this.#host.onRequest(ProtocolId.sync, (_peerId, request, signal) => this.#server.handle(request, signal));
    this.#host.onPeerEvent((peerId, event) => this.#onPeerEvent(peerId, event));
  }

  /**
   * Checks the identity against the chain and builds the service (nothing runs until start()). The set in
   * force decides (ADR 006): a node whose key is in it votes; one whose key is not (a validator being added,
   * or one removed or rotated out) starts outside the set and follows the chain until a set that holds its
   * key is in force.
   */
  static async create(opts: ValidatorServiceOptions): Promise<ValidatorService> {
    const { genesis, institution, key, chain } = opts;
    if (!equalBytes(genesisHash(chain.genesis), genesisHash(genesis))) {
      throw new ValidatorError(ValidatorErrorCode.config, 'the chain was opened with another genesis');
    }
    const set = chain.validatorSetAt(chain.head().height + 1);
    const self = set.validators.findIndex((v) => equalBytes(v.publicKey, key.publicKey));
    if (self >= 0 && set.validators[self]!.institution !== institution) {
      throw new ValidatorError(
        ValidatorErrorCode.keyMismatch,
        `the key is the validator key of ${set.validators[self]!.institution}, not of ${institution}`,
      );
    }
    if (self < 0) {
      opts.logger.warn(
        { institution, height: chain.head().height },
        'this key is not in the validator set in force: following the chain until governance adds it',
      );
    }
    return new ValidatorService(opts, self >= 0 ? self : undefined);
  }

  /** Starts consensus (restored from the store and ledger), then the p2p host, then sync and the sweeps. */
  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new ValidatorError(ValidatorErrorCode.lifecycle, `service is ${this.#state}`);
    this.#state = 'started';
    // The driver first: the host may deliver messages as soon as it starts.
    await this.#driver.start();
    await this.#host.start();
    this.#sync.start();
    this.#timers = [
      setInterval(() => this.#sweep(), this.#sweepIntervalMs),
      setInterval(() => this.#refreshGauges(), GAUGE_INTERVAL_MS),
    ];
    for (const t of this.#timers) t.unref();
    this.#o.logger.info(
      { institution: this.#o.institution, validator: this.#self, addrs: this.p2pAddrs() },
      'validator started',
    );
  }

  /**
   * Stops gracefully: no new txs; sync aborts its requests and finishes the block it is storing; the driver
   * finishes the input in progress (a commit in flight completes); then the host closes its connections.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    this.#mempool.close();
    for (const t of this.#timers.splice(0)) clearInterval(t);
    if (!wasStarted) return;
    this.#relay.stop();
    this.#fetcher.stop();
    await this.#sync.stop();
    await this.#driver.stop();
    await this.#host.stop();
    this.#o.logger.info({ institution: this.#o.institution }, 'validator stopped');
  }

  /**
   * Admits a tx and forwards it to the other validators. `committed`: it is already in a block (safe to
   * retry); `pending`: already admitted here; `rejected`: with the executor's or the mempool's code.
   */
  async submit(env: TxEnvelope): Promise<SubmitResult> {
    if (this.#state === 'new') {
      const rejection = {
        hash: env.hash,
        code: MempoolRejection.notStarted,
        message: 'the node is not started',
      };
      return { status: 'rejected', rejection };
    }
    if (!this.#driver.currentEpoch().member) {
      // Outside the set in force (joining, or removed: ADR 006) this node is cut off from the validators'
      // tx relay and proposes nothing: acknowledging a tx here could leave it uncommitted.
      const rejection = {
        hash: env.hash,
        code: NOT_A_VALIDATOR,
        message: 'this node is not in the validator set in force; submit the tx to a validator',
      };
      return { status: 'rejected', rejection };
    }
    const result = await this.#mempool.admit(env, true);
    if (result.status === 'rejected') this.#o.metrics.rejectedTxs.inc({ code: result.rejection.code });
    return result;
  }

  /** Admits several txs in one round (see submit); outcomes in input order. */
  async submitMany(envs: readonly TxEnvelope[]): Promise<SubmitResult[]> {
    if (this.#state === 'new') {
      return envs.map((env) => ({
        status: 'rejected',
        rejection: { hash: env.hash, code: MempoolRejection.notStarted, message: 'the node is not started' },
      }));
    }
    const results = await this.#mempool.admitMany(envs, true);
    for (const r of results) {
      if (r.status === 'rejected') this.#o.metrics.rejectedTxs.inc({ code: r.rejection.code });
    }
    return results;
  }

  /** Calls `listener` after every block this node stores, by consensus or by sync; returns the unsubscriber. */
  onCommit(listener: (c: CommitEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Whether this validator is the primary of its current view, in the normal case (false until started). */
  isPrimary(): boolean {
    if (this.#state === 'new' || !this.#driver.currentEpoch().member) return false;
    const r = this.#driver.status();
    return r.status === 'normal' && r.primary === this.#self;
  }

  status(): ValidatorStatus {
    const r = this.#replicaStatus();
    const head = this.#o.chain.head();
    const genesis = this.#o.genesis;
    const peers: PeerInfo[] = this.#host.peers().map((p) => {
      const info: PeerInfo = {
        peerId: p.peerId,
        connected: p.connected,
        score: p.score,
        queuedFrames: p.queuedFrames,
        queuedBytes: p.queuedBytes,
      };
      const institution = this.#peers.institutionOf(p.peerId);
      if (institution !== undefined) info.institution = institution;
      if (p.role !== undefined) info.role = p.role;
      if (p.bannedUntil !== undefined) info.bannedUntil = p.bannedUntil;
      if (p.lastSeen !== undefined) info.lastSeen = p.lastSeen;
      const height = this.#sync.knownHeight(p.peerId);
      if (height !== undefined) info.height = height;
      return info;
    });
    const drops: Record<string, number> = Object.fromEntries(this.#edgeDrops);
    for (const [reason, n] of this.#driver.drops()) drops[reason] = (drops[reason] ?? 0) + n;
    const status: ValidatorStatus = {
      chainId: genesis.chainId,
      height: head.height,
      headHash: Buffer.from(head.hash).toString('hex'),
      view: r.view,
      primary: r.primary,
      primaryInstitution: this.#set.validators[r.primary]?.institution ?? '',
      isPrimary: this.isPrimary(),
      consensus: r.status,
      stableCheckpoint: r.stableSeq,
      highWatermark: r.highWatermark,
      peers,
      connectedValidators: 1 + peers.filter((p) => p.connected && p.role === 'validator').length,
      quorum: quorumSize(this.#set.validators.length),
      pendingTxs: this.#mempool.size,
      sync: this.#sync.progress(),
      drops,
    };
    if (this.#lastCommitAt !== undefined) status.lastCommitAt = this.#lastCommitAt;
    if (this.#fatal !== undefined) status.fatal = this.#fatal;
    return status;
  }

  /** Bound listen addresses, each ending in /p2p/<peerId> (empty until started). */
  p2pAddrs(): string[] {
    return this.#host.addrs();
  }

  // ---- internals ----

  #replicaStatus(): ReplicaStatusReport {
    if (this.#state === 'new' || !this.#driver.currentEpoch().member) {
      // Before start the core is not restored yet: report the ledger head in view 0.
      const height = this.#o.chain.head().height;
      return {
        view: 0,
        status: 'normal',
        primary: 0,
        lastExecuted: height,
        stableSeq: 0,
        lowWatermark: 0,
        highWatermark: this.#o.genesis.consensus.watermarkWindow,
        transferTarget: undefined,
        pendingTxs: 0,
      };
    }
    return this.#driver.status();
  }

  async #admitForwarded(peerId: string, txs: readonly TxEnvelope[]): Promise<Verdict> {
    const results = await this.#mempool.admitMany(txs, false);
    let fault: TxRejection | undefined;
    for (const r of results) {
      if (r.status !== 'rejected') continue;
      this.#o.metrics.rejectedTxs.inc({ code: r.rejection.code });
      if (fault === undefined && isForwarderFault(r.rejection)) fault = r.rejection;
    }
    if (fault === undefined) return Verdicts.accept();
    this.#o.logger.warn({ peer: peerId, code: fault.code }, 'tx relay: a peer forwarded an invalid tx');
    return Verdicts.reject(`forwarded tx ${fault.code}`);
  }

  /** A block is in the ledger: listeners, mempool, metrics. */
  #onStored(block: BuiltBlock, bySync: boolean): void {
    const now = this.#clock.now();
    const m = this.#o.metrics;
    this.#lastCommitAt = now;
    for (const arrived of this.#mempool.removeCommitted(block.txs))
      m.commitLatency.observe((now - arrived) / 1000);
    m.height.set(block.header.height);
    for (const t of block.txs) m.committedTxs.inc({ type: t.tx.type });
    if (bySync) {
      m.syncedBlocks.inc();
      m.syncedTxs.inc(block.txs.length);
    }
    const event: CommitEvent = {
      height: block.header.height,
      hash: block.hash,
      txHashes: block.txs.map((t) => t.hash),
      time: block.header.time,
      source: bySync ? 'sync' : 'consensus',
    };
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (err) {
        this.#o.logger.error({ err: String(err) }, 'commit listener failed');
      }
    }
  }

  #onPeerEvent(peerId: string, event: 'connected' | 'disconnected'): void {
    this.#o.metrics.peers.set(this.#host.connectedPeers().length);
    if (event !== 'connected' || !this.#peers.isValidator(peerId) || this.#state !== 'started') return;
    // A validator that was away may have missed forwarded txs: send it what is pending here.
    this.#relay.sendTo(peerId, this.#mempool.txs());
    this.#sync.peerConnected();
    this.#sync.pollSoon();
  }

  #sweep(): void {
    const expired = this.#mempool.sweepExpired(this.#clock.now());
    if (expired.length > 0) this.#driver.txRemoved(expired);
  }

  #refreshGauges(): void {
    const m = this.#o.metrics;
    const r = this.#replicaStatus();
    if (r.view > this.#lastView) m.viewChanges.inc(r.view - this.#lastView);
    this.#lastView = r.view;
    m.view.set(r.view);
    m.height.set(this.#o.chain.head().height);
    m.txPool.set(this.#mempool.size);
    m.peers.set(this.#host.connectedPeers().length);
    const sync = this.#sync.progress();
    m.syncing.set(sync.state === 'syncing' ? 1 : 0);
    m.syncTarget.set(sync.targetHeight ?? 0);
    m.syncBlocksPerSecond.set(sync.blocksPerSec ?? 0);
    m.syncTxsPerSecond.set(sync.txsPerSec ?? 0);
  }

  /**
   * The driver started the instance of an epoch (ADR 006): indexes, edge checks and the allowlist follow its
   * set. Validators that left are disconnected; new ones are admitted (and dialed when their addresses are
   * known: the genesis, or the node's peer address overrides).
   */
  #onEpoch(transport: P2PConsensusTransport, e: EpochInfo, self: number | undefined): void {
    const o = this.#o;
    this.#self = self;
    this.#set = e.set;
    this.#epoch = e.epoch;
    this.#peers.update(e.set);
    transport.setEdge({
      chainId: consensusChainId(o.genesis.chainId, e.epoch),
      set: e.set,
      self: self ?? -1,
      verify: verifySignature,
    });
    const known = new Map(o.genesis.validators.map((v) => [v.peerId, v.addrs] as const));
    this.#host.setAllowlist({
      validators: e.set.validators.map((v) => {
        const peerId = peerIdOf(v.publicKey);
        return { peerId, addrs: [...(o.peerAddrs?.[peerId] ?? known.get(peerId) ?? [])] };
      }),
      observers: [...(o.observers ?? [])],
    });
    o.logger.info(
      {
        epoch: e.epoch,
        firstHeight: e.firstHeight,
        validators: e.set.validators.map((v) => v.institution),
        self: self ?? null,
      },
      self === undefined ? 'validator set in force: this node is not in it' : 'validator set in force',
    );
  }

  #countEdgeDrop(reason: EdgeDropReason): void {
    this.#edgeDrops.set(reason, (this.#edgeDrops.get(reason) ?? 0) + 1);
    this.#o.metrics.consensusDrops.inc({ reason });
  }

  /**
   * Two validly signed, different messages from one validator for one slot: proof that it is Byzantine (the
   * core keeps the first and drops the second). Operators must see it, so it is logged, throttled because a
   * faulty validator can send many.
   */
  #reportEquivocation(detail: string): void {
    const now = this.#clock.now();
    if (now - this.#equivocationLoggedAt < EQUIVOCATION_LOG_INTERVAL_MS) {
      this.#equivocationsUnlogged++;
      return;
    }
    this.#o.logger.warn(
      { detail, alsoSinceLastLine: this.#equivocationsUnlogged },
      'consensus: a validator equivocated (signed two different messages for one slot)',
    );
    this.#equivocationLoggedAt = now;
    this.#equivocationsUnlogged = 0;
  }

  #countSyncFault(code: SyncErrorCode): void {
    this.#o.metrics.syncFaults.inc({ code });
  }

  #onFatal(where: string, err: unknown): void {
    this.#fatal ??= `${where}: ${err instanceof Error ? err.message : String(err)}`;
    this.#o.logger.error({ err: String(err), where }, 'validator stopped working; restart the node');
  }
}

function allowlistOf(
  genesis: Genesis,
  peerAddrs: Readonly<Record<string, readonly string[]>> = {},
  observers: readonly string[] = [],
): Allowlist {
  const list = allowlistFromGenesis(genesis, observers);
  return {
    ...list,
    validators: list.validators.map((v) => ({
      peerId: v.peerId,
      addrs: [...(peerAddrs[v.peerId] ?? v.addrs)],
    })),
  };
}

function requestProtocol(protocols: readonly ProtocolConfig[], id: string): RequestProtocolConfig {
  const p = protocols.find((x) => x.id === id);
  if (p?.kind !== 'request')
    throw new ValidatorError(ValidatorErrorCode.config, `protocol ${id} is not configured`);
  return p;
}

function messageProtocol(protocols: readonly ProtocolConfig[], id: string): MessageProtocolConfig {
  const p = protocols.find((x) => x.id === id);
  if (p?.kind !== 'message')
    throw new ValidatorError(ValidatorErrorCode.config, `protocol ${id} is not configured`);
  return p;
}

/** Headroom over a batch's tx bytes for its framing: per-tx length prefixes, header, certificate, signatures. */
function largestBlockBytes(p: ConsensusParams): number {
  return p.maxBatchBytes + 3 * p.maxBatchTxs + 64 * 1024;
}

/** Refuses limits that could never carry the chain's largest batch, or a mempool the core cannot hold. */
function checkLimits(
  params: ConsensusParams,
  protocols: readonly ProtocolConfig[],
  replica: ReplicaOptions,
  mempool: MempoolLimits,
): void {
  const fail = (msg: string) => new ValidatorError(ValidatorErrorCode.config, msg);
  const need = largestBlockBytes(params);
  const consensus = messageProtocol(protocols, ProtocolId.consensus);
  if (consensus.maxFrameBytes < need) {
    throw fail(`consensus frame limit ${consensus.maxFrameBytes} is below the largest PRE-PREPARE (${need})`);
  }
  messageProtocol(protocols, ProtocolId.tx);
  const sync = requestProtocol(protocols, ProtocolId.sync);
  if (sync.maxResponseBytes < need) {
    throw fail(`sync response limit ${sync.maxResponseBytes} is below the largest block (${need})`);
  }
  if (mempool.maxTxs > replica.maxPendingTxs) {
    throw fail(`mempool maxTxs ${mempool.maxTxs} is above the core's maxPendingTxs ${replica.maxPendingTxs}`);
  }
}
