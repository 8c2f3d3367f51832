import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { CodecError, CodecErrorCode, Writer } from '../../../src/core/codec.ts';
import { Domain, sha256, verifySignature } from '../../../src/core/crypto.ts';
import {
  decodeEvidence,
  type EvidenceRecord,
  EvidenceTypes,
  encodeEvidence,
  HashAlgs,
} from '../../../src/core/evidence.ts';
import {
  decodeTx,
  encodeTx,
  encodeTxBody,
  parseTx,
  signTx,
  txHash,
  verifyTxEnvelope,
  verifyTxSignature,
} from '../../../src/core/tx.ts';
import { codeOf } from '../../helpers/errors.ts';
import { sampleEvidence, sampleTx, sampleUnsignedTx, testSigner } from '../../helpers/fixtures.ts';

const arbEvidence: fc.Arbitrary<EvidenceRecord> = fc
  .record({
    hashAlg: fc.constantFrom(...(Object.keys(HashAlgs) as (keyof typeof HashAlgs)[])),
    caseId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,40}$/),
    evidenceType: fc.constantFrom(...EvidenceTypes),
    mediaType: fc.option(fc.constantFrom('application/pdf', 'audio/mpeg', 'image/png'), { nil: undefined }),
    size: fc.option(fc.maxSafeNat(), { nil: undefined }),
    label: fc.option(fc.stringMatching(/^[A-Za-z ]{1,40}$/), { nil: undefined }),
    tsToken: fc.option(fc.uint8Array({ minLength: 1, maxLength: 300 }), { nil: undefined }),
    seed: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  })
  .map(({ seed, ...e }) => {
    const len = HashAlgs[e.hashAlg].length;
    const hash = new Uint8Array(len);
    hash.set(sha256(seed).subarray(0, Math.min(32, len)));
    const out: EvidenceRecord = { ...e, hash };
    for (const k of ['mediaType', 'size', 'label', 'tsToken'] as const)
      if (out[k] === undefined) delete out[k];
    return out;
  });

describe('evidence record', () => {
  it('round-trips and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(arbEvidence, (e) => {
        const bytes = encodeEvidence(e);
        const back = decodeEvidence(bytes);
        expect(back).toEqual(e);
        expect(encodeEvidence(back)).toEqual(bytes);
      }),
    );
  });

  it('every single-byte corruption is rejected or decodes to different bytes', () => {
    const bytes = encodeEvidence(sampleEvidence());
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (i, delta) => {
        const mutated = bytes.slice();
        mutated[i] = (mutated[i]! + delta) & 0xff;
        try {
          const e = decodeEvidence(mutated);
          expect(toHex(encodeEvidence(e))).toBe(toHex(mutated));
          expect(toHex(mutated)).not.toBe(toHex(bytes));
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError);
        }
      }),
    );
  });

  it('rejects an unknown version', () => {
    const bytes = encodeEvidence(sampleEvidence());
    bytes[0] = 2;
    expect(codeOf(() => decodeEvidence(bytes))).toBe(CodecErrorCode.unknownVersion);
  });

  it('rejects unknown hash algorithms and evidence types', () => {
    const bytes = encodeEvidence(sampleEvidence());
    const badAlg = bytes.slice();
    badAlg[1] = 9;
    expect(codeOf(() => decodeEvidence(badAlg))).toBe(CodecErrorCode.unknownType);
    // Type byte follows version, alg, 32-byte hash and the case id (length byte + 17 chars).
    const typeOffset = 2 + 32 + 1 + '2026-BJ-CC-000123'.length;
    const badType = bytes.slice();
    badType[typeOffset] = 7;
    expect(codeOf(() => decodeEvidence(badType))).toBe(CodecErrorCode.unknownType);
  });

  it('rejects trailing bytes', () => {
    const bytes = encodeEvidence(sampleEvidence());
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(codeOf(() => decodeEvidence(longer))).toBe(CodecErrorCode.trailingBytes);
  });

  it.each([
    ['a hash of the wrong length', { hash: new Uint8Array(31) }],
    ['an empty case id', { caseId: '' }],
    ['a case id with spaces', { caseId: 'case 1' }],
    ['a case id over 128 chars', { caseId: 'c'.repeat(129) }],
    ['an upper-case media type', { mediaType: 'Application/PDF' }],
    ['a negative size', { size: -1 }],
    ['an empty label', { label: '' }],
    ['a label over 128 chars', { label: 'x'.repeat(129) }],
    ['a label holding a card number', { label: 'card 6222021234567890123' }],
    ['a label holding a phone number', { label: 'call 13800138000' }],
    ['a label with control characters', { label: 'a\u0007b' }],
    ['an empty token', { tsToken: new Uint8Array(0) }],
    ['an oversize token', { tsToken: new Uint8Array(16 * 1024 + 1) }],
  ])('refuses to encode %s', (_name, override) => {
    expect(codeOf(() => encodeEvidence(sampleEvidence(override as Partial<EvidenceRecord>)))).toBe(
      CodecErrorCode.invalidField,
    );
  });

  it('rejects a schema-invalid field on decode too', () => {
    // Hand-encode a record whose case id has a space: the writer refuses it, the reader must as well.
    const w = new Writer().u8(1).u8(1).fixed(new Uint8Array(32), 32).string('bad case').u8(1);
    w.u8(0).u8(0).u8(0).u8(0);
    expect(codeOf(() => decodeEvidence(w.finish()))).toBe(CodecErrorCode.invalidField);
  });
});

describe('transaction envelope', () => {
  it('round-trips, keeps one encoding and verifies', () => {
    fc.assert(
      fc.property(
        arbEvidence,
        fc.maxSafeNat(),
        fc.integer({ min: 1, max: 86_400_000 }),
        fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
        (e, nonce, ttlMs, institution) => {
          const signer = testSigner(institution);
          const tx = signTx(
            sampleUnsignedTx({ payload: encodeEvidence(e), nonce, ttlMs, institution }),
            signer,
          );
          const bytes = encodeTx(tx);
          const env = parseTx(bytes);
          expect(env.tx).toEqual(tx);
          expect(encodeTx(env.tx)).toEqual(bytes);
          expect(env.hash).toEqual(txHash(tx));
          expect(verifyTxEnvelope(env, signer.publicKey)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('the hash does not depend on the signature, and changes with every field', () => {
    const tx = sampleTx();
    const base = toHex(txHash(tx));
    expect(toHex(txHash(sampleTx({}, 'another-signer')))).toBe(base);
    const variants = [
      { chainId: 'other-chain' },
      { institution: 'bank-b' },
      { keyId: 'client-2' },
      { nonce: 2 },
      { createdAt: tx.createdAt + 1 },
      { ttlMs: tx.ttlMs + 1 },
      { payload: encodeEvidence(sampleEvidence({ caseId: 'other' })) },
    ];
    for (const v of variants) expect(toHex(txHash({ ...tx, ...v }))).not.toBe(base);
  });

  it('rejects a signature by another key, or over other fields', () => {
    const tx = sampleTx();
    expect(verifyTxSignature(tx, testSigner('bank-a/client-1').publicKey)).toBe(true);
    expect(verifyTxSignature(tx, testSigner('bank-b/client-1').publicKey)).toBe(false);
    expect(verifyTxSignature({ ...tx, nonce: 99 }, testSigner('bank-a/client-1').publicKey)).toBe(false);
    const sig = tx.signature.slice();
    sig[0]! ^= 1;
    expect(verifyTxSignature({ ...tx, signature: sig }, testSigner('bank-a/client-1').publicKey)).toBe(false);
  });

  it('domain separation: a tx signature does not verify as a commit vote or any other message', () => {
    const signer = testSigner('validator-0');
    const body = encodeTxBody(sampleUnsignedTx());
    const sig = signer.sign(Domain.tx, body);
    expect(verifySignature(signer.publicKey, Domain.tx, body, sig)).toBe(true);
    for (const d of Object.values(Domain)) {
      if (d !== Domain.tx) expect(verifySignature(signer.publicKey, d, body, sig)).toBe(false);
    }
  });

  it('rejects unknown versions and tx types, truncation, trailing bytes and oversize input', () => {
    const bytes = encodeTx(sampleTx());
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(codeOf(() => decodeTx(v2))).toBe(CodecErrorCode.unknownVersion);
    const typeOffset = 1 + 1 + 'jrchain-test'.length;
    const badType = bytes.slice();
    badType[typeOffset] = 200;
    expect(codeOf(() => decodeTx(badType))).toBe(CodecErrorCode.unknownType);
    expect(codeOf(() => decodeTx(bytes.subarray(0, bytes.length - 1)))).toBe(CodecErrorCode.truncated);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(codeOf(() => decodeTx(longer))).toBe(CodecErrorCode.trailingBytes);
    expect(codeOf(() => decodeTx(new Uint8Array(24 * 1024 + 1)))).toBe(CodecErrorCode.oversize);
  });

  it.each([
    ['a bad chain id', { chainId: 'Bad Chain' }],
    ['a bad institution id', { institution: '' }],
    ['a bad key id', { keyId: 'Key One' }],
    ['a negative nonce', { nonce: -1 }],
    ['a zero ttl', { ttlMs: 0 }],
    ['a ttl over a day', { ttlMs: 86_400_001 }],
  ])('refuses to encode %s', (_name, override) => {
    expect(codeOf(() => encodeTxBody(sampleUnsignedTx(override)))).toBe(CodecErrorCode.invalidField);
  });

  it('refuses an oversize payload', () => {
    expect(codeOf(() => encodeTxBody(sampleUnsignedTx({ payload: new Uint8Array(20 * 1024 + 1) })))).toBe(
      CodecErrorCode.oversize,
    );
  });

  it('hashes differ from plain SHA-256 of the body (tagged)', () => {
    const tx = sampleTx();
    expect(toHex(txHash(tx))).not.toBe(toHex(sha256(encodeTxBody(tx))));
    expect(utf8.encode(Domain.txId).length).toBeGreaterThan(0);
  });
});
