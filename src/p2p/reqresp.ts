/**
 * Request/response over a stream per request: the requester writes one frame and closes its write side;
 * the responder writes one frame (or nothing, to refuse) and closes. Both sides cap frame sizes (checked on
 * the length prefix), both have a deadline, and the responder caps concurrent requests per peer.
 */
import type { Stream } from '@libp2p/interface';
import { P2PError, P2PErrorCode } from './errors.ts';
import { encodeFrame, FrameTooLargeError } from './framing.ts';
import type { RequestProtocolConfig } from './limits.ts';
import type { Logger } from './logger.ts';
import { DropReason, MetricName, type MetricsSink } from './metrics.ts';
import { readOneFrame } from './streams.ts';
import type { RequestHandler, Verdict } from './verdict.ts';

export interface RequestDeps {
  readonly logger: Logger;
  readonly metrics: MetricsSink;
}

/**
 * Sends `frame` on a freshly opened stream and returns the response. `signal` carries the caller's deadline;
 * `timeout` is the part of it that is ours, so its firing maps to P2P_REQUEST_TIMEOUT.
 */
export async function performRequest(
  stream: Stream,
  protocol: RequestProtocolConfig,
  frame: Uint8Array,
  signal: AbortSignal,
  timeout: AbortSignal,
): Promise<Uint8Array> {
  // Listen before writing: a fast responder may answer and close before we would otherwise attach.
  const response = readOneFrame(stream, protocol.maxResponseBytes, signal);
  try {
    stream.send(encodeFrame(frame));
    await stream.close({ signal });
  } catch (err) {
    stream.abort(asError(err));
    await response.catch(() => undefined);
    throw requestError(err, signal, timeout);
  }
  let result: Uint8Array | undefined;
  try {
    result = await response;
  } catch (err) {
    stream.abort(asError(err));
    throw requestError(err, signal, timeout);
  }
  if (result === undefined)
    throw new P2PError(P2PErrorCode.noResponse, 'peer closed the request stream without a response');
  return result;
}

/** Maps a failure during a request to a P2PError with the right code. */
export function requestError(err: unknown, signal: AbortSignal, timeout: AbortSignal): P2PError {
  if (err instanceof FrameTooLargeError)
    return new P2PError(P2PErrorCode.responseTooLarge, `response refused: ${err.message}`, err.details);
  if (err instanceof P2PError) return err;
  if (timeout.aborted) return new P2PError(P2PErrorCode.requestTimeout, 'request timed out');
  if (signal.aborted) return new P2PError(P2PErrorCode.aborted, 'request aborted by caller');
  return new P2PError(P2PErrorCode.streamFailed, `request stream failed: ${String(err)}`, undefined, {
    cause: err,
  });
}

export interface RequestPeer {
  readonly peerId: string;
  /** Takes a slot for a concurrent request; false when the per-peer cap is reached. */
  acquire(): boolean;
  release(): void;
  admit(frameBytes: number): boolean;
  touch(): void;
  oversize(protocol: string, err: FrameTooLargeError): void;
  verdict(protocol: string, verdict: Verdict): void;
}

/** Serves one inbound request stream. Never throws: every failure is counted, logged and resets the stream. */
export async function serveRequestStream(
  stream: Stream,
  protocol: RequestProtocolConfig,
  peer: RequestPeer,
  handler: RequestHandler | undefined,
  deps: RequestDeps,
): Promise<void> {
  const served = (result: string): void =>
    deps.metrics.increment(MetricName.requestsServed, { protocol: protocol.id, result });
  const drop = (reason: DropReason): void =>
    deps.metrics.increment(MetricName.framesDropped, { protocol: protocol.id, reason });

  if (handler === undefined) {
    drop(DropReason.noHandler);
    stream.abort(new Error('no handler'));
    return;
  }
  if (!peer.acquire()) {
    drop(DropReason.tooManyRequests);
    stream.abort(new Error('too many concurrent requests'));
    return;
  }
  const deadline = AbortSignal.timeout(protocol.timeoutMs);
  // The handler also stops when the stream dies (the requester gave up or the connection dropped).
  const gone = new AbortController();
  const onClose = (): void => gone.abort(new Error('request stream closed'));
  stream.addEventListener('close', onClose);
  const signal = AbortSignal.any([deadline, gone.signal]);
  try {
    const request = await readOneFrame(stream, protocol.maxRequestBytes, signal);
    if (request === undefined) {
      served('no-request');
      stream.abort(new Error('no request frame'));
      return;
    }
    peer.touch();
    if (!peer.admit(request.length)) {
      drop(DropReason.rateLimited);
      stream.abort(new Error('rate limited'));
      return;
    }
    let result: Uint8Array | Verdict;
    try {
      result = await handler(peer.peerId, request, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      drop(DropReason.handlerError);
      deps.logger.error(
        { peer: peer.peerId, protocol: protocol.id, err: String(err) },
        'p2p: request handler failed',
      );
      stream.abort(asError(err));
      return;
    }
    signal.throwIfAborted();
    if (!(result instanceof Uint8Array)) {
      deps.metrics.increment(MetricName.framesReceived, { protocol: protocol.id, verdict: result.action });
      peer.verdict(protocol.id, result);
      served('refused');
      await stream.close({ signal });
      return;
    }
    deps.metrics.increment(MetricName.framesReceived, { protocol: protocol.id, verdict: 'accept' });
    if (result.length > protocol.maxResponseBytes) {
      // Our handler broke the protocol limit; the peer would refuse it anyway. Fail loudly in the log.
      deps.logger.error(
        { peer: peer.peerId, protocol: protocol.id, length: result.length, limit: protocol.maxResponseBytes },
        'p2p: request handler returned an oversize response; not sent',
      );
      served('response-too-large');
      stream.abort(new Error('response too large'));
      return;
    }
    stream.send(encodeFrame(result));
    await stream.close({ signal });
    served('ok');
  } catch (err) {
    stream.abort(asError(err));
    if (err instanceof FrameTooLargeError) {
      drop(DropReason.oversize);
      deps.logger.warn(
        { peer: peer.peerId, protocol: protocol.id, length: err.length, limit: err.limit },
        'p2p: oversize request, stream reset',
      );
      peer.oversize(protocol.id, err);
    } else if (deadline.aborted) {
      served('timeout');
    } else if (gone.signal.aborted) {
      served('stream-closed');
    } else {
      served('error');
      deps.logger.warn(
        { peer: peer.peerId, protocol: protocol.id, err: String(err) },
        'p2p: request handling failed',
      );
    }
  } finally {
    stream.removeEventListener('close', onClose);
    peer.release();
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
