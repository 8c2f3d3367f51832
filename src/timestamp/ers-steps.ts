/**
 * Verifies an RFC 4998 evidence record for one document (section 5.3). Each archive timestamp must cover what
 * came before it: the first of the first chain the document's hash, through its reduced hash tree; a later one
 * in a chain the previous one's timeStamp (timestamp renewal, 5.2); the first of a later chain the document's
 * hash under the new algorithm together with the hash of every earlier chain (hash-tree renewal, 5.2). Each
 * token must verify (RFC 3161 checks, a path to the trust anchors at its genTime), and must still have been
 * valid when the next one was made, or, for the last one, at the verification time. The record then proves
 * that the document existed no later than the first token's genTime.
 *
 * Written once as a generator that yields each signature to check (signature.ts, ADR 013): `jrchain receipt
 * verify-ers` runs it on node:crypto (ers-verify.ts), receipts in Node and browsers on WebCrypto (below).
 */
import { toHex } from '../core/bytes.ts';
import { isJrError } from '../core/errors.ts';
import { webVerifySignature } from './crypto-web.ts';
import { type ArchiveTimeStamp, decodeEvidenceRecord, encodeChains } from './ers-asn1.ts';
import { ersDigest, recoverRoot } from './ers-tree.ts';
import type { HashAlg } from './oids.ts';
import { runAsync, type SignatureSteps } from './signature.ts';
import { timestampSteps, type VerifyResult } from './verify.ts';
import { type Cert, parseCertificate } from './x509.ts';

/**
 * The document the record must protect: its bytes, its SHA-256 hash (when every chain uses SHA-256), or its hash
 * under each algorithm the record's chains use (what a browser that hashed a file gives, ADR 018).
 */
export type ErsDocument =
  | { data: Uint8Array }
  | { sha256: Uint8Array }
  | { digests: Partial<Record<HashAlg, Uint8Array>> };

export interface ErsVerifyOptions {
  document: ErsDocument;
  trustAnchors: readonly Cert[];
  /**
   * The time the record is checked at: the last token must still be valid then. Without it, each token is
   * checked as of when the next was made, and the last as of its own genTime (`renewBefore` says until when
   * that holds): receipts verify this way unless given a time.
   */
  at?: Date | undefined;
}

export interface ErsStep {
  chain: number;
  index: number;
  hashAlg: HashAlg;
  genTime: Date;
  validUntil: Date;
  signer: string;
}

export type ErsVerification =
  | { ok: true; provenAt: Date; steps: ErsStep[]; renewBefore: Date }
  | { ok: false; reason: string; steps: ErsStep[] };

class ErsFailure extends Error {}

function docHash(doc: ErsDocument, alg: HashAlg): Uint8Array {
  if ('data' in doc) return ersDigest(alg, doc.data);
  const h = 'digests' in doc ? doc.digests[alg] : alg === 'sha256' ? doc.sha256 : undefined;
  if (h !== undefined) return h;
  throw new ErsFailure(
    `a ${alg} hash tree needs the document itself or its ${alg} hash, not only its SHA-256 hash`,
  );
}

/** The value the archive timestamp at (chain, index) must cover. */
function protectedHash(chains: ArchiveTimeStamp[][], c: number, i: number, doc: ErsDocument): Uint8Array {
  const alg = chains[c]![i]!.digestAlg;
  if (i > 0) return ersDigest(alg, chains[c]![i - 1]!.timeStamp);
  const h = docHash(doc, alg);
  // Hash-tree renewal: H(H(doc) || H(earlier chains)), the order BouncyCastle uses.
  return c === 0 ? h : ersDigest(alg, h, ersDigest(alg, encodeChains(chains.slice(0, c))));
}

function* checkAts(
  ats: ArchiveTimeStamp,
  leaf: Uint8Array,
  opts: ErsVerifyOptions,
  untrusted: Cert[],
): SignatureSteps<VerifyResult & { ok: true }> {
  const root = ats.reducedHashtree ? recoverRoot(ats.digestAlg, ats.reducedHashtree, leaf) : leaf;
  if (root === undefined)
    throw new ErsFailure(`the hash ${toHex(leaf)} is not in the first list of the reduced hash tree`);
  const v = yield* timestampSteps(ats.timeStamp, {
    digest: root,
    hashAlg: ats.digestAlg,
    trustAnchors: opts.trustAnchors,
    untrusted,
  });
  if (!v.ok) throw new ErsFailure(`the time-stamp token fails ${v.failedCheck}: ${v.reason}`);
  return v;
}

function* walk(der: Uint8Array, opts: ErsVerifyOptions, steps: ErsStep[]): SignatureSteps<void> {
  const record = decodeEvidenceRecord(der);
  const untrusted = record.certificates.map((c) => parseCertificate(c));
  const { chains } = record;
  for (const [c, chain] of chains.entries()) {
    for (const [i, ats] of chain.entries()) {
      const where = `chain ${c}, archive timestamp ${i}`;
      if (ats.digestAlg !== chain[0]!.digestAlg)
        throw new ErsFailure(`${where}: its digest algorithm differs from its chain's`);
      const leaf = protectedHash(chains, c, i, opts.document);
      let v: VerifyResult & { ok: true };
      try {
        v = yield* checkAts(ats, leaf, opts, untrusted);
      } catch (err) {
        throw new ErsFailure(`${where}: ${(err as Error).message}`);
      }
      const prev = steps.at(-1);
      if (prev !== undefined && prev.validUntil < v.genTime) {
        throw new ErsFailure(
          `${where} was made at ${v.genTime.toISOString()}, after the previous token's certificates expired (${prev.validUntil.toISOString()}): it was renewed too late`,
        );
      }
      steps.push({
        chain: c,
        index: i,
        hashAlg: ats.digestAlg,
        genTime: v.genTime,
        validUntil: v.validUntil,
        signer: v.signerSubject,
      });
    }
  }
}

/** Never fails on bad input: an undecodable record or a failed check gives `ok: false` with the reason. */
export function* evidenceRecordSteps(
  der: Uint8Array,
  opts: ErsVerifyOptions,
): SignatureSteps<ErsVerification> {
  const steps: ErsStep[] = [];
  try {
    yield* walk(der, opts, steps);
  } catch (err) {
    if (err instanceof ErsFailure || isJrError(err)) return { ok: false, reason: err.message, steps };
    return { ok: false, reason: `unexpected ${(err as Error).name}: ${(err as Error).message}`, steps };
  }
  const last = steps.at(-1)!;
  if (opts.at === undefined)
    return { ok: true, provenAt: steps[0]!.genTime, steps, renewBefore: last.validUntil };
  if (last.genTime > opts.at) {
    return { ok: false, reason: `the record holds a token made after ${opts.at.toISOString()}`, steps };
  }
  if (last.validUntil < opts.at) {
    return {
      ok: false,
      reason: `the last token's certificates expired at ${last.validUntil.toISOString()}, before ${opts.at.toISOString()}: the record was not renewed in time`,
      steps,
    };
  }
  return { ok: true, provenAt: steps[0]!.genTime, steps, renewBefore: last.validUntil };
}

/** `evidenceRecordSteps` on WebCrypto: the verifier receipts use, in Node and browsers. */
export function verifyEvidenceRecordAsync(der: Uint8Array, opts: ErsVerifyOptions): Promise<ErsVerification> {
  return runAsync(evidenceRecordSteps(der, opts), webVerifySignature);
}
