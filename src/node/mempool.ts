/**
 * The mempool: txs admitted on this validator and not yet committed. Every tx enters through the same
 * admission, whether a client submitted it here or a peer forwarded it: deduplication by hash, the pool bounds,
 * then Chain.checkTxs (which verifies each signature once and caches it for execution). Txs that arrive close
 * together (in one event-loop turn: a peer's frame, a client's batch, concurrent requests) are checked in one
 * round, so the ledger is read once per round rather than once per tx. Bounded by count and
 * bytes; a full pool refuses new txs with MEMPOOL_FULL. Clients may fill only LOCAL_SHARE of the bounds: the rest
 * is kept for txs other validators forwarded, which are forwarded once and so are gone from this node if refused
 * (a primary refusing them under overload looked like censorship to the backups that forwarded them). Committed txs leave it when their block is stored,
 * expired ones on a periodic sweep (reported, so the consensus core forgets them too).
 */
import { isJrError } from '../core/errors.ts';
import type { TxEnvelope } from '../core/tx.ts';
import type { Chain, TxRejection } from '../ledger/chain.ts';
import { TxErrorCode } from '../ledger/errors.ts';

export const MempoolRejection = {
  /** The pool holds its maximum number of txs or bytes. */
  full: 'MEMPOOL_FULL',
  /** The node is stopping and takes no new txs. */
  stopped: 'MEMPOOL_STOPPED',
  /** The node has not started yet. */
  notStarted: 'MEMPOOL_NOT_STARTED',
} as const;
export type MempoolRejection = (typeof MempoolRejection)[keyof typeof MempoolRejection];

export interface MempoolLimits {
  /** Most txs held. Keep it at or below the consensus core's maxPendingTxs. */
  readonly maxTxs: number;
  /** Most bytes of encoded txs held. */
  readonly maxBytes: number;
}

/**
 * A pooled tx costs a validator several times its encoding (its decoded views and hash, the pool's and the core's
 * entries, relay frames), so the pool holds what a healthy chain needs and no more: 10,000 txs (five full default
 * blocks, about 7 s of the committed rate on 2 cores) and 16 MiB of encoded txs (four of the largest default
 * batches). Beyond them clients get MEMPOOL_FULL (503 with Retry-After) instead of the pool growing.
 */
export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = Object.freeze({
  maxTxs: 10_000,
  maxBytes: 16 * 1024 * 1024,
});

/** Share of the pool bounds that txs submitted here may fill; forwarded txs may use all of them. */
export const LOCAL_SHARE = 0.75;

export type Admission =
  | { readonly status: 'accepted' | 'pending' | 'committed'; readonly rejection?: undefined }
  | { readonly status: 'rejected'; readonly rejection: TxRejection };

/**
 * Codes only a faulty or malicious forwarder can produce: a validator forwards only txs it admitted, and
 * these checks do not depend on time or ledger state. Anything else (duplicate, replayed nonce, expiry, a full
 * pool) can be an honest race.
 */
const FORWARDER_FAULTS: ReadonlySet<string> = new Set([
  TxErrorCode.oversize,
  TxErrorCode.wrongChain,
  TxErrorCode.unknownInstitution,
  TxErrorCode.unknownKey,
  TxErrorCode.anchorNotValidator,
  TxErrorCode.auditNotValidator,
  TxErrorCode.badSignature,
  TxErrorCode.malformedPayload,
]);

export function isForwarderFault(rejection: TxRejection): boolean {
  return FORWARDER_FAULTS.has(rejection.code);
}

interface Entry {
  readonly env: TxEnvelope;
  /** When this node first saw it (commit latency is measured from here). */
  readonly arrivedAt: number;
}

export interface MempoolDeps {
  readonly chain: Pick<Chain, 'checkTxs'>;
  /** Whether a tx is committed (asked only when the pool is full, so retries still learn it is committed). */
  readonly isCommitted: (hash: Uint8Array) => Promise<boolean>;
  readonly now: () => number;
  /**
   * Txs entered the pool, in admission order (one call per admission round); `local`: submitted to this node
   * (so it must be forwarded).
   */
  readonly onAdmitted: (admitted: readonly AdmittedTx[]) => void;
  /** Defers an admission round (default setImmediate: the txs of every request read in one turn go together). */
  readonly defer?: (run: () => void) => void;
}

export interface AdmittedTx {
  readonly env: TxEnvelope;
  readonly local: boolean;
}

/** Most txs judged in one Chain.checkTxs call; more wait for the next round, so the event loop keeps turning. */
export const ADMISSION_ROUND_TXS = 256;

interface Waiting {
  readonly env: TxEnvelope;
  readonly local: boolean;
  readonly resolve: (a: Admission) => void;
}

export class Mempool {
  readonly #d: MempoolDeps;
  readonly #limits: MempoolLimits;
  readonly #pool = new Map<string, Entry>();
  /** Txs between the bounds check and the end of checkTx: they count against the bounds already. */
  readonly #admitting = new Map<string, TxEnvelope>();
  /** Txs waiting for the next admission round, oldest first. */
  #waiting: Waiting[] = [];
  #roundScheduled = false;
  #bytes = 0;
  #admittingBytes = 0;
  #closed = false;

  constructor(deps: MempoolDeps, limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS) {
    if (!(limits.maxTxs >= 1 && limits.maxBytes >= 1))
      throw new RangeError('mempool limits must be positive');
    this.#d = deps;
    this.#limits = limits;
  }

  get size(): number {
    return this.#pool.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  has(hashHex: string): boolean {
    return this.#pool.has(hashHex);
  }

  /**
   * A pooled tx, or one being admitted (a PRE-PREPARE naming it may overtake its admission; the driver checks
   * the batch's txs anyway, and the signature was or will be verified once, cached for both).
   */
  get(hashHex: string): TxEnvelope | undefined {
    return this.#pool.get(hashHex)?.env ?? this.#admitting.get(hashHex);
  }

  /** Every pooled tx, oldest first. */
  txs(): TxEnvelope[] {
    return [...this.#pool.values()].map((e) => e.env);
  }

  /**
   * Admits one tx. `local`: a client submitted it here (it will be forwarded to the other validators). Txs
   * admitted close together are checked together (one Chain.checkTxs call per round of at most
   * ADMISSION_ROUND_TXS), each judged on its own.
   */
  async admit(env: TxEnvelope, local: boolean): Promise<Admission> {
    const hex = env.hashHex;
    if (this.#closed) return rejected(env, MempoolRejection.stopped, 'the node is stopping');
    if (this.#pool.has(hex) || this.#admitting.has(hex)) return { status: 'pending' };
    const size = env.bytes.length;
    const count = this.#pool.size + this.#admitting.size;
    const bytes = this.#bytes + this.#admittingBytes + size;
    const { maxTxs, maxBytes } = this.#limits;
    const full = count >= maxTxs || bytes > maxBytes;
    // An empty pool takes any tx that fits the bounds, so a small pool still admits a large tx.
    const localFull = count > 0 && (count >= maxTxs * LOCAL_SHARE || bytes > maxBytes * LOCAL_SHARE);
    if (full || (local && localFull)) {
      if (await this.#d.isCommitted(env.hash)) return { status: 'committed' };
      return rejected(env, MempoolRejection.full, `the mempool is full (${count} txs, ${this.#bytes} bytes)`);
    }
    this.#admitting.set(hex, env);
    this.#admittingBytes += size;
    return new Promise((resolve) => {
      this.#waiting.push({ env, local, resolve });
      this.#scheduleRound();
    });
  }

  /** Admits several txs (e.g. a peer's frame, a client's batch); outcomes in input order. */
  admitMany(envs: readonly TxEnvelope[], local: boolean): Promise<Admission[]> {
    return Promise.all(envs.map((e) => this.admit(e, local)));
  }

  /** Drops the txs of a committed block; returns when each pooled one arrived (for commit latency). */
  removeCommitted(txs: readonly TxEnvelope[]): number[] {
    const arrived: number[] = [];
    for (const t of txs) {
      const e = this.#remove(t.hashHex);
      if (e !== undefined) arrived.push(e.arrivedAt);
    }
    return arrived;
  }

  /** Drops txs expired at `now` (createdAt + ttlMs < now) and returns their hashes. */
  sweepExpired(now: number): Uint8Array[] {
    const expired: Uint8Array[] = [];
    for (const [hex, e] of this.#pool) {
      if (e.env.tx.createdAt + e.env.tx.ttlMs < now) {
        this.#remove(hex);
        expired.push(e.env.hash);
      }
    }
    return expired;
  }

  /** Takes no new txs from now on. */
  close(): void {
    this.#closed = true;
  }

  #scheduleRound(): void {
    if (this.#roundScheduled) return;
    this.#roundScheduled = true;
    (this.#d.defer ?? setImmediate)(() => {
      this.#roundScheduled = false;
      void this.#round();
    });
  }

  /** One admission round: the oldest waiting txs, checked in one call. */
  async #round(): Promise<void> {
    const round = this.#waiting.splice(0, ADMISSION_ROUND_TXS);
    if (this.#waiting.length > 0) this.#scheduleRound();
    if (round.length === 0) return;
    const now = this.#d.now();
    let verdicts: (TxRejection | undefined)[] | undefined;
    let failure: unknown;
    try {
      verdicts = await this.#d.chain.checkTxs(
        round.map((w) => w.env),
        now,
      );
    } catch (err) {
      failure = err;
    }
    const admitted: AdmittedTx[] = [];
    const outcomes: Admission[] = round.map(({ env, local }, i) => {
      const hex = env.hashHex;
      const size = env.bytes.length;
      this.#admitting.delete(hex);
      this.#admittingBytes -= size;
      if (verdicts === undefined) {
        // The ledger failed (closed store on shutdown, ...): the tx was not taken, and the caller is told why.
        const code = isJrError(failure) ? failure.code : 'MEMPOOL_ADMISSION_FAILED';
        return rejected(env, code, `admission failed: ${(failure as Error)?.message ?? String(failure)}`);
      }
      const rejection = verdicts[i];
      // For a single tx, TX_DUPLICATE means it is already committed: retrying clients are told so.
      if (rejection?.code === TxErrorCode.duplicate) return { status: 'committed' };
      if (rejection !== undefined) return { status: 'rejected', rejection };
      if (this.#closed) return rejected(env, MempoolRejection.stopped, 'the node is stopping');
      this.#pool.set(hex, { env, arrivedAt: now });
      this.#bytes += size;
      admitted.push({ env, local });
      return { status: 'accepted' };
    });
    if (admitted.length > 0) this.#d.onAdmitted(admitted);
    round.forEach((w, i) => {
      w.resolve(outcomes[i]!);
    });
  }

  #remove(hex: string): Entry | undefined {
    const e = this.#pool.get(hex);
    if (e === undefined) return undefined;
    this.#pool.delete(hex);
    this.#bytes -= e.env.bytes.length;
    return e;
  }
}

function rejected(env: TxEnvelope, code: string, message: string): Admission {
  return { status: 'rejected', rejection: { hash: env.hash, code, message } };
}
