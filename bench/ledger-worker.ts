/**
 * Worker thread of `writeLedger` (bench/ledger-records.ts): signs the txs of the blocks it is asked for and
 * sends them back (envelopes, decoded records, Merkle root), so block signing uses every core.
 */
import { parentPort } from 'node:worker_threads';
import { blockTxs } from './ledger-records.ts';

parentPort?.on('message', (job: { id: number; first: number; count: number; time: number }) => {
  parentPort!.postMessage({ id: job.id, ...blockTxs(job.first, job.count, job.time) });
});
