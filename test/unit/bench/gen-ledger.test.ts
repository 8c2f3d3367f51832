import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { benchGenesis, blockTime, recordTx, writeLedger } from '../../../bench/ledger-records.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { certify } from '../../helpers/fixtures.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jrchain-gen-ledger-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every Level entry of the ledger in `dir`, hex key to hex value. */
async function entries(dir: string): Promise<Map<string, string>> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  try {
    const out = new Map<string, string>();
    for await (const [k, v] of db.iterator()) out.set(toHex(k), toHex(v));
    return out;
  } finally {
    await db.close();
  }
}

/** The same records as writeLedger, built and committed by the node's LedgerChain (every tx executed). */
async function chainLedger(dir: string, records: number, txsPerBlock: number): Promise<void> {
  const store = await LevelLedgerStore.open(dir);
  const chain = await LedgerChain.open(store, benchGenesis);
  for (let first = 0, height = 1; first < records; first += txsPerBlock, height++) {
    const time = blockTime(height);
    const count = Math.min(txsPerBlock, records - first);
    const txs = Array.from({ length: count }, (_, i) => recordTx(first + i, time));
    const proposer = (height - 1) % benchGenesis.validators.length;
    const built = await chain.buildBlock({ proposer, view: 0, time, txs });
    expect(built.rejected).toEqual([]);
    await chain.commitBlock(built, certify(built.header));
  }
  await store.close();
}

async function generated(dir: string, records: number, txsPerBlock: number, workers: number) {
  const store = await LevelLedgerStore.open(dir);
  try {
    return await writeLedger(store, records, txsPerBlock, () => {}, workers);
  } finally {
    await store.close();
  }
}

describe('bench:gen-ledger writes the ledger the node would', () => {
  it('has byte-identical Level entries to one LedgerChain built, signed on workers or not', async () => {
    const [byChain, onWorkers, inThread] = [tempDir(), tempDir(), tempDir()];
    await chainLedger(byChain, 47, 10);
    const a = await generated(onWorkers, 47, 10, 2);
    const b = await generated(inThread, 47, 10, 0);
    expect(a.blocks).toBe(5);
    expect(toHex(a.headHash)).toBe(toHex(b.headHash));
    const expected = await entries(byChain);
    expect(expected.size).toBeGreaterThan(47 * 5);
    expect(await entries(onWorkers)).toEqual(expected);
    expect(await entries(inThread)).toEqual(expected);
  }, 60_000);
});
