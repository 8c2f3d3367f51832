/**
 * Validator-set changes on an sm2-sm3 chain (ADR 014): governance names an Ed25519 peer key beside each SM2
 * validator key it adds or rotates, and the validators take their peer ids from it. A fifth validator, its
 * keys from an `init --crypto-suite sm2-sm3` home and its action parsed like `gov propose add-validator
 * --peer-key`, is admitted, syncs and signs commit certificates; a rotated key's new peer key takes effect
 * and the old one is refused like any stranger.
 */

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionFromArgs } from '../../../src/cli/gov.ts';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/crypto.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../../src/core/evidence.ts';
import {
  encodeGovernance,
  type GovernanceAction,
  type GovernanceRecord,
} from '../../../src/core/governance.ts';
import { type KeyPair, readKeyFile, sm2KeyPair } from '../../../src/core/keys.ts';
import { envelope, signTx, type TxEnvelope, VALIDATOR_KEY_ID } from '../../../src/core/tx.ts';
import { initHome } from '../../../src/node/home.ts';
import { createP2PHost, type P2PHost } from '../../../src/p2p/index.ts';
import { sampleEvidence, sampleUnsignedTx, TEST_INSTITUTIONS } from '../../helpers/fixtures.ts';
import { removeDir, tempDir } from '../../helpers/ledger.ts';
import { LOOPBACK, waitFor } from '../../helpers/p2p.ts';
import { testBytes } from '../../helpers/sm.ts';
import { smGenesis, smSigner, smValidatorKey } from '../../helpers/sm-chain.ts';
import {
  institutionOf,
  NET_TEST_CONSENSUS,
  NET_TEST_LIMITS,
  ValidatorCluster,
} from '../../helpers/validators.ts';

const genesis = smGenesis({ consensus: NET_TEST_CONSENSUS });
const cluster = new ValidatorCluster(NET_TEST_CONSENSUS, NET_TEST_LIMITS, { genesis, key: smValidatorKey });
const hosts: P2PHost[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.allSettled(hosts.map((h) => h.stop()));
  await cluster.stopAll();
  for (const c of cleanups) await c();
}, 60_000);

/** The current SM2 key of each validator index (a rotation replaces one). */
const keys = new Map<number, KeyPair>();
const keyOf = (i: number) => keys.get(i) ?? smValidatorKey(i);

let nonce = 0;
function smGov(record: GovernanceRecord, validator: number): TxEnvelope {
  const unsigned = sampleUnsignedTx({
    chainId: genesis.chainId,
    type: 'governance',
    institution: institutionOf(validator),
    keyId: VALIDATOR_KEY_ID,
    nonce: ++nonce,
    createdAt: Date.now(),
    ttlMs: 3_600_000,
    payload: encodeGovernance(record, SM2_SM3),
  });
  return envelope(signTx(unsigned, keyOf(validator).signer), SM2_SM3);
}

/** SM2-signed evidence txs valid now. */
function smLiveTxs(count: number): TxEnvelope[] {
  return Array.from({ length: count }, () => {
    nonce++;
    const institution = TEST_INSTITUTIONS[nonce % TEST_INSTITUTIONS.length]!;
    const unsigned = sampleUnsignedTx({
      chainId: genesis.chainId,
      institution,
      nonce,
      createdAt: Date.now(),
      ttlMs: 3_600_000,
      payload: encodeEvidence(sampleEvidence({ hash: testBytes(`sm reconf ${nonce}`, 32) })),
    });
    return envelope(signTx(unsigned, smSigner(`${institution}/client-1`)), SM2_SM3);
  });
}

/** Proposes `action` by `by[0]`, approves it by the others, and waits until every running node has it passed. */
async function pass(action: GovernanceAction, by: [number, ...number[]]) {
  const p = smGov({ kind: 'propose', deadline: Date.now() + 600_000, action }, by[0]);
  const first = await cluster.node(by[0]).service.submit(p);
  expect(first.status, JSON.stringify(first)).not.toBe('rejected');
  for (const v of by.slice(1)) {
    const node = cluster.node(v);
    await waitFor(
      () => node.chain.governance.proposal(p.hashHex) !== undefined,
      'proposal committed',
      60_000,
    );
    const r = await node.service.submit(smGov({ kind: 'approve', proposalId: p.hash }, v));
    expect(r.status, JSON.stringify(r)).not.toBe('rejected');
  }
  for (const n of cluster.running) {
    await waitFor(
      () => n.chain.governance.proposal(p.hashHex)?.status === 'passed',
      `${action.type} passed on ${n.index}`,
      60_000,
    );
  }
  return cluster.node(by[0]).chain.governance.proposal(p.hashHex)!;
}

/** Waits for `cond` while submitting evidence to node `via` whenever its mempool is empty (blocks need txs). */
async function drive(cond: () => boolean | Promise<boolean>, what: string, via = 0): Promise<void> {
  await waitFor(
    async () => {
      const node = cluster.node(via);
      if (node.service.status().pendingTxs === 0)
        await Promise.all(smLiveTxs(3).map((t) => node.service.submit(t)));
      return cond();
    },
    what,
    90_000,
  );
}

/** Drives the chain until a block at or above `from` carries a signature of validator `v`. */
async function signsCertificate(v: number, from: number): Promise<void> {
  const a = cluster.node(0);
  let next = from;
  await drive(
    async () => {
      for (; next <= a.chain.head().height; next++) {
        const b = await a.store.block(next);
        if (b?.cert.signatures.some((s) => s.validator === v)) return true;
      }
      return false;
    },
    `a certificate signed by validator ${v}`,
    v,
  );
}

describe('reconfiguration on an sm2-sm3 chain', () => {
  it('admits a validator added by governance by its named peer key, follows a rotated peer key, refuses the old one', async () => {
    await cluster.startAll(4);
    await cluster.waitConnected();

    // ---- join: bank-e's home from `jrchain init --crypto-suite sm2-sm3`; governance registers it, then adds
    // its SM2 validator key with the Ed25519 peer key init printed (`gov propose add-validator --peer-key`) ----
    const home = await tempDir('sm-reconf-home');
    cleanups.push(() => removeDir(home));
    const init = initHome({
      home,
      institution: 'bank-e',
      host: '127.0.0.1',
      p2pPort: 1,
      apiPort: 2,
      tsaUrl: 'http://127.0.0.1:1/',
      cryptoSuite: 'sm2-sm3',
    });
    const args = (name: string, a: string[], o: { clientKey?: string[]; peerKey?: string } = {}) =>
      actionFromArgs(name, a, o, SM2_SM3);
    await pass(
      args('register-institution', ['bank-e', 'Bank E'], { clientKey: [`client-1=${init.clientPublicKey}`] }),
      [0, 1, 2],
    );
    const fifth = readKeyFile(join(home, 'validator.key'), { suite: 'sm2-sm3' });
    expect(init.validatorPeerKey).toBe(toHex(fifth.peerKey));
    const added = await pass(
      args('add-validator', ['bank-e', init.validatorPublicKey], { peerKey: init.validatorPeerKey! }),
      [1, 3, 0],
    );
    keys.set(4, fifth);
    const node4 = await cluster.start(4, { key: fifth });
    await drive(
      () => node4.chain.head().height >= added.effectiveHeight,
      'the fifth validator synced to the switch',
    );
    // Every other validator admits it by the peer id of the peer key governance named.
    for (const i of [0, 1, 2, 3]) {
      const n = cluster.node(i);
      await waitFor(
        () => n.service.status().peers.some((p) => p.peerId === fifth.peerId),
        `validator ${i} connected to the fifth`,
        60_000,
      );
    }
    await signsCertificate(4, added.effectiveHeight);

    // ---- rotate bank-b's key: a new SM2 key and a new peer key ----
    const rotated = sm2KeyPair(
      testBytes('sm2 validator-1-rotated', 32),
      sha256(utf8.encode('jrchain-test-key:validator-1-rotated-peer')),
    );
    const old = smValidatorKey(1);
    const rotation = await pass(
      {
        type: 'rotateValidatorKey',
        institution: 'bank-b',
        publicKey: rotated.publicKey,
        peerKey: rotated.peerKey,
      },
      [1, 2, 4, 0],
    );
    keys.set(1, rotated);
    await drive(
      () => [0, 2, 4].every((i) => cluster.node(i).chain.head().height >= rotation.effectiveHeight),
      'the rotation in force',
    );
    await cluster.stop(1);

    // The old peer key is no longer a validator's: a host with it is refused like any stranger.
    const target = cluster.node(0);
    const targetId = genesis.validators[0]!.peerId;
    const stale = createP2PHost({
      seed: sha256(utf8.encode('jrchain-test-key:validator-1')),
      listen: [LOOPBACK],
      allowlist: { validators: [{ peerId: targetId, addrs: target.service.p2pAddrs() }] },
    });
    hosts.push(stale);
    expect(stale.peerId).toBe(old.peerId);
    await stale.start();
    const refused = /^p2p_connections_refused_total\{direction="inbound",reason="not-allowlisted"\} (\d+)/m;
    await waitFor(
      async () => Number(refused.exec((await target.metrics.render()).text)?.[1] ?? 0) >= 1,
      'the old peer key is refused',
      60_000,
    );
    expect(target.service.status().peers.some((p) => p.peerId === old.peerId)).toBe(false);

    // The validator restarts with its rotated key and peer key: admitted, it signs certificates again.
    await cluster.start(1, { key: rotated });
    await waitFor(
      () => target.service.status().peers.some((p) => p.peerId === rotated.peerId),
      'the rotated peer key admitted',
      60_000,
    );
    await signsCertificate(1, rotation.effectiveHeight);
  }, 300_000);
});
