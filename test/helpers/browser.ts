/**
 * Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core (never a browser
 * download). Every request that is not to the test's own loopback origin is aborted and recorded, so a page
 * that reaches out anywhere else fails its test instead of waiting on a closed network.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.JRCHAIN_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots for humans to look at; gitignored. */
export const TEST_OUTPUT = join(import.meta.dirname, '..', '..', 'test-output');

/** Options for `expect.poll` on a page: generous, since the machine may be busy with cluster tests. */
export const WAIT = { timeout: 30_000, interval: 100 } as const;

/** Without the background-networking flags Chromium floods the closed network with connections at start. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserSession {
  page: Page;
  /** URLs the page asked for outside the allowed origin (all aborted). */
  blocked: string[];
  screenshot(name: string): Promise<string>;
}

/**
 * Runs `body` with a fresh page whose requests may only go to `origin` (e.g. `http://127.0.0.1:8101`; for a
 * file:// page, the file's own URL, so that it may fetch nothing at all), then
 * closes the browser and removes its profile, whether `body` passed or threw.
 */
export async function withPage<T>(
  origin: string,
  body: (s: BrowserSession) => Promise<T>,
  opts: { locale?: string } = {},
): Promise<T> {
  const profile = mkdtempSync(join(tmpdir(), 'jrchain-chromium-'));
  let context: BrowserContext | undefined;
  try {
    // A persistent context on a fresh, empty profile directory: Playwright's way to pass --user-data-dir.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: FLAGS,
      timeout: 60_000,
      locale: opts.locale ?? 'en-US',
    });
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === origin || new URL(url).origin === origin) return route.continue();
      blocked.push(url);
      return route.abort('blockedbyclient');
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    const screenshot = async (name: string) => {
      mkdirSync(TEST_OUTPUT, { recursive: true });
      const path = join(TEST_OUTPUT, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    };
    return await body({ page, blocked, screenshot });
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

/** A scratch directory for a page test, and a writer of files into it that returns each file's path. */
export function scratchFiles(prefix: string): {
  dir: string;
  file: (name: string, data: string | Uint8Array) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = (name: string, data: string | Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  return { dir, file };
}
