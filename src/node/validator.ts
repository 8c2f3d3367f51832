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
 * Settings are resolved first (validator-settings.ts), the components built from them next
 * (validator-components.ts), and telemetry reports on them (validator-telemetry.ts); the service only
 * starts, stops, submits and reports. A service is started once and stopped once.
 */
import type { TxEnvelope } from '../core/tx.ts';
import { type Admission, MempoolRejection } from './mempool.ts';
import { buildComponents, type ValidatorComponents } from './validator-components.ts';
import {
  resolveSettings,
  ValidatorError,
  ValidatorErrorCode,
  type ValidatorServiceOptions,
} from './validator-settings.ts';
import { type CommitEvent, isPrimary, type ValidatorStatus } from './validator-telemetry.ts';

export {
  ValidatorError,
  ValidatorErrorCode,
  ValidatorErrorExit,
  type ValidatorLimits,
  type ValidatorServiceOptions,
} from './validator-settings.ts';
export type { CommitEvent, PeerInfo, ValidatorStatus } from './validator-telemetry.ts';

export type SubmitResult = Admission;

/**
 * A tx submitted to a node outside the validator set in force (an observer) while it reaches no validator to
 * relay it to (HTTP 503: retry later or on another node).
 */
export const NO_VALIDATOR_REACHABLE = 'NO_VALIDATOR_REACHABLE';

const GAUGE_INTERVAL_MS = 1000;

export class ValidatorService {
  readonly #c: ValidatorComponents;
  #timers: ReturnType<typeof setInterval>[] = [];
  #state: 'new' | 'started' | 'stopped' = 'new';
  #stopping: Promise<void> | undefined;

  private constructor(components: ValidatorComponents) {
    this.#c = components;
    components.host.onPeerEvent((peerId, event) => this.#onPeerEvent(peerId, event));
  }

  /**
   * Checks the settings and builds the service (nothing runs until start()). A key outside the set in force
   * (ADR 006: a validator being added, or one removed or rotated out) follows the chain until a set that holds
   * it is in force.
   */
  static async create(opts: ValidatorServiceOptions): Promise<ValidatorService> {
    const settings = resolveSettings(opts);
    if (settings.self === undefined) {
      opts.logger.warn(
        { institution: opts.institution, height: opts.chain.head().height },
        'this key is not in the validator set in force: following the chain until governance adds it',
      );
    }
    return new ValidatorService(buildComponents(settings));
  }

  /** Starts consensus (restored from the store and ledger), then the p2p host, then sync and the sweeps. */
  async start(): Promise<void> {
    if (this.#state !== 'new')
      throw new ValidatorError(ValidatorErrorCode.lifecycle, `service is ${this.#state}`);
    this.#state = 'started';
    const c = this.#c;
    // The driver first: the host may deliver messages as soon as it starts.
    await c.driver.start();
    await c.host.start();
    c.sync.start();
    this.#timers = [
      setInterval(() => this.#sweep(), c.settings.sweepIntervalMs),
      setInterval(() => c.telemetry.refreshGauges(c), GAUGE_INTERVAL_MS),
    ];
    for (const t of this.#timers) t.unref();
    c.settings.options.logger.info(
      { institution: c.settings.options.institution, validator: c.membership.self, addrs: this.p2pAddrs() },
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
    const c = this.#c;
    const wasStarted = this.#state === 'started';
    this.#state = 'stopped';
    c.mempool.close();
    for (const t of this.#timers.splice(0)) clearInterval(t);
    if (!wasStarted) return;
    c.relay.stop();
    c.fetcher.stop();
    await c.sync.stop();
    await c.driver.stop();
    await c.host.stop();
    c.settings.options.logger.info({ institution: c.settings.options.institution }, 'validator stopped');
  }

  /**
   * Admits a tx and forwards it to the other validators. `committed`: it is already in a block (safe to
   * retry); `pending`: already admitted here; `rejected`: with the executor's or the mempool's code. A node
   * outside the set in force (an observer, or a validator joining or removed: ADR 006) checks the tx the same
   * way and relays it to the validators it reaches, which take it as submitted to them.
   */
  async submit(env: TxEnvelope): Promise<SubmitResult> {
    return (await this.submitMany([env]))[0]!;
  }

  /** Admits several txs in one round (see submit); outcomes in input order. */
  async submitMany(envs: readonly TxEnvelope[]): Promise<SubmitResult[]> {
    if (this.#state === 'new') return envs.map(notStarted);
    if (!this.#c.driver.currentEpoch().member && !this.#reachesValidator()) {
      // Acknowledging a tx nobody will propose would leave the client waiting for nothing.
      return envs.map(noValidator);
    }
    const results = await this.#c.mempool.admitMany(envs, true);
    for (const r of results) if (r.status === 'rejected') this.#c.telemetry.rejected(r.rejection.code);
    return results;
  }

  #reachesValidator(): boolean {
    return this.#c.host.connectedPeers().some((p) => this.#c.peers.isValidator(p));
  }

  /** Calls `listener` after every block this node stores, by consensus or by sync; returns the unsubscriber. */
  onCommit(listener: (c: CommitEvent) => void): () => void {
    return this.#c.telemetry.onCommit(listener);
  }

  /** Whether this validator is the primary of its current view, in the normal case (false until started). */
  isPrimary(): boolean {
    return isPrimary(this.#c, this.#state !== 'new');
  }

  status(): ValidatorStatus {
    return this.#c.telemetry.status(this.#c, this.#state !== 'new');
  }

  /** Bound listen addresses, each ending in /p2p/<peerId> (empty until started). */
  p2pAddrs(): string[] {
    return this.#c.host.addrs();
  }

  #onPeerEvent(peerId: string, event: 'connected' | 'disconnected'): void {
    const c = this.#c;
    c.telemetry.metrics.peers.set(c.host.connectedPeers().length);
    if (event !== 'connected' || !c.peers.isValidator(peerId) || this.#state !== 'started') return;
    // A validator that was away may have missed forwarded txs: send it what is pending here.
    c.relay.sendTo(peerId, c.mempool.txs());
    c.sync.peerConnected();
    c.sync.pollSoon();
  }

  #sweep(): void {
    const expired = this.#c.mempool.sweepExpired(this.#c.settings.clock.now());
    if (expired.length > 0) this.#c.driver.txRemoved(expired);
  }
}

function noValidator(env: TxEnvelope): SubmitResult {
  const message = 'this node is not a validator and reaches none to relay the tx to; retry later';
  return { status: 'rejected', rejection: { hash: env.hash, code: NO_VALIDATOR_REACHABLE, message } };
}

function notStarted(env: TxEnvelope): SubmitResult {
  return {
    status: 'rejected',
    rejection: { hash: env.hash, code: MempoolRejection.notStarted, message: 'the node is not started' },
  };
}
