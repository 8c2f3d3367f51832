/**
 * The network edge with real validators: a peer that is not in the genesis is refused; a validator's peer that
 * sends consensus messages for another chain, with bad signatures or in oversize frames has them dropped
 * (counted by reason), is banned once its score crosses the threshold, and cannot come back while banned.
 * Meanwhile the honest validators keep committing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { encodeMessage, type Prepare, withSignature } from '../../../src/consensus/messages.ts';
import { utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { genesisHash } from '../../../src/core/genesis.ts';
import { consensusChainId } from '../../../src/core/validators.ts';
import { encodeSyncRequest } from '../../../src/node/net/sync-messages.ts';
import {
  createP2PHost,
  DEFAULT_PROTOCOLS,
  type MessageProtocolConfig,
  type P2PHost,
  ProtocolId,
} from '../../../src/p2p/index.ts';
import { LOOPBACK, waitFor } from '../../helpers/p2p.ts';
import { liveTxs, ValidatorCluster, validatorKey } from '../../helpers/validators.ts';

const cluster = new ValidatorCluster();
const hosts: P2PHost[] = [];
afterAll(async () => {
  await Promise.allSettled(hosts.map((h) => h.stop()));
  await cluster.stopAll();
});

const MiB = 1024 * 1024;
/** The rogue's own limits let it send frames the validators refuse. */
const ROGUE_PROTOCOLS = DEFAULT_PROTOCOLS.map((p) =>
  p.id === ProtocolId.consensus
    ? ({ ...p, maxFrameBytes: 16 * MiB, maxQueueBytes: 64 * MiB } as MessageProtocolConfig)
    : p,
);

async function metric(text: Promise<{ text: string }>, line: RegExp): Promise<number> {
  const m = line.exec((await text).text);
  return m === null ? 0 : Number(m[1]);
}

describe('the network edge', () => {
  it('refuses a peer that is not in the genesis', async () => {
    await cluster.startAll(3);
    await cluster.waitConnected();
    const target = cluster.node(0);
    const stranger = createP2PHost({
      seed: sha256(utf8.encode('not-a-validator')),
      listen: [LOOPBACK],
      allowlist: {
        validators: [{ peerId: cluster.genesis.validators[0]!.peerId, addrs: target.service.p2pAddrs() }],
      },
    });
    hosts.push(stranger);
    await stranger.start();
    const refused = /^p2p_connections_refused_total\{direction="inbound",reason="not-allowlisted"\} (\d+)/m;
    await waitFor(
      async () => (await metric(target.metrics.render(), refused)) >= 1,
      'the stranger is refused',
    );
    // (The stranger may briefly see its side of a connection until the validator closes it.)
    expect(target.service.status().peers.some((p) => p.peerId === stranger.peerId)).toBe(false);
    const status = encodeSyncRequest({ kind: 'status' });
    await expect(
      stranger.request(cluster.genesis.validators[0]!.peerId, ProtocolId.sync, status),
    ).rejects.toThrow();
  });

  it('drops messages for another chain, with bad signatures or oversize, and bans the sender', async () => {
    const g = cluster.genesis;
    const target = cluster.node(0);
    const key = validatorKey(3);
    const rogue = createP2PHost({
      seed: key.seed,
      listen: [LOOPBACK],
      allowlist: { validators: [{ peerId: g.validators[0]!.peerId, addrs: target.service.p2pAddrs() }] },
      protocols: ROGUE_PROTOCOLS,
    });
    hosts.push(rogue);
    await rogue.start();
    const to = g.validators[0]!.peerId;
    await waitFor(() => rogue.connectedPeers().includes(to), 'the rogue validator connects');

    // The chain identity epoch 0 signs (ADR 010): the chain id and the genesis hash.
    const signedId = consensusChainId(g.chainId, genesisHash(g), 0);
    const prepare = (chainId: string, seq: number) =>
      withSignature<Prepare>(
        { type: 'prepare', chainId, from: 3, view: 0, seq, digest: sha256(utf8.encode(`d${seq}`)) },
        (d, b) => key.signer.sign(d, b),
      );
    rogue.send(to, ProtocolId.consensus, encodeMessage(prepare('other-chain', 1)));
    rogue.send(
      to,
      ProtocolId.consensus,
      encodeMessage({ ...prepare(signedId, 2), signature: new Uint8Array(64) }),
    );
    await waitFor(() => {
      const d = target.service.status().drops;
      return d.wrongChain === 1 && d.badSignature === 1;
    }, 'a wrong-chain and a badly signed message are dropped');

    // Two validly signed, different PREPAREs for one slot: the second is proof of equivocation, and logged.
    const { view, stableCheckpoint } = target.service.status();
    const slot = { type: 'prepare', chainId: signedId, from: 3, view, seq: stableCheckpoint + 60 } as const;
    for (const d of ['first', 'second']) {
      const digest = sha256(utf8.encode(`equivocation-${d}`));
      const m = withSignature<Prepare>({ ...slot, digest }, (dom, b) => key.signer.sign(dom, b));
      rogue.send(to, ProtocolId.consensus, encodeMessage(m));
    }
    await waitFor(() => target.service.status().drops.equivocation === 1, 'the equivocation is detected');
    expect(target.logger.find('equivocated', { alsoSinceLastLine: 0 })).toHaveLength(1);
    expect(target.logger.find('equivocated')[0]!.fields.detail).toMatch(/two PREPAREs .* from 3/);
    rogue.send(to, ProtocolId.consensus, new Uint8Array(9 * MiB));
    const oversize =
      /^p2p_frames_dropped_total\{protocol="\/jrchain\/consensus\/1.0.0",reason="oversize"\} (\d+)/m;
    await waitFor(
      async () => (await metric(target.metrics.render(), oversize)) >= 1,
      'the oversize frame is refused',
    );

    // The honest validators are unaffected.
    const [tx] = liveTxs(1, 'edge');
    expect((await target.service.submit(tx!)).status).toBe('accepted');
    await waitFor(async () => (await cluster.node(2).store.tx(tx!.hash)) !== undefined, 'a tx is committed');

    // More bad messages: the score crosses the ban threshold, the rogue is disconnected and kept out.
    const rogueStatus = () => target.service.status().peers.find((p) => p.peerId === rogue.peerId);
    for (let seq = 3; rogueStatus()?.bannedUntil === undefined; seq++) {
      if (rogue.connectedPeers().includes(to)) {
        rogue.send(
          to,
          ProtocolId.consensus,
          encodeMessage({ ...prepare(signedId, seq), signature: new Uint8Array(64) }),
        );
      }
      await new Promise((r) => setTimeout(r, 20));
      if (seq > 1000) throw new Error('the rogue was never banned');
    }
    await waitFor(() => !rogue.connectedPeers().includes(to), 'the banned rogue is disconnected');
    expect(await metric(target.metrics.render(), /^p2p_bans_total (\d+)/m)).toBe(1);
    const kept = /^p2p_connections_refused_total\{direction="inbound",reason="banned"\} (\d+)/m;
    await waitFor(async () => (await metric(target.metrics.render(), kept)) >= 1, 'its redials are refused');
  });
});
