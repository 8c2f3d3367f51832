/** SM3 (GM/T 0004-2012): the standard's examples, and agreement with Node's OpenSSL and the openssl command. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../../src/core/bytes.ts';
import { Sm3, sm3, sm3Js } from '../../../../src/core/sm/sm3.ts';
import { opensslHas, testBytes } from '../../../helpers/sm.ts';

const nodeSm3 = (data: Uint8Array) => createHash('sm3').update(data).digest('hex');

const HAS_OPENSSL_SM3 = opensslHas('digest', 'SM3');

describe('SM3', () => {
  it('reproduces the two examples of GM/T 0004-2012 appendix A (pure TypeScript and the Node path)', () => {
    for (const f of [sm3, sm3Js]) {
      expect(toHex(f(utf8.encode('abc')))).toBe(
        '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
      );
      expect(toHex(f(utf8.encode('abcd'.repeat(16))))).toBe(
        'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
      );
    }
  });

  it("agrees with node:crypto's SM3 at every length around the block and padding boundaries", () => {
    for (let length = 0; length <= 200; length++) {
      const data = testBytes(`len-${length}`, length);
      expect(toHex(sm3Js(data)), `length ${length}`).toBe(nodeSm3(data));
    }
  });

  it('gives the same digest however the input is split across updates', () => {
    const data = testBytes('split', 1000);
    const whole = toHex(sm3(data));
    for (const chunk of [1, 7, 63, 64, 65, 333]) {
      const h = new Sm3();
      for (let i = 0; i < data.length; i += chunk) h.update(data.subarray(i, i + chunk));
      expect(toHex(h.digest()), `chunks of ${chunk}`).toBe(whole);
    }
    expect(toHex(sm3(data.subarray(0, 10), data.subarray(10)))).toBe(whole);
    expect(toHex(sm3Js(data.subarray(0, 10), data.subarray(10)))).toBe(whole);
  });

  it('refuses to be used after its digest', () => {
    const h = new Sm3().update(utf8.encode('abc'));
    h.digest();
    expect(() => h.digest()).toThrow(/digest called twice/);
    expect(() => h.update(utf8.encode('x'))).toThrow(/update after digest/);
  });

  describe.skipIf(!HAS_OPENSSL_SM3)(
    'against `openssl dgst -sm3` (skipped when this openssl lacks SM3)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'jrchain-sm3-'));
      afterAll(() => rmSync(dir, { recursive: true, force: true }));

      it('agrees on inputs of several sizes', () => {
        for (const length of [0, 1, 55, 56, 64, 1000, 100_000]) {
          const data = testBytes(`openssl-${length}`, length);
          const file = join(dir, `in-${length}`);
          writeFileSync(file, data);
          const out = execFileSync('openssl', ['dgst', '-sm3', '-r', file], { encoding: 'utf8' });
          expect(toHex(sm3(data)), `length ${length}`).toBe(out.split(' ')[0]);
        }
      });
    },
  );
});
