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
