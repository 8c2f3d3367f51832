/**
 * `jrchain bench --workload cases`: the seed-scale case history (docs/benchmark.md "Case workload") executed by
 * the ledger on LevelDB, in-process (no consensus or network: the cluster benchmark measures those). Reports
 * how fast the executor records the history, and the latency of the case and statistics queries on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genesisHash } from '../../core/genesis.ts';
import { CaseStats, statsView } from '../../ledger/case-stats.ts';
import { LedgerChain } from '../../ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../ledger/level-store.ts';
import { LedgerQueries } from '../../ledger/queries.ts';
import { caseWorkloadBlocks, certifyWorkloadBlock, workloadGenesis } from './case-workload.ts';
import { percentile } from './stats.ts';

export interface CasesBenchOptions {
  cases: number;
  evidencePerCase: number;
  seed: number;
  queries: number;
  dir?: string | undefined;
  keep: boolean;
}

export interface CasesBenchResult {
  workload: {
    cases: number;
    evidencePerCase: number;
    seed: number;
    txs: number;
    caseTxs: number;
    blocks: number;
  };
  /** Signing the history (client side), then executing and committing it (verify, judge, write). */
  seconds: { sign: number; execute: number };
  txPerSecond: number;
  /** Query latency in ms: p50 and p99. */
  latencyMs: Record<'case' | 'caseWithEvidence' | 'caseList' | 'stats', { p50: number; p99: number }>;
  stats: Record<string, unknown>;
}

async function timed(n: number, run: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run(i);
    samples.push(performance.now() - t);
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

export async function runCasesBench(
  o: CasesBenchOptions,
  log: (line: string) => void,
): Promise<CasesBenchResult> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'jrchain-cases-bench-'));
  const genesis = workloadGenesis();
  const store = await LevelLedgerStore.open(join(dir, 'ledger'));
  try {
    const chain = await LedgerChain.open(store, genesis);
    const gHash = genesisHash(genesis);
    let sign = 0;
    let execute = 0;
    let txs = 0;
    let caseTxs = 0;
    let blocks = 0;
    const workload = caseWorkloadBlocks({ cases: o.cases, evidencePerCase: o.evidencePerCase, seed: o.seed });
    for (
      let t0 = performance.now(), next = workload.next();
      !next.done;
      t0 = performance.now(), next = workload.next()
    ) {
      const t1 = performance.now();
      sign += t1 - t0;
      const block = next.value;
      const built = await chain.buildBlock({ proposer: 0, view: 0, time: block.time, txs: block.txs });
      if (built.rejected.length > 0)
        throw new Error(`workload tx rejected: ${built.rejected[0]!.code} ${built.rejected[0]!.message}`);
      await chain.commitBlock(built, certifyWorkloadBlock(built.header, gHash));
      execute += performance.now() - t1;
      txs += block.txs.length;
      caseTxs += block.txs.filter((t) => t.tx.type === 'case').length;
      if (++blocks % 50 === 0) log(`block ${blocks}: ${txs} txs committed`);
    }
    const queries = new LedgerQueries(store, genesis);
    const ids = (i: number) => `2025-CC-${String((i * 7919) % o.cases).padStart(7, '0')}`;
    const latencyMs = {
      case: await timed(o.queries, (i) => queries.case(ids(i))),
      caseWithEvidence: await timed(o.queries, (i) =>
        Promise.all([queries.case(ids(i)), queries.evidenceByCase(ids(i))]),
      ),
      caseList: await timed(o.queries, () => queries.cases({ limit: 100 })),
      // Uncached: read every statistics group from the store and decode it, as after each new block.
      stats: await timed(Math.min(o.queries, 200), async () => CaseStats.decode(await store.caseStats())),
    };
    const all = (await queries.caseStats()).group('all');
    return {
      workload: { cases: o.cases, evidencePerCase: o.evidencePerCase, seed: o.seed, txs, caseTxs, blocks },
      seconds: { sign: sign / 1000, execute: execute / 1000 },
      txPerSecond: txs / (execute / 1000),
      latencyMs,
      stats: all === undefined ? {} : statsView(all),
    };
  } finally {
    await store.close();
    if (!o.keep && o.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

export function formatCasesResult(r: CasesBenchResult): string {
  const w = r.workload;
  const s = r.stats as {
    opened?: number;
    successRate?: number;
    confirmed?: number;
    mediationHours?: Record<string, number>;
  };
  const lat = Object.entries(r.latencyMs)
    .map(([k, v]) => `  ${k.padEnd(17)} p50 ${v.p50.toFixed(3)} ms   p99 ${v.p99.toFixed(3)} ms`)
    .join('\n');
  return [
    `case workload: ${w.cases} cases, ${w.txs} txs (${w.caseTxs} case events, ${w.txs - w.caseTxs} evidence) in ${w.blocks} blocks, seed ${w.seed}`,
    `signing ${r.seconds.sign.toFixed(1)} s; executing and committing ${r.seconds.execute.toFixed(1)} s: ${r.txPerSecond.toFixed(0)} tx/s`,
    'query latency:',
    lat,
    `statistics: opened ${s.opened}, success rate ${((s.successRate ?? 0) * 100).toFixed(1)} %, ` +
      `mediation avg ${s.mediationHours?.average?.toFixed(1)} h (p50 ${s.mediationHours?.p50?.toFixed(2)} h, p90 ${s.mediationHours?.p90?.toFixed(2)} h), judicial confirmations ${s.confirmed}`,
  ].join('\n');
}
