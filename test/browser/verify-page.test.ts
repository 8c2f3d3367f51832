/**
 * The exported verification page (`jrchain verifier export`) in real headless Chromium, opened from file://
 * with every request blocked: a good receipt, each tampered field, a wrong document, a case receipt, Chinese,
 * and how long a verification takes (reported, not asserted). Screenshots go to test-output/.
 */
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageBundle } from '../../src/dev/page-bundle.ts';
import { verifierPage } from '../../src/dev/verifier-page.ts';
import { receiptFingerprint } from '../../src/receipt/fingerprint.ts';
import { scratchFiles, WAIT, withPage } from '../helpers/browser.ts';
import { type PageFixtures, pageFixtures } from '../helpers/page-receipts.ts';
import { tamperings } from '../helpers/page-tamper.ts';

const { dir, file } = scratchFiles('jrchain-verify-page-');
let page: PageBundle;
let f: PageFixtures;
let url: string;

beforeAll(async () => {
  [page, f] = await Promise.all([verifierPage('exported'), pageFixtures()]);
  url = pathToFileURL(file('verify.html', page.html)).href;
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Drops a file named `name` holding `text` on the element `selector`, as a user dragging it from a folder. */
async function dropFile(p: Page, selector: string, name: string, text: string): Promise<void> {
  const dataTransfer = await p.evaluateHandle(
    `(() => { const d = new DataTransfer(); d.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)})); return d; })()`,
  );
  await p.dispatchEvent(selector, 'drop', { dataTransfer });
}

/** Clicks Verify and waits for this run's report; returns the first report's verdict and failed check. */
async function verify(p: Page): Promise<{ verdict: string | null; failed: string | null; ms: number }> {
  const runs = Number((await p.getAttribute('body', 'data-runs')) ?? '0');
  await p.click('#verify');
  await expect.poll(() => p.getAttribute('body', 'data-runs'), WAIT).toBe(String(runs + 1));
  const report = p.locator('section.report').first();
  return {
    verdict: await report.getAttribute('data-verdict'),
    failed: await p.locator('.verdict').first().getAttribute('data-failed-check'),
    ms: Number(await p.getAttribute('body', 'data-ms')),
  };
}

describe('the exported verification page', () => {
  it('is one HTML file under 1 MB whose CSP allows no connection at all', () => {
    expect(Buffer.byteLength(page.html)).toBeLessThan(1024 * 1024);
    expect(page.html).not.toMatch(/<script[^>]*\ssrc=|<link\b|@import/);
    expect(page.csp).toContain("default-src 'none'");
    expect(page.csp).not.toMatch(/connect-src|unsafe/);
    expect(page.script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it('from file://, offline, proves a good receipt with its document and shows every check', async () => {
    await withPage(url, async ({ page: p, blocked, screenshot }) => {
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(String(e)));
      await p.goto(url);
      await expect.poll(() => p.getAttribute('body', 'data-ready'), WAIT).toBe('true');
      await p.setInputFiles('#document-file', file('statement.pdf', f.document));
      // The document by the file picker; the receipt and genesis dropped on their zones.
      await dropFile(p, '#receipt-drop', 'receipt.json', JSON.stringify(f.receipt, null, 2));
      await dropFile(p, '#genesis-drop', 'genesis.json', f.genesisJson);
      await expect.poll(() => p.textContent('#genesis-name'), WAIT).toContain('genesis.json');
      await expect.poll(() => p.textContent('#receipt-name'), WAIT).toContain('receipt.json');
      const r = await verify(p);
      expect(r.verdict).toBe('proven');
      const statuses = await p
        .locator('li.check')
        .evaluateAll((els) =>
          els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.status),
        );
      // Every check, and under the archive check one line for the archive timestamp and one per renewal.
      expect(statuses).toEqual(Array(17).fill('pass'));
      const archive = await p.locator('li.check[data-check="renewal"]').textContent();
      expect(archive).toMatch(/#1 · 2026-.* · valid until /);
      const text = (await p.locator('section.report').textContent()) ?? '';
      for (const v of [
        f.receipt.summary.evidence.hash,
        'bank-a, bank-b, bank-c',
        f.receipt.summary.institution,
      ]) {
        expect(text).toContain(v);
      }
      // A second run, warm, is what a reader waits for; the figure is reported, not asserted.
      const warm = await verify(p);
      console.log(
        `verification page: verified a receipt offline in ${r.ms} ms (first run), ${warm.ms} ms (second)`,
      );
      await screenshot('verify-page-proven');
      // Printed, the report stands alone: no input forms, the verdict and the fingerprint kept.
      await p.emulateMedia({ media: 'print' });
      expect(await p.isVisible('section.inputs')).toBe(false);
      expect(await p.isVisible('#verify')).toBe(false);
      expect(await p.isVisible('.verdict')).toBe(true);
      expect(await p.locator('table.facts').textContent()).toContain(receiptFingerprint(f.receipt));
      await screenshot('verify-page-print');
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
    });
  });

  it('names the failed check for each tampered field and for a wrong document', async () => {
    await withPage(url, async ({ page: p, blocked, screenshot }) => {
      await p.goto(url);
      await expect.poll(() => p.getAttribute('body', 'data-ready'), WAIT).toBe('true');
      const failedAt: Record<string, string | null> = {};
      const want: Record<string, string> = {};
      for (const [i, t] of tamperings(f.receipt, f.genesisJson).entries()) {
        await p.setInputFiles('#document-file', file(`doc-${i}.bin`, t.document ?? f.document));
        await p.setInputFiles('#genesis-file', file(`genesis-${i}.json`, t.genesis));
        await p.fill('#receipt-text', t.receipt);
        const r = await verify(p);
        failedAt[t.name] = r.verdict === 'not-proven' ? r.failed : 'proven';
        want[t.name] = t.check;
        if (t.check === 'file') await screenshot('verify-page-wrong-document');
      }
      expect(failedAt).toEqual(want);
      expect(blocked).toEqual([]);
    });
  });

  it('shows markup in a receipt as text, never as markup', async () => {
    await withPage(url, async ({ page: p, blocked }) => {
      await p.goto(url);
      await expect.poll(() => p.getAttribute('body', 'data-ready'), WAIT).toBe('true');
      await p.setInputFiles('#genesis-file', file('genesis-h.json', f.genesisJson));
      const hostile = '<img src=x onerror="document.body.dataset.pwned=1">';
      await p.fill('#receipt-text', JSON.stringify({ ...f.receipt, [hostile]: 1 }));
      const r = await verify(p);
      expect([r.verdict, r.failed]).toEqual(['not-proven', 'format']);
      expect(await p.locator('li.check[data-check="format"] .check-detail').textContent()).toContain(hostile);
      expect(await p.locator('#results img').count()).toBe(0);
      expect(await p.getAttribute('body', 'data-pwned')).toBeNull();
      expect(blocked).toEqual([]);
    });
  });

  it('verifies a case receipt, in Chinese by the browser default', async () => {
    await withPage(
      url,
      async ({ page: p, blocked, screenshot }) => {
        await p.goto(url);
        await expect.poll(() => p.getAttribute('body', 'data-ready'), WAIT).toBe('true');
        expect(await p.getAttribute('html', 'lang')).toBe('zh-CN');
        await p.setInputFiles('#genesis-file', file('case-genesis.json', f.caseGenesisJson));
        await p.fill('#receipt-text', f.caseReceiptJson);
        const r = await verify(p);
        expect(r.verdict).toBe('proven');
        expect(await p.locator('.verdict strong').textContent()).toBe('已证明');
        await screenshot('verify-page-case-zh');
        await p.click('#lang');
        expect(await p.locator('.verdict strong').textContent()).toBe('PROVEN');
        expect(blocked).toEqual([]);
      },
      { locale: 'zh-CN' },
    );
  });
});
