/**
 * The verification page at `/verify` (ADR 013). The page is a bundle of src/api/verifier/ that the node's
 * wiring supplies (`VerifierPageSource`; the CLI builds it with src/dev/verifier-page.ts): the API module
 * cannot bundle by itself. Its CSP admits exactly its inlined script and style and connections to this origin.
 */
import type { Route } from './http.ts';

export interface VerifierPage {
  html: string;
  csp: string;
}

export type VerifierPageSource = () => Promise<VerifierPage>;

export function verifierPageRoutes(source: VerifierPageSource | undefined): Route[] {
  return [
    {
      method: 'GET',
      path: '/verify',
      handler: async () => {
        if (source === undefined) {
          return {
            status: 404,
            json: { error: 'NOT_FOUND', message: 'this node serves no verification page' },
          };
        }
        let page: VerifierPage;
        try {
          page = await source();
        } catch (err) {
          return {
            status: 503,
            json: {
              error: 'VERIFIER_PAGE_UNAVAILABLE',
              message: `the verification page cannot be built here (${(err as Error).message}); use a file from \`jrchain verifier export\``,
            },
          };
        }
        return {
          text: page.html,
          contentType: 'text/html; charset=utf-8',
          headers: {
            'content-security-policy': page.csp,
            'x-frame-options': 'DENY',
            'referrer-policy': 'no-referrer',
          },
        };
      },
    },
  ];
}
