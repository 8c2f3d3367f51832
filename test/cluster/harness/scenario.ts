/**
 * Runs one cluster scenario: start an alliance and the load, run the scenario's faults, heal, and check the
 * invariants (checker.ts). Every wait is a condition with a deadline; the deadlines that state liveness are the
 * progress bound below. On failure it prints each validator's status and log tail; processes, proxies and the
 * temp directory are cleaned up whatever happens.
 *
 * The progress bound. Once faults are healed and at most f validators are faulty, new blocks commit within
 *
 *   B = backoff.capMs + requestTimeoutMs + (f + 1) · viewChangeTimeoutMaxMs + MACHINE_SLACK_MS
 *
 * - backoff.capMs (30 s, p2p): a link that failed while cut is redialled within the reconnect backoff cap
 *   (both ends dial, so the first of the two attempts reconnects the pair);
 * - requestTimeoutMs: a replica still in the normal case of a dead view suspects its primary after this;
 * - (f + 1) · viewChangeTimeoutMaxMs: a replica in a view change re-sends its VIEW-CHANGE at least every
 *   viewChangeTimeoutMaxMs (the backoff is capped there), so within one such period every honest replica holds
 *   the others' VIEW-CHANGEs and the f+1 rule brings them to one view; each of at most f faulty primaries in a
 *   row then costs one more view-change timeout;
 * - MACHINE_SLACK_MS: a restarted process loading, state transfer and scheduling delays on two shared cores.
 * With the test genesis (TEST_CONSENSUS): 30 + 3 + 2·8 + 20 = 69 s for n = 4, 77 s for n = 7.
 */
import { appendFileSync } from 'node:fs';
import { afterEach, expect } from 'vitest';
import { type ConsensusParams, DEFAULT_CONSENSUS_PARAMS } from '../../../src/core/params.ts';
import { faultTolerance, quorumSize } from '../../../src/core/validators.ts';
import { DEFAULT_HOST_LIMITS } from '../../../src/p2p/limits.ts';
import { type BlockJson, type CheckReport, checkChains } from './checker.ts';
import { Cluster, type ClusterOptions, TEST_CONSENSUS } from './cluster.ts';
import { getJson } from './http.ts';
import { DEFAULT_LOAD, LoadGenerator, type LoadOptions } from './load.ts';
import type { NodeStatus } from './node-process.ts';

/** Allowance for process start-up, state transfer and scheduling on a loaded two-core machine. */
export const MACHINE_SLACK_MS = 20_000;

export function progressBoundMs(params: ConsensusParams, n: number): number {
  const backoffCap = DEFAULT_HOST_LIMITS.backoff.capMs;
  return (
    backoffCap +
    params.requestTimeoutMs +
    (faultTolerance(n) + 1) * params.viewChangeTimeoutMaxMs +
    MACHINE_SLACK_MS
  );
}

export interface ScenarioOptions extends ClusterOptions {
  load?: Partial<LoadOptions>;
}

/** Every cluster a scenario started and has not destroyed yet: afterEach kills them even if a test hangs. */
const active = new Set<Cluster>();
afterEach(async () => {
  await Promise.allSettled([...active].map((c) => c.destroy()));
  active.clear();
});

export class Scenario {
  readonly cluster: Cluster;
  readonly load: LoadGenerator;
  /** The progress bound B for this alliance (see above), ms. */
  readonly bound: number;
  readonly params: ConsensusParams;
  readonly #notes: Record<string, unknown> = {};
  /** Governance txs the scenario submitted (hex hashes): the checker replays them (ADR 006). */
  readonly governance = new Set<string>();
  /** Evidence txs the scenario submitted itself, outside the load generator (hex hashes). */
  readonly evidence = new Set<string>();

  constructor(cluster: Cluster, load: LoadGenerator, params: ConsensusParams) {
    this.cluster = cluster;
    this.load = load;
    this.params = params;
    this.bound = progressBoundMs(params, cluster.n);
  }

  get q(): number {
    return quorumSize(this.cluster.n);
  }

  get f(): number {
    return faultTolerance(this.cluster.n);
  }

  /** Records a measurement for the scenario's report line. */
  note(key: string, value: unknown): void {
    this.#notes[key] = value;
  }

  get notes(): Record<string, unknown> {
    return this.#notes;
  }

  /** Honest validators whose process runs and is not paused. */
  live(): number[] {
    return this.cluster.honest.filter(
      (i) => this.cluster.nodes[i]!.running && !this.cluster.nodes[i]!.paused,
    );
  }

  async heights(which = this.live()): Promise<Map<number, NodeStatus>> {
    return this.cluster.statuses(which);
  }

  /**
   * Waits until `count` of `nodes` (default: all live honest validators) stand `blocks` above the highest height
   * any of them has now; fails after the progress bound. Returns the time it took, ms.
   */
  async waitProgress(
    what: string,
    o: { nodes?: number[]; blocks?: number; count?: number; timeoutMs?: number } = {},
  ): Promise<number> {
    const nodes = o.nodes ?? this.live();
    const start = Date.now();
    const base = Math.max(0, ...[...(await this.cluster.statuses(nodes)).values()].map((s) => s.height));
    const target = base + (o.blocks ?? 2);
    await this.cluster.waitUntil(
      `${what}: ${o.count ?? nodes.length} of validators ${nodes} to reach height ${target}`,
      async () => {
        const s = await this.cluster.statuses(nodes);
        return [...s.values()].filter((x) => x.height >= target).length >= (o.count ?? nodes.length);
      },
      o.timeoutMs ?? this.bound,
    );
    return Date.now() - start;
  }

  /**
   * Waits until a quorum of `nodes` runs a view above `fromView` in the normal case and has committed a block
   * above `fromHeight`: the view change finished and commits resumed. Returns ms since `since`.
   */
  async waitNewView(
    fromView: number,
    fromHeight: number,
    since: number,
    nodes = this.live(),
  ): Promise<number> {
    const view = await this.cluster.waitUntil(
      `a view above ${fromView} with commits above height ${fromHeight} on a quorum of ${nodes}`,
      async () => {
        const s = [...(await this.cluster.statuses(nodes)).values()].filter(
          (x) => x.view > fromView && x.consensus === 'normal' && x.height > fromHeight,
        );
        return s.length >= Math.min(this.q, nodes.length) ? Math.max(...s.map((x) => x.view)) : undefined;
      },
      this.bound,
    );
    this.note('newView', view);
    return Date.now() - since;
  }

  /**
   * No progress: waits until every one of `nodes` has given up on its view (a view change without a quorum)
   * and, with `reachAtMost`, reaches no more than that many validators (itself included: the network layer
   * noticed the cut); then keeps the load generator trying `attempts` more times, and checks that no height
   * moved meanwhile.
   */
  async expectStalled(nodes: number[], o: { attempts?: number; reachAtMost?: number } = {}): Promise<void> {
    const attempts = o.attempts ?? 8;
    await this.cluster.waitUntil(
      `validators ${nodes} to be stuck in a view change${o.reachAtMost ? ` reaching at most ${o.reachAtMost}` : ''}`,
      async () => {
        const s = [...(await this.cluster.statuses(nodes)).values()];
        return (
          s.length === nodes.length &&
          s.every(
            (x) => x.consensus === 'viewChange' && x.connectedValidators <= (o.reachAtMost ?? this.cluster.n),
          )
        );
      },
      this.bound,
    );
    const before = await this.cluster.statuses(nodes);
    const mark = this.load.unsuccessfulAttempts;
    await this.cluster.waitUntil(
      `${attempts} more unsuccessful submissions`,
      async () => this.load.unsuccessfulAttempts >= mark + attempts,
      this.bound + attempts * (this.load.waitMs + 5000),
    );
    const after = await this.cluster.statuses(nodes);
    for (const i of nodes) {
      const [b, a] = [before.get(i)!, after.get(i)];
      expect(a, `validator ${i} stopped answering`).toBeDefined();
      expect(a!.height, `validator ${i} committed without a quorum`).toBe(b.height);
      expect(a!.headHash).toBe(b.headHash);
    }
    this.note('stalledAttempts', this.load.unsuccessfulAttempts - mark);
  }

  /** Waits until validator i has caught up with the highest height the live honest validators have now. */
  async waitCaughtUp(i: number): Promise<number> {
    const start = Date.now();
    const others = this.live().filter((j) => j !== i);
    const target = Math.max(...[...(await this.cluster.statuses(others)).values()].map((s) => s.height));
    await this.cluster.waitUntil(
      `${this.cluster.nodes[i]!.institution} to catch up to height ${target}`,
      async () => ((await this.cluster.nodes[i]!.tryStatus())?.height ?? -1) >= target,
      this.bound,
    );
    return Date.now() - start;
  }

  /**
   * Waits until validator i commits a block above `fromHeight` by consensus: its own copy's certificate then
   * carries its COMMIT among a quorum (a block it only synced carries the others' certificate).
   */
  async waitValidates(i: number, fromHeight: number): Promise<number> {
    const start = Date.now();
    const node = this.cluster.nodes[i]!;
    let next = fromHeight + 1;
    await this.cluster.waitUntil(
      `${node.institution} to sign a commit certificate above height ${fromHeight}`,
      async () => {
        const head = (await node.tryStatus())?.height ?? 0;
        for (; next <= head; next++) {
          const b = await fetchBlock(node.apiUrl, next);
          if (b.certificate.signers.includes(node.institution)) return true;
        }
        return undefined;
      },
      this.bound,
    );
    return Date.now() - start;
  }

  /** Waits until every live honest validator has the same head. */
  async waitConverged(): Promise<void> {
    await this.cluster.waitUntil(
      'the honest validators to agree on one head',
      async () => {
        const nodes = this.live();
        const s = await this.cluster.statuses(nodes);
        return (
          s.size === nodes.length &&
          new Set([...s.values()].map((x) => `${x.height}/${x.headHash}`)).size === 1
        );
      },
      this.bound,
    );
  }

  /** Heals every fault the scenario may have left, then settles the load and checks every invariant. */
  async finish(): Promise<CheckReport> {
    const c = this.cluster;
    // No honest validator may have died on its own (a crash is a bug even if the others go on).
    for (const i of c.honest) expect(c.nodes[i]!.crashes, `${c.nodes[i]!.institution} crashed`).toEqual([]);
    c.links.healAll();
    if (!c.tsa.running) await c.tsa.start();
    for (const i of c.honest) {
      const n = c.nodes[i]!;
      if (n.paused) n.resume();
      if (!n.running) await c.startNode(i);
    }
    await this.waitProgress('progress after healing');
    await this.load.stop();
    await this.load.settle(this.bound);
    await this.waitConverged();
    const report = await this.check();
    expect(report.violations).toEqual([]);
    expect(this.load.rejections).toEqual([]);
    for (const [i, st] of await c.statuses()) {
      expect(st.ready.reasons.join('; '), `validator ${i}`).not.toMatch(/stopped on an error/);
    }
    for (const i of c.honest) expect(c.nodes[i]!.crashes, `${c.nodes[i]!.institution} crashed`).toEqual([]);
    return report;
  }

  /** Collects every honest live validator's chain and checks the invariants over them. */
  async check(): Promise<CheckReport> {
    const c = this.cluster;
    const nodes = this.live();
    const chains = await Promise.all(
      nodes.map(async (i) => {
        const n = c.nodes[i]!;
        const { height } = await n.status(10_000);
        return { node: n.institution, blocks: await fetchBlocks(n.apiUrl, height) };
      }),
    );
    const acked = new Map([...this.load.acked].map(([h, a]) => [h, a.height] as const));
    let turn = 0;
    return checkChains({
      genesis: c.genesis,
      chains,
      acked,
      submitted: new Set([...this.load.submitted.keys(), ...this.evidence]),
      governance: this.governance,
      txBytes: async (hash) => {
        const n = c.nodes[nodes[turn++ % nodes.length]!]!;
        const r = await getJson<{ bytes: string }>(`${n.apiUrl}/v1/txs/${hash}`);
        return new Uint8Array(Buffer.from(r.bytes, 'base64'));
      },
    });
  }
}

export { getJson } from './http.ts';

export function fetchBlock(apiUrl: string, height: number): Promise<BlockJson> {
  return getJson<BlockJson>(`${apiUrl}/v1/blocks/${height}`);
}

/** Blocks 1..height, a few requests at a time. */
export async function fetchBlocks(apiUrl: string, height: number): Promise<BlockJson[]> {
  const out: BlockJson[] = new Array(height);
  let next = 1;
  const worker = async () => {
    while (next <= height) {
      const h = next++;
      out[h - 1] = await fetchBlock(apiUrl, h);
    }
  };
  await Promise.all([...Array(6)].map(worker));
  return out;
}

/**
 * Runs a scenario: creates and starts the alliance and the load, runs `body`, then `finish()` (heal, settle,
 * invariants). Prints a one-line report (and appends it to $JRCHAIN_CLUSTER_REPORT when set).
 */
export async function runScenario(o: ScenarioOptions, body: (s: Scenario) => Promise<void>): Promise<void> {
  const t0 = Date.now();
  const cluster = await Cluster.create(o);
  active.add(cluster);
  const params = { ...DEFAULT_CONSENSUS_PARAMS, ...TEST_CONSENSUS, ...o.consensus };
  // Clients submit to honest validators only: an acknowledgement from a Byzantine one proves nothing.
  const load = new LoadGenerator(
    LoadGenerator.identities(
      cluster.genesis.chainId,
      // The genesis institutions: the others are not registered until governance adds them.
      cluster.nodes
        .slice(0, o.validators)
        .map((n) => ({ id: n.institution, keyFile: cluster.clientKey(n.index) })),
    ),
    () =>
      cluster.honest
        .filter((i) => cluster.nodes[i]!.running)
        .map((i) => ({ index: i, apiUrl: cluster.nodes[i]!.apiUrl })),
    o.name,
    { ...DEFAULT_LOAD, ...o.load },
  );
  try {
    await cluster.start();
    const tReady = Date.now();
    const s = new Scenario(cluster, load, params);
    load.start();
    await body(s);
    const tBody = Date.now();
    const report = await s.finish();
    const line = {
      scenario: o.name,
      validators: cluster.n,
      setupMs: tReady - t0,
      faultsMs: tBody - tReady,
      finishMs: Date.now() - tBody,
      totalMs: Date.now() - t0,
      boundMs: s.bound,
      height: report.height,
      txs: report.txs,
      acked: load.acked.size,
      anchors: report.anchors,
      attempts: load.outcomes,
      ...s.notes,
      warnings: Object.fromEntries(
        cluster.honest
          .map((i) => [cluster.nodes[i]!.institution, cluster.nodes[i]!.problems()] as const)
          .filter(([, p]) => Object.keys(p).length > 0),
      ),
    };
    console.log(`cluster scenario ${JSON.stringify(line)}`);
    const file = process.env.JRCHAIN_CLUSTER_REPORT;
    if (file) appendFileSync(file, `${JSON.stringify(line)}\n`);
  } catch (err) {
    console.error(
      `cluster scenario ${o.name} failed: ${(err as Error).message}\n${await cluster.diagnostics()}`,
    );
    throw err;
  } finally {
    const stopped = load.stop();
    active.delete(cluster);
    await cluster.destroy();
    await stopped;
  }
}
