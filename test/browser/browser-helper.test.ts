/**
 * The browser helper's own guarantees: a request to anywhere but the test's loopback origin is aborted and
 * recorded, so the page tests' `blocked` assertions can fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPage } from '../helpers/browser.ts';

// 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, so nothing leaves even if the guard failed.
const PAGE = `<!doctype html><title>t</title><p id="out">waiting</p>
<img src="http://192.0.2.1/pixel.png">
<script>
fetch('http://192.0.2.1/data').then(() => 'reached', () => 'refused')
  .then((r) => { document.getElementById('out').textContent = r; });
</script>`;

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('browser helper', () => {
  it('aborts and records every request off the allowed origin', async () => {
    const blocked = await withPage(origin, async (s) => {
      await s.page.goto(`${origin}/`);
      await expect.poll(() => s.page.locator('#out').textContent(), { timeout: 30_000 }).toBe('refused');
      await expect.poll(() => s.blocked.length, { timeout: 30_000 }).toBe(2);
      return [...s.blocked].sort();
    });
    expect(blocked).toEqual(['http://192.0.2.1/data', 'http://192.0.2.1/pixel.png']);
  });

  it('closes the browser when the test body throws', async () => {
    let page: Page | undefined;
    await expect(
      withPage(origin, async (s) => {
        page = s.page;
        await s.page.goto(`${origin}/`);
        throw new Error('body failed');
      }),
    ).rejects.toThrow('body failed');
    expect(page?.isClosed()).toBe(true);
  });
});
