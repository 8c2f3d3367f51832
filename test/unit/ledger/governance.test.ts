/**
 * Governance flows through the executor (ADR 006): proposals pass only with a quorum of the set in force,
 * institution actions apply from the next block, validator-set changes at the epoch boundary, headers and
 * certificates follow the set, and everything survives a restart. The per-code rules are in tx-rules.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CertErrorCode } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import type { Ed25519Signer } from '../../../src/core/crypto.ts';
import { genesisHash } from '../../../src/core/genesis.ts';
import type { GovernanceAction } from '../../../src/core/governance.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { epochOf, quorumSize, validatorSetHash } from '../../../src/core/validators.ts';
import type { BuiltBlock } from '../../../src/ledger/chain.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { GovernanceState } from '../../../src/ledger/governance-state.ts';
import { LedgerChain } from '../../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import { MemoryLedgerStore } from '../../../src/ledger/memory-store.ts';
import type { LedgerStore } from '../../../src/ledger/store.ts';
import { batchOf, outcomes } from '../../helpers/chain.ts';
import { codeOfAsync } from '../../helpers/errors.ts';
import {
  certifyBy,
  evidenceTx,
  governanceTx,
  TEST_GENESIS_TIME,
  testGenesis,
  testSigner,
  validatorSigners,
} from '../../helpers/fixtures.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';

const T = TEST_GENESIS_TIME;
const K = 4;
const genesis = testGenesis({ consensus: { checkpointInterval: K, watermarkWindow: 2 * K } });

const veSigner = testSigner('validator-e');
const vaRotated = testSigner('validator-a-2');
const bankE = testSigner('bank-e/client-1');
/** Every validator key the tests use, by public key. */
const signersByKey = new Map<string, Ed25519Signer>(
  [...validatorSigners(), veSigner, vaRotated].map((s) => [toHex(s.publicKey), s]),
);

/** Builds, certifies with the first quorum of the set in force at that height (in its epoch) and commits. */
async function commit(chain: LedgerChain, txs: TxEnvelope[], time: number): Promise<BuiltBlock> {
  const built = await chain.buildBlock(batchOf(txs, time));
  const set = chain.validatorSetAt(built.header.height);
  const signers = set.validators.map((v) => signersByKey.get(toHex(v.publicKey))!);
  const who = Array.from({ length: quorumSize(set.validators.length) }, (_, i) => i);
  await chain.commitBlock(
    built,
    certifyBy(built.header, signers, epochOf(set), who, built.header.view, genesisHash(chain.genesis)),
  );
  return built;
}

const propose = (action: GovernanceAction, validator = 0, extra = {}) =>
  governanceTx({ kind: 'propose', deadline: T + 600_000, action }, { validator, ...extra });
const approve = (p: TxEnvelope, validator: number, extra = {}) =>
  governanceTx({ kind: 'approve', proposalId: p.hash }, { validator, ...extra });

const registerE: GovernanceAction = {
  type: 'registerInstitution',
  id: 'bank-e',
  name: 'Bank E',
  clientKeys: [{ keyId: 'client-1', publicKey: bankE.publicKey }],
};

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

describe('governance through the executor', () => {
  it('registers an institution only once a quorum approved; its key works from the next block', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const fromE = (nonce: number) => evidenceTx({ institution: 'bank-e', nonce });
    const p = propose(registerE);
    await commit(chain, [p, approve(p, 1)], T + 1000);
    // Two of four approved: below the quorum of 3, so nothing changed.
    expect(chain.governance.proposal(p.hashHex)?.status).toBe('pending');
    expect((await chain.checkTx(fromE(1), T + 1000))?.code).toBe(TxErrorCode.unknownInstitution);
    // The third approval passes it; a tx of bank-e in the same block is still judged before it.
    const third = approve(p, 2);
    const early = fromE(1);
    const b = await chain.buildBlock(batchOf([third, early], T + 2000));
    expect(outcomes(b, [third, early])).toEqual(['ok', TxErrorCode.unknownInstitution]);
    await commit(chain, [third], T + 2000);
    const passed = chain.governance.proposal(p.hashHex)!;
    expect(passed.status).toBe('passed');
    expect(passed.approvals).toEqual(['bank-a', 'bank-b', 'bank-c']);
    expect(passed.effectiveHeight).toBe(3);
    expect(await chain.checkTx(fromE(1), T + 3000)).toBeUndefined();
    // Institution actions never change the validator set.
    expect(chain.validatorSetAt(3)).toBe(chain.validatorSetAt(1));
  });

  it('a proposal without a quorum never takes effect, and expires at its deadline', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const p = governanceTx(
      { kind: 'propose', deadline: T + 5000, action: { type: 'removeValidator', institution: 'bank-d' } },
      { validator: 0 },
    );
    await commit(chain, [p, approve(p, 1)], T + 1000);
    for (let i = 2; i <= 3 * K; i++) await commit(chain, [], T + 1000 * i);
    const late = approve(p, 2, { createdAt: T + 6000 });
    expect((await chain.checkTx(late, T + 13_000))?.code).toBe(TxErrorCode.govExpired);
    expect(chain.governance.proposals(T + 13_000)[0]?.status).toBe('expired');
    expect(chain.governance.epochs()).toHaveLength(1);
    expect(chain.validatorSetAt(chain.head().height + 1).validators).toHaveLength(4);
  });

  it('adds a fifth validator from the block after the passing one: n = 5, quorum 4, a new set hash and signing domain', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const reg = propose(registerE);
    await commit(chain, [reg, approve(reg, 1), approve(reg, 2)], T + 1000); // height 1
    const add = propose({ type: 'addValidator', institution: 'bank-e', publicKey: veSigner.publicKey });
    await commit(chain, [add, approve(add, 1)], T + 2000); // height 2
    expect(epochOf(chain.validatorSetAt(3))).toBe(0);
    const b3 = await commit(chain, [approve(add, 3)], T + 3000); // height 3: passes
    const passed = chain.governance.proposal(add.hashHex)!;
    expect(passed.status).toBe('passed');
    expect(passed.effectiveHeight).toBe(4);
    const old = chain.validatorSetAt(3);
    const next = chain.validatorSetAt(4);
    expect(epochOf(old)).toBe(0);
    expect(epochOf(next)).toBe(1);
    expect(chain.governance.epochs().map((e) => e.firstHeight)).toEqual([1, 4]);
    expect(next.validators.map((v) => v.institution)).toEqual([
      'bank-a',
      'bank-b',
      'bank-c',
      'bank-d',
      'bank-e',
    ]);
    expect(quorumSize(next.validators.length)).toBe(4);
    // The passing block still names (and was certified by) the old set.
    expect(b3.header.validatorSetHash).toEqual(validatorSetHash(old));

    // Block 4 names the new set, and the old set's certificate (old domain, 3 signers) does not commit it.
    const b4 = await chain.buildBlock(batchOf([], T + 4000));
    expect(b4.header.validatorSetHash).toEqual(validatorSetHash(next));
    const g = genesisHash(chain.genesis);
    const oldCert = certifyBy(b4.header, validatorSigners(), 0, [0, 1, 2], b4.header.view, g);
    expect(await codeOfAsync(chain.commitBlock(b4, oldCert))).toBe(CertErrorCode.badSignature);
    const signers5 = [...validatorSigners(), veSigner];
    const threeOfFive = certifyBy(b4.header, signers5, 1, [0, 1, 4], b4.header.view, g);
    expect(await codeOfAsync(chain.commitBlock(b4, threeOfFive))).toBe(CertErrorCode.noQuorum);
    await chain.commitBlock(b4, certifyBy(b4.header, signers5, 1, [0, 1, 3, 4], b4.header.view, g));
    expect(chain.head().height).toBe(4);
    // The new validator may now approve; the old quorum of 3 no longer passes anything.
    const key2 = propose({
      type: 'addClientKey',
      institution: 'bank-b',
      keyId: 'client-2',
      publicKey: testSigner('b2').publicKey,
    });
    const byE = governanceTx(
      { kind: 'approve', proposalId: key2.hash },
      { institution: 'bank-e', signer: veSigner },
    );
    await commit(chain, [key2, approve(key2, 1), approve(key2, 2)], T + 6000);
    expect(chain.governance.proposal(key2.hashHex)?.status).toBe('pending');
    await commit(chain, [byE], T + 7000);
    expect(chain.governance.proposal(key2.hashHex)?.status).toBe('passed');
  });

  it('removes a validator and rotates a key at one boundary; the old key and the removed validator stop working', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const remove = propose({ type: 'removeValidator', institution: 'bank-d' });
    const rotate = propose(
      { type: 'rotateValidatorKey', institution: 'bank-a', publicKey: vaRotated.publicKey },
      1,
    );
    await commit(
      chain,
      [remove, approve(remove, 1), approve(remove, 2), rotate, approve(rotate, 2), approve(rotate, 3)],
      T + 1000,
    );
    // Both passed in block 1: one epoch change, from block 2 on.
    expect(chain.governance.epochs().map((e) => e.firstHeight)).toEqual([1, 2]);
    for (let h = 2; h <= K; h++) await commit(chain, [], T + 1000 * h);
    const set = chain.validatorSetAt(2);
    expect(set.validators.map((v) => v.institution)).toEqual(['bank-a', 'bank-b', 'bank-c']);
    expect(set.validators[0]!.publicKey).toEqual(vaRotated.publicKey);
    expect(quorumSize(3)).toBe(2);
    await commit(chain, [], T + 5000);

    const p = propose(registerE, 1, { createdAt: T + 5000 });
    const byD = approve(p, 3, { createdAt: T + 5000 });
    const byOldA = approve(p, 0, { createdAt: T + 5000 });
    const byNewA = governanceTx(
      { kind: 'approve', proposalId: p.hash },
      { institution: 'bank-a', signer: vaRotated, createdAt: T + 5000 },
    );
    const b = await chain.buildBlock(batchOf([p, byD, byOldA, byNewA], T + 6000));
    expect(outcomes(b, [p, byD, byOldA, byNewA])).toEqual([
      'ok',
      TxErrorCode.govNotValidator,
      TxErrorCode.badSignature,
      'ok',
    ]);
    // Control: before the boundary the same validators could approve.
    expect(chain.validatorSetAt(1).validators).toHaveLength(4);
  });

  it('approvals from a validator removed meanwhile no longer count towards a quorum', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const remove = propose({ type: 'removeValidator', institution: 'bank-d' });
    // bank-d proposes (its approval comes with the proposal) in the block that removes it.
    const p = propose(registerE, 3);
    await commit(chain, [remove, approve(remove, 1), approve(remove, 2), p], T + 1000);
    for (let h = 2; h <= K; h++) await commit(chain, [], T + 1000 * h);
    expect(chain.validatorSetAt(K + 1).validators).toHaveLength(3); // quorum 2 of a, b, c
    // bank-a approves: two approvals, but only one from the set in force.
    await commit(chain, [approve(p, 0, { createdAt: T + 5000 })], T + 5000);
    expect(chain.governance.proposal(p.hashHex)?.status).toBe('pending');
    await commit(chain, [approve(p, 1, { createdAt: T + 6000 })], T + 6000);
    expect(chain.governance.proposal(p.hashHex)?.status).toBe('passed');
  });

  it('changes consensus parameters from the block after the passing one; never batches above the genesis sizes', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const params = { ...genesis.consensus, requestTimeoutMs: 9000, maxBatchTxs: 100 };
    const change = propose({ type: 'setConsensusParams', params });
    await commit(chain, [change, approve(change, 1), approve(change, 2)], T + 1000);
    expect(chain.epochAt(1).params).toEqual(genesis.consensus);
    expect(chain.epochAt(2).params).toEqual(params);
    expect(chain.validatorSetAt(2).validators).toEqual(chain.validatorSetAt(1).validators);
    expect(epochOf(chain.validatorSetAt(2))).toBe(1);
    const bigger = propose({
      type: 'setConsensusParams',
      params: { ...genesis.consensus, maxBatchBytes: genesis.consensus.maxBatchBytes + 1 },
    });
    expect((await chain.checkTx(bigger, T + 2000))?.code).toBe(TxErrorCode.govInvalidAction);
  });

  it('changes an institution role once a quorum approved; a role it already has or an unknown institution is refused', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const toCourt = propose({ type: 'setInstitutionRole', institution: 'bank-d', role: 'court' });
    await commit(chain, [toCourt, approve(toCourt, 1)], T + 1000);
    expect(chain.governance.roleOf('bank-d')).toBe('bank');
    await commit(chain, [approve(toCourt, 2)], T + 2000);
    expect(chain.governance.roleOf('bank-d')).toBe('court');
    expect(chain.governance.proposal(toCourt.hashHex)?.effectiveHeight).toBe(3);
    const same = propose({ type: 'setInstitutionRole', institution: 'bank-d', role: 'court' }, 1);
    const unknown = propose({ type: 'setInstitutionRole', institution: 'bank-z', role: 'court' }, 1);
    const b = await chain.buildBlock(batchOf([same, unknown], T + 3000));
    expect(outcomes(b, [same, unknown])).toEqual([
      TxErrorCode.govInvalidAction,
      TxErrorCode.govInvalidAction,
    ]);
    // The role is in the snapshot a restart reads.
    const restored = GovernanceState.decode(chain.governance.encode());
    expect(restored.roleOf('bank-d')).toBe('court');
    expect(restored.institutions().map((i) => i.role)).toEqual(['bank', 'bank', 'bank', 'court']);
  });

  it('registers and rotates an encryption key and grants a regulator audit access (ADR 011); both survive a restart', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const k1 = new Uint8Array(32).fill(0x51);
    const k2 = new Uint8Array(32).fill(0x52);
    const setKey = propose({ type: 'setEncryptionKey', institution: 'bank-b', publicKey: k1 });
    const toRegulator = propose({ type: 'setInstitutionRole', institution: 'bank-d', role: 'regulator' }, 1);
    await commit(chain, [setKey, approve(setKey, 1), toRegulator, approve(toRegulator, 2)], T + 1000);
    expect(chain.governance.encryptionKeyOf('bank-b')).toBeUndefined();
    await commit(chain, [approve(setKey, 2), approve(toRegulator, 3)], T + 2000);
    expect(chain.governance.encryptionKeyOf('bank-b')).toEqual(k1);
    const grant = propose({ type: 'setAuditAccess', institution: 'bank-d', granted: true });
    const rotate = propose({ type: 'setEncryptionKey', institution: 'bank-b', publicKey: k2 }, 1);
    await commit(
      chain,
      [grant, approve(grant, 1), approve(grant, 2), rotate, approve(rotate, 2), approve(rotate, 3)],
      T + 3000,
    );
    expect(chain.governance.hasAuditAccess('bank-d')).toBe(true);
    expect(chain.governance.hasAuditAccess('bank-a')).toBe(false);
    expect(chain.governance.encryptionKeyOf('bank-b')).toEqual(k2);
    // A key used before, a grant to a bank, and a grant it already has are refused.
    const reused = propose({ type: 'setEncryptionKey', institution: 'bank-c', publicKey: k1 }, 1);
    const toBank = propose({ type: 'setAuditAccess', institution: 'bank-a', granted: true }, 1);
    const again = propose({ type: 'setAuditAccess', institution: 'bank-d', granted: true }, 1);
    const b = await chain.buildBlock(batchOf([reused, toBank, again], T + 4000));
    expect(outcomes(b, [reused, toBank, again])).toEqual([
      TxErrorCode.govInvalidAction,
      TxErrorCode.govInvalidAction,
      TxErrorCode.govInvalidAction,
    ]);
    const restored = GovernanceState.decode(chain.governance.encode());
    expect(restored.encryptionKeyOf('bank-b')).toEqual(k2);
    expect(restored.hasAuditAccess('bank-d')).toBe(true);
  });

  it('two proposals for one change: the second to pass fails and changes nothing', async () => {
    const chain = await LedgerChain.open(new MemoryLedgerStore(), genesis);
    const reg = propose(registerE);
    await commit(chain, [reg, approve(reg, 1), approve(reg, 2)], T + 1000);
    const a1 = propose({ type: 'addValidator', institution: 'bank-e', publicKey: veSigner.publicKey });
    const a2 = propose({ type: 'addValidator', institution: 'bank-e', publicKey: vaRotated.publicKey }, 1);
    await commit(chain, [a1, a2, approve(a1, 2), approve(a2, 2)], T + 2000);
    await commit(chain, [approve(a1, 3), approve(a2, 3)], T + 3000);
    expect(chain.governance.proposal(a1.hashHex)?.status).toBe('passed');
    const failed = chain.governance.proposal(a2.hashHex)!;
    expect(failed.status).toBe('failed');
    expect(failed.note).toMatch(/already has a validator/);
    expect(chain.validatorSetAt(3).validators).toHaveLength(4);
    expect(chain.validatorSetAt(4).validators).toHaveLength(5);
  });

  it.each([
    [
      'memory',
      async () => ({ store: new MemoryLedgerStore() as LedgerStore, reopen: async (s: LedgerStore) => s }),
    ],
    [
      'level',
      async () => {
        const dir = await tempDir('gov');
        dirs.push(dir);
        return {
          store: (await LevelLedgerStore.open(dir)) as LedgerStore,
          reopen: async (s: LedgerStore) => {
            await s.close();
            return LevelLedgerStore.open(dir);
          },
        };
      },
    ],
  ])('the registry survives a restart (%s store)', async (_name, make) => {
    const { store, reopen } = await make();
    const chain = await LedgerChain.open(store, genesis);
    const reg = propose(registerE);
    await commit(chain, [reg, approve(reg, 1), approve(reg, 2)], T + 1000);
    const add = propose({ type: 'addValidator', institution: 'bank-e', publicKey: veSigner.publicKey });
    await commit(chain, [add, approve(add, 1), approve(add, 2)], T + 2000);
    const pending = propose({ type: 'removeValidator', institution: 'bank-c' });
    await commit(chain, [pending], T + 3000);
    for (let h = 4; h <= K + 2; h++) await commit(chain, [], T + 1000 * h);
    const before = chain.governance.encode();

    const again = await LedgerChain.open(await reopen(store), genesis);
    expect(again.governance.encode()).toEqual(before);
    expect(again.head()).toEqual(chain.head());
    expect(epochOf(again.validatorSetAt(again.head().height + 1))).toBe(1);
    expect(again.governance.proposal(pending.hashHex)?.status).toBe('pending');
    expect(await again.checkTx(evidenceTx({ institution: 'bank-e', nonce: 1 }), T + 9000)).toBeUndefined();
    // It keeps executing: the next block is certified by the five validators of epoch 1.
    await commit(again, [approve(pending, 1)], T + 9000);
    expect(again.head().height).toBe(K + 3);
    await again.store.close();
  });
});
