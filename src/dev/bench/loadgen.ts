/**
 * The cluster benchmark's load generator, run as its own process (cluster.ts forks it) so it never
 * competes with the validators' event loops. It pre-signs every tx before the clock starts, then submits them
 * to all validators round-robin over keep-alive connections, keeping at most `concurrency` txs outstanding
 * (submitted and not yet seen committed): a closed loop, as clients that wait for their receipts would be.
 * A watcher per validator follows its chain with long-polls (`GET /v1/blocks/:height?wait=`), so a tx's commit
 * time is when the validator it was submitted to served the block holding it. After the window it drains
 * (waits until every acknowledged tx is on every validator's chain) and checks exactly-once delivery.
 */
import { Agent, request } from 'node:http';
import { TX_LIST_CONTENT_TYPE } from '../../api/routes.ts';
import { encodeTxList } from '../../core/tx.ts';
import {
  type BlockSeen,
  type ChainView,
  checkExactlyOnce,
  disagreements,
  type ExactlyOnce,
  type Window,
} from './cluster-report.ts';
import { type ClientIdentity, presign, type SignedTxs } from './presign.ts';
import { probeUnresolved, type UnresolvedSplit } from './unresolved.ts';

export interface LoadgenConfig {
  /** API base URLs, one per validator. */
  nodes: string[];
  chainId: string;
  clients: ClientIdentity[];
  txs: number;
  /** Most txs outstanding (submitted, not yet seen committed) at any time. */
  concurrency: number;
  /** Txs per submit request (1: `POST /v1/txs` with one tx; more: `POST /v1/txs/batch`). */
  batch: number;
  /** Requests in flight per validator. */
  connections: number;
  /** Offered load, tx/s: submissions are paced to it (still within `concurrency`); absent: as fast as taken. */
  rate?: number;
  warmupS: number;
  durationS: number;
  /** Longest wait after the window for every acknowledged tx to be committed everywhere. */
  drainS: number;
  runTag: string;
}

export interface LoadgenResult {
  signed: number;
  signSeconds: number;
  window: Window;
  /** The txs ran out before the planned end of the window, which was cut there. */
  ranOut: boolean;
  submitted: number;
  acked: number;
  rejected: Record<string, number>;
  mempoolFullRetries: number;
  requestErrors: number;
  /** Commit times (on the submitting validator) of every committed tx. */
  commitTimes: number[];
  /** Submit→commit latency of every tx first submitted inside the window. */
  latencies: number[];
  /** When each of those txs was first submitted (epoch ms), in the order of `latencies`. */
  submitTimes: number[];
  blocks: BlockSeen[][];
  exactlyOnce: ExactlyOnce;
  disagreements: number[];
  drained: boolean;
  /** Where the acknowledged txs still uncommitted after the drain were (probeUnresolved). */
  unresolved: UnresolvedSplit;
  views: number[];
  /** Consensus messages the validators dropped, by reason, summed (from /v1/status). */
  drops: Record<string, number>;
  /** The backups' compact PRE-PREPARE counts, summed (from /v1/status). */
  prePrepareTxs: Record<string, number>;
  /** Request timeouts that made a validator suspect the primary, by cause, summed (from /v1/status). */
  suspicions: Record<string, number>;
}

export type LoadgenMessage =
  | { type: 'signed'; count: number; seconds: number }
  | { type: 'window'; phase: 'start' | 'end'; at: number }
  | { type: 'progress'; line: string }
  | { type: 'result'; result: LoadgenResult }
  | { type: 'error'; message: string };

const TX_TTL_MS = 3_600_000;
const LONG_POLL_MS = 10_000;

interface HttpAnswer {
  status: number;
  body: string;
}

function http(
  agent: Agent,
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: Uint8Array,
  contentType?: string,
  signal?: AbortSignal,
): Promise<HttpAnswer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (body !== undefined) {
      headers['content-type'] = contentType ?? 'application/octet-stream';
      headers['content-length'] = body.length;
    }
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** At most `limit` txs outstanding: lanes wait here for slots, and commits (or refusals) give them back. */
class SlotBudget {
  outstanding = 0;
  private readonly limit: number;
  private waiters: { need: number; wake: () => void }[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  acquire(need: number): Promise<void> {
    if (this.waiters.length === 0 && this.outstanding + need <= this.limit) {
      this.outstanding += need;
      return Promise.resolve();
    }
    return new Promise((wake) => this.waiters.push({ need, wake }));
  }

  release(k: number): void {
    this.outstanding -= k;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.outstanding + w.need <= this.limit) {
        this.outstanding += w.need;
        w.wake();
      } else still.push(w);
    }
    this.waiters = still;
  }

  /** Wakes every waiting lane (the run is stopping; they give their slots back). */
  wakeAll(): void {
    for (const w of this.waiters.splice(0)) {
      this.outstanding += w.need;
      w.wake();
    }
  }
}

/** Tx states: unsent, in a request, acknowledged, refused for good, waiting for a retry. */
const TxState = { unsent: 0, sending: 1, acked: 2, refused: 3, retry: 4 } as const;

/** One load run: pre-signed txs submitted over lanes, and a watcher per validator following its chain. */
class LoadRun {
  private readonly c: LoadgenConfig;
  private readonly signed: SignedTxs;
  private readonly index = new Map<string, number>();
  private readonly firstSubmit: Float64Array;
  private readonly commitAt: Float64Array;
  private readonly submitNode: Uint8Array;
  /** Bit k: seen in validator k's chain. */
  private readonly committedOn: Uint32Array;
  private readonly state: Uint8Array;
  private readonly outstandingFlag: Uint8Array;
  private readonly budget: SlotBudget;
  readonly acked = new Set<string>();
  readonly submitted = new Set<string>();
  readonly rejected: Record<string, number> = {};
  mempoolFullRetries = 0;
  requestErrors = 0;
  private cursor = 0;
  private readonly retryQueue: number[] = [];
  readonly blocks: BlockSeen[][];
  readonly chains: string[][];
  private readonly stopWatch = new AbortController();
  private readonly watchAgents: Agent[];
  private readonly submitAgents: Agent[];
  stopSubmitting = false;
  ranOutAt: number | undefined;
  /** With a rate: when the next request may go (epoch ms); every lane books its slot here. */
  private nextSendAt = 0;

  constructor(c: LoadgenConfig, signed: SignedTxs) {
    this.c = c;
    this.signed = signed;
    signed.hashes.forEach((h, i) => {
      this.index.set(h, i);
    });
    this.firstSubmit = new Float64Array(c.txs);
    this.commitAt = new Float64Array(c.txs);
    this.submitNode = new Uint8Array(c.txs);
    this.committedOn = new Uint32Array(c.txs);
    this.state = new Uint8Array(c.txs);
    this.outstandingFlag = new Uint8Array(c.txs);
    this.budget = new SlotBudget(c.concurrency);
    this.blocks = c.nodes.map(() => []);
    this.chains = c.nodes.map(() => []);
    this.watchAgents = c.nodes.map(() => new Agent({ keepAlive: true, maxSockets: 2 }));
    this.submitAgents = c.nodes.map(() => new Agent({ keepAlive: true, maxSockets: c.connections }));
  }

  get outstanding(): number {
    return this.budget.outstanding;
  }

  private txBytes(i: number): Uint8Array {
    return this.signed.bytes.subarray(this.signed.offsets[i]!, this.signed.offsets[i + 1]!);
  }

  private release(i: number): void {
    if (this.outstandingFlag[i] === 0) return;
    this.outstandingFlag[i] = 0;
    this.budget.release(1);
  }

  /** Follows validator k's chain with long-polls until the run stops watching. */
  async watch(k: number): Promise<void> {
    const signal = this.stopWatch.signal;
    let h = 1;
    while (!signal.aborted) {
      let r: HttpAnswer;
      try {
        const path = `/v1/blocks/${h}?wait=${LONG_POLL_MS}`;
        r = await http(this.watchAgents[k]!, this.c.nodes[k]!, 'GET', path, undefined, undefined, signal);
      } catch {
        if (!signal.aborted) await sleep(100);
        continue;
      }
      if (r.status === 404) continue;
      if (r.status !== 200) {
        await sleep(100);
        continue;
      }
      this.seen(
        k,
        h,
        JSON.parse(r.body) as { hash: string; header: { txCount: number }; txHashes: string[] },
      );
      h++;
    }
  }

  private seen(
    k: number,
    height: number,
    b: { hash: string; header: { txCount: number }; txHashes: string[] },
  ) {
    const seenAt = Date.now();
    this.blocks[k]!.push({ height, hash: b.hash, txCount: b.header.txCount, seenAt });
    for (const hex of b.txHashes) {
      this.chains[k]!.push(hex);
      const i = this.index.get(hex);
      if (i === undefined) continue;
      this.committedOn[i]! |= 1 << k;
      if (this.submitNode[i] === k && this.commitAt[i] === 0) {
        this.commitAt[i] = seenAt;
        this.release(i);
      }
    }
  }

  stopWatching(): void {
    this.stopWatch.abort();
  }

  private take(max: number): number[] {
    const out: number[] = [];
    while (out.length < max && this.retryQueue.length > 0) out.push(this.retryQueue.shift()!);
    while (out.length < max && this.cursor < this.c.txs) out.push(this.cursor++);
    return out;
  }

  /** Sends txs to validator k; each tx's outcome code ('accepted', 'pending', 'committed' or an error code). */
  private async send(k: number, txs: number[]): Promise<string[]> {
    const agent = this.submitAgents[k]!;
    const base = this.c.nodes[k]!;
    if (this.c.batch === 1) {
      const r = await http(agent, base, 'POST', '/v1/txs', this.txBytes(txs[0]!));
      const j = JSON.parse(r.body) as { status?: string; code?: string };
      return [j.status ?? j.code ?? `HTTP_${r.status}`];
    }
    const body = encodeTxList(txs.map((i) => this.txBytes(i)));
    const r = await http(agent, base, 'POST', '/v1/txs/batch', body, TX_LIST_CONTENT_TYPE);
    const j = JSON.parse(r.body) as { results?: { status?: string; code?: string }[]; code?: string };
    if (j.results === undefined) return txs.map(() => j.code ?? `HTTP_${r.status}`);
    return j.results.map((x) => x.code ?? x.status ?? 'UNKNOWN');
  }

  /** One submit lane to validator k: takes slots, sends a batch, records the outcomes, until stopped. */
  async lane(k: number): Promise<void> {
    const batch = this.c.batch;
    while (!this.stopSubmitting) {
      await this.budget.acquire(batch);
      if (this.stopSubmitting) {
        this.budget.release(batch);
        return;
      }
      const txs = this.take(batch);
      if (txs.length < batch) this.budget.release(batch - txs.length);
      if (txs.length === 0) {
        this.ranOutAt ??= Date.now();
        return;
      }
      await this.pace(txs.length);
      this.sending(k, txs);
      let outcomes: string[];
      try {
        outcomes = await this.send(k, txs);
      } catch {
        this.requestErrors++;
        outcomes = txs.map(() => 'REQUEST_ERROR');
      }
      const backOff = txs.map((i, j) => this.outcome(i, outcomes[j] ?? 'UNKNOWN')).some((retry) => retry);
      if (backOff) await sleep(50);
    }
  }

  /** Waits for this request's turn at the offered rate (none: at once). */
  private async pace(n: number): Promise<void> {
    const rate = this.c.rate;
    if (rate === undefined) return;
    const now = Date.now();
    const at = Math.max(now, this.nextSendAt);
    this.nextSendAt = at + (n * 1000) / rate;
    if (at > now) await sleep(at - now);
  }

  private sending(k: number, txs: number[]): void {
    const now = Date.now();
    for (const i of txs) {
      if (this.state[i] === TxState.unsent) this.firstSubmit[i] = now;
      this.state[i] = TxState.sending;
      this.submitNode[i] = k;
      this.outstandingFlag[i] = 1;
      this.submitted.add(this.signed.hashes[i]!);
    }
  }

  /** Records one tx's outcome; true when it goes back in the queue (the lane then backs off). */
  private outcome(i: number, o: string): boolean {
    if (o === 'accepted' || o === 'pending' || o === 'committed') {
      this.state[i] = TxState.acked;
      this.acked.add(this.signed.hashes[i]!);
      if (this.commitAt[i] !== 0) this.release(i);
      return false;
    }
    if (o === 'MEMPOOL_FULL' || o === 'REQUEST_ERROR') {
      if (o === 'MEMPOOL_FULL') this.mempoolFullRetries++;
      this.state[i] = TxState.retry;
      this.retryQueue.push(i);
      this.release(i);
      return true;
    }
    this.state[i] = TxState.refused;
    this.rejected[o] = (this.rejected[o] ?? 0) + 1;
    this.release(i);
    return false;
  }

  /** Stops the lanes: no new batches, and waiting lanes wake to give their slots back. */
  stopLanes(): void {
    this.stopSubmitting = true;
    this.budget.wakeAll();
  }

  progressLine(start: number, window: Window): string {
    const now = Date.now();
    let recent = 0;
    let total = 0;
    for (let i = 0; i < this.cursor; i++) {
      if (this.commitAt[i] === 0) continue;
      total++;
      if (this.commitAt[i]! >= now - 5000) recent++;
    }
    const phase = now < window.start ? 'warm-up' : now < window.end ? 'window' : 'drain';
    return `${phase} +${((now - start) / 1000).toFixed(0)}s: ${total} committed, ${(recent / 5).toFixed(0)} tx/s over 5 s, ${this.outstanding} outstanding`;
  }

  /** Acknowledged txs not yet on every validator's chain. */
  pendingAcked(): number {
    const allNodes = (1 << this.c.nodes.length) - 1;
    let left = 0;
    for (let i = 0; i < this.c.txs; i++) {
      if (this.state[i] === TxState.acked && this.committedOn[i] !== allNodes) left++;
    }
    return left;
  }

  /**
   * Re-offers each acknowledged tx not on every chain to every validator (after the run, watchers stopped):
   * 'pending' means that validator's pool still holds it, 'accepted' that it had no copy.
   */
  probeUnresolved(): Promise<UnresolvedSplit> {
    const allNodes = (1 << this.c.nodes.length) - 1;
    const txs: { i: number; onChains: number }[] = [];
    for (let i = 0; i < this.c.txs; i++) {
      if (this.state[i] === TxState.acked && this.committedOn[i] !== allNodes)
        txs.push({ i, onChains: this.committedOn[i]! });
    }
    return probeUnresolved(txs, this.c.nodes.length, async (k, batch) => {
      const body = encodeTxList(batch.map((i) => this.txBytes(i)));
      const r = await http(
        this.submitAgents[k]!,
        this.c.nodes[k]!,
        'POST',
        '/v1/txs/batch',
        body,
        TX_LIST_CONTENT_TYPE,
      );
      const j = JSON.parse(r.body) as { results?: { status?: string; code?: string }[]; code?: string };
      return batch.map(
        (_, n) => j.results?.[n]?.code ?? j.results?.[n]?.status ?? j.code ?? `HTTP_${r.status}`,
      );
    });
  }

  /** Every validator's view and consensus drops (from /v1/status), after the run. */
  async finalStatus(): Promise<{
    views: number[];
    drops: Record<string, number>;
    prePrepareTxs: Record<string, number>;
    suspicions: Record<string, number>;
  }> {
    const views: number[] = [];
    const drops: Record<string, number> = {};
    const prePrepareTxs: Record<string, number> = {};
    const suspicions: Record<string, number> = {};
    for (const base of this.c.nodes) {
      try {
        const r = await http(this.watchAgents[0]!, base, 'GET', '/v1/status');
        const st = JSON.parse(r.body) as {
          view: number;
          drops: Record<string, number>;
          prePrepareTxs?: Record<string, number>;
          suspicions?: Record<string, number>;
        };
        views.push(st.view);
        addCounts(drops, st.drops);
        addCounts(prePrepareTxs, st.prePrepareTxs ?? {});
        addCounts(suspicions, st.suspicions ?? {});
      } catch {
        views.push(-1);
      }
    }
    for (const a of [...this.submitAgents, ...this.watchAgents]) a.destroy();
    return { views, drops, prePrepareTxs, suspicions };
  }

  /** Commit times of every committed tx, and the latencies of those first submitted inside the window. */
  timings(window: Window): { commitTimes: number[]; latencies: number[]; submitTimes: number[] } {
    const commitTimes: number[] = [];
    const latencies: number[] = [];
    const submitTimes: number[] = [];
    for (let i = 0; i < this.c.txs; i++) {
      if (this.commitAt[i] === 0) continue;
      commitTimes.push(this.commitAt[i]!);
      const first = this.firstSubmit[i]!;
      if (this.state[i] === TxState.acked && first >= window.start && first < window.end) {
        latencies.push(this.commitAt[i]! - first);
        submitTimes.push(first);
      }
    }
    return { commitTimes, latencies, submitTimes };
  }
}

/** Submits until the window ends (or the txs run out), then stops the lanes. Returns the window as run. */
async function runWindow(run: LoadRun, c: LoadgenConfig, emit: (m: LoadgenMessage) => void): Promise<Window> {
  const start = Date.now();
  const window: Window = { start: start + c.warmupS * 1000, end: start + (c.warmupS + c.durationS) * 1000 };
  const lanes: Promise<void>[] = [];
  for (let l = 0; l < c.connections; l++) for (let k = 0; k < c.nodes.length; k++) lanes.push(run.lane(k));
  const progress = setInterval(() => emit({ type: 'progress', line: run.progressLine(start, window) }), 5000);
  try {
    await sleep(window.start - Date.now());
    emit({ type: 'window', phase: 'start', at: Date.now() });
    while (Date.now() < window.end && run.ranOutAt === undefined)
      await sleep(Math.min(200, window.end - Date.now()));
    if (run.ranOutAt !== undefined && run.ranOutAt < window.end) {
      window.end = Math.max(window.start, run.ranOutAt);
    }
    emit({ type: 'window', phase: 'end', at: Date.now() });
    run.stopLanes();
    await Promise.all(lanes);
    await drain(run, c.drainS);
  } finally {
    clearInterval(progress);
  }
  return window;
}

/** Waits up to `drainS` seconds for every acknowledged tx to be on every validator's chain. */
async function drain(run: LoadRun, drainS: number): Promise<void> {
  const deadline = Date.now() + drainS * 1000;
  while (run.pendingAcked() > 0 && Date.now() < deadline) await sleep(250);
}

export async function runLoadgen(
  c: LoadgenConfig,
  emit: (m: LoadgenMessage) => void,
): Promise<LoadgenResult> {
  const t0 = performance.now();
  const signed = await presign({
    chainId: c.chainId,
    clients: c.clients,
    count: c.txs,
    createdAt: Date.now(),
    ttlMs: TX_TTL_MS,
    runTag: c.runTag,
  });
  const signSeconds = (performance.now() - t0) / 1000;
  emit({ type: 'signed', count: c.txs, seconds: signSeconds });
  const run = new LoadRun(c, signed);
  const watchers = c.nodes.map((_, k) => run.watch(k));
  const window = await runWindow(run, c, emit);
  const left = run.pendingAcked();
  run.stopWatching();
  await Promise.all(watchers);
  const unresolved = await run.probeUnresolved();
  const { views, drops, prePrepareTxs, suspicions } = await run.finalStatus();
  const chainViews: ChainView[] = run.chains.map((txHashes, k) => ({ name: `node${k}`, txHashes }));
  return {
    signed: c.txs,
    signSeconds,
    window,
    ranOut: run.ranOutAt !== undefined,
    submitted: run.submitted.size,
    acked: run.acked.size,
    rejected: run.rejected,
    mempoolFullRetries: run.mempoolFullRetries,
    requestErrors: run.requestErrors,
    ...run.timings(window),
    blocks: run.blocks,
    exactlyOnce: checkExactlyOnce(run.acked, run.submitted, chainViews),
    disagreements: disagreements(run.blocks),
    drained: left === 0,
    unresolved,
    views,
    drops,
    prePrepareTxs,
    suspicions,
  };
}

if (process.send !== undefined && process.argv[2] === '--child') {
  const send = (m: LoadgenMessage, then?: () => void) => process.send!(m, undefined, {}, then);
  process.once('message', (m: { type: 'run'; config: LoadgenConfig }) => {
    runLoadgen(m.config, send).then(
      (result) => send({ type: 'result', result }, () => process.disconnect()),
      (err: Error) => send({ type: 'error', message: err.stack ?? err.message }, () => process.disconnect()),
    );
  });
}

function addCounts(into: Record<string, number>, counts: Record<string, number>): void {
  for (const [k, n] of Object.entries(counts)) into[k] = (into[k] ?? 0) + n;
}
