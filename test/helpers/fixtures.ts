/** Deterministic keys and records for tests. Seeds derive from a label, so tests are reproducible. */
import { utf8 } from '../../src/core/bytes.ts';
import { Ed25519Signer, sha256 } from '../../src/core/crypto.ts';
import type { EvidenceRecord } from '../../src/core/evidence.ts';
import { encodeEvidence } from '../../src/core/evidence.ts';
import { signTx, type Tx, type UnsignedTx } from '../../src/core/tx.ts';

export function testSigner(label: string): Ed25519Signer {
  return new Ed25519Signer(sha256(utf8.encode(`jrchain-test-key:${label}`)));
}

export function sampleEvidence(overrides: Partial<EvidenceRecord> = {}): EvidenceRecord {
  return {
    hashAlg: 'sha256',
    hash: sha256(utf8.encode('statement-2026-01.pdf')),
    caseId: '2026-BJ-CC-000123',
    evidenceType: 'statement',
    mediaType: 'application/pdf',
    size: 48213,
    label: 'January statement',
    ...overrides,
  };
}

export function sampleUnsignedTx(overrides: Partial<UnsignedTx> = {}): UnsignedTx {
  return {
    chainId: 'jrchain-test',
    type: 'evidence',
    institution: 'bank-a',
    keyId: 'client-1',
    nonce: 1,
    createdAt: 1_780_000_000_000,
    ttlMs: 3_600_000,
    payload: encodeEvidence(sampleEvidence()),
    ...overrides,
  };
}

export function sampleTx(overrides: Partial<UnsignedTx> = {}, signerLabel = 'bank-a/client-1'): Tx {
  return signTx(sampleUnsignedTx(overrides), testSigner(signerLabel));
}
