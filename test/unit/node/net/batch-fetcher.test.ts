import { describe, expect, it } from 'vitest';
import { type Batch, batchDigest } from '../../../../src/core/batch.ts';
import { P2PBatchFetcher } from '../../../../src/node/net/batch-fetcher.ts';
import { SyncErrorCode } from '../../../../src/node/net/errors.ts';
import { encodeBatchResponse } from '../../../../src/node/net/sync-messages.ts';
import { ValidatorPeers } from '../../../../src/node/net/validator-peers.ts';
import { noopLogger } from '../../../../src/p2p/index.ts';
import { FakeHost } from '../../../helpers/fake-host.ts';
import { genesis } from '../../../helpers/ledger.ts';
import { waitFor } from '../../../helpers/p2p.ts';
import { batchesOf } from '../../../helpers/sync-source.ts';

const g = genesis();
const [A, B, C] = [1, 2, 3].map((i) => g.validators[i]!.peerId) as [string, string, string];

describe('P2PBatchFetcher', () => {
  it('asks peers until one has the body, blames a wrong body, and fetches each digest once at a time', async () => {
    const [wanted, other] = batchesOf(2);
    const fake = new FakeHost();
    fake.connected = [A, B, C, 'an-observer'];
    fake.responders.set(A, () => encodeBatchResponse(undefined));
    fake.responders.set(B, () => encodeBatchResponse(other));
    fake.responders.set(C, () => encodeBatchResponse(wanted));
    const delivered: Batch[] = [];
    const faults: string[] = [];
    const fetcher = new P2PBatchFetcher({
      host: fake.asHost(),
      peers: new ValidatorPeers(g),
      deliver: (b) => delivered.push(b),
      onFault: (code) => faults.push(code),
      requestTimeoutMs: 1000,
      random: () => 0.99, // keeps the order A, B, C
      logger: noopLogger,
    });
    fetcher.fetch(5, batchDigest(wanted!));
    fetcher.fetch(5, batchDigest(wanted!));
    await waitFor(() => delivered.length === 1, 'the body is delivered');
    expect(batchDigest(delivered[0]!)).toEqual(batchDigest(wanted!));
    expect(fake.requests.map((r) => r.peer)).toEqual([A, B, C]);
    expect(faults).toEqual([SyncErrorCode.badResponse]);
    expect(fake.reports.map((r) => r.peer)).toEqual([B]);
    fetcher.stop();
  });
});
