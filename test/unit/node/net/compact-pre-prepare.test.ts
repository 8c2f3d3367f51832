import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  type ConsensusMessage,
  encodeMessage,
  type PrePrepare,
  withSignature,
} from '../../../../src/consensus/messages.ts';
import { type Batch, batchDigest } from '../../../../src/core/batch.ts';
import { toHex } from '../../../../src/core/bytes.ts';
import { CodecError } from '../../../../src/core/codec.ts';
import { verifySignature } from '../../../../src/core/crypto.ts';
import { SM2_SM3 } from '../../../../src/core/crypto-suite.ts';
import { genesisValidatorSet } from '../../../../src/core/genesis.ts';
import type { TxEnvelope } from '../../../../src/core/tx.ts';
import {
  COMPACT_PRE_PREPARE_TYPE,
  decodeCompactPrePrepare,
  encodeCompactPrePrepare,
  expandCompact,
  isCompactFrame,
} from '../../../../src/node/net/compact-pre-prepare.ts';
import {
  checkConsensusFrame,
  type EdgeContext,
  EdgeDropReason,
  P2PConsensusTransport,
} from '../../../../src/node/net/consensus-transport.ts';
import { TxResolver } from '../../../../src/node/net/tx-resolver.ts';
import { ValidatorPeers } from '../../../../src/node/net/validator-peers.ts';
import type { P2PHost, Verdict } from '../../../../src/p2p/index.ts';
import { evidenceTx, testGenesis, validatorSigners } from '../../../helpers/fixtures.ts';
import { smEvidenceTx, smGenesis, smValidatorKey } from '../../../helpers/sm-chain.ts';

const g = testGenesis();
const signers = validatorSigners();
const ctx: EdgeContext = {
  chainId: g.chainId,
  set: genesisValidatorSet(g),
  self: 0,
  verify: verifySignature,
};
const txs = [1, 2, 3].map((nonce) => evidenceTx({ nonce }));

function prePrepare(batch: Batch, from = 1): PrePrepare {
  return withSignature<PrePrepare>(
    { type: 'prePrepare', chainId: g.chainId, from, view: 1, seq: 7, batch, digest: batchDigest(batch) },
    (d, b) => signers[from]!.sign(d, b),
  );
}

const batch: Batch = { proposer: 1, view: 1, time: 1_800_000_000_000, txs };

describe('the compact PRE-PREPARE', () => {
  it('names the txs by hash, and its digest (computed on decode) is the whole batch digest', () => {
    const m = prePrepare(batch);
    const frame = encodeCompactPrePrepare(m);
    expect(isCompactFrame(frame)).toBe(true);
    expect(isCompactFrame(encodeMessage(m))).toBe(false);
    // 32 bytes per tx instead of the tx itself.
    expect(frame.length).toBeLessThan(encodeMessage(m).length - txs.length * 100);
    const c = decodeCompactPrePrepare(frame);
    expect(c.hashes.map(toHex)).toEqual(txs.map((t) => t.hashHex));
    expect(c.hashHex).toEqual(txs.map((t) => t.hashHex));
    expect(toHex(c.digest)).toBe(toHex(m.digest));
    expect(expandCompact(c, txs)).toEqual(m);
  });

  it("an SM chain's frames decode under its suite: SM3 tx hashes and digest; an Ed25519 edge refuses them", () => {
    const smSigner = smValidatorKey(1).signer;
    const smTxs = [1, 2].map((n) => smEvidenceTx(n));
    const b: Batch = { proposer: 1, view: 1, time: 1_800_000_000_000, txs: smTxs };
    const m = withSignature<PrePrepare>(
      {
        type: 'prePrepare',
        chainId: 'c',
        from: 1,
        view: 1,
        seq: 7,
        batch: b,
        digest: batchDigest(b, SM2_SM3),
      },
      (d, body) => smSigner.sign(d, body),
    );
    const c = decodeCompactPrePrepare(encodeCompactPrePrepare(m), SM2_SM3);
    expect(toHex(c.digest)).toBe(toHex(m.digest));
    expect(toHex(decodeCompactPrePrepare(encodeCompactPrePrepare(m)).digest)).not.toBe(toHex(m.digest));
    // At the edge: the whole frame's signature verifies only with the SM suite's digest and verifier.
    const sg = smGenesis();
    const smCtx: EdgeContext = {
      chainId: 'c',
      set: genesisValidatorSet(sg),
      self: 0,
      verify: SM2_SM3.verify,
      suite: SM2_SM3,
    };
    expect(checkConsensusFrame(encodeMessage(m), 1, smCtx).ok).toBe(true);
    expect(checkConsensusFrame(encodeCompactPrePrepare(m), 1, smCtx).ok).toBe(true);
    const unsuited = checkConsensusFrame(encodeMessage(m), 1, { ...smCtx, suite: undefined });
    expect(unsuited).toMatchObject({ ok: false, reason: EdgeDropReason.badSignature });
  });

  it('has no form for a null batch (sent whole)', () => {
    expect(() => encodeCompactPrePrepare(prePrepare({ proposer: 1, view: 1, time: 0, txs: [] }))).toThrow(
      RangeError,
    );
  });

  it('decodes strictly: trailing or missing bytes, a tx named twice, no txs, another type', () => {
    const frame = encodeCompactPrePrepare(prePrepare(batch));
    const twice = encodeCompactPrePrepare(prePrepare({ ...batch, txs: [txs[0]!, txs[0]!] }));
    const head = encodeCompactPrePrepare(prePrepare({ ...batch, txs: [txs[0]!] }));
    // The count varint sits right before the single hash and the signature.
    const none = new Uint8Array([...head.subarray(0, head.length - 96 - 1), 0, ...head.subarray(-64)]);
    const other = new Uint8Array(frame);
    other[1] = COMPACT_PRE_PREPARE_TYPE + 1;
    for (const bad of [
      new Uint8Array([...frame, 0]),
      frame.subarray(0, frame.length - 1),
      twice,
      none,
      other,
    ]) {
      expect(() => decodeCompactPrePrepare(bad)).toThrow(CodecError);
    }
  });

  it('passes the edge checks of a PRE-PREPARE: the signature covers the named hashes', () => {
    const frame = encodeCompactPrePrepare(prePrepare(batch));
    const ok = checkConsensusFrame(frame, 1, ctx);
    expect(ok.ok && ok.message.type).toBe('compactPrePrepare');
    // Another tx hash in the frame changes the digest, so the signature no longer holds.
    const swapped = new Uint8Array(frame);
    swapped[frame.length - 64 - 1] = (swapped[frame.length - 64 - 1] ?? 0) ^ 1;
    const bad = checkConsensusFrame(swapped, 1, ctx);
    expect(bad.ok ? 'ok' : bad.reason).toBe(EdgeDropReason.badSignature);
    const mismatch = checkConsensusFrame(frame, 2, ctx);
    expect(mismatch.ok ? 'ok' : mismatch.reason).toBe(EdgeDropReason.senderMismatch);
    const malformed = checkConsensusFrame(frame.subarray(0, 40), 1, ctx);
    expect(malformed.ok ? 'ok' : malformed.reason).toBe(EdgeDropReason.malformed);
  });
});

describe('P2PConsensusTransport with compact PRE-PREPAREs', () => {
  const peers = new ValidatorPeers(g);
  const primaryPeer = peers.peerId(1)!;

  function transport(held: readonly TxEnvelope[], answer: () => Promise<Uint8Array>) {
    let handler: ((peer: string, frame: Uint8Array) => Verdict | Promise<Verdict>) | undefined;
    const host = {
      onMessage: (_p: string, h: typeof handler) => {
        handler = h;
      },
      request: answer,
      report: () => {},
    } as unknown as P2PHost;
    const drops: string[] = [];
    const received: ConsensusMessage[] = [];
    const t = new P2PConsensusTransport({
      host,
      peers,
      edge: ctx,
      logger: pino({ level: 'silent' }),
      onDrop: (reason) => drops.push(reason),
    });
    t.attach({ receive: async (m) => void received.push(m) });
    let flushed = 0;
    const byHex = new Map(held.map((tx) => [tx.hashHex, tx]));
    t.resolveWith(new TxResolver({ host, lookup: (h) => byHex.get(h), requestTimeoutMs: 1000 }), () => {
      flushed++;
    });
    return {
      t,
      deliver: (frame: Uint8Array) => handler!(primaryPeer, frame),
      drops,
      received,
      flushed: () => flushed,
    };
  }

  it('sends a PRE-PREPARE with txs compact, after flushing the relay; other messages whole', () => {
    const x = transport(txs, () => Promise.reject(new Error('unused')));
    const m = prePrepare(batch);
    expect(isCompactFrame(x.t.encode(m))).toBe(true);
    expect(x.flushed()).toBe(1);
    const nullBatch = prePrepare({ proposer: 1, view: 1, time: 0, txs: [] });
    expect(x.t.encode(nullBatch)).toEqual(encodeMessage(nullBatch));
    expect(x.flushed()).toBe(1);
  });

  it('hands the driver the whole PRE-PREPARE once its txs are at hand', async () => {
    const x = transport(txs, () => Promise.reject(new Error('unused')));
    expect(await x.deliver(encodeCompactPrePrepare(prePrepare(batch)))).toMatchObject({ action: 'accept' });
    expect(x.received).toEqual([prePrepare(batch)]);
  });

  it('drops, and never hands the driver, a PRE-PREPARE whose txs it cannot have', async () => {
    const x = transport(txs.slice(1), () => Promise.reject(new Error('timeout')));
    expect(await x.deliver(encodeCompactPrePrepare(prePrepare(batch)))).toMatchObject({ action: 'ignore' });
    expect(x.received).toEqual([]);
    expect(x.drops).toEqual([EdgeDropReason.txsUnavailable]);
  });
});
