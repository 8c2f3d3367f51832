/**
 * Governance on an sm2-sm3 chain (ADR 014): records carry 65-byte SM2 keys (and a validator's Ed25519 peer key),
 * the ledger applies them and stores the registry with them, a receipt replays them, and a key of the wrong
 * suite or length is refused with a clear error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { governanceView } from '../../../src/api/views.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { CodecError } from '../../../src/core/codec.ts';
import { ED25519_SHA256, SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import {
  decodeGovernance,
  encodeGovernance,
  type GovernanceAction,
  type GovernanceRecord,
} from '../../../src/core/governance.ts';
import { keyPairFromSeed, peerIdOf } from '../../../src/core/keys.ts';
import { envelope, signTx, type TxEnvelope, VALIDATOR_KEY_ID } from '../../../src/core/tx.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { GovernanceState } from '../../../src/ledger/governance-state.ts';
import { checkIntegrity } from '../../../src/ledger/integrity.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/verify.ts';
import { batchOf, outcomes } from '../../helpers/chain.ts';
import {
  sampleEvidence,
  sampleUnsignedTx,
  TEST_CHAIN_ID,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  validatorSigners,
} from '../../helpers/fixtures.ts';
import { smCertify, smGenesis, smSigner, smValidatorSigners } from '../../helpers/sm-chain.ts';

const T = TEST_GENESIS_TIME;
const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm-gov-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function smGovTx(record: GovernanceRecord, validator: number): TxEnvelope {
  const unsigned = {
    chainId: TEST_CHAIN_ID,
    type: 'governance' as const,
    institution: TEST_INSTITUTIONS[validator]!,
    keyId: VALIDATOR_KEY_ID,
    nonce: 0,
    createdAt: T + 1000,
    ttlMs: 3_600_000,
    payload: encodeGovernance(record, SM2_SM3),
  };
  return envelope(signTx(unsigned, smValidatorSigners()[validator]!), SM2_SM3);
}

const newKey = smSigner('bank-a/client-2');
const addKey: GovernanceAction = {
  type: 'addClientKey',
  institution: 'bank-a',
  keyId: 'client-2',
  publicKey: newKey.publicKey,
};

describe('governance on an sm2-sm3 chain', () => {
  const g = smGenesis();

  it('adds an SM2 client key by proposal and approvals; the key signs, the registry persists, receipts replay it', async () => {
    const store = await LevelLedgerStore.open(join(dir, 'a'), SM2_SM3);
    const chain = await LedgerChain.open(store, g);
    const propose = smGovTx({ kind: 'propose', deadline: T + 3_600_000, action: addKey }, 0);
    const b1 = await chain.buildBlock(batchOf([propose], T + 2000));
    expect(outcomes(b1, [propose])).toEqual(['ok']);
    await chain.commitBlock(b1, smCertify(g, b1.header));
    const approvals = [1, 2].map((v) => smGovTx({ kind: 'approve', proposalId: propose.hash }, v));
    const b2 = await chain.buildBlock(batchOf(approvals, T + 3000));
    expect(outcomes(b2, approvals)).toEqual(['ok', 'ok']);
    await chain.commitBlock(b2, smCertify(g, b2.header));

    const unsigned = sampleUnsignedTx({
      institution: 'bank-a',
      keyId: 'client-2',
      nonce: 7,
      createdAt: T + 1000,
      payload: encodeEvidence(sampleEvidence()),
    });
    const signed = envelope(signTx(unsigned, newKey), SM2_SM3);
    const b3 = await chain.buildBlock(batchOf([signed], T + 4000));
    expect(outcomes(b3, [signed])).toEqual(['ok']);
    await chain.commitBlock(b3, smCertify(g, b3.header));

    // The stored registry (65-byte keys) reads back under the chain's suite, and holds the new key.
    const queries = new LedgerQueries(store, g);
    expect(toHex(queries.governance().clientKeys().get('bank-a')!.get('client-2')!)).toBe(
      toHex(newKey.publicKey),
    );
    expect(await checkIntegrity(store, SM2_SM3)).toEqual([]);
    const receipt = await receiptFor(queries, g, signed.hash);
    const v = await verifyReceipt(JSON.parse(JSON.stringify(receipt)), { genesis: g });
    expect(v.ok, JSON.stringify(v.checks.filter((c) => c.status === 'fail'))).toBe(true);
    expect(v.checks.find((c) => c.name === 'governance')?.detail).toMatch(/3 governance txs/);
    await store.close();

    const again = await LevelLedgerStore.open(join(dir, 'a'), SM2_SM3);
    const reopened = await LedgerChain.open(again, g);
    expect(reopened.head().height).toBe(3);
    await again.close();
  });

  it("rotates a validator's SM2 key with its new peer key: the registry keeps the peer key, the view its peer id", async () => {
    const store = await LevelLedgerStore.open(join(dir, 'b'), SM2_SM3);
    const chain = await LedgerChain.open(store, g);
    const newKey = smSigner('validator-3 rotated').publicKey;
    const peerKey = keyPairFromSeed(new Uint8Array(32).fill(0x77)).publicKey;
    const action: GovernanceAction = {
      type: 'rotateValidatorKey',
      institution: 'bank-d',
      publicKey: newKey,
      peerKey,
    };
    const propose = smGovTx({ kind: 'propose', deadline: T + 3_600_000, action }, 0);
    const approvals = [1, 2].map((v) => smGovTx({ kind: 'approve', proposalId: propose.hash }, v));
    for (const [i, txs] of [[propose], approvals].entries()) {
      const b = await chain.buildBlock(batchOf(txs, T + 2000 + i * 1000));
      expect(outcomes(b, txs)).toEqual(txs.map(() => 'ok'));
      await chain.commitBlock(b, smCertify(g, b.header));
    }
    const queries = new LedgerQueries(store, g);
    const gov = queries.governance();
    expect(toHex(gov.peerKeyOf(newKey)!)).toBe(toHex(peerKey));
    // The genesis validators' peer keys are there too.
    expect(toHex(gov.peerKeyOf(g.validators[0]!.publicKey)!)).toBe(toHex(g.validators[0]!.peerKey!));
    const view = governanceView(gov, 3, T + 4000, g) as { validatorSet: { validators: any[] } };
    expect(view.validatorSet.validators[3]).toMatchObject({
      institution: 'bank-d',
      publicKey: toHex(newKey),
      peerKey: toHex(peerKey),
      peerId: peerIdOf(peerKey),
    });
    // A peer key already a validator's is refused for another.
    const again: GovernanceAction = {
      ...action,
      institution: 'bank-c',
      publicKey: smSigner('other').publicKey,
    };
    const dup = smGovTx({ kind: 'propose', deadline: T + 3_600_000, action: again }, 0);
    const b3 = await chain.buildBlock(batchOf([dup], T + 5000));
    expect(outcomes(b3, [dup])).toEqual([TxErrorCode.govInvalidAction]);
    await store.close();
  });

  it('round-trips the registry snapshot with 65-byte SM2 keys and 32-byte X25519 keys', () => {
    const state = GovernanceState.fromGenesis(g);
    const back = GovernanceState.decode(state.encode(), SM2_SM3);
    expect(toHex(back.encode())).toBe(toHex(state.encode()));
    expect(() => GovernanceState.decode(state.encode())).toThrow(/does not decode/);
  });

  it('refuses a 32-byte Ed25519 key in an SM record, and an SM2 key in an Ed25519 one, with a clear error', () => {
    const edKey = validatorSigners()[0]!.publicKey;
    const propose = (action: GovernanceAction): GovernanceRecord => ({
      kind: 'propose',
      deadline: T,
      action,
    });
    expect(() => encodeGovernance(propose({ ...addKey, publicKey: edKey }), SM2_SM3)).toThrow(
      /client key must be a 65-byte sm2-sm3 public key/,
    );
    expect(() => encodeGovernance(propose(addKey), ED25519_SHA256)).toThrow(
      /client key must be a 32-byte Ed25519 public key/,
    );
    // 65 bytes of the right length that are not a point of the curve.
    const offCurve = Uint8Array.from({ length: 65 }, (_, i) => (i === 0 ? 4 : 1));
    expect(() => encodeGovernance(propose({ ...addKey, publicKey: offCurve }), SM2_SM3)).toThrow(
      /client key: /,
    );
    // An Ed25519 chain's record does not decode as an SM chain's (the key lengths differ).
    const edBytes = encodeGovernance(propose({ ...addKey, publicKey: edKey }));
    expect(() => decodeGovernance(edBytes, SM2_SM3)).toThrow(CodecError);
  });

  it('requires the Ed25519 peer key of a validator added or rotated on an SM chain, and only there', () => {
    const smKey = smSigner('validator-9').publicKey;
    const peerKey = validatorSigners()[3]!.publicKey;
    const add = (a: Partial<GovernanceAction>): GovernanceRecord => ({
      kind: 'propose',
      deadline: T,
      action: { type: 'addValidator', institution: 'bank-e', publicKey: smKey, ...a } as GovernanceAction,
    });
    expect(() => encodeGovernance(add({}), SM2_SM3)).toThrow(/peer key must be a 32-byte Ed25519/);
    const bytes = encodeGovernance(add({ peerKey }), SM2_SM3);
    const back = decodeGovernance(bytes, SM2_SM3);
    expect(back.kind === 'propose' && back.action).toEqual({
      type: 'addValidator',
      institution: 'bank-e',
      publicKey: smKey,
      peerKey,
    });
    const rotate: GovernanceRecord = {
      kind: 'propose',
      deadline: T,
      action: { type: 'rotateValidatorKey', institution: 'bank-a', publicKey: smKey, peerKey },
    };
    expect(decodeGovernance(encodeGovernance(rotate, SM2_SM3), SM2_SM3)).toEqual(rotate);
    const edAdd = add({ publicKey: peerKey, peerKey });
    expect(() => encodeGovernance(edAdd)).toThrow(/only named on an sm2-sm3 chain/);
  });
});
