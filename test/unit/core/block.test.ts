import { describe, expect, it } from 'vitest';
import {
  type BlockHeader,
  CertErrorCode,
  type CommitCertificate,
  commitVoteBody,
  decodeCertificate,
  decodeHeader,
  encodeCertificate,
  encodeHeader,
  headerHash,
  verifyCommitCertificate,
} from '../../../src/core/block.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { CodecError, CodecErrorCode } from '../../../src/core/codec.ts';
import { Domain, sha256 } from '../../../src/core/crypto.ts';
import {
  consensusChainId,
  decodeValidatorSet,
  encodeValidatorSet,
  faultTolerance,
  quorumSize,
  type ValidatorSet,
  validatorSetHash,
} from '../../../src/core/validators.ts';
import { codeOf as certCode } from '../../helpers/errors.ts';
import { testSigner } from '../../helpers/fixtures.ts';

const signers = Array.from({ length: 4 }, (_, i) => testSigner(`validator-${i}`));
const set: ValidatorSet = {
  validators: signers.map((s, i) => ({ institution: `bank-${i}`, publicKey: s.publicKey })),
};

function header(overrides: Partial<BlockHeader> = {}): BlockHeader {
  return {
    chainId: 'jrchain-test',
    height: 7,
    prevHash: sha256(new Uint8Array([1])),
    txRoot: sha256(new Uint8Array([2])),
    txCount: 3,
    proposer: 2,
    view: 1,
    time: 1_780_000_000_123,
    validatorSetHash: validatorSetHash(set),
    ...overrides,
  };
}

/** The genesis hash the certificates below are signed for (ADR 010). */
const G = sha256(utf8.encode('genesis'));

function certify(h: BlockHeader, who: number[], view = 1, genesis: Uint8Array | null = G): CommitCertificate {
  const hash = headerHash(h);
  const body = commitVoteBody(consensusChainId(h.chainId, genesis, 0), view, h.height, hash);
  return {
    height: h.height,
    view,
    headerHash: hash,
    signatures: who.map((i) => ({ validator: i, signature: signers[i]!.sign(Domain.commit, body) })),
  };
}

describe('quorum arithmetic', () => {
  it.each([
    [1, 0, 1],
    [3, 0, 2],
    [4, 1, 3],
    [5, 1, 4],
    [6, 1, 4],
    [7, 2, 5],
    [10, 3, 7],
    [100, 33, 67],
  ])('n=%i gives f=%i and quorum %i', (n, f, q) => {
    expect(faultTolerance(n)).toBe(f);
    expect(quorumSize(n)).toBe(q);
  });

  it('any two quorums intersect in more than f validators, for every n up to 256', () => {
    for (let n = 1; n <= 256; n++) expect(2 * quorumSize(n) - n).toBeGreaterThan(faultTolerance(n));
  });
});

describe('block header and validator set', () => {
  it('round-trips and hashes stably', () => {
    const h = header();
    const bytes = encodeHeader(h);
    expect(decodeHeader(bytes)).toEqual(h);
    expect(toHex(headerHash(decodeHeader(bytes)))).toBe(toHex(headerHash(h)));
    expect(toHex(headerHash(header({ time: h.time + 1 })))).not.toBe(toHex(headerHash(h)));
  });

  it('rejects height 0 and trailing bytes', () => {
    expect(() => encodeHeader(header({ height: 0 }))).toThrow(CodecError);
    const bytes = encodeHeader(header());
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeHeader(longer)).toThrow(
      expect.objectContaining({ code: CodecErrorCode.trailingBytes }),
    );
  });

  it('validator sets round-trip; order matters for the hash; duplicates are refused', () => {
    expect(decodeValidatorSet(encodeValidatorSet(set))).toEqual(set);
    const reversed = { validators: [...set.validators].reverse() };
    expect(toHex(validatorSetHash(reversed))).not.toBe(toHex(validatorSetHash(set)));
    const dup = { validators: [set.validators[0]!, { ...set.validators[0]!, institution: 'bank-x' }] };
    expect(() => encodeValidatorSet(dup)).toThrow(CodecError);
  });
});

describe('commit certificate', () => {
  it('a quorum of valid signatures verifies, and round-trips', () => {
    const h = header();
    const cert = certify(h, [0, 1, 3]);
    expect(() => verifyCommitCertificate(cert, h, set, G)).not.toThrow();
    const back = decodeCertificate(encodeCertificate(cert));
    expect(back).toEqual(cert);
    expect(() => verifyCommitCertificate(back, h, set, G)).not.toThrow();
  });

  it('signatures bind the genesis hash: another genesis, or none, is a bad signature (ADR 010)', () => {
    const h = header();
    const other = sha256(utf8.encode('another genesis'));
    expect(certCode(() => verifyCommitCertificate(certify(h, [0, 1, 3]), h, set, other))).toBe(
      CertErrorCode.badSignature,
    );
    expect(certCode(() => verifyCommitCertificate(certify(h, [0, 1, 3]), h, set, null))).toBe(
      CertErrorCode.badSignature,
    );
    // The pre-ADR-010 domain (v1/v2 receipts) still verifies where asked for, and only there.
    const unbound = certify(h, [0, 1, 3], 1, null);
    expect(() => verifyCommitCertificate(unbound, h, set, null)).not.toThrow();
    expect(certCode(() => verifyCommitCertificate(unbound, h, set, G))).toBe(CertErrorCode.badSignature);
  });

  it('fewer than a quorum fails with CERT_NO_QUORUM', () => {
    const h = header();
    expect(certCode(() => verifyCommitCertificate(certify(h, [0, 1]), h, set, G))).toBe(
      CertErrorCode.noQuorum,
    );
  });

  it('a bad signature fails with CERT_BAD_SIGNATURE', () => {
    const h = header();
    const cert = certify(h, [0, 1, 2]);
    cert.signatures[1]!.signature[5]! ^= 0x10;
    expect(certCode(() => verifyCommitCertificate(cert, h, set, G))).toBe(CertErrorCode.badSignature);
  });

  it('a certificate for another header fails with CERT_HEADER_MISMATCH', () => {
    const cert = certify(header(), [0, 1, 2]);
    expect(certCode(() => verifyCommitCertificate(cert, header({ txCount: 4 }), set, G))).toBe(
      CertErrorCode.headerMismatch,
    );
  });

  it('signatures under another view do not count', () => {
    const h = header();
    const cert = certify(h, [0, 1, 2], 1);
    expect(certCode(() => verifyCommitCertificate({ ...cert, view: 2 }, h, set, G))).toBe(
      CertErrorCode.badSignature,
    );
  });

  it('out-of-range and repeated signers fail with CERT_UNKNOWN_VALIDATOR', () => {
    const h = header();
    const cert = certify(h, [0, 1, 2]);
    const outOfRange = {
      ...cert,
      signatures: [...cert.signatures, { validator: 9, signature: new Uint8Array(64) }],
    };
    expect(certCode(() => verifyCommitCertificate(outOfRange, h, set, G))).toBe(
      CertErrorCode.unknownValidator,
    );
    const repeated = { ...cert, signatures: [cert.signatures[0]!, cert.signatures[0]!, cert.signatures[1]!] };
    expect(certCode(() => verifyCommitCertificate(repeated, h, set, G))).toBe(CertErrorCode.unknownValidator);
  });

  it('decoding rejects unsorted signers', () => {
    const h = header();
    const cert = certify(h, [0, 1, 2]);
    const bytes = encodeCertificate(cert);
    // Swap the first two signer indexes (1-byte varints): index 0 becomes 1 and 1 becomes 0.
    const idx0 = bytes.indexOf(0, 1 + 1 + 1 + 32 + 1);
    const mutated = bytes.slice();
    mutated[idx0] = 1;
    expect(() => decodeCertificate(mutated)).toThrow(CodecError);
  });
});
