/**
 * Invariants, checked after every step and at every commit:
 * - agreement: no two honest endpoints commit different blocks at one height;
 * - validity: every tx an honest endpoint commits was submitted by a client, and is committed once there;
 * - monotonicity: an honest validator's view and stable checkpoint never go backwards, restarts included;
 * - bounded memory: every growing structure of an honest core stays under a bound that does not grow with
 *   the length of the run;
 * and, at the end, liveness: every tx submitted before the load stops is committed by some honest endpoint
 * within `livenessBoundMs` of virtual time after the later of its submission and the heal time.
 */
import { toHex } from '../../src/core/bytes.ts';
import type { BuiltBlock } from '../../src/ledger/chain.ts';
import type { SimNode } from './node.ts';

export interface Bounds {
  n: number;
  k: number;
  l: number;
  maxPendingTxs: number;
}

export class Checker {
  readonly violations: string[] = [];
  private readonly canonical = new Map<number, string>();
  private readonly committedBy = new Map<number, Set<string>>();
  /** By `epoch/key id`. */
  private readonly lastView = new Map<string, number>();
  /** By key id. */
  private readonly lastStable = new Map<string, number>();
  /** tx hash → first virtual time an honest endpoint committed it. */
  readonly firstCommit = new Map<string, number>();
  /** Virtual time of the last first-commit of a tx. */
  lastCommitAt = 0;
  private readonly bounds: Bounds;
  private readonly isSubmitted: (hashHex: string) => boolean;

  constructor(bounds: Bounds, isSubmitted: (hashHex: string) => boolean) {
    this.bounds = bounds;
    this.isSubmitted = isSubmitted;
  }

  get ok(): boolean {
    return this.violations.length === 0;
  }

  fail(message: string): void {
    if (this.violations.length < 20) this.violations.push(message);
  }

  onCommitted(node: SimNode, blocks: readonly BuiltBlock[], now: number): void {
    if (!node.honest) return;
    let txs = this.committedBy.get(node.id);
    if (txs === undefined) {
      txs = new Set();
      this.committedBy.set(node.id, txs);
    }
    for (const b of blocks) {
      const h = b.header.height;
      const hex = toHex(b.hash);
      const prev = this.canonical.get(h);
      if (prev === undefined) this.canonical.set(h, hex);
      else if (prev !== hex) {
        this.fail(
          `agreement: endpoint ${node.id} committed ${hex.slice(0, 12)} at height ${h}, another honest endpoint ${prev.slice(0, 12)}`,
        );
      }
      for (const t of b.txs) {
        if (!this.isSubmitted(t.hashHex))
          this.fail(`validity: endpoint ${node.id} committed unknown tx ${t.hashHex.slice(0, 12)}`);
        if (txs.has(t.hashHex))
          this.fail(`validity: endpoint ${node.id} committed tx ${t.hashHex.slice(0, 12)} twice`);
        txs.add(t.hashHex);
        if (!this.firstCommit.has(t.hashHex)) {
          this.firstCommit.set(t.hashHex, now);
          this.lastCommitAt = now;
        }
      }
    }
  }

  afterStep(node: SimNode): void {
    if (!node.honest || node.replica === undefined) return;
    const st = node.replica.status();
    // Views restart at 0 in each epoch (ADR 006); stable checkpoints never go back, across epochs too.
    const who = `${node.epoch}/${node.index}`;
    const v = this.lastView.get(who) ?? 0;
    if (st.view < v) this.fail(`monotonic: validator ${who} went from view ${v} back to ${st.view}`);
    this.lastView.set(who, st.view);
    const s = this.lastStable.get(`${node.index}`) ?? 0;
    if (st.stableSeq < s)
      this.fail(`monotonic: validator ${node.index} stable checkpoint ${s} went back to ${st.stableSeq}`);
    this.lastStable.set(`${node.index}`, st.stableSeq);
    const z = node.replica.sizes();
    const { n, k, l, maxPendingTxs } = this.bounds;
    const limits: [keyof typeof z, number][] = [
      ['logEntries', l],
      ['checkpointVotes', n * (l / k + 1)],
      ['pendingTxs', maxPendingTxs],
      // Two views of normal-case messages in the window, plus the current view's up to K above it.
      ['buffered', 2 * 3 * n * l + 3 * n * k],
      ['viewChanges', n],
      ['executedHashes', l + 1],
      ['guardEntries', 2 * l],
    ];
    for (const [key, max] of limits) {
      if (z[key] > max) this.fail(`memory: validator ${node.index} ${key} = ${z[key]} > ${max}`);
    }
  }

  /**
   * At the end, on the executed ledgers themselves (not the commit events): the honest endpoints' chains are
   * prefixes of one chain, and each holds only submitted txs, each once.
   */
  checkLedgers(nodes: readonly SimNode[]): void {
    const chain: string[] = [];
    for (const node of nodes) {
      if (!node.honest) continue;
      const seen = new Set<string>();
      for (const [i, { block }] of node.ledger.blocks.entries()) {
        const hex = toHex(block.hash);
        if (block.header.height !== i + 1)
          this.fail(`ledger: endpoint ${node.id} holds height ${block.header.height} at position ${i + 1}`);
        if (chain[i] === undefined) chain[i] = hex;
        else if (chain[i] !== hex)
          this.fail(
            `agreement: endpoint ${node.id}'s ledger holds ${hex.slice(0, 12)} at height ${i + 1}, another ${chain[i]!.slice(0, 12)}`,
          );
        for (const t of block.txs) {
          if (!this.isSubmitted(t.hashHex) || seen.has(t.hashHex))
            this.fail(
              `validity: endpoint ${node.id}'s ledger holds tx ${t.hashHex.slice(0, 12)} unsubmitted or twice`,
            );
          seen.add(t.hashHex);
        }
      }
    }
  }

  /** Liveness over the submitted txs: `deadline(tx)` is when it must have been committed. */
  checkLiveness(submitted: Iterable<{ hashHex: string; deadline: number }>): void {
    let late = 0;
    let first: string | undefined;
    for (const t of submitted) {
      const at = this.firstCommit.get(t.hashHex);
      if (at === undefined || at > t.deadline) {
        late++;
        first ??= `${t.hashHex.slice(0, 12)} ${at === undefined ? 'never committed' : `committed at +${at - t.deadline}ms past its deadline`}`;
      }
    }
    if (late > 0) this.fail(`liveness: ${late} txs not committed in time (first: ${first})`);
  }

  /**
   * At the end of a run (after the drain): no honest replica is left behind. Each is in the highest view any
   * honest replica runs normally, or in a view change to a later one (a replica that moved ahead alone waits
   * there until the others change view: PBFT never lets it go back); and each has executed at least the
   * highest stable checkpoint of the honest replicas.
   */
  checkParticipation(nodes: readonly SimNode[]): void {
    // With reconfigurations: every honest running endpoint has reached the last epoch, and the members of
    // that epoch are judged as below (endpoints outside the set run no replica).
    const lastEpoch = Math.max(...nodes.filter((n) => n.honest && n.up).map((n) => n.epoch));
    for (const n of nodes) {
      if (n.honest && n.up && n.epoch < lastEpoch)
        this.fail(`participation: endpoint ${n.id} is still in epoch ${n.epoch}, others in ${lastEpoch}`);
    }
    const honest = nodes
      .filter((n) => n.honest && n.replica !== undefined && n.epoch === lastEpoch)
      .map((n) => ({ n, st: n.replica!.status() }));
    const normal = honest.filter((h) => h.st.status === 'normal').map((h) => h.st.view);
    if (normal.length === 0) {
      this.fail('participation: no honest replica is in the normal case at the end');
      return;
    }
    const top = Math.max(...normal);
    const stable = Math.max(...honest.map((h) => h.st.stableSeq));
    for (const { n, st } of honest) {
      const behind = st.status === 'normal' ? st.view < top : st.view <= top;
      if (behind)
        this.fail(
          `participation: validator ${n.index} is in view ${st.view} (${st.status}), others in ${top}`,
        );
      if (st.lastExecuted < stable) {
        this.fail(
          `participation: validator ${n.index} executed ${st.lastExecuted}, below stable checkpoint ${stable}`,
        );
      }
    }
  }

  /** Stricter than participation: every honest replica runs one view, in the normal case. */
  checkViewsConverge(nodes: readonly SimNode[]): void {
    const honest = nodes.filter((n) => n.honest && n.replica !== undefined);
    const views = honest.map((n) => ({ index: n.index, ...n.replica!.status() }));
    const top = Math.max(...views.map((v) => v.view));
    for (const v of views) {
      if (v.status !== 'normal' || v.view !== top)
        this.fail(`views converge: validator ${v.index} is in view ${v.view} (${v.status}), top view ${top}`);
    }
  }

  /** For scenarios where no primary may be suspected: every honest validator stayed in view 0. */
  checkNoViewChange(): void {
    for (const [index, view] of this.lastView) {
      if (view > 0) this.fail(`no view change expected: validator ${index} reached view ${view}`);
    }
  }

  get heights(): number {
    return this.canonical.size;
  }
}
