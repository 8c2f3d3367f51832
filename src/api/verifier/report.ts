/**
 * What the verification page shows, computed without the DOM (so Node tests run it too): the inputs parsed,
 * the receipt verified by the same code as `jrchain receipt verify` (ADR 013), and the facts a reader needs:
 * who signed, which validators certified, when the TSA stamped it, the receipt's fingerprint.
 */
import { toHex } from '../../core/bytes.ts';
import type { HashAlg } from '../../core/evidence.ts';
import { type Genesis, genesisHash, parseGenesis } from '../../core/genesis.ts';
import type { ChainDigests } from '../../receipt/archive-check.ts';
import { verifyCaseReceipt } from '../../receipt/case-verify.ts';
import { receiptFingerprint } from '../../receipt/fingerprint.ts';
import { type TokenInfo, tokenInfo } from '../../receipt/token-info.ts';
import { verifyReceipt } from '../../receipt/verify.ts';

/** An input the page cannot use at all (not JSON, not a genesis); each names the field to fix. */
export class InputProblem extends Error {
  readonly field: 'receipt' | 'genesis' | 'document';
  /** The i18n key of the plain-language message. */
  readonly key: string;
  constructor(field: InputProblem['field'], key: string, detail: string) {
    super(detail);
    this.field = field;
    this.key = key;
  }
}

export interface ReportCheck {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
  code?: string;
}

export interface PageReport {
  kind: 'evidence' | 'case';
  ok: boolean;
  checks: ReportCheck[];
  fingerprint: string;
  chainId: string;
  genesisHash: string;
  /** Whether a document was compared with the receipt (evidence receipts only). */
  documentChecked: boolean;
  /** The receipt's human-readable summary, shown once verified. */
  summary: Record<string, unknown>;
  tokens: TokenInfo[];
  /** A v4 receipt's archive timestamps once verified: the archive token, then each renewal. */
  archive: { genTime: string; validUntil: string; signer: string }[];
}

function parseJson(text: string, field: InputProblem['field']): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputProblem(field, 'notJson', (err as Error).message);
  }
}

/** A genesis file, or the node's `/v1/genesis` answer ({genesisHash, genesis}). */
export function readGenesis(text: string): Genesis {
  const doc = parseJson(text, 'genesis') as Record<string, unknown> | null;
  const inner = doc !== null && typeof doc === 'object' && 'genesis' in doc ? doc.genesis : doc;
  try {
    return parseGenesis(inner as Parameters<typeof parseGenesis>[0]);
  } catch (err) {
    throw new InputProblem('genesis', 'badGenesis', (err as Error).message);
  }
}

/** A receipt, or the node's `/v1/receipts/:hash` answer ({receipts: [...]}): the receipts it holds. */
export function readReceipts(text: string): unknown[] {
  const doc = parseJson(text, 'receipt');
  if (doc !== null && typeof doc === 'object' && Array.isArray((doc as { receipts?: unknown }).receipts)) {
    const list = (doc as { receipts: unknown[] }).receipts;
    if (list.length === 0)
      throw new InputProblem('receipt', 'noReceipts', 'the node holds no receipt for it');
    return list;
  }
  return [doc];
}

export function isCaseReceipt(doc: unknown): boolean {
  const f = (doc as { format?: unknown } | null)?.format;
  return typeof f === 'string' && f.startsWith('jrchain-case-receipt/');
}

/** The hash algorithm a receipt claims for its evidence (checked by the verifier; used to hash the document). */
export function claimedHashAlg(doc: unknown): HashAlg {
  const alg = (doc as { summary?: { evidence?: { hashAlg?: unknown } } } | null)?.summary?.evidence?.hashAlg;
  return alg === 'sha384' || alg === 'sha512' ? alg : 'sha256';
}

function fingerprintOf(doc: unknown): string {
  try {
    return receiptFingerprint(doc);
  } catch {
    return '';
  }
}

/**
 * Verifies one receipt; `digest` is the document's hash, computed by the caller with `claimedHashAlg`, and
 * `chainDigests` its hashes under `laterChainAlgs`.
 */
export async function buildReport(
  doc: unknown,
  genesis: Genesis,
  digest?: { hashAlg: HashAlg; hash: Uint8Array },
  chainDigests?: ChainDigests,
): Promise<PageReport> {
  const base = {
    fingerprint: fingerprintOf(doc),
    chainId: genesis.chainId,
    genesisHash: toHex(genesisHash(genesis)),
    summary: ((doc as { summary?: unknown } | null)?.summary ?? {}) as Record<string, unknown>,
  };
  if (isCaseReceipt(doc)) {
    const v = verifyCaseReceipt(doc, genesis);
    const none = { tokens: [], archive: [] };
    return { ...base, ...none, kind: 'case', ok: v.ok, checks: v.checks, documentChecked: false };
  }
  const v = await verifyReceipt(doc, { genesis, ...(digest ? { fileDigest: digest, chainDigests } : {}) });
  const tokens = v.ok ? await tokenInfo(doc, genesis) : [];
  return {
    ...base,
    kind: 'evidence',
    ok: v.ok,
    checks: v.checks,
    documentChecked: digest !== undefined,
    tokens,
    archive: (v.facts?.archive?.steps ?? []).map((s) => ({
      genTime: s.genTime.toISOString(),
      validUntil: s.validUntil.toISOString(),
      signer: s.signer,
    })),
  };
}
