/**
 * State sync's f+1 rule (ADR 006, issue 14): a status head this node cannot check (its header names another
 * validator set than the one it knows, as a later epoch's does) is a claim, not a proof. Only when f+1 validators make such
 * claims (one of them honest) does sync stop the consensus instance and follow them by transfer, up to the
 * (f+1)-th highest claimed head; f liars alone change nothing, however high they claim.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { makeQuorumContext } from '../../../../src/consensus/certificates.ts';
import type { BlockHeader } from '../../../../src/core/block.ts';
import { verifySignature } from '../../../../src/core/crypto.ts';
import { genesisHash, genesisValidatorSet } from '../../../../src/core/genesis.ts';
import { faultTolerance } from '../../../../src/core/validators.ts';
import { StateSyncClient } from '../../../../src/node/net/state-sync.ts';
import { DEFAULT_STATE_SYNC_LIMITS } from '../../../../src/node/net/state-sync-deps.ts';
import {
  decodeStatusResponse,
  decodeSyncRequest,
  encodeStatusResponse,
} from '../../../../src/node/net/sync-messages.ts';
import { ValidatorPeers } from '../../../../src/node/net/validator-peers.ts';
import { noopLogger } from '../../../../src/p2p/index.ts';
import { openMemoryChain } from '../../../helpers/chain.ts';
import { FakeHost, type Responder } from '../../../helpers/fake-host.ts';
import { genesis } from '../../../helpers/ledger.ts';
import { waitFor } from '../../../helpers/p2p.ts';
import { batchesOf, respondFrom, type SyncSource, syncSource } from '../../../helpers/sync-source.ts';

const g = genesis();
const set = genesisValidatorSet(g);
const quorum = makeQuorumContext(
  g.chainId,
  set,
  g.consensus.checkpointInterval,
  g.consensus.watermarkWindow,
  genesisHash(g),
  verifySignature,
);
const peers = [1, 2, 3].map((i) => g.validators[i]!.peerId);

const clients: StateSyncClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
});

/** The header as a later epoch would sign it: another validator set hash (so this node cannot check it). */
function ofLaterEpoch(header: BlockHeader): BlockHeader {
  const validatorSetHash = header.validatorSetHash.slice();
  validatorSetHash[0]! ^= 1;
  return { ...header, validatorSetHash };
}

/** Answers with the source's real blocks, but claims block `height` as its head, signed by a later epoch's set. */
function claiming(source: SyncSource, height: number): Responder {
  const real = respondFrom(source.server);
  return async (req, signal) => {
    const response = await real(req, signal);
    if (decodeSyncRequest(req).kind !== 'status') return response;
    const status = decodeStatusResponse(response);
    const cert = (await source.store.block(height))!.cert;
    const header = ofLaterEpoch(source.blocks[height - 1]!.header);
    return encodeStatusResponse({ ...status, height, head: { header, cert } });
  };
}

async function setup(claims: readonly number[]) {
  const source = await syncSource(batchesOf(8));
  const fake = new FakeHost();
  const chain = await openMemoryChain();
  let suspended = 0;
  const progress: unknown[] = [];
  const client = new StateSyncClient(
    {
      host: fake.asHost(),
      peers: new ValidatorPeers(g),
      chain,
      quorum,
      epochs: {
        setAt: () => set,
        quorum: () => quorum,
        suspend: async () => {
          suspended++;
        },
      },
      consensus: {
        transferred: () => {},
        peerProgress: (checkpoint, head) => progress.push({ checkpoint, head }),
        stalled: async () => {},
        stableSeq: () => 0,
        view: () => 0,
      },
      onStored: () => {},
      onFault: () => {},
      onFatal: (err) => {
        throw err;
      },
      now: () => 1_000_000,
      logger: noopLogger,
    },
    { ...DEFAULT_STATE_SYNC_LIMITS, blocksPerRequest: 4, retryMs: 10 },
  );
  clients.push(client);
  for (const [i, height] of claims.entries()) {
    fake.responders.set(peers[i]!, claiming(source, height));
    fake.connected.push(peers[i]!);
  }
  const poll = async () => {
    client.pollSoon();
    await waitFor(() => fake.requests.length >= claims.length, 'status requests answered');
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { client, fake, chain, poll, suspended: () => suspended, progress };
}

describe('state sync: the f+1 rule for heads it cannot check', () => {
  const f = faultTolerance(set.validators.length);

  it(`f = ${f} validators claiming later heads neither suspend consensus nor start a transfer`, async () => {
    const s = await setup([8].slice(0, f));
    await s.poll();
    expect(s.suspended()).toBe(0);
    expect(s.fake.requests.filter((r) => decodeSyncRequest(r.request).kind === 'blocks')).toEqual([]);
    expect(s.progress).toEqual([]);
    expect(s.chain.head().height).toBe(0);
  });

  it('f+1 such claims suspend consensus once and transfer up to the (f+1)-th highest claimed head', async () => {
    const s = await setup([8, 5].slice(0, f + 1));
    await s.poll();
    expect(s.suspended()).toBe(1);
    await waitFor(() => s.chain.head().height === 5, 'the transfer to the (f+1)-th highest head');
    await waitFor(() => s.client.progress().state === 'idle', 'the transfer ends');
    // Not one block beyond the (f+1)-th highest claim: the highest claim alone proves nothing.
    const asked = s.fake.requests
      .map((r) => decodeSyncRequest(r.request))
      .flatMap((r) => (r.kind === 'blocks' ? [r.from + r.count - 1] : []));
    expect(Math.max(...asked)).toBe(5);
    expect(s.chain.head().height).toBe(5);
    expect(s.progress).toEqual([]);
  });
});
