/**
 * The RFC 9421 profile (docs/api.md#authentication): the documented test vector, checked against node:crypto
 * independently of the signer, and the verifier's rules that need no server (digest, nonce cache cap).
 */
import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Authenticator, type KeyRegistry } from '../../../src/api/auth.ts';
import type { ApiRequest } from '../../../src/api/http.ts';
import { signRequest } from '../../../src/api/http-signature.ts';
import { fromHex } from '../../../src/core/bytes.ts';
import { publicKeyFromSeed } from '../../../src/core/crypto.ts';
import { SM2_SM3 } from '../../../src/core/crypto-suite.ts';
import { sm2Verify } from '../../../src/core/sm/sm2.ts';

const SEED = new Uint8Array(32).fill(7);
const PUBLIC_KEY = 'ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c';
const CREATED = 1764892800;

// The vector in docs/api.md, written out by hand.
const BASE = [
  '"@method": GET',
  '"@path": /v1/cases/CASE-2026-0001',
  '"@query": ?limit=10',
  '"@signature-params": ("@method" "@path" "@query");created=1764892800;keyid="bank-a/client-1";nonce="bm9uY2UtMDAwMQ";alg="ed25519"',
].join('\n');
const SIGNATURE = 'oi/hZ61fud3uMMlHaK4OHGbsM1KflLAnT3fn1Hcr0qMX6qEqU4kQuVXCRgham4QOUjxFXW5DBMnH/X1eJKV4Dw==';

function spki(hex: string) {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(hex, 'hex')]);
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

describe('HTTP message signature profile', () => {
  it('matches the documented test vector', () => {
    expect(Buffer.from(publicKeyFromSeed(SEED)).toString('hex')).toBe(PUBLIC_KEY);
    expect(verify(null, Buffer.from(BASE), spki(PUBLIC_KEY), Buffer.from(SIGNATURE, 'base64'))).toBe(true);
    const h = signRequest(
      { method: 'GET', url: new URL('http://127.0.0.1:8100/v1/cases/CASE-2026-0001?limit=10') },
      'bank-a/client-1',
      SEED,
      CREATED,
      'bm9uY2UtMDAwMQ',
    );
    expect(h).toEqual({
      'signature-input': `sig1=${BASE.split('"@signature-params": ')[1]}`,
      signature: `sig1=:${SIGNATURE}:`,
    });
  });
});

// The SM2 vector in docs/api.md: the same request on an sm2-sm3 chain, with the SM2 private key 07 * 32.
const SM2_PUBLIC_KEY =
  '04df07dc0b31591dfb63ec895516e5bb4ad05a09c2feba6d496ce523f7303fffcd4add27de09262dc59baf690c0286f05e29948517cc1e069b988e139c00f449c8';
const SM2_BASE = BASE.replace('alg="ed25519"', 'alg="sm2-sm3"');
const SM2_SIGNATURE =
  '+DjmsXV3+jEMzw30iqm0g5Ln3xNbgFnqPkGiLnXgU3lntzEBhBVySYeKAfWzHWTH0ndDNRcZkP74x1f/2svDWA==';

describe('HTTP message signature profile on an sm2-sm3 chain', () => {
  it('matches the documented SM2 vector (SM2 over the base itself, default user ID)', () => {
    expect(Buffer.from(SM2_SM3.publicKey(SEED)).toString('hex')).toBe(SM2_PUBLIC_KEY);
    const sig = Buffer.from(SM2_SIGNATURE, 'base64');
    expect(sm2Verify(fromHex(SM2_PUBLIC_KEY), Buffer.from(SM2_BASE), sig)).toBe(true);
    expect(sm2Verify(fromHex(SM2_PUBLIC_KEY), Buffer.from(BASE), sig)).toBe(false);
    const h = signRequest(
      { method: 'GET', url: new URL('http://127.0.0.1:8100/v1/cases/CASE-2026-0001?limit=10') },
      'bank-a/client-1',
      SEED,
      CREATED,
      'bm9uY2UtMDAwMQ',
      SM2_SM3,
    );
    expect(h).toEqual({
      'signature-input': `sig1=${SM2_BASE.split('"@signature-params": ')[1]}`,
      signature: `sig1=:${SM2_SIGNATURE}:`,
    });
  });
});

describe('Authenticator', () => {
  const registry: KeyRegistry = {
    clientKey: (i, k) => (i === 'bank-a' && k === 'client-1' ? fromHex(PUBLIC_KEY) : undefined),
    roleOf: (i) => (i === 'bank-a' ? 'bank' : undefined),
  };
  const request = (body: Uint8Array, nonce: string, tamper?: Uint8Array): ApiRequest => {
    const url = new URL('http://h/v1/things?x=1');
    const headers = signRequest({ method: 'POST', url, body }, 'bank-a/client-1', SEED, CREATED, nonce);
    return {
      method: 'POST',
      path: url.pathname,
      search: url.search,
      remoteAddress: '127.0.0.1',
      params: {},
      query: url.searchParams,
      headers: { ...headers },
      body: tamper ?? body,
      signal: new AbortController().signal,
    };
  };

  it('covers the body through Content-Digest', () => {
    const auth = new Authenticator(() => registry, { now: () => CREATED * 1000 });
    const body = new TextEncoder().encode('{"a":1}');
    expect(auth.authenticate(request(body, 'n1'))).toEqual({
      institution: 'bank-a',
      keyId: 'client-1',
      role: 'bank',
    });
    const tampered = request(body, 'n2', new TextEncoder().encode('{"a":2}'));
    expect(() => auth.authenticate(tampered)).toThrow(
      expect.objectContaining({ code: 'AUTH_DIGEST_MISMATCH' }),
    );
  });

  it('bounds the nonce cache: full of live nonces it answers 503, and frees expired ones', () => {
    let now = CREATED * 1000;
    const auth = new Authenticator(() => registry, { now: () => now, maxNonces: 2 });
    const body = new Uint8Array([1]);
    auth.authenticate(request(body, 'a'));
    auth.authenticate(request(body, 'b'));
    expect(() => auth.authenticate(request(body, 'c'))).toThrow(
      expect.objectContaining({ status: 503, code: 'AUTH_BUSY' }),
    );
    // Once `created` is past the window the old nonces go; the same old request is then stale, not replayed.
    now += 302_000;
    expect(() => auth.authenticate(request(body, 'a'))).toThrow(
      expect.objectContaining({ code: 'AUTH_STALE' }),
    );
  });
});

describe('Authenticator on an sm2-sm3 chain', () => {
  const registry: KeyRegistry = {
    clientKey: (i, k) => (i === 'bank-a' && k === 'client-1' ? fromHex(SM2_PUBLIC_KEY) : undefined),
    roleOf: (i) => (i === 'bank-a' ? 'bank' : undefined),
  };
  const auth = new Authenticator(() => registry, { now: () => CREATED * 1000, suite: SM2_SM3 });
  const request = (headers: Record<string, string>, url: URL): ApiRequest => ({
    method: 'GET',
    path: url.pathname,
    search: url.search,
    remoteAddress: '127.0.0.1',
    params: {},
    query: url.searchParams,
    headers,
    body: new Uint8Array(0),
    signal: new AbortController().signal,
  });
  const url = new URL('http://h/v1/things?x=1');
  const signed = (nonce: string, suite = SM2_SM3) =>
    signRequest({ method: 'GET', url }, 'bank-a/client-1', SEED, CREATED, nonce, suite);

  it('accepts an SM2-signed request from a registered SM2 client key', () => {
    expect(auth.authenticate(request({ ...signed('s1') }, url))).toEqual({
      institution: 'bank-a',
      keyId: 'client-1',
      role: 'bank',
    });
  });

  it('refuses an Ed25519-signed request, and an SM2 signature relabelled ed25519 or altered', () => {
    const ed = signRequest({ method: 'GET', url }, 'bank-a/client-1', SEED, CREATED, 's2');
    expect(() => auth.authenticate(request({ ...ed }, url))).toThrow(
      expect.objectContaining({ code: 'AUTH_MALFORMED', message: expect.stringMatching(/alg sm2-sm3/) }),
    );
    const h = signed('s3');
    const relabelled = { ...h, 'signature-input': h['signature-input'].replace('sm2-sm3', 'ed25519') };
    expect(() => auth.authenticate(request(relabelled, url))).toThrow(
      expect.objectContaining({ code: 'AUTH_MALFORMED' }),
    );
    const other = signed('s4');
    const swapped = { ...other, signature: signed('s5').signature };
    expect(() => auth.authenticate(request(swapped, url))).toThrow(
      expect.objectContaining({ code: 'AUTH_BAD_SIGNATURE' }),
    );
  });
});
