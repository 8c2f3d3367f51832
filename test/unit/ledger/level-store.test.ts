import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { checkIntegrity } from '../../../src/ledger/integrity.ts';
import {
  ARCHIVE_INDEX_KEY,
  GOVERNANCE_INDEX_KEY,
  Prefix,
  STAMP_INDEX_KEY,
} from '../../../src/ledger/layout.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import type { LedgerStore } from '../../../src/ledger/store.ts';
import {
  anchorTx,
  docHash,
  evidenceTx,
  governanceTx,
  hashRenewalTx,
  TEST_GENESIS_TIME,
} from '../../helpers/fixtures.ts';
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

describe('LevelLedgerStore archive index', () => {
  let dir: string | undefined;
  afterEach(() => removeDir(dir));

  /** A store whose block 2 anchors block 1 with an archive timestamp, and block 3 with a renewal. */
  async function archived(): Promise<LevelLedgerStore> {
    dir = await tempDir('level-archive-index');
    const store = await LevelLedgerStore.open(dir);
    const b1 = await appendBlock(store, [evidenceTx({ nonce: 1 })], T + 1000);
    const token = new Uint8Array([0x30, 0x01, 0x01]);
    const anchor = { height: 1, headerHash: b1.hash, token };
    const archive = { from: 1, root: docHash('root'), token };
    const b2 = await appendBlock(store, [anchorTx({ ...anchor, archive }, { validator: 1 })], T + 2000);
    const renewal = { upTo: 1, root: docHash('renewal'), token };
    const next = { height: 2, headerHash: b2.hash, token, renewal };
    await appendBlock(store, [anchorTx(next, { validator: 2 })], T + 3000);
    return store;
  }

  async function editRaw(edit: (db: Level<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
    const db = new Level<Uint8Array, Uint8Array>(dir!, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    await edit(db);
    await db.close();
  }

  it('is rebuilt once when a data directory predates it, and matches what blocks write', async () => {
    let store = await archived();
    const before = await store.archiveIndex();
    expect(before.map((e) => e.anchored)).toEqual([1, 2]);
    await store.close();
    await editRaw(async (db) => {
      const keys = (await db.keys().all()).filter(
        (k) => k[0] === Prefix.archive || toHex(k) === toHex(ARCHIVE_INDEX_KEY),
      );
      expect(keys).toHaveLength(3);
      await db.batch(keys.map((key) => ({ type: 'del' as const, key })));
    });
    store = await LevelLedgerStore.open(dir!);
    try {
      expect(await store.archiveIndex()).toEqual(before);
      expect(await checkIntegrity(store)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('is covered by the integrity check: an edited or missing entry is reported', async () => {
    let store = await archived();
    await store.close();
    const key = new Uint8Array([Prefix.archive, 0, 0, 0, 0, 0, 0, 0, 1]);
    await editRaw(async (db) => {
      const v = (await db.get(key))!;
      await db.put(key, new Uint8Array([...v.slice(0, -1), v.at(-1)! ^ 1]));
      await db.del(new Uint8Array([Prefix.archive, 0, 0, 0, 0, 0, 0, 0, 2]));
    });
    store = await LevelLedgerStore.open(dir!);
    try {
      expect(await checkIntegrity(store)).toEqual([
        `entry ${toHex(key)} holds other bytes than its block wrote`,
        `missing entry ${toHex(key).slice(0, -1)}2`,
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('the stamp index and the request list (0x13, 0x14, ADR 018)', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await removeDir(dir);
    dir = undefined;
  });

  it('are rebuilt once when a data directory predates them, and match what blocks write', async () => {
    dir = await tempDir('level-stamp-index');
    let store = await LevelLedgerStore.open(dir);
    const ev = evidenceTx({ nonce: 1 });
    const b1 = await appendBlock(store, [ev], T + 1000);
    const request = hashRenewalTx(ev, { nonce: 2 });
    const token = new Uint8Array([0x30, 0x01, 0x01]);
    const archive = { from: 1, root: docHash('root'), token };
    const anchor = { height: 1, headerHash: b1.hash, token, archive };
    const b2 = await appendBlock(store, [request, anchorTx(anchor, { validator: 1 })], T + 2000);
    const hashRenewal = {
      hashAlg: 'sha512' as const,
      requests: [request.hash],
      root: new Uint8Array(64),
      token,
    };
    const stamping = anchorTx({ height: 2, headerHash: b2.hash, token, hashRenewal }, { validator: 2 });
    await appendBlock(store, [stamping], T + 3000);
    const requests = (await store.hashRenewalRequestsFrom(1)).map((r) => r.env.hashHex);
    const stamps = (await store.stampAnchors()).map((a) => a.env.hashHex);
    expect([requests, stamps]).toEqual([[request.hashHex], [stamping.hashHex]]);
    await store.close();
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    const keys = (await db.keys().all()).filter(
      (k) => k[0] === Prefix.stamp || k[0] === Prefix.hashRenewalAt || toHex(k) === toHex(STAMP_INDEX_KEY),
    );
    expect(keys).toHaveLength(3);
    await db.batch(keys.map((key) => ({ type: 'del' as const, key })));
    await db.close();
    store = await LevelLedgerStore.open(dir);
    try {
      expect((await store.hashRenewalRequestsFrom(1)).map((r) => r.env.hashHex)).toEqual(requests);
      expect((await store.stampAnchors()).map((a) => a.env.hashHex)).toEqual(stamps);
      expect(await checkIntegrity(store)).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
