/**
 * HTTP Message Signatures (RFC 9421), the profile JRChain uses to authenticate API requests
 * (docs/api.md#authentication): one signature labelled `sig1`, covering `@method`, `@path`, `@query` and, for a
 * request with a body, `content-digest` (RFC 9530, sha-256); parameters `created`, `keyid`
 * (`<institution>/<key id>`), `nonce` and `alg`: `ed25519` on an Ed25519 chain, `sm2-sm3` on an SM chain
 * (ADR 014: client keys are of the chain's suite). The signature is over the signature base itself, as RFC 9421
 * §3.3.6 says for Ed25519 (SM2: over SM3(Z ‖ base) with the default user ID); a base starts with `"`, so it can
 * never be a domain-separated message (`jrchain/...`) that the same client key signs for txs. Pure: no clock,
 * no I/O; the verifier decides policy.
 */
import { type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { utf8 } from '../core/bytes.ts';
import { cachedPublicKey, privateKeyFromSeed, SIGNATURE_LENGTH, sha256 } from '../core/crypto.ts';
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { sm2Sign, sm2Verify } from '../core/sm/sm2.ts';

export const SIGNATURE_LABEL = 'sig1';
export const NO_BODY_COMPONENTS = ['@method', '@path', '@query'] as const;
export const BODY_COMPONENTS = [...NO_BODY_COMPONENTS, 'content-digest'] as const;

/** The `alg` parameter of a chain's suite: RFC 9421's `ed25519`, or `sm2-sm3` (SM2 with SM3, GM/T 0003). */
export function httpSignatureAlg(suite: CryptoSuite): string {
  return suite === ED25519_SHA256 ? 'ed25519' : suite.name;
}

export interface SignatureParams {
  components: string[];
  created: number;
  keyid: string;
  nonce: string;
  alg: string;
}

/** What a signature covers: the request line parts and the body's digest header (when it has a body). */
export interface SignedRequest {
  method: string;
  path: string;
  /** The raw query with its `?`, or `''` when there is none (covered as `?`, RFC 9421 §2.2.7). */
  search: string;
  contentDigest?: string | undefined;
}

/** The `content-digest` header value of a body: `sha-256=:<base64>:`. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${Buffer.from(sha256(body)).toString('base64')}:`;
}

/** The serialised signature parameters: the `Signature-Input` value after `sig1=`. */
export function serializeParams(p: SignatureParams): string {
  const list = p.components.map((c) => `"${c}"`).join(' ');
  return `(${list});created=${p.created};keyid="${p.keyid}";nonce="${p.nonce}";alg="${p.alg}"`;
}

function componentValue(name: string, r: SignedRequest): string {
  switch (name) {
    case '@method':
      return r.method.toUpperCase();
    case '@path':
      return r.path;
    case '@query':
      return r.search === '' ? '?' : r.search;
    case 'content-digest':
      if (r.contentDigest === undefined) throw new Error('content-digest is covered but absent');
      return r.contentDigest.trim();
    default:
      throw new Error(`component ${name} is not supported`);
  }
}

/** The signature base (RFC 9421 §2.5): one line per covered component, then `"@signature-params"`. */
export function signatureBase(r: SignedRequest, p: SignatureParams): string {
  const lines = p.components.map((c) => `"${c}": ${componentValue(c, r)}`);
  lines.push(`"@signature-params": ${serializeParams(p)}`);
  return lines.join('\n');
}

export interface SignatureHeaders {
  'signature-input': string;
  signature: string;
  'content-digest'?: string;
}

/**
 * Signs a request as `keyid` with a private key of `suite`: an Ed25519 seed (or its private key object, made
 * once by a client that signs many requests), or an SM2 private key; a fresh random nonce unless one is given.
 */
export function signRequest(
  r: { method: string; url: URL; body?: Uint8Array | undefined },
  keyid: string,
  seed: Uint8Array | KeyObject,
  created: number,
  nonce = randomBytes(16).toString('base64url'),
  suite: CryptoSuite = ED25519_SHA256,
): SignatureHeaders {
  const hasBody = r.body !== undefined && r.body.length > 0;
  const digest = hasBody ? contentDigest(r.body!) : undefined;
  const params: SignatureParams = {
    components: [...(hasBody ? BODY_COMPONENTS : NO_BODY_COMPONENTS)],
    created,
    keyid,
    nonce,
    alg: httpSignatureAlg(suite),
  };
  const req = { method: r.method, path: r.url.pathname, search: r.url.search, contentDigest: digest };
  const base = utf8.encode(signatureBase(req, params));
  let sig: Uint8Array;
  if (suite === ED25519_SHA256) {
    sig = sign(null, base, seed instanceof Uint8Array ? privateKeyFromSeed(seed) : seed);
  } else {
    if (!(seed instanceof Uint8Array)) throw new TypeError(`a ${suite.name} request key is raw bytes`);
    sig = sm2Sign(seed, base);
  }
  return {
    'signature-input': `${SIGNATURE_LABEL}=${serializeParams(params)}`,
    signature: `${SIGNATURE_LABEL}=:${Buffer.from(sig).toString('base64')}:`,
    ...(digest !== undefined ? { 'content-digest': digest } : {}),
  };
}

const TOKEN = /^[A-Za-z0-9._~:/#@+=-]{1,200}$/;
const INPUT = /^sig1=\(((?:"[a-z@-]+"(?: "[a-z@-]+")*)?)\)((?:;[a-z]+=(?:"[^"\\]*"|\d{1,15}))*)$/;

/** Parses a `Signature-Input` value of this profile; undefined when it does not have its shape. */
export function parseSignatureInput(value: string): SignatureParams | undefined {
  const m = INPUT.exec(value.trim());
  if (m === null) return undefined;
  const components = m[1] === '' ? [] : m[1]!.split(' ').map((c) => c.slice(1, -1));
  const params = new Map<string, string>();
  for (const part of m[2]!.split(';').slice(1)) {
    const [k, v] = part.split(/=(.*)/s) as [string, string];
    if (params.has(k)) return undefined;
    params.set(k, v.startsWith('"') ? v.slice(1, -1) : v);
  }
  const created = params.get('created');
  const keyid = params.get('keyid');
  const nonce = params.get('nonce');
  const alg = params.get('alg');
  if (created === undefined || !/^\d+$/.test(created)) return undefined;
  if (keyid === undefined || !TOKEN.test(keyid) || nonce === undefined || !TOKEN.test(nonce))
    return undefined;
  if (alg === undefined || params.size !== 4) return undefined;
  return { components, created: Number(created), keyid, nonce, alg };
}

/** The signature bytes of a `Signature` value `sig1=:<base64>:`; undefined when malformed. */
export function parseSignature(value: string): Uint8Array | undefined {
  const m = /^sig1=:([A-Za-z0-9+/]+={0,2}):$/.exec(value.trim());
  if (m === null) return undefined;
  const b = new Uint8Array(Buffer.from(m[1]!, 'base64'));
  return b.length === SIGNATURE_LENGTH ? b : undefined;
}

/** Verifies a signature of `suite` over a signature base; a malformed key verifies as false. */
export function verifyBase(
  publicKey: Uint8Array,
  base: string,
  signature: Uint8Array,
  suite: CryptoSuite = ED25519_SHA256,
): boolean {
  try {
    if (suite !== ED25519_SHA256) return sm2Verify(publicKey, utf8.encode(base), signature);
    // The key's KeyObject is cached (building one costs about as much as the verify).
    return verify(null, utf8.encode(base), cachedPublicKey(publicKey), signature);
  } catch {
    return false;
  }
}
