/**
 * The offline verifier of evidence receipts: runs the checks of RECEIPT_CHECK_ORDER against the genesis the
 * caller trusts, records each outcome, and stops at the first failure (later checks build on earlier ones).
 * It never throws on bad input: whatever the document holds, the answer is a list of outcomes.
 */
import type { HashAlg } from '../core/evidence.ts';
import { type Genesis, genesisHash, genesisSuite } from '../core/genesis.ts';
import { type ArchiveProof, checkArchive } from './archive-check.ts';
import {
  checkCertificate,
  checkGenesis,
  checkHeader,
  checkInclusion,
  checkSignature,
  checkTx,
  checkValidatorSet,
} from './block-checks.ts';
import {
  ReceiptCheck as C,
  type CheckOutcome,
  type CheckResult,
  CheckRun,
  evaluate,
  passed,
  reject,
} from './check.ts';
import { ReceiptFailureCode as Failure } from './errors.ts';
import { checkEvidence, checkFile, checkSummary, type EvidenceFile, summaryOf } from './evidence-checks.ts';
import {
  RECEIPT_FORMAT_V1,
  RECEIPT_FORMAT_V2,
  RECEIPT_FORMAT_V3,
  RECEIPT_FORMAT_V4,
  type ReceiptJson,
  shown,
} from './format.ts';
import { checkGovernance } from './governance.ts';
import { checkAnchor, checkEvidenceToken } from './time-checks.ts';

export interface ReceiptFacts {
  txHash: string;
  evidenceHash: string;
  hashAlg: HashAlg;
  caseId: string;
  institution: string;
  height: number;
  blockTime: Date;
  anchoredAt?: Date;
  evidenceTokenTime?: Date;
  /** v4 with an archive record: its proof (the first token's time, every renewal, when to renew again). */
  archive?: ArchiveProof;
}

export interface ReceiptVerification {
  ok: boolean;
  /** Every check run, in order; the last is the failed one when not ok. */
  checks: CheckOutcome[];
  /** Set when ok. */
  facts?: ReceiptFacts;
}

export interface VerifyReceiptOptions extends EvidenceFile {
  genesis: Genesis;
  /** PEM trust anchors for RFC 3161 tokens; default: the genesis's TSA trust anchors. */
  tsaTrustAnchorsPem?: string;
  /** Fail unless the receipt carries a verified anchor token. */
  requireAnchor?: boolean;
  /**
   * `court`: what a court relies on; the RFC 3161 anchor is required (an `"anchor": null` receipt fails
   * with RECEIPT_ANCHOR_MISSING). `standard` (default): the anchor is checked when present.
   */
  profile?: VerificationProfile;
  /**
   * Verify as of this time (`--at`): the anchor token must still be valid then, or a v4 receipt's archive
   * timestamps, renewed, must be. Without it, each token is checked as of when it was made. An invalid Date
   * is the caller's mistake: verifyReceipt throws RangeError.
   */
  at?: Date | undefined;
}

export const VERIFICATION_PROFILES = ['standard', 'court'] as const;
export type VerificationProfile = (typeof VERIFICATION_PROFILES)[number];

/** A receipt whose fields are all present, each still unchecked. */
export type ClaimedReceipt = { readonly [K in keyof ReceiptJson]-?: unknown };

const REQUIRED_FIELDS = [
  'format',
  'chainId',
  'genesisHash',
  'txHash',
  'tx',
  'block',
  'inclusion',
  'certificate',
  'validatorSet',
  'anchor',
  'summary',
] as const;

/** A v1 to v4 receipt object with every field; governance txs are required in v2, refused in v1. */
export function checkFormat(doc: unknown): CheckResult<ClaimedReceipt> {
  return evaluate(() => {
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
      reject(Failure.malformed, 'receipt is not a JSON object');
    }
    const d = doc as Record<string, unknown>;
    const formats: readonly unknown[] = [
      RECEIPT_FORMAT_V1,
      RECEIPT_FORMAT_V2,
      RECEIPT_FORMAT_V3,
      RECEIPT_FORMAT_V4,
    ];
    if (!formats.includes(d.format)) reject(Failure.unknownFormat, `format is none of ${formats.join(', ')}`);
    // v4 adds `archive`, required there (null when not archived yet) and unknown before.
    const required: readonly string[] =
      d.format === RECEIPT_FORMAT_V4 ? [...REQUIRED_FIELDS, 'archive'] : REQUIRED_FIELDS;
    for (const k of required) if (!(k in d)) reject(Failure.malformed, `missing ${k}`);
    for (const k of Object.keys(d)) {
      const optional = k === 'governance' || k === 'cryptoSuite';
      if (!optional && !required.includes(k)) {
        reject(Failure.malformed, `unknown field ${shown(k)}`);
      }
    }
    const gov = d.governance;
    if (gov !== undefined && !Array.isArray(gov)) reject(Failure.malformed, 'governance is not a list');
    if (d.format === RECEIPT_FORMAT_V1 && gov !== undefined && gov.length > 0) {
      reject(
        Failure.formatMismatch,
        `a ${RECEIPT_FORMAT_V1} receipt must not list governance txs (those are ${RECEIPT_FORMAT_V2})`,
      );
    }
    if (d.format === RECEIPT_FORMAT_V2 && (gov === undefined || gov.length === 0)) {
      reject(
        Failure.formatMismatch,
        `a ${RECEIPT_FORMAT_V2} receipt must list governance txs; it lists none`,
      );
    }
    return passed(d as ClaimedReceipt, d.format as string);
  });
}

/**
 * Checks every part of a receipt against the genesis, offline. Never throws on bad input. Async because
 * WebCrypto checks the RFC 3161 signatures; the same code runs in Node and in the browser page (ADR 013).
 */
export async function verifyReceipt(doc: unknown, opts: VerifyReceiptOptions): Promise<ReceiptVerification> {
  if (opts.at !== undefined && Number.isNaN(opts.at.getTime())) {
    throw new RangeError('verifyReceipt: the verification time is not a valid Date');
  }
  const run = new CheckRun();
  const facts = await runChecks(run, doc, opts);
  return facts === undefined
    ? { ok: false, checks: run.outcomes }
    : { ok: true, checks: run.outcomes, facts };
}

/** The checks in RECEIPT_CHECK_ORDER; undefined at the first failure. */
async function runChecks(
  run: CheckRun,
  doc: unknown,
  opts: VerifyReceiptOptions,
): Promise<ReceiptFacts | undefined> {
  const g = opts.genesis;
  const format = checkFormat(doc);
  if (!run.record(C.format, format)) return undefined;
  const r = format.value;
  // v3 and v4 certificates sign the genesis hash (ADR 010); v1/v2 ones sign the chain id alone.
  const binding = r.format === RECEIPT_FORMAT_V3 || r.format === RECEIPT_FORMAT_V4 ? genesisHash(g) : null;
  if (!run.record(C.genesis, checkGenesis(r, g, binding !== null))) return undefined;
  const suite = genesisSuite(g);
  const header = checkHeader(r.block, g);
  if (!run.record(C.header, header)) return undefined;
  const h = header.value;
  // The registry and validator set in force at the evidence's block: the genesis, plus every governance
  // tx before the block, each proven by a block certified by the set in force before it (ADR 006).
  const gov = checkGovernance(g, r.governance, h.height, binding);
  if (!run.record(C.governance, gov)) return undefined;
  const set = checkValidatorSet(r.validatorSet, h, gov.value.state.epochAt(h.height), undefined, suite);
  if (!run.record(C.validatorSet, set)) return undefined;
  const cert = checkCertificate(r.certificate, h, set.value, binding, undefined, suite);
  if (!run.record(C.certificate, cert)) return undefined;
  const tx = checkTx(r.tx, r.txHash, g);
  if (!run.record(C.tx, tx)) return undefined;
  const env = tx.value;
  const registry = { state: gov.value.state, txs: gov.value.txs, height: h.height };
  if (!run.record(C.signature, checkSignature(env, registry, suite))) return undefined;
  if (!run.record(C.inclusion, checkInclusion(env, r.inclusion, h, undefined, suite))) return undefined;
  const evidence = checkEvidence(env);
  if (!run.record(C.evidence, evidence)) return undefined;
  const e = evidence.value;
  if (!run.record(C.file, checkFile(e, opts))) return undefined;
  const anchorsPem = opts.tsaTrustAnchorsPem ?? g.tsa.trustAnchors.join('\n');
  const requireAnchor = opts.requireAnchor === true || opts.profile === 'court';
  const time = opts.at === undefined ? undefined : { at: opts.at, renewed: r.archive != null };
  const anchor = await checkAnchor(r.anchor, h, anchorsPem, requireAnchor, suite, time);
  if (!run.record(C.anchor, anchor)) return undefined;
  const anchoredAt = anchor.status === 'pass' ? anchor.value : undefined;
  const file = opts.file;
  const archive = await checkArchive(r.archive, e, {
    trustAnchorsPem: anchorsPem,
    file,
    chainDigests: opts.chainDigests,
    at: opts.at,
  });
  if (!run.record(C.archive, archive)) return undefined;
  const token = await checkEvidenceToken(e, h, anchorsPem, g.tsa.evidenceTokenToleranceMs);
  if (!run.record(C.evidenceToken, token)) return undefined;
  const evidenceTokenTime = token.status === 'pass' ? token.value : undefined;
  const expected = summaryOf(env, e, h, cert.value, set.value, anchoredAt);
  if (!run.record(C.summary, checkSummary(r.summary, expected))) return undefined;
  return {
    txHash: env.hashHex,
    evidenceHash: expected.evidence.hash,
    hashAlg: e.hashAlg,
    caseId: e.caseId,
    institution: env.tx.institution,
    height: h.height,
    blockTime: new Date(h.time),
    ...(anchoredAt !== undefined ? { anchoredAt } : {}),
    ...(evidenceTokenTime !== undefined ? { evidenceTokenTime } : {}),
    ...(archive.status === 'pass' ? { archive: archive.value } : {}),
  };
}
