/**
 * Negative control for the production-ledger world's cheap consensus signatures (ledger-world.ts): SimSigners
 * stand in for the genesis' Ed25519 validator keys, so a forgery must still fail every check that the
 * simulation relies on — the world's verifier (what the drivers and the observer call) and the ledger's
 * commit-certificate check. A share that is not the validator's SimSigner's (a real Ed25519 signature of that
 * very key, another SimSigner's, or a flipped byte) is refused; the honest certificate is accepted.
 */
import { describe, expect, it } from 'vitest';
import { CertError, type CommitCertificate, commitVoteBody } from '../../src/core/block.ts';
import { Domain } from '../../src/core/crypto.ts';
import { consensusChainId } from '../../src/core/validators.ts';
import { TEST_GENESIS_TIME, validatorSigners } from '../helpers/fixtures.ts';
import { SimSigner } from './crypto.ts';
import { type LedgerWorldChain, ledgerWorld } from './ledger-world.ts';

describe('the production-ledger world: cheap consensus signatures still refuse forgeries', () => {
  it('a forged share fails the world verifier and the ledger certificate check; the honest one passes', async () => {
    const world = ledgerWorld(4);
    const first = (await world.chain()) as LedgerWorldChain;
    const built = await first.buildBlock({ proposer: 0, view: 0, time: TEST_GENESIS_TIME + 3000, txs: [] });
    const chainId = consensusChainId(world.chainId, world.genesisHash, 0);
    const body = commitVoteBody(chainId, 0, 1, built.hash);
    const share = (validator: number, signature: Uint8Array) => ({ validator, signature });
    const honest: CommitCertificate = {
      height: 1,
      view: 0,
      headerHash: built.hash,
      signatures: [0, 1, 2].map((v) => share(v, world.signers[v]!.sign(Domain.commit, body))),
    };
    const key0 = world.set.validators[0]!.publicKey;
    const flipped = honest.signatures[0]!.signature.slice();
    flipped[0]! ^= 1;
    const forgeries = {
      'the Ed25519 signature of the same key': validatorSigners()[0]!.sign(Domain.commit, body),
      "another SimSigner's": new SimSigner('not-validator-0').sign(Domain.commit, body),
      'a flipped byte': flipped,
    };
    expect(world.verify(key0, Domain.commit, body, honest.signatures[0]!.signature)).toBe(true);
    for (const [what, signature] of Object.entries(forgeries)) {
      expect(world.verify(key0, Domain.commit, body, signature), what).toBe(false);
      const chain = (await world.chain()) as LedgerWorldChain;
      const block = await chain.buildBlock({ proposer: 0, view: 0, time: TEST_GENESIS_TIME + 3000, txs: [] });
      const forged = { ...honest, signatures: [share(0, signature), ...honest.signatures.slice(1)] };
      await expect(chain.commitBlock(block, forged), what).rejects.toThrow(CertError);
      expect(chain.head().height, what).toBe(0);
    }
    await first.commitBlock(built, honest);
    expect(first.head().height).toBe(1);
  });
});
