/**
 * Length-prefixed frames: a u32 big-endian body length, then the body. The decoder checks the length against
 * the protocol limit as soon as the 4 prefix bytes are in, so an oversize frame is refused before a single
 * body byte is buffered. A fixed-width prefix keeps that check trivial (no varint edge cases).
 */

import { P2PError, P2PErrorCode } from './errors.ts';
import { FRAME_HEADER_BYTES } from './limits.ts';

/** Encodes frames back to back into one buffer, so a batch costs one stream write. */
export function encodeFrames(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const f of frames) total += FRAME_HEADER_BYTES + f.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let off = 0;
  for (const f of frames) {
    view.setUint32(off, f.length);
    out.set(f, off + FRAME_HEADER_BYTES);
    off += FRAME_HEADER_BYTES + f.length;
  }
  return out;
}

export function encodeFrame(frame: Uint8Array): Uint8Array {
  return encodeFrames([frame]);
}

export class FrameTooLargeError extends P2PError {
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super(P2PErrorCode.frameTooLarge, `frame of ${length} bytes exceeds the limit of ${limit}`, {
      length,
      limit,
    });
    this.length = length;
    this.limit = limit;
  }
}

/**
 * Incremental decoder for one stream. Memory held is at most one partial prefix plus the received part of
 * one frame (never more than the limit). After it throws, the stream is unusable: the caller resets it.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  /** Body length of the frame being assembled, or -1 while reading a prefix. */
  private bodyLength = -1;
  private parts: Uint8Array[] = [];
  private bodyFill = 0;
  private failed = false;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held for an incomplete frame: a partial prefix, or the body received so far. */
  get buffered(): number {
    return this.headerFill + this.bodyFill;
  }

  /**
   * Consumes a chunk and returns the frames it completes, in order. Throws FrameTooLargeError as soon as a
   * prefix over the limit is seen; frames completed earlier in the same chunk are returned via `onFrame`
   * before the throw, so nothing valid is lost.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    if (this.failed) throw new P2PError(P2PErrorCode.streamFailed, 'frame decoder used after a failure');
    let off = 0;
    while (off < chunk.length) {
      if (this.bodyLength < 0) {
        // Fast path: a whole prefix available in the chunk.
        if (this.headerFill === 0 && chunk.length - off >= FRAME_HEADER_BYTES) {
          this.startBody(readU32(chunk, off));
          off += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - off);
          this.header.set(chunk.subarray(off, off + take), this.headerFill);
          this.headerFill += take;
          off += take;
          if (this.headerFill < FRAME_HEADER_BYTES) return;
          this.headerFill = 0;
          this.startBody(readU32(this.header, 0));
        }
        if (this.bodyLength === 0) {
          this.bodyLength = -1;
          onFrame(new Uint8Array(0));
        }
        continue;
      }
      const need = this.bodyLength - this.bodyFill;
      const avail = chunk.length - off;
      if (this.bodyFill === 0 && avail >= need) {
        // Whole body inside this chunk: hand out a view, no copy.
        const frame = chunk.subarray(off, off + need);
        off += need;
        this.bodyLength = -1;
        onFrame(frame);
        continue;
      }
      const take = Math.min(need, avail);
      this.parts.push(chunk.subarray(off, off + take));
      this.bodyFill += take;
      off += take;
      if (this.bodyFill === this.bodyLength) {
        const frame = concat(this.parts, this.bodyLength);
        this.parts = [];
        this.bodyFill = 0;
        this.bodyLength = -1;
        onFrame(frame);
      }
    }
  }

  private startBody(length: number): void {
    if (length > this.maxFrameBytes) {
      this.failed = true;
      throw new FrameTooLargeError(length, this.maxFrameBytes);
    }
    this.bodyLength = length;
  }
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
