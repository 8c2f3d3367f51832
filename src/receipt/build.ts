/** Assembles a receipt from ledger data (ledger-receipt.ts gathers it). */
import { encodeCertificate, encodeHeader, headerHash } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { ED25519_SHA256 } from '../core/crypto-suite.ts';
import { decodeEvidence } from '../core/evidence.ts';
import { genesisHash, genesisSuite } from '../core/genesis.ts';
import { encodeValidatorSet } from '../core/validators.ts';
import { summaryOf } from './evidence-checks.ts';
import {
  b64,
  type GovernanceBlockParts,
  RECEIPT_FORMAT,
  type ReceiptGovernanceBlockJson,
  type ReceiptJson,
  type ReceiptParts,
} from './format.ts';

/** Governance blocks as receipts carry them (evidence and case receipts alike). */
export function governanceJson(blocks: readonly GovernanceBlockParts[]): ReceiptGovernanceBlockJson[] {
  return blocks.map((b) => ({
    height: b.header.height,
    header: b64(encodeHeader(b.header)),
    certificate: b64(encodeCertificate(b.certificate)),
    txs: b.txs.map((t) => ({
      tx: b64(t.tx.bytes),
      leafIndex: t.proof.leafIndex,
      path: t.proof.path.map(toHex),
    })),
  }));
}

/** The caller provides consistent parts; `verifyReceipt` checks them. */
export function buildReceipt(p: ReceiptParts): ReceiptJson {
  const evidence = decodeEvidence(p.tx.tx.payload);
  const suite = genesisSuite(p.genesis);
  const hash = headerHash(p.header, suite);
  const governance = governanceJson(p.governance ?? []);
  return {
    format: RECEIPT_FORMAT,
    chainId: p.genesis.chainId,
    // Named only when not the default, so Ed25519 receipts are what they were (ADR 014).
    ...(suite === ED25519_SHA256 ? {} : { cryptoSuite: suite.name }),
    genesisHash: toHex(genesisHash(p.genesis)),
    txHash: p.tx.hashHex,
    tx: b64(p.tx.bytes),
    block: { height: p.header.height, hash: toHex(hash), header: b64(encodeHeader(p.header)) },
    inclusion: { leafIndex: p.proof.leafIndex, treeSize: p.proof.treeSize, path: p.proof.path.map(toHex) },
    certificate: b64(encodeCertificate(p.certificate)),
    validatorSet: b64(encodeValidatorSet(p.validatorSet, suite)),
    anchor:
      p.anchor === undefined
        ? null
        : {
            height: p.anchor.header.height,
            headerHash: toHex(headerHash(p.anchor.header, suite)),
            headers: p.anchor.headers.map((h) => b64(encodeHeader(h))),
            token: b64(p.anchor.token),
          },
    summary: summaryOf(p.tx, evidence, p.header, p.certificate, p.validatorSet, p.anchor?.genTime),
    ...(governance.length === 0 ? {} : { governance }),
    archive: p.archive === undefined ? null : { record: b64(p.archive) },
  };
}
