import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  type CheckpointProof,
  type Commit,
  type ConsensusMessage,
  checkpointBody,
  decodeBatch,
  decodeMessage,
  encodeBatch,
  encodeMessage,
  MessageLimits,
  type NewView,
  type PrePrepare,
  type Prepare,
  type PreparedCertificate,
  prePrepareBody,
  prepareBody,
  type SignatureShare,
  signedPart,
  type ViewChange,
} from '../../../src/consensus/messages.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { commitVoteBody } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { CodecError, CodecErrorCode } from '../../../src/core/codec.ts';
import { Domain } from '../../../src/core/crypto.ts';
import { ED25519_SHA256, SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { txHashFromBytes } from '../../../src/core/tx.ts';
import { codeOf } from '../../helpers/errors.ts';
import { smEvidenceTx } from '../../helpers/sm-chain.ts';
import { simVerify } from '../../sim/crypto.ts';
import { simTx } from '../../sim/txs.ts';
import { signers } from './helpers.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const chainId = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
const validator = fc.integer({ min: 0, max: 255 });
const num = fc.nat({ max: 2 ** 40 });
const shares: fc.Arbitrary<SignatureShare[]> = fc
  .uniqueArray(validator, { maxLength: 5 })
  .chain((vs) =>
    fc.tuple(
      ...vs.sort((a, b) => a - b).map((v) => bytes(64).map((signature) => ({ validator: v, signature }))),
    ),
  );
const batchArb = fc.record({
  proposer: validator,
  view: num,
  time: num,
  txs: fc.uniqueArray(fc.nat({ max: 1e6 }), { maxLength: 3 }).map((ns) => ns.map((k) => simTx(2, k))),
});
const head = fc.record({ chainId, from: validator, signature: bytes(64) });
const proofArb: fc.Arbitrary<CheckpointProof> = fc.record({
  seq: num,
  headerHash: bytes(32),
  signatures: shares,
});
const certArb = (seq: number): fc.Arbitrary<PreparedCertificate> =>
  fc.record({
    view: num,
    seq: fc.constant(seq),
    digest: bytes(32),
    prePrepareSignature: bytes(64),
    prepares: shares,
  });
const increasing = (max: number) =>
  fc.uniqueArray(fc.nat({ max: 10_000 }), { maxLength: max }).map((a) => a.sort((x, y) => x - y));

const prePrepareArb: fc.Arbitrary<PrePrepare> = fc
  .record({ h: head, view: num, seq: num, batch: batchArb })
  .map(({ h, view, seq, batch }) => ({
    type: 'prePrepare',
    ...h,
    view,
    seq,
    batch,
    digest: batchDigest(batch),
  }));
const prepareArb: fc.Arbitrary<Prepare> = fc
  .record({ h: head, view: num, seq: num, digest: bytes(32) })
  .map(({ h, ...r }) => ({ type: 'prepare', ...h, ...r }));
const commitArb: fc.Arbitrary<Commit> = fc
  .record({ h: head, view: num, seq: num, headerHash: bytes(32) })
  .map(({ h, ...r }) => ({ type: 'commit', ...h, ...r }));
const checkpointArb: fc.Arbitrary<Checkpoint> = fc
  .record({ h: head, seq: num, headerHash: bytes(32) })
  .map(({ h, ...r }) => ({ type: 'checkpoint', ...h, ...r }));
const viewChangeArb = (from?: number): fc.Arbitrary<ViewChange> =>
  fc
    .record({
      h: head,
      newView: num,
      checkpoint: proofArb,
      prepared: increasing(4).chain((seqs) => fc.tuple(...seqs.map(certArb))),
    })
    .map(({ h, ...r }) => ({ type: 'viewChange', ...h, from: from ?? h.from, ...r }));
const newViewArb: fc.Arbitrary<NewView> = fc
  .record({
    h: head,
    view: num,
    viewChanges: fc
      .uniqueArray(validator, { maxLength: 3 })
      .chain((fs) => fc.tuple(...fs.sort((a, b) => a - b).map((f) => viewChangeArb(f)))),
    prePrepares: increasing(4).chain((seqs) =>
      fc.tuple(
        ...seqs.map((seq) => fc.record({ seq: fc.constant(seq), digest: bytes(32), signature: bytes(64) })),
      ),
    ),
  })
  .map(({ h, ...r }) => ({ type: 'newView', ...h, ...r }));
const anyMessage: fc.Arbitrary<ConsensusMessage> = fc.oneof(
  prePrepareArb,
  prepareArb,
  commitArb,
  checkpointArb,
  viewChangeArb(),
  newViewArb,
);

describe('message codec', () => {
  it('round-trips every message type, and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        const encoded = encodeMessage(m);
        const back = decodeMessage(encoded);
        expect(back).toEqual(m);
        expect(encodeMessage(back)).toEqual(encoded);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every truncation and any trailing byte', () => {
    fc.assert(
      fc.property(anyMessage, fc.nat(), (m, cut) => {
        const encoded = encodeMessage(m);
        const prefix = encoded.subarray(0, cut % encoded.length);
        expect(() => decodeMessage(prefix)).toThrow(CodecError);
        const longer = new Uint8Array(encoded.length + 1);
        longer.set(encoded);
        expect(codeOf(() => decodeMessage(longer))).toBe(CodecErrorCode.trailingBytes);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects unknown versions and types, oversize input, bad chain ids and senders', () => {
    const m = encodeMessage(fc.sample(prepareArb, { seed: 1, numRuns: 1 })[0]!);
    const with0 = (i: number, v: number) => {
      const b = m.slice();
      b[i] = v;
      return b;
    };
    expect(codeOf(() => decodeMessage(with0(0, 2)))).toBe(CodecErrorCode.unknownVersion);
    expect(codeOf(() => decodeMessage(with0(1, 0)))).toBe(CodecErrorCode.unknownType);
    expect(codeOf(() => decodeMessage(with0(1, 7)))).toBe(CodecErrorCode.unknownType);
    expect(codeOf(() => decodeMessage(new Uint8Array(MessageLimits.messageBytes + 1)))).toBe(
      CodecErrorCode.oversize,
    );
    const upper: Prepare = { ...fc.sample(prepareArb, { seed: 2, numRuns: 1 })[0]!, chainId: 'ok' };
    const enc = encodeMessage(upper);
    enc[3] = 'O'.charCodeAt(0);
    expect(codeOf(() => decodeMessage(enc))).toBe(CodecErrorCode.invalidField);
    const sender = encodeMessage({ ...upper, from: 255 });
    // from = 255 is one varint byte 0xff 0x01; 256 is 0x80 0x02.
    const i = 2 + 1 + 2;
    expect([sender[i], sender[i + 1]]).toEqual([0xff, 0x01]);
    sender[i] = 0x80;
    sender[i + 1] = 0x02;
    expect(codeOf(() => decodeMessage(sender))).toBe(CodecErrorCode.invalidField);
  });

  it('rejects unsorted signers, certificates and re-issued PRE-PREPAREs (one canonical form)', () => {
    const sig = new Uint8Array(64);
    const vc: ViewChange = {
      type: 'viewChange',
      chainId: 'c',
      from: 1,
      newView: 2,
      checkpoint: { seq: 4, headerHash: new Uint8Array(32), signatures: [{ validator: 3, signature: sig }] },
      prepared: [],
      signature: sig,
    };
    const enc = encodeMessage(vc);
    const canonical = decodeMessage(enc);
    expect(canonical).toEqual(vc);
    // Two signers 3, 3 instead of one: patch the count and duplicate the share.
    const share = enc.subarray(enc.length - 64 - 65 - 1, enc.length - 64 - 1);
    const dup = new Uint8Array([
      ...enc.subarray(0, enc.length - 64 - 65 - 2),
      2,
      ...share,
      ...share,
      0,
      ...sig,
    ]);
    expect(codeOf(() => decodeMessage(dup))).toBe(CodecErrorCode.nonCanonical);
    expect(() => encodeMessage({ ...vc, prepared: [certOf(5), certOf(5)] })).toThrow(CodecError);
    const nv: NewView = {
      type: 'newView',
      chainId: 'c',
      from: 2,
      view: 2,
      viewChanges: [],
      prePrepares: [
        { seq: 2, digest: new Uint8Array(32), signature: sig },
        { seq: 1, digest: new Uint8Array(32), signature: sig },
      ],
      signature: sig,
    };
    expect(() => encodeMessage(nv)).toThrow(CodecError);
  });

  it('a batch with a malformed tx does not decode', () => {
    const b = { proposer: 0, view: 0, time: 5, txs: [simTx(1, 1)] };
    const enc = encodeBatch(b);
    expect(decodeBatch(enc)).toEqual(b);
    const bad = enc.slice();
    // The tx's own version byte starts its bytes, at the end of the record.
    bad[bad.length - b.txs[0]!.bytes.length] = 9;
    expect(codeOf(() => decodeBatch(bad))).toBe(CodecErrorCode.unknownVersion);
  });

  it("txs of an SM chain's batch are hashed with the chain's suite (SM3) in batches and PRE-PREPAREs", () => {
    const tx = smEvidenceTx(1);
    const b = { proposer: 0, view: 0, time: 5, txs: [tx] };
    const sm = decodeBatch(encodeBatch(b), SM2_SM3);
    expect(sm).toEqual(b);
    expect(toHex(sm.txs[0]!.hash)).toBe(toHex(txHashFromBytes(tx.bytes, SM2_SM3)));
    // Under the default suite the same bytes get the SHA-256 hash, which an SM block's Merkle tree must not use.
    expect(toHex(decodeBatch(encodeBatch(b)).txs[0]!.hash)).not.toBe(tx.hashHex);
    const m: PrePrepare = {
      type: 'prePrepare',
      chainId: 'c',
      from: 0,
      view: 0,
      seq: 1,
      batch: b,
      digest: batchDigest(b, SM2_SM3),
      signature: new Uint8Array(64),
    };
    const decoded = decodeMessage(encodeMessage(m), SM2_SM3);
    expect(decoded).toEqual(m);
    // The digest is SM3 over the SM3 tx hashes; an Ed25519-suite decoder computes another one (so a PREPARE
    // for the SM digest would never match its PRE-PREPARE).
    const asEd25519 = decodeMessage(encodeMessage(m)) as PrePrepare;
    expect(asEd25519.batch.txs[0]!.hashHex).not.toBe(tx.hashHex);
    expect(toHex(asEd25519.digest)).not.toBe(toHex(m.digest));
    expect(toHex(batchDigest(b))).not.toBe(toHex(m.digest));
  });

  it("batch digests are the suite's tagged hash, even of a null batch (SM3 on an SM chain)", () => {
    const nb = { proposer: 1, view: 2, time: 0, txs: [] };
    const body = new Uint8Array([1, 2, 0, 0]);
    expect(toHex(batchDigest(nb, SM2_SM3))).toBe(toHex(SM2_SM3.taggedHash(Domain.batch, body)));
    expect(toHex(batchDigest(nb))).toBe(toHex(ED25519_SHA256.taggedHash(Domain.batch, body)));
  });
});

describe('signing bytes', () => {
  it('COMMIT signs exactly the commit-certificate body; votes are domain separated', () => {
    const d = new Uint8Array(32).fill(7);
    const c: Commit = {
      type: 'commit',
      chainId: 'c',
      from: 1,
      view: 3,
      seq: 9,
      headerHash: d,
      signature: new Uint8Array(64),
    };
    expect(signedPart(c)).toEqual({ domain: Domain.commit, body: commitVoteBody('c', 3, 9, d) });
    expect(prePrepareBody('c', 3, 9, d)).toEqual(prepareBody('c', 3, 9, d));
    const sig = signers[0]!.sign(Domain.prepare, prepareBody('c', 3, 9, d));
    expect(simVerify(signers[0]!.publicKey, Domain.prepare, prepareBody('c', 3, 9, d), sig)).toBe(true);
    expect(simVerify(signers[0]!.publicKey, Domain.prePrepare, prePrepareBody('c', 3, 9, d), sig)).toBe(
      false,
    );
    expect(simVerify(signers[0]!.publicKey, Domain.checkpoint, checkpointBody('c', 9, d), sig)).toBe(false);
  });

  it('a PRE-PREPARE signature covers the batch through its digest', () => {
    const b = { proposer: 0, view: 0, time: 5, txs: [simTx(1, 1)] };
    const m: PrePrepare = {
      type: 'prePrepare',
      chainId: 'c',
      from: 0,
      view: 0,
      seq: 1,
      batch: b,
      digest: batchDigest(b),
      signature: new Uint8Array(64),
    };
    expect(signedPart(m).body).toEqual(prePrepareBody('c', 0, 1, batchDigest(b)));
    const other = { ...b, time: 6 };
    expect(signedPart({ ...m, batch: other, digest: batchDigest(other) }).body).not.toEqual(
      signedPart(m).body,
    );
  });
});

function certOf(seq: number): PreparedCertificate {
  return { view: 0, seq, digest: new Uint8Array(32), prePrepareSignature: new Uint8Array(64), prepares: [] };
}
