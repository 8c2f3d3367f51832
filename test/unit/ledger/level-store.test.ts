import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { checkIntegrity } from '../../../src/ledger/integrity.ts';
import { GOVERNANCE_INDEX_KEY, Prefix } from '../../../src/ledger/layout.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import type { LedgerStore } from '../../../src/ledger/store.ts';
import { docHash, evidenceTx, governanceTx, TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { appendBlock, blockWrite, removeDir, tempDir } from '../../helpers/ledger.ts';

const T = TEST_GENESIS_TIME;

import { ledgerStoreCompliance } from './store-compliance.ts';

ledgerStoreCompliance(
  'LevelLedgerStore',
  async () => {
    const dir = await tempDir('level-store');
    return {
      open: () => LevelLedgerStore.open(dir),
      reopen: async (store: LedgerStore) => {
        await store.close();
        return LevelLedgerStore.open(dir);
      },
      cleanup: () => removeDir(dir),
    };
  },
  { persistent: true },
);

describe('LevelLedgerStore governance index', () => {
  let dir: string | undefined;
  afterEach(() => removeDir(dir));

  /** Deletes the governance index and its marker: a data directory written before the index existed. */
  async function dropIndex(): Promise<number> {
    const db = new Level<Uint8Array, Uint8Array>(dir!, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const keys = (await db.keys().all()).filter(
      (k) => k[0] === Prefix.governance || toHex(k) === toHex(GOVERNANCE_INDEX_KEY),
    );
    await db.batch(keys.map((key) => ({ type: 'del' as const, key })));
    await db.close();
    return keys.length;
  }

  it('is rebuilt once when a data directory predates it, and matches what blocks write', async () => {
    dir = await tempDir('level-gov-index');
    let store = await LevelLedgerStore.open(dir);
    const g1 = governanceTx({ kind: 'approve', proposalId: docHash('p1') });
    const g2 = governanceTx({ kind: 'approve', proposalId: docHash('p2') }, { validator: 1 });
    await appendBlock(store, [evidenceTx({ nonce: 1 })], T + 1000);
    // A block with governance txs writes the registry snapshot (its content is the executor's business).
    const w = blockWrite(store.head()!, [evidenceTx({ nonce: 2 }), g1, g2], T + 2000);
    await store.commitBlock({ ...w, governance: new Uint8Array([1, 2, 3]) });
    await appendBlock(store, [], T + 3000);
    const before = (await store.governanceTxs(10)).map((t) => `${t.height}/${t.index}`);
    expect(before).toEqual(['2/1', '2/2']);
    await store.close();

    expect(await dropIndex()).toBe(3);
    store = await LevelLedgerStore.open(dir);
    try {
      expect((await store.governanceTxs(10)).map((t) => `${t.height}/${t.index}`)).toEqual(before);
      expect(await checkIntegrity(store)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('only gains its marker on an old data directory without governance', async () => {
    dir = await tempDir('level-gov-index');
    let store = await LevelLedgerStore.open(dir);
    await appendBlock(store, [evidenceTx({ nonce: 1 })], T + 1000);
    await store.close();
    expect(await dropIndex()).toBe(1);
    store = await LevelLedgerStore.open(dir);
    try {
      expect(await store.governanceTxs(10)).toEqual([]);
      expect(await checkIntegrity(store)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
