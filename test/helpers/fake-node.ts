/**
 * The node's HTTP API over a memory ledger and FakeConsensus: what CLI and API tests talk to when they need
 * a node but not consensus. Blocks commit when the test calls commit(), or right after each accepted tx
 * with `autoCommit`.
 */
import { AuditLog } from '../../src/api/audit.ts';
import type { CaseKeyLookup } from '../../src/api/case-routes.ts';
import { ApiServer } from '../../src/api/http.ts';
import { type ApiBackend, apiRoutes, MAX_TX_BODY_BYTES, type SubmitOutcome } from '../../src/api/routes.ts';
import type { Genesis } from '../../src/core/genesis.ts';
import type { TxEnvelope } from '../../src/core/tx.ts';
import { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../src/ledger/queries.ts';
import { FakeConsensus } from './fake-consensus.ts';

export interface FakeNode {
  url: string;
  consensus: FakeConsensus;
  queries: LedgerQueries;
  /** The audit log of case reads (in memory). */
  audit: AuditLog;
  commit(): Promise<void>;
  setReady(ready: boolean, reasons?: string[]): void;
  stop(): Promise<void>;
}

export async function startFakeNode(
  genesis: Genesis,
  opts: { now?: () => number; autoCommit?: boolean; caseKeys?: CaseKeyLookup } = {},
): Promise<FakeNode> {
  const now = opts.now ?? (() => Date.now());
  const audit = new AuditLog(undefined, now);
  const store = new MemoryLedgerStore();
  const chain = await LedgerChain.open(store, genesis);
  const consensus = new FakeConsensus(chain, now);
  const queries = new LedgerQueries(store, genesis);
  const listeners = new Set<(hashes: readonly Uint8Array[]) => void>();
  let ready = { ready: true, reasons: [] as string[] };
  let committing = Promise.resolve();
  const commit = () => {
    committing = committing.then(async () => {
      const built = await consensus.commit();
      for (const l of listeners) l(built.txs.map((t) => t.hash));
    });
    return committing;
  };
  const backend: ApiBackend = {
    genesis,
    queries,
    async submit(env: TxEnvelope): Promise<SubmitOutcome> {
      if (await queries.tx(env.hash)) return { status: 'committed' };
      if (consensus.mempool.some((t) => t.hashHex === env.hashHex)) return { status: 'pending' };
      const rejection = await consensus.submit(env);
      if (rejection) return { status: 'rejected', rejection };
      if (opts.autoCommit) setImmediate(() => void commit());
      return { status: 'accepted' };
    },
    async submitMany(envs: readonly TxEnvelope[]): Promise<SubmitOutcome[]> {
      const out: SubmitOutcome[] = [];
      for (const env of envs) out.push(await backend.submit(env));
      return out;
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status: async () => ({
      chainId: genesis.chainId,
      height: queries.head().height,
      view: 0,
      primary: genesis.validators[0]!.institution,
    }),
    ready: () => ready,
    caseKeys: opts.caseKeys,
    metrics: async () => ({
      contentType: 'text/plain; version=0.0.4',
      text: `jrchain_height ${queries.head().height}\n`,
    }),
  };
  const server = new ApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: apiRoutes(backend, { now, audit }),
    maxBodyBytes: MAX_TX_BODY_BYTES,
    logger: { warn: () => {}, error: () => {} },
  });
  const url = await server.start();
  return {
    url,
    consensus,
    queries,
    audit,
    commit,
    setReady: (r, reasons = []) => {
      ready = { ready: r, reasons };
    },
    stop: () => server.stop(),
  };
}
