/** The service that commits the node's audit log head to the chain (ADR 015). */
import { describe, expect, it } from 'vitest';
import { decodeAuditHead } from '../../../src/core/audit-head.ts';
import { toHex } from '../../../src/core/bytes.ts';
import type { Timers } from '../../../src/core/clock.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { type TxEnvelope, txHashFromBytes, verifyTxEnvelope } from '../../../src/core/tx.ts';
import type { TxRejection } from '../../../src/ledger/chain.ts';
import { AuditAnchoring } from '../../../src/node/audit-anchoring.ts';
import { TEST_CHAIN_ID, validatorSigners } from '../../helpers/fixtures.ts';
import { smValidatorKey } from '../../helpers/sm-chain.ts';

function harness(sm = false) {
  const s = {
    now: 1_000,
    head: { seq: 0, hash: '00'.repeat(32) },
    committed: 0,
    refuse: undefined as TxRejection | undefined,
    submitted: [] as TxEnvelope[],
    warnings: [] as string[],
    fire: undefined as (() => void) | undefined,
  };
  const timers: Timers = {
    set: (_key, _ms, fire) => {
      s.fire = fire;
    },
    clearAll: () => {
      s.fire = undefined;
    },
  };
  const service = new AuditAnchoring(
    {
      chainId: TEST_CHAIN_ID,
      institution: 'bank-a',
      ...(sm ? { signer: smValidatorKey(0).signer, suite: SM2_SM3 } : { signer: validatorSigners()[0]! }),
      head: () => s.head,
      committed: async () => s.committed,
      submit: async (env) => {
        if (s.refuse !== undefined) return s.refuse;
        s.submitted.push(env);
        return undefined;
      },
      warn: (m) => s.warnings.push(m),
    },
    { intervalMs: 1000, clock: { now: () => s.now }, timers },
  );
  return { s, service };
}

const seqs = (envs: TxEnvelope[]) => envs.map((e) => decodeAuditHead(e.tx.payload).seq);

describe('AuditAnchoring', () => {
  it('on an SM chain (ADR 014) the audit tx is SM2-signed and hashed with SM3, as the chain re-reads it', async () => {
    const { s, service } = harness(true);
    s.head = { seq: 2, hash: toHex(new Uint8Array(32).fill(9)) };
    await service.tick();
    const env = s.submitted[0]!;
    expect(env.hashHex).toBe(toHex(txHashFromBytes(env.bytes, SM2_SM3)));
    expect(verifyTxEnvelope(env, smValidatorKey(0).publicKey, SM2_SM3)).toBe(true);
  });

  it('submits the head when the log grew past the committed one, once per head until its tx expires', async () => {
    const { s, service } = harness();
    await service.tick();
    expect(s.submitted).toEqual([]); // an empty log has nothing to commit
    s.head = { seq: 3, hash: toHex(new Uint8Array(32).fill(7)) };
    await service.tick();
    await service.tick();
    expect(seqs(s.submitted)).toEqual([3]);
    const tx = s.submitted[0]!.tx;
    expect([tx.type, tx.institution, tx.keyId]).toEqual(['audit', 'bank-a', 'validator']);
    expect(toHex(decodeAuditHead(tx.payload).hash)).toBe(s.head.hash);
    // Not committed in time: submitted again after the ttl.
    s.now += 60_001;
    await service.tick();
    expect(seqs(s.submitted)).toEqual([3, 3]);
    // Committed: nothing more until the log grows.
    s.committed = 3;
    s.now += 60_001;
    await service.tick();
    s.head = { ...s.head, seq: 5 };
    await service.tick();
    expect(seqs(s.submitted)).toEqual([3, 3, 5]);
  });

  it('retries a refused head at the next tick, runs on its timer, and submits once more at stop', async () => {
    const { s, service } = harness();
    s.head = { seq: 2, hash: '11'.repeat(32) };
    s.refuse = { hash: new Uint8Array(32), code: 'TX_MEMPOOL_FULL', message: 'full' };
    service.start();
    s.fire!();
    await flush();
    expect(s.warnings).toEqual(['audit head not submitted']);
    s.refuse = undefined;
    s.head = { seq: 4, hash: '22'.repeat(32) };
    await service.stop();
    expect(seqs(s.submitted)).toEqual([4]);
    expect(s.fire).toBeUndefined();
  });
});

/** Lets the timer's tick (a promise chain) run. */
const flush = () => new Promise((r) => setImmediate(r));
