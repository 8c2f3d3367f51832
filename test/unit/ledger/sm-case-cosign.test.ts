/**
 * Case agreements on an sm2-sm3 chain (ADR 014, docs/cases.md): the respondent bank's co-signature is SM2 under
 * its SM2 client key and verifies under the chain's suite; an Ed25519 co-signature, or an SM2 one judged as
 * Ed25519, is refused with TX_CASE_BAD_CO_SIGNATURE.
 */
import { describe, expect, it } from 'vitest';
import { agreementSigningBody, type CaseRecord } from '../../../src/core/case.ts';
import { Domain, type Signer } from '../../../src/core/crypto.ts';
import { type CryptoSuite, SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { applyCaseEvent, type CaseContext, type CaseState } from '../../../src/ledger/case-machine.ts';
import { TxErrorCode } from '../../../src/ledger/errors.ts';
import { testSigner } from '../../helpers/fixtures.ts';
import { smSigner } from '../../helpers/sm-chain.ts';

const CHAIN = 'jrchain-sm-test';
const CASE = 'SM-CASE-1';
const hash = (b: number) => new Uint8Array(32).fill(b);
const agreementHash = hash(9);
const at = (i: number) => ({ txHash: hash(i), height: i, index: 0, time: 1000 * i });

const mediating: CaseState = {
  caseId: CASE,
  status: 'assigned',
  opener: 'bank-a',
  respondent: 'bank-a',
  claimant: hash(1),
  mediator: 'med-c',
  sessions: 0,
  milestones: 0,
  events: [
    { type: 'open', institution: 'bank-a', ...at(1) },
    { type: 'assign', institution: 'med-c', ...at(2) },
  ],
};

/** The mediator's agreement, co-signed by bank-a's client-1 with `coSigner`, judged on a chain of `suite`. */
function judge(coSigner: Signer, registered: Uint8Array, suite?: CryptoSuite) {
  const record: CaseRecord = {
    caseId: CASE,
    prev: hash(2),
    event: {
      type: 'agree',
      agreementHash,
      coSignature: {
        institution: 'bank-a',
        keyId: 'client-1',
        signature: coSigner.sign(Domain.caseAgreement, agreementSigningBody(CHAIN, CASE, agreementHash)),
      },
    },
  };
  const ctx: CaseContext = {
    chainId: CHAIN,
    signer: 'med-c',
    roleOf: (i) => (i === 'med-c' ? 'mediator' : 'bank'),
    clientKey: (i, k) => (i === 'bank-a' && k === 'client-1' ? registered : undefined),
    encryptionKey: () => undefined,
    sealingRequired: false,
    ...(suite === undefined ? {} : { suite }),
    at: at(3),
  };
  return applyCaseEvent(mediating, record, ctx);
}

describe('case co-signatures on an sm2-sm3 chain', () => {
  const bank = smSigner('bank-a/client-1');

  it('accepts the SM2 co-signature of the respondent bank', () => {
    const v = judge(bank, bank.publicKey, SM2_SM3);
    expect(v.ok && v.state.status).toBe('agreed');
  });

  it('refuses an Ed25519 co-signature on an SM chain, and an SM2 one judged as Ed25519', () => {
    const ed = testSigner('bank-a/client-1');
    const onSm = judge(ed, bank.publicKey, SM2_SM3);
    expect(onSm).toMatchObject({ ok: false, code: TxErrorCode.caseBadCoSignature });
    const asEd = judge(bank, bank.publicKey);
    expect(asEd).toMatchObject({ ok: false, code: TxErrorCode.caseBadCoSignature });
    // Another SM2 key than the one registered does not co-sign for bank-a.
    const other = judge(smSigner('bank-b/client-1'), bank.publicKey, SM2_SM3);
    expect(other).toMatchObject({ ok: false, code: TxErrorCode.caseBadCoSignature });
  });
});
