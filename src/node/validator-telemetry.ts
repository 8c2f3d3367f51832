/**
 * The validator's telemetry: counters and logs of what happened (drops, faults, equivocations, a fatal error),
 * the commit feed that every stored block goes through, the periodic gauges, and the status report. It only
 * reads the other components (through TelemetrySources) and writes metrics and logs.
 */
import type { ConsensusDriver } from '../consensus/driver.ts';
import { DropReason } from '../consensus/errors.ts';
import type { Clock } from '../consensus/interfaces.ts';
import type { ReplicaStatusReport, Suspicions } from '../consensus/types.ts';
import type { Genesis } from '../core/genesis.ts';
import { quorumSize, type ValidatorSet } from '../core/validators.ts';
import type { BuiltBlock, Chain } from '../ledger/chain.ts';
import type { Logger, P2PHost } from '../p2p/index.ts';
import type { Mempool } from './mempool.ts';
import type { NodeMetrics } from './metrics.ts';
import type { EdgeDropReason } from './net/consensus-transport.ts';
import type { SyncErrorCode } from './net/errors.ts';
import type { StateSyncClient } from './net/state-sync.ts';
import type { ResolverStats, TxResolver } from './net/tx-resolver.ts';
import type { ValidatorPeers } from './net/validator-peers.ts';

export interface CommitEvent {
  height: number;
  hash: Uint8Array;
  txHashes: Uint8Array[];
  /** Block time, epoch ms. */
  time: number;
  /** How this node got the block: it took part in committing it, or fetched it by state sync. */
  source: 'consensus' | 'sync';
}

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
  /**
   * Compact PRE-PREPAREs (their txs named by hash) filled in since start, how many needed a fetch from the
   * primary, and how many txs were fetched; the rest came from this node's mempool.
   */
  prePrepareTxs: ResolverStats;
  /** Request timeouts that made the replica suspect the primary, by cause. */
  suspicions: Suspicions;
  /** Set when consensus or sync stopped on an error of this node (the node must be restarted). */
  fatal?: string;
}

/** What the status report and the gauges read. */
export interface TelemetrySources {
  readonly genesis: Genesis;
  readonly chain: Pick<Chain, 'head'>;
  readonly host: P2PHost;
  readonly peers: ValidatorPeers;
  readonly sync: StateSyncClient;
  readonly mempool: Mempool;
  readonly resolver: Pick<TxResolver, 'stats'>;
  readonly driver: ConsensusDriver;
  /** The set in force for the running instance and this node's index in it (undefined: outside it). */
  readonly membership: { readonly set: ValidatorSet; readonly self: number | undefined };
}

/** At most one equivocation log line per this interval; the others are counted in the next line. */
const EQUIVOCATION_LOG_INTERVAL_MS = 1000;

type StoredListener = (block: BuiltBlock, source: CommitEvent['source']) => void;

export class ValidatorTelemetry {
  readonly #metrics: NodeMetrics;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #stored: StoredListener[] = [];
  readonly #listeners = new Set<(c: CommitEvent) => void>();
  readonly #edgeDrops = new Map<string, number>();
  #lastCommitAt: number | undefined;
  #lastView = 0;
  #fatal: string | undefined;
  #equivocationLoggedAt = Number.NEGATIVE_INFINITY;
  #equivocationsUnlogged = 0;

  constructor(metrics: NodeMetrics, logger: Logger, clock: Clock) {
    this.#metrics = metrics;
    this.#logger = logger;
    this.#clock = clock;
  }

  get metrics(): NodeMetrics {
    return this.#metrics;
  }

  /** A component that must see every stored block before the commit listeners do (the mempool). */
  onStored(listener: StoredListener): void {
    this.#stored.push(listener);
  }

  /** Calls `listener` after every block this node stores, by consensus or by sync; returns the unsubscriber. */
  onCommit(listener: (c: CommitEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** A block is in the ledger: components, metrics, then listeners (a failing listener is logged). */
  stored(block: BuiltBlock, source: CommitEvent['source']): void {
    const m = this.#metrics;
    this.#lastCommitAt = this.#clock.now();
    for (const l of this.#stored) l(block, source);
    m.height.set(block.header.height);
    for (const t of block.txs) m.committedTxs.inc({ type: t.tx.type });
    if (source === 'sync') {
      m.syncedBlocks.inc();
      m.syncedTxs.inc(block.txs.length);
    }
    const event: CommitEvent = {
      height: block.header.height,
      hash: block.hash,
      txHashes: block.txs.map((t) => t.hash),
      time: block.header.time,
      source,
    };
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (err) {
        this.#logger.error({ err: String(err) }, 'commit listener failed');
      }
    }
  }

  rejected(code: string): void {
    this.#metrics.rejectedTxs.inc({ code });
  }

  edgeDrop(reason: EdgeDropReason): void {
    this.#edgeDrops.set(reason, (this.#edgeDrops.get(reason) ?? 0) + 1);
    this.#metrics.consensusDrops.inc({ reason });
  }

  coreDrop(reason: DropReason, detail: string): void {
    this.#metrics.consensusDrops.inc({ reason });
    if (reason === DropReason.equivocation) this.#reportEquivocation(detail);
  }

  syncFault(code: SyncErrorCode): void {
    this.#metrics.syncFaults.inc({ code });
  }

  fatal(where: string, err: unknown): void {
    this.#fatal ??= `${where}: ${err instanceof Error ? err.message : String(err)}`;
    this.#logger.error({ err: String(err), where }, 'validator stopped working; restart the node');
  }

  refreshGauges(s: TelemetrySources): void {
    const m = this.#metrics;
    const r = replicaStatus(s, true);
    if (r.view > this.#lastView) m.viewChanges.inc(r.view - this.#lastView);
    this.#lastView = r.view;
    m.view.set(r.view);
    m.height.set(s.chain.head().height);
    m.txPool.set(s.mempool.size);
    m.peers.set(s.host.connectedPeers().length);
    const sync = s.sync.progress();
    m.syncing.set(sync.state === 'syncing' ? 1 : 0);
    m.syncTarget.set(sync.targetHeight ?? 0);
    m.syncBlocksPerSecond.set(sync.blocksPerSec ?? 0);
    m.syncTxsPerSecond.set(sync.txsPerSec ?? 0);
  }

  /** The status report; `started`: the core is restored and running (before that: the ledger head, view 0). */
  status(s: TelemetrySources, started: boolean): ValidatorStatus {
    const r = replicaStatus(s, started);
    const head = s.chain.head();
    const peers = peerInfos(s);
    const drops: Record<string, number> = Object.fromEntries(this.#edgeDrops);
    for (const [reason, n] of s.driver.drops()) drops[reason] = (drops[reason] ?? 0) + n;
    const { set } = s.membership;
    const status: ValidatorStatus = {
      chainId: s.genesis.chainId,
      height: head.height,
      headHash: Buffer.from(head.hash).toString('hex'),
      view: r.view,
      primary: r.primary,
      primaryInstitution: set.validators[r.primary]?.institution ?? '',
      isPrimary: isPrimary(s, started),
      consensus: r.status,
      stableCheckpoint: r.stableSeq,
      highWatermark: r.highWatermark,
      peers,
      connectedValidators: 1 + peers.filter((p) => p.connected && p.role === 'validator').length,
      quorum: quorumSize(set.validators.length),
      pendingTxs: s.mempool.size,
      sync: s.sync.progress(),
      drops,
      prePrepareTxs: s.resolver.stats(),
      suspicions: r.suspicions,
    };
    if (this.#lastCommitAt !== undefined) status.lastCommitAt = this.#lastCommitAt;
    if (this.#fatal !== undefined) status.fatal = this.#fatal;
    return status;
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
    this.#logger.warn(
      { detail, alsoSinceLastLine: this.#equivocationsUnlogged },
      'consensus: a validator equivocated (signed two different messages for one slot)',
    );
    this.#equivocationLoggedAt = now;
    this.#equivocationsUnlogged = 0;
  }
}

/** Whether this validator is the primary of its current view, in the normal case (false until started). */
export function isPrimary(s: TelemetrySources, started: boolean): boolean {
  if (!started || !s.driver.currentEpoch().member) return false;
  const r = s.driver.status();
  return r.status === 'normal' && r.primary === s.membership.self;
}

function replicaStatus(s: TelemetrySources, started: boolean): ReplicaStatusReport {
  if (started && s.driver.currentEpoch().member) return s.driver.status();
  // Before start the core is not restored yet, and outside the set there is none: the ledger head in view 0.
  return {
    view: 0,
    status: 'normal',
    primary: 0,
    lastExecuted: s.chain.head().height,
    stableSeq: 0,
    lowWatermark: 0,
    highWatermark: s.genesis.consensus.watermarkWindow,
    transferTarget: undefined,
    pendingTxs: 0,
    suspicions: { stall: 0, censorship: 0 },
  };
}

function peerInfos(s: TelemetrySources): PeerInfo[] {
  return s.host.peers().map((p) => {
    const info: PeerInfo = {
      peerId: p.peerId,
      connected: p.connected,
      score: p.score,
      queuedFrames: p.queuedFrames,
      queuedBytes: p.queuedBytes,
    };
    const institution = s.peers.institutionOf(p.peerId);
    if (institution !== undefined) info.institution = institution;
    if (p.role !== undefined) info.role = p.role;
    if (p.bannedUntil !== undefined) info.bannedUntil = p.bannedUntil;
    if (p.lastSeen !== undefined) info.lastSeen = p.lastSeen;
    const height = s.sync.knownHeight(p.peerId);
    if (height !== undefined) info.height = height;
    return info;
  });
}
