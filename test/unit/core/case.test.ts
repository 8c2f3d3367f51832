import { describe, expect, it } from 'vitest';
import { type CaseRecord, claimantCommitment, decodeCase, encodeCase } from '../../../src/core/case.ts';
import { CodecError } from '../../../src/core/codec.ts';
import { docHash } from '../../helpers/fixtures.ts';

const h = docHash('doc');
const sig = new Uint8Array(64).fill(7);
const prev = docHash('previous event');
const records: CaseRecord[] = [
  { caseId: '2026-BJ-CC-000123', event: { type: 'open', respondent: 'bank-a', claimant: h } },
  { caseId: 'c', prev, event: { type: 'assign', mediator: 'med-1' } },
  { caseId: 'c', prev, event: { type: 'session', seq: 1 } },
  { caseId: 'c', prev, event: { type: 'session', seq: 2, minutesHash: h } },
  { caseId: 'c', prev, event: { type: 'agree', agreementHash: h } },
  {
    caseId: 'c',
    prev,
    event: {
      type: 'agree',
      agreementHash: h,
      coSignature: { institution: 'bank-a', keyId: 'k1', signature: sig },
    },
  },
  { caseId: 'c', prev, event: { type: 'fail', reason: 'claimantRefused' } },
  { caseId: 'c', prev, event: { type: 'withdraw' } },
  { caseId: 'c', prev, event: { type: 'applyConfirmation', court: 'court-1' } },
  { caseId: 'c', prev, event: { type: 'decide', decision: 'refused', rulingHash: h } },
  { caseId: 'c', prev, event: { type: 'milestone', seq: 3, kind: 'instalmentRepaid', documentHash: h } },
  { caseId: 'c', prev, event: { type: 'close' } },
];

describe('case records', () => {
  it.each(records.map((r) => [r.event.type, r] as const))('round-trips %s', (_t, r) => {
    expect(decodeCase(encodeCase(r))).toEqual(r);
  });

  it('refuses unknown event codes, trailing bytes, bad ids and bad enum values', () => {
    const bytes = encodeCase(records[7]!);
    const unknown = bytes.slice();
    // version, the id's length and 'c', then the event code.
    unknown[3] = 99;
    expect(() => decodeCase(unknown)).toThrow(CodecError);
    expect(() => decodeCase(new Uint8Array([...bytes, 0]))).toThrow(CodecError);
    expect(() => encodeCase({ caseId: ' bad', prev, event: { type: 'close' } })).toThrow(/case id/);
    expect(() => encodeCase({ caseId: 'c', prev, event: { type: 'assign', mediator: 'Not An Id' } })).toThrow(
      /mediator/,
    );
    expect(() =>
      encodeCase({ caseId: 'c', prev, event: { type: 'fail', reason: 'bored' as 'other' } }),
    ).toThrow(/fail reason/);
    expect(() => encodeCase({ caseId: 'c', prev, event: { type: 'session', seq: 0 } })).toThrow(/sequence/);
    const fail = encodeCase(records[6]!);
    fail[fail.length - 1] = 42;
    expect(() => decodeCase(fail)).toThrow(/unknown fail reason code 42/);
  });

  it('links every event but open to the previous one', () => {
    expect(() =>
      encodeCase({ caseId: 'c', prev, event: { type: 'open', respondent: 'bank-a', claimant: h } }),
    ).toThrow(/no previous event/);
    expect(() => encodeCase({ caseId: 'c', event: { type: 'close' } })).toThrow(/previous event/);
    expect(() => encodeCase({ caseId: 'c', prev: new Uint8Array(31), event: { type: 'close' } })).toThrow(
      /previous event/,
    );
  });

  it('commits to a claimant only with a salt of at least 16 bytes, and the salt changes the commitment', () => {
    const a = claimantCommitment(new Uint8Array(16).fill(1), '110101199001011234');
    const b = claimantCommitment(new Uint8Array(16).fill(2), '110101199001011234');
    expect(Buffer.compare(a, b)).not.toBe(0);
    expect(a).toHaveLength(32);
    expect(() => claimantCommitment(new Uint8Array(8), 'x')).toThrow(/salt/);
  });
});

describe('sealed case records (version 2, ADR 011)', () => {
  const ref = `k1:${'ab'.repeat(32)}`;
  const wrap = (institution: string) => ({
    institution,
    recipient: new Uint8Array(32).fill(5),
    wrapped: new Uint8Array(80).fill(6),
  });
  const sealedOpen: CaseRecord = {
    caseId: ref,
    event: { type: 'open', respondent: 'bank-a', claimant: h },
    sealed: new Uint8Array(40).fill(9),
    wraps: [wrap('bank-a'), wrap('med-1')],
  };

  it('round-trips sealed details and wraps, and keeps unsealed records at version 1', () => {
    const bytes = encodeCase(sealedOpen);
    expect(bytes[0]).toBe(2);
    expect(decodeCase(bytes)).toEqual(sealedOpen);
    const noDetails: CaseRecord = {
      caseId: ref,
      prev,
      event: { type: 'assign', mediator: 'med-1' },
      wraps: [],
    };
    expect(decodeCase(encodeCase(noDetails))).toEqual(noDetails);
    expect(encodeCase(records[0]!)[0]).toBe(1);
  });

  it('refuses a sealed record naming a case id in clear, two wraps for one party, or bad wrap sizes', () => {
    expect(() => encodeCase({ ...sealedOpen, caseId: '2026-BJ-CC-000123' })).toThrow(/k1: case reference/);
    expect(() => encodeCase({ ...sealedOpen, wraps: [wrap('bank-a'), wrap('bank-a')] })).toThrow(
      /two key wraps/,
    );
    expect(() =>
      encodeCase({ ...sealedOpen, wraps: [{ ...wrap('bank-a'), wrapped: new Uint8Array(79) }] }),
    ).toThrow(/wrapped key/);
    expect(() => encodeCase({ ...sealedOpen, wraps: ['a', 'b', 'c', 'd', 'e'].map(wrap) })).toThrow(
      /at most 4/,
    );
    const v3 = encodeCase(sealedOpen);
    v3[0] = 3;
    expect(() => decodeCase(v3)).toThrow(/unknown case record version 3/);
  });
});
