/**
 * A tx's decoded payload, tagged by tx type. The executor produces these once per included tx; the stores
 * index evidence records and record anchors from them without decoding payloads again.
 */
import { type AnchorRecord, decodeAnchor } from '../core/anchor.ts';
import { type AuditHeadRecord, decodeAuditHead } from '../core/audit-head.ts';
import { type CaseRecord, decodeCase } from '../core/case.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { decodeEvidence, type EvidenceRecord } from '../core/evidence.ts';
import { decodeGovernance, type GovernanceRecord } from '../core/governance.ts';
import { decodeHashRenewal, type HashRenewalRequest } from '../core/hash-renewal.ts';
import type { Tx } from '../core/tx.ts';

export type TxRecord =
  | { readonly type: 'evidence'; readonly evidence: EvidenceRecord }
  | { readonly type: 'anchor'; readonly anchor: AnchorRecord }
  | { readonly type: 'governance'; readonly governance: GovernanceRecord }
  | { readonly type: 'case'; readonly case: CaseRecord }
  | { readonly type: 'hash-renewal'; readonly renewal: HashRenewalRequest }
  | { readonly type: 'audit'; readonly audit: AuditHeadRecord };

/** Decodes the payload for the tx's type. Throws CodecError when it does not decode. */
/** Governance records carry keys of the chain's suite (ADR 014), so decoding one needs it. */
export function decodeTxRecord(tx: Tx, suite: CryptoSuite = ED25519_SHA256): TxRecord {
  switch (tx.type) {
    case 'evidence':
      return { type: 'evidence', evidence: decodeEvidence(tx.payload) };
    case 'anchor':
      return { type: 'anchor', anchor: decodeAnchor(tx.payload) };
    case 'governance':
      return { type: 'governance', governance: decodeGovernance(tx.payload, suite) };
    case 'case':
      return { type: 'case', case: decodeCase(tx.payload) };
    case 'hash-renewal':
      return { type: 'hash-renewal', renewal: decodeHashRenewal(tx.payload) };
    case 'audit':
      return { type: 'audit', audit: decodeAuditHead(tx.payload) };
  }
}
