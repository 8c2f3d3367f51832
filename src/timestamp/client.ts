/**
 * RFC 3161 over HTTP, client side: POST a TimeStampReq, with a per-attempt timeout, a response size limit,
 * and retries with capped exponential backoff (with jitter) on transient failures only.
 */
import {
  acceptResponse,
  type Service,
  type StampOptions,
  type StampResult,
  type TimestampAuthority,
  type TrustConfig,
} from './authority.ts';
import { isTimestampError, TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import type { HashAlg } from './oids.ts';
import { buildTimeStampReq } from './request.ts';
import { QUERY_CONTENT_TYPE, REPLY_CONTENT_TYPE } from './server.ts';

export interface HttpTsaClientOptions {
  url: string;
  /** Per attempt, body included (default TsaLimits.clientTimeoutMs). */
  timeoutMs?: number;
  /** Further attempts after the first, on transient failures (default TsaLimits.clientRetries). */
  retries?: number;
  /** First backoff delay, doubled per retry up to `backoffMaxMs`. */
  backoffMs?: number;
  backoffMaxMs?: number;
  /** Extra request headers, e.g. authorization for a commercial TSA. */
  headers?: Record<string, string>;
  /** Verify every token fully against these anchors; without them only the binding to the request is checked. */
  trust?: TrustConfig;
  /** Policy to request when a stamp call names none. */
  policy?: string;
}

/** Failures worth another attempt: the network, timeouts, 5xx/408/429, and a TSA that is busy or lacks time. */
export function isTransient(err: unknown): boolean {
  if (!isTimestampError(err)) return false;
  switch (err.code) {
    case TimestampErrorCode.timeout:
      return true;
    case TimestampErrorCode.httpError: {
      const status = err.details?.status;
      return typeof status !== 'number' || status >= 500 || status === 408 || status === 429;
    }
    case TimestampErrorCode.rejected: {
      const failInfo = (err.details?.failInfo ?? []) as string[];
      if (err.details?.status === 'waiting') return true;
      return failInfo.length > 0 && failInfo.every((f) => f === 'timeNotAvailable' || f === 'systemFailure');
    }
    default:
      return false;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class HttpTsaClient implements TimestampAuthority, Service {
  readonly #opts: HttpTsaClientOptions;
  readonly #timeoutMs: number;
  readonly #retries: number;
  #stop: AbortController | undefined;

  constructor(opts: HttpTsaClientOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new TimestampError(TimestampErrorCode.badInput, `not a URL: ${opts.url}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TimestampError(TimestampErrorCode.badInput, `TSA URL must be http or https: ${opts.url}`);
    }
    this.#opts = opts;
    this.#timeoutMs = opts.timeoutMs ?? TsaLimits.clientTimeoutMs;
    this.#retries = opts.retries ?? TsaLimits.clientRetries;
    if (!(this.#timeoutMs > 0) || !Number.isInteger(this.#retries) || this.#retries < 0) {
      throw new TimestampError(
        TimestampErrorCode.badInput,
        'timeoutMs must be > 0 and retries a whole number >= 0',
      );
    }
  }

  async start(): Promise<void> {
    this.#stop ??= new AbortController();
  }

  /** Aborts requests in flight (they fail with TSA_ABORTED); stamp() then needs start() again. */
  async stop(): Promise<void> {
    this.#stop?.abort(new TimestampError(TimestampErrorCode.aborted, 'the TSA client was stopped'));
    this.#stop = undefined;
  }

  async stamp(digest: Uint8Array, alg: HashAlg, opts: StampOptions = {}): Promise<StampResult> {
    const stop = this.#stop;
    if (!stop) throw new TimestampError(TimestampErrorCode.notStarted, 'the TSA client is not started');
    const policy = opts.policy ?? this.#opts.policy;
    const req = buildTimeStampReq({
      digest,
      hashAlg: alg,
      certReq: opts.certReq ?? true,
      ...(opts.nonce === false ? { nonce: null } : {}),
      ...(policy === undefined ? {} : { policy }),
    });
    const cancel = opts.signal ? AbortSignal.any([stop.signal, opts.signal]) : stop.signal;
    const base = this.#opts.backoffMs ?? TsaLimits.clientBackoffMs;
    const cap = this.#opts.backoffMaxMs ?? TsaLimits.clientBackoffMaxMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.#post(req.der, cancel);
        return acceptResponse(req, response, this.#opts.trust);
      } catch (err) {
        if (attempt >= this.#retries || !isTransient(err) || cancel.aborted) throw err;
        const delay = Math.min(cap, base * 2 ** attempt);
        // Equal jitter: half fixed, half random, so many nodes retrying one TSA spread out.
        await abortableSleep(delay / 2 + Math.random() * (delay / 2), cancel).catch(() => {
          throw aborted(cancel);
        });
      }
    }
  }

  async #post(body: Uint8Array, cancel: AbortSignal): Promise<Uint8Array> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = AbortSignal.any([timeout, cancel]);
    const url = this.#opts.url;
    const failed = (err: unknown): TimestampError => {
      if (cancel.aborted) return aborted(cancel);
      if (timeout.aborted)
        return new TimestampError(
          TimestampErrorCode.timeout,
          `no answer from ${url} in ${this.#timeoutMs} ms`,
        );
      if (isTimestampError(err)) return err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return new TimestampError(
        TimestampErrorCode.httpError,
        `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        { cause: cause?.code },
        { cause: err },
      );
    };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...this.#opts.headers, 'content-type': QUERY_CONTENT_TYPE, accept: REPLY_CONTENT_TYPE },
        body,
        signal,
        redirect: 'error',
      });
      if (res.status < 200 || res.status > 299) {
        await res.body?.cancel().catch(() => undefined);
        throw new TimestampError(TimestampErrorCode.httpError, `${url} answered HTTP ${res.status}`, {
          status: res.status,
        });
      }
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== REPLY_CONTENT_TYPE) {
        await res.body?.cancel().catch(() => undefined);
        throw new TimestampError(
          TimestampErrorCode.badContentType,
          `${url} answered with content-type ${JSON.stringify(type)}, not ${REPLY_CONTENT_TYPE}`,
          { contentType: type },
        );
      }
      return await readLimited(res, TsaLimits.responseBytes, url);
    } catch (err) {
      throw failed(err);
    }
  }
}

function aborted(signal: AbortSignal): TimestampError {
  return isTimestampError(signal.reason, TimestampErrorCode.aborted)
    ? signal.reason
    : new TimestampError(TimestampErrorCode.aborted, 'the time-stamp request was cancelled', undefined, {
        cause: signal.reason,
      });
}

async function readLimited(res: Response, limit: number, url: string): Promise<Uint8Array> {
  const tooLarge = () =>
    new TimestampError(TimestampErrorCode.responseTooLarge, `${url} sent more than ${limit} bytes`, {
      limit,
    });
  if (Number(res.headers.get('content-length') ?? 0) > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
