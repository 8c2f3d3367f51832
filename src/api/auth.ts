/**
 * Request authentication (docs/api.md#authentication): an institution signs a request with one of its client
 * keys in force (RFC 9421, see http-signature.ts). The verifier checks, in order: the headers are there and
 * have this profile's shape, the covered components, the key is registered (and not revoked), the body's
 * digest, the signature, `created` within the skew window, and the nonce unused. A nonce is remembered only
 * after the signature verifies, so only key holders can fill the cache, and it is kept as long as its
 * `created` could still pass the window: a replay inside the window finds it, one after is stale. The window
 * is short (60 s back) so that the cache, bounded, holds every nonce of thousands of requests per second
 * (replay-cache.ts).
 */
import { type CryptoSuite, ED25519_SHA256 } from '../core/crypto-suite.ts';
import { ExitCode, exitCodes } from '../core/errors.ts';
import type { InstitutionRole } from '../core/roles.ts';
import { ApiError, type ApiRequest } from './http.ts';
import {
  BODY_COMPONENTS,
  contentDigest,
  httpSignatureAlg,
  NO_BODY_COMPONENTS,
  parseSignature,
  parseSignatureInput,
  signatureBase,
  verifyBase,
} from './http-signature.ts';
import { ReplayCache } from './replay-cache.ts';

export const AuthErrorCode = {
  /** No Signature / Signature-Input headers on a route that needs them. */
  required: 'AUTH_REQUIRED',
  /** The headers do not have this profile's shape, or cover the wrong components. */
  malformed: 'AUTH_MALFORMED',
  /** keyid names no client key in force (unknown institution, unknown or revoked key). */
  unknownKey: 'AUTH_UNKNOWN_KEY',
  /** The Content-Digest header does not match the body. */
  digestMismatch: 'AUTH_DIGEST_MISMATCH',
  /** The signature does not verify under the named key. */
  badSignature: 'AUTH_BAD_SIGNATURE',
  /** `created` is outside the accepted window (too old or in the future). */
  stale: 'AUTH_STALE',
  /** The nonce was already used inside the window. */
  replayed: 'AUTH_REPLAYED',
  /** The nonce cache is full of live nonces: try again shortly (503). */
  busy: 'AUTH_BUSY',
} as const;
export type AuthErrorCode = (typeof AuthErrorCode)[keyof typeof AuthErrorCode];
/** The node refused the request: the answer is no (1), except a busy node (4). */
export const AuthErrorExit = exitCodes(AuthErrorCode, {
  required: ExitCode.failed,
  malformed: ExitCode.failed,
  unknownKey: ExitCode.failed,
  digestMismatch: ExitCode.failed,
  badSignature: ExitCode.failed,
  stale: ExitCode.failed,
  replayed: ExitCode.failed,
  busy: ExitCode.unavailable,
});

/** An authenticated caller. */
export interface Caller {
  institution: string;
  keyId: string;
  role: InstitutionRole;
}

/** The registry in force: an institution's client key and role. */
export interface KeyRegistry {
  clientKey(institution: string, keyId: string): Uint8Array | undefined;
  roleOf(institution: string): InstitutionRole | undefined;
}

export interface AuthOptions {
  now: () => number;
  /** How far in the past `created` may be, in seconds. */
  maxAgeSec?: number;
  /** How far in the future `created` may be (clock skew), in seconds. */
  maxFutureSec?: number;
  /** Most nonces remembered at once. */
  maxNonces?: number;
  /** The chain's suite (ADR 014): client keys, and so request signatures, are of it. Default Ed25519. */
  suite?: CryptoSuite;
}

/**
 * 60 s back, 30 s ahead: a nonce is kept at most 91 s, so 600,000 of them carry 6,600 signed requests/s with
 * `created` 30 s ahead, about 9,800/s with `created` now (16-byte digests: about 40 MB when full).
 */
export const DEFAULT_MAX_AGE_SEC = 60;
export const DEFAULT_MAX_FUTURE_SEC = 30;
export const DEFAULT_MAX_NONCES = 600_000;

const unauthorized = (code: AuthErrorCode, message: string) => new ApiError(401, code, message);

function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? undefined : v;
}

export class Authenticator {
  readonly #registry: () => KeyRegistry;
  readonly #now: () => number;
  readonly #maxAge: number;
  readonly #maxFuture: number;
  readonly #suite: CryptoSuite;
  readonly #nonces: ReplayCache;

  constructor(registry: () => KeyRegistry, opts: AuthOptions) {
    this.#registry = registry;
    this.#now = opts.now;
    this.#maxAge = opts.maxAgeSec ?? DEFAULT_MAX_AGE_SEC;
    this.#maxFuture = opts.maxFutureSec ?? DEFAULT_MAX_FUTURE_SEC;
    this.#suite = opts.suite ?? ED25519_SHA256;
    this.#nonces = new ReplayCache(this.#maxAge, opts.maxNonces ?? DEFAULT_MAX_NONCES);
  }

  /** True when the request carries signature headers (it is then verified even on public routes). */
  static present(req: ApiRequest): boolean {
    return req.headers.signature !== undefined || req.headers['signature-input'] !== undefined;
  }

  /** The caller, or a 401 ApiError saying why not. */
  authenticate(req: ApiRequest): Caller {
    const input = header(req, 'signature-input');
    const sigHeader = header(req, 'signature');
    if (input === undefined || sigHeader === undefined)
      throw unauthorized(
        AuthErrorCode.required,
        'this route needs a signed request (docs/api.md#authentication)',
      );
    const params = parseSignatureInput(input);
    const signature = parseSignature(sigHeader);
    if (params === undefined || signature === undefined)
      throw unauthorized(
        AuthErrorCode.malformed,
        'Signature-Input or Signature does not have the sig1 profile',
      );
    const hasBody = req.body.length > 0;
    const expected = hasBody ? BODY_COMPONENTS : NO_BODY_COMPONENTS;
    const alg = httpSignatureAlg(this.#suite);
    if (params.alg !== alg || params.components.join(' ') !== expected.join(' '))
      throw unauthorized(
        AuthErrorCode.malformed,
        `the signature must cover ${expected.join(' ')} with alg ${alg} (the chain's suite)`,
      );
    const { caller, key } = this.#caller(params.keyid);
    const digest = header(req, 'content-digest');
    if (hasBody && digest?.trim() !== contentDigest(req.body))
      throw unauthorized(
        AuthErrorCode.digestMismatch,
        'Content-Digest is missing or does not match the body',
      );
    const base = signatureBase(
      { method: req.method, path: req.path, search: req.search, contentDigest: digest },
      params,
    );
    if (!verifyBase(key, base, signature, this.#suite))
      throw unauthorized(AuthErrorCode.badSignature, `the signature does not verify under ${params.keyid}`);
    const now = Math.floor(this.#now() / 1000);
    this.#checkFresh(params.created, now);
    const verdict = this.#nonces.use(params.keyid, params.nonce, params.created, now);
    if (verdict === 'replayed') throw unauthorized(AuthErrorCode.replayed, 'this nonce was already used');
    if (verdict === 'full')
      throw new ApiError(503, AuthErrorCode.busy, 'too many recent signed requests; retry shortly');
    return caller;
  }

  #caller(keyid: string): { caller: Caller; key: Uint8Array } {
    // Institution and key ids never hold a '/' (ID_PATTERN), so the split is unambiguous.
    const slash = keyid.indexOf('/');
    const institution = keyid.slice(0, Math.max(slash, 0));
    const keyId = keyid.slice(slash + 1);
    const reg = this.#registry();
    const role = reg.roleOf(institution);
    const key = reg.clientKey(institution, keyId);
    if (slash <= 0 || role === undefined || key === undefined)
      throw unauthorized(AuthErrorCode.unknownKey, `${keyid} is not a client key in force`);
    return { caller: { institution, keyId, role }, key };
  }

  #checkFresh(created: number, now: number): void {
    if (created < now - this.#maxAge || created > now + this.#maxFuture) {
      throw unauthorized(
        AuthErrorCode.stale,
        `created ${created} is outside [now - ${this.#maxAge}s, now + ${this.#maxFuture}s] (now ${now})`,
      );
    }
  }
}

/** A registry view over equality-checked keys, for callers holding plain maps. */
export function registryOf(
  keys: ReadonlyMap<string, ReadonlyMap<string, Uint8Array>>,
  roleOf: (institution: string) => InstitutionRole | undefined,
): KeyRegistry {
  return { clientKey: (i, k) => keys.get(i)?.get(k), roleOf };
}
