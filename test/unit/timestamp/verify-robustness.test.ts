/**
 * The verifiers never throw on bad input: seeded structural mutations of real tokens and responses (and
 * tokens with one malformed field, built on purpose) give a failed check, never an exception. A failing
 * case prints its seed; rerun one with the same seed string.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { der } from '../../../src/timestamp/asn1.ts';
import { describeTimestamp } from '../../../src/timestamp/inspect.ts';
import * as signature from '../../../src/timestamp/signature.ts';
import { checkBinding, type VerifyResult } from '../../../src/timestamp/verify.ts';
import { verifyEvidenceToken, verifyTimestamp } from '../../../src/timestamp/verify-node.ts';
import { mutateDer } from '../../helpers/der-mutate.ts';
import { buildToken, makePki, type Pki, startTsa, T0 } from '../../helpers/tsa.ts';
import { Prng } from '../../sim/prng.ts';

const digest = new Uint8Array(createHash('sha256').update('robustness').digest());
let pki: Pki;
let inputs: { name: string; bytes: Uint8Array }[];

beforeAll(async () => {
  pki = await makePki({ intermediates: 1 });
  const tsa = await startTsa(pki, T0, { policy: '1.2.3.4' });
  const s = await tsa.stamp(digest, 'sha256', { nonce: true });
  inputs = [
    { name: 'response', bytes: s.response },
    { name: 'token', bytes: s.token },
  ];
  return () => tsa.stop();
});

const verify = (bytes: Uint8Array): VerifyResult =>
  verifyTimestamp(bytes, { trustAnchors: [pki.root], untrusted: pki.intermediates, digest });

/** A token identical to a good one except for its `tsa` GeneralName. */
const withTsaName = (tsaName: Uint8Array) =>
  buildToken(pki, { digest, tsaName, certificates: [pki.tsa.der] });

describe('malformed fields give a failed check', () => {
  it.each<[string, Uint8Array]>([
    ['a directoryName holding no Name', der.explicit(4, der.octets(Uint8Array.of(1, 2, 3)))],
    ['a directoryName whose Name holds a broken RDN', der.explicit(4, der.seq(der.int(5n)))],
    [
      'a directoryName with an empty SEQUENCE inside an RDN',
      der.explicit(4, der.seq(der.setOf([der.seq()]))),
    ],
  ])('a tsa name that is %s fails tsaName', (_what, name) => {
    const r = verify(withTsaName(name));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.failedCheck).toBe('tsaName');
    expect(r.ok ? '' : r.reason).toMatch(/tsa field/);
  });

  it('a status text that is not valid UTF-8 fails decode', () => {
    const badUtf8 = Uint8Array.of(0x0c, 2, 0xc3, 0x28);
    const r = verify(der.seq(der.seq(der.int(2n), der.seq(badUtf8))));
    expect(r.ok ? [] : [r.failedCheck, r.reason]).toEqual([
      'decode',
      expect.stringMatching(/not valid UTF-8/),
    ]);
  });

  it('a UniversalString status text beyond Unicode fails decode', () => {
    const beyond = Uint8Array.of(0x1c, 4, 0x7f, 0xff, 0xff, 0xff);
    const r = verify(der.seq(der.seq(der.int(2n), der.seq(beyond))));
    expect(r.ok ? [] : [r.failedCheck, r.reason]).toEqual([
      'decode',
      expect.stringMatching(/beyond Unicode/),
    ]);
  });
});

describe('an exception no check anticipated', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('fails the check that was running instead of escaping the verifier', async () => {
    const tsa = await startTsa(pki);
    const { token } = await tsa.stamp(digest, 'sha256');
    vi.spyOn(signature, 'cmsSignatureCheck').mockImplementation(() => {
      throw new TypeError('a bug in the signature check');
    });
    const r = verify(token);
    expect(r.ok ? [] : [r.failedCheck, r.reason]).toEqual([
      'signature',
      'unexpected TypeError: a bug in the signature check',
    ]);
  });
});

describe('seeded mutations never throw', () => {
  const runs = 600;
  it(`${runs} mutated responses and tokens through every verifier`, () => {
    const failedChecks = new Map<string, number>();
    const unexpected: string[] = [];
    for (let i = 0; i < runs; i++) {
      const seed = `tsa-mutation#${i}`;
      const rng = new Prng(seed);
      const base = rng.pick(inputs);
      let bytes = base.bytes;
      for (let k = rng.int(1, 3); k > 0; k--) bytes = mutateDer(bytes, rng);
      try {
        const r = verify(bytes);
        if (!r.ok) failedChecks.set(r.failedCheck, (failedChecks.get(r.failedCheck) ?? 0) + 1);
        // The verifier turns an exception no check anticipated into a failure; each is still a bug to fix.
        if (!r.ok && r.reason.startsWith('unexpected'))
          unexpected.push(`${seed}: ${r.failedCheck}: ${r.reason}`);
        checkBinding(bytes, { digest });
        verifyEvidenceToken(bytes, digest, 'sha256', {
          trustAnchors: [pki.root],
          now: T0,
          toleranceMs: 1000,
        });
        try {
          describeTimestamp(bytes);
        } catch (err) {
          if ((err as { code?: string }).code !== 'TSA_UNPARSABLE') throw err;
        }
      } catch (err) {
        throw new Error(`seed ${seed} (${base.name}): ${(err as Error).stack}`);
      }
    }
    expect(unexpected).toEqual([]);
    // The mutations reach well past decoding: many distinct checks fail.
    expect(failedChecks.size, JSON.stringify([...failedChecks])).toBeGreaterThanOrEqual(8);
  });
});
