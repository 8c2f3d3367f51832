/**
 * The production driver across a validator-set change (ADR 006): four drivers commit a reconfiguration that
 * adds a fifth key; each switches instances after the boundary block (deleting the old epoch's records), the
 * fifth follows the chain by state transfer while outside the set and starts voting once in it; the new set
 * (n = 5, quorum 4) commits blocks whose certificates verify only in the new epoch's domain; a restarted driver
 * resumes in the right epoch; later a removal leaves the removed driver without an instance.
 */

import { describe, expect, it } from 'vitest';
import { ConsensusDriver, EPOCH_RECORD_KEY } from '../../../src/consensus/driver.ts';
import { MemoryConsensusStore } from '../../../src/consensus/memory-store.ts';
import { CertErrorCode, verifyCommitCertificate } from '../../../src/core/block.ts';
import { equalBytes, toHex } from '../../../src/core/bytes.ts';
import { DEFAULT_CONSENSUS_PARAMS } from '../../../src/core/params.ts';
import { envelope, type TxEnvelope } from '../../../src/core/tx.ts';
import type { ValidatorSet } from '../../../src/core/validators.ts';
import { FakeChain, ManualClock, ManualTimers, MemoryNetwork } from '../../helpers/consensus-doubles.ts';
import { codeOf } from '../../helpers/errors.ts';
import { sampleTx, testSigner } from '../../helpers/fixtures.ts';
import { SIM_GENESIS_HASH, SIM_GENESIS_TIME } from '../../sim/ledger.ts';
import { reconfigTx } from '../../sim/txs.ts';

const CHAIN = 'jrchain-test';
const signers = Array.from({ length: 5 }, (_, i) => testSigner(`validator-${i}`));
const keys = signers.map((s, i) => ({ institution: `bank-${i}`, publicKey: s.publicKey }));
const genesisSet: ValidatorSet = { validators: keys.slice(0, 4) };
const params = {
  ...DEFAULT_CONSENSUS_PARAMS,
  maxBatchTxs: 5,
  maxBatchWaitMs: 10,
  checkpointInterval: 2,
  watermarkWindow: 8,
  requestTimeoutMs: 1000,
  viewChangeTimeoutMs: 500,
  viewChangeTimeoutMaxMs: 4000,
};

interface Node {
  i: number;
  driver: ConsensusDriver;
  store: MemoryConsensusStore;
  chain: FakeChain;
  timers: ManualTimers;
  fatal: unknown[];
  epochs: [number, number | undefined][];
}

class Cluster {
  readonly clock = new ManualClock(SIM_GENESIS_TIME + 1000);
  readonly net = new MemoryNetwork(5);
  readonly nodes: Node[] = [];

  async add(
    i: number,
    store = new MemoryConsensusStore(),
    chain = new FakeChain(CHAIN, genesisSet, undefined, keys),
  ) {
    const timers = new ManualTimers(this.clock);
    const fatal: unknown[] = [];
    const epochs: [number, number | undefined][] = [];
    const driver = new ConsensusDriver({
      config: {
        chainId: CHAIN,
        genesisHash: SIM_GENESIS_HASH,
        signer: signers[i]!,
      },
      transport: this.net.transport(i),
      clock: this.clock,
      timers,
      store,
      chain,
      sync: { requestTransfer: (seq, hash) => this.transfer(i, seq, hash) },
      fetcher: { fetch: () => {} },
      events: { onFatal: (e) => fatal.push(e), onEpoch: (e, self) => epochs.push([e.epoch, self]) },
      epochs: chain.epochs(params),
    });
    await driver.start();
    const node = { i, driver, store, chain, timers, fatal, epochs };
    this.nodes[i] = node;
    return node;
  }

  /** The state sync double: copies certified blocks (stopping at an epoch's end) and reports them. */
  catchUp(i: number, from: number): void {
    const me = this.nodes[i]!;
    const copied = me.chain.ledger.copyFrom(
      this.nodes[from]!.chain.ledger,
      this.nodes[from]!.chain.head().height,
    );
    const head = me.chain.head();
    me.driver.stateTransferred(
      head.height,
      head.hash,
      copied.map((b) => ({
        seq: b.block.header.height,
        headerHash: b.block.hash,
        txHashes: b.block.txs.map((t) => t.hash),
      })),
    );
  }

  private transfer(i: number, seq: number, hash: Uint8Array): void {
    setImmediate(() => {
      const source = this.nodes.find(
        (n) => n && n.i !== i && equalBytes(n.chain.ledger.hashAt(seq) ?? new Uint8Array(), hash),
      );
      if (source !== undefined) this.catchUp(i, source.i);
    });
  }

  async settle(): Promise<void> {
    let quiet = 0;
    for (let round = 0; round < 100_000; round++) {
      await new Promise((r) => setImmediate(r));
      await Promise.all(this.nodes.map((n) => n?.driver.idle()));
      quiet = !this.net.busy ? quiet + 1 : 0;
      if (quiet > 3) return;
    }
    throw new Error('cluster did not settle');
  }

  async advance(ms: number, times = 1): Promise<void> {
    for (let k = 0; k < times; k++) {
      this.clock.t += ms;
      for (const n of this.nodes) n?.timers.fireDue();
      await this.settle();
    }
  }

  submit(txs: TxEnvelope[], to = [0, 1, 2, 3]): void {
    for (const tx of txs) for (const i of to) this.nodes[i]?.driver.txArrived(tx);
  }
}

const txs = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => envelope(sampleTx({ nonce: from + k })));

describe('ConsensusDriver across epochs', () => {
  it('adds a fifth validator: switch at the boundary, the joiner syncs then votes, n = 5 with quorum 4', async () => {
    const c = new Cluster();
    for (let i = 0; i < 5; i++) await c.add(i);
    expect(c.nodes[4]!.driver.currentEpoch()).toEqual({ epoch: 0, member: false });
    c.submit([...txs(1, 4), reconfigTx([0, 1, 2, 3, 4], 'join')]);
    await c.advance(20, 5);
    const boundary = c.nodes[0]!.chain.ledger.epochs[1]!.firstHeight - 1;
    expect(boundary).toBeGreaterThan(0);
    for (const i of [0, 1, 2, 3]) {
      expect(c.nodes[i]!.driver.currentEpoch()).toEqual({ epoch: 1, member: true });
      expect(c.nodes[i]!.epochs).toEqual([
        [0, i],
        [1, i],
      ]);
      // The old epoch's records are gone; the store names the epoch its records belong to.
      const records = await c.nodes[i]!.store.load();
      expect(records.find(([k]) => k === EPOCH_RECORD_KEY)?.[1]).toEqual(new TextEncoder().encode('1'));
    }
    // The joiner is outside the set until it has the boundary block: it follows by state sync, then votes.
    expect(c.nodes[4]!.chain.head().height).toBe(0);
    c.catchUp(4, 0);
    await c.settle();
    expect(c.nodes[4]!.chain.head().height).toBe(boundary);
    expect(c.nodes[4]!.driver.currentEpoch()).toEqual({ epoch: 1, member: true });
    expect(c.nodes[4]!.epochs).toEqual([
      [0, undefined],
      [1, 4],
    ]);

    // Epoch 1 with a quorum of 4 of 5: it commits even with one of the old validators cut off...
    c.net.cut.add(3);
    c.submit(txs(100, 6), [0, 1, 2, 4]);
    await c.advance(20, 6);
    const head = c.nodes[0]!.chain.head().height;
    expect(head).toBeGreaterThan(boundary);
    for (const i of [1, 2, 4]) expect(c.nodes[i]!.chain.head().height).toBe(head);
    const set1 = c.nodes[0]!.chain.ledger.epochAt(head).set;
    expect(set1.validators).toHaveLength(5);
    for (const b of c.nodes[0]!.chain.ledger.blocks.slice(boundary)) {
      expect(b.cert!.signatures.length).toBeGreaterThanOrEqual(4);
      expect(() => verifyCommitCertificate(b.cert!, b.block.header, set1, SIM_GENESIS_HASH)).not.toThrow();
      // The same signers in the genesis epoch's domain: not a certificate.
      expect(
        codeOf(() =>
          verifyCommitCertificate(b.cert!, b.block.header, { validators: set1.validators }, SIM_GENESIS_HASH),
        ),
      ).toBe(CertErrorCode.badSignature);
    }
    // ... and the fifth validator signed some of them.
    expect(
      c.nodes[0]!.chain.ledger.blocks.slice(boundary).some((b) =>
        b.cert!.signatures.some((s) => s.validator === 4),
      ),
    ).toBe(true);
    // ... but not with two of five away (3 < quorum 4).
    c.net.cut.add(2);
    c.submit(txs(200, 3), [0, 1, 4]);
    await c.advance(20, 5);
    expect(c.nodes[0]!.chain.head().height).toBe(head);
    for (const n of c.nodes) expect(n.fatal).toEqual([]);
  });

  it('a restarted driver resumes in its epoch; a removed validator keeps no instance', async () => {
    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    c.submit([...txs(1, 3), reconfigTx([0, 1, 2], 'remove 3')]);
    await c.advance(20, 5);
    for (const i of [0, 1, 2]) expect(c.nodes[i]!.driver.currentEpoch()).toEqual({ epoch: 1, member: true });
    expect(c.nodes[3]!.driver.currentEpoch()).toEqual({ epoch: 1, member: false });
    // Restart validator 1 on its store and ledger: it comes back in epoch 1, not in the old instance.
    const old = c.nodes[1]!;
    await old.driver.stop();
    const again = await c.add(1, old.store, old.chain);
    expect(again.driver.currentEpoch()).toEqual({ epoch: 1, member: true });
    expect(again.epochs).toEqual([[1, 1]]);
    c.submit(txs(50, 4), [0, 1, 2]);
    await c.advance(20, 6);
    const h = c.nodes[0]!.chain.head().height;
    expect(c.nodes[1]!.chain.head().height).toBe(h);
    expect(c.nodes[2]!.chain.head().height).toBe(h);
    // The removed validator's votes would not count: it sends none, and its ledger only moves by sync.
    expect(c.nodes[3]!.chain.head().height).toBeLessThan(h);
    c.catchUp(3, 0);
    await c.settle();
    expect(c.nodes[3]!.chain.head().height).toBe(h);
    expect(c.nodes[3]!.driver.currentEpoch()).toEqual({ epoch: 1, member: false });
    for (const n of c.nodes) expect(n.fatal).toEqual([]);
  });

  it('rounds of admitted txs follow the epochs: a round that spans the switch reaches the next instance; outside the set they are dropped', async () => {
    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    const before = txs(1, 2);
    const after = txs(10, 3);
    // One mempool round holds the set change and txs behind it (as Mempool.onAdmitted hands them over).
    for (const n of c.nodes) n!.driver.txsArrived([...before, reconfigTx([0, 1, 2], 'remove 3'), ...after]);
    await c.advance(20, 8);
    for (const i of [0, 1, 2]) expect(c.nodes[i]!.driver.currentEpoch()).toEqual({ epoch: 1, member: true });
    // Outside the set a round has nowhere to go, and the driver does not fail on it.
    c.nodes[3]!.driver.txsArrived(txs(50, 2));
    await c.settle();
    const committed = new Set(
      c.nodes[0]!.chain.ledger.blocks.flatMap((b) => b.block.txs.map((t) => toHex(t.hash))),
    );
    for (const t of [...before, ...after]) expect(committed.has(t.hashHex)).toBe(true);
    for (const n of c.nodes) expect(n.fatal).toEqual([]);
  });

  it('a member that missed the switch is suspended, catches up across the boundary, and votes in the new epoch', async () => {
    const c = new Cluster();
    for (let i = 0; i < 5; i++) await c.add(i);
    c.net.cut.add(3);
    c.submit([...txs(1, 3), reconfigTx([0, 1, 2, 3, 4], 'join')], [0, 1, 2]);
    await c.advance(20, 5);
    expect(c.nodes[0]!.driver.currentEpoch()).toEqual({ epoch: 1, member: true });
    expect(c.nodes[3]!.driver.currentEpoch()).toEqual({ epoch: 0, member: true });
    // Its epoch-0 instance cannot learn where epoch 0 ended: state sync stops it first (f+1 peers are ahead)...
    await c.nodes[3]!.driver.suspend();
    expect(c.nodes[3]!.driver.currentEpoch()).toEqual({ epoch: 0, member: false });
    // ... then stores the blocks up to the boundary, and the driver starts the epoch-1 instance.
    c.catchUp(3, 0);
    await c.settle();
    expect(c.nodes[3]!.driver.currentEpoch()).toEqual({ epoch: 1, member: true });
    c.catchUp(4, 0);
    await c.settle();
    c.net.cut.delete(3);
    c.net.cut.add(2);
    // Epoch 1 needs 4 of 5: with validator 2 away, the one that missed the switch is needed for every commit.
    const before = c.nodes[0]!.chain.head().height;
    c.submit(txs(300, 6), [0, 1, 3, 4]);
    await c.advance(20, 8);
    const head = c.nodes[0]!.chain.head().height;
    expect(head).toBeGreaterThan(before);
    expect(c.nodes[3]!.chain.head().height).toBe(head);
    const signed = c.nodes[0]!.chain.ledger.blocks.slice(before).some((b) =>
      b.cert!.signatures.some((x) => x.validator === 3),
    );
    expect(signed).toBe(true);
    for (const n of c.nodes) expect(n.fatal).toEqual([]);
  });
});
