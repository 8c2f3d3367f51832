/**
 * The fast subset of `npm run fuzz`: every target on a few hundred mutants with a fixed seed, none
 * unexpected; and the harness itself counts an exception a decoder should not throw, and only that.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CodecError, CodecErrorCode } from '../../src/core/codec.ts';
import { buildCorpus } from './corpus.ts';
import { fuzzTarget } from './run.ts';
import { decoder, type Target, targets } from './targets.ts';

const SEED = 20_261_205;
let all: Target[];

beforeAll(async () => {
  all = targets(await buildCorpus());
});

describe('npm run fuzz, fast subset', () => {
  it('covers the receipt and token verifiers and the canonical decoders', () => {
    const names = all.map((t) => t.name);
    for (const n of ['verifyReceipt', 'verifyTimestamp', 'decodeHeader', 'parseTx', 'parseToken']) {
      expect(names).toContain(n);
    }
  });

  it('gives no unexpected outcome on 200 mutants per target', async () => {
    const reports: Awaited<ReturnType<typeof fuzzTarget>>[] = [];
    for (const t of all) reports.push(await fuzzTarget(t, 200, SEED));
    const bad = reports.filter((r) => r.unexpected > 0);
    expect(bad, `seed ${SEED}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
  });
});

describe('the harness', () => {
  const seeds = [Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)];

  it('counts an untyped exception from a decoder as unexpected, with the seed', async () => {
    const broken = decoder('broken', seeds, (b) => {
      if (b.length !== 8) throw new RangeError('index out of range');
    });
    const r = await fuzzTarget(broken, 300, SEED);
    expect(r.unexpected).toBeGreaterThan(0);
    expect(r.examples[0]).toMatch(new RegExp(`^seed ${SEED}: RangeError: index out of range`));
  });

  it('does not count a typed refusal', async () => {
    const strict = decoder('strict', seeds, (b) => {
      if (b.length !== 8) throw new CodecError(CodecErrorCode.truncated, 'wrong length');
    });
    expect((await fuzzTarget(strict, 300, SEED)).unexpected).toBe(0);
  });
});
