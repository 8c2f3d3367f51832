/**
 * One test per executor error code. Each pairs the faulty tx with a control that differs only in the fault
 * and must be included, so a rule that rejects too much fails as surely as one that rejects too little.
 * Codes are checked at execution (buildBlock) and, where they apply, at admission (checkTx).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeAnchor } from '../../../src/core/anchor.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import type { EvidenceRecord } from '../../../src/core/evidence.ts';
import { parseGenesis } from '../../../src/core/genesis.ts';
import type { GovernanceRecord } from '../../../src/core/governance.ts';
import { Limits } from '../../../src/core/limits.ts';
import { envelope, signTx, type TxEnvelope, VALIDATOR_KEY_ID } from '../../../src/core/tx.ts';
import type { BuiltBlock } from '../../../src/ledger/chain.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain, type LedgerChainOptions } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import type { AnchorTokenVerifier, EvidenceTokenVerifier } from '../../../src/ledger/token-verifier.ts';
import { assign, CASE_REFUSALS, casesGenesis, chainAfter, ev, open, session } from '../../helpers/cases.ts';
import { batchOf, openMemoryChain, outcomes, runBlock } from '../../helpers/chain.ts';
import {
  anchorTx,
  auditTx,
  evidenceTx,
  governanceTx,
  hashRenewalTx,
  sampleUnsignedTx,
  TEST_GENESIS_TIME,
  testGenesisJson,
  testSigner,
  validatorSigners,
} from '../../helpers/fixtures.ts';
import { appendBlock, genesis } from '../../helpers/ledger.ts';

const T = TEST_GENESIS_TIME;
const seen = new Set<string>();

/** Builds (without committing) a block of `txs` at `time` and returns each tx's outcome. */
async function execute(chain: LedgerChain, txs: TxEnvelope[], time = T + 1000): Promise<string[]> {
  const out = outcomes(await chain.buildBlock(batchOf(txs, time)), txs);
  for (const c of out) seen.add(c);
  return out;
}

async function admit(chain: LedgerChain, env: TxEnvelope, now = T + 1000): Promise<string> {
  const code = (await chain.checkTx(env, now))?.code ?? 'ok';
  seen.add(code);
  return code;
}

const tx = (nonce: number, extra: Parameters<typeof evidenceTx>[0] = {}) => evidenceTx({ nonce, ...extra });

describe('executor rules: one code per rejection', () => {
  afterAll(() => {
    // Every code in the table was produced by at least one test above.
    expect([...seen].filter((c) => c !== 'ok').sort()).toEqual(Object.values(TxErrorCode).sort());
  });

  it('TX_OVERSIZE: an envelope larger than Limits.txBytes', async () => {
    const chain = await openMemoryChain();
    const ok = tx(1);
    const big: TxEnvelope = { ...tx(2), bytes: new Uint8Array(Limits.txBytes + 1) };
    expect(await execute(chain, [ok, big])).toEqual(['ok', TxErrorCode.oversize]);
    expect(await admit(chain, big)).toBe(TxErrorCode.oversize);
  });

  it('TX_WRONG_CHAIN: a tx signed for another chain', async () => {
    const chain = await openMemoryChain();
    const other = tx(2, { chainId: 'jrchain-other' });
    expect(await execute(chain, [tx(1), other])).toEqual(['ok', TxErrorCode.wrongChain]);
    expect(await admit(chain, other)).toBe(TxErrorCode.wrongChain);
  });

  it('TX_UNKNOWN_INSTITUTION: an institution missing from the genesis', async () => {
    const chain = await openMemoryChain();
    const stranger = tx(1, { institution: 'bank-z' });
    expect(await execute(chain, [tx(1), stranger])).toEqual(['ok', TxErrorCode.unknownInstitution]);
    expect(await admit(chain, stranger)).toBe(TxErrorCode.unknownInstitution);
  });

  it('TX_UNKNOWN_KEY: a key id the institution does not have', async () => {
    const chain = await openMemoryChain();
    const unknown = tx(2, { keyId: 'client-9', signer: 'bank-a/client-1' });
    expect(await execute(chain, [tx(1), unknown])).toEqual(['ok', TxErrorCode.unknownKey]);
    expect(await admit(chain, unknown)).toBe(TxErrorCode.unknownKey);
  });

  it('TX_BAD_SIGNATURE: another institution’s key, or a corrupted signature', async () => {
    const chain = await openMemoryChain();
    const forged = tx(2, { signer: 'bank-b/client-1' });
    const good = tx(3);
    const sig = good.tx.signature.slice();
    sig[10]! ^= 1;
    const corrupted: TxEnvelope = { ...good, tx: { ...good.tx, signature: sig } };
    expect(await execute(chain, [tx(1), forged, corrupted])).toEqual([
      'ok',
      TxErrorCode.badSignature,
      TxErrorCode.badSignature,
    ]);
    expect(await admit(chain, forged)).toBe(TxErrorCode.badSignature);
    expect(await admit(chain, corrupted)).toBe(TxErrorCode.badSignature);
  });

  it('TX_MALFORMED_PAYLOAD: a signed payload that is not an evidence record', async () => {
    const chain = await openMemoryChain();
    const signer = testSigner('bank-a/client-1');
    const junk = envelope(
      signTx(
        sampleUnsignedTx({ nonce: 2, createdAt: T + 1000, payload: utf8.encode('not evidence') }),
        signer,
      ),
    );
    expect(await execute(chain, [tx(1), junk])).toEqual(['ok', TxErrorCode.malformedPayload]);
    expect(await admit(chain, junk)).toBe(TxErrorCode.malformedPayload);
  });

  it('TX_DUPLICATE: a tx already committed, or earlier in the same block', async () => {
    const chain = await openMemoryChain();
    const a = tx(1);
    expect(await execute(chain, [a, a])).toEqual(['ok', TxErrorCode.duplicate]);
    await runBlock(chain, batchOf([a], T + 1000));
    expect(await admit(chain, a)).toBe(TxErrorCode.duplicate);
    expect(await execute(chain, [tx(2), a])).toEqual(['ok', TxErrorCode.duplicate]);
  });

  it('TX_REPLAYED_NONCE: another tx with a nonce used before, committed or in the same block', async () => {
    const chain = await openMemoryChain();
    const first = tx(7);
    const sameNonce = tx(7, { evidence: { caseId: 'OTHER-CASE' } });
    expect(await execute(chain, [first, sameNonce])).toEqual(['ok', TxErrorCode.replayedNonce]);
    await runBlock(chain, batchOf([first], T + 1000));
    expect(await admit(chain, sameNonce)).toBe(TxErrorCode.replayedNonce);
    // Nonces are per institution: bank-b may use 7.
    const otherBank = tx(7, { institution: 'bank-b' });
    expect(await execute(chain, [otherBank, sameNonce])).toEqual(['ok', TxErrorCode.replayedNonce]);
    expect(await admit(chain, otherBank)).toBe('ok');
  });

  it('TX_EXPIRED: time past createdAt + ttlMs (the last valid millisecond is accepted)', async () => {
    const chain = await openMemoryChain();
    const time = T + 10_000;
    const ttlMs = 5000;
    const edge = tx(1, { createdAt: time - ttlMs, ttlMs });
    const expired = tx(2, { createdAt: time - ttlMs - 1, ttlMs });
    expect(await execute(chain, [edge, expired], time)).toEqual(['ok', TxErrorCode.expired]);
    expect(await admit(chain, expired, time)).toBe(TxErrorCode.expired);
    expect(await admit(chain, edge, time)).toBe('ok');
  });

  it('TX_NOT_YET_VALID: createdAt beyond time + Limits.txMaxFutureSkewMs', async () => {
    const chain = await openMemoryChain();
    const time = T + 10_000;
    const edge = tx(1, { createdAt: time + Limits.txMaxFutureSkewMs });
    const early = tx(2, { createdAt: time + Limits.txMaxFutureSkewMs + 1 });
    expect(await execute(chain, [edge, early], time)).toEqual(['ok', TxErrorCode.notYetValid]);
    expect(await admit(chain, early, time)).toBe(TxErrorCode.notYetValid);
  });

  it('TX_TIMESTAMP_TOKEN_UNSUPPORTED: a token with no verifier configured is refused, not trusted', async () => {
    const chain = await openMemoryChain();
    const withToken = tx(2, { evidence: { tsToken: new Uint8Array([0x30, 0x03, 1, 2, 3]) } });
    expect(await execute(chain, [tx(1), withToken])).toEqual(['ok', TxErrorCode.timestampTokenUnsupported]);
    expect(await admit(chain, withToken)).toBe(TxErrorCode.timestampTokenUnsupported);
  });

  it('TX_BAD_TIMESTAMP_TOKEN: the verifier refuses (or chokes on) the token', async () => {
    const calls: { token: number; hashAlg: string; atMs: number }[] = [];
    const verifier: EvidenceTokenVerifier = {
      verify(token: Uint8Array, evidence: EvidenceRecord, atMs: number) {
        calls.push({ token: token[0]!, hashAlg: evidence.hashAlg, atMs });
        if (token[0] === 0xff) throw new Error('cannot parse');
        return token[0] === 0x30 ? undefined : { code: 'TSA_IMPRINT_MISMATCH', message: 'wrong imprint' };
      },
    };
    const chain = await openMemoryChain({ tokenVerifier: verifier });
    const good = tx(1, { evidence: { tsToken: new Uint8Array([0x30, 1]) } });
    const bad = tx(2, { evidence: { tsToken: new Uint8Array([0x31, 1]) } });
    const garbage = tx(3, { evidence: { tsToken: new Uint8Array([0xff]) } });
    const block = await chain.buildBlock(batchOf([good, bad, garbage], T + 2000));
    expect(outcomes(block, [good, bad, garbage])).toEqual([
      'ok',
      TxErrorCode.badTimestampToken,
      TxErrorCode.badTimestampToken,
    ]);
    seen.add(TxErrorCode.badTimestampToken);
    expect(block.rejected[0]!.message).toContain('TSA_IMPRINT_MISMATCH');
    // Execution checks tokens at the block time, admission at the node's clock.
    expect(calls.map((c) => c.atMs)).toEqual([T + 2000, T + 2000, T + 2000]);
    expect(await admit(chain, bad, T + 1500)).toBe(TxErrorCode.badTimestampToken);
    expect(calls.at(-1)).toEqual({ token: 0x31, hashAlg: 'sha256', atMs: T + 1500 });
  });

  it('TX_BLOCK_FULL: txs past Limits.blockTxs in a batch', async () => {
    const chain = await openMemoryChain();
    // Cheap filler (refused before any signature work) up to the cap, then valid txs on both sides of it.
    const filler = tx(1, { chainId: 'jrchain-other' });
    const last = tx(2);
    const over = tx(3);
    const txs = [...Array(Limits.blockTxs - 1).fill(filler), last, over];
    const out = await execute(chain, txs);
    expect(out.slice(-2)).toEqual(['ok', TxErrorCode.blockFull]);
    expect(await admit(chain, over)).toBe('ok'); // a block limit, not a property of the tx
  });

  // ---- anchor txs ----
  // A stub verifier keeps these tests on the rules: it accepts tokens starting 0x30, refuses 0x31 and throws
  // on anything else. The real verifier is tested in timestamp/genesis-verifier.test.ts and anchoring tests.
  const stubCalls: { blockTime: number; atMs: number }[] = [];
  const stubVerifier: AnchorTokenVerifier = {
    verifyAnchor(token: Uint8Array, _hash: Uint8Array, blockTime: number, atMs: number) {
      stubCalls.push({ blockTime, atMs });
      if (token[0] === 0x30) return undefined;
      if (token[0] === 0x31) return { code: 'TSA_TIME_SKEW', message: 'genTime is off' };
      throw new Error('cannot parse');
    },
  };

  /** A chain with three empty blocks at T+1000, T+2000, T+3000. */
  async function anchorChain(options: LedgerChainOptions = { anchorVerifier: stubVerifier }) {
    const chain = await openMemoryChain(options);
    const blocks: BuiltBlock[] = [];
    for (let i = 1; i <= 3; i++) blocks.push(await runBlock(chain, batchOf([], T + i * 1000)));
    const anchor = (height: number, validator = 0, token = [0x30], extra = {}) =>
      anchorTx(
        { height, headerHash: blocks[height - 1]!.hash, token: new Uint8Array(token) },
        { validator, ...extra },
      );
    return { chain, blocks, anchor };
  }

  it('TX_ANCHOR_NOT_VALIDATOR: an anchor not signed under the validator key id of a validator', async () => {
    const { chain, anchor } = await anchorChain();
    const clientSigned = envelope(
      signTx({ ...anchor(1).tx, keyId: 'client-1' }, testSigner('bank-a/client-1')),
    );
    expect(await execute(chain, [anchor(1), clientSigned], T + 4000)).toEqual([
      'ok',
      TxErrorCode.anchorNotValidator,
    ]);
    expect(await admit(chain, clientSigned, T + 4000)).toBe(TxErrorCode.anchorNotValidator);
    // Another validator's key cannot sign for bank-a.
    const forged = envelope(signTx(anchor(1).tx, validatorSigners()[1]!));
    expect(await execute(chain, [forged], T + 4000)).toEqual([TxErrorCode.badSignature]);
    // The validator key id does not work for evidence: it is no client key.
    const evidenceByValidator = envelope(
      signTx({ ...tx(5).tx, keyId: VALIDATOR_KEY_ID }, validatorSigners()[0]!),
    );
    expect(await execute(chain, [evidenceByValidator], T + 4000)).toEqual([TxErrorCode.unknownKey]);

    // An institution of the genesis that runs no validator cannot anchor.
    const json = testGenesisJson();
    json.institutions.push({ id: 'bank-e', name: 'Bank E', clientKeys: [] });
    const g = parseGenesis(json);
    const withE = await LedgerChain.open(new MemoryLedgerStore(), g, { anchorVerifier: stubVerifier });
    const b1 = await runBlock(withE, batchOf([], T + 1000));
    const fromE = anchorTx(
      { height: 1, headerHash: b1.hash, token: new Uint8Array([0x30]) },
      { institution: 'bank-e' },
    );
    const fromA = anchorTx({ height: 1, headerHash: b1.hash, token: new Uint8Array([0x30]) });
    expect(await execute(withE, [fromE, fromA], T + 2000)).toEqual([TxErrorCode.anchorNotValidator, 'ok']);
  });

  // ---- audit head txs (ADR 015) ----

  it('TX_AUDIT_NOT_VALIDATOR: an audit head not signed under the validator key id of a validator', async () => {
    const chain = await openMemoryChain();
    const clientSigned = envelope(
      signTx({ ...auditTx(3).tx, keyId: 'client-1' }, testSigner('bank-a/client-1')),
    );
    expect(await execute(chain, [auditTx(2), clientSigned])).toEqual(['ok', TxErrorCode.auditNotValidator]);
    expect(await admit(chain, clientSigned)).toBe(TxErrorCode.auditNotValidator);
    // Another validator's key cannot sign bank-a's head.
    const forged = envelope(signTx(auditTx(2).tx, validatorSigners()[1]!));
    expect(await execute(chain, [forged])).toEqual([TxErrorCode.badSignature]);
  });

  it('TX_AUDIT_STALE: an audit head not above the committed one of its institution, or one earlier in the block', async () => {
    const chain = await openMemoryChain();
    // Per institution: bank-b's head does not hold bank-a's back.
    expect(
      await execute(chain, [
        auditTx(5),
        auditTx(5, { hash: 9 }),
        auditTx(4),
        auditTx(3, { validator: 1 }),
        auditTx(6),
      ]),
    ).toEqual(['ok', TxErrorCode.auditStale, TxErrorCode.auditStale, 'ok', 'ok']);
    await runBlock(chain, batchOf([auditTx(5), auditTx(6)], T + 1000));
    expect((await chain.store.auditHead('bank-a'))?.env.hashHex).toBe(auditTx(6).hashHex);
    // A shorter log than the one committed, or the same length again, is refused; a longer one is taken.
    expect(await execute(chain, [auditTx(4, { createdAt: T + 1500 })], T + 2000)).toEqual([
      TxErrorCode.auditStale,
    ]);
    expect(await admit(chain, auditTx(6, { hash: 1, createdAt: T + 1500 }), T + 2000)).toBe(
      TxErrorCode.auditStale,
    );
    expect(await execute(chain, [auditTx(7, { createdAt: T + 1500 })], T + 2000)).toEqual(['ok']);
    expect(await chain.store.auditHead('bank-c')).toBeUndefined();
  });

  it('TX_ANCHOR_STALE: an anchored height at or below the highest anchored, committed or in the block', async () => {
    const { chain, anchor } = await anchorChain();
    expect(await execute(chain, [anchor(2), anchor(2, 1), anchor(1, 2), anchor(3, 3)], T + 4000)).toEqual([
      'ok',
      TxErrorCode.anchorStale,
      TxErrorCode.anchorStale,
      'ok',
    ]);
    await runBlock(chain, batchOf([anchor(2)], T + 4000));
    expect(chain.store.anchorState().anchoredHeight).toBe(2);
    expect(await admit(chain, anchor(2, 1), T + 4000)).toBe(TxErrorCode.anchorStale);
    expect(await admit(chain, anchor(1, 1), T + 4000)).toBe(TxErrorCode.anchorStale);
    expect(await admit(chain, anchor(3, 1), T + 4000)).toBe('ok');
    // The very same anchor tx again is a duplicate first.
    expect(await execute(chain, [anchor(2)], T + 5000)).toEqual([TxErrorCode.duplicate]);
  });

  it('TX_ANCHOR_AHEAD: an anchored height above the head (not committed)', async () => {
    const { chain, blocks } = await anchorChain();
    const ahead = anchorTx({ height: 4, headerHash: blocks[2]!.hash, token: new Uint8Array([0x30]) });
    const atHead = anchorTx({ height: 3, headerHash: blocks[2]!.hash, token: new Uint8Array([0x30]) });
    expect(await execute(chain, [ahead, atHead], T + 4000)).toEqual([TxErrorCode.anchorAhead, 'ok']);
    expect(await admit(chain, ahead, T + 4000)).toBe(TxErrorCode.anchorAhead);
  });

  it('TX_ANCHOR_MISMATCH: a header hash other than the stored one at that height', async () => {
    const { chain, blocks, anchor } = await anchorChain();
    const wrong = anchorTx({ height: 2, headerHash: blocks[2]!.hash, token: new Uint8Array([0x30]) });
    expect(await execute(chain, [wrong, anchor(2, 1)], T + 4000)).toEqual([TxErrorCode.anchorMismatch, 'ok']);
    expect(await admit(chain, wrong, T + 4000)).toBe(TxErrorCode.anchorMismatch);
  });

  it('TX_ANCHOR_UNSUPPORTED: an anchor on a ledger with no anchor verifier is refused, not trusted', async () => {
    const { chain, anchor } = await anchorChain({});
    expect(await execute(chain, [anchor(1)], T + 4000)).toEqual([TxErrorCode.anchorUnsupported]);
    expect(await admit(chain, anchor(1), T + 4000)).toBe(TxErrorCode.anchorUnsupported);
  });

  it('TX_BAD_ANCHOR_TOKEN: the verifier refuses (or chokes on) the token, at the block time', async () => {
    const { chain, anchor } = await anchorChain();
    stubCalls.length = 0;
    const block = await chain.buildBlock(
      batchOf([anchor(1, 0, [0x31]), anchor(1, 1, [0xff]), anchor(2, 2)], T + 4000),
    );
    const txs = block.txs.concat();
    expect(txs).toHaveLength(1);
    expect(block.rejected.map((r) => r.code)).toEqual([
      TxErrorCode.badAnchorToken,
      TxErrorCode.badAnchorToken,
    ]);
    seen.add(TxErrorCode.badAnchorToken);
    expect(block.rejected[0]!.message).toBe('TSA_TIME_SKEW: genTime is off');
    expect(block.rejected[1]!.message).toContain('VERIFIER_FAILED');
    // The verifier gets the anchored block's time and the block time; admission passes the node's clock.
    expect(stubCalls).toEqual([
      { blockTime: T + 1000, atMs: T + 4000 },
      { blockTime: T + 1000, atMs: T + 4000 },
      { blockTime: T + 2000, atMs: T + 4000 },
    ]);
    expect(await admit(chain, anchor(1, 0, [0x31]), T + 3500)).toBe(TxErrorCode.badAnchorToken);
    expect(stubCalls.at(-1)).toEqual({ blockTime: T + 1000, atMs: T + 3500 });
  });

  it('TX_ANCHOR_BAD_HASH_RENEWAL: a hash renewal stamps only unstamped requests, by the recorder, under its hash', async () => {
    // Blocks written straight to the store, so that block 2 can hold a request the executor would refuse
    // (bank-b renewing bank-a's evidence): the anchor rule must still refuse to stamp it.
    const store = new MemoryLedgerStore();
    const recorded = tx(1);
    const recordedB = tx(1, { institution: 'bank-b' });
    await appendBlock(store, [recorded, recordedB], T + 1000);
    const reqA = hashRenewalTx(recorded, { nonce: 10 });
    const reqB = hashRenewalTx(recordedB, {
      institution: 'bank-b',
      nonce: 10,
      request: { hashAlg: 'sha384', hash: new Uint8Array(48).fill(1) },
    });
    const foreign = hashRenewalTx(recorded, { institution: 'bank-b', nonce: 11 });
    await appendBlock(store, [reqA, reqB, foreign], T + 2000);
    await appendBlock(store, [], T + 3000);
    const algs: (string | undefined)[] = [];
    const chain = await LedgerChain.open(store, genesis(), {
      anchorVerifier: {
        verifyAnchor: (token, hash, blockTime, atMs, alg) => {
          algs.push(alg);
          return stubVerifier.verifyAnchor(token, hash, blockTime, atMs);
        },
      },
    });
    const hashes = [1, 2, 3].map(async (h) => (await store.block(h))!.hash);
    const [h1, h2, h3] = await Promise.all(hashes);
    const stamping = (
      height: number,
      headerHash: Uint8Array,
      requests: TxEnvelope[],
      hashAlg = 'sha512' as const,
    ) =>
      anchorTx(
        {
          height,
          headerHash,
          token: Uint8Array.of(0x30),
          hashRenewal: {
            hashAlg,
            requests: requests.map((r) => r.hash),
            root: new Uint8Array(hashAlg === 'sha512' ? 64 : 48),
            token: Uint8Array.of(0x30),
          },
        },
        { nonce: height },
      );
    const code = async (a: TxEnvelope) => (await execute(chain, [a], T + 4000))[0];
    expect(await code(stamping(3, h3!, [reqA]))).toBe('ok');
    // The header hash's token under the chain's hash (ADR 014), the renewal's under the request's.
    expect(algs).toEqual(['sha256', 'sha512']);
    expect(await code(stamping(3, h3!, [reqA, recorded]))).toBe(TxErrorCode.anchorBadHashRenewal);
    expect(await code(stamping(3, h3!, [reqA, reqB]))).toBe(TxErrorCode.anchorBadHashRenewal);
    expect(await code(stamping(3, h3!, [reqB], 'sha384' as 'sha512'))).toBe('ok');
    expect(await code(stamping(3, h3!, [foreign]))).toBe(TxErrorCode.anchorBadHashRenewal);
    expect(await admit(chain, stamping(3, h3!, [foreign]), T + 4000)).toBe(TxErrorCode.anchorBadHashRenewal);
    // Twice in a block, then once committed.
    expect(await execute(chain, [stamping(1, h1!, [reqA]), stamping(2, h2!, [reqA])], T + 4000)).toEqual([
      'ok',
      TxErrorCode.anchorBadHashRenewal,
    ]);
    await runBlock(chain, batchOf([stamping(2, h2!, [reqA])], T + 4000));
    expect((await store.hashRenewalStampOf(reqA.hash))?.height).toBe(4);
    expect(await code(stamping(3, h3!, [reqA]))).toBe(TxErrorCode.anchorBadHashRenewal);
    // One request per evidence tx is indexed (the executor never commits two; here `foreign` replaced reqA).
    expect((await store.hashRenewalRequests()).map((r) => r.env.hashHex)).toContain(reqB.hashHex);
    // The requests a stamping primary would take: those no committed anchor stamped.
    const queries = new LedgerQueries(store, genesis());
    const unstamped = async () => (await queries.unstampedHashRenewals()).map((r) => r.env.hashHex);
    expect(await unstamped()).toContain(reqB.hashHex);
    await runBlock(chain, batchOf([stamping(3, h3!, [reqB], 'sha384' as 'sha512')], T + 5000));
    expect(await unstamped()).not.toContain(reqB.hashHex);
  });

  it('anchors use no nonce, are checked for time like any tx, and never reach the evidence indexes', async () => {
    const { chain, anchor } = await anchorChain();
    const a = anchor(1, 0, [0x30], { nonce: 42 });
    const e = tx(42);
    const expired = anchor(2, 0, [0x30], { createdAt: T, ttlMs: 1000 });
    expect(await execute(chain, [e, a, expired], T + 4000)).toEqual(['ok', 'ok', TxErrorCode.expired]);
    await runBlock(chain, batchOf([e, a], T + 4000));
    expect(await chain.store.noncesUsed([{ institution: 'bank-a', nonce: 42 }])).toEqual([true]);
    expect(await admit(chain, anchor(2, 0, [0x30], { nonce: 42 }), T + 4000)).toBe('ok');
    const byBankA = await chain.store.evidenceByInstitution('bank-a', 0, Number.MAX_SAFE_INTEGER);
    expect(byBankA.items.map((i) => i.env.hashHex)).toEqual([e.hashHex]);
    expect((await chain.store.tx(a.hash))!.index).toBe(1);
    expect((await chain.store.anchorCovering(1))!.env.hashHex).toBe(a.hashHex);
    // A payload that is not an anchor record is malformed.
    const junk = anchorTx(
      { height: 1, headerHash: new Uint8Array(32), token: new Uint8Array([1]) },
      {
        payload: encodeAnchor({
          height: 1,
          headerHash: new Uint8Array(32),
          token: new Uint8Array([1]),
        }).slice(1),
      },
    );
    expect(await execute(chain, [junk], T + 5000)).toEqual([TxErrorCode.malformedPayload]);
  });

  // ---- governance txs (ADR 006); the flows are in governance.test.ts ----
  const bankE = testSigner('bank-e/client-1');
  const registerE = (deadline = T + 60_000): GovernanceRecord => ({
    kind: 'propose',
    deadline,
    action: {
      type: 'registerInstitution',
      id: 'bank-e',
      name: 'Bank E',
      clientKeys: [{ keyId: 'client-1', publicKey: bankE.publicKey }],
    },
  });
  const approve = (p: TxEnvelope): GovernanceRecord => ({ kind: 'approve', proposalId: p.hash });

  it('TX_GOV_NOT_VALIDATOR: a governance tx from a non-validator or under a client key', async () => {
    const chain = await openMemoryChain();
    const proposal = governanceTx(registerE());
    // An institution's client key signing under its own key id is no validator key.
    const byClient = envelope(
      signTx({ ...governanceTx(approve(proposal)).tx, keyId: 'client-1' }, testSigner('bank-a/client-1')),
    );
    // An unregistered institution claiming the validator key id.
    const byStranger = governanceTx(approve(proposal), { institution: 'bank-e', signer: bankE });
    expect(await execute(chain, [proposal, byClient, byStranger])).toEqual([
      'ok',
      TxErrorCode.govNotValidator,
      TxErrorCode.unknownInstitution,
    ]);
    expect(await admit(chain, byClient)).toBe(TxErrorCode.govNotValidator);
    // A registered institution that runs no validator cannot approve.
    const json = testGenesisJson();
    json.institutions.push({ id: 'bank-e', name: 'Bank E', clientKeys: [] });
    const withE = await LedgerChain.open(new MemoryLedgerStore(), parseGenesis(json));
    const fromE = governanceTx(registerE(), { institution: 'bank-e', signer: bankE });
    expect(await execute(withE, [fromE, governanceTx(registerE(T + 50_000))])).toEqual([
      TxErrorCode.govNotValidator,
      TxErrorCode.govInvalidAction,
    ]);
    // A forged approval: validator 1's key signing for bank-a.
    const forged = governanceTx(approve(proposal), { signer: validatorSigners()[1]! });
    expect(await admit(chain, forged)).toBe(TxErrorCode.badSignature);
  });

  it('TX_GOV_BAD_DEADLINE: a deadline before the block time, or beyond the limit', async () => {
    const chain = await openMemoryChain();
    const past = governanceTx(registerE(T + 999));
    const far = governanceTx(registerE(T + 1000 + Limits.governanceMaxDeadlineMs + 1));
    const edge = governanceTx(registerE(T + 1000 + Limits.governanceMaxDeadlineMs));
    expect(await execute(chain, [past, far, edge])).toEqual([
      TxErrorCode.govBadDeadline,
      TxErrorCode.govBadDeadline,
      'ok',
    ]);
    expect(await admit(chain, past)).toBe(TxErrorCode.govBadDeadline);
  });

  it('TX_GOV_TOO_MANY_PENDING: a proposal beyond the pending limit', async () => {
    const chain = await openMemoryChain();
    const proposals = Array.from({ length: Limits.governancePendingProposals + 1 }, (_, i) =>
      governanceTx(
        {
          kind: 'propose',
          deadline: T + 60_000,
          action: { type: 'revokeClientKey', institution: 'bank-a', keyId: 'client-1' },
        },
        { createdAt: T + 1000 - i },
      ),
    );
    const out = await execute(chain, proposals);
    expect(out.slice(0, -1).every((c) => c === 'ok')).toBe(true);
    expect(out.at(-1)).toBe(TxErrorCode.govTooManyPending);
  });

  it('TX_GOV_INVALID_ACTION: an action that cannot apply to the registry', async () => {
    const chain = await openMemoryChain();
    const reused = governanceTx({
      kind: 'propose',
      deadline: T + 60_000,
      action: {
        type: 'addClientKey',
        institution: 'bank-b',
        keyId: 'client-2',
        publicKey: validatorSigners()[0]!.publicKey,
      },
    });
    const unknown = governanceTx({
      kind: 'propose',
      deadline: T + 60_000,
      action: { type: 'removeValidator', institution: 'bank-z' },
    });
    const ok = governanceTx({
      kind: 'propose',
      deadline: T + 60_000,
      action: { type: 'removeValidator', institution: 'bank-d' },
    });
    expect(await execute(chain, [reused, unknown, ok])).toEqual([
      TxErrorCode.govInvalidAction,
      TxErrorCode.govInvalidAction,
      'ok',
    ]);
    expect(await admit(chain, reused)).toBe(TxErrorCode.govInvalidAction);
  });

  it('TX_GOV_UNKNOWN_PROPOSAL, TX_GOV_ALREADY_APPROVED: approvals must name a proposal, once per validator', async () => {
    const chain = await openMemoryChain();
    const p = governanceTx(registerE());
    const ghost = governanceTx({ kind: 'approve', proposalId: new Uint8Array(32).fill(7) }, { validator: 1 });
    const again = governanceTx(approve(p), { createdAt: T + 999 });
    const b1 = governanceTx(approve(p), { validator: 1 });
    const b1again = governanceTx(approve(p), { validator: 1, createdAt: T + 999 });
    expect(await execute(chain, [p, ghost, again, b1, b1again])).toEqual([
      'ok',
      TxErrorCode.govUnknownProposal,
      TxErrorCode.govAlreadyApproved,
      'ok',
      TxErrorCode.govAlreadyApproved,
    ]);
    expect(await admit(chain, ghost)).toBe(TxErrorCode.govUnknownProposal);
    await runBlock(chain, batchOf([p], T + 1000));
    expect(await admit(chain, again)).toBe(TxErrorCode.govAlreadyApproved);
    expect(await admit(chain, b1)).toBe('ok');
    // The very same approval tx again is a duplicate.
    await runBlock(chain, batchOf([b1], T + 1000));
    expect(await admit(chain, b1)).toBe(TxErrorCode.duplicate);
  });

  it('TX_GOV_NOT_PENDING, TX_GOV_EXPIRED: approvals after a proposal passed or expired', async () => {
    const chain = await openMemoryChain();
    const p = governanceTx(registerE(T + 5000));
    const [a1, a2, a3] = [1, 2, 3].map((v) => governanceTx(approve(p), { validator: v }));
    await runBlock(chain, batchOf([p, a1!, a2!], T + 1000));
    expect(chain.governance.proposal(p.hashHex)?.status).toBe('passed');
    expect(await admit(chain, a3!)).toBe(TxErrorCode.govNotPending);
    const q = governanceTx({
      kind: 'propose',
      deadline: T + 5000,
      action: { type: 'revokeClientKey', institution: 'bank-a', keyId: 'client-1' },
    });
    const late = governanceTx(approve(q), { validator: 1, createdAt: T + 5500 });
    await runBlock(chain, batchOf([q], T + 2000));
    expect(await execute(chain, [late], T + 6000)).toEqual([TxErrorCode.govExpired]);
    expect(await admit(chain, late, T + 6000)).toBe(TxErrorCode.govExpired);
    // Control: the same approval before the deadline counts.
    expect(await execute(chain, [late], T + 5000)).toEqual(['ok']);
    expect(chain.governance.proposals(T + 6000).find((x) => x.idHex === q.hashHex)?.status).toBe('expired');
  });

  it('TX_CASE_*: each case refusal at execution, after a legal prefix that is included (test/helpers/cases.ts)', async () => {
    for (const [what, build, code] of CASE_REFUSALS) {
      const chain = await LedgerChain.open(new MemoryLedgerStore(), casesGenesis());
      const txs = build();
      expect(await execute(chain, txs), what).toEqual([...txs.slice(0, -1).map(() => 'ok'), code]);
    }
  });

  it('TX_CASE_UNSEALED: on a chain whose genesis requires sealing, a case named in clear (ADR 015)', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), casesGenesis('required'));
    expect(await execute(chain, [open('PLAIN')])).toEqual([TxErrorCode.caseUnsealed]);
    expect(await admit(chain, open('PLAIN'))).toBe(TxErrorCode.caseUnsealed);
  });

  it('TX_CASE_WRONG_ROLE, TX_CASE_FULL: a bank recording a session; the event after the per-case limit', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), casesGenesis());
    const setup = [open('A'), assign('A')];
    await runBlock(chain, batchOf(setup, T + 1000));
    expect(await admit(chain, session('A', 1, 'bank-a'))).toBe(TxErrorCode.caseWrongRole);
    chainAfter('A', setup[1]!.hash);
    expect(await admit(chain, session('A', 1))).toBe('ok');
    chainAfter('A', setup[1]!.hash);
    const sessions = Array.from({ length: Limits.caseEvents - 2 }, (_, i) => session('A', i + 1));
    const over = ev('A', 'bank-c', { type: 'session', seq: Limits.caseEvents - 1 });
    const out = await execute(chain, [...sessions, over]);
    expect(out.at(-1)).toBe(TxErrorCode.caseFull);
    expect(out.slice(0, -1).every((o) => o === 'ok')).toBe(true);
  });

  describe('hash-tree renewal requests (ADR 016)', () => {
    /** A chain where bank-a recorded `recorded` (SHA-256) and `sha512Evidence` (SHA-512), both committed. */
    async function recordedChain() {
      const chain = await openMemoryChain();
      const recorded = tx(1);
      const sha512Evidence = tx(2, {
        evidence: { hashAlg: 'sha512', hash: new Uint8Array(64).fill(7) },
      });
      await runBlock(chain, batchOf([recorded, sha512Evidence], T + 1000));
      return { chain, recorded, sha512Evidence };
    }

    it('TX_RENEWAL_UNKNOWN_EVIDENCE: names no committed evidence tx (or a tx that is not evidence)', async () => {
      const { chain, recorded } = await recordedChain();
      const pending = tx(3);
      const unknown = hashRenewalTx(pending, { nonce: 10 });
      expect(await execute(chain, [hashRenewalTx(recorded, { nonce: 11 }), unknown])).toEqual([
        'ok',
        TxErrorCode.renewalUnknownEvidence,
      ]);
      expect(await admit(chain, unknown)).toBe(TxErrorCode.renewalUnknownEvidence);
      // Evidence in the same block is not committed yet.
      expect(await execute(chain, [pending, unknown])).toEqual(['ok', TxErrorCode.renewalUnknownEvidence]);
    });

    it('TX_RENEWAL_NOT_RECORDER: only the institution that recorded the evidence may renew it', async () => {
      const { chain, recorded } = await recordedChain();
      const other = hashRenewalTx(recorded, { institution: 'bank-b', nonce: 10 });
      const own = hashRenewalTx(recorded, { nonce: 10 });
      expect(await admit(chain, other)).toBe(TxErrorCode.renewalNotRecorder);
      expect(await execute(chain, [other, own])).toEqual([TxErrorCode.renewalNotRecorder, 'ok']);
    });

    it('TX_RENEWAL_NOT_ARCHIVED: the evidence hash is not SHA-256', async () => {
      const { chain, recorded, sha512Evidence } = await recordedChain();
      const bad = hashRenewalTx(sha512Evidence, { nonce: 10 });
      expect(await admit(chain, bad)).toBe(TxErrorCode.renewalNotArchived);
      expect(await execute(chain, [bad, hashRenewalTx(recorded, { nonce: 11 })])).toEqual([
        TxErrorCode.renewalNotArchived,
        'ok',
      ]);
    });

    it('TX_RENEWAL_ALREADY_REQUESTED: one renewal per evidence tx, committed or earlier in the block', async () => {
      const { chain, recorded } = await recordedChain();
      const first = hashRenewalTx(recorded, { nonce: 10 });
      const second = hashRenewalTx(recorded, {
        nonce: 11,
        request: { hashAlg: 'sha384', hash: new Uint8Array(48) },
      });
      expect(await execute(chain, [first, second])).toEqual(['ok', TxErrorCode.renewalAlreadyRequested]);
      expect(await admit(chain, second)).toBe('ok');
      await runBlock(chain, batchOf([first], T + 2000));
      expect(await admit(chain, second)).toBe(TxErrorCode.renewalAlreadyRequested);
      expect((await chain.store.hashRenewalOf(recorded.hash))?.env.hashHex).toBe(first.hashHex);
      // It used up its nonce like any client tx.
      const replay = tx(10, { evidence: { hash: new Uint8Array(32).fill(9) } });
      expect(await admit(chain, replay)).toBe(TxErrorCode.replayedNonce);
    });

    it('a request signed by a key of another institution, or with a weak hash, is refused statelessly', async () => {
      const { chain, recorded } = await recordedChain();
      const forged = hashRenewalTx(recorded, { nonce: 10, signer: 'bank-b/client-1' });
      expect(await admit(chain, forged)).toBe(TxErrorCode.badSignature);
      const weak = hashRenewalTx(recorded, { nonce: 10 });
      const payload = weak.tx.payload.slice();
      payload[33] = 1; // sha256's wire code: not a renewal hash
      const unsigned = { ...weak.tx, payload };
      const env = envelope(signTx(unsigned, testSigner('bank-a/client-1')));
      expect(await admit(chain, env)).toBe(TxErrorCode.malformedPayload);
    });
  });

  it('reports only the first broken rule, in TxErrorCode order', async () => {
    const chain = await openMemoryChain();
    // Wrong chain and a bad signature and expired: the chain rule comes first.
    const many = tx(1, { chainId: 'jrchain-other', signer: 'bank-b/client-1', createdAt: 0 });
    // Bad signature and expired: the signature comes first.
    const sigAndTime = tx(2, { signer: 'bank-b/client-1', createdAt: 0 });
    // Replayed within the block and expired: the nonce comes first.
    const first = tx(3);
    const replayAndExpired = tx(3, { createdAt: T - 10 * 60 * 60 * 1000, ttlMs: 1000 });
    expect(await execute(chain, [many, sigAndTime, first, replayAndExpired])).toEqual([
      TxErrorCode.wrongChain,
      TxErrorCode.badSignature,
      'ok',
      TxErrorCode.replayedNonce,
    ]);
  });
});
