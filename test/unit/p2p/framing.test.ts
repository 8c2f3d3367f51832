import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { P2PErrorCode } from '../../../src/p2p/errors.ts';
import { encodeFrame, encodeFrames, FrameDecoder, FrameTooLargeError } from '../../../src/p2p/framing.ts';

function decodeAll(decoder: FrameDecoder, chunks: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) decoder.push(c, (f) => out.push(new Uint8Array(f)));
  return out;
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

describe('framing', () => {
  it('encodes a u32 big-endian length prefix then the body', () => {
    expect([...encodeFrame(new Uint8Array([7, 8, 9]))]).toEqual([0, 0, 0, 3, 7, 8, 9]);
    expect([...encodeFrames([new Uint8Array(0), new Uint8Array([1])])]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it('decodes frames back whatever the chunking, including empty frames', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const wire = encodeFrames(frames);
          const got = decodeAll(new FrameDecoder(300), split(wire, cuts));
          expect(got).toEqual(frames);
        },
      ),
    );
  });

  it('decodes byte by byte', () => {
    const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(1000).fill(9)];
    const wire = encodeFrames(frames);
    const chunks = Array.from(wire, (b) => new Uint8Array([b]));
    expect(decodeAll(new FrameDecoder(1000), chunks)).toEqual(frames);
  });

  it('accepts a frame exactly at the limit', () => {
    const f = new Uint8Array(64).fill(5);
    expect(decodeAll(new FrameDecoder(64), [encodeFrame(f)])).toEqual([f]);
  });

  it('refuses an oversize length prefix before any body byte arrives', () => {
    const d = new FrameDecoder(1024);
    // Only the 4 prefix bytes (announcing 4 GiB - 1): the decoder must refuse without waiting for a body.
    const err = (() => {
      try {
        d.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]), () => {});
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FrameTooLargeError);
    expect((err as FrameTooLargeError).code).toBe(P2PErrorCode.frameTooLarge);
    expect((err as FrameTooLargeError).length).toBe(0xffff_ffff);
    expect(d.buffered).toBe(0);
  });

  it('refuses an oversize prefix split across chunks', () => {
    const d = new FrameDecoder(10);
    d.push(new Uint8Array([0, 0]), () => {});
    expect(() => d.push(new Uint8Array([0, 11]), () => {})).toThrow(FrameTooLargeError);
  });

  it('delivers frames that precede an oversize prefix in the same chunk, then refuses', () => {
    const d = new FrameDecoder(4);
    const wire = new Uint8Array([...encodeFrame(new Uint8Array([1, 2])), 0, 0, 0, 5, 1, 1, 1, 1, 1]);
    const got: Uint8Array[] = [];
    expect(() => d.push(wire, (f) => got.push(f))).toThrow(FrameTooLargeError);
    expect(got).toEqual([new Uint8Array([1, 2])]);
  });

  it('is unusable after a refusal (the stream is reset)', () => {
    const d = new FrameDecoder(1);
    expect(() => d.push(encodeFrame(new Uint8Array(2)), () => {})).toThrow(FrameTooLargeError);
    expect(() => d.push(new Uint8Array([0]), () => {})).toThrow(/after a failure/);
  });

  it('buffers at most the received part of one frame', () => {
    const d = new FrameDecoder(1 << 20);
    const wire = encodeFrame(new Uint8Array(1 << 20));
    d.push(wire.subarray(0, 1000), () => {});
    expect(d.buffered).toBe(1000 - 4); // the prefix is parsed, not held
  });
});
