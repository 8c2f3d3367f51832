/** JSON views of ledger objects for the API. Hashes are lower-case hex, bytes base64, times ISO-8601 UTC. */

import { decodeAnchor } from '../core/anchor.ts';
import { type BlockHeader, encodeCertificate, headerHash } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { decodeEvidence, type EvidenceRecord } from '../core/evidence.ts';
import type { Genesis } from '../core/genesis.ts';
import type { EvidenceEntry, LedgerTx, StoredBlock } from '../ledger/store.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export function evidenceView(e: EvidenceRecord): Record<string, unknown> {
  return {
    hashAlg: e.hashAlg,
    hash: toHex(e.hash),
    caseId: e.caseId,
    evidenceType: e.evidenceType,
    ...(e.mediaType !== undefined ? { mediaType: e.mediaType } : {}),
    ...(e.size !== undefined ? { size: e.size } : {}),
    ...(e.label !== undefined ? { label: e.label } : {}),
    hasTimestampToken: e.tsToken !== undefined,
  };
}

/** One evidence record as it sits on the chain: who recorded it, where and when. */
export function recordView(e: EvidenceEntry): Record<string, unknown> {
  return {
    txHash: e.env.hashHex,
    institution: e.env.tx.institution,
    keyId: e.env.tx.keyId,
    height: e.height,
    index: e.index,
    blockTime: iso(e.blockTime),
    evidence: evidenceView(e.evidence),
  };
}

export function txView(t: LedgerTx): Record<string, unknown> {
  const { tx } = t.env;
  let payload: Record<string, unknown>;
  if (tx.type === 'evidence') payload = { evidence: evidenceView(decodeEvidence(tx.payload)) };
  else {
    const a = decodeAnchor(tx.payload);
    payload = { anchor: { height: a.height, headerHash: toHex(a.headerHash), tokenBytes: a.token.length } };
  }
  return {
    hash: t.env.hashHex,
    type: tx.type,
    chainId: tx.chainId,
    institution: tx.institution,
    keyId: tx.keyId,
    nonce: tx.nonce,
    createdAt: iso(tx.createdAt),
    ttlMs: tx.ttlMs,
    height: t.height,
    index: t.index,
    blockTime: iso(t.blockTime),
    ...payload,
    bytes: Buffer.from(t.env.bytes).toString('base64'),
  };
}

export function headerView(h: BlockHeader, genesis: Genesis): Record<string, unknown> {
  return {
    chainId: h.chainId,
    height: h.height,
    hash: toHex(headerHash(h)),
    prevHash: toHex(h.prevHash),
    txRoot: toHex(h.txRoot),
    txCount: h.txCount,
    proposer: h.proposer,
    proposerInstitution: genesis.validators[h.proposer]?.institution ?? null,
    view: h.view,
    time: iso(h.time),
    validatorSetHash: toHex(h.validatorSetHash),
  };
}

export function blockView(b: StoredBlock, genesis: Genesis): Record<string, unknown> {
  return {
    header: headerView(b.header, genesis),
    hash: toHex(b.hash),
    certificate: {
      view: b.cert.view,
      signers: b.cert.signatures.map(
        (s) => genesis.validators[s.validator]?.institution ?? `#${s.validator}`,
      ),
      // Canonical bytes, so anyone holding the genesis can check the signatures (verifyCommitCertificate).
      bytes: Buffer.from(encodeCertificate(b.cert)).toString('base64'),
    },
    txHashes: b.txHashes.map(toHex),
  };
}
