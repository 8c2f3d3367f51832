/** `jrchain receipt verify-ers`: an evidence record checked offline for a document, at a chosen time. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { evidenceRecord } from '../../../src/timestamp/ers.ts';
import { archiveFixture, docs, FIRST_EXPIRY, sha256Of, unrenewed } from '../../helpers/ers.ts';
import { DAY, T0 } from '../../helpers/tsa.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-ers-cli-'));
const path = (name: string) => join(dir, name);

beforeAll(async () => {
  const fx = await archiveFixture();
  writeFileSync(path('root.pem'), fx.pki.rootPem);
  writeFileSync(path('doc'), docs[0]!);
  writeFileSync(path('other'), 'a document no archive covers\n');
  const first = unrenewed(fx);
  writeFileSync(path('first.ers'), evidenceRecord(sha256Of(docs[0]!), first));
  writeFileSync(path('renewed.ers'), evidenceRecord(sha256Of(docs[0]!), fx));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verifyErs(file: string, doc: string, at: number, ...flags: string[]) {
  const io = memoryIo();
  const args = ['receipt', 'verify-ers', path(file), '--doc', path(doc), '--tsa-ca', path('root.pem')];
  const code = await runCli([...args, '--at', new Date(at).toISOString(), ...flags], io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('jrchain receipt verify-ers', () => {
  it('proves the document since the first token, and says when to renew', async () => {
    const r = await verifyErs('first.ers', 'doc', T0 + DAY);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`PROVEN: the document existed no later than ${new Date(T0).toISOString()}`);
    expect(r.stdout).toContain(`renew before ${new Date(FIRST_EXPIRY).toISOString()}`);
  });

  it('fails for another document, and for an unrenewed record after its certificate expired', async () => {
    const other = await verifyErs('first.ers', 'other', T0 + DAY, '--json');
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/reduced hash tree/),
    });
    const late = await verifyErs('first.ers', 'doc', FIRST_EXPIRY + DAY);
    expect(late.code).toBe(1);
    expect(late.stdout).toMatch(/not renewed in time/);
    const renewed = await verifyErs('renewed.ers', 'doc', FIRST_EXPIRY + DAY, '--json');
    expect(renewed.code).toBe(0);
    expect(JSON.parse(renewed.stdout).steps).toHaveLength(2);
  });

  it('refuses to run without trust anchors or with a bad --at', async () => {
    const io = memoryIo();
    expect(await runCli(['receipt', 'verify-ers', path('first.ers'), '--doc', path('doc')], io)).not.toBe(0);
    expect(io.stderr).toMatch(/--tsa-ca/);
    expect((await verifyErs('first.ers', 'doc', T0, '--at', 'yesterday')).code).not.toBe(0);
  });
});
