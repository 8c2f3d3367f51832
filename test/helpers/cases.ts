/** Dispute-case test helpers: a genesis with every role, signed case txs, agreement co-signatures. */
import { agreementSigningBody, type CaseEvent, type CaseRecord, encodeCase } from '../../src/core/case.ts';
import { Domain } from '../../src/core/crypto.ts';
import type { Genesis } from '../../src/core/genesis.ts';
import { genesisHash } from '../../src/core/genesis.ts';
import { envelope, signTx, type TxEnvelope } from '../../src/core/tx.ts';
import type { BuiltBlock } from '../../src/ledger/chain.ts';
import { TxErrorCode } from '../../src/ledger/errors.ts';
import type { LedgerChain } from '../../src/ledger/ledger-chain.ts';
import { batchOf } from './chain.ts';
import { certify, docHash, TEST_CHAIN_ID, TEST_GENESIS_TIME, testGenesis, testSigner } from './fixtures.ts';

/** bank-a and bank-b are banks, bank-c mediates, bank-d is a court. */
export const BANK = 'bank-a';
export const OTHER_BANK = 'bank-b';
export const MEDIATOR = 'bank-c';
export const COURT = 'bank-d';

/** The cases test genesis; `required` makes it a mandatory-sealing chain (ADR 015). */
export function casesGenesis(sealing?: 'required' | 'optional'): Genesis {
  const roles = { [MEDIATOR]: 'mediator', [COURT]: 'court' };
  return testGenesis(sealing === undefined ? { roles } : { roles, cases: { sealing } });
}

let nonce = 1;
/**
 * The tx hash of the last event built for each case id: each new event names it as `prev`, so txs built in
 * the order they are meant to apply chain up. An `open` starts the chain again; an id never opened gets zeros.
 */
const lastEvent = new Map<string, Uint8Array>();

/** The next event built for `caseId` follows `txHash` (after building txs that are not meant to apply). */
export function chainAfter(caseId: string, txHash: Uint8Array): void {
  lastEvent.set(caseId, txHash);
}

/** A case tx signed by `institution`'s client-1 key, with a fresh nonce; `prev` overrides the chained one. */
export function caseTx(
  institution: string,
  caseId: string,
  event: CaseEvent,
  createdAt = TEST_GENESIS_TIME + 1000,
  prev?: Uint8Array,
  sealed?: Pick<CaseRecord, 'sealed' | 'wraps'>,
): TxEnvelope {
  const link = event.type === 'open' ? undefined : (prev ?? lastEvent.get(caseId) ?? new Uint8Array(32));
  const unsigned = {
    chainId: TEST_CHAIN_ID,
    type: 'case' as const,
    institution,
    keyId: 'client-1',
    nonce: nonce++,
    createdAt,
    ttlMs: 24 * 3_600_000,
    payload: encodeCase({ caseId, prev: link, event, ...sealed }),
  };
  const env = envelope(signTx(unsigned, testSigner(`${institution}/client-1`)));
  lastEvent.set(caseId, env.hash);
  return env;
}

/** `institution`'s co-signature (client-1) over the agreement `label` of `caseId`. */
export function coSign(
  institution: string,
  caseId: string,
  label: string,
  keyLabel = `${institution}/client-1`,
) {
  const body = agreementSigningBody(TEST_CHAIN_ID, caseId, docHash(label));
  return { institution, keyId: 'client-1', signature: testSigner(keyLabel).sign(Domain.caseAgreement, body) };
}

export const claimant = (label: string) => docHash(`claimant:${label}`);

/** Builds, certifies and commits a block of `txs` at `time`. */
export async function commitCaseBlock(
  chain: LedgerChain,
  txs: TxEnvelope[],
  time: number,
): Promise<BuiltBlock> {
  const built = await chain.buildBlock(batchOf(txs, time));
  await chain.commitBlock(
    built,
    certify(built.header, built.header.view, undefined, genesisHash(chain.genesis)),
  );
  return built;
}

export const open = (id: string, by = BANK, respondent = BANK): TxEnvelope =>
  caseTx(by, id, { type: 'open', respondent, claimant: claimant(id) });
export const assign = (id: string, by = BANK, mediator = MEDIATOR) =>
  caseTx(by, id, { type: 'assign', mediator });
export const session = (id: string, seq: number, by = MEDIATOR) => caseTx(by, id, { type: 'session', seq });
/** `coSigner` null: no co-signature. */
export const agree = (id: string, by = MEDIATOR, coSigner: string | null = BANK) =>
  caseTx(by, id, {
    type: 'agree',
    agreementHash: docHash(`agreement ${id}`),
    coSignature: coSigner === null ? undefined : coSign(coSigner, id, `agreement ${id}`),
  });
export const ev = (id: string, by: string, event: CaseEvent) => caseTx(by, id, event);

/**
 * One scenario per case refusal: every tx but the last is legal in one block at the genesis time + 1 s; the
 * last gets the code.
 */
export const CASE_REFUSALS: [string, () => TxEnvelope[], string][] = [
  ['an id already open', () => [open('A'), open('A', MEDIATOR)], TxErrorCode.caseExists],
  ['an event of an unknown case', () => [assign('nope')], TxErrorCode.caseUnknown],
  ['a court opening a case', () => [open('A', COURT)], TxErrorCode.caseWrongRole],
  [
    'a bank recording a session',
    () => [open('A'), assign('A'), session('A', 1, BANK)],
    TxErrorCode.caseWrongRole,
  ],
  [
    'a bank opening a case against another bank',
    () => [open('A', OTHER_BANK, BANK)],
    TxErrorCode.caseNotParty,
  ],
  ['another bank assigning the case', () => [open('A'), assign('A', OTHER_BANK)], TxErrorCode.caseNotParty],
  [
    'a bank that is not the respondent agreeing',
    () => [open('A'), assign('A'), agree('A', OTHER_BANK)],
    TxErrorCode.caseNotParty,
  ],
  ['a session before assignment', () => [open('A', MEDIATOR), session('A', 1)], TxErrorCode.caseNotParty],
  ['assigning twice', () => [open('A'), assign('A'), assign('A')], TxErrorCode.caseIllegalTransition],
  [
    'closing an open case',
    () => [open('A'), ev('A', BANK, { type: 'close' })],
    TxErrorCode.caseIllegalTransition,
  ],
  [
    'applying for confirmation before an agreement',
    () => [open('A'), assign('A'), ev('A', BANK, { type: 'applyConfirmation', court: COURT })],
    TxErrorCode.caseIllegalTransition,
  ],
  [
    'agreeing after mediation failed',
    () => [open('A'), assign('A'), ev('A', MEDIATOR, { type: 'fail', reason: 'noAgreement' }), agree('A')],
    TxErrorCode.caseIllegalTransition,
  ],
  [
    "an event that does not follow the case's last event",
    () => [
      open('A'),
      assign('A'),
      caseTx(MEDIATOR, 'A', { type: 'session', seq: 1 }, undefined, docHash('x')),
    ],
    TxErrorCode.caseOutOfOrder,
  ],
  ['session 2 before session 1', () => [open('A'), assign('A'), session('A', 2)], TxErrorCode.caseOutOfOrder],
  [
    'a milestone out of order',
    () => [open('A'), assign('A'), agree('A'), ev('A', BANK, { type: 'milestone', seq: 2, kind: 'other' })],
    TxErrorCode.caseOutOfOrder,
  ],
  [
    'a sealed open that wraps the case key for nobody (ADR 011)',
    () => [
      caseTx(
        BANK,
        `k1:${'0'.repeat(64)}`,
        { type: 'open', respondent: BANK, claimant: claimant('s') },
        undefined,
        undefined,
        {
          wraps: [],
        },
      ),
    ],
    TxErrorCode.caseBadWrap,
  ],
  ['a respondent that is not a bank', () => [open('A', MEDIATOR, COURT)], TxErrorCode.caseInvalidParty],
  ['assigning to a bank', () => [open('A'), assign('A', BANK, OTHER_BANK)], TxErrorCode.caseInvalidParty],
  [
    'applying for confirmation at a bank',
    () => [
      open('A'),
      assign('A'),
      agree('A'),
      ev('A', BANK, { type: 'applyConfirmation', court: OTHER_BANK }),
    ],
    TxErrorCode.caseInvalidParty,
  ],
  [
    'an agreement without the co-signature',
    () => [open('A'), assign('A'), agree('A', MEDIATOR, null)],
    TxErrorCode.caseMissingParty,
  ],
  [
    'an agreement co-signed by the wrong party',
    () => [open('A'), assign('A'), agree('A', MEDIATOR, OTHER_BANK)],
    TxErrorCode.caseMissingParty,
  ],
  [
    'a co-signature by another key',
    () => [
      open('A'),
      assign('A'),
      ev('A', MEDIATOR, {
        type: 'agree',
        agreementHash: docHash('agreement A'),
        coSignature: coSign(BANK, 'A', 'agreement A', 'bank-b/client-1'),
      }),
    ],
    TxErrorCode.caseBadCoSignature,
  ],
  [
    'a co-signature over another agreement',
    () => [
      open('A'),
      assign('A'),
      ev('A', MEDIATOR, {
        type: 'agree',
        agreementHash: docHash('agreement A'),
        coSignature: coSign(BANK, 'A', 'other'),
      }),
    ],
    TxErrorCode.caseBadCoSignature,
  ],
];
