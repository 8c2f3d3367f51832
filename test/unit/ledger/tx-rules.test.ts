/**
 * One test per executor error code. Each pairs the faulty tx with a control that differs only in the fault
 * and must be included, so a rule that rejects too much fails as surely as one that rejects too little.
 * Codes are checked at execution (buildBlock) and, where they apply, at admission (checkTx).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import type { EvidenceRecord } from '../../../src/core/evidence.ts';
import { Limits } from '../../../src/core/limits.ts';
import { envelope, signTx, type TxEnvelope } from '../../../src/core/tx.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import type { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import type { EvidenceTokenVerifier } from '../../../src/ledger/token-verifier.ts';
import { batchOf, openMemoryChain, outcomes, runBlock } from '../../helpers/chain.ts';
import { evidenceTx, sampleUnsignedTx, TEST_GENESIS_TIME, testSigner } from '../../helpers/fixtures.ts';

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
