/**
 * The operator page in real headless Chromium against a real one-validator devnet (validator and TSA as
 * processes on loopback). Every request outside the node's origin is blocked and must never happen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningDevnet } from '../../src/dev/devnet.ts';
import { WAIT, withPage } from '../helpers/browser.ts';
import { startOneValidatorDevnet, submitEvidenceCli } from '../helpers/one-devnet.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-operator-page-'));
let devnet: RunningDevnet;
let apiUrl: string;

/** Records one evidence file through the real CLI and waits for its commit, so the chain grows by a block. */
function recordEvidence(n: number): Promise<void> {
  const text = `operator page test evidence ${n} ${Date.now()}\n`;
  return submitEvidenceCli(devnet, join(dir, `evidence-${n}.txt`), text, `OP-${n}`, 'contract');
}

beforeAll(async () => {
  devnet = await startOneValidatorDevnet(dir);
  apiUrl = devnet.manifest.nodes[0]!.apiUrl;
}, 180_000);

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('operator page', () => {
  it('is one HTML document with a strict Content-Security-Policy', async () => {
    const r = await fetch(`${apiUrl}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await r.text();
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//);
  });

  it('shows the height and follows it live, lists the validators, and never leaves loopback', async () => {
    await withPage(apiUrl, async ({ page, blocked, screenshot }) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${apiUrl}/`);
      const heightText = page.locator('#height');
      await expect
        .poll(async () => Number(await heightText.textContent()), { timeout: 30_000 })
        .toBeGreaterThanOrEqual(0);
      const before = Number(await heightText.textContent());
      await recordEvidence(1);
      await expect
        .poll(async () => Number(await heightText.textContent()), { timeout: 60_000 })
        .toBeGreaterThan(before);
      const rows = page.locator('#validators tr');
      await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(1);
      expect(await rows.first().getAttribute('data-institution')).toBe(devnet.manifest.nodes[0]!.institution);
      await expect.poll(() => page.locator('#blocks tr').count(), { timeout: 30_000 }).toBeGreaterThan(0);
      await screenshot('operator-page-en');
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
    });
  });

  it('switches between Chinese and English, defaulting to the browser language', async () => {
    await withPage(
      apiUrl,
      async ({ page, blocked, screenshot }) => {
        await page.goto(`${apiUrl}/`);
        const label = page.locator('[data-i18n="validators"]');
        await expect.poll(() => label.textContent(), WAIT).toBe('验证节点');
        expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
        await expect
          .poll(async () => (await page.locator('#height').textContent())?.trim(), WAIT)
          .toMatch(/^\d+$/);
        await screenshot('operator-page-zh');
        await page.click('#lang');
        await expect.poll(() => label.textContent(), WAIT).toBe('Validators');
        expect(await page.getAttribute('html', 'lang')).toBe('en');
        await page.click('#lang');
        await expect.poll(() => label.textContent(), WAIT).toBe('验证节点');
        expect(blocked).toEqual([]);
      },
      { locale: 'zh-CN' },
    );
  });
});
