/**
 * The synthetic evidence ledger the ledger, sync and scale benchmarks share: record n is a realistic evidence tx
 * (a statement PDF with a label) signed by one of the four test institutions, in a case of RECORDS_PER_CASE
 * records, and block h (from 1) holds records (h-1)·txsPerBlock … at time TEST_GENESIS_TIME + h s. Every tx is
 * really signed and every block carries a real commit certificate of the test validators, so a node of the test
 * genesis syncs it and checks everything (`writeLedger` writes it straight to a store, without executing it:
 * what execution would store, since every tx is valid).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type BlockHeader, headerHash } from '../src/core/block.ts';
import { utf8 } from '../src/core/bytes.ts';
import { type Ed25519Signer, sha256 } from '../src/core/crypto.ts';
import { encodeEvidence } from '../src/core/evidence.ts';
import { genesisHash, genesisValidatorSet } from '../src/core/genesis.ts';
import { merkleRoot } from '../src/core/merkle.ts';
import { envelope, signTx, type TxEnvelope } from '../src/core/tx.ts';
import { validatorSetHash } from '../src/core/validators.ts';
import type { LevelLedgerStore } from '../src/ledger/level-store.ts';
import { decodeTxRecord, type TxRecord } from '../src/ledger/records.ts';
import {
  certify,
  TEST_CHAIN_ID,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testGenesis,
  testSigner,
} from '../test/helpers/fixtures.ts';

/** Records per case: a case query returns this many entries. */
export const RECORDS_PER_CASE = 20;
export const benchGenesis = testGenesis();
const signers: Ed25519Signer[] = TEST_INSTITUTIONS.map((i) => testSigner(`${i}/client-1`));

export function docHash(n: number): Uint8Array {
  return sha256(utf8.encode(`bench-document-${n}`));
}

export function caseId(n: number): string {
  return `2026-BJ-CC-${String(Math.floor(n / RECORDS_PER_CASE)).padStart(7, '0')}`;
}

/** The time of block `height`. */
export function blockTime(height: number): number {
  return TEST_GENESIS_TIME + height * 1000;
}

/** Record n, in a block at `time`. */
export function recordTx(n: number, time: number): TxEnvelope {
  const inst = n % TEST_INSTITUTIONS.length;
  const payload = encodeEvidence({
    hashAlg: 'sha256',
    hash: docHash(n),
    caseId: caseId(n),
    evidenceType: 'statement',
    mediaType: 'application/pdf',
    size: 40_000 + (n % 9000),
    label: 'Monthly card statement',
  });
  const tx = signTx(
    {
      chainId: TEST_CHAIN_ID,
      type: 'evidence',
      institution: TEST_INSTITUTIONS[inst]!,
      keyId: 'client-1',
      nonce: n,
      createdAt: time - 500,
      ttlMs: 3_600_000,
      payload,
    },
    signers[inst]!,
  );
  return envelope(tx);
}

/** The txs of one block: records first … first+count-1 at `time`, their decoded records and Merkle root. */
export interface BlockTxs {
  readonly txs: TxEnvelope[];
  readonly records: TxRecord[];
  readonly txRoot: Uint8Array;
}

export function blockTxs(first: number, count: number, time: number): BlockTxs {
  const txs = Array.from({ length: count }, (_, i) => recordTx(first + i, time));
  return {
    txs,
    records: txs.map((t) => decodeTxRecord(t.tx)),
    txRoot: merkleRoot(txs.map((t) => t.hash)),
  };
}

export interface WrittenLedger {
  readonly blocks: number;
  readonly records: number;
  readonly headHash: Uint8Array;
}

/**
 * Appends certified blocks of `txsPerBlock` records to an empty store until it holds `records` records,
 * through the store's own `commitBlock` (the node's write path). The blocks' txs are signed on `workers` worker
 * threads (0: on this thread), a few blocks ahead, while this thread certifies and writes them in order.
 * `progress` is called after each block.
 */
export async function writeLedger(
  store: LevelLedgerStore,
  records: number,
  txsPerBlock: number,
  progress: (written: number) => void = () => {},
  workers = 0,
): Promise<WrittenLedger> {
  if (store.head() !== undefined) throw new Error('writeLedger needs an empty store');
  const setHash = validatorSetHash(genesisValidatorSet(benchGenesis));
  const pool = workers > 0 ? new SignerPool(workers) : undefined;
  const make = (first: number, time: number): Promise<BlockTxs> => {
    const count = Math.min(txsPerBlock, records - first);
    return pool === undefined ? Promise.resolve(blockTxs(first, count, time)) : pool.run(first, count, time);
  };
  const blocks = Math.ceil(records / txsPerBlock);
  const window = pool === undefined ? 1 : 2 * workers + 1;
  const ahead: Promise<BlockTxs>[] = [];
  const ask = (height: number) => {
    if (height <= blocks) ahead.push(make((height - 1) * txsPerBlock, blockTime(height)));
  };
  let prev = genesisHash(benchGenesis);
  let writing: Promise<void> = Promise.resolve();
  try {
    for (let h = 1; h <= window; h++) ask(h);
    for (let height = 1; height <= blocks; height++) {
      const { txs, records: decoded, txRoot } = await ahead.shift()!;
      ask(height + window);
      const time = blockTime(height);
      const header: BlockHeader = {
        chainId: benchGenesis.chainId,
        height,
        prevHash: prev,
        txRoot,
        txCount: txs.length,
        proposer: (height - 1) % benchGenesis.validators.length,
        view: 0,
        time,
        validatorSetHash: setHash,
      };
      const hash = headerHash(header);
      const write = { header, hash, cert: certify(header), txs, records: decoded };
      await writing;
      progress((height - 1) * txsPerBlock);
      writing = store.commitBlock(write);
      prev = hash;
    }
    await writing;
  } finally {
    // Settle what is still in flight before the workers go, so no rejection is left unhandled.
    await Promise.allSettled([writing, ...ahead]);
    await pool?.close();
  }
  progress(records);
  return { blocks, records, headHash: prev };
}

interface BlockJob {
  readonly id: number;
  readonly first: number;
  readonly count: number;
  readonly time: number;
}

/** Worker threads running `blockTxs` (bench/ledger-worker.ts), jobs dealt round robin. */
class SignerPool {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, { resolve: (b: BlockTxs) => void; reject: (e: Error) => void }>();
  #next = 0;
  /** Set when a worker failed: later jobs are refused rather than posted to a dead worker, never to answer. */
  #failed: Error | undefined;

  constructor(n: number) {
    this.#workers = Array.from({ length: n }, () => {
      const w = new Worker(new URL('./ledger-worker.ts', import.meta.url));
      w.on('message', (m: BlockTxs & { id: number }) => {
        this.#pending.get(m.id)?.resolve(m);
        this.#pending.delete(m.id);
      });
      w.on('error', (err) => this.#failAll(err));
      w.on('exit', (code) => this.#failAll(new Error(`ledger worker exited with ${code}`)));
      return w;
    });
  }

  run(first: number, count: number, time: number): Promise<BlockTxs> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    const id = this.#next++;
    const job: BlockJob = { id, first, count, time };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#workers[id % this.#workers.length]!.postMessage(job);
    });
  }

  #failAll(err: Error): void {
    this.#failed ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#failed ??= new Error('ledger worker pool closed');
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** What `npm run bench:gen-ledger` wrote, kept next to the ledger so the benchmarks know its records. */
export interface LedgerInfo {
  readonly records: number;
  readonly txsPerBlock: number;
  readonly blocks: number;
  /** Hex header hash of the last block. */
  readonly headHash: string;
}

const INFO_FILE = 'bench-ledger.json';

export function writeLedgerInfo(dir: string, info: LedgerInfo): void {
  writeFileSync(join(dir, INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readLedgerInfo(dir: string): LedgerInfo {
  return JSON.parse(readFileSync(join(dir, INFO_FILE), 'utf8')) as LedgerInfo;
}
