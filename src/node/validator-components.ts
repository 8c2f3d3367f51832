/**
 * The validator's component factory (libp2p style: settings first, components later). It builds the
 * components in dependency order, each from the settings and the components built before it:
 *
 *   host, peers, telemetry ─► consensus transport ─► membership ─► driver ─► state sync, batch fetcher
 *   ─► tx relay ─► mempool ─► sync server
 *
 * The flows that point backwards in that order are registrations on an earlier component, made as soon as
 * the later one exists: the transport and the relay hand inbound frames to the driver and the mempool
 * (`attach`, `serve`), the mempool sees stored blocks through the telemetry's commit feed, and the driver
 * reaches state sync and the fetcher through a SyncLink connected right after they are built. Nothing runs
 * until ValidatorService.start().
 */
import { makeQuorumContext } from '../consensus/certificates.ts';
import { ConsensusDriver } from '../consensus/driver.ts';
import { DropReason } from '../consensus/errors.ts';
import type { BatchFetcher, EpochInfo, EpochSource, StateSync } from '../consensus/interfaces.ts';
import { LedgerConsensusStore } from '../consensus/ledger-store.ts';
import { SystemTimers } from '../core/clock.ts';
import { InvariantError } from '../core/errors.ts';
import { genesisSuite, genesisValidatorSet } from '../core/genesis.ts';
import { type PeerKeyLookup, validatorPeerId } from '../core/keys.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { consensusChainId, type ValidatorSet } from '../core/validators.ts';
import type { TxRejection } from '../ledger/chain.ts';
import { createP2PHost, type P2PHost, ProtocolId, type Verdict, Verdicts } from '../p2p/index.ts';
import { isForwarderFault, Mempool } from './mempool.ts';
import { P2PBatchFetcher } from './net/batch-fetcher.ts';
import { P2PConsensusTransport } from './net/consensus-transport.ts';
import { StateSyncClient } from './net/state-sync.ts';
import { SyncServer } from './net/sync-server.ts';
import { TxRelay } from './net/tx-relay.ts';
import { TxResolver } from './net/tx-resolver.ts';
import { ValidatorPeers } from './net/validator-peers.ts';
import type { ValidatorServiceOptions, ValidatorSettings } from './validator-settings.ts';
import { type TelemetrySources, ValidatorTelemetry } from './validator-telemetry.ts';

export interface ValidatorComponents extends TelemetrySources {
  readonly settings: ValidatorSettings;
  readonly membership: Membership;
  readonly telemetry: ValidatorTelemetry;
  readonly fetcher: P2PBatchFetcher;
  readonly relay: TxRelay;
}

/**
 * The set in force for the running consensus instance, and what follows it (ADR 006): on each epoch the
 * driver starts, the validator indexes, the edge checks and the host's allowlist take its set. Validators
 * that left are disconnected; new ones are admitted (and dialed when their addresses are known: the genesis,
 * or the node's peer address overrides).
 */
export class Membership {
  readonly #o: ValidatorServiceOptions;
  readonly #genesisHash: Uint8Array;
  readonly #host: P2PHost;
  readonly #peers: ValidatorPeers;
  readonly #transport: P2PConsensusTransport;
  #set: ValidatorSet;
  #self: number | undefined;

  constructor(s: ValidatorSettings, host: P2PHost, peers: ValidatorPeers, transport: P2PConsensusTransport) {
    this.#o = s.options;
    this.#genesisHash = s.genesisHash;
    this.#host = host;
    this.#peers = peers;
    this.#transport = transport;
    this.#set = genesisValidatorSet(s.options.genesis);
    this.#self = s.self;
  }

  get set(): ValidatorSet {
    return this.#set;
  }

  /** This validator's index in the set in force; undefined while outside it (joining or removed). */
  get self(): number | undefined {
    return this.#self;
  }

  enter(e: EpochInfo, self: number | undefined): void {
    const o = this.#o;
    this.#set = e.set;
    this.#self = self;
    this.#peers.update(e.set);
    this.#transport.setEdge({
      chainId: consensusChainId(o.genesis.chainId, this.#genesisHash, e.epoch),
      set: e.set,
      self: self ?? -1,
      verify: genesisSuite(o.genesis).verify,
      suite: genesisSuite(o.genesis),
    });
    const known = new Map(o.genesis.validators.map((v) => [v.peerId, v.addrs] as const));
    this.#host.setAllowlist({
      validators: e.set.validators.flatMap((v) => {
        const peerId = validatorPeerId(v.publicKey, o.genesis, governancePeerKeys(o));
        if (peerId === undefined) return [];
        return [{ peerId, addrs: [...(o.peerAddrs?.[peerId] ?? known.get(peerId) ?? [])] }];
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
}

/**
 * The driver asks state sync and the batch fetcher for work, and they feed it the results: a cycle. The
 * driver is built with this link as its StateSync and BatchFetcher; sync and the fetcher are built with the
 * driver, then connected here. The driver asks for nothing before start(), so a request before connect() is
 * a wiring bug.
 */
class SyncLink implements StateSync, BatchFetcher {
  #to: { readonly sync: StateSyncClient; readonly fetcher: P2PBatchFetcher } | undefined;

  connect(sync: StateSyncClient, fetcher: P2PBatchFetcher): void {
    this.#to = { sync, fetcher };
  }

  requestTransfer(targetSeq: number, headerHash: Uint8Array): void {
    this.#target().sync.requestTransfer(targetSeq, headerHash);
  }

  fetch(seq: number, digest: Uint8Array): void {
    this.#target().fetcher.fetch(seq, digest);
  }

  /** A peer is ahead (a message above the window): ask the peers where the chain is. */
  pollSoon(): void {
    this.#target().sync.pollSoon();
  }

  #target(): { readonly sync: StateSyncClient; readonly fetcher: P2PBatchFetcher } {
    if (this.#to === undefined) throw new InvariantError('the driver used state sync before it was wired');
    return this.#to;
  }
}

/**
 * Peer keys of SM2 validators governance added or rotated (ADR 014), from the registry at the head. The map
 * only grows and is keyed by validator keys, which are never reused, so the head answers for every epoch.
 */
function governancePeerKeys(o: ValidatorServiceOptions): PeerKeyLookup {
  return (publicKey) => o.chain.governance.peerKeyOf(publicKey);
}

/** Builds every component of a validator from its settings; nothing runs until start. */
export function buildComponents(s: ValidatorSettings): ValidatorComponents {
  const o = s.options;
  const telemetry = new ValidatorTelemetry(o.metrics, o.logger, s.clock);
  const peers = new ValidatorPeers(o.genesis, governancePeerKeys(o));
  const host = createP2PHost(
    {
      seed: o.key.seed,
      listen: o.listen,
      allowlist: s.allowlist,
      protocols: s.protocols,
      ...(o.limits?.host === undefined ? {} : { limits: o.limits.host }),
    },
    { logger: o.logger, metrics: o.metrics, clock: s.clock },
  );
  const transport = new P2PConsensusTransport({
    host,
    peers,
    edge: {
      chainId: o.genesis.chainId,
      set: genesisValidatorSet(o.genesis),
      self: s.self ?? -1,
      verify: genesisSuite(o.genesis).verify,
      suite: genesisSuite(o.genesis),
    },
    logger: o.logger,
    onDrop: (reason) => telemetry.edgeDrop(reason),
  });
  const membership = new Membership(s, host, peers, transport);
  const link = new SyncLink();
  const driver = buildDriver(s, { telemetry, transport, membership, link });
  transport.attach(driver);
  const { sync, fetcher } = buildSync(s, { host, peers, telemetry, driver });
  link.connect(sync, fetcher);
  const relay = new TxRelay(
    {
      host,
      isValidator: (p) => peers.isValidator(p),
      isObserver: (p) => !peers.isValidator(p) && host.roleOf(p) === 'observer',
      logger: o.logger,
      suite: genesisSuite(o.genesis),
    },
    s.txRelay,
  );
  const mempool = new Mempool(
    {
      chain: o.chain,
      isCommitted: async (hash) => (await o.store.tx(hash)) !== undefined,
      now: () => s.clock.now(),
      onAdmitted: (admitted) => {
        driver.txsArrived(admitted.map((a) => a.env));
        for (const a of admitted) if (a.local) relay.forward(a.env);
      },
    },
    s.mempool,
  );
  const resolver = new TxResolver({
    host,
    lookup: (hex) => mempool.get(hex),
    requestTimeoutMs: s.sync.requestTimeoutMs,
    suite: genesisSuite(o.genesis),
  });
  transport.resolveWith(resolver, () => relay.flush());
  // An observer's txs count as submitted here, so they are forwarded once to the other validators.
  relay.serve((peerId, txs) =>
    admitForwarded(mempool, telemetry, s, peerId, txs, !peers.isValidator(peerId)),
  );
  telemetry.onStored((block) => {
    const now = s.clock.now();
    for (const arrived of mempool.removeCommitted(block.txs))
      o.metrics.commitLatency.observe((now - arrived) / 1000);
  });
  serveSync(s, host, driver);
  const { genesis, chain } = o;
  return {
    settings: s,
    genesis,
    chain,
    host,
    peers,
    telemetry,
    membership,
    driver,
    sync,
    fetcher,
    relay,
    mempool,
    resolver,
  };
}

function serveSync(s: ValidatorSettings, host: P2PHost, driver: ConsensusDriver): void {
  const server = new SyncServer({
    store: s.options.store,
    // With no instance (outside the set, suspended for sync, not started yet): the genesis checkpoint, which
    // peers ignore as too low.
    stable: () =>
      driver.currentEpoch().member
        ? driver.stableCheckpoint()
        : { seq: 0, headerHash: s.genesisHash, signatures: [] },
    batchFor: (digest) => driver.batchFor(digest),
    maxResponseBytes: s.syncResponseBytes,
  });
  host.onRequest(ProtocolId.sync, (_peerId, request, signal) => server.handle(request, signal));
}

function buildDriver(
  s: ValidatorSettings,
  c: {
    telemetry: ValidatorTelemetry;
    transport: P2PConsensusTransport;
    membership: Membership;
    link: SyncLink;
  },
): ConsensusDriver {
  const o = s.options;
  return new ConsensusDriver({
    config: {
      chainId: o.genesis.chainId,
      genesisHash: s.genesisHash,
      signer: o.key.signer,
      suite: genesisSuite(o.genesis),
      options: s.replica,
    },
    transport: c.transport,
    clock: s.clock,
    timers: new SystemTimers(),
    store: new LedgerConsensusStore(o.store.consensus),
    chain: o.chain,
    sync: c.link,
    fetcher: c.link,
    events: {
      onDrop: (reason, detail) => {
        c.telemetry.coreDrop(reason, detail);
        // A message above the window: its sender is ahead, so ask the peers where the chain is.
        if (reason === DropReason.aboveWindow) c.link.pollSoon();
      },
      onCommit: (_seq, _hash, block) => c.telemetry.stored(block, 'consensus'),
      onFatal: (err) => c.telemetry.fatal('consensus', err),
      onEpoch: (epoch, index) => c.membership.enter(epoch, index),
    },
    epochs: epochSource(s),
  });
}

/** The ledger's epochs; an epoch's base is the header hash of the block before it (the genesis for 0). */
function epochSource(s: ValidatorSettings): EpochSource {
  const { chain, store } = s.options;
  return {
    epochAt: (height) => chain.epochAt(height),
    headerHash: async (height) => {
      if (height === 0) return s.genesisHash;
      const block = await store.block(height);
      if (block === undefined) throw new InvariantError(`block ${height} of an epoch boundary is missing`);
      return block.hash;
    },
  };
}

function buildSync(
  s: ValidatorSettings,
  c: { host: P2PHost; peers: ValidatorPeers; telemetry: ValidatorTelemetry; driver: ConsensusDriver },
): { sync: StateSyncClient; fetcher: P2PBatchFetcher } {
  const { genesis, chain, logger } = s.options;
  const { driver, telemetry } = c;
  const sync = new StateSyncClient(
    {
      host: c.host,
      peers: c.peers,
      chain,
      quorum: makeQuorumContext(
        genesis.chainId,
        genesisValidatorSet(genesis),
        genesis.consensus.checkpointInterval,
        genesis.consensus.watermarkWindow,
        s.genesisHash,
        genesisSuite(genesis).verify,
        0,
        genesisSuite(genesis),
      ),
      consensus: {
        transferred: (seq, hash, blocks) => driver.stateTransferred(seq, hash, blocks),
        peerProgress: (checkpoint, head) => driver.peerProgress(checkpoint, head),
        stalled: (head) => driver.transferStalled(head),
        stableSeq: () => (driver.currentEpoch().member ? driver.status().stableSeq : 0),
        view: () => (driver.currentEpoch().member ? driver.status().view : Number.POSITIVE_INFINITY),
      },
      epochs: {
        setAt: (height) => chain.validatorSetAt(height),
        quorum: () => driver.quorumContext(),
        suspend: () => driver.suspend(),
      },
      onStored: (block) => telemetry.stored(block, 'sync'),
      onFault: (code) => telemetry.syncFault(code),
      onFatal: (err) => telemetry.fatal('sync', err),
      now: () => s.clock.now(),
      logger,
    },
    s.sync,
  );
  const fetcher = new P2PBatchFetcher({
    host: c.host,
    peers: c.peers,
    deliver: (batch) => driver.batchFetched(batch),
    onFault: (code) => telemetry.syncFault(code),
    requestTimeoutMs: s.sync.requestTimeoutMs,
    random: Math.random,
    logger,
    suite: genesisSuite(genesis),
  });
  return { sync, fetcher };
}

/** Admits txs a validator forwarded; an invalid one that the sender should have refused is its fault. */
async function admitForwarded(
  mempool: Mempool,
  telemetry: ValidatorTelemetry,
  s: ValidatorSettings,
  peerId: string,
  txs: readonly TxEnvelope[],
  fromObserver: boolean,
): Promise<Verdict> {
  const results = await mempool.admitMany(txs, fromObserver);
  let fault: TxRejection | undefined;
  for (const r of results) {
    if (r.status !== 'rejected') continue;
    telemetry.rejected(r.rejection.code);
    if (fault === undefined && isForwarderFault(r.rejection)) fault = r.rejection;
  }
  if (fault === undefined) return Verdicts.accept();
  s.options.logger.warn({ peer: peerId, code: fault.code }, 'tx relay: a peer forwarded an invalid tx');
  return Verdicts.reject(`forwarded tx ${fault.code}`);
}
