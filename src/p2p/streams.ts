/** Small helpers over libp2p 3 message streams. */
import type { Stream } from '@libp2p/interface';
import { FrameDecoder } from './framing.ts';

/** A 'message' event carries a Uint8Array or a Uint8ArrayList; the decoder wants contiguous bytes. */
export function chunkBytes(data: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

/**
 * Reads exactly one frame from the stream. Resolves undefined when the remote ends the stream without one;
 * rejects with FrameTooLargeError on an oversize prefix (before reading the body), with the close error on
 * reset, and with `signal.reason` on abort. Listeners are removed once settled, so later data is not read.
 */
export function readOneFrame(
  stream: Stream,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder(maxBytes);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      stream.removeEventListener('message', onMessage);
      stream.removeEventListener('end', onEnd);
      stream.removeEventListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onMessage = (evt: { data: Uint8Array | { subarray(): Uint8Array } }): void => {
      if (settled) return;
      try {
        decoder.push(chunkBytes(evt.data), (frame) => settle(() => resolve(frame)));
      } catch (err) {
        settle(() => reject(err));
      }
    };
    const onEnd = (): void => settle(() => resolve(undefined));
    const onClose = (evt: { error?: Error }): void =>
      settle(() => (evt.error !== undefined ? reject(evt.error) : resolve(undefined)));
    const onAbort = (): void => settle(() => reject(signal.reason));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort);
    stream.addEventListener('message', onMessage);
    stream.addEventListener('end', onEnd);
    stream.addEventListener('close', onClose);
    // 'end' fires once; if it already has and nothing is buffered, no frame will ever come.
    if (stream.readableEnded && stream.readBufferLength === 0) onEnd();
  });
}
