/**
 * Our evidence records validate with BouncyCastle's independent RFC 4998 implementation: the reduced hash
 * tree, the timestamp renewal chain, and the time at which a renewed record is checked. Skips only outside CI
 * when Java or libbcpkix-java is absent; in CI (.ci/run installs them) their absence fails.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceRecord } from '../../src/timestamp/ers.ts';
import { bcCheckErs, bouncyCastleMissing } from '../helpers/bouncycastle.ts';
import { type ArchiveFixture, archiveFixture, docs, FIRST_EXPIRY, sha256Of } from '../helpers/ers.ts';
import { DAY, T0, tempDir } from '../helpers/tsa.ts';

const missing = bouncyCastleMissing();
if (missing !== undefined && process.env.CI === 'true') {
  throw new Error(`BouncyCastle ERS interop cannot run in CI: ${missing}`);
}
if (missing !== undefined) console.warn(`skipping the BouncyCastle ERS interop tests: ${missing}`);

describe.skipIf(missing !== undefined)(
  'evidence records validate with BouncyCastle (org.bouncycastle.tsp.ers)',
  () => {
    let tmp: { path: string; cleanup: () => Promise<void> };
    let fx: ArchiveFixture;
    const file = (name: string) => join(tmp.path, name);

    beforeAll(async () => {
      tmp = await tempDir('jrchain-ers-bc-');
      fx = await archiveFixture();
      await writeFile(file('root.pem'), fx.pki.rootPem);
      for (const [i, doc] of docs.entries()) await writeFile(file(`doc${i}`), doc);
      await writeFile(file('stranger'), 'a document no archive covers\n');
    });
    afterAll(() => tmp?.cleanup());

    async function write(name: string, tokens: Uint8Array[], doc: number): Promise<string> {
      await writeFile(
        file(name),
        evidenceRecord(sha256Of(docs[doc]!), { leaves: fx.leaves, tokens }, [fx.pki.root.der]),
      );
      return file(name);
    }

    it('a record from the archive tree proves its document; BouncyCastle refuses a document not archived', async () => {
      const rec = await write('first.ers', fx.tokens.slice(0, 1), 1);
      const ok = await bcCheckErs(rec, file('doc1'), file('root.pem'), new Date(T0 + DAY));
      expect(ok.out).toBe(`OK ${new Date(T0).toISOString().replace('.000', '')}`);
      const other = await bcCheckErs(rec, file('stranger'), file('root.pem'), new Date(T0 + DAY));
      expect(other.ok, other.out).toBe(false);
    }, 240_000);

    it('after the first TSA certificate expired, only the renewed record validates', async () => {
      const at = new Date(FIRST_EXPIRY + 100 * DAY);
      const plain = await write('plain.ers', fx.tokens.slice(0, 1), 4);
      const old = await bcCheckErs(plain, file('doc4'), file('root.pem'), at);
      expect(old.ok, old.out).toBe(false);
      expect(old.out).toMatch(/not valid at/);
      const renewed = await write('renewed.ers', fx.tokens, 4);
      const now = await bcCheckErs(renewed, file('doc4'), file('root.pem'), at);
      expect(now.ok, now.out).toBe(true);
    }, 240_000);
  },
);
