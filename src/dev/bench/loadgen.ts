/**
 * The cluster benchmark's load generator, run as its own process (bench/cluster.ts forks it) so it never
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
import { type ClientIdentity, presign } from './presign.ts';

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
  blocks: BlockSeen[][];
  exactlyOnce: ExactlyOnce;
  disagreements: number[];
  drained: boolean;
  views: number[];
  /** Consensus messages the validators dropped, by reason, summed (from /v1/status). */
  drops: Record<string, number>;
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
  const txBytes = (i: number) => signed.bytes.subarray(signed.offsets[i]!, signed.offsets[i + 1]!);
  const index = new Map<string, number>();
  signed.hashes.forEach((h, i) => {
    index.set(h, i);
  });

  const n = c.nodes.length;
  const allNodes = (1 << n) - 1;
  const firstSubmit = new Float64Array(c.txs);
  const commitAt = new Float64Array(c.txs);
  const submitNode = new Uint8Array(c.txs);
  /** Bit k: seen in validator k's chain. */
  const committedOn = new Uint32Array(c.txs);
  /** 0 unsent, 1 in a request, 2 acknowledged, 3 refused for good, 4 waiting for a retry. */
  const state = new Uint8Array(c.txs);
  const outstandingFlag = new Uint8Array(c.txs);
  const acked = new Set<string>();
  const submitted = new Set<string>();
  const rejected: Record<string, number> = {};
  let mempoolFullRetries = 0;
  let requestErrors = 0;
  let cursor = 0;
  const retryQueue: number[] = [];

  // ---- outstanding-tx budget ----
  let outstanding = 0;
  let waiters: { need: number; wake: () => void }[] = [];
  const wakeWaiters = () => {
    const still: typeof waiters = [];
    for (const w of waiters) {
      if (outstanding + w.need <= c.concurrency) {
        outstanding += w.need;
        w.wake();
      } else still.push(w);
    }
    waiters = still;
  };
  const acquire = (need: number): Promise<void> => {
    if (waiters.length === 0 && outstanding + need <= c.concurrency) {
      outstanding += need;
      return Promise.resolve();
    }
    return new Promise((wake) => waiters.push({ need, wake }));
  };
  const releaseSlots = (k: number) => {
    outstanding -= k;
    wakeWaiters();
  };
  const release = (i: number) => {
    if (outstandingFlag[i] === 0) return;
    outstandingFlag[i] = 0;
    releaseSlots(1);
  };

  // ---- watchers ----
  const blocks: BlockSeen[][] = c.nodes.map(() => []);
  const chains: string[][] = c.nodes.map(() => []);
  const stopWatch = new AbortController();
  const watchAgents = c.nodes.map(() => new Agent({ keepAlive: true, maxSockets: 2 }));
  const watch = async (k: number) => {
    let h = 1;
    while (!stopWatch.signal.aborted) {
      let r: HttpAnswer;
      try {
        r = await http(
          watchAgents[k]!,
          c.nodes[k]!,
          'GET',
          `/v1/blocks/${h}?wait=${LONG_POLL_MS}`,
          undefined,
          undefined,
          stopWatch.signal,
        );
      } catch {
        if (!stopWatch.signal.aborted) await sleep(100);
        continue;
      }
      if (r.status === 404) continue;
      if (r.status !== 200) {
        await sleep(100);
        continue;
      }
      const seenAt = Date.now();
      const b = JSON.parse(r.body) as { hash: string; header: { txCount: number }; txHashes: string[] };
      blocks[k]!.push({ height: h, hash: b.hash, txCount: b.header.txCount, seenAt });
      for (const hex of b.txHashes) {
        chains[k]!.push(hex);
        const i = index.get(hex);
        if (i === undefined) continue;
        committedOn[i]! |= 1 << k;
        if (submitNode[i] === k && commitAt[i] === 0) {
          commitAt[i] = seenAt;
          release(i);
        }
      }
      h++;
    }
  };
  const watchers = c.nodes.map((_, k) => watch(k));

  // ---- submission ----
  const submitAgents = c.nodes.map(() => new Agent({ keepAlive: true, maxSockets: c.connections }));
  let stopSubmitting = false;
  let ranOutAt: number | undefined;
  const take = (max: number): number[] => {
    const out: number[] = [];
    while (out.length < max && retryQueue.length > 0) out.push(retryQueue.shift()!);
    while (out.length < max && cursor < c.txs) out.push(cursor++);
    return out;
  };

  /** Sends txs to validator k; returns each tx's outcome code ('accepted', 'pending', 'committed' or an error code). */
  const send = async (k: number, txs: number[]): Promise<string[]> => {
    if (c.batch === 1) {
      const r = await http(submitAgents[k]!, c.nodes[k]!, 'POST', '/v1/txs', txBytes(txs[0]!));
      const j = JSON.parse(r.body) as { status?: string; code?: string };
      return [j.status ?? j.code ?? `HTTP_${r.status}`];
    }
    const body = encodeTxList(txs.map(txBytes));
    const r = await http(submitAgents[k]!, c.nodes[k]!, 'POST', '/v1/txs/batch', body, TX_LIST_CONTENT_TYPE);
    const j = JSON.parse(r.body) as { results?: { status?: string; code?: string }[]; code?: string };
    if (j.results === undefined) return txs.map(() => j.code ?? `HTTP_${r.status}`);
    return j.results.map((x) => x.code ?? x.status ?? 'UNKNOWN');
  };

  const lane = async (k: number) => {
    while (!stopSubmitting) {
      await acquire(c.batch);
      if (stopSubmitting) {
        releaseSlots(c.batch);
        return;
      }
      const txs = take(c.batch);
      if (txs.length < c.batch) releaseSlots(c.batch - txs.length);
      if (txs.length === 0) {
        ranOutAt ??= Date.now();
        return;
      }
      const now = Date.now();
      for (const i of txs) {
        if (state[i] === 0) firstSubmit[i] = now;
        state[i] = 1;
        submitNode[i] = k;
        outstandingFlag[i] = 1;
        submitted.add(signed.hashes[i]!);
      }
      let outcomes: string[];
      try {
        outcomes = await send(k, txs);
      } catch {
        requestErrors++;
        outcomes = txs.map(() => 'REQUEST_ERROR');
      }
      let backOff = false;
      txs.forEach((i, j) => {
        const o = outcomes[j] ?? 'UNKNOWN';
        if (o === 'accepted' || o === 'pending' || o === 'committed') {
          state[i] = 2;
          acked.add(signed.hashes[i]!);
          if (commitAt[i] !== 0) release(i);
        } else if (o === 'MEMPOOL_FULL' || o === 'REQUEST_ERROR') {
          if (o === 'MEMPOOL_FULL') mempoolFullRetries++;
          state[i] = 4;
          retryQueue.push(i);
          release(i);
          backOff = true;
        } else {
          state[i] = 3;
          rejected[o] = (rejected[o] ?? 0) + 1;
          release(i);
        }
      });
      if (backOff) await sleep(50);
    }
  };

  // ---- the run ----
  const start = Date.now();
  const window: Window = { start: start + c.warmupS * 1000, end: start + (c.warmupS + c.durationS) * 1000 };
  const lanes: Promise<void>[] = [];
  for (let l = 0; l < c.connections; l++) for (let k = 0; k < n; k++) lanes.push(lane(k));
  const progress = setInterval(() => {
    const now = Date.now();
    let recent = 0;
    let total = 0;
    for (let i = 0; i < cursor; i++) {
      if (commitAt[i] === 0) continue;
      total++;
      if (commitAt[i]! >= now - 5000) recent++;
    }
    const phase = now < window.start ? 'warm-up' : now < window.end ? 'window' : 'drain';
    emit({
      type: 'progress',
      line: `${phase} +${((now - start) / 1000).toFixed(0)}s: ${total} committed, ${(recent / 5).toFixed(0)} tx/s over 5 s, ${outstanding} outstanding`,
    });
  }, 5000);
  await sleep(window.start - Date.now());
  emit({ type: 'window', phase: 'start', at: Date.now() });
  while (Date.now() < window.end && ranOutAt === undefined)
    await sleep(Math.min(200, window.end - Date.now()));
  if (ranOutAt !== undefined && ranOutAt < window.end) window.end = Math.max(window.start, ranOutAt);
  emit({ type: 'window', phase: 'end', at: Date.now() });
  stopSubmitting = true;
  for (const w of waiters.splice(0)) {
    outstanding += w.need;
    w.wake();
  }
  await Promise.all(lanes);

  // Drain: every acknowledged tx on every validator's chain.
  const drainDeadline = Date.now() + c.drainS * 1000;
  const pendingAcked = () => {
    let left = 0;
    for (let i = 0; i < c.txs; i++) if (state[i] === 2 && committedOn[i] !== allNodes) left++;
    return left;
  };
  let left = pendingAcked();
  while (left > 0 && Date.now() < drainDeadline) {
    await sleep(250);
    left = pendingAcked();
  }
  clearInterval(progress);
  stopWatch.abort();
  await Promise.all(watchers);

  const views: number[] = [];
  const drops: Record<string, number> = {};
  for (const base of c.nodes) {
    try {
      const r = await http(watchAgents[0]!, base, 'GET', '/v1/status');
      const st = JSON.parse(r.body) as { view: number; drops: Record<string, number> };
      views.push(st.view);
      for (const [reason, count] of Object.entries(st.drops)) drops[reason] = (drops[reason] ?? 0) + count;
    } catch {
      views.push(-1);
    }
  }
  for (const a of [...submitAgents, ...watchAgents]) a.destroy();

  const commitTimes: number[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < c.txs; i++) {
    if (commitAt[i] === 0) continue;
    commitTimes.push(commitAt[i]!);
    if (state[i] === 2 && firstSubmit[i]! >= window.start && firstSubmit[i]! < window.end) {
      latencies.push(commitAt[i]! - firstSubmit[i]!);
    }
  }
  const chainViews: ChainView[] = chains.map((txHashes, k) => ({ name: `node${k}`, txHashes }));
  return {
    signed: c.txs,
    signSeconds,
    window,
    ranOut: ranOutAt !== undefined,
    submitted: submitted.size,
    acked: acked.size,
    rejected,
    mempoolFullRetries,
    requestErrors,
    commitTimes,
    latencies,
    blocks,
    exactlyOnce: checkExactlyOnce(acked, submitted, chainViews),
    disagreements: disagreements(blocks),
    drained: left === 0,
    views,
    drops,
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
