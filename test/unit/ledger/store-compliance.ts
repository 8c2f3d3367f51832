/**
 * The LedgerStore compliance suite, run against every implementation (memory-store.test.ts,
 * level-store.test.ts). Expected answers come from a plain list of what was committed, filtered in the test:
 * a third, obviously correct implementation of every query.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AnchorRecord, decodeAnchor } from '../../../src/core/anchor.ts';
import { equalBytes, toHex } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { InvariantError } from '../../../src/core/errors.ts';
import type { EvidenceRecord } from '../../../src/core/evidence.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { archiveIndexEntry } from '../../../src/ledger/archive-index.ts';
import { LedgerErrorCode } from '../../../src/ledger/errors.ts';
import { encodeCursor, PAGE_LIMIT_MAX } from '../../../src/ledger/paging.ts';
import type {
  AnchorEntry,
  BlockWrite,
  EvidenceEntry,
  LedgerStore,
  PageRequest,
} from '../../../src/ledger/store.ts';
import { codeOfAsync as codeOf } from '../../helpers/errors.ts';
import {
  anchorTx,
  auditTx,
  docHash,
  evidenceTx,
  governanceTx,
  hashRenewalTx,
  TEST_GENESIS_TIME,
} from '../../helpers/fixtures.ts';
import { allPages, appendBlock, atGenesis, blockWrite } from '../../helpers/ledger.ts';

export interface StoreHarness {
  open(): Promise<LedgerStore>;
  /** Closes `store` and opens the same data again; persistent stores only. */
  reopen?: (store: LedgerStore) => Promise<LedgerStore>;
  cleanup(): Promise<void>;
}

interface Committed {
  env: TxEnvelope;
  evidence: EvidenceRecord;
  height: number;
  index: number;
  blockTime: number;
}

interface CommittedAnchor {
  env: TxEnvelope;
  anchor: AnchorRecord;
  height: number;
  index: number;
  blockTime: number;
}

const T = TEST_GENESIS_TIME;
const X = docHash('doc-x');
const Y = docHash('doc-y');
const Z = docHash('doc-z');
/** A SHA-512 digest that starts with X's bytes: the algorithm must separate it from X. */
const X512 = new Uint8Array([...X, ...sha256(X)]);

function tx(institution: string, nonce: number, evidence: Partial<EvidenceRecord>): TxEnvelope {
  return evidenceTx({ institution, nonce, createdAt: T + 500, evidence });
}

/** A plain anchor record of `target`. */
const plainAnchor = (target: BlockWrite): AnchorRecord => ({
  height: target.header.height,
  headerHash: target.hash,
  token: new Uint8Array([0x30, 0x01, target.header.height]),
});

/** Anchors by validators of other institutions, with nonces no evidence tx uses: anchors use none. */
function anchorOf(target: BlockWrite, validator: number): TxEnvelope {
  return anchorTx(
    {
      height: target.header.height,
      headerHash: target.hash,
      token: new Uint8Array([0x30, 0x01, target.header.height]),
    },
    { validator, nonce: 700 + target.header.height },
  );
}

interface ScenarioBlock {
  txs: TxEnvelope[];
  time: number;
  /** Heights of earlier blocks to anchor, in order, after the block's evidence txs. */
  anchors?: number[];
}

/**
 * Five blocks: shared hashes across institutions and cases, an empty block, two blocks at one time; block 3
 * anchors block 1, and block 5 anchors blocks 3 and 4.
 */
function scenario(): ScenarioBlock[] {
  const paged: TxEnvelope[] = [];
  for (let i = 1; i <= 23; i++) {
    paged.push(tx('bank-d', i, { hash: i % 2 === 0 ? X : docHash(`paged-${i}`), caseId: 'PAGED' }));
  }
  return [
    {
      time: T + 1000,
      txs: [
        tx('bank-a', 1, { hash: X, caseId: 'CASE-1' }),
        tx('bank-b', 1, { hash: X, caseId: 'CASE-2' }),
        tx('bank-a', 2, { hash: Y, caseId: 'CASE-1' }),
      ],
    },
    {
      time: T + 2000,
      txs: [
        tx('bank-a', 3, { hash: X, caseId: 'CASE-1' }),
        tx('bank-c', 1, { hash: Z, caseId: 'CASE-10' }),
        tx('bank-b', 2, { hashAlg: 'sha512', hash: X512, caseId: 'CASE-1' }),
      ],
    },
    {
      time: T + 2000,
      txs: [tx('bank-a', 4, { hash: Z, caseId: 'CASE-1', evidenceType: 'other' })],
      anchors: [1],
    },
    { time: T + 3000, txs: [] },
    { time: T + 5000, txs: paged, anchors: [3, 4] },
  ];
}

interface Loaded {
  writes: BlockWrite[];
  /** Evidence txs. */
  committed: Committed[];
  anchors: CommittedAnchor[];
}

async function load(store: LedgerStore): Promise<Loaded> {
  const out: Loaded = { writes: [], committed: [], anchors: [] };
  for (const b of scenario()) {
    const anchors = (b.anchors ?? []).map((h) => anchorOf(out.writes[h - 1]!, h % 4));
    const w = await appendBlock(store, [...b.txs, ...anchors], b.time);
    out.writes.push(w);
    w.txs.forEach((env, index) => {
      const record = w.records[index]!;
      const at = { env, height: w.header.height, index, blockTime: b.time };
      if (record.type === 'evidence') out.committed.push({ ...at, evidence: record.evidence });
      else if (record.type === 'anchor') out.anchors.push({ ...at, anchor: record.anchor });
    });
  }
  return out;
}

function expectAnchor(actual: AnchorEntry | undefined, expected: CommittedAnchor | undefined): void {
  if (expected === undefined) {
    expect(actual).toBeUndefined();
    return;
  }
  expect(actual).toBeDefined();
  expect(where(actual!)).toBe(where(expected));
  expect(actual!.blockTime).toBe(expected.blockTime);
  expect(toHex(actual!.env.bytes)).toBe(toHex(expected.env.bytes));
  expect(actual!.anchor).toEqual(expected.anchor);
}

const where = (e: { height: number; index: number }) => `${e.height}/${e.index}`;

function expectEntries(actual: EvidenceEntry[], expected: Committed[]): void {
  expect(actual.map(where)).toEqual(expected.map(where));
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(toHex(a.env.bytes)).toBe(toHex(e.env.bytes));
    expect(a.env.hashHex).toBe(e.env.hashHex);
    expect(a.evidence).toEqual(e.evidence);
    expect(a.blockTime).toBe(e.blockTime);
  });
}

export function ledgerStoreCompliance(
  name: string,
  makeHarness: () => Promise<StoreHarness>,
  options: { persistent: boolean },
): void {
  describe(`LedgerStore compliance: ${name}`, () => {
    let harness: StoreHarness;
    let store: LedgerStore;

    beforeEach(async () => {
      harness = await makeHarness();
      store = await harness.open();
    });

    afterEach(async () => {
      await store.close();
      await harness.cleanup();
    });

    it('indexes the anchors that carry an archive timestamp or a renewal, in chain order', async () => {
      const b1 = await appendBlock(store, [tx('bank-a', 1, {})], T + 1000);
      const stamp = (n: number) => ({ root: docHash(`root ${n}`), token: new Uint8Array([0x30, 0x01, n]) });
      const archived = anchorTx(
        { ...plainAnchor(b1), archive: { from: 1, ...stamp(1) } },
        { validator: 1, nonce: 701 },
      );
      const b2 = await appendBlock(store, [archived], T + 2000);
      const plain = anchorTx(plainAnchor(b2), { validator: 2, nonce: 702 });
      const b3 = await appendBlock(store, [plain], T + 3000);
      const renewing = anchorTx(
        { ...plainAnchor(b3), renewal: { upTo: 1, ...stamp(2) } },
        { validator: 3, nonce: 703 },
      );
      await appendBlock(store, [renewing], T + 4000);
      const expected = [
        archiveIndexEntry(decodeAnchor(archived.tx.payload), 2, 0),
        archiveIndexEntry(decodeAnchor(renewing.tx.payload), 4, 0),
      ];
      expect(expected[0]).toMatchObject({
        anchored: 1,
        archive: { at: 1, tokenHash: sha256(stamp(1).token) },
      });
      expect(expected[1]).toMatchObject({ anchored: 3, renewal: { at: 1, root: stamp(2).root } });
      expect(await store.archiveIndex()).toEqual(expected);
      // From an anchored height on: what an exporter reads after the entries it has seen.
      expect(await store.archiveIndex(2)).toEqual([expected[1]]);
      expect(await store.archiveIndex(4)).toEqual([]);
      if (harness.reopen !== undefined) {
        store = await harness.reopen(store);
        expect(await store.archiveIndex()).toEqual(expected);
      }
    });

    it('starts empty', async () => {
      expect(store.head()).toBeUndefined();
      expect(store.anchorState()).toEqual({ anchoredHeight: 0, evidenceHeight: 0 });
      expect(await store.anchorCovering(1)).toBeUndefined();
      expect(await store.headers(1, 10)).toEqual([]);
      expect(await store.block(1)).toBeUndefined();
      expect(await store.tx(X)).toBeUndefined();
      expect(await store.noncesUsed([{ institution: 'bank-a', nonce: 1 }])).toEqual([false]);
      expect(await store.evidenceByHash('sha256', X)).toEqual({ items: [], next: undefined });
      expect(await store.evidenceByCase('CASE-1')).toEqual({ items: [], next: undefined });
      expect(await store.evidenceByInstitution('bank-a', 0, Number.MAX_SAFE_INTEGER)).toEqual({
        items: [],
        next: undefined,
      });
    });

    it('stores each block with its header, hash, certificate and tx hashes, and moves the head', async () => {
      const { writes } = await load(store);
      for (const w of writes) {
        const b = await store.block(w.header.height);
        expect(b).toBeDefined();
        expect(b!.header).toEqual(w.header);
        expect(toHex(b!.hash)).toBe(toHex(w.hash));
        expect(b!.cert).toEqual(w.cert);
        expect(b!.txHashes.map(toHex)).toEqual(w.txs.map((t) => t.hashHex));
      }
      const last = writes[writes.length - 1]!;
      expect(store.head()).toEqual({ height: last.header.height, hash: last.hash, time: last.header.time });
      expect(await store.block(writes.length + 1)).toBeUndefined();
      for (const h of [0, -1, 1.5, Number.NaN]) expect(await store.block(h)).toBeUndefined();
    });

    it('finds every tx by hash with its height, index and block time, anchors included', async () => {
      const { committed, anchors } = await load(store);
      expect(anchors).toHaveLength(3);
      for (const c of [...committed, ...anchors]) {
        const t = await store.tx(c.env.hash);
        expect(t).toBeDefined();
        expect(where(t!)).toBe(where(c));
        expect(t!.blockTime).toBe(c.blockTime);
        expect(toHex(t!.env.bytes)).toBe(toHex(c.env.bytes));
        expect(t!.env.tx).toEqual(c.env.tx);
      }
      expect(await store.tx(sha256(X))).toBeUndefined();
      expect(await store.tx(new Uint8Array(5))).toBeUndefined();
    });

    it('finds the hash-renewal tx naming an evidence tx, uses its nonce, and keeps it out of evidence', async () => {
      const recorded = tx('bank-a', 1, {});
      const other = tx('bank-a', 2, {});
      await appendBlock(store, [recorded, other], T + 1000);
      const renewal = hashRenewalTx(recorded, { nonce: 3 });
      await appendBlock(store, [renewal], T + 2000);
      if (options.persistent && harness.reopen !== undefined) store = await harness.reopen(store);
      const found = await store.hashRenewalOf(recorded.hash);
      expect(found?.env.hashHex).toBe(renewal.hashHex);
      expect([found?.height, found?.index, found?.blockTime]).toEqual([2, 0, T + 2000]);
      expect(await store.hashRenewalOf(other.hash)).toBeUndefined();
      expect(await store.hashRenewalOf(renewal.hash)).toBeUndefined();
      expect(await store.hashRenewalOf(new Uint8Array(3))).toBeUndefined();
      expect(await store.noncesUsed([{ institution: 'bank-a', nonce: 3 }])).toEqual([true]);
      const byInstitution = await store.evidenceByInstitution('bank-a', 0, T + 10_000);
      expect(byInstitution.items.map((e) => e.env.hashHex)).toEqual([recorded.hashHex, other.hashHex]);
      expect((await store.hashRenewalRequests()).map((r) => r.env.hashHex)).toEqual([renewal.hashHex]);

      // An anchor that stamps the request: found by request tx hash.
      const b3 = blockWrite(store.head()!, [], T + 3000);
      await store.commitBlock(b3);
      const stamp = anchorTx(
        {
          height: 3,
          headerHash: b3.hash,
          token: new Uint8Array([0x30, 0x01, 1]),
          hashRenewal: {
            hashAlg: 'sha512',
            requests: [renewal.hash],
            root: new Uint8Array(64),
            token: new Uint8Array([0x30, 0x01, 2]),
          },
        },
        { validator: 1, nonce: 703 },
      );
      const later = await appendBlock(store, [hashRenewalTx(other, { nonce: 4 }), stamp], T + 4000);
      if (options.persistent && harness.reopen !== undefined) store = await harness.reopen(store);
      expect((await store.hashRenewalStampOf(renewal.hash))?.env.hashHex).toBe(stamp.hashHex);
      expect(await store.hashRenewalStampOf(later.txs[0]!.hash)).toBeUndefined();
      expect((await store.hashRenewalRequests()).map((r) => r.env.hashHex)).toEqual([
        renewal.hashHex,
        later.txs[0]!.hashHex,
      ]);
      // The request list (0x14) from a height on, and the stamp index (0x13): only the stamping anchor.
      const from = async (h: number) => (await store.hashRenewalRequestsFrom(h)).map((r) => r.env.hashHex);
      expect(await from(1)).toEqual([renewal.hashHex, later.txs[0]!.hashHex]);
      expect(await from(3)).toEqual([later.txs[0]!.hashHex]);
      expect(await from(5)).toEqual([]);
      const stamps = await store.stampAnchors();
      expect(stamps.map((a) => [a.env.hashHex, a.height, a.index, a.anchor.height])).toEqual([
        [stamp.hashHex, 4, 1, 3],
      ]);
    });

    it('remembers used nonces per institution', async () => {
      await load(store);
      const used = await store.noncesUsed([
        { institution: 'bank-a', nonce: 4 },
        { institution: 'bank-a', nonce: 5 },
        { institution: 'bank-c', nonce: 1 },
        { institution: 'bank-c', nonce: 2 },
        { institution: 'bank-d', nonce: 23 },
        { institution: 'bank-b', nonce: 3 },
        // The anchors' nonces: anchor txs use none.
        { institution: 'bank-b', nonce: 701 },
        { institution: 'bank-d', nonce: 703 },
      ]);
      expect(used).toEqual([true, false, true, false, true, false, false, false]);
      expect(await store.noncesUsed([])).toEqual([]);
    });

    it('finds every record of a document hash, across institutions and cases, in chain order', async () => {
      const { committed } = await load(store);
      const ofX = committed.filter((c) => c.evidence.hashAlg === 'sha256' && equalBytes(c.evidence.hash, X));
      expect(new Set(ofX.map((c) => c.env.tx.institution))).toEqual(new Set(['bank-a', 'bank-b', 'bank-d']));
      expect(new Set(ofX.map((c) => c.evidence.caseId))).toEqual(new Set(['CASE-1', 'CASE-2', 'PAGED']));
      expectEntries((await store.evidenceByHash('sha256', X, { limit: PAGE_LIMIT_MAX })).items, ofX);
      // The SHA-512 record is found under its own algorithm only.
      const of512 = (await store.evidenceByHash('sha512', X512)).items;
      expectEntries(
        of512,
        committed.filter((c) => c.evidence.hashAlg === 'sha512'),
      );
      expect(of512).toHaveLength(1);
      expect((await store.evidenceByHash('sha384', new Uint8Array(48))).items).toEqual([]);
    });

    it('finds every record of a case in chain order, and no other case', async () => {
      const { committed } = await load(store);
      for (const caseId of ['CASE-1', 'CASE-2', 'CASE-10', 'PAGED']) {
        const expected = committed.filter((c) => c.evidence.caseId === caseId);
        expectEntries((await store.evidenceByCase(caseId, { limit: PAGE_LIMIT_MAX })).items, expected);
      }
      expect((await store.evidenceByCase('CASE')).items).toEqual([]);
    });

    it('finds an institution’s records in [fromMs, toMs) of block time', async () => {
      const { committed } = await load(store);
      const ranges: [number, number][] = [
        [0, Number.MAX_SAFE_INTEGER],
        [T + 1000, T + 2000],
        [T + 1000, T + 2001],
        [T + 2000, T + 2000],
        [T + 1001, T + 5000],
        [T + 5000, T + 5001],
      ];
      for (const inst of ['bank-a', 'bank-b', 'bank-c', 'bank-d']) {
        for (const [from, to] of ranges) {
          const expected = committed.filter(
            (c) => c.env.tx.institution === inst && c.blockTime >= from && c.blockTime < to,
          );
          const page = await store.evidenceByInstitution(inst, from, to, { limit: PAGE_LIMIT_MAX });
          expectEntries(page.items, expected);
        }
      }
      expect((await store.evidenceByInstitution('bank-z', 0, Number.MAX_SAFE_INTEGER)).items).toEqual([]);
    });

    it('pages through every query without gaps or repeats, for any limit', async () => {
      const { committed } = await load(store);
      const ofX = committed.filter((c) => c.evidence.hashAlg === 'sha256' && equalBytes(c.evidence.hash, X));
      const paged = committed.filter((c) => c.evidence.caseId === 'PAGED');
      const bankD = committed.filter((c) => c.env.tx.institution === 'bank-d' && c.blockTime >= T + 5000);
      for (const limit of [1, 2, 3, 7, 23, 24, 100]) {
        const byHash = await allPages((p) => store.evidenceByHash('sha256', X, p), limit);
        expectEntries(byHash.items, ofX);
        expect(byHash.pages).toBe(Math.max(1, Math.ceil(ofX.length / limit)));
        const byCase = await allPages((p) => store.evidenceByCase('PAGED', p), limit);
        expectEntries(byCase.items, paged);
        expect(byCase.pages).toBe(Math.ceil(paged.length / limit));
        const byInst = await allPages(
          (p) => store.evidenceByInstitution('bank-d', T + 5000, T + 6000, p),
          limit,
        );
        expectEntries(byInst.items, bankD);
      }
    });

    it('gives no next cursor when a page ends exactly at the last item', async () => {
      await load(store);
      const page = await store.evidenceByCase('PAGED', { limit: 23 });
      expect(page.items).toHaveLength(23);
      expect(page.next).toBeUndefined();
      const shorter = await store.evidenceByCase('PAGED', { limit: 22 });
      expect(shorter.next).toBeDefined();
      const rest = await store.evidenceByCase('PAGED', { limit: 22, cursor: shorter.next });
      expect(rest.items).toHaveLength(1);
      expect(rest.next).toBeUndefined();
    });

    it('refuses bad limits, cursors and arguments with codes', async () => {
      await load(store);
      for (const limit of [0, -1, 1.5, PAGE_LIMIT_MAX + 1, Number.NaN]) {
        expect(await codeOf(store.evidenceByCase('CASE-1', { limit }))).toBe(LedgerErrorCode.invalidLimit);
      }
      const timeCursor = encodeCursor('time', { time: T, height: 1, index: 0 });
      const chainCursor = encodeCursor('chain', { height: 1, index: 0 });
      const badCursors = ['', '!!', 'AQE', `${chainCursor}A`, timeCursor, 'x'.repeat(200)];
      for (const cursor of badCursors) {
        const req: PageRequest = { cursor };
        expect(await codeOf(store.evidenceByCase('CASE-1', req)), cursor).toBe(LedgerErrorCode.invalidCursor);
      }
      expect(await codeOf(store.evidenceByInstitution('bank-a', 0, T + 9000, { cursor: chainCursor }))).toBe(
        LedgerErrorCode.invalidCursor,
      );
      const invalid = LedgerErrorCode.invalidArgument;
      expect(await codeOf(store.evidenceByHash('sha256', new Uint8Array(31)))).toBe(invalid);
      expect(await codeOf(store.evidenceByHash('md5' as 'sha256', X))).toBe(invalid);
      expect(await codeOf(store.evidenceByCase('-bad'))).toBe(invalid);
      expect(await codeOf(store.evidenceByCase('x'.repeat(129)))).toBe(invalid);
      expect(await codeOf(store.evidenceByInstitution('Bank A', 0, 1))).toBe(invalid);
      expect(await codeOf(store.evidenceByInstitution('bank-a', 2, 1))).toBe(invalid);
      expect(await codeOf(store.evidenceByInstitution('bank-a', -1, 1))).toBe(invalid);
      expect(await codeOf(store.evidenceByInstitution('bank-a', 0, 1.5))).toBe(invalid);
    });

    it('finds the anchor covering each height: the lowest anchored height at or above it', async () => {
      const { anchors, writes } = await load(store);
      expect(store.anchorState()).toEqual({ anchoredHeight: 4, evidenceHeight: 5 });
      for (let h = 1; h <= writes.length + 1; h++) {
        const expected = anchors
          .filter((a) => a.anchor.height >= h)
          .sort((a, b) => a.anchor.height - b.anchor.height)[0];
        expectAnchor(await store.anchorCovering(h), expected);
      }
      expect(await store.anchorCovering(Number.MAX_SAFE_INTEGER)).toBeUndefined();
      for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
        expect(await codeOf(store.anchorCovering(bad)), String(bad)).toBe(LedgerErrorCode.invalidArgument);
      }
    });

    it('keeps anchors out of the evidence indexes', async () => {
      const { anchors } = await load(store);
      for (const a of anchors) {
        const byInst = await store.evidenceByInstitution(a.env.tx.institution, 0, Number.MAX_SAFE_INTEGER, {
          limit: PAGE_LIMIT_MAX,
        });
        expect(byInst.items.map((e) => e.env.hashHex)).not.toContain(a.env.hashHex);
      }
    });

    it('reads header ranges, cut at the head, and refuses bad ranges', async () => {
      const { writes } = await load(store);
      const all = writes.map((w) => w.header);
      expect(await store.headers(1, 5)).toEqual(all);
      expect(await store.headers(2, 3)).toEqual(all.slice(1, 3));
      expect(await store.headers(4, 100)).toEqual(all.slice(3));
      expect(await store.headers(5, 5)).toEqual([all[4]]);
      expect(await store.headers(6, 9)).toEqual([]);
      for (const [from, to] of [
        [0, 1],
        [2, 1],
        [1.5, 2],
        [1, Number.NaN],
        [-3, 2],
      ] as const) {
        expect(await codeOf(store.headers(from, to)), `${from}..${to}`).toBe(LedgerErrorCode.invalidArgument);
      }
    });

    it('refuses a block whose anchors do not advance, or whose records do not match its txs', async () => {
      const { writes } = await load(store);
      const head = store.head()!;
      const evidence = [tx('bank-c', 99, { caseId: 'CASE-NEW' })];
      const stale = blockWrite(head, [...evidence, anchorOf(writes[3]!, 1)], T + 9000);
      const backwards = blockWrite(head, [anchorOf(writes[4]!, 1), anchorOf(writes[4]!, 2)], T + 9000);
      const selfAnchor = anchorTx({
        height: head.height + 1,
        headerHash: head.hash,
        token: new Uint8Array([1]),
      });
      const own = blockWrite(head, [selfAnchor], T + 9000);
      const good = blockWrite(head, [...evidence, anchorOf(writes[4]!, 1)], T + 9000);
      const mislabeled: BlockWrite = { ...good, records: [good.records[1]!, good.records[0]!] };
      for (const bad of [stale, backwards, own, mislabeled]) {
        await expect(store.commitBlock(bad)).rejects.toBeInstanceOf(InvariantError);
      }
      expect(store.head()).toEqual(head);
      expect(store.anchorState()).toEqual({ anchoredHeight: 4, evidenceHeight: 5 });
      expect(await store.tx(evidence[0]!.hash)).toBeUndefined();
      expect(await store.anchorCovering(5)).toBeUndefined();
      await store.commitBlock(good);
      expect(store.anchorState()).toEqual({ anchoredHeight: 5, evidenceHeight: 6 });
      expectAnchor(await store.anchorCovering(5), {
        env: good.txs[1]!,
        anchor: (good.records[1] as { anchor: AnchorRecord }).anchor,
        height: 6,
        index: 1,
        blockTime: T + 9000,
      });
      // Blocks without evidence leave the evidence height where it was.
      await appendBlock(store, [], T + 9500);
      await appendBlock(store, [anchorOf(good, 2)], T + 9600);
      expect(store.anchorState()).toEqual({ anchoredHeight: 6, evidenceHeight: 6 });
    });

    it('refuses a block that does not extend the head, and writes nothing of it', async () => {
      const { writes, committed } = await load(store);
      const head = store.head()!;
      const txs = [tx('bank-c', 99, { hash: Y, caseId: 'CASE-NEW' })];
      const good = blockWrite(head, txs, T + 9000);
      const gap = blockWrite({ ...head, height: head.height + 1 }, txs, T + 9000);
      const fork = blockWrite({ ...head, hash: sha256(head.hash) }, txs, T + 9000);
      const badCount: BlockWrite = { ...good, txs: [], records: [] };
      const badCert: BlockWrite = { ...good, cert: { ...good.cert, headerHash: sha256(good.hash) } };
      for (const bad of [gap, fork, badCount, badCert, writes[0]!]) {
        await expect(store.commitBlock(bad)).rejects.toBeInstanceOf(InvariantError);
      }
      expect(store.head()).toEqual(head);
      expect(await store.block(head.height + 1)).toBeUndefined();
      expect(await store.tx(txs[0]!.hash)).toBeUndefined();
      expect(await store.noncesUsed([{ institution: 'bank-c', nonce: 99 }])).toEqual([false]);
      expect((await store.evidenceByCase('CASE-NEW')).items).toEqual([]);
      expectEntries(
        (await store.evidenceByHash('sha256', Y)).items,
        committed.filter((c) => equalBytes(c.evidence.hash, Y)),
      );
      // The store is still usable: the good block goes in.
      await store.commitBlock(good);
      expect(store.head()!.height).toBe(head.height + 1);
      expect((await store.evidenceByCase('CASE-NEW')).items).toHaveLength(1);
    });

    it('keeps the consensus namespace apart, with get, put, overwrite and delete', async () => {
      const kv = store.consensus;
      const key = new Uint8Array([1, 2, 3]);
      expect(await kv.get(key)).toBeUndefined();
      const value = new Uint8Array([9, 9]);
      await kv.put(key, value);
      value[0] = 0; // the store kept its own copy
      expect(await kv.get(key)).toEqual(new Uint8Array([9, 9]));
      await kv.put(key, new Uint8Array(0));
      expect(await kv.get(key)).toEqual(new Uint8Array(0));
      await kv.put(new Uint8Array([1, 2]), new Uint8Array([7]));
      await kv.delete(key);
      expect(await kv.get(key)).toBeUndefined();
      expect(await kv.get(new Uint8Array([1, 2]))).toEqual(new Uint8Array([7]));
      await kv.delete(new Uint8Array([42])); // deleting a missing key is fine
      await expect(kv.put(new Uint8Array(0), value)).rejects.toBeInstanceOf(InvariantError);
      await expect(kv.get(new Uint8Array(256))).rejects.toBeInstanceOf(InvariantError);
      // Ledger data is untouched by consensus state, and the other way round.
      await load(store);
      expect(await kv.get(new Uint8Array([1, 2]))).toEqual(new Uint8Array([7]));
      expect(store.head()!.height).toBe(5);
    });

    it('writes consensus records atomically, in order, and lists them in key order', async () => {
      const kv = store.consensus;
      const k = (...b: number[]) => new Uint8Array(b);
      await kv.write([
        { op: 'put', key: k(2), value: k(20) },
        { op: 'put', key: k(1, 5), value: k(15) },
        { op: 'put', key: k(1), value: k(10) },
        { op: 'put', key: k(3), value: k(30) },
        { op: 'del', key: k(3) },
      ]);
      expect(await kv.entries()).toEqual([
        [k(1), k(10)],
        [k(1, 5), k(15)],
        [k(2), k(20)],
      ]);
      // One bad key anywhere in the batch writes nothing at all.
      await expect(
        kv.write([
          { op: 'del', key: k(1) },
          { op: 'put', key: new Uint8Array(256), value: k(0) },
        ]),
      ).rejects.toBeInstanceOf(InvariantError);
      expect(await kv.get(k(1))).toEqual(k(10));
      // The consensus namespace does not see ledger data.
      await load(store);
      expect((await kv.entries()).length).toBe(3);
    });

    it('returns the txs of a committed block in order, and nothing for other heights', async () => {
      const { writes } = await load(store);
      for (const w of writes) {
        const txs = await store.blockTxs(w.header.height);
        expect(txs?.map((t) => t.hashHex)).toEqual(w.txs.map((t) => t.hashHex));
        expect(txs?.map((t) => toHex(t.bytes))).toEqual(w.txs.map((t) => toHex(t.bytes)));
        const raw = await store.blockTxBytes(w.header.height);
        expect(raw?.map(toHex)).toEqual(w.txs.map((t) => toHex(t.bytes)));
      }
      expect(await store.blockTxBytes(writes.length + 1)).toBeUndefined();
      expect(await store.blockTxs(4)).toEqual([]);
      expect(await store.blockTxs(0)).toBeUndefined();
      expect(await store.blockTxs(writes.length + 1)).toBeUndefined();
      expect(await store.blockTxs(1.5)).toBeUndefined();
    });

    it('lists governance txs below a height in chain order, and no other txs', async () => {
      const gov = (validator: number, deadline: number) =>
        governanceTx(
          { kind: 'propose', deadline, action: { type: 'removeValidator', institution: 'bank-d' } },
          { validator },
        );
      const g1 = gov(0, T + 1);
      const g2 = gov(1, T + 2);
      const g3 = gov(2, T + 3);
      await appendBlock(store, [tx('bank-a', 1, {}), g1], T + 1000);
      await appendBlock(store, [tx('bank-a', 2, {})], T + 2000);
      await appendBlock(store, [g2, tx('bank-b', 1, {}), g3], T + 3000);
      await appendBlock(store, [], T + 4000);
      const listed = async (before: number) =>
        (await store.governanceTxs(before)).map(
          (t) => `${t.height}/${t.index}/${t.env.hashHex}/${t.blockTime}`,
        );
      expect(await listed(1)).toEqual([]);
      expect(await listed(2)).toEqual([`1/1/${g1.hashHex}/${T + 1000}`]);
      expect(await listed(3)).toEqual([`1/1/${g1.hashHex}/${T + 1000}`]);
      const all = [
        `1/1/${g1.hashHex}/${T + 1000}`,
        `3/0/${g2.hashHex}/${T + 3000}`,
        `3/2/${g3.hashHex}/${T + 3000}`,
      ];
      expect(await listed(4)).toEqual(all);
      expect(await listed(99)).toEqual(all);
      expect(await codeOf(store.governanceTxs(0))).toBe(LedgerErrorCode.invalidArgument);
      expect(await codeOf(store.governanceTxs(1.5))).toBe(LedgerErrorCode.invalidArgument);
    });

    it("keeps each institution's last audit head tx (ADR 015)", async () => {
      expect(await store.auditHead('bank-a')).toBeUndefined();
      await appendBlock(store, [tx('bank-a', 1, {}), auditTx(2), auditTx(3, { validator: 1 })], T + 1000);
      // Two heads of one institution in a block: the later one stays.
      await appendBlock(store, [auditTx(4), auditTx(6)], T + 2000);
      await appendBlock(store, [tx('bank-a', 2, {})], T + 3000);
      if (harness.reopen !== undefined) store = await harness.reopen(store);
      const where = async (institution: string) => {
        const t = await store.auditHead(institution);
        return t === undefined ? undefined : `${t.height}/${t.index}/${t.env.hashHex}`;
      };
      expect(await where('bank-a')).toBe(`2/1/${auditTx(6).hashHex}`);
      expect(await where('bank-b')).toBe(`1/2/${auditTx(3, { validator: 1 }).hashHex}`);
      expect(await where('bank-c')).toBeUndefined();
      expect(await where('Not An Id')).toBeUndefined();
    });

    it('refuses use after close', async () => {
      await store.close();
      expect(await codeOf(store.tx(X))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.evidenceByCase('CASE-1'))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.consensus.get(X))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.consensus.entries())).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.consensus.write([{ op: 'del', key: X }]))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.blockTxs(1))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.anchorCovering(1))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.headers(1, 1))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.governanceTxs(1))).toBe(LedgerErrorCode.closed);
      expect(await codeOf(store.commitBlock(blockWrite(atGenesis(), [], T)))).toBe(LedgerErrorCode.closed);
    });

    it.runIf(options.persistent)('keeps everything across a reopen', async () => {
      const { writes, committed, anchors } = await load(store);
      await store.consensus.put(new Uint8Array([5]), new Uint8Array([6]));
      store = await harness.reopen!(store);
      const last = writes[writes.length - 1]!;
      expect(store.head()).toEqual({ height: last.header.height, hash: last.hash, time: last.header.time });
      expect((await store.block(2))!.header).toEqual(writes[1]!.header);
      expect(await store.consensus.get(new Uint8Array([5]))).toEqual(new Uint8Array([6]));
      expectEntries(
        (await store.evidenceByCase('PAGED', { limit: 1000 })).items,
        committed.filter((c) => c.evidence.caseId === 'PAGED'),
      );
      expect(await store.noncesUsed([{ institution: 'bank-a', nonce: 4 }])).toEqual([true]);
      expect(store.anchorState()).toEqual({ anchoredHeight: 4, evidenceHeight: 5 });
      expectAnchor(await store.anchorCovering(2), anchors[1]);
      expect(await store.headers(1, 9)).toEqual(writes.map((w) => w.header));
      // and it keeps growing from where it was
      await appendBlock(store, [tx('bank-a', 50, { caseId: 'AFTER-REOPEN' })], T + 9000);
      expect(store.head()!.height).toBe(last.header.height + 1);
    });
  });
}
