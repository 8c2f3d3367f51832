/**
 * The operator page at `/`: one self-contained HTML document (style and script inlined, no external
 * resources) that polls the node's public JSON endpoints. The Content-Security-Policy allows exactly the
 * inlined style and script by their SHA-256 and connections to this origin only, so even a rendering bug
 * cannot load or send anything elsewhere.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Route } from './http.ts';

const asset = (name: string) => readFileSync(new URL(`./operator/${name}`, import.meta.url), 'utf8');
const cspHash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

export interface StaticPage {
  html: string;
  csp: string;
}

/** Inlines `css` and `js` into `html` at its markers and builds the CSP that admits exactly them. */
export function inlinePage(html: string, css: string, js: string): StaticPage {
  // Function replacements: the script contains `$`, which a replacement string would interpret.
  const out = html.replace('/*CSS*/', () => css).replace('/*JS*/', () => js);
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(js)}`,
    `style-src ${cspHash(css)}`,
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html: out, csp };
}

let page: StaticPage | undefined;

/** Built on first use and kept: the assets are part of the installed code, not data. */
export function operatorPage(): StaticPage {
  page ??= inlinePage(asset('page.html'), asset('page.css'), asset('page.js'));
  return page;
}

export function operatorPageRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/',
      handler: () => {
        const p = operatorPage();
        return {
          text: p.html,
          contentType: 'text/html; charset=utf-8',
          headers: {
            'content-security-policy': p.csp,
            'x-frame-options': 'DENY',
            'referrer-policy': 'no-referrer',
          },
        };
      },
    },
  ];
}
