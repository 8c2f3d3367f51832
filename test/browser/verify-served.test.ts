/**
 * `/verify` served by a real node (a one-validator devnet: validator and TSA as processes on loopback), in
 * headless Chromium: the page with its CSP header, and the fetch-from-node flow (the document hashed in the
 * page, its receipt and the genesis fetched from the node, verified). Nothing may leave the node's origin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifierPageRoutes } from '../../src/api/verifier-page.ts';
import type { RunningDevnet } from '../../src/dev/devnet.ts';
import { WAIT, withPage } from '../helpers/browser.ts';
import { startOneValidatorDevnet, submitEvidenceCli } from '../helpers/one-devnet.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-verify-served-'));
let devnet: RunningDevnet;
let apiUrl: string;
const document = join(dir, 'agreement.txt');

/** Records the document through the real CLI and waits for its commit. */
function recordEvidence(): Promise<void> {
  const text = `mediation agreement ${Date.now()}\n`;
  return submitEvidenceCli(devnet, document, text, 'VP-1', 'mediation-agreement');
}

beforeAll(async () => {
  devnet = await startOneValidatorDevnet(dir);
  apiUrl = devnet.manifest.nodes[0]!.apiUrl;
  await recordEvidence();
}, 240_000);

afterAll(async () => {
  await devnet?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('/verify on a node', () => {
  it('is one HTML document whose CSP admits its own script and connections to this node only', async () => {
    const r = await fetch(`${apiUrl}/verify`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(await r.text()).not.toMatch(/<script[^>]*\ssrc=|<link\b/);
  }, 120_000);

  it('fetches the receipt and genesis for a local document from the node and proves it', async () => {
    await withPage(apiUrl, async ({ page, blocked, screenshot }) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${apiUrl}/verify`);
      await expect.poll(() => page.getAttribute('body', 'data-ready'), WAIT).toBe('true');
      expect(await page.inputValue('#node-url')).toBe(apiUrl);
      await page.setInputFiles('#document-file', document);
      await page.click('#fetch');
      await expect.poll(() => page.getAttribute('body', 'data-runs'), WAIT).toBe('1');
      expect(await page.locator('section.report').first().getAttribute('data-verdict')).toBe('proven');
      expect(await page.locator('li.check[data-check="file"]').getAttribute('data-status')).toBe('pass');
      expect(await page.textContent('#genesis-name')).toContain(apiUrl);
      await screenshot('verify-served-fetched');
      // Another origin is refused by the page itself (and by its CSP), not attempted.
      await page.fill('#node-url', 'http://192.0.2.1:8100');
      await page.click('#fetch');
      await expect
        .poll(() => page.textContent('#message'), WAIT)
        .toMatch(/only fetch from the node that served it/);
      expect(blocked).toEqual([]);
      expect(errors).toEqual([]);
    });
  }, 180_000);
});

describe('the /verify route without a page', () => {
  const handler = (source?: () => Promise<{ html: string; csp: string }>) =>
    verifierPageRoutes(source)[0]!.handler({} as never);

  it('answers 404 when the node was given no page, and 503 naming the cause when it cannot be built', async () => {
    expect(await handler()).toMatchObject({ status: 404 });
    const failed = await handler(() => Promise.reject(new Error("Cannot find package 'vite'")));
    expect(failed).toMatchObject({ status: 503, json: { error: 'VERIFIER_PAGE_UNAVAILABLE' } });
    expect(JSON.stringify(failed)).toContain('jrchain verifier export');
  });
});
