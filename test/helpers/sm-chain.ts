/**
 * An sm2-sm3 test alliance (ADR 014): the fixture genesis with SM2 client and validator keys (each from a
 * deterministic private key) and the fixture validators' Ed25519 keys as their libp2p peer keys; and certified
 * blocks of that chain, hashed and signed under the SM suite.
 */
import {
  type BlockHeader,
  type CommitCertificate,
  commitVoteBody,
  headerHash,
} from '../../src/core/block.ts';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { Domain, type Signer, sha256 } from '../../src/core/crypto.ts';
import { SM2_SM3 } from '../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../src/core/evidence.ts';
import { type Genesis, genesisHash, genesisValidatorSet, parseGenesis } from '../../src/core/genesis.ts';
import { type KeyPair, sm2KeyPair } from '../../src/core/keys.ts';
import { inclusionProof, merkleRoot } from '../../src/core/merkle.ts';
import { envelope, signTx, type TxEnvelope } from '../../src/core/tx.ts';
import { consensusChainId, validatorSetHash } from '../../src/core/validators.ts';
import {
  sampleEvidence,
  sampleUnsignedTx,
  TEST_GENESIS_TIME,
  TEST_INSTITUTIONS,
  type TestGenesisOverrides,
  testGenesisJson,
} from './fixtures.ts';
import { testBytes } from './sm.ts';

/** The SM2 signer of a label (the same label gives the same key). */
export function smSigner(label: string): Signer {
  return SM2_SM3.signer(testBytes(`sm2 ${label}`, 32));
}

/** The key file contents of SM validator i of smGenesis: its SM2 key and the fixture's Ed25519 key as peer key. */
export function smValidatorKey(i: number): KeyPair {
  return sm2KeyPair(
    testBytes(`sm2 validator-${i}`, 32),
    sha256(utf8.encode(`jrchain-test-key:validator-${i}`)),
  );
}

export function smValidatorSigners(n = 4): Signer[] {
  return Array.from({ length: n }, (_, i) => smSigner(`validator-${i}`));
}

/** testGenesisJson on an sm2-sm3 chain: client keys `smSigner('<id>/client-1')`, validators `smValidatorSigners`. */
export function smGenesisJson(overrides: TestGenesisOverrides = {}): Record<string, any> {
  const g = testGenesisJson(overrides);
  g.cryptoSuite = SM2_SM3.name;
  for (const inst of g.institutions as any[]) {
    inst.clientKeys = [{ keyId: 'client-1', publicKey: toHex(smSigner(`${inst.id}/client-1`).publicKey) }];
  }
  const signers = smValidatorSigners();
  for (const [i, v] of (g.validators as any[]).entries()) {
    v.peerKey = v.publicKey;
    v.publicKey = toHex(signers[i]!.publicKey);
  }
  return g;
}

export function smGenesis(overrides: TestGenesisOverrides = {}): Genesis {
  return parseGenesis(smGenesisJson(overrides));
}

export interface SmBlock {
  header: BlockHeader;
  hash: Uint8Array;
  cert: CommitCertificate;
  txs: TxEnvelope[];
}

/** Consecutive SM blocks from height 1, certified by validators 0-2, one second apart from `startTime`. */
export function buildSmChain(g: Genesis, blocks: TxEnvelope[][], startTime: number): SmBlock[] {
  const signers = smValidatorSigners();
  const setHash = validatorSetHash(genesisValidatorSet(g), SM2_SM3);
  const gHash = genesisHash(g);
  const out: SmBlock[] = [];
  let prev = gHash;
  for (const [i, txs] of blocks.entries()) {
    const header: BlockHeader = {
      chainId: g.chainId,
      height: i + 1,
      prevHash: prev,
      txRoot: merkleRoot(
        txs.map((t) => t.hash),
        SM2_SM3,
      ),
      txCount: txs.length,
      proposer: 0,
      view: 0,
      time: startTime + i * 1000,
      validatorSetHash: setHash,
    };
    const hash = headerHash(header, SM2_SM3);
    const body = commitVoteBody(consensusChainId(g.chainId, gHash, 0), 0, header.height, hash);
    const cert: CommitCertificate = {
      height: header.height,
      view: 0,
      headerHash: hash,
      signatures: [0, 1, 2].map((v) => ({ validator: v, signature: signers[v]!.sign(Domain.commit, body) })),
    };
    out.push({ header, hash, cert, txs });
    prev = hash;
  }
  return out;
}

export function smProofFor(block: SmBlock, tx: TxEnvelope) {
  return inclusionProof(
    block.txs.map((t) => t.hash),
    block.txs.findIndex((t) => t.hashHex === tx.hashHex),
    SM2_SM3,
  );
}

/** An SM-signed evidence tx of `institution`'s client-1 key, created a second after the test genesis. */
export function smEvidenceTx(nonce: number, institution: string = 'bank-a'): TxEnvelope {
  const unsigned = sampleUnsignedTx({
    institution,
    nonce,
    createdAt: TEST_GENESIS_TIME + 1000,
    payload: encodeEvidence(sampleEvidence()),
  });
  return envelope(signTx(unsigned, smSigner(`${institution}/client-1`)), SM2_SM3);
}

/** A commit certificate of `header` by SM validators `who` of the genesis set (epoch 0). */
export function smCertify(g: Genesis, header: BlockHeader, who = [0, 1, 2]): CommitCertificate {
  const signers = smValidatorSigners();
  const hash = headerHash(header, SM2_SM3);
  const body = commitVoteBody(
    consensusChainId(g.chainId, genesisHash(g), 0),
    header.view,
    header.height,
    hash,
  );
  return {
    height: header.height,
    view: header.view,
    headerHash: hash,
    signatures: who.map((v) => ({ validator: v, signature: signers[v]!.sign(Domain.commit, body) })),
  };
}

export { TEST_INSTITUTIONS };
