/**
 * Reading one inbound message stream. The pipeline per frame is: size check (in the decoder, before the
 * body is buffered) → per-peer rate limit → handler → verdict back to the host for scoring.
 *
 * Frames from a stream go to the handler one at a time, in order. When a handler returns a promise the
 * stream is paused until the backlog is handled: Yamux then stops granting window to that stream, so a slow
 * handler pushes back on that one peer (whose own outbound queue then fills and drops), while every other
 * stream keeps its own independent loop. Memory per stream is bounded by the Yamux window.
 */
import type { Stream } from '@libp2p/interface';
import { FrameDecoder, FrameTooLargeError } from './framing.ts';
import type { MessageProtocolConfig } from './limits.ts';
import type { Logger } from './logger.ts';
import { DropReason, MetricName, type MetricsSink } from './metrics.ts';
import { chunkBytes } from './streams.ts';
import type { MessageHandler, Verdict } from './verdict.ts';

export interface InboundPeer {
  readonly peerId: string;
  /** Takes rate-limit tokens for a frame of this size; false means drop it. */
  admit(frameBytes: number): boolean;
  /** False once the peer is banned or off the allowlist: its queued frames are dropped. */
  isActive(): boolean;
  /** Records activity (last seen). */
  touch(): void;
  /** Scores an oversize prefix; the stream is reset by the caller. */
  oversize(protocol: string, err: FrameTooLargeError): void;
  /** Scores a handler verdict. */
  verdict(protocol: string, verdict: Verdict): void;
}

export interface InboundDeps {
  readonly logger: Logger;
  readonly metrics: MetricsSink;
  /** The handler registered now (handlers may be registered after start). */
  handlerFor(protocol: string): MessageHandler | undefined;
}

export function serveMessageStream(
  stream: Stream,
  protocol: MessageProtocolConfig,
  peer: InboundPeer,
  deps: InboundDeps,
): void {
  const decoder = new FrameDecoder(protocol.maxFrameBytes);
  let pending: Uint8Array[] = [];
  let head = 0;
  let running = false;

  const drop = (reason: DropReason, n = 1): void => {
    if (n > 0) deps.metrics.increment(MetricName.framesDropped, { protocol: protocol.id, reason }, n);
  };

  const onFrame = (frame: Uint8Array): void => {
    peer.touch();
    if (peer.admit(frame.length)) pending.push(frame);
    else drop(DropReason.rateLimited);
  };

  const run = async (): Promise<void> => {
    running = true;
    try {
      while (head < pending.length) {
        if (!peer.isActive()) {
          drop(DropReason.disconnected, pending.length - head);
          break;
        }
        const frame = pending[head]!;
        pending[head++] = EMPTY; // let the frame be collected once handled
        const verdict = await handle(frame);
        if (verdict !== undefined) {
          deps.metrics.increment(MetricName.framesReceived, {
            protocol: protocol.id,
            verdict: verdict.action,
          });
          peer.verdict(protocol.id, verdict);
        }
      }
    } catch (err) {
      deps.logger.error(
        { peer: peer.peerId, protocol: protocol.id, err: String(err) },
        'p2p: inbound loop failed',
      );
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      pending = [];
      head = 0;
      running = false;
      // Resuming may deliver buffered data synchronously; the listener then starts a new loop.
      if (stream.readStatus === 'paused') resume();
    }
  };

  /**
   * Resuming sends a Yamux window update, which throws when the connection closed while the handler ran (a
   * peer that crashed) before the stream heard of it. The stream is dead then: abort it, never the process.
   */
  const resume = (): void => {
    try {
      stream.resume();
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  };

  /** The handler's verdict, or undefined when it failed (counted, not scored: a handler bug is ours). */
  const handle = async (frame: Uint8Array): Promise<Verdict | undefined> => {
    const handler = deps.handlerFor(protocol.id);
    if (handler === undefined) {
      drop(DropReason.noHandler);
      return undefined;
    }
    try {
      let result = handler(peer.peerId, frame);
      if (result instanceof Promise) {
        if (stream.readStatus === 'readable') stream.pause();
        result = await result;
      }
      return result ?? ACCEPTED;
    } catch (err) {
      drop(DropReason.handlerError);
      deps.logger.error(
        { peer: peer.peerId, protocol: protocol.id, err: String(err) },
        'p2p: message handler failed',
      );
      return undefined;
    }
  };

  stream.addEventListener('message', (evt) => {
    try {
      decoder.push(chunkBytes(evt.data), onFrame);
    } catch (err) {
      // Never throw from an event listener: Node would turn it into an uncaught exception.
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      if (err instanceof FrameTooLargeError) {
        drop(DropReason.oversize);
        deps.logger.warn(
          { peer: peer.peerId, protocol: protocol.id, length: err.length, limit: err.limit },
          'p2p: oversize frame, stream reset',
        );
        peer.oversize(protocol.id, err);
      }
    }
    if (!running && head < pending.length) void run();
  });
}

const EMPTY = new Uint8Array(0);
const ACCEPTED: Verdict = Object.freeze({ action: 'accept' });
