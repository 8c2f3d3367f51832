/**
 * The pure PBFT core. `step(input)` mutates only this object and returns outputs; it never reads a clock,
 * does I/O, sets timers or draws randomness, and iterates only insertion-ordered maps fed by its inputs, so
 * the same inputs always give the same outputs (the simulation depends on it). See docs/protocol.md.
 *
 * The replica routes each input to the part that handles it; each part is fed `now` by the step (effects.ts):
 * - safety: normal-case.ts (PRE-PREPARE/PREPARE/COMMIT acceptance, prepared certificates, execution order),
 *   watermarks.ts (checkpoints, the stable checkpoint, the window), view-changes.ts (what VIEW-CHANGE and
 *   NEW-VIEW carry and when they count), inbox.ts (which view and window a message belongs to), on the state
 *   they share (core-state.ts);
 * - liveness: pacemaker.ts (timers, when to change views), proposer.ts (batching), catch-up.ts (state transfer,
 *   peers' progress, batch fetches), with one timer table (timers.ts).
 */
import type { Batch } from '../core/batch.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import type { Signer } from '../core/crypto.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import { Limits } from '../core/limits.ts';
import { type ConsensusParams, validateConsensusParams } from '../core/params.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';
import type { ChainHead } from '../ledger/chain.ts';
import { CatchUp } from './catch-up.ts';
import { makeQuorumContext, primaryOf, type QuorumContext } from './certificates.ts';
import { CoreState } from './core-state.ts';
import { Effects } from './effects.ts';
import { ConsensusError, ConsensusErrorCode, DropReason, drop } from './errors.ts';
import { Inbox } from './inbox.ts';
import { type CheckpointProof, type ConsensusMessage, MessageLimits } from './messages.ts';
import { NormalCase } from './normal-case.ts';
import { Pacemaker } from './pacemaker.ts';
import { PendingTxs } from './pending.ts';
import type { PersistedState } from './persist.ts';
import { Proposer } from './proposer.ts';
import { TimerTable } from './timers.ts';
import {
  DEFAULT_REPLICA_OPTIONS,
  type Input,
  type Output,
  type ReplicaOptions,
  type ReplicaSizes,
  type ReplicaStatusReport,
  type SignatureVerifier,
} from './types.ts';
import { ViewChanges } from './view-changes.ts';
import { Watermarks } from './watermarks.ts';

export { LONE_VIEW_CHANGE_JOIN } from './pacemaker.ts';

export interface ReplicaConfig {
  chainId: string;
  validators: ValidatorSet;
  /** This replica's validator index. */
  self: number;
  params: ConsensusParams;
  /** Header hash of the genesis (the chain head at height 0). */
  genesisHash: Uint8Array;
  /**
   * Where this instance starts when it is not the genesis epoch (ADR 006): the last block of the previous
   * epoch and its header hash, this epoch's stable checkpoint without signatures. Default: (0, genesisHash).
   */
  base?: { seq: number; headerHash: Uint8Array } | undefined;
  signer: Signer;
  verify: SignatureVerifier;
  /** The chain's suite (ADR 014), whose hash makes batch digests. Default: Ed25519/SHA-256. */
  suite?: CryptoSuite | undefined;
  options?: Partial<ReplicaOptions>;
}

const EMPTY_STATE: PersistedState = {
  view: undefined,
  guard: undefined,
  stable: undefined,
  viewChange: undefined,
  newView: undefined,
  votes: new Map(),
  entries: new Map(),
  executed: new Map(),
  batches: new Map(),
};

export class Replica {
  private readonly fx = new Effects();
  private readonly timers = new TimerTable(this.fx);
  private readonly pending = new PendingTxs();
  private readonly state: CoreState;
  private readonly inbox: Inbox;
  private readonly catchUp: CatchUp;
  private readonly watermarks: Watermarks;
  private readonly normal: NormalCase;
  private readonly proposer: Proposer;
  private readonly views: ViewChanges;
  private readonly pacemaker: Pacemaker;

  private constructor(config: ReplicaConfig, head: ChainHead, persisted: PersistedState) {
    validateConfig(config);
    const ctx = makeQuorumContext(
      config.chainId,
      config.validators,
      config.params.checkpointInterval,
      config.params.watermarkWindow,
      config.base?.headerHash ?? config.genesisHash,
      config.verify,
      config.base?.seq ?? 0,
      config.suite,
    );
    if (head.height < ctx.baseSeq) {
      throw new ConsensusError(
        ConsensusErrorCode.config,
        `the head ${head.height} is below this epoch's base ${ctx.baseSeq}`,
      );
    }
    const opts: ReplicaOptions = { ...DEFAULT_REPLICA_OPTIONS, ...config.options };
    const state = new CoreState({
      ctx,
      self: config.self,
      params: config.params,
      signer: config.signer,
      fx: this.fx,
      onTxIndex: (hashHex, indexed) => this.pending.setInFlight(hashHex, indexed),
      state: persisted,
      head,
    });
    this.state = state;
    // Parts are built in dependency order. The few calls back to a part built later go through hooks, which
    // run only inside step(), when every part exists.
    this.inbox = new Inbox(state, {
      higherView: (m) => this.pacemaker.noteHigherView(m),
      deliver: (m) => this.onMessage(m),
    });
    this.catchUp = new CatchUp(state, this.timers, opts, {
      adoptStable: (proof) => this.watermarks.adoptStable(proof),
      startViewChange: (view) => this.pacemaker.startViewChange(view),
    });
    this.watermarks = new Watermarks(state, this.inbox, this.catchUp);
    this.normal = new NormalCase(state, this.inbox, this.watermarks, this.catchUp, {
      txsCommitted: (hashHexes) => this.pacemaker.txsCommitted(hashHexes),
      blockCommitted: () => this.pacemaker.blockCommitted(),
    });
    this.proposer = new Proposer(state, this.pending, this.timers, opts, this.normal, this.catchUp);
    this.views = new ViewChanges(state, this.inbox, this.watermarks, this.normal, this.catchUp);
    this.views.restore(persisted);
    this.pacemaker = new Pacemaker(state, this.pending, this.timers, this.views, this.catchUp, this.proposer);
  }

  /** A replica with no persisted consensus state (first start). */
  static create(config: ReplicaConfig, head: ChainHead): Replica {
    return new Replica(config, head, EMPTY_STATE);
  }

  /** A replica restarted from its persisted records (`readPersisted`) and the ledger's head. */
  static restore(config: ReplicaConfig, state: PersistedState, head: ChainHead): Replica {
    return new Replica(config, head, state);
  }

  // ---- public API ----------------------------------------------------------------------------------------

  step(input: Input): Output[] {
    this.fx.begin(input.now);
    this.fx.guarded(() => this.dispatch(input));
    this.inbox.replayIfWindowMoved();
    this.proposer.maybePropose(false);
    return this.fx.finish();
  }

  status(): ReplicaStatusReport {
    const s = this.state;
    return {
      view: s.view,
      status: s.mode,
      primary: primaryOf(s.ctx, s.view),
      lastExecuted: s.lastExecuted,
      stableSeq: s.checkpoints.low,
      lowWatermark: s.checkpoints.low,
      highWatermark: s.checkpoints.high,
      transferTarget: this.catchUp.target?.seq,
      pendingTxs: this.pending.size,
      suspicions: { ...this.pacemaker.suspicions },
    };
  }

  sizes(): ReplicaSizes {
    const s = this.state;
    return {
      logEntries: s.log.size,
      checkpointVotes: s.checkpoints.size,
      pendingTxs: this.pending.size,
      inFlightTxs: s.log.inFlightTxs,
      buffered: this.inbox.size,
      viewChanges: this.views.size,
      executedHashes: s.executed.size,
      guardEntries: s.guard.size,
    };
  }

  /** Chain id (of this epoch), set, quorum and base: what this instance checks proofs against. */
  quorumContext(): QuorumContext {
    return this.state.ctx;
  }

  /** The txs waiting to be committed, in arrival order: handed to the next epoch's instance (ADR 006). */
  pendingTxs(): TxEnvelope[] {
    return this.pending.envelopes();
  }

  /** The body of batch `digest` if this replica holds it (to answer peers' fetches). */
  batchFor(digest: Uint8Array): Batch | undefined {
    return this.state.log.findBody(toHex(digest));
  }

  /** The stable checkpoint and its proof. */
  stableCheckpoint(): CheckpointProof {
    return this.state.checkpoints.stable;
  }

  // ---- dispatch ------------------------------------------------------------------------------------------

  private dispatch(input: Input): void {
    switch (input.type) {
      case 'start':
        this.onStart();
        return;
      case 'message':
        this.state.edgeVerified = input.verified ? input.message : undefined;
        try {
          this.onMessage(input.message);
        } finally {
          this.state.edgeVerified = undefined;
        }
        return;
      case 'timeout':
        this.pacemaker.onTimeout(input.kind, input.view);
        return;
      case 'txArrived':
        this.pacemaker.requestArrived(this.proposer.admit(input.tx));
        return;
      case 'txRemoved':
        for (const h of input.hashes) this.pending.remove(toHex(h));
        return;
      case 'blockBuilt':
        this.normal.onBlockBuilt(input.seq, input.digest, input.headerHash);
        return;
      case 'batchFetched':
        this.catchUp.onBatchFetched(input.batch);
        this.normal.tryExecute();
        return;
      case 'stateTransferred':
        this.normal.onStateTransferred(input.seq, input.headerHash, input.blocks);
        return;
      case 'transferStalled':
        this.catchUp.onTransferStalled(input.seq);
        this.normal.tryExecute();
        return;
      case 'peerProgress':
        this.catchUp.onPeerProgress(input.checkpoint, input.head);
        return;
    }
  }

  private onStart(): void {
    const s = this.state;
    const stable = s.checkpoints.stable;
    if (stable.seq > s.lastExecuted)
      this.catchUp.requestTransfer({ seq: stable.seq, headerHash: stable.headerHash });
    if (s.mode === 'viewChange') this.pacemaker.resumeViewChange();
    else this.normal.resume();
  }

  private onMessage(m: ConsensusMessage): void {
    const ctx = this.state.ctx;
    if (m.chainId !== ctx.chainId) throw drop(DropReason.wrongChain, `message for chain ${m.chainId}`);
    if (m.from >= ctx.n) throw drop(DropReason.unknownSender, `sender ${m.from} of ${ctx.n}`);
    if (m.from === this.state.self) throw drop(DropReason.fromSelf, `${m.type} from this replica`);
    switch (m.type) {
      case 'prePrepare':
        this.normal.onPrePrepare(m);
        return;
      case 'prepare':
        this.normal.onPrepare(m);
        return;
      case 'commit':
        this.normal.onCommit(m);
        return;
      case 'checkpoint':
        this.watermarks.onCheckpoint(m);
        return;
      case 'viewChange':
        this.pacemaker.onViewChange(m);
        return;
      case 'newView':
        this.pacemaker.onNewView(m);
        return;
    }
  }
}

function validateConfig(c: ReplicaConfig): void {
  const fail = (msg: string) => new ConsensusError(ConsensusErrorCode.config, msg);
  validateConsensusParams(c.params);
  const n = c.validators.validators.length;
  if (!Number.isInteger(c.self) || c.self < 0 || c.self >= n)
    throw fail(`self ${c.self} is not a validator index`);
  if (!equalBytes(c.validators.validators[c.self]!.publicKey, c.signer.publicKey)) {
    throw fail('the signer key is not the key of validator self');
  }
  if (c.params.watermarkWindow > MessageLimits.preparedCertificates) {
    throw fail(`watermarkWindow above ${MessageLimits.preparedCertificates}`);
  }
  if (c.params.maxBatchBytes < Limits.txBytes)
    throw fail(`maxBatchBytes below one maximal tx (${Limits.txBytes})`);
  const inFlight = c.options?.maxBatchesInFlight;
  if (inFlight !== undefined && !(Number.isSafeInteger(inFlight) && inFlight >= 1))
    throw fail('options.maxBatchesInFlight must be a positive integer');
}
