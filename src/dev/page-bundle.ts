/**
 * Bundles a browser module (TypeScript, with its npm imports) into ONE self-contained HTML file: the script
 * inlined, no external resources, and a Content-Security-Policy meta tag that admits exactly that script and
 * style by hash and forbids every connection. Such a file works from `file://` with the network off; it is
 * the basis for the exported verification page (issue 18). Vite (a devDependency) does the bundling, so
 * it is imported only when a bundle is built.
 */
import { createHash } from 'node:crypto';
import { JrError } from '../core/errors.ts';

export interface PageBundleOptions {
  /** The browser module to bundle; it runs once the document is parsed. */
  entry: string;
  /** The document's title (escaped here). */
  title: string;
  /** The body's markup, the module's static skeleton (trusted: it comes from the source tree). */
  body: string;
  css?: string;
  lang?: string;
  /** A `connect-src` source list (e.g. `'self'`); without one the page may connect nowhere. */
  connect?: string;
}

export interface PageBundle {
  html: string;
  /** The bundled script alone, for size checks. */
  script: string;
  /** The Content-Security-Policy of the meta tag, for a server to send as a header too. */
  csp: string;
}

const cspHash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Minified IIFE of `entry` with every import inlined (no code splitting, no dynamic chunks). */
async function bundleScript(entry: string): Promise<string> {
  const { build } = await import('vite');
  const out = await build({
    configFile: false,
    logLevel: 'silent',
    publicDir: false,
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      lib: { entry, formats: ['iife'], name: 'jrchainPage' },
    },
  });
  const results = Array.isArray(out) ? out : [out];
  const chunks = results.flatMap((r) => ('output' in r ? r.output : [])).filter((o) => o.type === 'chunk');
  if (chunks.length !== 1) {
    throw new JrError('PAGE_BUNDLE_FAILED', `bundling ${entry} gave ${chunks.length} chunks, not one`);
  }
  return chunks[0]!.code;
}

export async function bundlePage(o: PageBundleOptions): Promise<PageBundle> {
  // A script may not contain its own end tag; a bundle of string literals with "</script" would end early.
  const script = (await bundleScript(o.entry)).replace(/<\/(script)/gi, '<\\/$1');
  const css = o.css ?? '';
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(script)}`,
    `style-src ${cspHash(css)}`,
    'img-src data: blob:',
    ...(o.connect !== undefined ? [`connect-src ${o.connect}`] : []),
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const html = [
    '<!doctype html>',
    `<html lang="${escapeHtml(o.lang ?? 'en')}">`,
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(o.title)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    '<body>',
    o.body,
    `<script>${script}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { html, script, csp };
}
