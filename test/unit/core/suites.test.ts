/**
 * The crypto suite a genesis chooses (ADR 014), through every hash and signature path of core: genesis, tx,
 * Merkle tree, validator set, header and commit certificate, each run under both suites, and each refusing
 * what was made under the other suite.
 */
import { describe, expect, it } from 'vitest';
import {
  CertError,
  type CommitCertificate,
  commitVoteBody,
  headerHash,
  verifyCommitCertificate,
} from '../../../src/core/block.ts';
import { concatBytes, fromHex, toHex, utf8 } from '../../../src/core/bytes.ts';
import { Domain, domainBytes, sha256 } from '../../../src/core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256, SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import {
  encodeGenesisForHash,
  GenesisError,
  genesisHash,
  genesisSuite,
  genesisToJson,
  parseGenesis,
} from '../../../src/core/genesis.ts';
import { peerIdOf } from '../../../src/core/keys.ts';
import { inclusionProof, merkleRoot, verifyInclusion } from '../../../src/core/merkle.ts';
import { sm3 } from '../../../src/core/sm/sm3.ts';
import {
  envelope,
  parseTx,
  signTx,
  txHash,
  type UnsignedTx,
  verifyTxEnvelope,
} from '../../../src/core/tx.ts';
import {
  consensusChainId,
  decodeValidatorSet,
  encodeValidatorSet,
  validatorSetHash,
} from '../../../src/core/validators.ts';
import { testGenesisJson } from '../../helpers/fixtures.ts';
import { testBytes } from '../../helpers/sm.ts';

const SUITES: CryptoSuite[] = [ED25519_SHA256, SM2_SM3];
const other = (s: CryptoSuite) => (s === ED25519_SHA256 ? SM2_SM3 : ED25519_SHA256);
/** A deterministic private key of the suite (both take 32 bytes; these are valid for both). */
const privateKey = (label: string) => testBytes(label, 32);

const unsigned: UnsignedTx = {
  chainId: 'demo',
  type: 'evidence',
  institution: 'bank-a',
  keyId: 'client-1',
  nonce: 7,
  createdAt: 1_780_000_000_000,
  ttlMs: 600_000,
  payload: Uint8Array.of(1, 2, 3),
};

/** The fixture genesis rewritten for an SM chain: SM2 consensus and client keys, Ed25519 peer keys. */
function smGenesisJson(): Record<string, any> {
  const g = structuredClone(testGenesisJson()) as Record<string, any>;
  g.cryptoSuite = 'sm2-sm3';
  for (const [i, inst] of (g.institutions as any[]).entries()) {
    for (const [j, k] of (inst.clientKeys as any[]).entries()) {
      k.publicKey = toHex(SM2_SM3.publicKey(privateKey(`client ${i} ${j}`)));
    }
  }
  for (const [i, v] of (g.validators as any[]).entries()) {
    v.peerKey = v.publicKey;
    v.publicKey = toHex(SM2_SM3.publicKey(privateKey(`validator ${i}`)));
    delete v.peerId;
  }
  return g;
}

function genesisFailure(doc: Record<string, any>): string {
  try {
    parseGenesis(doc);
  } catch (e) {
    if (e instanceof GenesisError) return e.message;
    throw e;
  }
  throw new Error('genesis was accepted');
}

describe('genesis cryptoSuite', () => {
  it('is absent from an Ed25519 genesis, which encodes as version 1 and hashes with SHA-256 as before', () => {
    const g = parseGenesis(testGenesisJson());
    expect('cryptoSuite' in g).toBe(false);
    expect(genesisSuite(g)).toBe(ED25519_SHA256);
    expect(encodeGenesisForHash(g)[0]).toBe(1);
    expect(toHex(genesisHash(g))).toBe(toHex(sha256(domainBytes(Domain.genesis, encodeGenesisForHash(g)))));
    expect('cryptoSuite' in genesisToJson(g)).toBe(false);
    // Naming the default suite explicitly is the same chain.
    expect(toHex(genesisHash(parseGenesis({ ...testGenesisJson(), cryptoSuite: 'ed25519-sha256' })))).toBe(
      toHex(genesisHash(g)),
    );
  });

  it('sm2-sm3: SM2 keys, Ed25519 peer keys, a version 2 encoding naming the suite, an SM3 genesis hash', () => {
    const g = parseGenesis(smGenesisJson());
    expect(g.cryptoSuite).toBe('sm2-sm3');
    expect(genesisSuite(g)).toBe(SM2_SM3);
    expect(g.validators[0]!.publicKey).toHaveLength(65);
    expect(g.validators[0]!.peerId).toBe(peerIdOf(g.validators[0]!.peerKey!));
    const body = encodeGenesisForHash(g);
    expect(toHex(body.subarray(0, 9))).toBe(`02${toHex(utf8.encode('\x07sm2-sm3'))}`);
    expect(toHex(genesisHash(g))).toBe(toHex(sm3(domainBytes(Domain.genesis, body))));
    expect(parseGenesis(JSON.parse(JSON.stringify(genesisToJson(g))))).toEqual(g);
  });

  it('refuses an unknown suite, keys of the other suite, a key off the SM2 curve, and misplaced peer keys', () => {
    expect(genesisFailure({ ...testGenesisJson(), cryptoSuite: 'rsa-md5' })).toMatch(
      /cryptoSuite: unknown crypto suite: rsa-md5/,
    );
    const edKeys = smGenesisJson();
    edKeys.validators[0].publicKey = edKeys.validators[0].peerKey;
    expect(genesisFailure(edKeys)).toMatch(
      /validators\[0\]\.publicKey: must be a 65-byte sm2-sm3 public key/,
    );
    const offCurve = smGenesisJson();
    offCurve.institutions[0].clientKeys[0].publicKey = `04${'11'.repeat(64)}`;
    expect(genesisFailure(offCurve)).toMatch(/clientKeys\[0\]\.publicKey: SM2 public key is not a point/);
    const noPeerKey = smGenesisJson();
    delete noPeerKey.validators[1].peerKey;
    expect(genesisFailure(noPeerKey)).toMatch(/validators\[1\]\.peerKey: missing/);
    const samePeer = smGenesisJson();
    samePeer.validators[2].peerKey = samePeer.validators[0].peerKey;
    expect(genesisFailure(samePeer)).toMatch(/validators\[2\]\.peerKey: peer key used twice/);
    const edWithPeerKey = structuredClone(testGenesisJson()) as Record<string, any>;
    edWithPeerKey.validators[0].peerKey = edWithPeerKey.validators[1].publicKey;
    expect(genesisFailure(edWithPeerKey)).toMatch(/validators\[0\]\.peerKey: unknown field/);
  });
});

describe.each(SUITES.map((s) => [s.name, s] as const))('suite %s', (_name, suite) => {
  const signer = suite.signer(privateKey('client'));

  it('hashes txs with its tagged hash and verifies its own tx signatures only', () => {
    const tx = signTx(unsigned, signer);
    const env = envelope(tx, suite);
    expect(toHex(env.hash)).toBe(toHex(txHash(unsigned, suite)));
    expect(toHex(env.hash)).not.toBe(toHex(txHash(unsigned, other(suite))));
    expect(toHex(parseTx(env.bytes, suite).hash)).toBe(env.hashHex);
    expect(verifyTxEnvelope(env, signer.publicKey, suite)).toBe(true);
    const tampered = envelope({ ...tx, nonce: 8 }, suite);
    expect(verifyTxEnvelope(tampered, signer.publicKey, suite)).toBe(false);
    // A key and signature of this suite checked under the other suite never verify.
    expect(verifyTxEnvelope(env, signer.publicKey, other(suite))).toBe(false);
  });

  it('builds Merkle trees with its hash; a proof checked under the other suite fails', () => {
    const leaves = Array.from({ length: 7 }, (_, i) => testBytes(`leaf ${i}`, 32));
    const root = merkleRoot(leaves, suite);
    expect(toHex(merkleRoot([], suite))).toBe(toHex(suite.hash()));
    const leaf0 = suite.hash(Uint8Array.of(0), leaves[0]!);
    const leaf1 = suite.hash(Uint8Array.of(0), leaves[1]!);
    expect(toHex(merkleRoot(leaves.slice(0, 2), suite))).toBe(
      toHex(suite.hash(Uint8Array.of(1), leaf0, leaf1)),
    );
    for (let i = 0; i < leaves.length; i++) {
      const proof = inclusionProof(leaves, i, suite);
      expect(verifyInclusion(leaves[i]!, proof, root, suite)).toBe(true);
      expect(verifyInclusion(leaves[i]!, proof, root, other(suite))).toBe(false);
    }
  });

  it('encodes validator sets with its key length, and checks commit certificates with its hash and keys', () => {
    const signers = [0, 1, 2, 3].map((i) => suite.signer(privateKey(`validator ${i}`)));
    const set = {
      validators: signers.map((s, i) => ({ institution: `bank-${i}`, publicKey: s.publicKey })),
    };
    const bytes = encodeValidatorSet(set, suite);
    expect(decodeValidatorSet(bytes, suite)).toEqual(set);
    expect(() => decodeValidatorSet(bytes, other(suite))).toThrow();
    const header = {
      chainId: 'demo',
      height: 5,
      prevHash: testBytes('prev', 32),
      txRoot: merkleRoot([], suite),
      txCount: 0,
      proposer: 1,
      view: 0,
      time: 1_780_000_000_000,
      validatorSetHash: validatorSetHash(set, suite),
    };
    const genesis = testBytes('genesis', 32);
    const hash = headerHash(header, suite);
    const body = commitVoteBody(consensusChainId('demo', genesis, 0), 0, 5, hash);
    const cert: CommitCertificate = {
      height: 5,
      view: 0,
      headerHash: hash,
      signatures: [0, 1, 2].map((i) => ({ validator: i, signature: signers[i]!.sign(Domain.commit, body) })),
    };
    expect(() => verifyCommitCertificate(cert, header, set, genesis, suite)).not.toThrow();
    // Under the other suite the header hash differs: the certificate names another header.
    expect(() => verifyCommitCertificate(cert, header, set, genesis, other(suite))).toThrow(CertError);
    const forged = { ...cert, signatures: [...cert.signatures] };
    forged.signatures[2] = { validator: 2, signature: signers[3]!.sign(Domain.commit, body) };
    expect(() => verifyCommitCertificate(forged, header, set, genesis, suite)).toThrow(/bad signature/);
  });
});

describe('SM2 signatures in the SM suite', () => {
  it('are the GM/T 0003 signatures of domain-separated bytes, with the default user ID', async () => {
    const { sm2Verify } = await import('../../../src/core/sm/sm2.ts');
    const signer = SM2_SM3.signer(privateKey('client'));
    const body = utf8.encode('body');
    const signature = signer.sign(Domain.tx, body);
    expect(
      sm2Verify(signer.publicKey, concatBytes(utf8.encode('jrchain/tx/v1'), fromHex('00'), body), signature),
    ).toBe(true);
  });
});
