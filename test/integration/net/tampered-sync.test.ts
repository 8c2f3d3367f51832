/**
 * A peer serving a tampered block: validator 2 turns Byzantine and serves its genuine ledger with one tx
 * swapped in every blocks response (its status, head and certificate are genuine, so it looks like the best
 * peer to sync from). The syncing validator must detect it, penalise it, store nothing of it, and complete
 * from honest peers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../../src/core/bytes.ts';
import { genesisHash } from '../../../src/core/genesis.ts';
import { LevelLedgerStore } from '../../../src/ledger/level-store.ts';
import {
  decodeBlocksResponse,
  decodeSyncRequest,
  encodeBlocksResponse,
  encodeSyncBlock,
} from '../../../src/node/net/sync-messages.ts';
import { SyncServer } from '../../../src/node/net/sync-server.ts';
import { createP2PHost, type P2PHost, ProtocolId } from '../../../src/p2p/index.ts';
import { LOOPBACK, waitFor } from '../../helpers/p2p.ts';
import { growChain, liveTxs, ValidatorCluster, validatorKey } from '../../helpers/validators.ts';

const cluster = new ValidatorCluster();
let rogueHost: P2PHost | undefined;
let rogueStore: LevelLedgerStore | undefined;
afterAll(async () => {
  await rogueHost?.stop();
  await rogueStore?.close();
  await cluster.stopAll();
});

/** Swaps the first tx of the first non-empty block for another validly signed tx: the txRoot no longer matches. */
function tamper(response: Uint8Array): Uint8Array {
  const blocks = decodeBlocksResponse(response);
  const i = blocks.findIndex((b) => b.txs.length > 0);
  if (i < 0) return response;
  return encodeBlocksResponse(
    blocks.map((b, k) =>
      encodeSyncBlock(b.header, b.cert, k === i ? [liveTxs(1, 'forged')[0]!, ...b.txs.slice(1)] : b.txs),
    ),
  );
}

describe('state sync from a Byzantine peer', () => {
  it('detects a tampered block, penalises the peer, and completes from another peer', async () => {
    const g = cluster.genesis;
    await cluster.startAll();
    await cluster.waitConnected();
    await cluster.stop(3);
    await growChain(cluster, cluster.running, 90);
    const head = await cluster.waitQuiet();
    const honest = toHex((await cluster.node(0).store.block(head))!.hash);
    for (const i of [0, 1, 2]) await cluster.stop(i);

    // Validator 2's key and ledger, serving tampered blocks.
    rogueStore = await LevelLedgerStore.open(cluster.dir(2));
    const store = rogueStore;
    const host = createP2PHost({
      seed: validatorKey(2).seed,
      listen: [LOOPBACK],
      allowlist: { validators: g.validators.map((v) => ({ peerId: v.peerId, addrs: [] })) },
    });
    rogueHost = host;
    const server = new SyncServer({
      store,
      stable: () => ({ seq: 0, headerHash: genesisHash(g), signatures: [] }),
      batchFor: () => undefined,
      maxResponseBytes: 16 * 1024 * 1024,
    });
    host.onRequest(ProtocolId.sync, async (_peer, request, signal) => {
      const answer = await server.handle(request, signal);
      const blocks = answer instanceof Uint8Array && decodeSyncRequest(request).kind === 'blocks';
      return blocks ? tamper(answer) : answer;
    });
    await host.start();

    // The returning validator can only reach the Byzantine one at first.
    const back = await cluster.start(3, { peerAddrs: { [host.peerId]: host.addrs() } });
    const faults = /^jrchain_sync_faults_total\{code="SYNC_BAD_BLOCK"\} [1-9]/m;
    await waitFor(
      async () => faults.test((await back.metrics.render()).text),
      'the tampered block is detected',
    );
    const logged = back.logger.find('sync: peer served bad data', {
      peer: host.peerId,
      code: 'SYNC_BAD_BLOCK',
    });
    expect(logged).not.toEqual([]);
    const rogue = back.service.status().peers.find((p) => p.peerId === host.peerId)!;
    expect(rogue.score).toBeGreaterThan(0);
    expect(back.chain.head().height).toBe(0);

    // Honest validators come back: sync completes from them.
    await cluster.start(0);
    await cluster.start(1);
    await cluster.waitHeight(head, [back]);
    expect(toHex((await back.store.block(head))!.hash)).toBe(honest);
  });
});
