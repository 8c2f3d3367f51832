/** Signed API requests (RFC 9421, docs/api.md#authentication) as the test institutions' client-1 keys. */
import { signRequest } from '../../src/api/http-signature.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { sha256 } from '../../src/core/crypto.ts';

/** The seed of `<institution>/client-1` in the test genesis (what testSigner derives). */
export function clientSeed(institution: string, keyId = 'client-1'): Uint8Array {
  return sha256(utf8.encode(`jrchain-test-key:${institution}/${keyId}`));
}

export interface SignedOptions {
  /** Signing time in ms (default: now). */
  at?: number;
  nonce?: string;
  /** Sign with this seed instead of the institution's own (a forged or stolen-identity request). */
  seed?: Uint8Array;
  method?: 'GET' | 'POST';
  body?: Uint8Array;
}

/** The headers of a request to `url` signed as `institution`/client-1. */
export function signedHeaders(url: URL, institution: string, o: SignedOptions = {}): Record<string, string> {
  const created = Math.floor((o.at ?? Date.now()) / 1000);
  return {
    ...signRequest(
      { method: o.method ?? 'GET', url, body: o.body },
      `${institution}/client-1`,
      o.seed ?? clientSeed(institution),
      created,
      o.nonce,
    ),
  };
}

/** GET `path` from `base`, signed as `institution` (unsigned when `institution` is undefined). */
export async function signedGet(
  base: string,
  path: string,
  institution: string | undefined,
  o: SignedOptions = {},
): Promise<{ status: number; json: any; headers: Record<string, string> }> {
  const url = new URL(`${base}${path}`);
  const headers = institution === undefined ? {} : signedHeaders(url, institution, o);
  const r = await fetch(url, { headers });
  return { status: r.status, json: await r.json(), headers };
}
