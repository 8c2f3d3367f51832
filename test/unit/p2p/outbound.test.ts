import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameDecoder } from '../../../src/p2p/framing.ts';
import type { MessageProtocolConfig } from '../../../src/p2p/limits.ts';
import { noopLogger } from '../../../src/p2p/logger.ts';
import { MemoryMetrics } from '../../../src/p2p/metrics.ts';
import { OutboundChannel } from '../../../src/p2p/outbound.ts';
import { FakeStream } from '../../helpers/fake-stream.ts';

const protocol: MessageProtocolConfig = {
  kind: 'message',
  id: '/test/msg/1.0.0',
  maxFrameBytes: 1000,
  maxQueueFrames: 50,
  maxQueueBytes: 10_000,
};

function decode(writes: Uint8Array[]): number[] {
  const d = new FrameDecoder(protocol.maxFrameBytes);
  const out: number[] = [];
  for (const w of writes) d.push(w, (f) => out.push(f[0]!));
  return out;
}

const frame = (tag: number, size = 10) => new Uint8Array(size).fill(tag);

describe('outbound channel', () => {
  let streams: FakeStream[];
  let openFails: boolean;
  let stalls: number;
  let metrics: MemoryMetrics;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    streams = [];
    openFails = false;
    stalls = 0;
    metrics = new MemoryMetrics();
  });
  afterEach(() => vi.useRealTimers());

  function channel(writeBatchBytes = 64 * 1024): OutboundChannel {
    return new OutboundChannel({
      peerId: 'peer',
      protocol,
      writeBatchBytes,
      stallTimeoutMs: 1000,
      openStream: async () => {
        if (openFails) throw new Error('no connection');
        const s = new FakeStream();
        streams.push(s);
        return s.asStream;
      },
      onStall: () => {
        stalls++;
      },
      logger: noopLogger,
      metrics,
    });
  }

  const settle = () => vi.advanceTimersByTimeAsync(0);

  it('coalesces frames queued in one tick into a single write, in order', async () => {
    const ch = channel();
    for (let i = 0; i < 40; i++) expect(ch.enqueue(frame(i))).toBe('queued');
    await settle();
    expect(streams).toHaveLength(1);
    expect(streams[0]!.writes).toHaveLength(1);
    expect(decode(streams[0]!.writes)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(metrics.get('p2p_frames_sent_total')).toBe(40);
    expect(ch.queuedFrames).toBe(0);
  });

  it('caps each write at the batch size, a large frame going alone', async () => {
    const ch = channel(25);
    for (let i = 0; i < 5; i++) ch.enqueue(frame(i));
    ch.enqueue(frame(9, 500));
    await settle();
    expect(streams[0]!.writes.map((w) => decode([w]))).toEqual([[0, 1], [2, 3], [4], [9]]);
  });

  it('writes only after drain while the stream is saturated, and the queue bound holds meanwhile', async () => {
    const ch = channel(10);
    ch.enqueue(frame(0));
    await settle();
    const s = streams[0]!;
    s.saturateAfterWrite = true;
    ch.enqueue(frame(1));
    await settle();
    expect(s.writes).toHaveLength(2);
    // The stream needs a drain: nothing more is written however much is queued.
    for (let i = 2; i < 100; i++) ch.enqueue(frame(i));
    await settle();
    expect(s.writes).toHaveLength(2);
    expect(ch.queuedFrames).toBe(protocol.maxQueueFrames);
    expect(metrics.get('p2p_frames_dropped_total', { reason: 'queue-full' })).toBe(
      98 - protocol.maxQueueFrames,
    );
    s.saturateAfterWrite = false;
    s.drain();
    await settle();
    expect(decode(s.writes)).toEqual(Array.from({ length: 2 + protocol.maxQueueFrames }, (_, i) => i));
    expect(stalls).toBe(0);
  });

  it('reports a stall when the stream accepts nothing for the stall timeout', async () => {
    const ch = channel();
    ch.enqueue(frame(0));
    await settle();
    const s = streams[0]!;
    s.writableNeedsDrain = true;
    ch.enqueue(frame(1));
    await vi.advanceTimersByTimeAsync(999);
    expect(stalls).toBe(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(stalls).toBe(1);
    // The channel gave up: its queue is dropped and it stays quiet.
    expect(ch.isClosed).toBe(true);
    expect(metrics.get('p2p_frames_dropped_total', { reason: 'disconnected' })).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stalls).toBe(1);
  });

  it('opens a new stream when the remote resets the current one, keeping the queue', async () => {
    const ch = channel();
    ch.enqueue(frame(1));
    await settle();
    streams[0]!.remoteReset();
    ch.enqueue(frame(2));
    await settle();
    expect(streams).toHaveLength(2);
    expect(decode(streams[1]!.writes)).toEqual([2]);
  });

  it('drops the queue when no stream can be opened, and tries again on the next send', async () => {
    openFails = true;
    const ch = channel();
    ch.enqueue(frame(1));
    ch.enqueue(frame(2));
    await settle();
    expect(metrics.get('p2p_frames_dropped_total', { reason: 'stream-error' })).toBe(2);
    expect(ch.queuedFrames).toBe(0);
    openFails = false;
    ch.enqueue(frame(3));
    await settle();
    expect(decode(streams[0]!.writes)).toEqual([3]);
  });

  it('close drops what is queued under the given reason and resets the stream', async () => {
    const ch = channel();
    ch.enqueue(frame(1));
    await settle();
    streams[0]!.writableNeedsDrain = true;
    ch.enqueue(frame(2));
    ch.enqueue(frame(3));
    await settle();
    ch.close('disconnected');
    expect(metrics.get('p2p_frames_dropped_total', { reason: 'disconnected' })).toBe(2);
    expect(streams[0]!.abortedWith).toBeInstanceOf(Error);
    await vi.advanceTimersByTimeAsync(5000);
    expect(stalls).toBe(0);
  });
});
