/**
 * The exported verification page (`jrchain verifier export`) in real headless Chromium, opened from file://
 * with every request blocked: a good receipt, each tampered field, a wrong document, a case receipt, Chinese,
 * and how long a verification takes (reported, not asserted). Screenshots go to test-output/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageBundle } from '../../src/dev/page-bundle.ts';
import { verifierPage } from '../../src/dev/verifier-page.ts';
import { WAIT, withPage } from '../helpers/browser.ts';
import { type PageFixtures, pageFixtures } from './fixtures/receipts.ts';
import { tamperings } from './fixtures/tamper.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-verify-page-'));
let page: PageBundle;
let f: PageFixtures;
let url: string;
const file = (name: string, data: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

beforeAll(async () => {
  [page, f] = await Promise.all([verifierPage('exported'), pageFixtures()]);
  url = pathToFileURL(file('verify.html', page.html)).href;
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  });

  it('from file://, offline, proves a good receipt with its document and shows every check', async () => {
    await withPage(url, async ({ page: p, blocked, screenshot }) => {
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(String(e)));
      await p.goto(url);
      await expect.poll(() => p.getAttribute('body', 'data-ready'), WAIT).toBe('true');
      await p.setInputFiles('#document-file', file('statement.pdf', f.document));
      await p.setInputFiles('#receipt-file', file('receipt.json', JSON.stringify(f.receipt, null, 2)));
      await p.setInputFiles('#genesis-file', file('genesis.json', f.genesisJson));
      const r = await verify(p);
      expect(r.verdict).toBe('proven');
      const statuses = await p
        .locator('li.check')
        .evaluateAll((els) =>
          els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.status),
        );
      expect(statuses).toEqual(Array(14).fill('pass'));
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
      await p.emulateMedia({ media: 'print' });
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
