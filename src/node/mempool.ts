/**
 * The mempool: txs admitted on this validator and not yet committed. Every tx enters through the same
 * admission, whether a client submitted it here or a peer forwarded it: deduplication by hash, the pool bounds,
 * then Chain.checkTx (which verifies the signature once and caches it for execution). Bounded by count and
 * bytes; a full pool refuses new txs with MEMPOOL_FULL. Committed txs leave it when their block is stored,
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

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = Object.freeze({
  maxTxs: 50_000,
  maxBytes: 64 * 1024 * 1024,
});

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
  readonly chain: Pick<Chain, 'checkTx'>;
  /** Whether a tx is committed (asked only when the pool is full, so retries still learn it is committed). */
  readonly isCommitted: (hash: Uint8Array) => Promise<boolean>;
  readonly now: () => number;
  /** A tx entered the pool; `local`: submitted to this node (so it must be forwarded). */
  readonly onAdmitted: (env: TxEnvelope, local: boolean) => void;
}

export class Mempool {
  readonly #d: MempoolDeps;
  readonly #limits: MempoolLimits;
  readonly #pool = new Map<string, Entry>();
  /** Txs between the bounds check and the end of checkTx: they count against the bounds already. */
  readonly #admitting = new Map<string, number>();
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

  /** Every pooled tx, oldest first. */
  txs(): TxEnvelope[] {
    return [...this.#pool.values()].map((e) => e.env);
  }

  /** Admits one tx. `local`: a client submitted it here (it will be forwarded to the other validators). */
  async admit(env: TxEnvelope, local: boolean): Promise<Admission> {
    const hex = env.hashHex;
    if (this.#closed) return rejected(env, MempoolRejection.stopped, 'the node is stopping');
    if (this.#pool.has(hex) || this.#admitting.has(hex)) return { status: 'pending' };
    const size = env.bytes.length;
    const count = this.#pool.size + this.#admitting.size;
    if (count >= this.#limits.maxTxs || this.#bytes + this.#admittingBytes + size > this.#limits.maxBytes) {
      if (await this.#d.isCommitted(env.hash)) return { status: 'committed' };
      return rejected(env, MempoolRejection.full, `the mempool is full (${count} txs, ${this.#bytes} bytes)`);
    }
    this.#admitting.set(hex, size);
    this.#admittingBytes += size;
    const now = this.#d.now();
    try {
      const rejection = await this.#d.chain.checkTx(env, now);
      // For a single tx, TX_DUPLICATE means it is already committed: retrying clients are told so.
      if (rejection?.code === TxErrorCode.duplicate) return { status: 'committed' };
      if (rejection !== undefined) return { status: 'rejected', rejection };
      if (this.#closed) return rejected(env, MempoolRejection.stopped, 'the node is stopping');
      this.#pool.set(hex, { env, arrivedAt: now });
      this.#bytes += size;
    } catch (err) {
      // The ledger failed (closed store on shutdown, ...): the tx was not taken, and the caller is told why.
      const code = isJrError(err) ? err.code : 'MEMPOOL_ADMISSION_FAILED';
      return rejected(env, code, `admission failed: ${(err as Error).message}`);
    } finally {
      this.#admitting.delete(hex);
      this.#admittingBytes -= size;
    }
    this.#d.onAdmitted(env, local);
    return { status: 'accepted' };
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
