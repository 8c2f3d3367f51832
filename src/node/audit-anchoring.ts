/**
 * Commits this node's audit log head to the ledger (ADR 015): every `intervalMs` while the log grew past the
 * head committed on the chain, and once more at shutdown, it submits an `audit` tx signed with the validator key.
 * The chain then holds a head the operator cannot take back, so a log rolled back with its signed head file
 * is refused at start and by `jrchain audit verify --institution`. Liveness never depends on it: a refused or
 * lost tx is tried again at the next tick (after its ttl).
 */
import { auditHeadTx } from '../core/audit-head.ts';
import { fromHex } from '../core/bytes.ts';
import { type Clock, SystemTimers, systemClock, type Timers } from '../core/clock.ts';
import type { Signer } from '../core/crypto.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import { envelope, type TxEnvelope } from '../core/tx.ts';
import type { TxRejection } from '../ledger/chain.ts';

export const AuditAnchoringDefaults = {
  /** How often to look whether the log grew past its committed head. */
  intervalMs: 600_000,
  txTtlMs: 60_000,
} as const;

export interface AuditAnchoringDeps {
  chainId: string;
  institution: string;
  signer: Signer;
  /** The chain's suite (ADR 014), which hashes the audit txs; default Ed25519/SHA-256. */
  suite?: CryptoSuite;
  /** The log's head now: its last entry's seq and hash (hex); seq 0 for an empty log. */
  head(): { seq: number; hash: string };
  /** The seq of the institution's head committed on the chain, 0 when none. */
  committed(): Promise<number>;
  submit(env: TxEnvelope): Promise<TxRejection | undefined>;
  /** Warnings (never secrets): a refused or failed submission. */
  warn(message: string, details: Record<string, unknown>): void;
}

const TIMER = 'audit-anchoring';

export class AuditAnchoring {
  readonly #deps: AuditAnchoringDeps;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #timers: Timers;
  /** The last head submitted and when its tx expires: not submitted again until then. */
  #pending: { seq: number; expiresAt: number } | undefined;
  #running = false;

  constructor(
    deps: AuditAnchoringDeps,
    options: { intervalMs?: number; clock?: Clock; timers?: Timers } = {},
  ) {
    this.#deps = deps;
    this.#intervalMs = options.intervalMs ?? AuditAnchoringDefaults.intervalMs;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? new SystemTimers();
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  /** Stops the timer and commits the head once more (submitted only: the node is about to stop). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timers.clearAll();
    await this.tick();
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timers.set(TIMER, this.#intervalMs, () => {
      void this.tick().finally(() => this.#schedule());
    });
  }

  /** Submits the head if the log grew past the committed one and no submission of it is pending. */
  async tick(): Promise<void> {
    const d = this.#deps;
    try {
      const head = d.head();
      const now = this.#clock.now();
      if (head.seq === 0 || head.seq <= (await d.committed())) return;
      if (this.#pending !== undefined && this.#pending.seq >= head.seq && now < this.#pending.expiresAt)
        return;
      const ttlMs = AuditAnchoringDefaults.txTtlMs;
      const tx = auditHeadTx(
        { seq: head.seq, hash: fromHex(head.hash) },
        { chainId: d.chainId, institution: d.institution, signer: d.signer, createdAt: now, ttlMs },
      );
      const rejection = await d.submit(envelope(tx, d.suite));
      if (rejection !== undefined) {
        d.warn('audit head not submitted', {
          seq: head.seq,
          code: rejection.code,
          message: rejection.message,
        });
        return;
      }
      this.#pending = { seq: head.seq, expiresAt: now + ttlMs };
    } catch (err) {
      d.warn('audit head not submitted', { message: (err as Error).message });
    }
  }
}
