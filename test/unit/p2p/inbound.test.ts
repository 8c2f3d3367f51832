import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeFrames, type FrameTooLargeError } from '../../../src/p2p/framing.ts';
import { type InboundPeer, serveMessageStream } from '../../../src/p2p/inbound.ts';
import type { MessageProtocolConfig } from '../../../src/p2p/limits.ts';
import { MemoryMetrics } from '../../../src/p2p/metrics.ts';
import { type MessageHandler, type Verdict, Verdicts } from '../../../src/p2p/verdict.ts';
import { FakeStream } from '../../helpers/fake-stream.ts';
import { RecordingLogger, waitFor } from '../../helpers/p2p.ts';

const protocol: MessageProtocolConfig = {
  kind: 'message',
  id: '/test/msg/1.0.0',
  maxFrameBytes: 100,
  maxQueueFrames: 10,
  maxQueueBytes: 1000,
};

function setup(handler: MessageHandler | undefined, admit: (bytes: number) => boolean = () => true) {
  const stream = new FakeStream();
  const metrics = new MemoryMetrics();
  const logger = new RecordingLogger();
  const verdicts: Verdict[] = [];
  const oversize: FrameTooLargeError[] = [];
  let active = true;
  const peer: InboundPeer = {
    peerId: 'peer',
    admit,
    isActive: () => active,
    touch: () => {},
    oversize: (_p, err) => oversize.push(err),
    verdict: (_p, v) => verdicts.push(v),
  };
  serveMessageStream(stream.asStream, protocol, peer, { logger, metrics, handlerFor: () => handler });
  return { stream, metrics, logger, verdicts, oversize, deactivate: () => (active = false) };
}

const f = (tag: number) => Uint8Array.of(tag);

describe('inbound message stream', () => {
  it('hands frames to a synchronous handler in order and reports each verdict', async () => {
    const seen: number[] = [];
    const { stream, verdicts, metrics } = setup((_p, frame) => {
      seen.push(frame[0]!);
      return frame[0] === 3 ? Verdicts.reject('bad') : undefined;
    });
    const wire = encodeFrames([f(1), f(2), f(3), f(4)]);
    stream.deliver(wire.subarray(0, 7));
    stream.deliver(wire.subarray(7));
    await waitFor(() => seen.length === 4, 'all frames handled', 5000);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(verdicts.map((v) => v.action)).toEqual(['accept', 'accept', 'reject', 'accept']);
    expect(stream.pauses).toBe(0);
    expect(metrics.get('p2p_frames_received_total', { verdict: 'accept' })).toBe(3);
  });

  it('pauses the stream while an async handler works, one frame at a time, then resumes', async () => {
    const release: Array<() => void> = [];
    const started: number[] = [];
    const { stream } = setup(
      (_p, frame) =>
        new Promise<undefined>((resolve) => {
          started.push(frame[0]!);
          release.push(() => resolve(undefined));
        }),
    );
    stream.deliver(encodeFrames([f(1), f(2), f(3)]));
    await waitFor(() => started.length === 1, 'first frame started', 5000);
    expect(stream.readStatus).toBe('paused');
    // The second frame waits for the first to finish.
    await Promise.resolve();
    expect(started).toEqual([1]);
    release[0]!();
    await waitFor(() => started.length === 2, 'second frame started', 5000);
    release[1]!();
    await waitFor(() => started.length === 3, 'third frame started', 5000);
    release[2]!();
    await waitFor(() => stream.readStatus === 'readable', 'resumed', 5000);
    expect(stream.resumes).toBeGreaterThanOrEqual(1);
  });

  it('aborts the stream when resuming fails because the connection closed while the handler ran', async () => {
    // Seen in the cluster tests: a peer SIGKILLed mid-handler made Yamux's window update throw from resume(),
    // an unhandled rejection that stopped this node.
    let release: () => void = () => {};
    const { stream } = setup(() => new Promise<undefined>((resolve) => (release = () => resolve(undefined))));
    stream.deliver(encodeFrame(f(1)));
    await waitFor(() => stream.readStatus === 'paused', 'paused by the async handler', 5000);
    stream.resumeError = new Error('Cannot write to a stream that is closed');
    release();
    await waitFor(() => stream.abortedWith !== undefined, 'the dead stream is aborted', 5000);
    expect(stream.abortedWith?.message).toBe('Cannot write to a stream that is closed');
  });

  it('resets the stream on an oversize prefix, after delivering the frames before it', async () => {
    const seen: number[] = [];
    const { stream, oversize, metrics } = setup((_p, frame) => {
      seen.push(frame[0]!);
    });
    const bad = new Uint8Array(4);
    new DataView(bad.buffer).setUint32(0, 101);
    stream.deliver(new Uint8Array([...encodeFrame(f(1)), ...bad]));
    await waitFor(() => seen.length === 1, 'good frame handled', 5000);
    expect(stream.abortedWith?.message).toMatch(/exceeds the limit of 100/);
    expect(oversize.map((e) => e.length)).toEqual([101]);
    expect(metrics.get('p2p_frames_dropped_total', { reason: 'oversize' })).toBe(1);
  });

  it('drops rate-limited frames before the handler and counts them', async () => {
    const seen: number[] = [];
    let tokens = 2;
    const { stream, metrics } = setup(
      (_p, frame) => {
        seen.push(frame[0]!);
      },
      () => tokens-- > 0,
    );
    stream.deliver(encodeFrames([f(1), f(2), f(3), f(4)]));
    await waitFor(() => seen.length === 2, 'two frames handled', 5000);
    expect(seen).toEqual([1, 2]);
    expect(metrics.get('p2p_frames_dropped_total', { reason: 'rate-limited' })).toBe(2);
  });

  it('survives a throwing handler: counted, logged, not scored, next frame handled', async () => {
    const seen: number[] = [];
    const { stream, metrics, verdicts, logger } = setup(async (_p, frame) => {
      if (frame[0] === 1) throw new Error('bug');
      seen.push(frame[0]!);
    });
    stream.deliver(encodeFrames([f(1), f(2)]));
    await waitFor(() => seen.length === 1, 'second frame handled', 5000);
    expect(metrics.get('p2p_frames_dropped_total', { reason: 'handler-error' })).toBe(1);
    expect(verdicts.map((v) => v.action)).toEqual(['accept']);
    expect(logger.find('message handler failed')).toHaveLength(1);
  });

  it('drops frames without a handler, and frames still queued once the peer is no longer admitted', async () => {
    const none = setup(undefined);
    none.stream.deliver(encodeFrame(f(1)));
    await waitFor(
      () => none.metrics.get('p2p_frames_dropped_total', { reason: 'no-handler' }) === 1,
      'no-handler',
    );

    const release: Array<() => void> = [];
    const gone = setup(() => new Promise<undefined>((resolve) => release.push(() => resolve(undefined))));
    gone.stream.deliver(encodeFrames([f(1), f(2), f(3)]));
    await waitFor(() => release.length === 1, 'first frame started', 5000);
    gone.deactivate();
    release[0]!();
    await waitFor(
      () => gone.metrics.get('p2p_frames_dropped_total', { reason: 'disconnected' }) === 2,
      'remaining frames dropped',
      5000,
    );
    expect(release).toHaveLength(1);
  });
});
