/**
 * The fuzz targets: every decoder of untrusted bytes and every verifier of untrusted documents, each with a
 * fast-check arbitrary that mutates a valid input (a receipt, a token, a response, the canonical encodings a
 * receipt carries) and a run that reports an unexpected exception. A decoder may refuse its input only with
 * a typed JrError (an InvariantError is a bug); a verifier may not throw at all, nor answer with a failure
 * that says the verifier itself hit something unexpected.
 */
import fc from 'fast-check';
import { decodeBatch, decodeMessage } from '../../src/consensus/messages.ts';
import { decodeCertificate, decodeHeader } from '../../src/core/block.ts';
import { decodeCase, encodeCase } from '../../src/core/case.ts';
import {
  caseRef,
  newEncryptionKey,
  openCaseDetails,
  sealCaseDetails,
  unwrapCaseKey,
  wrapCaseKey,
} from '../../src/core/case-seal.ts';
import { SM2_SM3 } from '../../src/core/crypto-suite.ts';
import { InvariantError, JrError } from '../../src/core/errors.ts';
import { genesisToJson, genesisValidatorSet, parseGenesis } from '../../src/core/genesis.ts';
import { decodeTxList, parseTx } from '../../src/core/tx.ts';
import { decodeValidatorSet } from '../../src/core/validators.ts';
import { decodeBlocksResponse, decodeSyncRequest } from '../../src/node/net/sync-messages.ts';
import { verifyCaseReceipt } from '../../src/receipt/case-verify.ts';
import {
  buildReceipt,
  ReceiptFailureCode,
  type ReceiptJson,
  verifyReceipt,
} from '../../src/receipt/receipt.ts';
import { decodeDer } from '../../src/timestamp/asn1.ts';
import { describeTimestamp } from '../../src/timestamp/inspect.ts';
import { parseTimeStampReq } from '../../src/timestamp/request.ts';
import { parseTimeStampResp, parseToken } from '../../src/timestamp/response.ts';
import { verifyEvidenceToken, verifyTimestamp } from '../../src/timestamp/verify-node.ts';
import { parseCertificate } from '../../src/timestamp/x509.ts';
import { mutateDer } from '../helpers/der-mutate.ts';
import { TEST_GENESIS_TIME } from '../helpers/fixtures.ts';
import { mutateJson } from '../helpers/json-mutate.ts';
import { buildSmChain, smEvidenceTx, smGenesis, smProofFor } from '../helpers/sm-chain.ts';
import { Prng } from '../sim/prng.ts';
import type { Corpus } from './corpus.ts';

export interface Target<T = unknown> {
  name: string;
  input: fc.Arbitrary<T>;
  /** Runs the code under test; returns a description of an unexpected outcome, or undefined. */
  run: (input: T) => string | undefined | Promise<string | undefined>;
}

type Edit = { op: 'flip' | 'insert' | 'delete' | 'truncate'; at: number; byte: number };

const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

function applyEdits(seed: Uint8Array, edits: Edit[]): Uint8Array {
  let b = [...seed];
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % b.length;
    if (e.op === 'flip') b[at] = e.byte;
    else if (e.op === 'insert') b.splice(at, 0, e.byte);
    else if (e.op === 'delete') b.splice(at, 1);
    else b = b.slice(0, at);
  }
  return Uint8Array.from(b);
}

/** Byte edits of one of `seeds`, or (one time in ten) random bytes. */
function mutatedBytes(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edited = fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 }))
    .map(([s, edits]) => applyEdits(s, edits));
  return fc.oneof(
    { arbitrary: edited, weight: 9 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }), weight: 1 },
  );
}

/** Structure-aware DER mutations of one of `seeds` (1-3 edits), plus the byte edits of mutatedBytes. */
function mutatedDer(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const structural = fc
    .tuple(fc.constantFrom(...seeds), fc.string(), fc.integer({ min: 1, max: 3 }))
    .map(([s, seed, n]) => {
      const rng = new Prng(`der#${seed}`);
      let out = s;
      for (let i = 0; i < n; i++) out = mutateDer(out, rng);
      return out;
    });
  return fc.oneof(structural, mutatedBytes(seeds));
}

function mutatedJson(doc: unknown): fc.Arbitrary<unknown> {
  return fc.tuple(fc.string(), fc.integer({ min: 1, max: 3 })).map(([seed, n]) => {
    const rng = new Prng(`json#${seed}`);
    let out = structuredClone(doc);
    for (let i = 0; i < n; i++) out = mutateJson(out, rng);
    return out;
  });
}

/** A thrown value a decoder may use to refuse input: a typed error, not a bug. */
function refusal(err: unknown): string | undefined {
  if (err instanceof JrError && !(err instanceof InvariantError)) return undefined;
  return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : `threw ${String(err)}`;
}

export function decoder(
  name: string,
  seeds: Uint8Array[],
  decode: (b: Uint8Array) => unknown,
  der = false,
): Target {
  return {
    name,
    input: der ? mutatedDer(seeds) : mutatedBytes(seeds),
    run: (b) => {
      try {
        decode(b as Uint8Array);
        return undefined;
      } catch (err) {
        return refusal(err);
      }
    },
  };
}

/** A verifier: any exception is unexpected, and so is an answer that `unexpected` recognises. */
function verifier<R>(
  name: string,
  input: fc.Arbitrary<unknown>,
  verify: (x: never) => R | Promise<R>,
  bad: (r: R) => string | undefined,
): Target {
  return {
    name,
    input,
    run: async (x) => {
      try {
        return bad(await verify(x as never));
      } catch (err) {
        return `threw ${err instanceof Error ? `${err.stack}` : String(err)}`;
      }
    },
  };
}

/** The evidence-token check as the ledger runs it (it refuses a bad token with a TimestampError). */
const evidenceToken = (c: Corpus) => (b: Uint8Array) =>
  verifyEvidenceToken(b, new Uint8Array(32), 'sha256', {
    trustAnchors: [c.pki.root],
    now: Date.UTC(2026, 5, 1),
    toleranceMs: 60_000,
  });

const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

export function targets(c: Corpus): Target[] {
  const r = c.receipt;
  const headers = [fromB64(r.block.header), ...(r.anchor?.headers.map(fromB64) ?? [])];
  const certs = [fromB64(r.certificate), ...(r.governance ?? []).map((g) => fromB64(g.certificate))];
  const txs = [fromB64(r.tx), ...(r.governance ?? []).flatMap((g) => g.txs.map((t) => fromB64(t.tx)))];
  const tokens = [c.token, ...(r.anchor ? [fromB64(r.anchor.token)] : [])];
  const anchors = [c.pki.root];
  const tokenFailure = (v: { ok: boolean; reason?: string }) =>
    !v.ok && v.reason?.startsWith('unexpected') ? v.reason : undefined;
  const receiptFailure = (v: { checks: { code?: string; detail?: string }[] }) => {
    const last = v.checks.at(-1);
    return last?.code === ReceiptFailureCode.unexpected ? `${last.code}: ${last.detail}` : undefined;
  };
  return [
    verifier(
      'verifyReceipt',
      mutatedJson(r),
      (d: unknown) => verifyReceipt(d, { genesis: c.genesis, file: c.document }),
      receiptFailure,
    ),
    verifier(
      'verifyReceipt(court)',
      mutatedJson(r),
      (d: unknown) => verifyReceipt(d, { genesis: c.genesis, requireAnchor: true }),
      receiptFailure,
    ),
    verifier(
      'verifyCaseReceipt',
      mutatedJson(r),
      (d: unknown) => verifyCaseReceipt(d, c.genesis),
      receiptFailure,
    ),
    verifier(
      'verifyTimestamp',
      mutatedDer([...tokens, c.response]),
      (b: Uint8Array) => verifyTimestamp(b, { trustAnchors: anchors, data: c.document }),
      tokenFailure,
    ),
    decoder('verifyEvidenceToken', tokens, evidenceToken(c), true),
    decoder('describeTimestamp', [...tokens, c.response], describeTimestamp, true),
    decoder('decodeHeader', headers, decodeHeader),
    decoder('decodeCertificate', certs, decodeCertificate),
    decoder('decodeValidatorSet', [fromB64(r.validatorSet)], decodeValidatorSet),
    decoder('parseTx', txs, parseTx),
    decoder('decodeTxList', txs, (b) => decodeTxList(b, 16)),
    decoder('decodeMessage', [...headers, ...certs], decodeMessage),
    decoder('decodeBatch', txs, decodeBatch),
    decoder('decodeSyncRequest', headers, decodeSyncRequest),
    decoder('decodeBlocksResponse', [...headers, ...certs], decodeBlocksResponse),
    decoder('decodeDer', tokens, (b) => decodeDer(b, 'input'), true),
    decoder('parseToken', tokens, parseToken, true),
    decoder('parseTimeStampResp', [c.response], parseTimeStampResp, true),
    decoder('parseTimeStampReq', tokens, parseTimeStampReq, true),
    decoder('parseCertificate', [c.pki.root.der, c.pki.tsa.der], parseCertificate, true),
    ...sealedCaseTargets(),
    ...smTargets(),
  ];
}

/**
 * An sm2-sm3 chain (ADR 014): its receipt verifier, genesis parser and SM decoders give only typed refusals
 * or verdicts, whatever the input (65-byte keys, points off the curve, SM2 signatures of any bytes).
 */
function smTargets(): Target[] {
  const genesis = smGenesis();
  const tx = smEvidenceTx(1);
  const [block] = buildSmChain(genesis, [[tx, smEvidenceTx(2, 'bank-b')]], TEST_GENESIS_TIME + 2000);
  const receipt = JSON.parse(
    JSON.stringify(
      buildReceipt({
        genesis,
        tx,
        header: block!.header,
        certificate: block!.cert,
        validatorSet: genesisValidatorSet(genesis),
        proof: smProofFor(block!, tx),
      }),
    ),
  ) as ReceiptJson;
  const receiptFailure = (v: { checks: { code?: string; detail?: string }[] }) => {
    const last = v.checks.at(-1);
    return last?.code === ReceiptFailureCode.unexpected ? `${last.code}: ${last.detail}` : undefined;
  };
  return [
    verifier(
      'verifyReceipt(sm2-sm3)',
      mutatedJson(receipt),
      (d: unknown) => verifyReceipt(d, { genesis }),
      receiptFailure,
    ),
    verifier(
      'parseGenesis(sm2-sm3)',
      mutatedJson(genesisToJson(genesis)),
      (d: unknown) => {
        try {
          parseGenesis(d);
          return undefined;
        } catch (err) {
          return refusal(err);
        }
      },
      (r) => r,
    ),
    decoder('decodeValidatorSet(sm2-sm3)', [fromB64(receipt.validatorSet)], (b) =>
      decodeValidatorSet(b, SM2_SM3),
    ),
    decoder('parseTx(sm2-sm3)', [fromB64(receipt.tx)], (b) => parseTx(b, SM2_SM3)),
  ];
}

/** Sealed case records and what a party opens (ADR 011): only typed refusals, whatever the bytes. */
function sealedCaseTargets(): Target[] {
  const key = new Uint8Array(32).fill(1);
  const ref = caseRef(key, 'FUZZ-1');
  const enc = newEncryptionKey();
  const wrapped = wrapCaseKey(key, enc.publicKey, ref, 'bank-a');
  const sealed = sealCaseDetails(key, ref, { caseId: 'FUZZ-1', note: 'n' });
  const record = encodeCase({
    caseId: ref,
    event: { type: 'open', respondent: 'bank-a', claimant: new Uint8Array(32) },
    sealed,
    wraps: [{ institution: 'bank-a', recipient: enc.publicKey, wrapped }],
  });
  return [
    decoder('decodeCase(sealed)', [record], decodeCase),
    decoder('openCaseDetails', [sealed], (b) => openCaseDetails(key, ref, b)),
    decoder('unwrapCaseKey', [wrapped], (b) => unwrapCaseKey(b, enc.privateKey, ref, 'bank-a')),
  ];
}
