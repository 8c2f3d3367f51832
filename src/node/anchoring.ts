/**
 * The anchoring service binds committed blocks to RFC 3161 trusted time. While this validator is the primary
 * and some block records evidence that no anchor covers yet, it asks the TSA for a token over the head
 * block's header hash, wraps the token in an anchor tx signed with the validator key, and submits it like
 * any tx. One token covers the head and, through the prevHash links, every block before it.
 *
 * Liveness never depends on the TSA: consensus commits blocks whatever happens here. When the TSA fails, the
 * service retries with capped exponential backoff and jitter; the lag grows and `status()` shows it, and the
 * first token after the TSA returns covers every block up to the head. At most one TSA request is in flight,
 * and requests start at least `intervalMs` apart. Only the primary anchors, so validators do not anchor the
 * same blocks; a race at a view change yields a stale anchor that the executor refuses.
 */
import { type AnchorRecord, type ArchiveStamp, encodeAnchor, type RenewalStamp } from '../core/anchor.ts';
import { type Clock, type Random, SystemTimers, systemClock, type Timers } from '../core/clock.ts';
import type { Signer } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { isJrError } from '../core/errors.ts';
import { envelope, signTx, type TxEnvelope, VALIDATOR_KEY_ID } from '../core/tx.ts';
import type { ChainHead, TxRejection } from '../ledger/chain.ts';
import { TxError, TxErrorCode } from '../ledger/errors.ts';
import type { AnchorStatus } from '../ledger/queries.ts';
import type { AnchorState } from '../ledger/store.ts';
import { archiveHistory, renewalLeaves } from '../receipt/archives.ts';
import { archiveRoot, tokenAlgorithms, tokenExpiry, tokenGenTime } from '../timestamp/ers.ts';
import {
  type Service,
  type TimestampAuthority,
  TimestampError,
  TimestampErrorCode,
  type TsaLogger,
} from '../timestamp/index.ts';

/** The ledger as the service sees it; LedgerQueries provides all three. */
export interface AnchoringLedger {
  head(): ChainHead;
  /** Cheap: read on every head change. */
  anchorState(): AnchorState;
  /** Reads blocks: only for status(). */
  anchorStatus(): Promise<AnchorStatus>;
  /** The SHA-256 evidence hashes recorded in blocks from..to: the archive timestamp's leaves (ADR 012). */
  archiveLeaves(from: number, to: number): Promise<Uint8Array[]>;
  /** Every anchor record from anchored height `from` on: the archive and renewal history. */
  anchorsFrom(from: number): Promise<AnchorRecord[]>;
}

export interface AnchoringDeps {
  tsa: TimestampAuthority;
  chainId: string;
  /** This validator's institution and key: anchor txs are signed under the key id `validator`. */
  institution: string;
  signer: Signer;
  /**
   * The chain's suite (ADR 014, `genesisSuite(genesis)`; default Ed25519/SHA-256): anchor txs are hashed with
   * it, and the token over a header hash uses its hash as imprint algorithm, the header hash's own (SM3 on an
   * sm2-sm3 chain, as receipts expect). Archive and renewal roots (RFC 4998) stay SHA-256 on every chain.
   */
  suite?: CryptoSuite;
  ledger: AnchoringLedger;
  /** Calls `listener` after each committed block; returns the function that unsubscribes it. */
  onHead(listener: (head: ChainHead) => void): () => void;
  /** Whether this validator is the primary of the current view. */
  isPrimary(): boolean;
  /** The node's mempool entry point: a rejection (or a throw) means the tx was not taken. */
  submit(env: TxEnvelope): Promise<TxRejection | undefined>;
}

const WAKE_TIMER = 'anchoring-wake';

export const AnchoringDefaults = {
  /** Least time between the starts of two TSA requests. */
  intervalMs: 5_000,
  /** Backoff after the first failure; it doubles per failure, up to backoffMaxMs, with equal jitter. */
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  /** Expiry window of anchor txs; a submitted anchor not committed by then is tried again. */
  txTtlMs: 60_000,
} as const;

/**
 * When to renew archive timestamps (RFC 4998 5.2, docs/long-term.md). Off unless given. A renewal is due once
 * some archive's newest timestamp expires (its embedded certificates' earliest notAfter) within
 * `beforeExpiryMs`, or is older than `maxAgeMs` (the policy for a deprecated algorithm: renew everything now).
 */
export interface RenewalPolicy {
  beforeExpiryMs: number;
  maxAgeMs?: number;
  /**
   * Algorithms deemed deprecated, by name (`sha256`, `ecdsa-with-SHA256`, as `jrchain tsa inspect` prints) or
   * dotted OID: an archive whose newest token relies on one (imprint hash, signer digest or signature) is due.
   */
  deprecatedAlgorithms?: readonly string[];
  /** How often to look while nothing else wakes the service (default 1 hour). */
  checkIntervalMs?: number;
}

export interface AnchoringOptions {
  intervalMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  txTtlMs?: number;
  clock?: Clock;
  /** This service's own timers: it cancels its wake-up with clearAll(). */
  timers?: Timers;
  /** Uniform in [0, 1), for the jitter. */
  random?: Random;
  logger?: TsaLogger;
  renewal?: RenewalPolicy;
}

export interface AnchoringFailure {
  /** A TSA_* or TX_* code, or ANCHORING_FAILED for anything else. */
  code: string;
  message: string;
  at: number;
}

export interface AnchoringStatus {
  running: boolean;
  primary: boolean;
  anchoredHeight: number;
  headHeight: number;
  /** Blocks the next anchor has to cover (head - anchored) while some of them record evidence; else 0. */
  lagBlocks: number;
  /** How long (clock now - block time) the oldest block whose evidence awaits an anchor has waited; else 0. */
  lagMs: number;
  /** A TSA request (or the submission of its anchor) is under way. */
  inFlight: boolean;
  consecutiveFailures: number;
  /** The last failure, cleared by the next anchor submitted. */
  lastError: AnchoringFailure | undefined;
  /** When the service will next look again on its own; undefined while it waits for the next block. */
  nextAttemptAt: number | undefined;
  /** The last anchor this node submitted. */
  lastSubmitted: { height: number; txHash: string; genTime: number; at: number } | undefined;
  /** The last timestamp renewal this node submitted (renewing every archive up to `upTo`). */
  lastRenewal: { upTo: number; txHash: string; at: number } | undefined;
}

/** Delay after `failures` consecutive failures: doubling from baseMs, capped at maxMs, equal jitter. */
export function anchoringBackoff(failures: number, baseMs: number, maxMs: number, random: Random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new TimestampError(TimestampErrorCode.badInput, `${name} must be a whole number of ms >= 1`);
  }
  return v;
}

export class AnchoringService implements Service {
  readonly #deps: AnchoringDeps;
  readonly #suite: CryptoSuite;
  readonly #intervalMs: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #txTtlMs: number;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #random: Random;
  readonly #log: TsaLogger | undefined;
  #running = false;
  #unsubscribe: (() => void) | undefined;
  #abort: AbortController | undefined;
  #wakeAt: number | undefined;
  /** The step loop in progress, if any; `#again` asks it for one more step. */
  #busy: Promise<void> | undefined;
  #again = false;
  #inFlight = false;
  #failures = 0;
  #lastError: AnchoringFailure | undefined;
  /** The earliest time the next TSA request may start. */
  #nextRequestAt = 0;
  /** Our last submitted anchor, until it is committed or its tx has expired. */
  #pending: { height: number; expiresAt: number } | undefined;
  #lastSubmitted: AnchoringStatus['lastSubmitted'];
  readonly #renewal: RenewalPolicy | undefined;
  #lastRenewal: AnchoringStatus['lastRenewal'];
  /** The next time to look for due renewals (reading every anchor), and the renewal pending commit. */
  #renewalCheckAt = 0;
  #renewalPending: { upTo: number; expiresAt: number } | undefined;

  constructor(deps: AnchoringDeps, options: AnchoringOptions = {}) {
    this.#deps = deps;
    this.#suite = deps.suite ?? ED25519_SHA256;
    this.#intervalMs = positiveInt('intervalMs', options.intervalMs ?? AnchoringDefaults.intervalMs);
    this.#backoffBaseMs = positiveInt(
      'backoffBaseMs',
      options.backoffBaseMs ?? AnchoringDefaults.backoffBaseMs,
    );
    this.#backoffMaxMs = positiveInt('backoffMaxMs', options.backoffMaxMs ?? AnchoringDefaults.backoffMaxMs);
    this.#txTtlMs = positiveInt('txTtlMs', options.txTtlMs ?? AnchoringDefaults.txTtlMs);
    if (this.#backoffBaseMs > this.#backoffMaxMs) {
      throw new TimestampError(TimestampErrorCode.badInput, 'backoffBaseMs must not exceed backoffMaxMs');
    }
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? new SystemTimers();
    this.#random = options.random ?? Math.random;
    this.#log = options.logger;
    this.#renewal = options.renewal;
    if (this.#renewal !== undefined) positiveInt('renewal.beforeExpiryMs', this.#renewal.beforeExpiryMs);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    this.#unsubscribe = this.#deps.onHead(() => this.#wake());
    this.#wake();
  }

  /** Stops looking, aborts a TSA request in flight, and resolves once the service is idle. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#cancelTimer();
    this.#abort?.abort(new TimestampError(TimestampErrorCode.aborted, 'the anchoring service was stopped'));
    await this.#busy;
  }

  async status(): Promise<AnchoringStatus> {
    const s = await this.#deps.ledger.anchorStatus();
    const due = s.evidenceHeight > s.anchoredHeight;
    const oldest = s.oldestUnanchoredEvidenceTime;
    return {
      running: this.#running,
      primary: this.#deps.isPrimary(),
      anchoredHeight: s.anchoredHeight,
      headHeight: s.headHeight,
      lagBlocks: due ? s.headHeight - s.anchoredHeight : 0,
      lagMs: oldest === undefined ? 0 : Math.max(0, this.#clock.now() - oldest),
      inFlight: this.#inFlight,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      nextAttemptAt: this.#wakeAt,
      lastSubmitted: this.#lastSubmitted,
      lastRenewal: this.#lastRenewal,
    };
  }

  /** Runs the step loop, or asks the running one for another step: events never overlap. */
  #wake(): void {
    if (!this.#running) return;
    if (this.#busy !== undefined) {
      this.#again = true;
      return;
    }
    this.#busy = this.#loop().finally(() => {
      this.#busy = undefined;
      // A wake that came after the loop's last check and before this point must not be lost.
      if (this.#again) this.#wake();
    });
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      await this.#step();
    } while (this.#again && this.#running);
  }

  /** Decides what to do now: nothing, wait (timer), or request a token and submit an anchor. */
  async #step(): Promise<void> {
    this.#cancelTimer();
    const { anchoredHeight, evidenceHeight } = this.#deps.ledger.anchorState();
    if (this.#pending !== undefined && anchoredHeight >= this.#pending.height) this.#pending = undefined;
    const now = this.#clock.now();
    const renewUpTo = await this.#renewalDue(now, anchoredHeight);
    if (renewUpTo !== undefined) {
      if (!this.#deps.isPrimary()) return this.#schedule(now + this.#intervalMs);
      if (now < this.#nextRequestAt) return this.#schedule(this.#nextRequestAt);
      await this.#anchor(this.#deps.ledger.head(), renewUpTo);
      this.#again = true;
      return;
    }
    // Nothing awaits an anchor: the next committed block wakes us (or the next look for renewals).
    if (evidenceHeight <= anchoredHeight) {
      if (this.#renewal !== undefined) this.#schedule(this.#renewalCheckAt);
      return;
    }
    const pending = this.#pending;
    if (pending !== undefined && pending.height >= evidenceHeight && now < pending.expiresAt) {
      // Our anchor covers everything; wait for it to commit, or to expire and be tried again.
      return this.#schedule(pending.expiresAt);
    }
    if (now < this.#nextRequestAt) return this.#schedule(this.#nextRequestAt);
    // Views change without a block being committed: look again after an interval.
    if (!this.#deps.isPrimary()) return this.#schedule(now + this.#intervalMs);
    await this.#anchor(this.#deps.ledger.head());
    this.#again = true;
  }

  async #anchor(head: ChainHead, renewUpTo?: number): Promise<void> {
    const startedAt = this.#clock.now();
    this.#inFlight = true;
    try {
      const { anchoredHeight, evidenceHeight } = this.#deps.ledger.anchorState();
      const renewal = renewUpTo === undefined ? undefined : await this.#renew(renewUpTo);
      // A renewal that was due but could not be made leaves nothing to anchor unless evidence waits.
      if (renewal === undefined && evidenceHeight <= anchoredHeight) {
        this.#nextRequestAt = startedAt + this.#intervalMs;
        return;
      }
      const archive = await this.#archive(anchoredHeight + 1, head.height);
      const stamp = await this.#deps.tsa.stamp(head.hash, this.#suite.hashName, {
        signal: this.#abort!.signal,
      });
      if (!this.#running) return;
      const createdAt = this.#clock.now();
      const env = envelope(
        signTx(
          {
            chainId: this.#deps.chainId,
            type: 'anchor',
            institution: this.#deps.institution,
            keyId: VALIDATOR_KEY_ID,
            // Anchors use no nonce; the anchored height keeps the field meaningful.
            nonce: head.height,
            createdAt,
            ttlMs: this.#txTtlMs,
            payload: encodeAnchor({
              height: head.height,
              headerHash: head.hash,
              token: stamp.token,
              ...(archive === undefined ? {} : { archive }),
              ...(renewal === undefined ? {} : { renewal }),
            }),
          },
          this.#deps.signer,
        ),
        this.#suite,
      );
      const rejection = await this.#deps.submit(env);
      this.#nextRequestAt = startedAt + this.#intervalMs;
      // Another anchor reached this height first (a view change race): nothing failed.
      if (rejection?.code === TxErrorCode.anchorStale) return;
      if (rejection !== undefined) throw TxError.fromRejection(rejection);
      this.#pending = { height: head.height, expiresAt: createdAt + this.#txTtlMs };
      if (renewal !== undefined) {
        this.#renewalPending = { upTo: renewal.upTo, expiresAt: createdAt + this.#txTtlMs };
        this.#lastRenewal = { upTo: renewal.upTo, txHash: env.hashHex, at: createdAt };
        this.#log?.info({ upTo: renewal.upTo, tx: env.hashHex }, 'archive timestamps renewed');
      }
      this.#lastSubmitted = {
        height: head.height,
        txHash: env.hashHex,
        genTime: stamp.genTime.getTime(),
        at: createdAt,
      };
      this.#failures = 0;
      this.#lastError = undefined;
      this.#log?.info({ height: head.height, tx: env.hashHex }, 'anchor submitted');
    } catch (err) {
      if (!this.#running) return;
      this.#failures++;
      const at = this.#clock.now();
      const code = isJrError(err) ? err.code : 'ANCHORING_FAILED';
      this.#lastError = { code, message: (err as Error).message, at };
      const delay = anchoringBackoff(this.#failures, this.#backoffBaseMs, this.#backoffMaxMs, this.#random);
      this.#nextRequestAt = at + delay;
      this.#log?.warn(
        { code, failures: this.#failures, retryInMs: delay, height: head.height },
        'anchoring failed; blocks keep committing, anchors will catch up',
      );
    } finally {
      this.#inFlight = false;
    }
  }

  /** The archive timestamp over the evidence of blocks from..to (RFC 4998 hash tree root), if any. */
  async #archive(from: number, to: number): Promise<ArchiveStamp | undefined> {
    const leaves = await this.#deps.ledger.archiveLeaves(from, to);
    if (leaves.length === 0) return undefined;
    const root = archiveRoot(leaves);
    const stamp = await this.#deps.tsa.stamp(root, 'sha256', { signal: this.#abort!.signal });
    return { from, root, token: stamp.token };
  }

  /**
   * The anchored height to renew every archive up to, when the policy says a renewal is due; else undefined.
   * Reads every anchor, so it looks at most once per check interval, and not while a renewal awaits commit.
   */
  async #renewalDue(now: number, anchoredHeight: number): Promise<number | undefined> {
    const policy = this.#renewal;
    if (policy === undefined || now < this.#renewalCheckAt) return undefined;
    this.#renewalCheckAt = now + (policy.checkIntervalMs ?? 3_600_000);
    const pending = this.#renewalPending;
    if (anchoredHeight === 0 || (pending !== undefined && now < pending.expiresAt)) return undefined;
    this.#renewalPending = undefined;
    const anchors = await this.#deps.ledger.anchorsFrom(1);
    const renewals = anchors.flatMap((a) => a.renewal ?? []);
    const due = anchors.some(({ height, archive }) => {
      if (archive === undefined) return false;
      const newest = [archive.token, ...renewals.filter((r) => r.upTo >= height).map((r) => r.token)].at(-1)!;
      const expiry = tokenExpiry(newest)?.getTime();
      const made = tokenGenTime(newest);
      const old = policy.maxAgeMs !== undefined && made !== undefined && now - made >= policy.maxAgeMs;
      return old || this.#weak(newest) || (expiry !== undefined && expiry - now <= policy.beforeExpiryMs);
    });
    return due ? anchoredHeight : undefined;
  }

  /** Whether a token relies on an algorithm the policy deems deprecated. */
  #weak(token: Uint8Array): boolean {
    const deprecated = this.#renewal?.deprecatedAlgorithms ?? [];
    return deprecated.length > 0 && tokenAlgorithms(token).some((a) => deprecated.includes(a));
  }

  /** A renewal of every archive anchored up to `upTo`, unless the TSA's certificate would not outlast the old. */
  async #renew(upTo: number): Promise<RenewalStamp | undefined> {
    const history = archiveHistory(await this.#deps.ledger.anchorsFrom(1));
    const root = archiveRoot(renewalLeaves(history, upTo));
    const stamp = await this.#deps.tsa.stamp(root, 'sha256', { signal: this.#abort!.signal });
    const expiry = tokenExpiry(stamp.token)?.getTime();
    if (expiry !== undefined && expiry - this.#clock.now() <= this.#renewal!.beforeExpiryMs) {
      this.#log?.warn(
        { expiry: new Date(expiry).toISOString() },
        'renewal skipped: the TSA certificate expires within the renewal margin too; configure a TSA with a newer certificate',
      );
      return undefined;
    }
    if (this.#weak(stamp.token)) {
      this.#log?.warn(
        {},
        'renewal skipped: the TSA still uses a deprecated algorithm; configure another TSA',
      );
      return undefined;
    }
    return { upTo, root, token: stamp.token };
  }

  #schedule(at: number): void {
    this.#cancelTimer();
    this.#wakeAt = at;
    this.#timers.set(WAKE_TIMER, Math.max(0, at - this.#clock.now()), () => {
      this.#wakeAt = undefined;
      this.#wake();
    });
  }

  #cancelTimer(): void {
    this.#timers.clearAll();
    this.#wakeAt = undefined;
  }
}
