/**
 * Validator-set changes on real validators (ValidatorService over libp2p and LevelDB, in one process; ADR 006).
 * Under a steady load, governance adds a fifth validator (it syncs from genesis, then votes: n=5, f=1, quorum
 * 4), removes one (it is disconnected and its node keeps no instance), and rotates a key (the validator restarts
 * with the new key and votes again; the old key is refused). Every tx acknowledged is committed, and every
 * node holds the same blocks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import type { GovernanceAction } from '../../../src/core/governance.ts';
import { keyPairFromSeed } from '../../../src/core/keys.ts';
import type { TxEnvelope } from '../../../src/core/tx.ts';
import { epochOf } from '../../../src/core/validators.ts';
import { LedgerQueries } from '../../../src/ledger/queries.ts';
import { receiptFor } from '../../../src/receipt/ledger-receipt.ts';
import { verifyReceipt } from '../../../src/receipt/receipt.ts';
import { governanceTx } from '../../helpers/fixtures.ts';
import { waitFor } from '../../helpers/p2p.ts';
import { liveTxs, type TestValidator, ValidatorCluster, validatorKey } from '../../helpers/validators.ts';

const cluster = new ValidatorCluster();
afterAll(() => cluster.stopAll(), 60_000);

/** Validator key i signs governance for institution `institution` (the fixture signs with genesis keys). */
function gov(record: Parameters<typeof governanceTx>[0], validator: number, key = validatorKey(validator)) {
  const institution = ['bank-a', 'bank-b', 'bank-c', 'bank-d', 'bank-e'][validator]!;
  return governanceTx(record, { institution, signer: key.signer, createdAt: Date.now() });
}

/** Proposes `action` by `by[0]` and approves it by the others, submitting each to its own node. */
async function pass(
  action: GovernanceAction,
  by: [number, ...number[]],
  keys: Record<number, ReturnType<typeof validatorKey>> = {},
) {
  const p = gov({ kind: 'propose', deadline: Date.now() + 600_000, action }, by[0], keys[by[0]]);
  const first = await cluster.node(by[0]).service.submit(p);
  expect(first.status, JSON.stringify(first)).not.toBe('rejected');
  // An approval is judged against committed state: it names a proposal the ledger already holds.
  for (const v of by.slice(1)) {
    const node = cluster.node(v);
    await waitFor(
      () => node.chain.governance.proposal(p.hashHex) !== undefined,
      'the proposal committed',
      60_000,
    );
    const r = await node.service.submit(gov({ kind: 'approve', proposalId: p.hash }, v, keys[v]));
    expect(r.status, JSON.stringify(r)).not.toBe('rejected');
  }
  // Every running member sees it passed before the next step (a node may trail by a block).
  for (const n of cluster.running) {
    await waitFor(
      () => n.chain.governance.proposal(p.hashHex)?.status === 'passed',
      `proposal ${action.type} passed on ${n.index}`,
      60_000,
    );
  }
  const n = cluster.node(by[0]);
  return n.chain.governance.proposal(p.hashHex)!;
}

/** A load generator: a few txs every 100 ms to running nodes; remembers what each node acknowledged. */
class Load {
  readonly acked: TxEnvelope[] = [];
  readonly #inFlight = new Set<Promise<unknown>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #k = 0;
  start(): void {
    this.#timer = setInterval(() => {
      const nodes = cluster.running.filter((n) => n.service.status().pendingTxs < 500);
      for (const tx of liveTxs(3, 'reconf')) {
        const node = nodes[this.#k++ % nodes.length];
        if (node === undefined) return;
        const p = node.service.submit(tx).then((r) => {
          if (r.status !== 'rejected') this.acked.push(tx);
        });
        this.#inFlight.add(p);
        void p.finally(() => this.#inFlight.delete(p));
      }
    }, 100);
  }
  /** Stops submitting and waits for the submissions in flight to be answered. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#inFlight]);
  }
}

function sameChain(nodes: TestValidator[], upTo: number): Promise<void> {
  return (async () => {
    const first = nodes[0]!.store;
    for (let h = 1; h <= upTo; h++) {
      const want = (await first.block(h))!.hash;
      for (const n of nodes.slice(1))
        expect(toHex((await n.store.block(h))!.hash), `height ${h} on ${n.index}`).toBe(toHex(want));
    }
  })();
}

describe('reconfiguration on real validators', () => {
  const load = new Load();

  afterAll(() => load.stop());

  it('a fifth validator joins under load, one is removed, a key is rotated; nothing acknowledged is lost, no fork', async () => {
    await cluster.startAll(4);
    await cluster.waitConnected();
    load.start();
    await cluster.waitHeight(5);

    // ---- join: register bank-e, add its validator; it syncs from genesis, then votes ----
    const bankE = keyPairFromSeed(sha256(utf8.encode('jrchain-test-key:bank-e/client-1')));
    await pass(
      {
        type: 'registerInstitution',
        id: 'bank-e',
        name: 'Bank E',
        clientKeys: [{ keyId: 'client-1', publicKey: bankE.publicKey }],
      },
      [0, 1, 2],
    );
    // Validator 2 is down while the set changes: it comes back as a member of an epoch that has ended.
    await cluster.stop(2);
    const added = await pass(
      { type: 'addValidator', institution: 'bank-e', publicKey: validatorKey(4).publicKey },
      [1, 3, 0],
    );
    const node4 = await cluster.start(4);
    // Bring it back once epoch 1 has blocks of its own: no head the others report is checkable by epoch 0.
    await cluster.waitHeight(
      added.effectiveHeight + 5,
      [cluster.node(0), cluster.node(1), cluster.node(3)],
      60_000,
    );
    const node2 = await cluster.start(2);
    // Its old instance cannot check the others' heads (another epoch): sync stops it on f+1 such peers, fetches
    // the blocks across the boundary, and the epoch-1 instance starts.
    await waitFor(
      () => node2.chain.head().height > added.effectiveHeight && node2.service.status().quorum === 4,
      'the validator that missed the switch caught up into epoch 1',
      90_000,
    );
    expect(node2.logger.find('the validators are in a later epoch')).not.toEqual([]);
    await waitFor(
      () => node4.chain.head().height >= added.effectiveHeight + 3,
      'the fifth validator synced past the switch',
      90_000,
    );
    for (const n of cluster.running) {
      await waitFor(() => n.service.status().quorum === 4, `quorum 4 on ${n.index}`, 30_000);
    }
    // It votes: its signature appears in certificates of blocks committed after it joined.
    await waitFor(
      () => node4.heights.length > 0,
      'the fifth validator committed blocks by consensus',
      90_000,
    );
    const signedBy4 = async () => {
      const head = cluster.node(0).chain.head().height;
      for (let h = added.effectiveHeight; h <= head; h++) {
        const b = await cluster.node(0).store.block(h);
        if (b?.cert.signatures.some((s) => s.validator === 4)) return true;
      }
      return false;
    };
    await waitFor(signedBy4, 'a certificate signed by the fifth validator', 60_000);

    // ---- remove bank-d: its node is left outside the set and disconnected from the others ----
    const removed = await pass({ type: 'removeValidator', institution: 'bank-d' }, [0, 1, 2, 4]);
    const node3 = cluster.node(3);
    await waitFor(
      () => node3.service.status().quorum === 3 || node3.chain.head().height >= removed.effectiveHeight,
      'node 3 reached the removal',
      60_000,
    );
    for (const i of [0, 1, 2, 4]) {
      await waitFor(() => cluster.node(i).service.status().quorum === 3, `quorum 3 of 4 on ${i}`, 30_000);
    }
    expect(epochOf(cluster.node(0).chain.validatorSetAt(cluster.node(0).chain.head().height + 1))).toBe(2);
    await cluster.stop(3);

    // ---- rotate bank-b's key: the node restarts with the new key and votes again ----
    const rotated = keyPairFromSeed(sha256(utf8.encode('jrchain-test-key:validator-1-rotated')));
    const rotation = await pass(
      { type: 'rotateValidatorKey', institution: 'bank-b', publicKey: rotated.publicKey },
      [1, 2, 4],
    );
    await cluster.waitHeight(
      rotation.effectiveHeight,
      [cluster.node(0), cluster.node(2), cluster.node(4)],
      60_000,
    );
    // The old key is no longer a validator key: its governance txs are refused.
    const byOld = gov(
      {
        kind: 'propose',
        deadline: Date.now() + 600_000,
        action: { type: 'removeValidator', institution: 'bank-e' },
      },
      1,
    );
    expect((await cluster.node(0).service.submit(byOld)).status).toBe('rejected');
    await cluster.stop(1);
    const node1 = await cluster.start(1, { key: rotated });
    const before = node1.heights.length;
    await waitFor(
      () => node1.heights.length > before + 2,
      'the rotated validator commits by consensus again',
      90_000,
    );

    // ---- the end: load stops, everything acknowledged is committed, one chain everywhere ----
    await load.stop();
    const live = [0, 1, 2, 4].map((i) => cluster.node(i));
    // A client resends what is not committed yet (a tx acknowledged by a node that then stopped may have been
    // in its mempool only); the ledger keeps each tx once whatever the resends.
    let round = 0;
    await waitFor(
      async () => {
        const found = await Promise.all(load.acked.map((t) => live[0]!.store.tx(t.hash)));
        const missing = load.acked.filter((_, k) => found[k] === undefined);
        if (missing.length > 0 && ++round % 50 === 0)
          for (const t of missing) void live[round % live.length]!.service.submit(t);
        return missing.length === 0;
      },
      'every acknowledged tx committed',
      90_000,
    );
    const height = Math.min(...live.map((n) => n.chain.head().height));
    await sameChain(live, height);
    expect(load.acked.length).toBeGreaterThan(20);

    // ---- the receipt of the last record, after every change, verifies offline from the genesis alone ----
    const committed = await Promise.all(load.acked.map((t) => live[0]!.store.tx(t.hash)));
    const last = committed.reduce((a, b) => (b!.height > a!.height ? b : a))!;
    const epoch = epochOf(live[0]!.chain.validatorSetAt(last.height));
    expect(epoch).toBeGreaterThanOrEqual(3);
    const { genesis } = cluster;
    const receipt = await receiptFor(new LedgerQueries(live[0]!.store, genesis), genesis, last.env.hash);
    const v = await verifyReceipt(JSON.parse(JSON.stringify(receipt)), { genesis });
    expect(v.ok, JSON.stringify(v.checks)).toBe(true);
    expect(v.checks.find((c) => c.name === 'governance')!.detail).toMatch(
      new RegExp(`^\\d+ governance txs in \\d+ blocks replayed; validator set of epoch ${epoch}$`),
    );
  }, 300_000);
});
