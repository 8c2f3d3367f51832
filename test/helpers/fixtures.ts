/** Deterministic keys and records for tests. Seeds derive from a label, so tests are reproducible. */

import { createHash } from 'node:crypto';
import { type AnchorRecord, encodeAnchor } from '../../src/core/anchor.ts';
import { auditHeadTx } from '../../src/core/audit-head.ts';
import {
  type BlockHeader,
  type CommitCertificate,
  commitVoteBody,
  headerHash,
} from '../../src/core/block.ts';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { Domain, Ed25519Signer, type Signer, sha256 } from '../../src/core/crypto.ts';
import type { EvidenceRecord } from '../../src/core/evidence.ts';
import { encodeEvidence } from '../../src/core/evidence.ts';
import { GENESIS_FORMAT, type Genesis, genesisHash, parseGenesis } from '../../src/core/genesis.ts';
import { encodeGovernance, type GovernanceRecord } from '../../src/core/governance.ts';
import { encodeHashRenewal, type HashRenewalRequest } from '../../src/core/hash-renewal.ts';
import {
  envelope,
  signTx,
  type Tx,
  type TxEnvelope,
  type UnsignedTx,
  VALIDATOR_KEY_ID,
} from '../../src/core/tx.ts';
import { consensusChainId } from '../../src/core/validators.ts';

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

// ---- a test alliance: genesis, tx envelopes and commit certificates ----

export const TEST_CHAIN_ID = 'jrchain-test';
export const TEST_INSTITUTIONS = ['bank-a', 'bank-b', 'bank-c', 'bank-d'] as const;
/** Genesis creation time: a little before sampleUnsignedTx's createdAt. */
export const TEST_GENESIS_TIME = 1_779_999_000_000;

export function validatorSigners(n = 4): Ed25519Signer[] {
  return Array.from({ length: n }, (_, i) => testSigner(`validator-${i}`));
}

export interface TestGenesisOverrides {
  chainId?: string;
  consensus?: Record<string, number>;
  tsa?: Record<string, unknown>;
  /** Institution id -> role; unnamed institutions carry no role field (a bank). */
  roles?: Record<string, string>;
  /** The genesis `cases` section (absent: optional sealing). */
  cases?: Record<string, unknown>;
}

/** The JSON form of the test genesis: four institutions (one client key each, `<id>/client-1`), four validators. */
export function testGenesisJson(overrides: TestGenesisOverrides = {}): Record<string, any> {
  return {
    format: GENESIS_FORMAT,
    chainId: overrides.chainId ?? TEST_CHAIN_ID,
    createdAt: new Date(TEST_GENESIS_TIME).toISOString(),
    institutions: TEST_INSTITUTIONS.map((id) => ({
      id,
      name: `Bank ${id.slice(-1).toUpperCase()}`,
      ...(overrides.roles?.[id] === undefined ? {} : { role: overrides.roles[id] }),
      clientKeys: [{ keyId: 'client-1', publicKey: toHex(testSigner(`${id}/client-1`).publicKey) }],
    })),
    validators: validatorSigners().map((s, i) => ({
      institution: TEST_INSTITUTIONS[i],
      publicKey: toHex(s.publicKey),
      addrs: [`/ip4/127.0.0.1/tcp/${4100 + i}`],
    })),
    ...(overrides.consensus === undefined ? {} : { consensus: overrides.consensus }),
    ...(overrides.tsa === undefined ? {} : { tsa: overrides.tsa }),
    ...(overrides.cases === undefined ? {} : { cases: overrides.cases }),
  };
}

export function testGenesis(overrides: TestGenesisOverrides = {}): Genesis {
  return parseGenesis(testGenesisJson(overrides));
}

function sha512(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(data).digest());
}

export function docHash(label: string): Uint8Array {
  return sha256(utf8.encode(label));
}

export interface EvidenceTxOptions extends Partial<UnsignedTx> {
  evidence?: Partial<EvidenceRecord>;
  /** Signs with this test key label instead of `<institution>/client-1`. */
  signer?: string;
}

/** A signed evidence tx envelope; by default from bank-a, created at TEST_GENESIS_TIME + 1 s. */
export function evidenceTx(opts: EvidenceTxOptions): TxEnvelope {
  const { evidence, signer, ...fields } = opts;
  const unsigned = sampleUnsignedTx({
    createdAt: TEST_GENESIS_TIME + 1000,
    payload: encodeEvidence(sampleEvidence(evidence)),
    ...fields,
  });
  return envelope(signTx(unsigned, testSigner(signer ?? `${unsigned.institution}/client-1`)));
}

export interface HashRenewalTxOptions extends Partial<UnsignedTx> {
  /** Signs with this test key label instead of `<institution>/client-1`. */
  signer?: string;
}

/**
 * A signed hash-renewal tx naming evidence tx `evidence` with H'(document) = SHA-512 of `document` (default
 * the bytes sampleEvidence's hash covers); by default from bank-a, created at TEST_GENESIS_TIME + 1 s.
 */
export function hashRenewalTx(
  evidence: TxEnvelope,
  opts: HashRenewalTxOptions & { request?: Partial<HashRenewalRequest> } = {},
): TxEnvelope {
  const { signer, request, ...fields } = opts;
  const unsigned = sampleUnsignedTx({
    type: 'hash-renewal',
    createdAt: TEST_GENESIS_TIME + 1000,
    payload: encodeHashRenewal({
      evidenceTx: evidence.hash,
      hashAlg: 'sha512',
      hash: sha512(utf8.encode('statement-2026-01.pdf')),
      ...request,
    }),
    ...fields,
  });
  return envelope(signTx(unsigned, testSigner(signer ?? `${unsigned.institution}/client-1`)));
}

export interface AnchorTxOptions extends Partial<UnsignedTx> {
  /** Index of the signing validator (default 0); `institution` defaults to its institution. */
  validator?: number;
}

/**
 * A signed anchor tx envelope for `record`, signed by validator `validator` (default 0) under the reserved
 * `validator` key id, created at TEST_GENESIS_TIME + 1 s. Fields may be overridden to build faulty ones.
 */
export function anchorTx(record: AnchorRecord, opts: AnchorTxOptions = {}): TxEnvelope {
  const { validator = 0, ...fields } = opts;
  const unsigned: UnsignedTx = {
    chainId: TEST_CHAIN_ID,
    type: 'anchor',
    institution: TEST_INSTITUTIONS[validator]!,
    keyId: VALIDATOR_KEY_ID,
    nonce: record.height,
    createdAt: TEST_GENESIS_TIME + 1000,
    ttlMs: 3_600_000,
    payload: encodeAnchor(record),
    ...fields,
  };
  return envelope(signTx(unsigned, validatorSigners()[validator]!));
}

let defaultGenesisHash: Uint8Array | undefined;

/** The hash of `testGenesis()` with no overrides. */
export function testGenesisHash(): Uint8Array {
  defaultGenesisHash ??= genesisHash(testGenesis());
  return defaultGenesisHash;
}

/**
 * A commit certificate over `header` from a quorum (the first three of four validators by default), signed for
 * the chain of genesis hash `genesis` (ADR 010; `testGenesis()`'s by default, null for the pre-ADR-010 domain).
 */
export function certify(
  header: BlockHeader,
  view = header.view,
  who: number[] = [0, 1, 2],
  genesis: Uint8Array | null = testGenesisHash(),
): CommitCertificate {
  const signers = validatorSigners();
  const hash = headerHash(header);
  const body = commitVoteBody(consensusChainId(header.chainId, genesis, 0), view, header.height, hash);
  return {
    height: header.height,
    view,
    headerHash: hash,
    signatures: who.map((i) => ({ validator: i, signature: signers[i]!.sign(Domain.commit, body) })),
  };
}

export interface GovernanceTxOptions extends Partial<UnsignedTx> {
  /** Index of the signing genesis validator (default 0); `institution` defaults to its institution. */
  validator?: number;
  /** Signs with this signer instead (e.g. a rotated or a joining validator's key). */
  signer?: Signer;
}

/**
 * A signed governance tx envelope, by default from genesis validator 0 under the reserved `validator` key id,
 * created at TEST_GENESIS_TIME + 1 s.
 */
export function governanceTx(record: GovernanceRecord, opts: GovernanceTxOptions = {}): TxEnvelope {
  const { validator = 0, signer, ...fields } = opts;
  const unsigned: UnsignedTx = {
    chainId: TEST_CHAIN_ID,
    type: 'governance',
    institution: TEST_INSTITUTIONS[validator] ?? `bank-${validator}`,
    keyId: VALIDATOR_KEY_ID,
    nonce: 0,
    createdAt: TEST_GENESIS_TIME + 1000,
    ttlMs: 3_600_000,
    payload: encodeGovernance(record),
    ...fields,
  };
  return envelope(signTx(unsigned, signer ?? validatorSigners()[validator]!));
}

/**
 * A commit certificate over `header` signed by `signers[i]` for each i in `who`, in the signing domain of the
 * set's epoch (ADR 006): for chains whose validator set changed.
 */
export function certifyBy(
  header: BlockHeader,
  signers: readonly Ed25519Signer[],
  epoch: number,
  who: number[],
  view = header.view,
  genesis: Uint8Array | null = testGenesisHash(),
): CommitCertificate {
  const hash = headerHash(header);
  const body = commitVoteBody(consensusChainId(header.chainId, genesis, epoch), view, header.height, hash);
  return {
    height: header.height,
    view,
    headerHash: hash,
    signatures: who.map((i) => ({ validator: i, signature: signers[i]!.sign(Domain.commit, body) })),
  };
}

/** An audit head tx (ADR 015) of validator `validator`'s institution for a log of `seq` entries. */
export function auditTx(seq: number, opts: { validator?: number; hash?: number; createdAt?: number } = {}) {
  const { validator = 0, hash = seq, createdAt = TEST_GENESIS_TIME + 1000 } = opts;
  const tx = auditHeadTx(
    { seq, hash: new Uint8Array(32).fill(hash & 0xff) },
    {
      chainId: TEST_CHAIN_ID,
      institution: TEST_INSTITUTIONS[validator]!,
      signer: validatorSigners()[validator]!,
      createdAt,
      ttlMs: 3_600_000,
    },
  );
  return envelope(tx);
}
