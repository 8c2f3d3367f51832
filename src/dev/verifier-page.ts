/**
 * The verification page (src/api/verifier/) bundled into one self-contained HTML file (ADR 013): `exported`
 * for `jrchain verifier export` (no connection of any kind allowed), `served` for a node's `/verify` (it may
 * fetch from that node only). Bundling needs vite, a devDependency, imported only when a page is built.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundlePage, type PageBundle } from './page-bundle.ts';

const asset = (name: string) => new URL(`../api/verifier/${name}`, import.meta.url);

export type VerifierVariant = 'exported' | 'served';

const built = new Map<VerifierVariant, Promise<PageBundle>>();

/** Builds the page once per variant and keeps it: its sources are part of the installed code. */
export function verifierPage(variant: VerifierVariant): Promise<PageBundle> {
  let p = built.get(variant);
  if (p === undefined) {
    p = bundlePage({
      entry: fileURLToPath(asset('page.ts')),
      title: 'JRChain · Verify a receipt / 验证存证回执',
      body: readFileSync(asset('body.html'), 'utf8'),
      css: readFileSync(asset('page.css'), 'utf8'),
      ...(variant === 'served' ? { connect: "'self'" } : {}),
    });
    // A failed build (vite missing) is not kept: the next request tries again.
    p.catch(() => built.delete(variant));
    built.set(variant, p);
  }
  return p;
}
