import { describe, expect, it } from 'vitest';
import { mergeSigned, type SignedTxs } from '../../../../src/dev/bench/presign.ts';

/** A range of `n` fake txs of `size` bytes each, byte value = its index in the range (mod 256). */
function range(n: number, size: number, tag: string): SignedTxs {
  const bytes = new Uint8Array(n * size);
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    bytes.fill(i % 256, i * size, (i + 1) * size);
    offsets[i + 1] = (i + 1) * size;
  }
  return { bytes, offsets, hashes: Array.from({ length: n }, (_, i) => `${tag}${i}`) };
}

describe('bench presign: merging the workers’ ranges', () => {
  it('concatenates bytes, offsets and hashes in order', () => {
    const m = mergeSigned([range(2, 3, 'a'), range(3, 2, 'b')]);
    expect([...m.offsets]).toEqual([0, 3, 6, 8, 10, 12]);
    expect([...m.bytes]).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 2, 2]);
    expect(m.hashes).toEqual(['a0', 'a1', 'b0', 'b1', 'b2']);
  });

  it('takes ranges of 150,000 txs each (spreading them into push overflowed the stack)', () => {
    const m = mergeSigned([range(150_000, 1, 'a'), range(150_000, 1, 'b')]);
    expect(m.hashes).toHaveLength(300_000);
    expect(m.hashes[150_000]).toBe('b0');
    expect(m.offsets[300_000]).toBe(300_000);
  });
});
