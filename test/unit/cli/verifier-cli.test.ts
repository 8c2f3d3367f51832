/** `jrchain verifier export`: one self-contained HTML file, under 1 MB, that may connect nowhere. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';

const dir = mkdtempSync(join(tmpdir(), 'jrchain-verifier-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('jrchain verifier export', () => {
  it('writes the verification page as one HTML file whose CSP forbids every connection', async () => {
    const io = memoryIo();
    const file = join(dir, 'verify.html');
    expect(await runCli(['verifier', 'export', file], io)).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(io.stdout).toBe(`wrote ${file} (${Buffer.byteLength(html)} bytes)\n`);
    expect(Buffer.byteLength(html)).toBeLessThan(1024 * 1024);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toContain('default-src &#39;none&#39;');
    expect(csp).not.toContain('connect-src');
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b/);
    expect(html).toContain('id="receipt-text"');
  }, 120_000);
});
