/**
 * Execution is a function of the ledger and the batch alone. Two independent chains, one with a warm
 * signature cache and one with none, or one on LevelDB and one in memory, must build identical blocks from the
 * same batches, and the ledger they build must keep its invariants. Random corruptions of signed txs never
 * throw out of the executor.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../../src/core/batch.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { CodecError } from '../../../src/core/codec.ts';
import { Limits } from '../../../src/core/limits.ts';
import { merkleRoot } from '../../../src/core/merkle.ts';
import { envelope, parseTx, signTx, type TxEnvelope } from '../../../src/core/tx.ts';
import type { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { batchOf, openChain, openMemoryChain, runBlock } from '../../helpers/chain.ts';
import {
  anchorTx,
  docHash,
  evidenceTx,
  sampleUnsignedTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  testSigner,
} from '../../helpers/fixtures.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';

const T = TEST_GENESIS_TIME;

type Op =
  | { kind: 'fresh'; inst: number; caseNo: number; doc: number }
  | { kind: 'dup' | 'replay'; of: number }
  | { kind: 'anchor'; height: number }
  | { kind: 'expired' | 'future' | 'badSig' | 'token' | 'malformed' };

interface BlockSpec {
  dt: number;
  isNull: boolean;
  ops: Op[];
}

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('fresh' as const),
      inst: fc.nat(3),
      caseNo: fc.nat(3),
      doc: fc.nat(5),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constantFrom('dup' as const, 'replay' as const), of: fc.nat(1000) }),
  },
  // Anchors made before the blocks exist name no real header: stale, ahead or mismatched, all looked up.
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('anchor' as const), height: fc.integer({ min: 1, max: 9 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        'expired' as const,
        'future' as const,
        'badSig' as const,
        'token' as const,
        'malformed' as const,
      ),
    }),
  },
);

const arbBlocks: fc.Arbitrary<BlockSpec[]> = fc.array(
  fc.record({
    dt: fc.integer({ min: -5000, max: 20_000 }),
    isNull: fc.boolean(),
    ops: fc.array(arbOp, { maxLength: 8 }),
  }),
  { minLength: 1, maxLength: 8 },
);

interface MakeState {
  made: TxEnvelope[];
  nextNonce: number[];
}

/** One concrete signed tx for `op` at `time`: valid, duplicated, replayed, stale, forged, ... */
function txFor(op: Op, time: number, st: MakeState): TxEnvelope {
  const { made } = st;
  const base = made.length === 0 ? undefined : made[('of' in op ? op.of : 0) % made.length]!;
  const tag = made.length;
  switch (op.kind) {
    case 'fresh': {
      const env = evidenceTx({
        institution: TEST_INSTITUTIONS[op.inst]!,
        nonce: st.nextNonce[op.inst]!++,
        createdAt: time,
        evidence: { caseId: `CASE-${op.caseNo}`, hash: docHash(`doc-${op.doc}`) },
      });
      made.push(env);
      return env;
    }
    case 'dup':
      return base ?? evidenceTx({ nonce: 999_999, createdAt: time });
    case 'replay':
      return evidenceTx({
        institution: base?.tx.institution ?? 'bank-a',
        nonce: base?.tx.nonce ?? 1,
        createdAt: time,
        evidence: { caseId: 'REPLAY' },
      });
    case 'expired':
      return evidenceTx({ nonce: 500_000 + tag, createdAt: time - 1001, ttlMs: 1000 });
    case 'future':
      return evidenceTx({ nonce: 600_000 + tag, createdAt: time + Limits.txMaxFutureSkewMs + 1 });
    case 'badSig':
      return evidenceTx({ nonce: 700_000 + tag, createdAt: time, signer: 'bank-c/client-1' });
    case 'token':
      return evidenceTx({
        nonce: 800_000 + tag,
        createdAt: time,
        evidence: { tsToken: new Uint8Array([0x30]) },
      });
    case 'anchor':
      return anchorTx(
        { height: op.height, headerHash: docHash(`header-${tag}`), token: new Uint8Array([0x30]) },
        { createdAt: time, nonce: tag },
      );
    case 'malformed': {
      const unsigned = sampleUnsignedTx({
        nonce: 900_000 + tag,
        createdAt: time,
        payload: utf8.encode('junk'),
      });
      return envelope(signTx(unsigned, testSigner('bank-a/client-1')));
    }
  }
}

/** Turns specs into concrete batches; null batches in between. */
function materialize(blocks: BlockSpec[]): Batch[] {
  const st: MakeState = { made: [], nextNonce: [1, 1, 1, 1] };
  let time = T + 1000;
  return blocks.map((b, height) => {
    time = Math.max(0, time + b.dt);
    if (b.isNull) return { proposer: height % 4, view: 0, time: 0, txs: [] };
    return batchOf(
      b.ops.map((op) => txFor(op, time, st)),
      time,
      height % 4,
      height,
    );
  });
}

interface Trace {
  hashes: string[];
  rejected: string[][];
}

async function replay(chain: LedgerChain, batches: Batch[]): Promise<Trace> {
  const trace: Trace = { hashes: [], rejected: [] };
  for (const batch of batches) {
    const built = await runBlock(chain, batch);
    trace.hashes.push(toHex(built.hash));
    trace.rejected.push(built.rejected.map((r) => `${toHex(r.hash)}:${r.code}`));
  }
  return trace;
}

/** Ledger invariants: linked headers, non-decreasing time, right tx roots, no tx or nonce recorded twice. */
async function checkLedger(chain: LedgerChain): Promise<void> {
  const hashes = new Set<string>();
  const nonces = new Set<string>();
  let prev = { hash: '', time: 0 };
  for (let h = 1; h <= chain.head().height; h++) {
    const block = (await chain.store.block(h))!;
    if (h > 1) expect(toHex(block.header.prevHash)).toBe(prev.hash);
    expect(block.header.time).toBeGreaterThanOrEqual(prev.time);
    expect(toHex(merkleRoot(block.txHashes))).toBe(toHex(block.header.txRoot));
    for (const hash of block.txHashes) {
      const t = (await chain.store.tx(hash))!;
      expect(hashes.has(t.env.hashHex)).toBe(false);
      hashes.add(t.env.hashHex);
      const n = `${t.env.tx.institution}/${t.env.tx.nonce}`;
      expect(nonces.has(n)).toBe(false);
      nonces.add(n);
    }
    prev = { hash: toHex(block.hash), time: block.header.time };
  }
}

describe('deterministic execution', () => {
  let dir: string | undefined;
  afterEach(async () => {
    await removeDir(dir);
    dir = undefined;
  });

  it('two chains build identical blocks whatever their signature caches hold', async () => {
    await fc.assert(
      fc.asyncProperty(arbBlocks, fc.array(fc.nat(), { maxLength: 10 }), async (specs, warm) => {
        const batches = materialize(specs);
        const warmChain = await openMemoryChain();
        const coldChain = await openMemoryChain({ verifiedSignatureCacheSize: 0 });
        // Admission on one node only: some txs of the batches, at an unrelated time.
        const all = batches.flatMap((b) => b.txs);
        for (const i of warm) if (all.length > 0) await warmChain.checkTx(all[i % all.length]!, T);
        const a = await replay(warmChain, batches);
        const b = await replay(coldChain, batches);
        expect(a).toEqual(b);
        await checkLedger(warmChain);
      }),
      { numRuns: 40 },
    );
  });

  it('a LevelDB chain and a memory chain agree block by block', async () => {
    const batches = materialize(
      fc
        .sample(arbBlocks, { numRuns: 1, seed: 42 })[0]!
        .concat(fc.sample(arbBlocks, { numRuns: 1, seed: 7 })[0]!),
    );
    dir = await tempDir('determinism');
    const store = await LevelLedgerStore.open(dir);
    try {
      const a = await replay(await openChain(store), batches);
      const b = await replay(await openMemoryChain(), batches);
      expect(a).toEqual(b);
      expect(a.hashes.length).toBe(batches.length);
    } finally {
      await store.close();
    }
  });

  it('corrupted txs that still decode are rejected or recorded, never thrown, and the ledger holds', async () => {
    const valid = Array.from({ length: 6 }, (_, i) =>
      evidenceTx({ nonce: i + 1, institution: TEST_INSTITUTIONS[i % 4]! }),
    );
    const chain = await openMemoryChain();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(5), fc.nat(4000), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        async (mutations) => {
          const txs: TxEnvelope[] = [];
          for (const [which, at, delta] of mutations) {
            const bytes = valid[which]!.bytes.slice();
            const i = at % bytes.length;
            bytes[i] = (bytes[i]! + delta) & 0xff;
            try {
              txs.push(parseTx(bytes));
            } catch (err) {
              if (!(err instanceof CodecError)) throw err;
            }
          }
          const before = chain.head().height;
          for (const env of txs) await chain.checkTx(env, T + 1000);
          const built = await runBlock(chain, batchOf(txs, T + 1000));
          expect(built.txs.length + built.rejected.length).toBe(txs.length);
          expect(chain.head().height).toBe(before + 1);
        },
      ),
      { numRuns: 150 },
    );
    await checkLedger(chain);
  });
});
