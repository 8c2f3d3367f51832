/**
 * The genesis-configured token verifier, through the ledger's own rule: validators check evidence tokens at
 * admission (node clock) and at execution (block time), and every refusal is TX_BAD_TIMESTAMP_TOKEN naming
 * the TSA code. Each refusal has a control that differs only in the fault and is accepted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/core/crypto.ts';
import type { Genesis } from '../../../src/core/genesis.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import { TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { createGenesisTokenVerifier } from '../../../src/timestamp/genesis-verifier.ts';
import { batchOf, outcomes } from '../../helpers/chain.ts';
import { docHash, evidenceTx, TEST_GENESIS_TIME, testGenesis } from '../../helpers/fixtures.ts';
import { makePki, type Pki, startTsa } from '../../helpers/tsa.ts';

const T = TEST_GENESIS_TIME;
const TOLERANCE = 60_000;
const DOC = docHash('contract.pdf');
let pki: Pki;
let genesis: Genesis;
/** A trusted token over DOC made at T + 1000, one over another document, and one from an untrusted TSA. */
let good: Uint8Array;
let otherDoc: Uint8Array;
let untrusted: Uint8Array;

beforeAll(async () => {
  pki = await makePki();
  genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem], evidenceTokenToleranceMs: TOLERANCE } });
  const tsa = await startTsa(pki, T + 1000);
  good = (await tsa.stamp(DOC, 'sha256')).token;
  otherDoc = (await tsa.stamp(docHash('another.pdf'), 'sha256')).token;
  await tsa.stop();
  const strangers = await startTsa(await makePki({ rootName: 'Stranger Root' }), T + 1000);
  untrusted = (await strangers.stamp(DOC, 'sha256')).token;
  await strangers.stop();
});

function openChain(g = genesis): Promise<LedgerChain> {
  return LedgerChain.open(new MemoryLedgerStore(), g, { tokenVerifier: createGenesisTokenVerifier(g.tsa) });
}

const withToken = (nonce: number, tsToken: Uint8Array, hash = DOC): TxEnvelope =>
  evidenceTx({ nonce, evidence: { hash, tsToken } });

async function verdicts(chain: LedgerChain, txs: TxEnvelope[], time: number) {
  const block = await chain.buildBlock(batchOf(txs, time));
  return { codes: outcomes(block, txs), messages: block.rejected.map((r) => r.message) };
}

describe('GenesisTokenVerifier in the ledger', () => {
  it('accepts a trusted token over the evidence hash, at admission and at execution', async () => {
    const chain = await openChain();
    const tx = withToken(1, good);
    expect(await chain.checkTx(tx, T + 1000)).toBeUndefined();
    expect((await verdicts(chain, [tx], T + 2000)).codes).toEqual(['ok']);
  });

  it('refuses a token over another document: TSA_IMPRINT_MISMATCH', async () => {
    const chain = await openChain();
    const { codes, messages } = await verdicts(chain, [withToken(1, good), withToken(2, otherDoc)], T + 2000);
    expect(codes).toEqual(['ok', TxErrorCode.badTimestampToken]);
    expect(messages[0]).toMatch(new RegExp(`^${TimestampErrorCode.imprintMismatch}: `));
    const admitted = await chain.checkTx(withToken(2, otherDoc), T + 1000);
    expect(admitted).toMatchObject({ code: TxErrorCode.badTimestampToken });
    expect(admitted!.message).toContain(TimestampErrorCode.imprintMismatch);
  });

  it('refuses a token from a TSA the genesis does not trust: TSA_VERIFY_FAILED', async () => {
    const chain = await openChain();
    const { codes, messages } = await verdicts(
      chain,
      [withToken(1, good), withToken(2, untrusted)],
      T + 2000,
    );
    expect(codes).toEqual(['ok', TxErrorCode.badTimestampToken]);
    expect(messages[0]).toMatch(new RegExp(`^${TimestampErrorCode.verifyFailed}: chain: `));
  });

  it('judges genTime against the block time at execution: TSA_TIME_SKEW past the tolerance', async () => {
    const chain = await openChain();
    const tx = withToken(1, good);
    // Admitted while fresh, then executed in a block whose time is past genTime + tolerance.
    expect(await chain.checkTx(tx, T + 1000)).toBeUndefined();
    const edge = await verdicts(chain, [tx], T + 1000 + TOLERANCE);
    expect(edge.codes).toEqual(['ok']);
    const late = await verdicts(chain, [tx], T + 1000 + TOLERANCE + 1);
    expect(late.codes).toEqual([TxErrorCode.badTimestampToken]);
    expect(late.messages[0]).toMatch(new RegExp(`^${TimestampErrorCode.timeSkew}: `));
  });

  it('refuses every token when the genesis names no trust anchors, rather than trusting any', async () => {
    const bare = testGenesis();
    const chain = await openChain(bare);
    const { codes, messages } = await verdicts(chain, [withToken(1, good)], T + 2000);
    expect(codes).toEqual([TxErrorCode.badTimestampToken]);
    expect(messages[0]).toMatch(new RegExp(`^${TimestampErrorCode.badInput}: `));
  });
});

describe('GenesisTokenVerifier.verifyAnchor', () => {
  const header = sha256(new Uint8Array([1, 2, 3]));
  let anchorToken: Uint8Array;
  beforeAll(async () => {
    const tsa = await startTsa(pki, T + 5000);
    anchorToken = (await tsa.stamp(header, 'sha256')).token;
    await tsa.stop();
  });

  it('accepts a token over the header hash made after the block, within the tolerance', () => {
    const v = createGenesisTokenVerifier(genesis.tsa);
    expect(v.verifyAnchor(anchorToken, header, T + 4000, T + 6000)).toBeUndefined();
    // genTime may precede the block time by up to the tolerance (clock skew), not more.
    expect(v.verifyAnchor(anchorToken, header, T + 5000 + TOLERANCE, T + 6000)).toBeUndefined();
    expect(v.verifyAnchor(anchorToken, header, T + 5001 + TOLERANCE, T + 6000)).toMatchObject({
      code: TimestampErrorCode.timeSkew,
    });
  });

  it('refuses a token over another hash, and one too far from the executing time', () => {
    const v = createGenesisTokenVerifier(genesis.tsa);
    expect(v.verifyAnchor(anchorToken, sha256(header), T, T + 6000)).toMatchObject({
      code: TimestampErrorCode.imprintMismatch,
    });
    expect(v.verifyAnchor(anchorToken, header, T, T + 5001 + TOLERANCE)).toMatchObject({
      code: TimestampErrorCode.timeSkew,
    });
    expect(v.verifyAnchor(anchorToken, header, T, T + 5000 + TOLERANCE)).toBeUndefined();
  });
});
