/**
 * The load generator: institutions submit signed evidence through the HTTP API at a steady pace, each tx to
 * the next validator in turn, and record every tx a validator acknowledged as committed (200 "committed"
 * with its height). It is a client like any bank's: it knows nothing of the faults. A tx that is not
 * acknowledged (the node is down or paused, it timed out, the wait ended first) is sent again later, byte for
 * byte, to another validator: resubmission is idempotent (it answers "pending" or "committed"), so retries can
 * never record evidence twice. `settle()` keeps retrying until every tx ever submitted is committed.
 */

import { evidenceTx, type Identity } from '../../../src/cli/evidence.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { EvidenceTypes } from '../../../src/core/evidence.ts';
import { readKeyFile } from '../../../src/core/keys.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';

export interface Target {
  readonly index: number;
  readonly apiUrl: string;
}

export interface LoadOptions {
  /** New txs per second, over all workers. */
  ratePerSec: number;
  /** Requests in flight at most. */
  concurrency: number;
  /** How long each request waits for the commit (`?wait=`). */
  waitMs: number;
}

export const DEFAULT_LOAD: LoadOptions = { ratePerSec: 8, concurrency: 4, waitMs: 5000 };

export interface Ack {
  /** Height the validator reported. */
  height: number;
  /** Validator that acknowledged it. */
  node: number;
  /** Epoch ms. */
  at: number;
}

/** Outcome counts, by kind: committed, pending (202), overloaded (503), rejected (422), error (network, 5xx). */
export type AttemptOutcome = 'committed' | 'pending' | 'overloaded' | 'rejected' | 'error';

export class LoadGenerator {
  readonly #ids: Identity[];
  readonly #targets: () => readonly Target[];
  readonly #o: LoadOptions;
  readonly #label: string;
  /** Every tx ever submitted (hex hash → envelope). */
  readonly submitted = new Map<string, TxEnvelope>();
  /** Every tx a validator acknowledged as committed. */
  readonly acked = new Map<string, Ack>();
  /** 422 answers: a valid tx refused is a bug, reported by the checker. */
  readonly rejections: { hash: string; code: string; node: number }[] = [];
  readonly outcomes: Record<AttemptOutcome, number> = {
    committed: 0,
    pending: 0,
    overloaded: 0,
    rejected: 0,
    error: 0,
  };
  readonly #retry: TxEnvelope[] = [];
  #counter = 0;
  #turn = 0;
  #nextSlot = 0;
  #running = false;
  #workers: Promise<void>[] = [];

  constructor(
    ids: Identity[],
    targets: () => readonly Target[],
    label: string,
    o: LoadOptions = DEFAULT_LOAD,
  ) {
    this.#ids = ids;
    this.#targets = targets;
    this.#label = label;
    this.#o = o;
  }

  /** Identities of the institutions of a cluster, from their client key files. */
  static identities(chainId: string, institutions: readonly { id: string; keyFile: string }[]): Identity[] {
    return institutions.map((i) => ({
      key: readKeyFile(i.keyFile),
      institution: i.id,
      keyId: 'client-1',
      chainId,
    }));
  }

  get running(): boolean {
    return this.#running;
  }

  /** How long each request waits for its commit, ms. */
  get waitMs(): number {
    return this.#o.waitMs;
  }

  /** Attempts that did not end in a commit acknowledgement (the cluster made no progress for them). */
  get unsuccessfulAttempts(): number {
    return this.outcomes.pending + this.outcomes.overloaded + this.outcomes.error;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#nextSlot = Date.now();
    this.#workers = [...Array(this.#o.concurrency)].map(() => this.#work());
  }

  /** Stops sending (new txs and retries); resolves when the requests in flight have ended. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  /** Acks in the time window [from, to) (epoch ms). */
  ackedBetween(from: number, to = Number.POSITIVE_INFINITY): number {
    let n = 0;
    for (const a of this.acked.values()) if (a.at >= from && a.at < to) n++;
    return n;
  }

  unacked(): TxEnvelope[] {
    return [...this.submitted.values()].filter((e) => !this.acked.has(e.hashHex));
  }

  /**
   * Sends every unacknowledged tx again, round the validators, until each is acknowledged; throws with the
   * stragglers after `timeoutMs`. Call after stop(), once faults are healed.
   */
  async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = this.unacked();
      if (left.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${left.length} submitted txs never committed, e.g. ${left
            .slice(0, 5)
            .map((e) => e.hashHex)
            .join(', ')}`,
        );
      }
      let next = 0;
      const worker = async () => {
        while (next < left.length && Date.now() < deadline) await this.#submit(left[next++]!);
      };
      await Promise.all([...Array(this.#o.concurrency)].map(worker));
    }
  }

  async #work(): Promise<void> {
    while (this.#running) {
      await this.#pace();
      if (!this.#running) return;
      const env = this.#retry.shift() ?? this.#newTx();
      if (!(await this.#submit(env))) this.#retry.push(env);
    }
  }

  /** Waits for the next send slot: the pace is ratePerSec over all workers. */
  async #pace(): Promise<void> {
    const slot = Math.max(this.#nextSlot, Date.now());
    this.#nextSlot = slot + 1000 / this.#o.ratePerSec;
    const wait = slot - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  #newTx(): TxEnvelope {
    const n = this.#counter++;
    const id = this.#ids[n % this.#ids.length]!;
    const env = evidenceTx(id, {
      hashAlg: 'sha256',
      hash: sha256(utf8.encode(`jrchain-cluster-load/${this.#label}/${n}`)),
      caseId: `CLUSTER-${this.#label}-${n % 7}`,
      evidenceType: EvidenceTypes[n % EvidenceTypes.length]!,
    });
    this.submitted.set(env.hashHex, env);
    return env;
  }

  /** One attempt at the next validator in turn; true when it acknowledged the commit. */
  async #submit(env: TxEnvelope): Promise<boolean> {
    const targets = this.#targets();
    const t = targets[this.#turn++ % targets.length]!;
    let outcome: AttemptOutcome;
    try {
      const r = await fetch(`${t.apiUrl}/v1/txs?wait=${this.#o.waitMs}`, {
        method: 'POST',
        body: env.bytes,
        headers: { 'content-type': 'application/octet-stream' },
        signal: AbortSignal.timeout(this.#o.waitMs + 5000),
      });
      const body = (await r.json()) as { status?: string; height?: number; code?: string };
      if (r.status === 200 && body.status === 'committed' && typeof body.height === 'number') {
        if (!this.acked.has(env.hashHex))
          this.acked.set(env.hashHex, { height: body.height, node: t.index, at: Date.now() });
        outcome = 'committed';
      } else if (r.status === 202) outcome = 'pending';
      else if (r.status === 503) outcome = 'overloaded';
      else if (r.status === 422) {
        outcome = 'rejected';
        this.rejections.push({ hash: env.hashHex, code: String(body.code), node: t.index });
      } else outcome = 'error';
    } catch {
      outcome = 'error';
    }
    this.outcomes[outcome]++;
    return outcome === 'committed';
  }
}

/** A short hex id of a tx hash, for messages. */
export const short = (h: string | Uint8Array): string => (typeof h === 'string' ? h : toHex(h)).slice(0, 12);
