/**
 * The query load of the performance report's second dimension (docs/benchmark.md, "Queries under load"), run
 * as its own process (cluster.ts forks it) so it never competes with the validators' or the tx load
 * generator's event loops. Open loop: request k is due at start + k / rate whatever the answers do, over
 * keep-alive connections to one validator; its latency runs from when it was due (so a slow server is not
 * hidden by sending less), and requests that could not even be sent because `maxInFlight` were outstanding
 * are counted, not dropped silently. Half the requests (`caseShare`) are `GET /v1/cases/:caseId` signed
 * (RFC 9421) as a client of the node's institution; the rest `GET /v1/evidence/:hash`, unsigned. Both name
 * evidence the tx load generator committed before the window (documents `bench-<runTag>-document-<i>`, 20
 * per case, presign.ts): the highest committed i is found by bisection when the window starts. The API
 * limits requests per client address (2,000/s), so the requests come from several loopback addresses
 * (127.0.0.2, …), each under 1,500/s, as they would from several clients.
 */
import type { KeyObject } from 'node:crypto';
import { Agent, request } from 'node:http';
import { signRequest } from '../../api/http-signature.ts';
import { toHex, utf8 } from '../../core/bytes.ts';
import { privateKeyFromSeed, sha256 } from '../../core/crypto.ts';
import { readKeyFile } from '../../core/keys.ts';
import { percentile } from './stats.ts';

export interface QuerygenConfig {
  /** The API base URL of the validator queried. */
  node: string;
  /** The tx load generator's run tag: the committed documents are `bench-<runTag>-document-<i>`. */
  runTag: string;
  /** Requests per second offered. */
  rate: number;
  /** Share of the requests that are signed case queries (0..1). */
  caseShare: number;
  durationS: number;
  /** A client key of the node's institution (it signs the case queries). */
  client: { institution: string; keyId: string; keyFile: string };
  /** Requests outstanding at most; one due beyond it is counted as not sent. */
  maxInFlight: number;
  connections: number;
}

export interface QueryKindResult {
  /** Requests answered 200. */
  ok: number;
  /** Answers other than 200, and failed requests. */
  errors: Record<string, number>;
  /** Latency from when each request was due, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface QuerygenResult {
  offeredPerSec: number;
  /** Requests answered (any status) per second of the window. */
  achievedPerSec: number;
  /** Requests due that were not sent because `maxInFlight` were outstanding. */
  notSent: number;
  /** Evidence records committed before the window (the pool queried). */
  pool: number;
  byHash: QueryKindResult;
  cases: QueryKindResult;
  /** This process's CPU over the window, in cores. */
  cpuCores: number;
}

export type QuerygenMessage =
  | { type: 'ready' }
  | { type: 'result'; result: QuerygenResult }
  | { type: 'error'; message: string };

const docHash = (runTag: string, i: number) => toHex(sha256(utf8.encode(`bench-${runTag}-document-${i}`)));
const caseOf = (i: number) => `2026-BJ-CC-${String(Math.floor(i / 20)).padStart(7, '0')}`;

function get(
  agent: Agent,
  url: URL,
  headers: Record<string, string>,
  localAddress?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The number of evidence documents committed on the node: the first i whose document it does not hold. */
export async function committedPool(c: QuerygenConfig, agent: Agent): Promise<number> {
  const has = async (i: number) =>
    (await get(agent, new URL(`/v1/evidence/${docHash(c.runTag, i)}`, c.node), {})).status === 200;
  if (!(await has(0))) return 0;
  let lo = 0;
  let hi = 1;
  while (await has(hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await has(mid)) lo = mid;
    else hi = mid;
  }
  // Txs are committed nearly, not exactly, in order: keep to the half certainly behind the front.
  return Math.max(1, Math.floor((lo + 1) / 2));
}

function kindResult(latencies: number[], ok: number, errors: Record<string, number>): QueryKindResult {
  return {
    ok,
    errors,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.reduce((m, v) => Math.max(m, v), 0),
  };
}

export async function runQuerygen(c: QuerygenConfig, started: Promise<void>): Promise<QuerygenResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: c.connections });
  const key: KeyObject = privateKeyFromSeed(readKeyFile(c.client.keyFile).seed);
  const keyid = `${c.client.institution}/${c.client.keyId}`;
  await started;
  const pool = await committedPool(c, agent);
  if (pool === 0) throw new Error('no committed evidence to query when the window started');
  const lat = { byHash: [] as number[], cases: [] as number[] };
  const ok = { byHash: 0, cases: 0 };
  const errors = { byHash: {} as Record<string, number>, cases: {} as Record<string, number> };
  let inFlight = 0;
  let notSent = 0;
  let answered = 0;
  const total = Math.round(c.rate * c.durationS);
  // The API limits each client address to API_REQUEST_RATE (2,000/s): the load comes from several loopback
  // addresses, as it would from several clients, each kept under 1,500/s.
  const sources = Array.from(
    { length: Math.min(250, Math.ceil(c.rate / 1500)) },
    (_, i) => `127.0.0.${i + 2}`,
  );
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let k = 0;
  const pending: Promise<void>[] = [];
  const one = (n: number, due: number) => {
    const i = (n * 7919) % pool;
    // Spread evenly: request n is a case query when the running count of case queries steps up at n.
    const isCase = Math.floor((n + 1) * c.caseShare) > Math.floor(n * c.caseShare);
    const kind = isCase ? 'cases' : 'byHash';
    const url = new URL(
      isCase ? `/v1/cases/${caseOf(i)}?limit=20` : `/v1/evidence/${docHash(c.runTag, i)}`,
      c.node,
    );
    const headers = isCase
      ? { ...signRequest({ method: 'GET', url }, keyid, key, Math.floor(Date.now() / 1000)) }
      : {};
    inFlight++;
    return get(agent, url, headers, sources[n % sources.length]).then(
      (r) => {
        inFlight--;
        answered++;
        lat[kind].push(performance.now() - due);
        if (r.status === 200) ok[kind]++;
        else errors[kind][String(r.status)] = (errors[kind][String(r.status)] ?? 0) + 1;
      },
      (err: Error) => {
        inFlight--;
        const code = (err as { code?: string }).code ?? 'error';
        errors[kind][code] = (errors[kind][code] ?? 0) + 1;
      },
    );
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const dueCount = Math.min(total, Math.floor(((now - t0) / 1000) * c.rate));
      for (; k < dueCount; k++) {
        const due = t0 + (k / c.rate) * 1000;
        if (inFlight >= c.maxInFlight) notSent++;
        else pending.push(one(k, due));
      }
      if (k >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return {
    offeredPerSec: c.rate,
    achievedPerSec: answered / seconds,
    notSent,
    pool,
    byHash: kindResult(lat.byHash, ok.byHash, errors.byHash),
    cases: kindResult(lat.cases, ok.cases, errors.cases),
    cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

if (process.send !== undefined && process.argv[2] === '--child') {
  const send = (m: QuerygenMessage, then?: () => void) => process.send!(m, undefined, {}, then);
  let start: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    start = resolve;
  });
  process.on('message', (m: { type: 'run'; config: QuerygenConfig } | { type: 'start' }) => {
    if (m.type === 'start') {
      start();
      return;
    }
    runQuerygen(m.config, started).then(
      (result) => send({ type: 'result', result }, () => process.disconnect()),
      (err: Error) => send({ type: 'error', message: err.stack ?? err.message }, () => process.disconnect()),
    );
  });
}
