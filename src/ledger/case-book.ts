/**
 * The executor's view of dispute cases while it judges txs: the stored states of the cases the txs name,
 * loaded in one multi-get, with the events included earlier in the block applied on top. In a block, each
 * valid event moves its case and counts in the statistics; checked alone (admission), an event is judged
 * against the stored state and changes nothing.
 */

import type { CaseRecord } from '../core/case.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import type { TxEnvelope } from '../core/tx.ts';
import { applyCaseEvent, type CaseState } from './case-machine.ts';
import { decodeCaseState, encodeCaseState } from './case-state.ts';
import type { CaseStats } from './case-stats.ts';
import type { TxRejection } from './chain.ts';
import type { GovernanceState } from './governance-state.ts';
import { reject } from './rules.ts';
import type { CaseWrite, LedgerStore } from './store.ts';

export interface CaseJudgeContext {
  readonly chainId: string;
  /** The registry as of the previous block: roles and client keys. */
  readonly registry: GovernanceState;
  readonly height: number;
  readonly time: number;
  /** The genesis requires sealed case records (ADR 015). */
  readonly sealingRequired: boolean;
  /** The chain's suite (ADR 014), for co-signatures. */
  readonly suite: CryptoSuite;
}

export class CaseBook {
  readonly #states: Map<string, CaseState | undefined>;
  /** Cases changed in this block, in the order of their first change, and whether the block opened them. */
  readonly #changed = new Map<string, boolean>();
  readonly stats: CaseStats | undefined;

  private constructor(states: Map<string, CaseState | undefined>, stats: CaseStats | undefined) {
    this.#states = states;
    this.stats = stats;
  }

  /** Loads the stored states of `caseIds`; `stats` (a copy) receives the block's events. */
  static async load(
    store: LedgerStore,
    caseIds: readonly string[],
    stats: CaseStats | undefined,
  ): Promise<CaseBook> {
    const ids = [...new Set(caseIds)];
    const found = await store.caseStates(ids);
    const states = new Map(ids.map((id, i) => [id, found[i] && decodeCaseState(found[i])] as const));
    return new CaseBook(states, stats);
  }

  /**
   * Judges one event at the block position `index`. With `keep` (in a block) a valid event moves the case and
   * counts in the statistics.
   */
  judge(
    env: TxEnvelope,
    record: CaseRecord,
    index: number,
    ctx: CaseJudgeContext,
    keep: boolean,
  ): TxRejection | undefined {
    const prev = this.#states.get(record.caseId);
    const verdict = applyCaseEvent(prev, record, {
      chainId: ctx.chainId,
      signer: env.tx.institution,
      roleOf: (i) => ctx.registry.roleOf(i),
      clientKey: (i, k) => ctx.registry.clientKeys().get(i)?.get(k),
      encryptionKey: (i) => ctx.registry.encryptionKeyOf(i),
      sealingRequired: ctx.sealingRequired,
      suite: ctx.suite,
      at: { txHash: env.hash, height: ctx.height, index, time: ctx.time },
    });
    if (!verdict.ok) return reject(env, verdict.code, verdict.message);
    if (!keep) return undefined;
    this.#states.set(record.caseId, verdict.state);
    const opened = this.#changed.get(record.caseId) ?? record.event.type === 'open';
    this.#changed.set(record.caseId, opened);
    this.stats?.record(record.event.type, verdict.state, ctx.time);
    return undefined;
  }

  /** The block's case writes: each changed case once, with its state after the block. */
  writes(): CaseWrite[] {
    return [...this.#changed].map(([caseId, opened]) => {
      const state = this.#states.get(caseId)!;
      const first = state.events[0]!;
      return {
        caseId,
        state: encodeCaseState(state),
        opened: opened ? { height: first.height, index: first.index } : undefined,
      };
    });
  }
}
