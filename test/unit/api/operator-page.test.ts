import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inlinePage, operatorPage } from '../../../src/api/operator-page.ts';

const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

describe('operator page assets', () => {
  it('inlines style and script verbatim and admits exactly them by hash', () => {
    const js = 'const a = "$&$1"; console.log(a);';
    const css = 'body { color: red; }';
    const p = inlinePage('<style>/*CSS*/</style><script>/*JS*/</script>', css, js);
    expect(p.html).toBe(`<style>${css}</style><script>${js}</script>`);
    expect(p.csp).toContain(`script-src ${sha(js)}`);
    expect(p.csp).toContain(`style-src ${sha(css)}`);
    expect(p.csp).toMatch(/^default-src 'none'; /);
    expect(p.csp).not.toContain('unsafe');
  });

  it('the served page carries no markers and no external resources', () => {
    const { html } = operatorPage();
    expect(html).not.toContain('/*JS*/');
    expect(html).not.toContain('/*CSS*/');
    expect(html).not.toMatch(/\b(src|href)\s*=|@import|url\(/);
  });

  it('the script never parses node data as HTML', () => {
    const js = readFileSync(new URL('../../../src/api/operator/page.js', import.meta.url), 'utf8');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(js).toContain('textContent');
  });
});
