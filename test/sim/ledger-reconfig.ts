/**
 * Reconfiguration on the production ledger (issue 14): validators are added and removed by signed governance
 * txs (ADR 006) that go through the same client path as the load, are executed by LedgerChain and its
 * GovernanceState, and change the epoch at the height the ledger decides. A scripted client proposes each
 * change as one validator and approves it as just enough others for a quorum of the set in force, once their
 * ledgers hold the proposal. A joining validator starts outside the set and follows the chain by the production
 * state sync until its driver enters the epoch that includes it; a removed one keeps running outside the set.
 *
 * Checked at the end, beside the run's own checks (agreement, validity, liveness, the observer, which also
 * flags any honest validator sending in an epoch whose set it is not in): every change passed, at the same
 * height on every ledger, and the epoch changes exactly there with the expected members; each joiner later
 * committed blocks through consensus; a removed validator committed none through consensus from its removal on.
 */
import type { GovernanceAction } from '../../src/core/governance.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { quorumSize } from '../../src/core/validators.ts';
import { governanceTx, TEST_GENESIS_TIME } from '../helpers/fixtures.ts';
import type { Script, ScriptEnv } from './driver-sim.ts';
import { institutionId, type LedgerWorldChain, simValidatorSigners } from './ledger-world.ts';

/** One validator-set change: a validator (endpoint index) is added or removed. */
export type Change = { add: number } | { remove: number };

/** When the first change is proposed, and the pause after one is in force before the next. */
const FIRST_AT_MS = 600;
const PAUSE_MS = 300;
const POLL_MS = 100;
/**
 * Once every change is in force, one tx every PROBE_EVERY_MS until each joiner has committed a block through
 * consensus, for at most PROBE_FOR_MS: the load may have ended, and a joiner that caught up by state sync only
 * after the last block (the changes' own blocks can be the last ones) would otherwise have nothing to commit.
 */
const PROBE_EVERY_MS = 200;
const PROBE_FOR_MS = 4000;

interface Step {
  readonly change: Change;
  propose?: TxEnvelope;
  /** Endpoints that approve (with the proposer, a quorum of the set in force). */
  approvers: number[];
  phase: 'waiting' | 'proposed' | 'approved' | 'done';
  /** The first height of the epoch it starts. */
  effectiveHeight: number;
}

function action(change: Change): GovernanceAction {
  if ('add' in change) {
    const signer = simValidatorSigners(change.add + 1)[change.add]!;
    return { type: 'addValidator', institution: institutionId(change.add), publicKey: signer.publicKey };
  }
  return { type: 'removeValidator', institution: institutionId(change.remove) };
}

/** Governance txs are the same bytes in every run of a scenario: signed once per process. */
const govTxCache = new Map<string, TxEnvelope>();

/** A governance tx signed by endpoint `by`'s validator key. */
function govTx(record: Parameters<typeof governanceTx>[0], by: number): TxEnvelope {
  // The record holds only strings, numbers and byte arrays: its JSON names it.
  const key = `${by}:${JSON.stringify(record)}`;
  let tx = govTxCache.get(key);
  if (tx === undefined) {
    tx = governanceTx(record, {
      institution: institutionId(by),
      signer: simValidatorSigners(by + 1)[by]!,
      createdAt: TEST_GENESIS_TIME + 1000,
    });
    govTxCache.set(key, tx);
  }
  return tx;
}

/**
 * The script for `changes`, applied one after the other to a world whose genesis set is endpoints
 * 0..`validators`−1 (reconfigWorld).
 */
export function reconfiguration(validators: number, changes: readonly Change[]): (env: ScriptEnv) => Script {
  return (env) => new Reconfiguration(env, validators, changes);
}

class Reconfiguration implements Script {
  private readonly env: ScriptEnv;
  private readonly steps: Step[];
  /** Endpoints in the set in force, as the script expects it after each change. */
  private members: number[];
  private readonly expected: number[][] = [];
  private current = 0;
  /** Per endpoint, the heights it committed through consensus. */
  private readonly byConsensus = new Map<number, number[]>();

  constructor(env: ScriptEnv, validators: number, changes: readonly Change[]) {
    this.env = env;
    this.members = [...Array(validators).keys()];
    this.expected.push(this.members);
    this.steps = changes.map((change) => ({
      change,
      approvers: [],
      phase: 'waiting',
      effectiveHeight: 0,
    }));
    env.at(FIRST_AT_MS, () => this.poll());
  }

  onCommit(i: number, height: number, viaConsensus: boolean): void {
    if (!viaConsensus) return;
    const list = this.byConsensus.get(i) ?? [];
    list.push(height);
    this.byConsensus.set(i, list);
  }

  private poll(): void {
    const step = this.steps[this.current];
    if (step === undefined) return;
    if (step.phase === 'waiting') this.proposeStep(step);
    else if (step.phase === 'proposed') this.approveStep(step);
    else if (step.phase === 'approved' && this.inForce(step)) {
      step.phase = 'done';
      this.current++;
      if (this.current === this.steps.length) this.probe(this.env.elapsed() + PROBE_FOR_MS);
      else this.env.at(this.env.elapsed() + PAUSE_MS, () => this.poll());
      return;
    }
    this.env.at(this.env.elapsed() + POLL_MS, () => this.poll());
  }

  private probe(until: number): void {
    if (this.env.elapsed() > until || this.joiners().every((j) => this.joined(j) !== undefined)) return;
    this.env.loadTx();
    this.env.at(this.env.elapsed() + PROBE_EVERY_MS, () => this.probe(until));
  }

  /** The steps that add a validator, with the height up to which it stays (a later step removing it). */
  private joiners(): { step: Step; until: number }[] {
    return this.steps.flatMap((step, k) => {
      if (!('add' in step.change)) return [];
      const added = step.change.add;
      const removal = this.steps.slice(k + 1).find((s) => 'remove' in s.change && s.change.remove === added);
      return [{ step, until: removal?.effectiveHeight || Number.POSITIVE_INFINITY }];
    });
  }

  /** The first height the joiner committed through consensus while a member; undefined if none. */
  private joined({ step, until }: { step: Step; until: number }): number | undefined {
    const added = (step.change as { add: number }).add;
    return (this.byConsensus.get(added) ?? []).find((h) => h >= step.effectiveHeight && h < until);
  }

  /** Proposed by the first member that stays; approved by the next ones up to a quorum of the set in force. */
  private proposeStep(step: Step): void {
    const removed = 'remove' in step.change ? step.change.remove : -1;
    const voters = this.members.filter((m) => m !== removed);
    const [proposer, ...rest] = voters;
    step.approvers = rest.slice(0, quorumSize(this.members.length) - 1);
    const record = {
      kind: 'propose' as const,
      deadline: TEST_GENESIS_TIME + 600_000,
      action: action(step.change),
    };
    step.propose = govTx(record, proposer!);
    this.env.submit(step.propose);
    step.phase = 'proposed';
    const next = 'add' in step.change ? [...this.members, step.change.add] : voters;
    this.members = next.sort((a, b) => a - b);
    this.expected.push(this.members);
  }

  /** An approval is judged against committed state: each approver's ledger must hold the proposal first. */
  private approveStep(step: Step): void {
    const propose = step.propose!;
    const known = (a: number) => this.env.running(a) && this.ledger(a).governance.proposal(propose.hashHex);
    if (!step.approvers.every(known)) return;
    for (const a of step.approvers) this.env.submit(govTx({ kind: 'approve', proposalId: propose.hash }, a));
    step.phase = 'approved';
  }

  /** Passed, and every running validator's ledger has reached the new epoch. */
  private inForce(step: Step): boolean {
    for (let i = 0; i < this.env.n; i++) {
      if (!this.env.running(i)) continue;
      const p = this.ledger(i).governance.proposal(step.propose!.hashHex);
      if (p?.status !== 'passed' || this.ledger(i).head().height < p.effectiveHeight - 1) return false;
      step.effectiveHeight = p.effectiveHeight;
    }
    return true;
  }

  private ledger(i: number) {
    return (this.env.chain(i) as LedgerWorldChain).chain;
  }

  end(): void {
    const done = this.steps.filter((s) => s.phase === 'done').length;
    if (done < this.steps.length) {
      this.env.fail(`reconfiguration: ${done} of ${this.steps.length} changes in force by the end`);
      return;
    }
    for (let i = 0; i < this.env.n; i++) this.checkLedger(i);
    for (const j of this.joiners())
      if (this.joined(j) === undefined)
        this.env.fail(
          `reconfiguration: joiner ${(j.step.change as { add: number }).add} committed nothing through consensus`,
        );
    for (const step of this.steps) {
      const mine = (i: number) => (this.byConsensus.get(i) ?? []).filter((h) => h >= step.effectiveHeight);
      if ('remove' in step.change && mine(step.change.remove).length > 0)
        this.env.fail(
          `reconfiguration: removed validator ${step.change.remove} still committed by consensus`,
        );
    }
  }

  /** Every change passed at the same height on this ledger, and the epochs switch exactly there. */
  private checkLedger(i: number): void {
    const ledger = this.ledger(i);
    for (const [k, step] of this.steps.entries()) {
      const p = ledger.governance.proposal(step.propose!.hashHex);
      const at = step.effectiveHeight;
      if (p?.status !== 'passed' || p.effectiveHeight !== at) {
        this.env.fail(
          `reconfiguration: validator ${i} has change ${k} ${p?.status ?? 'unknown'} at ${p?.effectiveHeight}`,
        );
        continue;
      }
      const before = ledger.epochAt(at - 1);
      const after = ledger.epochAt(at);
      const want = this.expected[k + 1]!.map(institutionId).join(',');
      const got = after.set.validators.map((v) => v.institution).join(',');
      if (before.epoch !== k || after.epoch !== k + 1 || after.firstHeight !== at || got !== want)
        this.env.fail(
          `reconfiguration: validator ${i} epochs at ${at}: ${before.epoch} -> ${after.epoch} [${got}], want ${k} -> ${k + 1} [${want}]`,
        );
    }
  }
}
