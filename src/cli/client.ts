/**
 * A small client for the node's HTTP API, used by the CLI. Network failures become NODE_UNREACHABLE (exit 4);
 * API errors keep the node's {code, message}.
 */
import { signRequest } from '../api/http-signature.ts';
import type { CryptoSuite } from '../core/crypto-suite.ts';
import { ExitCode, exitCodes, JrError } from '../core/errors.ts';
import { UsageError } from './errors.ts';
import { type RawAnswer, requestWithCa, trustedCa } from './https-ca.ts';

export const DEFAULT_NODE_URL = 'http://127.0.0.1:8100';

/** The client's own codes; an `ApiClientError` carries the node's code instead (see exitCodeFor). */
export const ApiClientErrorCode = {
  /** No connection to the node, or no answer within the timeout. */
  unreachable: 'NODE_UNREACHABLE',
  /** The node answered JSON that does not parse. */
  badResponse: 'API_BAD_RESPONSE',
} as const;
export type ApiClientErrorCode = (typeof ApiClientErrorCode)[keyof typeof ApiClientErrorCode];
export const ApiClientErrorExit = exitCodes(ApiClientErrorCode, {
  unreachable: ExitCode.unavailable,
  badResponse: ExitCode.unavailable,
});

/** An error answer from the node: its HTTP status and its `{code, message}`. */
export class ApiClientError extends JrError {
  readonly status: number;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.status = status;
  }
}

export interface ApiResult<T> {
  status: number;
  body: T;
}

/** Who signs a client's requests (docs/api.md#authentication): `keyid` is `<institution>/<key id>`. */
export interface RequestSigner {
  keyid: string;
  /** The Ed25519 seed or, on an sm2-sm3 chain, the SM2 private key. */
  seed: Uint8Array;
  /** The chain's suite, which the key is of (default Ed25519). */
  suite?: CryptoSuite;
}

export class ApiClient {
  readonly base: string;
  private readonly timeoutMs: number;
  /** When set, every request is signed (RFC 9421) with this institution's client key. */
  signer: RequestSigner | undefined;
  /** The CA (PEM) trusted for an https node, from `--ca` or JRCHAIN_CA; the system's CAs when absent. */
  private readonly ca: string | undefined;

  constructor(base: string, timeoutMs = 30_000) {
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new UsageError(`--node must be a URL such as ${DEFAULT_NODE_URL}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--node must be http(s)');
    this.base = url.toString().replace(/\/$/, '');
    this.timeoutMs = timeoutMs;
    this.ca = trustedCa();
  }

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: Uint8Array,
    timeoutMs = this.timeoutMs,
  ): Promise<ApiResult<T>> {
    const url = new URL(`${this.base}${path}`);
    const headers: Record<string, string> =
      body !== undefined ? { 'content-type': 'application/octet-stream' } : {};
    if (this.signer !== undefined) {
      const created = Math.floor(Date.now() / 1000);
      Object.assign(
        headers,
        signRequest(
          { method, url, body },
          this.signer.keyid,
          this.signer.seed,
          created,
          undefined,
          this.signer.suite,
        ),
      );
    }
    let raw: RawAnswer;
    try {
      raw = await this.send(url, method, headers, body, timeoutMs);
    } catch (err) {
      const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new JrError(ApiClientErrorCode.unreachable, `cannot reach node at ${this.base} (${cause})`);
    }
    let parsed: unknown = raw.text;
    if (raw.contentType.includes('json')) {
      try {
        parsed = JSON.parse(raw.text);
      } catch {
        throw new JrError(ApiClientErrorCode.badResponse, `node answered ${path} with malformed JSON`);
      }
    }
    return { status: raw.status, body: parsed as T };
  }

  private async send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<RawAnswer> {
    const signal = AbortSignal.timeout(timeoutMs);
    if (this.ca !== undefined && url.protocol === 'https:')
      return requestWithCa(url, { method, headers, body, signal, ca: this.ca });
    const res = await fetch(url, { method, signal, headers, ...(body !== undefined ? { body } : {}) });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
  }

  /** GET that treats any non-2xx status as an error, except the ones listed in `ok`. */
  async get<T>(path: string, ok: number[] = []): Promise<ApiResult<T>> {
    const r = await this.request<T>('GET', path);
    if ((r.status < 200 || r.status >= 300) && !ok.includes(r.status)) throw toError(r);
    return r;
  }
}

export function toError(r: ApiResult<unknown>): ApiClientError {
  const b = r.body as { code?: unknown; message?: unknown } | undefined;
  const code = typeof b?.code === 'string' ? b.code : `HTTP_${r.status}`;
  const message = typeof b?.message === 'string' ? b.message : `node answered HTTP ${r.status}`;
  return new ApiClientError(r.status, code, message);
}

export function nodeUrl(flag: string | undefined): string {
  return flag ?? process.env.JRCHAIN_NODE ?? DEFAULT_NODE_URL;
}
