/**
 * Crypto-shredding end to end (ADR 011, docs/cases.md#crypto-shredding), on a LevelDB ledger: a sealed case
 * runs from complaint to judicial confirmation with evidence; each party imports the case key from the wraps on
 * the chain and reads the metadata. Then every party shreds its store entry and retires its encryption key
 * (governance registers a new one, the old file is destroyed). After that nobody can open the case key, the
 * case id or the label with anything left on any machine, while the evidence receipt and the case receipt
 * still verify and the ledger passes its integrity check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  agreementSigningBody,
  type CaseEvent,
  type CaseKeyWrap,
  decodeCase,
  encodeCase,
} from '../../src/core/case.ts';
import * as S from '../../src/core/case-seal.ts';
import { Domain } from '../../src/core/crypto.ts';
import { isJrError } from '../../src/core/errors.ts';
import { decodeEvidence, encodeEvidence } from '../../src/core/evidence.ts';
import type { GovernanceAction } from '../../src/core/governance.ts';
import { envelope, signTx, type TxEnvelope } from '../../src/core/tx.ts';
import { checkIntegrity } from '../../src/ledger/integrity.ts';
import { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { LevelLedgerStore } from '../../src/ledger/level-store.ts';
import { LedgerQueries } from '../../src/ledger/queries.ts';
import {
  CaseKeyStore,
  destroySecretFile,
  readEncryptionKeyFile,
  writeEncryptionKeyFile,
} from '../../src/node/case-keys.ts';
import { caseReceiptFor } from '../../src/receipt/case-receipt.ts';
import { verifyCaseReceipt } from '../../src/receipt/case-verify.ts';
import { receiptFor } from '../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../src/receipt/receipt.ts';
import { BANK, COURT, casesGenesis, commitCaseBlock, MEDIATOR } from '../helpers/cases.ts';
import { outcomes } from '../helpers/chain.ts';
import {
  docHash,
  governanceTx,
  sampleEvidence,
  TEST_CHAIN_ID,
  TEST_GENESIS_TIME,
  testSigner,
} from '../helpers/fixtures.ts';

const T = TEST_GENESIS_TIME;
const dir = mkdtempSync(join(tmpdir(), 'jrchain-shred-'));
const PARTIES = [BANK, MEDIATOR, COURT];
const CASE_ID = '2026-SH-CC-000001';
const LABEL = 'card statement November';
// A chain that requires sealing (ADR 015), as new chains do.
const genesis = casesGenesis('required');
let nonce = 1;
let time = T + 1000;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const encFile = (inst: string, gen: number) => join(dir, `${inst}.enc.${gen}`);
const storeOf = (inst: string) => new CaseKeyStore(join(dir, `${inst}-case-keys`));

async function block(chain: LedgerChain, txs: TxEnvelope[]): Promise<void> {
  time += 1000;
  expect(outcomes(await commitCaseBlock(chain, txs, time), txs)).toEqual(txs.map(() => 'ok'));
}

/** Each action proposed by validator 0 and approved by 1 and 2, in two blocks. */
async function govern(chain: LedgerChain, actions: GovernanceAction[]): Promise<void> {
  const at = { createdAt: time, ttlMs: 3_600_000 };
  const ps = actions.map((action) =>
    governanceTx({ kind: 'propose', deadline: time + 3_600_000, action }, { nonce: nonce++, ...at }),
  );
  await block(chain, ps);
  const approvals = ps.flatMap((p) =>
    [1, 2].map((v) =>
      governanceTx({ kind: 'approve', proposalId: p.hash }, { validator: v, nonce: nonce++, ...at }),
    ),
  );
  await block(chain, approvals);
}

function signed(by: string, type: 'case' | 'evidence', payload: Uint8Array): TxEnvelope {
  const unsigned = {
    chainId: TEST_CHAIN_ID,
    type,
    institution: by,
    keyId: 'client-1',
    nonce: nonce++,
    createdAt: time,
    ttlMs: 3_600_000,
    payload,
  };
  return envelope(signTx(unsigned, testSigner(`${by}/client-1`)));
}

describe('crypto-shredding a case', () => {
  it('makes its metadata unreadable everywhere while receipts and the ledger stay valid', async () => {
    const store = await LevelLedgerStore.open(join(dir, 'ledger'));
    const chain = await LedgerChain.open(store, genesis);
    for (const p of PARTIES) writeEncryptionKeyFile(encFile(p, 1), S.newEncryptionKey());
    const pub = (p: string, gen: number) => readEncryptionKeyFile(encFile(p, gen)).publicKey;
    await govern(
      chain,
      PARTIES.map((p) => ({ type: 'setEncryptionKey', institution: p, publicKey: pub(p, 1) })),
    );

    // The bank opens the case: a fresh key, the reference, the sealed id and its own wrap.
    const K = S.newCaseKey();
    const ref = S.caseRef(K, CASE_ID);
    storeOf(BANK).put({ caseId: CASE_ID, ref, key: K });
    const wrap = (p: string): CaseKeyWrap => ({
      institution: p,
      recipient: pub(p, 1),
      wrapped: S.wrapCaseKey(K, pub(p, 1), ref, p),
    });
    let prev: Uint8Array | undefined;
    const event = (by: string, e: CaseEvent, wraps?: CaseKeyWrap[], sealed?: Uint8Array) => {
      const rec = { caseId: ref, prev, event: e, ...(wraps || sealed ? { wraps: wraps ?? [], sealed } : {}) };
      const tx = signed(by, 'case', encodeCase(rec));
      prev = tx.hash;
      return tx;
    };
    const claimant = S.keyedClaimantCommitment(K, 'ID 110101199003074321');
    const opened = event(
      BANK,
      { type: 'open', respondent: BANK, claimant },
      [wrap(BANK)],
      S.sealCaseDetails(K, ref, { caseId: CASE_ID }),
    );
    const evidence = signed(
      BANK,
      'evidence',
      encodeEvidence(
        sampleEvidence({ caseId: ref, label: S.sealLabel(K, ref, LABEL), hash: docHash('statement') }),
      ),
    );
    await block(chain, [opened, evidence]);
    const agreementHash = docHash('agreement');
    const coSignature = {
      institution: BANK,
      keyId: 'client-1',
      signature: testSigner(`${BANK}/client-1`).sign(
        Domain.caseAgreement,
        agreementSigningBody(TEST_CHAIN_ID, ref, agreementHash),
      ),
    };
    await block(chain, [event(BANK, { type: 'assign', mediator: MEDIATOR }, [wrap(MEDIATOR)])]);
    await block(chain, [event(MEDIATOR, { type: 'agree', agreementHash, coSignature })]);
    await block(chain, [event(MEDIATOR, { type: 'applyConfirmation', court: COURT }, [wrap(COURT)])]);
    await block(chain, [
      event(COURT, { type: 'decide', decision: 'confirmed', rulingHash: docHash('ruling') }),
    ]);

    // Every party recovers the key from the chain with its encryption key, and reads the metadata.
    const queries = new LedgerQueries(store, genesis);
    const state = (await queries.case(ref))!;
    expect(state.status).toBe('confirmed');
    const records = await Promise.all(
      state.events.map(async (e) => decodeCase((await queries.tx(e.txHash))!.env.tx.payload)),
    );
    const wraps = records.flatMap((r) => r.wraps ?? []);
    expect(wraps.map((w) => w.institution)).toEqual(PARTIES);
    for (const w of wraps) {
      const key = S.unwrapCaseKey(
        w.wrapped,
        readEncryptionKeyFile(encFile(w.institution, 1)).privateKey,
        ref,
        w.institution,
      );
      expect(S.openCaseDetails(key, ref, records[0]!.sealed!).caseId).toBe(CASE_ID);
      storeOf(w.institution).put({ caseId: CASE_ID, ref, key });
    }
    const stored = (await queries.tx(evidence.hash))!;
    expect(S.openLabel(K, ref, sampleLabel(stored.env))).toBe(LABEL);

    // Shred: every party destroys its store entry and retires the encryption key the wraps were made to.
    for (const p of PARTIES) writeEncryptionKeyFile(encFile(p, 2), S.newEncryptionKey());
    await govern(
      chain,
      PARTIES.map((p) => ({ type: 'setEncryptionKey', institution: p, publicKey: pub(p, 2) })),
    );
    for (const p of PARTIES) {
      expect(chain.governance.encryptionKeyOf(p)).toEqual(pub(p, 2));
      expect(storeOf(p).shred(ref)).toBe(true);
      expect(destroySecretFile(encFile(p, 1))).toBe(true);
    }

    // Unreadable everywhere: no store holds it, no key file left opens any wrap on the chain.
    const opens = (f: () => unknown) => {
      try {
        f();
        return true;
      } catch (err) {
        expect(isJrError(err, S.SealErrorCode.openFailed), String(err)).toBe(true);
        return false;
      }
    };
    for (const p of PARTIES) {
      expect(storeOf(p).byRef(ref)).toBeUndefined();
      expect(storeOf(p).list()).toEqual([]);
      expect(() => readEncryptionKeyFile(encFile(p, 1))).toThrow(/does not exist/);
      const current = readEncryptionKeyFile(encFile(p, 2)).privateKey;
      for (const w of wraps)
        expect(opens(() => S.unwrapCaseKey(w.wrapped, current, ref, w.institution))).toBe(false);
    }
    // The validators never held the key: it is in no ledger entry.
    const hexK = Buffer.from(K).toString('hex');
    for await (const [, v] of store.rawEntries())
      expect(Buffer.from(v).toString('hex').includes(hexK)).toBe(false);

    // Receipts and the chain are untouched.
    const receipt = await receiptFor(queries, genesis, evidence.hash);
    expect((await verifyReceipt(JSON.parse(JSON.stringify(receipt)), { genesis })).ok).toBe(true);
    const caseReceipt = await caseReceiptFor(queries, genesis, ref);
    const v = verifyCaseReceipt(JSON.parse(JSON.stringify(caseReceipt)), genesis);
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(v.state?.status).toBe('confirmed');
    expect(await checkIntegrity(store)).toEqual([]);
    await store.close();
  });
});

function sampleLabel(tx: TxEnvelope): string {
  return decodeEvidence(tx.tx.payload).label!;
}
