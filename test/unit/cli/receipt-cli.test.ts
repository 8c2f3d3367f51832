/** `jrchain receipt verify` output: checks by their stable enum names, failures with their codes. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { genesisToJson, genesisValidatorSet } from '../../../src/core/genesis.ts';
import {
  buildReceipt,
  RECEIPT_CHECK_ORDER,
  ReceiptCheck,
  ReceiptFailureCode,
} from '../../../src/receipt/receipt.ts';
import { buildCorpus } from '../../fuzz/corpus.ts';
import { buildChain, proofFor } from '../../helpers/certified-chain.ts';
import { evidenceTx, testGenesis } from '../../helpers/fixtures.ts';

const genesis = testGenesis();
const dir = mkdtempSync(join(tmpdir(), 'jrchain-receipt-cli-'));
const path = (name: string) => join(dir, name);

beforeAll(() => {
  const tx = evidenceTx({ nonce: 1 });
  const [block] = buildChain(genesis, [[tx]], 1_780_000_000_000);
  const receipt = buildReceipt({
    genesis,
    tx,
    header: block!.header,
    certificate: block!.cert,
    validatorSet: genesisValidatorSet(genesis),
    proof: proofFor(block!, tx),
  });
  writeFileSync(path('genesis.json'), JSON.stringify(genesisToJson(genesis)));
  writeFileSync(path('good.json'), JSON.stringify(receipt));
  writeFileSync(path('bad.json'), JSON.stringify({ ...receipt, txHash: '00'.repeat(32) }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verify(file: string, ...flags: string[]) {
  const io = memoryIo();
  const code = await runCli(
    ['receipt', 'verify', path(file), '--genesis', path('genesis.json'), ...flags],
    io,
  );
  return { code, stdout: io.stdout };
}

describe('jrchain receipt verify', () => {
  it('--json names every check by its enum value, in order', async () => {
    const r = await verify('good.json', '--json');
    expect(r.code).toBe(0);
    const checks = JSON.parse(r.stdout).checks as { name: string; status: string }[];
    expect(checks.map((c) => c.name)).toEqual(RECEIPT_CHECK_ORDER);
  });

  it('a failure carries its code, in JSON and in the text', async () => {
    const json = await verify('bad.json', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).checks.at(-1)).toEqual({
      name: ReceiptCheck.tx,
      status: 'fail',
      code: ReceiptFailureCode.hashMismatch,
      detail: 'txHash is not the hash of tx',
    });
    const text = await verify('bad.json');
    expect(text.stdout).toMatch(/^FAIL tx {13}txHash is not the hash of tx \[RECEIPT_HASH_MISMATCH\]$/m);
  });

  it('--profile court requires the anchor this receipt lacks; the standard profile skips it', async () => {
    expect((await verify('good.json')).code).toBe(0);
    const court = await verify('good.json', '--profile', 'court', '--json');
    expect(court.code).toBe(1);
    expect(JSON.parse(court.stdout).checks.at(-1)).toMatchObject({
      name: ReceiptCheck.anchor,
      code: ReceiptFailureCode.anchorMissing,
    });
    expect((await verify('good.json', '--profile', 'judge')).code).not.toBe(0);
  });
});

describe('jrchain receipt verify --at', () => {
  // The corpus receipt (v4): an anchor, an archive timestamp and one renewal, all by a TSA certificate that
  // expires on 2027-06-01.
  beforeAll(async () => {
    const c = await buildCorpus();
    writeFileSync(path('corpus-genesis.json'), JSON.stringify(genesisToJson(c.genesis)));
    writeFileSync(path('v4.json'), JSON.stringify(c.receipt));
    const { archive: _, ...v3 } = { ...c.receipt, format: 'jrchain-receipt/v3' };
    writeFileSync(path('v3.json'), JSON.stringify(v3));
  });
  const at = (file: string, time: string, ...flags: string[]) =>
    verify(file, '--genesis', path('corpus-genesis.json'), '--at', time, ...flags);

  it('while the certificates are valid, proves the time and lists the archive timestamp and its renewal', async () => {
    const r = await at('v4.json', '2026-07-01T00:00:00Z');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(
      /^ok +archive +evidence hash existed no later than .* 1 renewal, chains sha256, valid at 2026-07-01/m,
    );
    expect(r.stdout).toMatch(/^ {2}renewal 1 at 2026-.* valid until 2027-06-01/m);
    expect(r.stdout).toMatch(/^ {2}renew the archive before 2027-06-01/m);
  });

  it('after they expired, the unrenewed archive fails, and a receipt without one fails at the anchor', async () => {
    const v4 = await at('v4.json', '2028-01-01T00:00:00Z', '--json');
    expect(v4.code).toBe(1);
    const checks = JSON.parse(v4.stdout).checks;
    expect(checks.find((c: { name: string }) => c.name === 'anchor').detail).toMatch(
      /expired at 2027-06-01.*the archive check must prove the time/,
    );
    expect(checks.at(-1)).toMatchObject({ name: 'archive', code: ReceiptFailureCode.badTimestamp });
    const v3 = await at('v3.json', '2028-01-01T00:00:00Z', '--json');
    expect(JSON.parse(v3.stdout).checks.at(-1)).toMatchObject({
      name: 'anchor',
      detail: expect.stringMatching(/carries no renewed archive timestamp/),
    });
    // Without --at, both verify as of when their tokens were made.
    expect((await verify('v3.json', '--genesis', path('corpus-genesis.json'))).code).toBe(0);
  });

  it('a time that is not ISO 8601 is a usage error', async () => {
    const r = await at('v4.json', 'next tuesday');
    expect(r.code).toBe(2);
  });
});
