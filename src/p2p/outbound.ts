/**
 * One outbound channel per peer and message protocol: a bounded queue drained into one long-lived stream.
 * Frames queued in the same tick are coalesced into one write. The channel writes only while the stream
 * can take data (it waits for 'drain' otherwise), so libp2p never buffers more than one batch for us and
 * the queue bound is the real memory bound. A channel that cannot make progress for stallTimeoutMs reports
 * a stall; the host then disconnects the peer (docs/p2p.md, back-pressure).
 */
import type { Stream } from '@libp2p/interface';
import { encodeFrames } from './framing.ts';
import type { MessageProtocolConfig } from './limits.ts';
import type { Logger } from './logger.ts';
import { DropReason, MetricName, type MetricsSink } from './metrics.ts';
import { PeerQueue } from './peer-queue.ts';

export interface OutboundChannelInit {
  readonly peerId: string;
  readonly protocol: MessageProtocolConfig;
  readonly writeBatchBytes: number;
  readonly stallTimeoutMs: number;
  /** Opens a fresh stream for this peer and protocol on an open connection; rejects when there is none. */
  readonly openStream: () => Promise<Stream>;
  /** Called once when writes stall, after the channel closed itself; the host disconnects the peer. */
  readonly onStall: () => void;
  readonly logger: Logger;
  readonly metrics: MetricsSink;
}

export type EnqueueResult = 'queued' | 'queue-full';

export class OutboundChannel {
  private readonly init: OutboundChannelInit;
  private readonly queue: PeerQueue;
  private stream: Stream | undefined;
  private pumping = false;
  private closed = false;
  /** Date.now() when the current stream last accepted a batch (or was opened): stalls count from here. */
  private progressAt = 0;

  constructor(init: OutboundChannelInit) {
    this.init = init;
    this.queue = new PeerQueue(init.protocol.maxQueueFrames, init.protocol.maxQueueBytes);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get queuedFrames(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  enqueue(frame: Uint8Array): EnqueueResult {
    if (!this.queue.push(frame)) {
      this.drop(DropReason.queueFull, 1);
      return 'queue-full';
    }
    if (!this.pumping) {
      this.pumping = true;
      // Start on a microtask: everything queued by the current synchronous caller goes out in one write.
      queueMicrotask(() => void this.pump());
    }
    return 'queued';
  }

  /** Discards queued frames (counted under `reason`) and resets the stream. The channel is then dead. */
  close(reason: DropReason): void {
    if (this.closed) return;
    this.closed = true;
    this.drop(reason, this.queue.clear());
    this.stream?.abort(new Error(`outbound channel closed: ${reason}`));
    this.stream = undefined;
  }

  private async pump(): Promise<void> {
    try {
      while (!this.closed && this.queue.length > 0) {
        const stream = await this.currentStream();
        if (stream === undefined) return;
        if (stream.writableNeedsDrain) {
          await this.waitForDrain(stream);
          continue;
        }
        const batch = this.queue.takeBatch(this.init.writeBatchBytes);
        try {
          stream.send(encodeFrames(batch));
        } catch (err) {
          // The stream died between our checks and the write: the batch is lost, the queue is kept and a
          // new stream is opened on the next turn of the loop.
          this.drop(DropReason.streamError, batch.length);
          this.discardStream(stream, err);
          continue;
        }
        this.progressAt = Date.now();
        this.init.metrics.increment(MetricName.framesSent, { protocol: this.init.protocol.id }, batch.length);
      }
    } catch (err) {
      this.init.logger.error(
        { peer: this.init.peerId, protocol: this.init.protocol.id, err: String(err) },
        'p2p: outbound channel failed',
      );
      this.drop(DropReason.streamError, this.queue.clear());
    } finally {
      this.pumping = false;
    }
  }

  /** The open stream, opening one when needed; undefined (queue dropped) when none can be opened. */
  private async currentStream(): Promise<Stream | undefined> {
    if (this.stream !== undefined && this.stream.writeStatus === 'writable') return this.stream;
    this.stream = undefined;
    let stream: Stream;
    try {
      stream = await this.init.openStream();
    } catch (err) {
      if (!this.closed) {
        const n = this.queue.clear();
        this.drop(DropReason.streamError, n);
        this.init.logger.debug(
          { peer: this.init.peerId, protocol: this.init.protocol.id, dropped: n, err: String(err) },
          'p2p: could not open outbound stream',
        );
      }
      return undefined;
    }
    if (this.closed) {
      stream.abort(new Error('outbound channel closed'));
      return undefined;
    }
    // The remote must not write on our one-way stream; discard anything it sends instead of buffering it.
    stream.addEventListener('message', () => {});
    stream.addEventListener('close', () => {
      if (this.stream === stream) this.stream = undefined;
    });
    this.stream = stream;
    this.progressAt = Date.now();
    return stream;
  }

  private async waitForDrain(stream: Stream): Promise<void> {
    const remaining = this.progressAt + this.init.stallTimeoutMs - Date.now();
    const outcome = await drained(stream, Math.max(0, remaining));
    if (this.closed || outcome === 'drained') return;
    if (outcome === 'closed') {
      if (this.stream === stream) this.stream = undefined;
      return;
    }
    this.init.logger.warn(
      {
        peer: this.init.peerId,
        protocol: this.init.protocol.id,
        queued: this.queue.length,
        stallTimeoutMs: this.init.stallTimeoutMs,
      },
      'p2p: outbound stream stalled',
    );
    // Stop here: the queue is dropped and the host disconnects the peer, which replaces the wedged stream.
    this.close(DropReason.disconnected);
    this.init.onStall();
  }

  private discardStream(stream: Stream, err: unknown): void {
    if (this.stream === stream) this.stream = undefined;
    stream.abort(err instanceof Error ? err : new Error(String(err)));
  }

  private drop(reason: DropReason, n: number): void {
    if (n > 0)
      this.init.metrics.increment(MetricName.framesDropped, { protocol: this.init.protocol.id, reason }, n);
  }
}

/**
 * Waits until the stream can take more data. We listen for 'drain' ourselves rather than use
 * `stream.onDrain()`: in @libp2p/utils 7.4 that keeps its first resolved promise, so every later wait would
 * return at once and the write loop would spin.
 */
function drained(stream: Stream, timeoutMs: number): Promise<'drained' | 'closed' | 'timeout'> {
  if (!stream.writableNeedsDrain) return Promise.resolve('drained');
  if (stream.writeStatus !== 'writable') return Promise.resolve('closed');
  return new Promise((resolve) => {
    const finish = (outcome: 'drained' | 'closed' | 'timeout'): void => {
      clearTimeout(timer);
      stream.removeEventListener('drain', onDrain);
      stream.removeEventListener('close', onClose);
      resolve(outcome);
    };
    const onDrain = (): void => finish('drained');
    const onClose = (): void => finish('closed');
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    stream.addEventListener('drain', onDrain);
    stream.addEventListener('close', onClose);
  });
}
