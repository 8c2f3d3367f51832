import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsensusDriver, MAX_DEFERRED_PRE_PREPARES } from '../../../src/consensus/driver.ts';
import { MemoryConsensusStore } from '../../../src/consensus/memory-store.ts';
import {
  type ConsensusMessage,
  decodeMessage,
  encodeMessage,
  type PrePrepare,
  withSignature,
} from '../../../src/consensus/messages.ts';
import type { PersistOp } from '../../../src/consensus/persist.ts';
import { RecordKey, readPersisted } from '../../../src/consensus/persist.ts';
import { batchDigest } from '../../../src/core/batch.ts';
import { verifyCommitCertificate } from '../../../src/core/block.ts';
import { equalBytes } from '../../../src/core/bytes.ts';
import { SystemTimers } from '../../../src/core/clock.ts';
import { DEFAULT_CONSENSUS_PARAMS } from '../../../src/core/params.ts';
import { envelope, type TxEnvelope } from '../../../src/core/tx.ts';
import { consensusChainId, type ValidatorSet } from '../../../src/core/validators.ts';
import { FakeChain, ManualClock, ManualTimers, MemoryNetwork } from '../../helpers/consensus-doubles.ts';
import { sampleTx, testSigner } from '../../helpers/fixtures.ts';
import { SIM_GENESIS_HASH, SIM_GENESIS_TIME } from '../../sim/ledger.ts';

const CHAIN = 'jrchain-test';
/** The chain identity the driver's epoch-0 instance signs (ADR 010). */
const SIGNED_ID = consensusChainId(CHAIN, SIM_GENESIS_HASH, 0);
const signers = Array.from({ length: 4 }, (_, i) => testSigner(`validator-${i}`));
const set: ValidatorSet = {
  validators: signers.map((s, i) => ({ institution: `bank-${i}`, publicKey: s.publicKey })),
};
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

/** Counts writes in progress, so a test can assert nothing is sent meanwhile. */
class SlowStore extends MemoryConsensusStore {
  writing = 0;
  override async write(ops: readonly PersistOp[]): Promise<void> {
    this.writing++;
    await new Promise((r) => setImmediate(r));
    await super.write(ops);
    this.writing--;
  }
}

interface Node {
  i: number;
  driver: ConsensusDriver;
  store: SlowStore;
  chain: FakeChain;
  timers: ManualTimers;
  drops: string[];
  fatal: unknown[];
  /** (seq, txs in the block) of every block committed through consensus. */
  commits: [number, number][];
}

class Cluster {
  readonly clock = new ManualClock(SIM_GENESIS_TIME + 1000);
  readonly net = new MemoryNetwork(4);
  readonly nodes: Node[] = [];

  async add(
    i: number,
    store = new SlowStore(),
    chain = new FakeChain(CHAIN, set),
    maxQueuedInputs?: number,
  ): Promise<Node> {
    const timers = new ManualTimers(this.clock);
    const drops: string[] = [];
    const fatal: unknown[] = [];
    const commits: [number, number][] = [];
    const driver = new ConsensusDriver({
      config: {
        chainId: CHAIN,
        genesisHash: SIM_GENESIS_HASH,
        signer: signers[i]!,
      },
      // A fixed set: epoch 0 that never ends.
      epochs: chain.epochs(params),
      transport: this.net.transport(i),
      clock: this.clock,
      timers,
      store,
      chain,
      sync: { requestTransfer: (seq, hash) => this.transfer(i, seq, hash) },
      fetcher: { fetch: () => {} },
      events: {
        onDrop: (reason) => drops.push(reason),
        onFatal: (e) => fatal.push(e),
        onCommit: (seq, _hash, block) => commits.push([seq, block.txs.length]),
      },
      maxQueuedInputs,
    });
    await driver.start();
    const node = { i, driver, store, chain, timers, drops, fatal, commits };
    this.nodes[i] = node;
    return node;
  }

  /** State transfer double: copies certified blocks from a peer whose ledger has the target hash. */
  private transfer(i: number, seq: number, hash: Uint8Array): void {
    setImmediate(() => {
      const me = this.nodes[i]!;
      const source = this.nodes.find(
        (n) => n && n !== me && equalBytes(n.chain.ledger.hashAt(seq) ?? new Uint8Array(), hash),
      );
      if (source === undefined) return;
      const copied = me.chain.ledger.copyFrom(source.chain.ledger, seq);
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
    });
  }

  async settle(): Promise<void> {
    let quiet = 0;
    for (let round = 0; round < 100_000; round++) {
      await new Promise((r) => setImmediate(r));
      await Promise.all(this.nodes.map((n) => n?.driver.idle()));
      const stores = this.nodes.every((n) => n === undefined || n.store.writing === 0);
      quiet = !this.net.busy && stores ? quiet + 1 : 0;
      if (quiet > 3) return;
    }
    throw new Error('cluster did not settle');
  }

  async advance(ms: number): Promise<void> {
    this.clock.t += ms;
    for (const n of this.nodes) n?.timers.fireDue();
    await this.settle();
  }

  submit(txs: TxEnvelope[], to = this.nodes.filter(Boolean)): void {
    for (const tx of txs) for (const n of to) n.driver.txArrived(tx);
  }
}

function txs(from: number, count: number): TxEnvelope[] {
  return Array.from({ length: count }, (_, k) => envelope(sampleTx({ nonce: from + k })));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ConsensusDriver', () => {
  it('four drivers commit the same blocks, with Ed25519 commit certificates that verify', async () => {
    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    c.submit(txs(1, 12));
    for (let k = 0; k < 5; k++) await c.advance(20);
    const heights = c.nodes.map((n) => n.chain.head().height);
    expect(heights).toEqual([3, 3, 3, 3]);
    for (const n of c.nodes) {
      expect(n.fatal).toEqual([]);
      for (const b of n.chain.ledger.blocks) {
        expect(() => verifyCommitCertificate(b.cert!, b.block.header, set, SIM_GENESIS_HASH)).not.toThrow();
        expect(
          equalBytes(b.block.hash, c.nodes[0]!.chain.ledger.blocks[b.block.header.height - 1]!.block.hash),
        ).toBe(true);
      }
    }
    expect(c.nodes[0]!.chain.ledger.blocks.reduce((sum, b) => sum + b.block.txs.length, 0)).toBe(12);
  });

  it('persists every vote before sending it, and sends nothing while a write is in flight', async () => {
    const c = new Cluster();
    const problems: string[] = [];
    c.net.onSend = (from, _to, bytes) => {
      if (from < 0) return;
      const node = c.nodes[from]!;
      if (node.store.writing > 0) problems.push(`node ${from} sent during a write`);
      const m = decodeMessage(bytes);
      const vote =
        'seq' in m ? readPersisted(recordAt(node.store, RecordKey.vote(m.seq))).votes.get(m.seq) : undefined;
      const value = (x: Uint8Array | undefined, want: Uint8Array) => x !== undefined && equalBytes(x, want);
      if (m.type === 'prepare' && !(vote?.view === m.view && value(vote.prepare, m.digest))) {
        problems.push(`PREPARE ${m.seq} sent before it was persisted`);
      }
      if (m.type === 'commit' && !(vote?.view === m.view && value(vote.commit, m.headerHash))) {
        problems.push(`COMMIT ${m.seq} sent before it was persisted`);
      }
      if (m.type === 'prePrepare' && !(vote?.view === m.view && value(vote.prePrepare, m.digest))) {
        problems.push(`PRE-PREPARE ${m.seq} sent before it was persisted`);
      }
    };
    for (let i = 0; i < 4; i++) await c.add(i);
    c.submit(txs(100, 9));
    for (let k = 0; k < 4; k++) await c.advance(20);
    expect(c.nodes.map((n) => n.chain.head().height)).toEqual([2, 2, 2, 2]);
    expect(problems).toEqual([]);
  });

  it('a restarted driver resumes from its store: same view and checkpoint, no double-signing, keeps committing', async () => {
    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    c.submit(txs(200, 10));
    for (let k = 0; k < 4; k++) await c.advance(20);
    // Force a view change so the restart has something to remember: cut the primary off.
    c.net.cut.add(0);
    c.submit(txs(300, 3));
    await c.advance(1100);
    await c.advance(600);
    c.net.cut.delete(0);
    await c.advance(20);
    const before = c.nodes[2]!.driver.status();
    expect(before.view).toBeGreaterThanOrEqual(1);
    await c.nodes[2]!.driver.stop();
    const reborn = await c.add(2, c.nodes[2]!.store, c.nodes[2]!.chain);
    await c.settle();
    const after = reborn.driver.status();
    expect(after.view).toBe(before.view);
    expect(after.stableSeq).toBe(before.stableSeq);
    c.submit(txs(400, 6));
    for (let k = 0; k < 4; k++) await c.advance(20);
    // The old primary was cut off: it catches up by state transfer, then joins view 1 after its request timeout.
    await c.advance(1000);
    await c.advance(20);
    const heads = c.nodes.map((n) => n.chain.head().height);
    expect(new Set(heads).size).toBe(1);
    expect(heads[0]).toBeGreaterThan(before.lastExecuted);
    // No validator ever signed two different values for one (type, view, seq).
    const signed = new Map<string, string>();
    for (const [from, , bytes] of c.net.log) {
      if (from < 0) continue;
      const m = decodeMessage(bytes);
      const key = voteKey(m);
      if (key === undefined) continue;
      const value = Buffer.from(
        m.type === 'commit' || m.type === 'checkpoint' ? m.headerHash : (m as PrePrepare).digest,
      ).toString('hex');
      expect(signed.get(`${from}/${key}`) ?? value, `${from}/${key}`).toBe(value);
      signed.set(`${from}/${key}`, value);
    }
  });

  it('a timer that fires for a view the core has left is dropped as stale', async () => {
    const c = new Cluster();
    const backup = await c.add(1);
    c.submit(txs(500, 1), [backup]);
    await c.settle();
    const request = backup.timers.armed.find((t) => t.key === 'request');
    expect(request).toBeDefined();
    await c.advance(1000);
    expect(backup.driver.status()).toMatchObject({ view: 1, status: 'viewChange' });
    request!.fire();
    await c.settle();
    expect(backup.drops).toContain('staleTimer');
  });

  it('drops a PRE-PREPARE holding a tx the ledger refuses, and undecodable bytes', async () => {
    const c = new Cluster();
    const backup = await c.add(1);
    const [bad] = txs(600, 1);
    backup.chain.refused.add(bad!.hashHex);
    const batch = { proposer: 0, view: 0, time: c.clock.t, txs: [bad!] };
    const pp = withSignature<PrePrepare>(
      { type: 'prePrepare', chainId: SIGNED_ID, from: 0, view: 0, seq: 1, batch, digest: batchDigest(batch) },
      (d, b) => signers[0]!.sign(d, b),
    );
    c.net.inject(1, encodeMessage(pp));
    c.net.inject(1, new Uint8Array([1, 2, 3]));
    await c.settle();
    expect(backup.drops).toEqual(expect.arrayContaining(['invalidTx', 'malformed']));
    expect(c.net.log.filter(([from]) => from === 1)).toEqual([]);
  });

  it("checks a PRE-PREPARE's txs in one Chain.checkTxs call, and refuses it for any one bad tx", async () => {
    const c = new Cluster();
    const backup = await c.add(1);
    const batchTxs = txs(650, 4);
    backup.chain.refused.add(batchTxs[2]!.hashHex);
    const batch = { proposer: 0, view: 0, time: c.clock.t, txs: batchTxs };
    const pp = withSignature<PrePrepare>(
      { type: 'prePrepare', chainId: SIGNED_ID, from: 0, view: 0, seq: 1, batch, digest: batchDigest(batch) },
      (d, b) => signers[0]!.sign(d, b),
    );
    c.net.inject(1, encodeMessage(pp));
    await c.settle();
    expect(backup.chain.checkTxsCalls).toBe(1);
    expect(backup.drops).toEqual(['invalidTx']);
    expect(c.net.log.filter(([from]) => from === 1)).toEqual([]);
  });

  /**
   * Node 1 is cut off while the others commit seq 1, then seq 2 with a tx node 1's chain refuses until its head
   * reaches `validFrom` (as an approval of a proposal in block `validFrom`); then it gets seq 2's messages (not
   * seq 1's) and, once they are processed, block 1 by state sync.
   */
  async function laggingBackup(validFrom: number) {
    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    const lagging = c.nodes[1]!;
    const others = [c.nodes[0]!, c.nodes[2]!, c.nodes[3]!];
    c.net.cut.add(1);
    c.submit(txs(1000, 1), others);
    await c.settle();
    await c.advance(20);
    const [later] = txs(1010, 1);
    lagging.chain.refusedBelow.set(later!.hashHex, validFrom);
    c.submit([later!], others);
    await c.settle();
    await c.advance(20);
    expect(c.nodes.map((n) => n.chain.head().height)).toEqual([2, 0, 2, 2]);
    const seq2 = c.net.log.filter(([from, to, bytes]) => {
      const m = decodeMessage(bytes);
      return from >= 0 && to === 1 && m.type !== 'checkpoint' && 'seq' in m && m.seq === 2;
    });
    expect(seq2.map(([, , b]) => decodeMessage(b).type)).toContain('prePrepare');
    c.net.cut.delete(1);
    for (const [, , bytes] of seq2) c.net.inject(1, bytes);
    await c.settle();
    const afterMessages = { drops: [...lagging.drops], commits: [...lagging.commits] };
    const copied = lagging.chain.ledger.copyFrom(c.nodes[0]!.chain.ledger, 1);
    const head = lagging.chain.head();
    lagging.driver.stateTransferred(
      head.height,
      head.hash,
      copied.map((b) => ({ seq: 1, headerHash: b.block.hash, txHashes: b.block.txs.map((t) => t.hash) })),
    );
    await c.settle();
    return { lagging, afterMessages };
  }

  it('judges a PRE-PREPARE above head + 1 again at seq − 1: a tx valid only after a block it had not executed', async () => {
    const { lagging, afterMessages } = await laggingBackup(1);
    // Judged against genesis the tx is refused, but the batch builds on block 1: held, not dropped.
    expect(afterMessages).toEqual({ drops: [], commits: [] });
    // Block 1 stored by state sync: the PRE-PREPARE for 2 passes, and node 1 commits 2 through consensus.
    expect(lagging.commits).toEqual([[2, 1]]);
    expect(lagging.drops).toEqual([]);
    expect(lagging.fatal).toEqual([]);
  });

  it('drops a held PRE-PREPARE whose tx is still refused at seq − 1', async () => {
    const { lagging, afterMessages } = await laggingBackup(2);
    expect(afterMessages.drops).toEqual([]);
    expect(lagging.drops).toContain('invalidTx');
    expect(lagging.commits).toEqual([]);
  });

  it('holds at most MAX_DEFERRED_PRE_PREPARES PRE-PREPAREs for a later head; beyond that one is dropped at once', async () => {
    const c = new Cluster();
    const node = await c.add(1);
    const [bad] = txs(1100, 1);
    node.chain.refusedBelow.set(bad!.hashHex, 100);
    for (let seq = 2; seq <= MAX_DEFERRED_PRE_PREPARES + 2; seq++) {
      const batch = { proposer: 0, view: 0, time: c.clock.t, txs: [bad!] };
      const pp = withSignature<PrePrepare>(
        { type: 'prePrepare', chainId: SIGNED_ID, from: 0, view: 0, seq, batch, digest: batchDigest(batch) },
        (d, b) => signers[0]!.sign(d, b),
      );
      c.net.inject(1, encodeMessage(pp));
    }
    await c.settle();
    expect(node.drops).toEqual(['invalidTx']);
  });

  it('sheds inbound messages when its input queue is full', async () => {
    const c = new Cluster();
    const node = await c.add(1, new SlowStore(), new FakeChain(CHAIN, set), 2);
    for (let k = 0; k < 10; k++) c.net.injectNow(1, new Uint8Array([9]));
    await c.settle();
    expect(node.drops).toContain('overloaded');
  });

  it('takes pre-validated messages: receive() resolves once each is processed, and on stop', async () => {
    const c = new Cluster();
    const backup = await c.add(1);
    const [t] = txs(800, 1);
    const batch = { proposer: 0, view: 0, time: c.clock.t, txs: [t!] };
    const pp = withSignature<PrePrepare>(
      { type: 'prePrepare', chainId: SIGNED_ID, from: 0, view: 0, seq: 1, batch, digest: batchDigest(batch) },
      (d, b) => signers[0]!.sign(d, b),
    );
    let processed = false;
    const done = backup.driver.receive(pp).then(() => {
      processed = true;
    });
    expect(processed).toBe(false);
    await done;
    // Processing it made the backup PREPARE (the core accepted it without decoding it again).
    expect(c.net.log.some(([from, , bytes]) => from === 1 && decodeMessage(bytes).type === 'prepare')).toBe(
      true,
    );
    await backup.driver.stop();
    await backup.driver.receive(pp); // a stopped driver settles at once
  });

  it('skips Chain.checkTx for a tx the mempool already checked', async () => {
    const c = new Cluster();
    const node = await c.add(1);
    const [t] = txs(900, 1);
    node.chain.refused.add(t!.hashHex);
    node.driver.txArrived(t!, true);
    await c.settle();
    expect(node.drops).not.toContain('invalidTx');
    expect(node.driver.status().pendingTxs).toBe(1);
    node.driver.txArrived(txs(901, 1)[0]!);
    await c.settle();
    expect(node.driver.status().pendingTxs).toBe(2);
  });

  it('takes txs the mempool checked in one job (txsArrived), without checking them again', async () => {
    const lone = new Cluster();
    const node = await lone.add(1);
    const batch = txs(950, 3);
    node.chain.refused.add(batch[0]!.hashHex);
    node.driver.txsArrived(batch);
    node.driver.txsArrived([]);
    await lone.settle();
    expect(node.drops).toEqual([]);
    expect(node.driver.status().pendingTxs).toBe(3);

    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    for (const n of c.nodes) n.driver.txsArrived(txs(960, 5));
    for (let k = 0; k < 3; k++) await c.advance(20);
    expect(c.nodes.map((n) => n.commits)).toEqual([[[1, 5]], [[1, 5]], [[1, 5]], [[1, 5]]]);
  });

  it('reports each committed block with the block itself', async () => {
    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    c.submit(txs(1000, 5));
    for (let k = 0; k < 3; k++) await c.advance(20);
    expect(c.nodes.map((n) => n.commits)).toEqual([[[1, 5]], [[1, 5]], [[1, 5]], [[1, 5]]]);
  });

  it('stops on a ledger failure and reports it', async () => {
    const c = new Cluster();
    for (let i = 0; i < 4; i++) await c.add(i);
    c.nodes[3]!.chain.failCommit = true;
    c.submit(txs(700, 5));
    for (let k = 0; k < 3; k++) await c.advance(20);
    expect(c.nodes[3]!.fatal).toHaveLength(1);
    expect(c.nodes[3]!.driver.fatal).toBeInstanceOf(Error);
    expect(c.nodes.slice(0, 3).map((n) => n.chain.head().height)).toEqual([1, 1, 1]);
  });
});

describe('SystemTimers', () => {
  it('re-arming a key replaces the pending timer; clearAll cancels', () => {
    vi.useFakeTimers();
    const timers = new SystemTimers();
    const fired: string[] = [];
    timers.set('request', 100, () => fired.push('first'));
    timers.set('request', 200, () => fired.push('second'));
    vi.advanceTimersByTime(150);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['second']);
    timers.set('batch', 50, () => fired.push('batch'));
    timers.clearAll();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['second']);
  });
});

function recordAt(store: MemoryConsensusStore, key: string): [string, Uint8Array][] {
  const v = store.get(key);
  return v === undefined ? [] : [[key, v]];
}

function voteKey(m: ConsensusMessage): string | undefined {
  switch (m.type) {
    case 'prePrepare':
    case 'prepare':
    case 'commit':
      return `${m.type}/${m.view}/${m.seq}`;
    case 'checkpoint':
      return `checkpoint/${m.seq}`;
    default:
      return undefined;
  }
}
