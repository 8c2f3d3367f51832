/** The integrity checker must notice missing, extra and altered entries, or the crash test proves nothing. */
import { afterEach, describe, expect, it } from 'vitest';
import { checkIntegrity } from '../../../src/ledger/integrity.ts';
import { Prefix } from '../../../src/ledger/layout.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { assign, casesGenesis, commitCaseBlock, open } from '../../helpers/cases.ts';
import { batchOf, openChain, runBlock } from '../../helpers/chain.ts';
import { anchorTx, evidenceTx, TEST_GENESIS_TIME } from '../../helpers/fixtures.ts';
import { appendBlock, removeDir, tempDir } from '../../helpers/ledger.ts';

type Entries = [Uint8Array, Uint8Array][];

/** The store seen through a filter over its raw entries. */
function tampered(store: LevelLedgerStore, edit: (entries: Entries) => Entries) {
  return {
    head: () => store.head(),
    block: (h: number) => store.block(h),
    tx: (hash: Uint8Array) => store.tx(hash),
    async *rawEntries() {
      const all: Entries = [];
      for await (const e of store.rawEntries()) all.push(e);
      yield* edit(all);
    },
  };
}

describe('checkIntegrity', () => {
  let dir: string | undefined;
  let store: LevelLedgerStore | undefined;
  afterEach(async () => {
    await store?.close();
    await removeDir(dir);
  });

  it('passes a sound ledger and flags missing, unexpected and altered entries', async () => {
    dir = await tempDir('integrity');
    store = await LevelLedgerStore.open(dir);
    const chain = await openChain(store);
    for (let h = 1; h <= 3; h++) {
      const txs = [1, 2, 3].map((j) =>
        evidenceTx({ nonce: h * 10 + j, createdAt: TEST_GENESIS_TIME + h * 1000 }),
      );
      await runBlock(chain, batchOf(txs, TEST_GENESIS_TIME + h * 1000));
    }
    await store.consensus.put(new Uint8Array([1]), new Uint8Array([2])); // consensus state is not ledger data
    expect(await checkIntegrity(store)).toEqual([]);

    const isCase = (k: Uint8Array) => k[0] === Prefix.evidenceByCase;
    const dropOne = await checkIntegrity(
      tampered(store, (es) => es.filter((e, i) => !(isCase(e[0]) && i % 2 === 0))),
    );
    expect(dropOne.some((p) => p.startsWith('missing entry 06'))).toBe(true);

    const beyondHead = new Uint8Array([Prefix.txAt, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0]);
    const extra = await checkIntegrity(tampered(store, (es) => [...es, [beyondHead, new Uint8Array([1])]]));
    expect(extra).toEqual([expect.stringContaining('unexpected entry 03000000000000000400')]);

    const altered = await checkIntegrity(
      tampered(store, (es) => es.map(([k, v]) => [k, k[0] === Prefix.txByHash ? v.map((b) => b ^ 1) : v])),
    );
    expect(altered.filter((p) => p.includes('other bytes'))).toHaveLength(9);
  });
});

describe('checkIntegrity with anchors', () => {
  let dir: string | undefined;
  let store: LevelLedgerStore | undefined;
  afterEach(async () => {
    await store?.close();
    await removeDir(dir);
  });

  it('expects each anchor index entry, and flags anchors that name another header', async () => {
    dir = await tempDir('integrity-anchor');
    store = await LevelLedgerStore.open(dir);
    const token = new Uint8Array([0x30]);
    const b1 = await appendBlock(store, [], TEST_GENESIS_TIME + 1000);
    await appendBlock(store, [anchorTx({ height: 1, headerHash: b1.hash, token })], TEST_GENESIS_TIME + 2000);
    expect(await checkIntegrity(store)).toEqual([]);

    const noAnchorIndex = await checkIntegrity(
      tampered(store, (es) => es.filter(([k]) => k[0] !== Prefix.anchor)),
    );
    expect(noAnchorIndex).toEqual([expect.stringMatching(/^missing entry 0a0000000000000001$/)]);

    // The store does not judge anchors; the checker notices one that names a header other than the stored one.
    await appendBlock(store, [anchorTx({ height: 2, headerHash: b1.hash, token })], TEST_GENESIS_TIME + 3000);
    expect(await checkIntegrity(store)).toEqual(["anchor 3/0 names another header than block 2's"]);
  });
});

describe('checkIntegrity with cases', () => {
  let dir: string | undefined;
  let store: LevelLedgerStore | undefined;
  afterEach(async () => {
    await store?.close();
    await removeDir(dir);
  });

  it('passes stored case states and the case list, and flags a case missing from the list or an unreadable state', async () => {
    dir = await tempDir('integrity-cases');
    store = await LevelLedgerStore.open(dir);
    const chain = await LedgerChain.open(store, casesGenesis());
    const txs = [open('INT-1'), assign('INT-1')];
    await commitCaseBlock(chain, txs, TEST_GENESIS_TIME + 1000);
    expect(await checkIntegrity(store)).toEqual([]);
    const unlisted = await checkIntegrity(
      tampered(store, (es) => es.filter(([k]) => k[0] !== Prefix.caseOpened)),
    );
    expect(unlisted).toEqual(['case INT-1 is not in the case list']);
    const broken = await checkIntegrity(
      tampered(store, (es) => es.map(([k, v]) => [k, k[0] === Prefix.caseState ? v.subarray(0, 5) : v])),
    );
    expect(broken.some((p) => /case state .* does not decode/.test(p))).toBe(true);
  });
});
