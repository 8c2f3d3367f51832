import { afterEach, describe, expect, it } from 'vitest';
import { makeQuorumContext } from '../../../../src/consensus/certificates.ts';
import { type CheckpointProof, checkpointBody } from '../../../../src/consensus/messages.ts';
import type { Batch } from '../../../../src/core/batch.ts';
import type { CommitCertificate } from '../../../../src/core/block.ts';
import { toHex } from '../../../../src/core/bytes.ts';
import { Domain, verifySignature } from '../../../../src/core/crypto.ts';
import { genesisHash, genesisValidatorSet } from '../../../../src/core/genesis.ts';
import { envelope, type TxEnvelope } from '../../../../src/core/tx.ts';
import type { ValidatorSet } from '../../../../src/core/validators.ts';
import type { Chain } from '../../../../src/ledger/chain.ts';
import { SyncErrorCode } from '../../../../src/node/net/errors.ts';
import { StateSyncClient } from '../../../../src/node/net/state-sync.ts';
import { DEFAULT_STATE_SYNC_LIMITS } from '../../../../src/node/net/state-sync-deps.ts';
import {
  decodeBlocksResponse,
  decodeStatusResponse,
  decodeSyncRequest,
  encodeBlocksResponse,
  encodeStatusResponse,
  encodeSyncBlock,
} from '../../../../src/node/net/sync-messages.ts';
import { ValidatorPeers } from '../../../../src/node/net/validator-peers.ts';
import { noopLogger, P2PError, P2PErrorCode } from '../../../../src/p2p/index.ts';
import { buildChain } from '../../../helpers/certified-chain.ts';
import { openMemoryChain, runBlock } from '../../../helpers/chain.ts';
import { FakeHost, type Responder } from '../../../helpers/fake-host.ts';
import { evidenceTx, TEST_GENESIS_TIME, validatorSigners } from '../../../helpers/fixtures.ts';
import { genesis } from '../../../helpers/ledger.ts';
import { waitFor } from '../../../helpers/p2p.ts';
import { batchesOf, respondFrom, type SyncSource, syncSource } from '../../../helpers/sync-source.ts';

const g = genesis();
const [A, B, C] = [1, 2, 3].map((i) => g.validators[i]!.peerId) as [string, string, string];
const quorum = makeQuorumContext(
  g.chainId,
  genesisValidatorSet(g),
  g.consensus.checkpointInterval,
  g.consensus.watermarkWindow,
  genesisHash(g),
  verifySignature,
);

type SyncChain = Pick<Chain, 'head' | 'buildBlock' | 'commitBlock'>;

const clients: StateSyncClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});

class Syncing {
  readonly fake = new FakeHost();
  readonly transferred: { seq: number; heights: number[] }[] = [];
  readonly progress: { checkpoint?: number; head?: number }[] = [];
  readonly faults: string[] = [];
  readonly fatal: unknown[] = [];
  stored = 0;
  now = 1_000_000;
  /** Ledger heights at which a transfer stood down (no peer could serve the next block). */
  readonly stalls: number[] = [];
  /**
   * Whether the fake core asks again for the transfer that stalled, as the real one does while still behind
   * (after catchUpDelayMs): true unless a test watches the stand-down itself.
   */
  reasks = true;
  /** The fake core takes a stand-down in once this resolves. */
  stallGate: Promise<void> = Promise.resolve();
  /** The transfer the core asked for last. */
  asked: { seq: number; hash: Uint8Array } | undefined;
  /** The core's view, as the client sees it. */
  view = 0;
  client!: StateSyncClient;
  chain!: SyncChain;

  /** The heights at which the client suspended this node's consensus instance (to follow a later epoch). */
  readonly suspended: number[] = [];
  /**
   * The set this node's ledger says is in force above its head until it suspends. Another set than the genesis
   * one makes the peers' heads (which name the genesis set) look like heads of a later epoch.
   */
  setAhead: ValidatorSet = quorum.set;

  static async create(blocksPerRequest = 4, chain?: SyncChain): Promise<Syncing> {
    const s = new Syncing();
    s.chain = chain ?? (await openMemoryChain());
    s.client = new StateSyncClient(
      {
        host: s.fake.asHost(),
        peers: new ValidatorPeers(g),
        chain: s.chain,
        quorum,
        // A fixed set: epoch 0 that never ends, with this node's instance running in it (until suspended).
        epochs: {
          setAt: () => (s.suspended.length > 0 ? quorum.set : s.setAhead),
          quorum: () => (s.suspended.length > 0 ? undefined : quorum),
          suspend: async () => {
            s.suspended.push(s.chain.head().height);
          },
        },
        consensus: {
          transferred: (seq, _hash, blocks) => s.transferred.push({ seq, heights: blocks.map((b) => b.seq) }),
          peerProgress: (checkpoint, head) =>
            s.progress.push({
              ...(checkpoint ? { checkpoint: checkpoint.seq } : {}),
              ...(head ? { head: head.height } : {}),
            }),
          stalled: async (head) => {
            s.stalls.push(head);
            await s.stallGate;
            const asked = s.asked;
            if (s.reasks && asked !== undefined)
              setTimeout(() => s.client.requestTransfer(asked.seq, asked.hash), 5);
          },
          stableSeq: () => 0,
          view: () => s.view,
        },
        onStored: () => {
          s.stored++;
        },
        onFault: (code) => s.faults.push(code),
        onFatal: (err) => s.fatal.push(err),
        now: () => s.now,
        logger: noopLogger,
      },
      { ...DEFAULT_STATE_SYNC_LIMITS, blocksPerRequest, retryMs: 10 },
    );
    const request = s.client.requestTransfer.bind(s.client);
    s.client.requestTransfer = (seq, hash) => {
      s.asked = { seq, hash };
      request(seq, hash);
    };
    clients.push(s.client);
    return s;
  }

  /** `peer` answers as `respond`, and is connected (after the ones already connected). */
  connect(peer: string, respond: Responder): void {
    this.fake.responders.set(peer, respond);
    if (!this.fake.connected.includes(peer)) this.fake.connected.push(peer);
    this.client.peerConnected();
  }

  async heightIs(h: number): Promise<void> {
    await waitFor(
      () => this.chain.head().height === h && this.client.progress().state === 'idle',
      `height ${h}`,
    );
  }
}

/** Edits the first block of every blocks response. */
function editFirstBlock(
  edit: (b: ReturnType<typeof decodeBlocksResponse>[number]) => Parameters<typeof encodeSyncBlock>,
) {
  return (response: Uint8Array, request: Uint8Array): Uint8Array => {
    if (decodeSyncRequest(request).kind !== 'blocks') return response;
    const blocks = decodeBlocksResponse(response);
    return encodeBlocksResponse(
      blocks.map((b, i) =>
        i === 0 ? encodeSyncBlock(...edit(b)) : encodeSyncBlock(b.header, b.cert, b.txs),
      ),
    );
  };
}

function flipSignature(cert: CommitCertificate): CommitCertificate {
  const signatures = cert.signatures.map((s, i) => {
    if (i > 0) return s;
    const sig = s.signature.slice();
    sig[0]! ^= 1;
    return { ...s, signature: sig };
  });
  return { ...cert, signatures };
}

function checkpointProof(seq: number, hash: Uint8Array): CheckpointProof {
  const body = checkpointBody(g.chainId, seq, hash);
  const signatures = [0, 1, 2].map((v) => ({
    validator: v,
    signature: validatorSigners()[v]!.sign(Domain.checkpoint, body),
  }));
  return { seq, headerHash: hash, signatures };
}

describe('StateSyncClient: transfer', () => {
  it('fetches ranges up to the target and no further, reporting each range to the core', async () => {
    const source = await syncSource(batchesOf(10));
    const s = await Syncing.create(4);
    s.connect(A, respondFrom(source.server));
    s.client.requestTransfer(7, source.blocks[6]!.hash);
    await s.heightIs(7);
    expect(s.transferred).toEqual([
      { seq: 4, heights: [1, 2, 3, 4] },
      { seq: 7, heights: [5, 6, 7] },
    ]);
    expect(s.fake.requests.map((r) => decodeSyncRequest(r.request))).toEqual([
      { kind: 'blocks', from: 1, count: 4 },
      { kind: 'blocks', from: 5, count: 3 },
    ]);
    expect(toHex(s.chain.head().hash)).toBe(toHex(source.blocks[6]!.hash));
    expect(s.stored).toBe(7);
    expect(s.client.progress()).toMatchObject({ state: 'idle', blocksPerSec: expect.any(Number) });
    // Already there: nothing to fetch, nothing to report.
    s.client.requestTransfer(7, source.blocks[6]!.hash);
    await s.heightIs(7);
    expect(s.fake.requests).toHaveLength(2);
  });

  describe('refuses bad data, penalises the peer, and completes from another', () => {
    let source: SyncSource;
    const target = 5;

    async function run(code: string, faulty: Responder, keptBefore = 0): Promise<Syncing> {
      source ??= await syncSource(batchesOf(6));
      const s = await Syncing.create(8);
      s.connect(A, faulty);
      s.client.requestTransfer(target, source.blocks[target - 1]!.hash);
      await waitFor(() => s.faults.length > 0, `fault ${code}`);
      expect(s.faults).toEqual([code]);
      expect(s.fake.reports).toEqual([
        { peer: A, protocol: '/jrchain/sync/1.0.0', verdict: { action: 'reject', reason: code } },
      ]);
      expect(s.chain.head().height).toBe(keptBefore);
      // The range after a short one may already be asked for (prefetched) when the fault shows; none after it.
      const toA = () => s.fake.requests.filter((r) => r.peer === A).length;
      const askedBefore = toA();
      expect(askedBefore).toBeLessThanOrEqual(2);
      s.connect(B, respondFrom(source.server));
      await s.heightIs(target);
      expect(toHex(s.chain.head().hash)).toBe(toHex(source.blocks[target - 1]!.hash));
      expect(toA()).toBe(askedBefore);
      return s;
    }

    it(SyncErrorCode.badResponse, async () => {
      await run(SyncErrorCode.badResponse, () => new Uint8Array([1, 2, 0xff]));
    });

    it(`${SyncErrorCode.badResponse}: a malformed tx in block 3, parsed only when block 3 runs`, async () => {
      source ??= await syncSource(batchesOf(6));
      const malformed = { bytes: new Uint8Array([0xff, 1, 2]) };
      const faulty = respondFrom(source.server, (response, request) => {
        if (decodeSyncRequest(request).kind !== 'blocks') return response;
        const blocks = decodeBlocksResponse(response).map((b) =>
          encodeSyncBlock(b.header, b.cert, b.header.height === 3 ? [malformed, ...b.txs.slice(1)] : b.txs),
        );
        return encodeBlocksResponse(blocks);
      });
      // Blocks 1 and 2 of the same response were checked and executed on their own: kept.
      await run(SyncErrorCode.badResponse, faulty, 2);
    });

    it(`${SyncErrorCode.badBlock}: a tx swapped (the txRoot no longer matches)`, async () => {
      source ??= await syncSource(batchesOf(6));
      const other = evidenceTx({ nonce: 999, createdAt: TEST_GENESIS_TIME + 1000 });
      await run(
        SyncErrorCode.badBlock,
        respondFrom(
          source.server,
          editFirstBlock((b) => [b.header, b.cert, [other, ...b.txs.slice(1)]]),
        ),
      );
    });

    it(`${SyncErrorCode.badCertificate}: a forged certificate signature`, async () => {
      source ??= await syncSource(batchesOf(6));
      await run(
        SyncErrorCode.badCertificate,
        respondFrom(
          source.server,
          editFirstBlock((b) => [b.header, flipSignature(b.cert), b.txs]),
        ),
      );
    });

    it(`${SyncErrorCode.targetMismatch}: another certified block at the target height`, async () => {
      source ??= await syncSource(batchesOf(6));
      const batches = batchesOf(6);
      const fork = await syncSource([...batches.slice(0, target - 1), batchesOf(1, 2, 500)[0]!]);
      // Blocks below the target are the same on both, verified one by one, and kept.
      await run(SyncErrorCode.targetMismatch, respondFrom(fork.server), target - 1);
    });

    it(`${SyncErrorCode.notReexecuted}: a certified block holding a tx that is invalid at its time`, async () => {
      source ??= await syncSource(batchesOf(6));
      const expired = evidenceTx({ nonce: 77, createdAt: TEST_GENESIS_TIME, ttlMs: 1 });
      const [bad] = buildChain(g, [[expired]], TEST_GENESIS_TIME + 5000);
      await run(SyncErrorCode.notReexecuted, () =>
        encodeBlocksResponse([encodeSyncBlock(bad!.header, bad!.cert, bad!.txs)]),
      );
    });
  });

  describe('client signatures (the certificates cover tx bodies, not signature bytes)', () => {
    /** `env` with the first byte of its signature flipped: same body, same tx hash, same txRoot. */
    const forged = (env: TxEnvelope): TxEnvelope => {
      const signature = env.tx.signature.slice();
      signature[0]! ^= 1;
      return envelope({ ...env.tx, signature });
    };
    const forgeFirstTx = editFirstBlock((b) => [b.header, b.cert, [forged(b.txs[0]!), ...b.txs.slice(1)]]);

    it('are not verified again when another validator vouches for the same signatures (f = 1)', async () => {
      const source = await syncSource(batchesOf(6));
      const chain = await openMemoryChain();
      const s = await Syncing.create(8, chain);
      s.connect(A, respondFrom(source.server));
      s.connect(B, respondFrom(source.server));
      s.client.requestTransfer(6, source.blocks[5]!.hash);
      await s.heightIs(6);
      const kinds = s.fake.requests.map(
        (r) => `${r.peer === A ? 'A' : 'B'} ${decodeSyncRequest(r.request).kind}`,
      );
      expect(kinds).toEqual(['B blocks', 'A sigs']);
      expect(chain.signatureVerifications).toBe(0);
    });

    it('are verified when no other validator can vouch, and a forged one is refused', async () => {
      const source = await syncSource(batchesOf(3));
      const chain = await openMemoryChain();
      const s = await Syncing.create(8, chain);
      s.connect(A, respondFrom(source.server, forgeFirstTx));
      s.client.requestTransfer(3, source.blocks[2]!.hash);
      await waitFor(() => s.faults.length > 0, 'the forged signature is refused');
      expect(s.faults).toEqual([SyncErrorCode.notReexecuted]);
      expect(chain.head().height).toBe(0);
      expect(chain.signatureVerifications).toBeGreaterThan(0);
    });

    it("are verified when another validator's differ, so a faulty peer's forged signature is never stored", async () => {
      const source = await syncSource(batchesOf(3));
      const chain = await openMemoryChain();
      const s = await Syncing.create(8, chain);
      // Peers are picked in turn from the second connected one: A serves first, B is asked to vouch.
      s.connect(B, respondFrom(source.server));
      s.connect(A, respondFrom(source.server, forgeFirstTx));
      s.client.requestTransfer(3, source.blocks[2]!.hash);
      await s.heightIs(3);
      expect(s.faults).toEqual([SyncErrorCode.notReexecuted]);
      expect(s.fake.reports.map((r) => r.peer)).toEqual([A]);
      const [first] = (await chain.store.blockTxs(1))!;
      expect(toHex(first!.tx.signature)).toBe(toHex(source.blocks[0]!.txs[0]!.tx.signature));
    });
  });

  it('stands down when no peer can serve the next block (the only one holding it lied), so the core can commit it', async () => {
    const source = await syncSource(batchesOf(6));
    const short = await syncSource(batchesOf(2));
    const s = await Syncing.create(8);
    s.reasks = false;
    // A holds every block and lies; B holds only blocks 1 and 2.
    s.connect(
      A,
      respondFrom(
        source.server,
        editFirstBlock((b) => [b.header, flipSignature(b.cert), b.txs]),
      ),
    );
    s.connect(B, respondFrom(short.server));
    s.client.requestTransfer(5, source.blocks[4]!.hash);
    await waitFor(() => s.stalls.length > 0, 'a stand-down');
    // Whichever peer was asked first, the transfer ends at block 2 at most: only the liar holds block 3.
    expect(s.faults).toEqual([SyncErrorCode.badCertificate]);
    expect(s.stalls).toEqual([s.chain.head().height]);
    expect(s.chain.head().height).toBeLessThanOrEqual(2);
    expect(s.client.progress().state).toBe('idle');
    // A request the core makes once it took the stand-down in is served (here from an honest peer).
    s.connect(C, respondFrom(source.server));
    s.client.requestTransfer(5, source.blocks[4]!.hash);
    await s.heightIs(5);
    expect(s.stalls).toHaveLength(1);
  });

  it('asks nothing more after a stand-down while the core has not taken it in', async () => {
    const source = await syncSource(batchesOf(3));
    const s = await Syncing.create(8);
    s.reasks = false;
    let tookIn = (): void => {};
    // This core takes the stand-down in only when told; a request meanwhile (made before it did) is stale.
    s.stallGate = new Promise<void>((resolve) => {
      tookIn = resolve;
    });
    s.client.requestTransfer(3, source.blocks[2]!.hash);
    await waitFor(() => s.stalls.length > 0, 'a stand-down (no peer at all)');
    s.connect(A, respondFrom(source.server));
    s.client.requestTransfer(3, source.blocks[2]!.hash);
    expect(s.client.progress().state).toBe('syncing');
    tookIn();
    await waitFor(() => s.client.progress().state === 'idle', 'the stand-down over');
    expect(s.fake.requests).toEqual([]);
    expect(s.chain.head().height).toBe(0);
  });

  it('when none can serve, stands down until asked again, and asks a peer whose range came back short no more', async () => {
    const source = await syncSource(batchesOf(6));
    const short = await syncSource(batchesOf(2));
    const s = await Syncing.create(8);
    s.client.requestTransfer(6, source.blocks[5]!.hash);
    await waitFor(() => s.client.progress().lastError?.startsWith('no validator') === true, 'no peer yet');
    s.connect(A, respondFrom(short.server));
    await waitFor(() => s.chain.head().height === 2, 'what the short peer has');
    s.connect(B, respondFrom(source.server));
    await s.heightIs(6);
    const blocksAsked = (r: { peer: string; request: Uint8Array }) =>
      r.peer === A && decodeSyncRequest(r.request).kind === 'blocks';
    expect(s.fake.requests.filter(blocksAsked)).toHaveLength(2);
  });

  it('treats an unreachable peer as unavailable, not faulty', async () => {
    const source = await syncSource(batchesOf(3));
    const s = await Syncing.create(8);
    s.connect(A, () => Promise.reject(new P2PError(P2PErrorCode.requestTimeout, 'timed out')));
    s.connect(B, respondFrom(source.server));
    s.client.requestTransfer(3, source.blocks[2]!.hash);
    await s.heightIs(3);
    expect(s.faults).toEqual([]);
    expect(s.fake.reports).toEqual([]);
  });

  it('stops: aborts the request in flight and reports nothing more', async () => {
    const source = await syncSource(batchesOf(3));
    const s = await Syncing.create(8);
    let asked = false;
    s.connect(A, (_req, signal) => {
      asked = true;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    s.client.requestTransfer(3, source.blocks[2]!.hash);
    await waitFor(() => asked, 'a request in flight');
    await s.client.stop();
    expect(s.client.progress().state).toBe('idle');
    expect(s.transferred).toEqual([]);
    expect(s.fatal).toEqual([]);
  });

  it('stops on a ledger failure of its own and reports it', async () => {
    const source = await syncSource(batchesOf(3));
    const chain = await openMemoryChain();
    const failing = {
      head: () => chain.head(),
      buildBlock: (batch: Batch) => chain.buildBlock(batch),
      commitBlock: () => Promise.reject(new Error('disk full')),
    };
    const s = await Syncing.create(8, failing);
    s.connect(A, respondFrom(source.server));
    s.client.requestTransfer(3, source.blocks[2]!.hash);
    await waitFor(() => s.fatal.length === 1, 'the failure is reported');
    expect(s.client.progress().lastError).toMatch(/disk full/);
    expect(s.faults).toEqual([]);
  });
});

describe('StateSyncClient: heads of a later epoch (f+1 rule)', () => {
  const poll = async (s: Syncing, n: number) => {
    s.now += 1000;
    s.client.pollSoon();
    await waitFor(() => s.fake.requests.length >= n, `poll ${n}`);
    await new Promise((r) => setImmediate(r));
  };

  /** A node whose ledger expects another set (same keys, epoch 1) above its head than the peers' heads name. */
  async function behindAnEpochChange(): Promise<Syncing> {
    const s = await Syncing.create();
    s.setAhead = { ...quorum.set, epoch: 1 };
    return s;
  }

  it('one peer showing a head of another epoch does not suspend consensus', async () => {
    const source = await syncSource(batchesOf(6));
    const s = await behindAnEpochChange();
    s.connect(A, respondFrom(source.server));
    await poll(s, 1);
    expect(s.client.knownHeight(A)).toBe(6); // its status was read
    expect(s.suspended).toEqual([]);
    expect(s.progress).toEqual([]);
    expect(s.client.progress().state).toBe('idle');
    expect(s.chain.head().height).toBe(0);
  });

  it('f+1 such peers suspend consensus first, then transfer up to the (f+1)-th highest claim', async () => {
    const source = await syncSource(batchesOf(6));
    const shorter = await syncSource(batchesOf(5));
    expect(toHex(shorter.blocks[4]!.hash)).toBe(toHex(source.blocks[4]!.hash));
    const s = await behindAnEpochChange();
    // f = 1: two claims include an honest one; only the lower claim is proven.
    s.connect(A, respondFrom(source.server));
    s.connect(B, respondFrom(shorter.server));
    s.now += 1000;
    s.client.pollSoon();
    await s.heightIs(5);
    expect(s.suspended).toEqual([0]);
    expect(s.transferred.flatMap((t) => t.heights)).toEqual([1, 2, 3, 4, 5]);
    expect(s.faults).toEqual([]);
  });
});

describe('StateSyncClient: status poll', () => {
  it("hands the core a peer's certified head and checkpoint once, and blames a forged status", async () => {
    const source = await syncSource(batchesOf(6));
    const s = await Syncing.create();
    const proof = checkpointProof(g.consensus.checkpointInterval, source.blocks[0]!.hash);
    // B is asked first and claims the same head with a forged certificate.
    s.connect(B, async (req) => {
      const status = decodeStatusResponse(
        await respondFrom(source.server)(req, new AbortController().signal),
      );
      const head = status.head!;
      return encodeStatusResponse({
        ...status,
        height: 6,
        head: { header: head.header, cert: flipSignature(head.cert) },
      });
    });
    s.connect(A, async (req) => {
      const status = decodeStatusResponse(
        await respondFrom(source.server)(req, new AbortController().signal),
      );
      return encodeStatusResponse({ ...status, stable: proof });
    });
    s.connect(C, () => Promise.reject(new P2PError(P2PErrorCode.notConnected, 'gone')));
    s.client.pollSoon();
    await waitFor(() => s.progress.length === 1 && s.faults.length === 1, 'one poll');
    expect(s.progress).toEqual([{ checkpoint: g.consensus.checkpointInterval, head: 6 }]);
    expect(s.faults).toEqual([SyncErrorCode.badCertificate]);
    expect(s.fake.reports.map((r) => r.peer)).toEqual([B]);
    expect(s.client.knownHeight(A)).toBe(6);
    // Nothing new: the next poll hands the core nothing.
    s.now += 1000;
    s.client.pollSoon();
    await waitFor(() => s.fake.requests.length >= 6, 'a second poll');
    await new Promise((r) => setImmediate(r));
    expect(s.progress).toHaveLength(1);
  });

  it('does not hand the core a head while this node is committing blocks itself', async () => {
    const source = await syncSource(batchesOf(6));
    const local = await openMemoryChain();
    const s = await Syncing.create(4, local);
    s.connect(A, respondFrom(source.server));
    const poll = async (n: number) => {
      s.now += 1000;
      s.client.pollSoon();
      await waitFor(() => s.fake.requests.length >= n, `poll ${n}`);
      await new Promise((r) => setImmediate(r));
    };
    await poll(1);
    expect(s.progress).toEqual([{ head: 6 }]); // at start it does not move: the head counts
    // The peer moves on to 7, but this node commits block 1 itself (as consensus would) meanwhile: a peer
    // ahead is then no reason to transfer.
    await runBlock(source.chain, batchesOf(7)[6]!);
    await local.commitBlock(source.blocks[0]!, (await source.store.block(1))!.cert);
    await poll(2);
    expect(s.progress).toHaveLength(1);
    // Once it stops moving, the head counts again.
    await poll(3);
    expect(s.progress).toEqual([{ head: 6 }, { head: 7 }]);
  });

  it('hands the core a head at its own height when it was certified in a later view than the core runs', async () => {
    const batches = batchesOf(3);
    batches[2] = { ...batches[2]!, view: 2, proposer: 2 };
    const source = await syncSource(batches);
    const local = await openMemoryChain();
    for (const [i, b] of source.blocks.entries())
      await local.commitBlock(b, (await source.store.block(i + 1))!.cert);
    const s = await Syncing.create(4, local);
    s.connect(A, respondFrom(source.server));
    const poll = async (n: number) => {
      s.now += 1000;
      s.client.pollSoon();
      await waitFor(() => s.fake.requests.length >= n, `poll ${n}`);
      await new Promise((r) => setImmediate(r));
    };
    // The core still runs view 0: it missed the view change, so the head of view 2 goes to it.
    await poll(1);
    expect(s.progress).toEqual([{ head: 3 }]);
    // Once it runs view 2, a head at its height is nothing new.
    s.view = 2;
    await poll(2);
    expect(s.progress).toHaveLength(1);
  });
});
