/**
 * The exported verification page, in headless Chromium from file:// with every request blocked, checks every
 * chain of a hash-tree renewed receipt (ADR 018): it hashes the dropped document with SHA-256 and with the new
 * chain's SHA-512 (WebCrypto), so the archive check covers both tokens. A wrong document fails.
 */
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import { genesisToJson } from '../../src/core/genesis.ts';
import { verifierPage } from '../../src/dev/verifier-page.ts';
import type { ReceiptJson } from '../../src/receipt/format.ts';
import { receiptFor } from '../../src/receipt/ledger-receipt.ts';
import { scratchFiles, WAIT, withPage } from '../helpers/browser.ts';
import { TEST_GENESIS_TIME as T, testGenesis } from '../helpers/fixtures.ts';
import { ledgerRenewed, renewedDocs } from '../helpers/ledger-renewal.ts';
import { DAY, makePki } from '../helpers/tsa.ts';

const { dir, file } = scratchFiles('jrchain-renewed-page-');
let url: string;
let receipt: ReceiptJson;
let genesisJson: string;

beforeAll(async () => {
  const page = await verifierPage('exported');
  url = pathToFileURL(file('verify.html', page.html)).href;
  const pki = await makePki({ tsaValidity: [T - DAY, T + 100 * DAY] });
  const genesis = testGenesis({ tsa: { trustAnchors: [pki.rootPem] } });
  const fx = await ledgerRenewed(pki, genesis);
  receipt = (await receiptFor(fx.queries, genesis, fx.e0.hash))!;
  genesisJson = JSON.stringify(genesisToJson(genesis));
  await fx.stop();
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function dropFile(p: Page, selector: string, name: string, text: string): Promise<void> {
  const dataTransfer = await p.evaluateHandle(
    `(() => { const d = new DataTransfer(); d.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)})); return d; })()`,
  );
  await p.dispatchEvent(selector, 'drop', { dataTransfer });
}

interface Outcome {
  verdict: string | null;
  failed: string | null;
  archiveDetail: string | null;
  archiveStamps: number;
}

/** Loads the page, gives it `document`, the renewed receipt and the genesis, verifies. */
async function verifyWith(document: Uint8Array): Promise<Outcome> {
  return withPage(url, async ({ page: p, blocked }) => {
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(url);
    await expect.poll(() => p.getAttribute('body', 'data-ready'), WAIT).toBe('true');
    await p.setInputFiles('#document-file', file('contract.pdf', document));
    await dropFile(p, '#receipt-drop', 'receipt.json', JSON.stringify(receipt));
    await dropFile(p, '#genesis-drop', 'genesis.json', genesisJson);
    await expect.poll(() => p.textContent('#genesis-name'), WAIT).toContain('genesis.json');
    await p.click('#verify');
    await expect.poll(() => p.getAttribute('body', 'data-runs'), WAIT).toBe('1');
    const archive = p.locator('li[data-check="archive"] .check-detail');
    const out = {
      verdict: await p.locator('section.report').first().getAttribute('data-verdict'),
      failed: await p.locator('.verdict').first().getAttribute('data-failed-check'),
      archiveDetail: (await archive.count()) > 0 ? await archive.first().textContent() : null,
      archiveStamps: await p.locator('li[data-check="archiveStamp"], li[data-check="renewal"]').count(),
    };
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    return out;
  });
}

describe('the exported verification page and a hash-tree renewed receipt', () => {
  it('checks the SHA-256 and the SHA-512 chain with the document', async () => {
    const r = await verifyWith(renewedDocs[0]!);
    expect(r.verdict).toBe('proven');
    expect(r.archiveDetail).toContain('chains sha256, sha512');
    expect(r.archiveDetail).not.toContain('not checked');
    // The archive token and the new chain's token, each listed.
    expect(r.archiveStamps).toBe(2);
  });

  it('fails with another document', async () => {
    const r = await verifyWith(utf8.encode('not the loan contract'));
    expect(r.verdict).toBe('not-proven');
    expect(r.failed).toBe('file');
  });
});
