/** The test vectors of docs/encoding.md are what the code encodes: the page and the code cannot drift apart. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeAuditHead } from '../../../src/core/audit-head.ts';
import { commitVoteBody, encodeCertificate, encodeHeader, headerHash } from '../../../src/core/block.ts';
import { toHex } from '../../../src/core/bytes.ts';
import { Domain, domainBytes } from '../../../src/core/crypto.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import {
  DEFAULT_TSA_PARAMS,
  encodeGenesisForHash,
  type Genesis,
  genesisHash,
} from '../../../src/core/genesis.ts';
import { encodeGovernance, type GovernanceAction } from '../../../src/core/governance.ts';
import { encodeHashRenewal } from '../../../src/core/hash-renewal.ts';
import { peerIdOf } from '../../../src/core/keys.ts';
import { merkleRoot } from '../../../src/core/merkle.ts';
import { DEFAULT_CONSENSUS_PARAMS } from '../../../src/core/params.ts';
import { encodeTx, encodeTxBody, signTx, txHash, type UnsignedTx } from '../../../src/core/tx.ts';
import {
  consensusChainId,
  encodeValidatorSet,
  type ValidatorSet,
  validatorSetHash,
} from '../../../src/core/validators.ts';
import { repoRoot } from '../../helpers/tsa.ts';

const filled = (n: number, b: number) => new Uint8Array(n).fill(b);
const set: ValidatorSet = {
  validators: [
    { institution: 'bank-a', publicKey: filled(32, 0x11) },
    { institution: 'bank-b', publicKey: filled(32, 0x22) },
  ],
};
const header = {
  chainId: 'demo',
  height: 300,
  prevHash: filled(32, 0xaa),
  txRoot: filled(32, 0xbb),
  txCount: 2,
  proposer: 1,
  view: 0,
  time: 1_780_000_000_000,
  validatorSetHash: validatorSetHash(set),
};
const hash = headerHash(header);
const demoGenesis: Genesis = {
  chainId: 'demo',
  createdAt: 1_780_000_000_000,
  institutions: [
    {
      id: 'bank-a',
      name: 'Bank A',
      role: 'bank',
      clientKeys: [{ keyId: 'client-1', publicKey: filled(32, 0x33) }],
    },
    { id: 'bank-b', name: 'Bank B', role: 'bank', clientKeys: [] },
  ],
  validators: set.validators.map((v) => ({
    institution: v.institution,
    publicKey: v.publicKey,
    peerId: peerIdOf(v.publicKey),
    addrs: [],
  })),
  consensus: { ...DEFAULT_CONSENSUS_PARAMS },
  tsa: { ...DEFAULT_TSA_PARAMS, trustAnchors: [] },
  cases: { sealing: 'optional' },
};
const sealedGenesis: Genesis = {
  ...demoGenesis,
  institutions: [
    { ...demoGenesis.institutions[0]!, encryptionKey: filled(32, 0x55) },
    demoGenesis.institutions[1]!,
  ],
  cases: { sealing: 'required' },
};
const rolesGenesis: Genesis = {
  ...demoGenesis,
  institutions: [demoGenesis.institutions[0]!, { ...demoGenesis.institutions[1]!, role: 'mediator' }],
};
const tx: UnsignedTx = {
  chainId: 'demo',
  type: 'evidence',
  institution: 'bank-a',
  keyId: 'client-1',
  nonce: 7,
  createdAt: 1_780_000_000_000,
  ttlMs: 600_000,
  payload: Uint8Array.of(1, 2, 3),
};
const genesis = filled(32, 0x99);
const vote = commitVoteBody(consensusChainId('demo', genesis, 0), 0, 300, hash);
const voteV1 = commitVoteBody(consensusChainId('demo', null, 0), 0, 300, hash);

// The same inputs on an sm2-sm3 chain (ADR 014): SM2 keys of the private keys 32 × 11, 22 (validators) and 33
// (client); the validators' Ed25519 peer keys are the Ed25519 vectors' keys 32 × 11 and 22.
const smKey = (b: number) => SM2_SM3.publicKey(filled(32, b));
const smSet: ValidatorSet = {
  validators: [
    { institution: 'bank-a', publicKey: smKey(0x11) },
    { institution: 'bank-b', publicKey: smKey(0x22) },
  ],
};
const smHeader = { ...header, validatorSetHash: validatorSetHash(smSet, SM2_SM3) };
const smGenesis: Genesis = {
  ...demoGenesis,
  cryptoSuite: 'sm2-sm3',
  institutions: [
    { ...demoGenesis.institutions[0]!, clientKeys: [{ keyId: 'client-1', publicKey: smKey(0x33) }] },
    demoGenesis.institutions[1]!,
  ],
  validators: smSet.validators.map((v, i) => ({
    institution: v.institution,
    publicKey: v.publicKey,
    peerKey: set.validators[i]!.publicKey,
    peerId: peerIdOf(set.validators[i]!.publicKey),
    addrs: [],
  })),
};
const smTxHash = txHash(tx, SM2_SM3);
// Governance on the SM chain: proposals (deadline 1780000600000) to add bank-a's SM2 client key `client-2` (the
// SM2 key of 32 × 44), and a validator for bank-b: SM2 key of 32 × 55, Ed25519 peer key the vectors' key 32 × 22.
const smPropose = (action: GovernanceAction) =>
  encodeGovernance({ kind: 'propose', deadline: 1_780_000_600_000, action }, SM2_SM3);
// A hash-tree renewal request (ADR 016) naming the vector tx as the evidence, with SHA-512 hash 64 × 66.
const renewal = encodeHashRenewal({ evidenceTx: txHash(tx), hashAlg: 'sha512', hash: filled(64, 0x66) });
const renewalTx: UnsignedTx = { ...tx, type: 'hash-renewal', nonce: 8, payload: renewal };

// The vectors' audit head (ADR 015): a log of 300 entries whose entry 300 hashes to 32 × 44, committed by bank-a.
const auditHead = { seq: 300, hash: filled(32, 0x44) };
const auditTxBody: UnsignedTx = {
  chainId: 'demo',
  type: 'audit',
  institution: 'bank-a',
  keyId: 'validator',
  nonce: 300,
  createdAt: 1_780_000_000_000,
  ttlMs: 600_000,
  payload: encodeAuditHead(auditHead),
};

const computed: Record<string, Uint8Array> = {
  'tx-body': encodeTxBody(tx),
  'tx-hash': txHash(tx),
  'tx-signed-bytes': domainBytes(Domain.tx, encodeTxBody(tx)),
  'signed-tx': encodeTx({ ...tx, signature: filled(64, 0xee) }),
  evidence: encodeEvidence({
    hashAlg: 'sha256',
    hash: filled(32, 0x44),
    caseId: 'case-1',
    evidenceType: 'contract',
    mediaType: 'application/pdf',
    size: 1000,
  }),
  'hash-renewal': renewal,
  'hash-renewal-tx-body': encodeTxBody(renewalTx),
  'hash-renewal-tx-hash': txHash(renewalTx),
  'validator-set': encodeValidatorSet(set),
  'validator-set-hash': validatorSetHash(set),
  'validator-set-epoch-3': encodeValidatorSet({ ...set, epoch: 3 }),
  header: encodeHeader(header),
  'header-hash': hash,
  'commit-vote-body': vote,
  'commit-vote-signed-bytes': domainBytes(Domain.commit, vote),
  'commit-vote-body-epoch-3': commitVoteBody(consensusChainId('demo', genesis, 3), 0, 300, hash),
  'commit-vote-body-v1': voteV1,
  'genesis-body': encodeGenesisForHash(demoGenesis),
  'genesis-hash': genesisHash(demoGenesis),
  'genesis-body-roles': encodeGenesisForHash(rolesGenesis),
  'genesis-hash-roles': genesisHash(rolesGenesis),
  'genesis-body-sealed': encodeGenesisForHash(sealedGenesis),
  'genesis-hash-sealed': genesisHash(sealedGenesis),
  'sm-client-key': smKey(0x33),
  'sm-tx-hash': smTxHash,
  'sm-tx-signature': signTx(tx, SM2_SM3.signer(filled(32, 0x33))).signature,
  'sm-merkle-root': merkleRoot([smTxHash, filled(32, 0xbb), filled(32, 0xcc)], SM2_SM3),
  'sm-validator-set': encodeValidatorSet(smSet, SM2_SM3),
  'sm-validator-set-hash': validatorSetHash(smSet, SM2_SM3),
  'sm-header-hash': headerHash(smHeader, SM2_SM3),
  'sm-genesis-body': encodeGenesisForHash(smGenesis),
  'sm-genesis-hash': genesisHash(smGenesis),
  'sm-gov-add-client-key': smPropose({
    type: 'addClientKey',
    institution: 'bank-a',
    keyId: 'client-2',
    publicKey: smKey(0x44),
  }),
  'sm-gov-add-validator': smPropose({
    type: 'addValidator',
    institution: 'bank-b',
    publicKey: smKey(0x55),
    peerKey: set.validators[1]!.publicKey,
  }),
  'audit-head': encodeAuditHead(auditHead),
  'audit-tx-body': encodeTxBody(auditTxBody),
  'audit-tx-hash': txHash(auditTxBody),
  certificate: encodeCertificate({
    height: 300,
    view: 0,
    headerHash: hash,
    signatures: [
      { validator: 0, signature: filled(64, 0xcc) },
      { validator: 1, signature: filled(64, 0xdd) },
    ],
  }),
};

function documented(): Map<string, string> {
  const text = readFileSync(`${repoRoot}/docs/encoding.md`, 'utf8');
  const block = /```vectors\n([\s\S]*?)```/.exec(text)?.[1] ?? '';
  return new Map(
    block
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/) as [string, string]),
  );
}

describe('docs/encoding.md test vectors', () => {
  it('lists every computed vector, and only those', () => {
    expect([...documented().keys()].sort()).toEqual(Object.keys(computed).sort());
  });

  it.each(Object.keys(computed))('%s matches the code', (name) => {
    expect(documented().get(name)).toBe(toHex(computed[name]!));
  });
});
