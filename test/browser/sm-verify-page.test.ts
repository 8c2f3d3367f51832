/**
 * The exported verification page, in headless Chromium from file:// with every request blocked, proves a
 * receipt of an sm2-sm3 chain (ADR 014): SM3 hashes and SM2 signatures checked by the page's own bundled code,
 * with no node: module. The same receipt against an Ed25519 genesis fails at the genesis check.
 */
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';
import { SM2_SM3 } from '../../src/core/crypto-suite.ts';
import { encodeEvidence } from '../../src/core/evidence.ts';
import { genesisToJson, genesisValidatorSet } from '../../src/core/genesis.ts';
import { envelope, signTx } from '../../src/core/tx.ts';
import { verifierPage } from '../../src/dev/verifier-page.ts';
import { buildReceipt, type ReceiptJson } from '../../src/receipt/receipt.ts';
import { scratchFiles, WAIT, withPage } from '../helpers/browser.ts';
import { sampleEvidence, sampleUnsignedTx, TEST_GENESIS_TIME, testGenesis } from '../helpers/fixtures.ts';
import { buildSmChain, smGenesis, smProofFor, smSigner } from '../helpers/sm-chain.ts';

const { dir, file } = scratchFiles('jrchain-sm-verify-page-');
const document = utf8.encode('mediation agreement on an SM chain, verified in a browser');
const genesis = smGenesis();
let url: string;
let receipt: ReceiptJson;

beforeAll(async () => {
  const page = await verifierPage('exported');
  url = pathToFileURL(file('verify.html', page.html)).href;
  const unsigned = sampleUnsignedTx({
    institution: 'bank-a',
    nonce: 1,
    createdAt: TEST_GENESIS_TIME + 1000,
    payload: encodeEvidence(sampleEvidence({ hash: sha256(document) })),
  });
  const tx = envelope(signTx(unsigned, smSigner('bank-a/client-1')), SM2_SM3);
  const [block] = buildSmChain(genesis, [[tx]], TEST_GENESIS_TIME + 2000);
  receipt = buildReceipt({
    genesis,
    tx,
    header: block!.header,
    certificate: block!.cert,
    validatorSet: genesisValidatorSet(genesis),
    proof: smProofFor(block!, tx),
  });
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function dropFile(p: Page, selector: string, name: string, text: string): Promise<void> {
  const dataTransfer = await p.evaluateHandle(
    `(() => { const d = new DataTransfer(); d.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)})); return d; })()`,
  );
  await p.dispatchEvent(selector, 'drop', { dataTransfer });
}

/** Loads the page, gives it the document, receipt and genesis, verifies; the verdict and failed check. */
async function verifyIn(genesisJson: string): Promise<{ verdict: string | null; failed: string | null }> {
  return withPage(url, async ({ page: p, blocked }) => {
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(url);
    await expect.poll(() => p.getAttribute('body', 'data-ready'), WAIT).toBe('true');
    await p.setInputFiles('#document-file', file('agreement.pdf', document));
    await dropFile(p, '#receipt-drop', 'receipt.json', JSON.stringify(receipt));
    await dropFile(p, '#genesis-drop', 'genesis.json', genesisJson);
    await expect.poll(() => p.textContent('#genesis-name'), WAIT).toContain('genesis.json');
    await p.click('#verify');
    await expect.poll(() => p.getAttribute('body', 'data-runs'), WAIT).toBe('1');
    const verdict = await p.locator('section.report').first().getAttribute('data-verdict');
    const failed = await p.locator('.verdict').first().getAttribute('data-failed-check');
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    return { verdict, failed };
  });
}

describe('the exported verification page and an sm2-sm3 receipt', () => {
  it('proves it offline against the SM genesis', async () => {
    const r = await verifyIn(JSON.stringify(genesisToJson(genesis)));
    expect(r.verdict).toBe('proven');
  });

  it('fails it at the genesis check against an Ed25519 genesis', async () => {
    const r = await verifyIn(JSON.stringify(genesisToJson(testGenesis())));
    expect(r.verdict).not.toBe('proven');
    expect(r.failed).toBe('genesis');
  });
});
