/**
 * A replica of a later epoch (ADR 006): it starts from the last block of the previous epoch as its stable
 * checkpoint, signs in its epoch's domain, and drops votes made in any other epoch.
 */
import { describe, expect, it } from 'vitest';
import { verifyCheckpointProof } from '../../../src/consensus/certificates.ts';
import { DropReason } from '../../../src/consensus/errors.ts';
import { type Prepare, withSignature } from '../../../src/consensus/messages.ts';
import { Replica } from '../../../src/consensus/replica.ts';
import type { Output } from '../../../src/consensus/types.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { type Domain, sha256 } from '../../../src/core/crypto.ts';
import { consensusChainId } from '../../../src/core/validators.ts';
import { codeOf } from '../../helpers/errors.ts';
import { simVerify } from '../../sim/crypto.ts';
import { SIM_GENESIS_HASH } from '../../sim/ledger.ts';
import { batch, CHAIN, params, pp, prepare, set, signers, T0, tx } from './helpers.ts';

const BASE = 10;
const baseHash = sha256(utf8.encode('block 10'));
const E1 = consensusChainId(CHAIN, SIM_GENESIS_HASH, 1);
const epochSet = { validators: set.validators, epoch: 1 };

function epochReplica(self = 1): Replica {
  const r = Replica.create(
    {
      chainId: E1,
      validators: epochSet,
      self,
      params,
      genesisHash: SIM_GENESIS_HASH,
      base: { seq: BASE, headerHash: baseHash },
      signer: signers[self]!,
      verify: simVerify,
    },
    { height: BASE, hash: baseHash, time: T0 - 1000 },
  );
  r.step({ now: T0, type: 'start' });
  return r;
}

const drops = (out: Output[]) => out.flatMap((o) => (o.type === 'dropped' ? [o.reason] : []));
const sign = (i: number) => (d: Domain, b: Uint8Array) => signers[i]!.sign(d, b);

describe('a replica of epoch 1', () => {
  it('starts from the base block: window (B, B+L], the base as its stable checkpoint without signatures', () => {
    const r = epochReplica();
    const st = r.status();
    expect(st.stableSeq).toBe(BASE);
    expect(st.lastExecuted).toBe(BASE);
    expect(st.highWatermark).toBe(BASE + params.watermarkWindow);
    expect(r.stableCheckpoint()).toEqual({ seq: BASE, headerHash: baseHash, signatures: [] });
  });

  it('accepts a PRE-PREPARE of its own epoch above the base and prepares it in its domain', () => {
    const r = epochReplica();
    const b = batch([tx(1)]);
    const m = withSignature({ ...pp(BASE + 1, b), chainId: E1 }, sign(0));
    const out = r.step({ now: T0, type: 'message', message: m });
    expect(drops(out)).toEqual([]);
    const sent = out.find((o) => o.type === 'broadcast');
    expect(sent?.type === 'broadcast' && sent.message.type === 'prepare' && sent.message.chainId).toBe(E1);
  });

  it('drops votes of another epoch (the same validators, signing for epoch 0) as wrongChain', () => {
    const r = epochReplica();
    const b = batch([tx(1)]);
    expect(drops(r.step({ now: T0, type: 'message', message: pp(BASE + 1, b) }))).toEqual([
      DropReason.wrongChain,
    ]);
    // Re-labelled with the epoch's chain id, an epoch-0 signature does not verify.
    const old = prepare(2, 0, BASE + 1, new Uint8Array(32));
    const relabelled: Prepare = { ...old, chainId: E1 };
    expect(drops(r.step({ now: T0, type: 'message', message: relabelled }))).toEqual([
      DropReason.badSignature,
    ]);
  });

  it('judges checkpoint proofs against its base: none below it, the base only without signatures', () => {
    const r = epochReplica();
    const ctx = { ...r.quorumContext() };
    expect(() => verifyCheckpointProof(ctx, r.stableCheckpoint(), DropReason.badCheckpoint)).not.toThrow();
    expect(
      codeOf(() =>
        verifyCheckpointProof(
          ctx,
          { seq: 0, headerHash: SIM_GENESIS_HASH, signatures: [] },
          DropReason.badCheckpoint,
        ),
      ),
    ).toBe(DropReason.badCheckpoint);
    expect(
      codeOf(() =>
        verifyCheckpointProof(
          ctx,
          { seq: BASE, headerHash: sha256(baseHash), signatures: [] },
          DropReason.badCheckpoint,
        ),
      ),
    ).toBe(DropReason.badCheckpoint);
  });

  it('refuses to start below its base', () => {
    expect(
      codeOf(() =>
        Replica.create(
          {
            chainId: E1,
            validators: epochSet,
            self: 1,
            params,
            genesisHash: SIM_GENESIS_HASH,
            base: { seq: BASE, headerHash: baseHash },
            signer: signers[1]!,
            verify: simVerify,
          },
          { height: BASE - 1, hash: baseHash, time: T0 },
        ),
      ),
    ).toBe('CONSENSUS_CONFIG');
  });
});
