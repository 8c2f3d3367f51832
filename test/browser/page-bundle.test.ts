/**
 * The page bundler: a TypeScript browser module with an npm import becomes one HTML file that works from
 * file:// in Chromium with every network request blocked.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlePage, type PageBundle } from '../../src/dev/page-bundle.ts';
import { WAIT, withPage } from '../helpers/browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-page-bundle-'));
let bundle: PageBundle;

beforeAll(async () => {
  bundle = await bundlePage({
    entry: join(import.meta.dirname, 'fixtures', 'hash-page.ts'),
    title: 'Hash <test> & "page"',
    body: '<textarea id="input">abc</textarea>\n<pre id="digest"></pre>',
    css: 'pre { font-family: monospace; }',
  });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('page bundle', () => {
  it('is one HTML file: the script inlined, no external resources, a CSP that forbids connections', () => {
    expect(bundle.html).toContain(`<script>${bundle.script}</script>`);
    expect(bundle.html).not.toMatch(/<script[^>]*\ssrc=|<link\b|@import/);
    expect(bundle.html).toContain('<title>Hash &#60;test&#62; &#38; &#34;page&#34;</title>');
    const attr = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(bundle.html)?.[1] ?? '';
    const csp = attr.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/connect-src|unsafe/);
    expect(bundle.script).not.toMatch(/\bimport\s*\(|\brequire\(/);
    expect(Buffer.byteLength(bundle.html)).toBeLessThan(1024 * 1024);
  });

  it('runs from file:// with all network blocked and hashes locally', async () => {
    const file = join(dir, 'hash.html');
    writeFileSync(file, bundle.html);
    const url = pathToFileURL(file).href;
    const expected = (s: string) => createHash('sha256').update(s).digest('hex');
    await withPage(url, async ({ page, blocked, screenshot }) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(url);
      const digest = page.locator('#digest');
      await expect.poll(() => digest.textContent(), { timeout: 30_000 }).toBe(expected('abc'));
      await page.fill('#input', '调解协议 mediation agreement');
      await expect.poll(() => digest.textContent(), WAIT).toBe(expected('调解协议 mediation agreement'));
      await screenshot('page-bundle');
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
    });
  });
});
