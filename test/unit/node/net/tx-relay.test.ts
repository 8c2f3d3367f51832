import { afterEach, describe, expect, it, vi } from 'vitest';
import { CodecError } from '../../../../src/core/codec.ts';
import { SM2_SM3 } from '../../../../src/core/crypto-suite.ts';
import { envelope, type TxEnvelope } from '../../../../src/core/tx.ts';
import {
  decodeTxFrame,
  encodeTxFrame,
  TX_FRAME_MAX_TXS,
  TxRelay,
  type TxRelayLimits,
} from '../../../../src/node/net/tx-relay.ts';
import { noopLogger, ProtocolId, Verdicts } from '../../../../src/p2p/index.ts';
import { FakeHost } from '../../../helpers/fake-host.ts';
import { evidenceTx, sampleTx, TEST_GENESIS_TIME } from '../../../helpers/fixtures.ts';
import { smEvidenceTx } from '../../../helpers/sm-chain.ts';

const txs = (n: number, from = 1): TxEnvelope[] =>
  Array.from({ length: n }, (_, k) => evidenceTx({ nonce: from + k, createdAt: TEST_GENESIS_TIME }));

afterEach(() => {
  vi.useRealTimers();
});

function relay(limits: Partial<TxRelayLimits> = {}) {
  const fake = new FakeHost();
  fake.connected = ['v1', 'v2', 'observer', 'stranger'];
  const received: [string, string[]][] = [];
  const r = new TxRelay(
    {
      host: fake.asHost(),
      isValidator: (p) => p.startsWith('v'),
      isObserver: (p) => p === 'observer',
      logger: noopLogger,
    },
    { maxFrameTxs: 3, maxFrameBytes: 64 * 1024, flushDelayMs: 5, ...limits },
  );
  r.serve(async (peer, list) => {
    received.push([peer, list.map((t) => t.hashHex)]);
    return Verdicts.accept();
  });
  return { fake, r, received };
}

describe('tx frames', () => {
  it('round-trip, and decode strictly', () => {
    const list = txs(3);
    const frame = encodeTxFrame(list.map((t) => t.bytes));
    expect(decodeTxFrame(frame).map((t) => t.hashHex)).toEqual(list.map((t) => t.hashHex));
    for (const bad of [
      new Uint8Array([...frame, 0]), // trailing byte
      new Uint8Array([2, ...frame.subarray(1)]), // unknown version
      encodeTxFrame([]), // empty
      frame.subarray(0, frame.length - 1), // truncated
    ]) {
      expect(() => decodeTxFrame(bad)).toThrow(CodecError);
    }
    const tooMany = new Uint8Array([1, ...[0x81, 0x20]]); // count 4097 (varint)
    expect(TX_FRAME_MAX_TXS).toBe(4096);
    expect(() => decodeTxFrame(tooMany)).toThrow(CodecError);
  });

  it("on an SM chain relayed txs get the chain's SM3 hashes (ADR 014), which the default suite would not give", () => {
    const list = [1, 2].map((n) => smEvidenceTx(n));
    const frame = encodeTxFrame(list.map((t) => t.bytes));
    expect(decodeTxFrame(frame, SM2_SM3).map((t) => t.hashHex)).toEqual(list.map((t) => t.hashHex));
    expect(decodeTxFrame(frame).map((t) => t.hashHex)).not.toEqual(list.map((t) => t.hashHex));
  });
});

describe('TxRelay', () => {
  it('batches forwarded txs: a full frame goes at once, a partial one after the delay, to validators only', async () => {
    vi.useFakeTimers();
    const { fake, r } = relay();
    const list = txs(5);
    for (const t of list) r.forward(t);
    expect(fake.broadcasts).toHaveLength(1);
    expect(fake.broadcasts[0]!.to).toEqual(['v1', 'v2']);
    expect(decodeTxFrame(fake.broadcasts[0]!.frame)).toHaveLength(3);
    vi.advanceTimersByTime(5);
    expect(fake.broadcasts).toHaveLength(2);
    expect(decodeTxFrame(fake.broadcasts[1]!.frame).map((t) => t.hashHex)).toEqual(
      list.slice(3).map((t) => t.hashHex),
    );
  });

  it('starts a new frame before one would exceed the byte limit', () => {
    // Big txs (the relay does not read payloads): two fit in the smallest allowed frame, three do not.
    const list = [1, 2, 3].map((nonce) => envelope(sampleTx({ nonce, payload: new Uint8Array(10_000) })));
    const { fake, r } = relay({ maxFrameTxs: 100, maxFrameBytes: 24 * 1024 + 7 });
    for (const t of list) r.forward(t);
    r.flush();
    expect(fake.broadcasts.map((b) => decodeTxFrame(b.frame).length)).toEqual([2, 1]);
  });

  it('sends a pool to one peer in frames', () => {
    const { fake, r } = relay();
    r.sendTo('v2', txs(7));
    expect(fake.sent.map((s) => [s.to, decodeTxFrame(s.frame).length])).toEqual([
      ['v2', 3],
      ['v2', 3],
      ['v2', 1],
    ]);
  });

  it('takes frames from validators and observers only, rejects undecodable ones, hands txs to admission', async () => {
    const { fake, received } = relay();
    const list = txs(2);
    const frame = encodeTxFrame(list.map((t) => t.bytes));
    expect(await fake.deliver(ProtocolId.tx, 'stranger', frame)).toMatchObject({ action: 'reject' });
    expect(await fake.deliver(ProtocolId.tx, 'v1', new Uint8Array([1, 1, 5]))).toMatchObject({
      action: 'reject',
    });
    expect(await fake.deliver(ProtocolId.tx, 'v1', frame)).toEqual({ action: 'accept' });
    expect(await fake.deliver(ProtocolId.tx, 'observer', frame)).toEqual({ action: 'accept' });
    expect(received).toEqual([
      ['v1', list.map((t) => t.hashHex)],
      ['observer', list.map((t) => t.hashHex)],
    ]);
  });
});
