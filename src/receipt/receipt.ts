/**
 * Evidence receipts: one self-contained JSON document that proves, offline and without trusting any node,
 * that a piece of evidence was recorded on the chain, when, and by whom.
 *
 * Everything that matters is carried as canonical bytes (base64) or hashes (hex); `summary` repeats the key
 * facts for human readers and is checked against those bytes, so editing any field makes verification fail.
 * docs/receipts.md describes the format and every check.
 */
import { createHash } from 'node:crypto';
import {
  type BlockHeader,
  type CommitCertificate,
  decodeCertificate,
  decodeHeader,
  encodeCertificate,
  encodeHeader,
  headerHash,
  verifyCommitCertificate,
} from '../core/block.ts';
import { equalBytes, toHex, tryFromHex } from '../core/bytes.ts';
import { decodeEvidence, type EvidenceRecord, type HashAlg, HashAlgs } from '../core/evidence.ts';
import { type Genesis, genesisHash } from '../core/genesis.ts';
import { type InclusionProof, verifyInclusion } from '../core/merkle.ts';
import { parseTx, type TxEnvelope, verifyTxEnvelope } from '../core/tx.ts';
import {
  decodeValidatorSet,
  encodeValidatorSet,
  epochOf,
  type ValidatorSet,
  validatorSetHash,
} from '../core/validators.ts';
import { GovernanceState } from '../ledger/governance-state.ts';
import { checkStateless, checkTime, validatorKeysOf } from '../ledger/rules.ts';
import { VerifiedSignatures } from '../ledger/sig-cache.ts';
import { parsePemCertificates, verifyEvidenceToken, verifyTimestamp } from '../timestamp/index.ts';

/** Receipts of blocks with no governance tx before them: no `governance` field (or an empty one). */
export const RECEIPT_FORMAT_V1 = 'jrchain-receipt/v1';
/** Receipts that carry the governance txs since the genesis (`governance`, never empty). */
export const RECEIPT_FORMAT_V2 = 'jrchain-receipt/v2';
/** The newest format; `buildReceipt` writes v1 while there is no governance history, so old verifiers agree. */
export const RECEIPT_FORMAT = RECEIPT_FORMAT_V2;
export type ReceiptFormat = typeof RECEIPT_FORMAT_V1 | typeof RECEIPT_FORMAT_V2;

/** One governance tx of a governance block, with its place in the block's Merkle tree. */
export interface ReceiptGovernanceTxJson {
  /** Canonical signed tx. */
  tx: string;
  /** Position in the block; the tree size is the header's txCount. */
  leafIndex: number;
  path: string[];
}

/** A block that holds governance txs, below the evidence's block, with every governance tx it holds. */
export interface ReceiptGovernanceBlockJson {
  height: number;
  header: string;
  certificate: string;
  txs: ReceiptGovernanceTxJson[];
}

export interface ReceiptAnchorJson {
  /** Height of the anchored block; its header hash is the token's message imprint (sha256). */
  height: number;
  headerHash: string;
  /** Canonical headers from block height+1 up to the anchored block: each links to the previous by prevHash. */
  headers: string[];
  /** Bare RFC 3161 TimeStampToken, DER. */
  token: string;
}

export interface ReceiptSummary {
  institution: string;
  keyId: string;
  evidence: {
    hashAlg: HashAlg;
    hash: string;
    caseId: string;
    evidenceType: string;
    mediaType?: string;
    size?: number;
    label?: string;
    hasToken: boolean;
  };
  height: number;
  blockTime: string;
  committedBy: string[];
  anchoredAt?: string;
}

export interface ReceiptJson {
  format: ReceiptFormat;
  chainId: string;
  genesisHash: string;
  txHash: string;
  /** Canonical signed tx. */
  tx: string;
  block: { height: number; hash: string; header: string };
  inclusion: { leafIndex: number; treeSize: number; path: string[] };
  certificate: string;
  validatorSet: string;
  anchor: ReceiptAnchorJson | null;
  summary: ReceiptSummary;
  /**
   * v2: every block below `block.height` that holds governance txs, in chain order, each with all of its
   * governance txs in block order. Absent in v1 (no governance tx before the block).
   */
  governance?: ReceiptGovernanceBlockJson[];
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

function unb64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new Error(`${what} is not base64`);
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function unhex(s: unknown, what: string): Uint8Array {
  const b = typeof s === 'string' ? tryFromHex(s) : undefined;
  if (b === undefined) throw new Error(`${what} is not hex`);
  return b;
}

export interface ReceiptParts {
  genesis: Genesis;
  tx: TxEnvelope;
  header: BlockHeader;
  certificate: CommitCertificate;
  validatorSet: ValidatorSet;
  proof: InclusionProof;
  anchor?: { header: BlockHeader; headers: BlockHeader[]; token: Uint8Array; genTime: Date } | undefined;
  /** The governance blocks below `header.height`, in chain order; none (or empty) for a v1 receipt. */
  governance?: GovernanceBlockParts[] | undefined;
}

export interface GovernanceBlockParts {
  header: BlockHeader;
  certificate: CommitCertificate;
  /** Every governance tx of the block, in block order, with its inclusion proof. */
  txs: { tx: TxEnvelope; proof: InclusionProof }[];
}

function summaryOf(
  tx: TxEnvelope,
  e: EvidenceRecord,
  header: BlockHeader,
  cert: CommitCertificate,
  set: ValidatorSet,
  anchoredAt: Date | undefined,
): ReceiptSummary {
  return {
    institution: tx.tx.institution,
    keyId: tx.tx.keyId,
    evidence: {
      hashAlg: e.hashAlg,
      hash: toHex(e.hash),
      caseId: e.caseId,
      evidenceType: e.evidenceType,
      ...(e.mediaType !== undefined ? { mediaType: e.mediaType } : {}),
      ...(e.size !== undefined ? { size: e.size } : {}),
      ...(e.label !== undefined ? { label: e.label } : {}),
      hasToken: e.tsToken !== undefined,
    },
    height: header.height,
    blockTime: new Date(header.time).toISOString(),
    committedBy: cert.signatures.map((s) => set.validators[s.validator]?.institution ?? `#${s.validator}`),
    ...(anchoredAt !== undefined ? { anchoredAt: anchoredAt.toISOString() } : {}),
  };
}

/** Assembles a receipt from ledger data. The caller provides consistent parts; `verifyReceipt` checks them. */
export function buildReceipt(p: ReceiptParts): ReceiptJson {
  const evidence = decodeEvidence(p.tx.tx.payload);
  const hash = headerHash(p.header);
  const governance = (p.governance ?? []).map((b) => ({
    height: b.header.height,
    header: b64(encodeHeader(b.header)),
    certificate: b64(encodeCertificate(b.certificate)),
    txs: b.txs.map((t) => ({
      tx: b64(t.tx.bytes),
      leafIndex: t.proof.leafIndex,
      path: t.proof.path.map(toHex),
    })),
  }));
  return {
    format: governance.length === 0 ? RECEIPT_FORMAT_V1 : RECEIPT_FORMAT_V2,
    chainId: p.genesis.chainId,
    genesisHash: toHex(genesisHash(p.genesis)),
    txHash: p.tx.hashHex,
    tx: b64(p.tx.bytes),
    block: { height: p.header.height, hash: toHex(hash), header: b64(encodeHeader(p.header)) },
    inclusion: { leafIndex: p.proof.leafIndex, treeSize: p.proof.treeSize, path: p.proof.path.map(toHex) },
    certificate: b64(encodeCertificate(p.certificate)),
    validatorSet: b64(encodeValidatorSet(p.validatorSet)),
    anchor:
      p.anchor === undefined
        ? null
        : {
            height: p.anchor.header.height,
            headerHash: toHex(headerHash(p.anchor.header)),
            headers: p.anchor.headers.map((h) => b64(encodeHeader(h))),
            token: b64(p.anchor.token),
          },
    summary: summaryOf(p.tx, evidence, p.header, p.certificate, p.validatorSet, p.anchor?.genTime),
    ...(governance.length === 0 ? {} : { governance }),
  };
}

export type CheckStatus = 'pass' | 'fail' | 'skip';
export interface ReceiptCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface ReceiptVerification {
  ok: boolean;
  checks: ReceiptCheck[];
  /** Set when ok. */
  facts?: {
    txHash: string;
    evidenceHash: string;
    hashAlg: HashAlg;
    caseId: string;
    institution: string;
    height: number;
    blockTime: Date;
    anchoredAt?: Date;
    evidenceTokenTime?: Date;
  };
}

export interface VerifyReceiptOptions {
  genesis: Genesis;
  /** The evidence file's bytes; when given, its hash must equal the recorded evidence hash. */
  file?: Uint8Array;
  /** Instead of `file`: the file's digest, already computed with the recorded algorithm (large files). */
  fileDigest?: { hashAlg: HashAlg; hash: Uint8Array };
  /** PEM trust anchors for RFC 3161 tokens; default: the genesis's TSA trust anchors. */
  tsaTrustAnchorsPem?: string;
  /** Fail unless the receipt carries a verified anchor token. */
  requireAnchor?: boolean;
}

class Failed extends Error {}

/** Checks every part of a receipt against the genesis, offline. Never throws on bad input. */
export function verifyReceipt(doc: unknown, opts: VerifyReceiptOptions): ReceiptVerification {
  const checks: ReceiptCheck[] = [];
  const pass = (name: string, detail: string) => checks.push({ name, status: 'pass', detail });
  const skip = (name: string, detail: string) => checks.push({ name, status: 'skip', detail });
  const fail = (name: string, detail: string): never => {
    checks.push({ name, status: 'fail', detail });
    throw new Failed(detail);
  };
  const step = <T>(name: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof Failed) throw err;
      return fail(name, (err as Error).message);
    }
  };

  try {
    const r = step('format', () => {
      if (typeof doc !== 'object' || doc === null) throw new Error('receipt is not a JSON object');
      const d = doc as ReceiptJson;
      if (d.format !== RECEIPT_FORMAT_V1 && d.format !== RECEIPT_FORMAT_V2)
        throw new Error(`format is neither ${RECEIPT_FORMAT_V1} nor ${RECEIPT_FORMAT_V2}`);
      const keys = ['format', 'chainId', 'genesisHash', 'txHash', 'tx', 'block', 'inclusion', 'certificate'];
      for (const k of [...keys, 'validatorSet', 'anchor', 'summary'])
        if (!(k in d)) throw new Error(`missing ${k}`);
      const gov = d.governance;
      if (gov !== undefined && !Array.isArray(gov)) throw new Error('governance is not a list');
      if (d.format === RECEIPT_FORMAT_V1 && gov !== undefined && gov.length > 0)
        throw new Error(
          `a ${RECEIPT_FORMAT_V1} receipt must not list governance txs (those are ${RECEIPT_FORMAT_V2})`,
        );
      if (d.format === RECEIPT_FORMAT_V2 && (gov === undefined || gov.length === 0))
        throw new Error(`a ${RECEIPT_FORMAT_V2} receipt must list governance txs; it lists none`);
      return d;
    });
    pass('format', r.format);

    const g = opts.genesis;
    step('genesis', () => {
      if (r.chainId !== g.chainId)
        throw new Error(`chain id ${r.chainId} is not the genesis chain ${g.chainId}`);
      if (r.genesisHash !== toHex(genesisHash(g)))
        throw new Error('genesis hash does not match the genesis given');
    });
    pass('genesis', `chain ${g.chainId}, genesis ${r.genesisHash.slice(0, 16)}…`);

    const header = step('header', () => {
      const h = decodeHeader(unb64(r.block.header, 'block.header'));
      if (toHex(headerHash(h)) !== r.block.hash)
        throw new Error('block.hash is not the hash of block.header');
      if (h.height !== r.block.height) throw new Error('block.height does not match the header');
      if (h.chainId !== g.chainId) throw new Error('header is for another chain');
      return h;
    });
    pass('header', `block ${header.height}, time ${new Date(header.time).toISOString()}`);

    // The registry and validator set in force at the evidence's block: the genesis, plus every governance
    // tx before the block, each proven by a block certified by the set in force before it (ADR 006).
    const gov = step('governance', () => replayGovernance(g, r.governance ?? [], header.height));
    const derived = gov.state.epochAt(header.height);
    pass(
      'governance',
      gov.txs === 0
        ? `no governance txs before block ${header.height}; validator set and client keys of the genesis`
        : `${gov.txs} governance tx${gov.txs === 1 ? '' : 's'} in ${gov.blocks} block${gov.blocks === 1 ? '' : 's'} replayed; validator set of epoch ${derived.epoch}`,
    );

    const set = step('validatorSet', () => {
      const s = decodeValidatorSet(unb64(r.validatorSet, 'validatorSet'));
      if (!equalBytes(validatorSetHash(s), header.validatorSetHash)) {
        throw new Error('validator set does not match the header commitment');
      }
      if (!equalBytes(validatorSetHash(s), validatorSetHash(derived.set))) {
        throw new Error(
          `the block is certified by the validator set of epoch ${epochOf(s)}; the governance txs in the ` +
            `receipt put the set of epoch ${derived.epoch} in force at block ${header.height} ` +
            '(a governance block is missing, or the set is not the chain’s)',
        );
      }
      return s;
    });
    pass('validatorSet', `${set.validators.length} validators, committed to by the header`);

    const cert = step('certificate', () => {
      const c = decodeCertificate(unb64(r.certificate, 'certificate'));
      verifyCommitCertificate(c, header, set);
      return c;
    });
    const signers = cert.signatures.map((s) => set.validators[s.validator]!.institution);
    pass(
      'certificate',
      `${cert.signatures.length} of ${set.validators.length} validators signed (${signers.join(', ')})`,
    );

    const env = step('tx', () => {
      const e = parseTx(unb64(r.tx, 'tx'));
      if (e.hashHex !== r.txHash) throw new Error('txHash is not the hash of tx');
      if (e.tx.chainId !== g.chainId) throw new Error('tx is for another chain');
      if (e.tx.type !== 'evidence') throw new Error(`tx type ${e.tx.type} is not evidence`);
      return e;
    });
    pass('tx', `tx ${env.hashHex.slice(0, 16)}… from ${env.tx.institution}`);

    step('signature', () => {
      const { institution, keyId } = env.tx;
      const key = gov.state.clientKeys().get(institution)?.get(keyId);
      if (key === undefined) {
        const inst = gov.state.institutions().find((i) => i.id === institution);
        const where = gov.txs === 0 ? 'the genesis' : 'the genesis and the governance txs of the receipt';
        throw new Error(
          inst === undefined
            ? `institution ${institution} is not registered by ${where}`
            : inst.revokedKeys.includes(keyId)
              ? `${institution}/${keyId} was revoked before block ${header.height}`
              : `${institution}/${keyId} is not a client key registered by ${where}`,
        );
      }
      if (!verifyTxEnvelope(env, key)) throw new Error('institution signature does not verify');
    });
    pass('signature', `signed by ${env.tx.institution}/${env.tx.keyId}`);

    step('inclusion', () => {
      const proof: InclusionProof = {
        leafIndex: r.inclusion.leafIndex,
        treeSize: r.inclusion.treeSize,
        path: (r.inclusion.path ?? []).map((p, i) => unhex(p, `inclusion.path[${i}]`)),
      };
      if (proof.treeSize !== header.txCount) throw new Error('proof tree size is not the block tx count');
      if (!verifyInclusion(env.hash, proof, header.txRoot))
        throw new Error('Merkle proof does not lead to txRoot');
    });
    pass('inclusion', `tx ${r.inclusion.leafIndex + 1} of ${header.txCount} in the block's Merkle tree`);

    const evidence = step('evidence', () => decodeEvidence(env.tx.payload));
    pass(
      'evidence',
      `${evidence.hashAlg} ${toHex(evidence.hash)}, case ${evidence.caseId}, ${evidence.evidenceType}`,
    );

    if (opts.file !== undefined || opts.fileDigest !== undefined) {
      const { file, fileDigest } = opts;
      step('file', () => {
        if (fileDigest !== undefined && fileDigest.hashAlg !== evidence.hashAlg) {
          throw new Error(
            `the record uses ${evidence.hashAlg}, the file was hashed with ${fileDigest.hashAlg}`,
          );
        }
        const digest = fileDigest?.hash ?? hashFile(file!, evidence.hashAlg);
        if (!equalBytes(digest, evidence.hash))
          throw new Error('the file does not match the recorded evidence hash');
      });
      pass('file', `file hash matches (${evidence.hashAlg})`);
    } else {
      skip('file', 'no file given');
    }

    const anchorsPem = opts.tsaTrustAnchorsPem ?? g.tsa.trustAnchors.join('\n');
    let anchoredAt: Date | undefined;
    if (r.anchor === null) {
      if (opts.requireAnchor) fail('anchor', 'the receipt carries no time-stamp anchor');
      skip('anchor', 'block not yet anchored by a time-stamp token');
    } else {
      const a = r.anchor;
      anchoredAt = step('anchor', () => {
        let prev = unhex(r.block.hash, 'block.hash');
        let height = header.height;
        for (const [i, hb] of (a.headers ?? []).entries()) {
          const h = decodeHeader(unb64(hb, `anchor.headers[${i}]`));
          if (h.height !== height + 1 || !equalBytes(h.prevHash, prev)) {
            throw new Error(`anchor.headers[${i}] does not extend the chain from block ${height}`);
          }
          prev = headerHash(h);
          height = h.height;
        }
        if (height !== a.height || toHex(prev) !== a.headerHash) {
          throw new Error('header chain does not end at the anchored header');
        }
        if (anchorsPem.trim() === '')
          throw new Error('no TSA trust anchors (genesis has none; pass --tsa-ca)');
        const v = verifyTimestamp(unb64(a.token, 'anchor.token'), {
          trustAnchors: parsePemCertificates(anchorsPem, 'TSA trust anchors'),
          digest: prev,
          hashAlg: 'sha256',
        });
        if (!v.ok) throw new Error(`time-stamp token failed check ${v.failedCheck}: ${v.reason}`);
        return v.genTime;
      });
      pass(
        'anchor',
        `block ${header.height} existed no later than ${anchoredAt.toISOString()} (TSA, via block ${a.height})`,
      );
    }

    let evidenceTokenTime: Date | undefined;
    if (evidence.tsToken !== undefined) {
      const token = evidence.tsToken;
      evidenceTokenTime = step('evidenceToken', () => {
        if (anchorsPem.trim() === '')
          throw new Error('no TSA trust anchors (genesis has none; pass --tsa-ca)');
        const v = verifyEvidenceToken(token, evidence.hash, evidence.hashAlg, {
          trustAnchorsPem: anchorsPem,
          now: header.time,
          toleranceMs: g.tsa.evidenceTokenToleranceMs,
        });
        if (!v.ok) throw new Error(v.error.message);
        return v.genTime;
      });
      pass('evidenceToken', `evidence hash time-stamped at ${evidenceTokenTime.toISOString()}`);
    } else {
      skip('evidenceToken', 'evidence carries no time-stamp token of its own');
    }

    step('summary', () => {
      const expected = summaryOf(env, evidence, header, cert, set, anchoredAt);
      if (JSON.stringify(canonicalJson(r.summary)) !== JSON.stringify(canonicalJson(expected))) {
        throw new Error('summary does not match the signed data');
      }
    });
    pass('summary', 'human-readable summary matches the signed data');

    return {
      ok: true,
      checks,
      facts: {
        txHash: env.hashHex,
        evidenceHash: toHex(evidence.hash),
        hashAlg: evidence.hashAlg,
        caseId: evidence.caseId,
        institution: env.tx.institution,
        height: header.height,
        blockTime: new Date(header.time),
        ...(anchoredAt !== undefined ? { anchoredAt } : {}),
        ...(evidenceTokenTime !== undefined ? { evidenceTokenTime } : {}),
      },
    };
  } catch (err) {
    if (!(err instanceof Failed)) throw err;
    return { ok: false, checks };
  }
}

export interface ReplayedGovernance {
  /** The registry as of the block below `beforeHeight`: in force at `beforeHeight`. */
  state: GovernanceState;
  blocks: number;
  txs: number;
}

/**
 * Replays a receipt's governance blocks on the genesis registry, the way the executor (ledger-chain.ts)
 * applied them: block by block in chain order, each block's certificate checked against the validator set in
 * force at its height, each tx's inclusion checked against the header's txRoot, then judged by the same rules
 * (checkStateless, checkTime) and applied by the same `GovernanceState.apply` at the block's height and time,
 * on a copy of the registry as of the previous block. Throws an Error naming the exact problem.
 */
export function replayGovernance(g: Genesis, blocks: unknown, beforeHeight: number): ReplayedGovernance {
  if (!Array.isArray(blocks)) throw new Error('governance is not a list');
  let state = GovernanceState.fromGenesis(g);
  let last = 0;
  let txs = 0;
  for (const [i, raw] of blocks.entries()) {
    const at = `governance[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new Error(`${at} is not an object`);
    const b = raw as ReceiptGovernanceBlockJson;
    const header = decodeHeader(unb64(b.header, `${at}.header`));
    if (header.chainId !== g.chainId) throw new Error(`${at}: header is for another chain`);
    if (header.height !== b.height) throw new Error(`${at}.height does not match its header`);
    if (header.height <= last) {
      throw new Error(
        `${at}: block ${header.height} does not come after block ${last} (governance blocks must be listed once each, in chain order)`,
      );
    }
    if (header.height >= beforeHeight) {
      throw new Error(`${at}: block ${header.height} is not below the evidence's block ${beforeHeight}`);
    }
    const epoch = state.epochAt(header.height);
    if (!equalBytes(header.validatorSetHash, validatorSetHash(epoch.set))) {
      throw new Error(
        `${at}: block ${header.height} names another validator set than that of epoch ${epoch.epoch}, which ` +
          'the governance txs listed before it put in force (a governance block is missing)',
      );
    }
    const cert = decodeCertificate(unb64(b.certificate, `${at}.certificate`));
    try {
      verifyCommitCertificate(cert, header, epoch.set);
    } catch (err) {
      throw new Error(
        `${at}: the certificate of block ${header.height} does not verify against the validator set of ` +
          `epoch ${epoch.epoch}: ${(err as Error).message}`,
      );
    }
    if (!Array.isArray(b.txs) || b.txs.length === 0) throw new Error(`${at} lists no governance txs`);
    // As in the executor: rules see the registry as of the previous block; the block's txs apply in order
    // to one copy of it, which becomes the registry from the next block on.
    const ctx = {
      chainId: g.chainId,
      keys: state.clientKeys(),
      validatorKeys: validatorKeysOf(epoch.set),
      verified: new VerifiedSignatures(0),
      remember: false,
      countVerify: () => {},
    };
    // Every tx's place first (so a reordered list is named as such), then the rules and effects in order.
    let lastIndex = -1;
    const envs = b.txs.map((t, j) => {
      const tat = `${at}.txs[${j}]`;
      if (typeof t !== 'object' || t === null) throw new Error(`${tat} is not an object`);
      const env = parseTx(unb64(t.tx, `${tat}.tx`));
      if (env.tx.type !== 'governance') throw new Error(`${tat} is an ${env.tx.type} tx, not governance`);
      if (!Number.isSafeInteger(t.leafIndex) || t.leafIndex <= lastIndex) {
        throw new Error(
          `${tat}: leaf index ${t.leafIndex} does not come after ${lastIndex} (txs must be listed in block order)`,
        );
      }
      lastIndex = t.leafIndex;
      if (!Array.isArray(t.path)) throw new Error(`${tat}.path is not a list`);
      const proof: InclusionProof = {
        leafIndex: t.leafIndex,
        treeSize: header.txCount,
        path: t.path.map((p, k) => unhex(p, `${tat}.path[${k}]`)),
      };
      if (!verifyInclusion(env.hash, proof, header.txRoot)) {
        throw new Error(
          `${tat}: the Merkle proof of governance tx ${env.hashHex} does not lead to the txRoot of block ${header.height}`,
        );
      }
      return env;
    });
    const next = state.clone();
    for (const [j, env] of envs.entries()) {
      const tat = `${at}.txs[${j}]`;
      const verdict = checkStateless(env, ctx);
      if ('code' in verdict) throw new Error(`${tat}: ${verdict.code}: ${verdict.message}`);
      if (verdict.type !== 'governance') throw new Error(`${tat} is not a governance tx`);
      const rejection =
        checkTime(env, header.time) ?? next.apply(env, verdict.governance, header.height, header.time);
      if (rejection !== undefined) {
        throw new Error(
          `${tat}: governance tx ${env.hashHex} does not apply at block ${header.height}: ${rejection.code}: ${rejection.message}`,
        );
      }
      txs++;
    }
    state = next;
    last = header.height;
  }
  return { state, blocks: blocks.length, txs };
}

/** Sorts object keys recursively, so summaries compare by content. */
function canonicalJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonicalJson);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonicalJson((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export function hashFile(data: Uint8Array, alg: HashAlg): Uint8Array {
  const out = new Uint8Array(createHash(alg).update(data).digest());
  if (out.length !== HashAlgs[alg].length) throw new Error('unexpected digest length');
  return out;
}
