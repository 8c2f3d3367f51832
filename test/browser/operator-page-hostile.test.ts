/**
 * The operator page renders whatever the node says as text: markup in the status and block JSON stays
 * visible characters and never becomes elements or runs script. A failing node shows an error banner.
 * A stand-in API serves the page and hostile JSON, so the strings can be ones no real chain accepts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ApiServer } from '../../src/api/http.ts';
import { operatorPageRoutes } from '../../src/api/operator-page.ts';
import { withPage } from '../helpers/browser.ts';

const EVIL = '<img src=x onerror="document.title=\'pwned\'"><b>bold</b>';
let failing = false;
/** Blocks answer 401, as they do off loopback without a signature (ADR 009). */
let blocksRefused = false;

const status = () => ({
  chainId: EVIL,
  genesisHash: EVIL,
  institution: EVIL,
  height: 1,
  view: EVIL,
  primary: EVIL,
  consensus: EVIL,
  validators: [{ institution: EVIL, peerId: EVIL }],
  peers: [EVIL],
  anchor: { anchoredHeight: 0, lagBlocks: EVIL, lagMs: 0, lastError: EVIL },
  sync: { state: 'syncing', targetHeight: EVIL },
});
const block = {
  hash: EVIL,
  header: {
    height: 1,
    time: '2026-01-01T00:00:00.000Z',
    txCount: EVIL,
    proposer: 0,
    proposerInstitution: EVIL,
  },
};

const server = new ApiServer({
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 1024,
  logger: { warn: () => {}, error: () => {} },
  routes: [
    ...operatorPageRoutes(),
    {
      method: 'GET',
      path: '/v1/status',
      handler: () => {
        if (failing) throw new ApiError(503, 'NOT_READY', 'the node is stopping');
        return { json: status() };
      },
    },
    {
      method: 'GET',
      path: '/v1/blocks/:height',
      handler: () => {
        if (blocksRefused) throw new ApiError(401, 'AUTH_REQUIRED', 'sign the request');
        return { json: block };
      },
    },
  ],
});
let url: string;

beforeAll(async () => {
  url = await server.start();
});
afterAll(() => server.stop());

describe('operator page with hostile or failing data', () => {
  it('shows markup from the node as text and creates no element from it', async () => {
    await withPage(url, async ({ page, blocked }) => {
      await page.goto(`${url}/`);
      await expect.poll(() => page.locator('#institution').textContent(), { timeout: 30_000 }).toBe(EVIL);
      await expect.poll(() => page.locator('#blocks tr').count(), { timeout: 30_000 }).toBe(1);
      expect(await page.locator('#primary').textContent()).toBe(EVIL);
      expect(await page.locator('#validators td').first().textContent()).toBe(EVIL);
      expect(await page.locator('#blocks td').nth(2).textContent()).toBe(EVIL);
      expect(await page.locator('main img, main b').count()).toBe(0);
      expect(await page.title()).not.toBe('pwned');
      expect(blocked).toEqual([]);
    });
  });

  it('shows an error banner while the node answers with errors, and clears it when it recovers', async () => {
    await withPage(url, async ({ page }) => {
      await page.goto(`${url}/`);
      const banner = page.locator('#error');
      await expect.poll(() => page.locator('#height').textContent(), { timeout: 30_000 }).toBe('1');
      failing = true;
      try {
        await expect.poll(() => banner.isVisible(), { timeout: 30_000 }).toBe(true);
        expect(await banner.textContent()).toContain('HTTP 503');
      } finally {
        failing = false;
      }
      await expect.poll(() => banner.isVisible(), { timeout: 30_000 }).toBe(false);
    });
  });

  it('keeps showing the status when blocks are refused (off loopback), and says why the blocks are missing', async () => {
    blocksRefused = true;
    try {
      await withPage(url, async ({ page }) => {
        await page.goto(`${url}/`);
        const note = page.locator('#blocks-note');
        await expect.poll(() => note.isVisible(), { timeout: 30_000 }).toBe(true);
        expect(await note.textContent()).toContain('not public');
        expect(await page.locator('#height').textContent()).toBe('1');
        expect(await page.locator('#blocks tr').count()).toBe(0);
        expect(await page.locator('#error').isVisible()).toBe(false);
      });
    } finally {
      blocksRefused = false;
    }
  });
});
