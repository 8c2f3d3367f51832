/**
 * A small HTTP layer on node:http: exact-path routing with `:params`, JSON errors `{code, message}` with the
 * right status, a request body limit enforced while streaming, and server timeouts. No framework: the API is
 * a dozen routes and every byte of input must be bounded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { type Clock, systemClock } from '../core/clock.ts';
import { JrError } from '../core/errors.ts';
import { LogBudget } from '../core/log-limit.ts';
import { type BucketLimit, TokenBucket } from '../core/token-bucket.ts';

export class ApiError extends JrError {
  readonly status: number;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.status = status;
  }
}

export interface ApiRequest {
  method: string;
  path: string;
  /** The raw query with its `?` (`''` when none), as signed requests cover it. */
  search: string;
  /** The client's address, to tell loopback callers apart. */
  remoteAddress: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Raw body, already bounded by the server's body limit. Empty for GET. */
  body: Uint8Array;
  /** Aborted when the client goes away, so long waits can stop early. */
  signal: AbortSignal;
}

export interface ApiResponse {
  status?: number;
  /** Serialised as JSON unless `text` is given. */
  json?: unknown;
  text?: string;
  contentType?: string;
  /** Extra response headers (e.g. a page's Content-Security-Policy). */
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST';
  /** e.g. `/v1/txs/:hash`; segments starting with `:` bind params. */
  path: string;
  handler: (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;
  /** This route's body limit; the server's `maxBodyBytes` when absent. */
  maxBodyBytes?: number;
}

export interface ApiLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ApiServerOptions {
  host: string;
  port: number;
  routes: Route[];
  maxBodyBytes: number;
  logger: ApiLogger;
  /** Most simultaneous connections; further ones are refused by the kernel backlog. */
  maxConnections?: number;
  /** Most simultaneous connections from one remote address; further ones are closed on arrival. */
  maxConnectionsPerAddress?: number;
  /** Requests per remote address; beyond it, 429 RATE_LIMITED. */
  requestRate?: BucketLimit;
  clock?: Clock;
  /** Serve HTTPS (TLS 1.2 or later) with this PEM certificate chain and key, instead of plain HTTP. */
  tls?: { cert: string; key: string };
}

/** docs/limits.md: the headers within 5 s, the whole request (headers and body) within 15 s. */
export const API_HEADERS_TIMEOUT_MS = 5_000;
export const API_REQUEST_TIMEOUT_MS = 15_000;
export const API_MAX_CONNECTIONS_PER_ADDRESS = 64;
/** Generous: a bank's backend or the bench submits from one address; this stops floods, not clients. */
export const API_REQUEST_RATE: BucketLimit = { perSecond: 2_000, burst: 4_000 };
/** Idle buckets (full again) are dropped once this many addresses are tracked. */
const RATE_BUCKETS_PRUNE_AT = 10_000;

/** Whether the request announces a body (a length above zero, or chunked framing). */
function hasBody(req: IncomingMessage): boolean {
  return Number(req.headers['content-length'] ?? '0') > 0 || req.headers['transfer-encoding'] !== undefined;
}

interface CompiledRoute extends Route {
  segments: string[];
}

function match(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  if (route.segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i]!;
    const part = parts[i]!;
    if (seg.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(part);
      } catch {
        return undefined;
      }
      if (value.length === 0) return undefined;
      params[seg.slice(1)] = value;
    } else if (seg !== part) {
      return undefined;
    }
  }
  return params;
}

const ABORTED = 'REQUEST_ABORTED';

/** Reads the body up to `limit` bytes; past it, rejects with 413 and leaves the stream to discardBody. */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError(413, 'BODY_TOO_LARGE', `request body over ${limit} bytes`);
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? '0') > limit) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    // The client went away mid-body (ECONNRESET "aborted"): an ordinary event, not a server fault.
    req.once('error', () =>
      reject(new ApiError(400, ABORTED, 'request aborted before its body was complete')),
    );
  });
}

/**
 * After refusing an oversize body, reads (and drops) up to DISCARD_LIMIT more bytes before answering, so the
 * client can finish sending and read our 413 instead of seeing a reset; past that the connection is cut.
 */
const DISCARD_LIMIT = 8 * 1024 * 1024;
function discardBody(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let dropped = 0;
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DISCARD_LIMIT) {
        req.destroy();
        resolve();
      }
    });
    req.once('end', resolve);
    req.once('close', resolve);
    req.resume();
  });
}

/**
 * Seconds a client should wait before retrying a 503 (full mempool, busy nonce cache) or a 429: every such
 * answer says so, so well-behaved clients back off instead of piling up requests while the node is overloaded.
 */
export const RETRY_AFTER_S = 1;

function send(res: ServerResponse, r: ApiResponse): void {
  const status = r.status ?? 200;
  const retry = status === 503 || status === 429 ? { 'retry-after': String(RETRY_AFTER_S) } : {};
  const body = r.text ?? `${JSON.stringify(r.json ?? null)}\n`;
  res.writeHead(status, {
    'content-type':
      r.contentType ?? (r.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json'),
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...retry,
    ...r.headers,
  });
  res.end(body);
}

export function errorResponse(err: ApiError): ApiResponse {
  return { status: err.status, json: { code: err.code, message: err.message, ...(err.details ?? {}) } };
}

export class ApiServer {
  private readonly server: Server;
  private readonly routes: CompiledRoute[];
  private readonly opts: ApiServerOptions;
  private readonly abortLog = new LogBudget();
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(opts: ApiServerOptions) {
    this.opts = opts;
    this.routes = opts.routes.map((r) => ({ ...r, segments: r.path.split('/').slice(1) }));
    const serverOpts = {
      requestTimeout: API_REQUEST_TIMEOUT_MS,
      headersTimeout: API_HEADERS_TIMEOUT_MS,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024,
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        opts.logger.error({ err }, 'API response failed');
        res.destroy();
      });
    };
    // An https.Server is an http.Server over TLS sockets: everything below works on either.
    this.server =
      opts.tls === undefined
        ? createServer(serverOpts, onRequest)
        : (createHttpsServer(
            { ...serverOpts, ...opts.tls, minVersion: 'TLSv1.2' },
            onRequest,
          ) as unknown as Server);
    this.server.maxConnections = opts.maxConnections ?? 1024;
    this.limitPerAddress(opts.maxConnectionsPerAddress ?? API_MAX_CONNECTIONS_PER_ADDRESS);
  }

  /** One address cannot hold every connection slot (slow clients that never finish their headers). */
  private limitPerAddress(max: number): void {
    const open = new Map<string, number>();
    this.server.on('connection', (socket: Socket) => {
      const addr = socket.remoteAddress ?? '';
      const n = (open.get(addr) ?? 0) + 1;
      if (n > max) {
        socket.destroy();
        return;
      }
      open.set(addr, n);
      socket.once('close', () => {
        const left = (open.get(addr) ?? 1) - 1;
        if (left === 0) open.delete(addr);
        else open.set(addr, left);
      });
    });
  }

  /** One line per aborted request, without a stack, within the log budget; nobody is left to answer. */
  private logAborted(req: IncomingMessage, path: string): void {
    const slot = this.abortLog.take();
    if (!slot.ok) return;
    const more = slot.suppressed > 0 ? { suppressedBefore: slot.suppressed } : {};
    this.opts.logger.warn(
      { remote: req.socket.remoteAddress, method: req.method, path, ...more },
      'API request aborted by the client',
    );
  }

  /** Refuses a request that sends a body where none is taken, without reading it, and closes the connection. */
  private refuseBody(res: ServerResponse, err: ApiError): void {
    res.setHeader('connection', 'close');
    send(res, errorResponse(err));
  }

  /** Whether the client's address may make another request now. */
  private admit(addr: string): boolean {
    const limit = this.opts.requestRate ?? API_REQUEST_RATE;
    let b = this.buckets.get(addr);
    if (b === undefined) {
      if (this.buckets.size >= RATE_BUCKETS_PRUNE_AT) {
        for (const [a, other] of this.buckets) if (other.available() >= limit.burst) this.buckets.delete(a);
      }
      b = new TokenBucket(limit, this.opts.clock ?? systemClock);
      this.buckets.set(addr, b);
    }
    return b.take();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.admit(req.socket.remoteAddress ?? '')) {
      const err = new ApiError(429, 'RATE_LIMITED', 'too many requests from this address');
      return hasBody(req) ? this.refuseBody(res, err) : send(res, errorResponse(err));
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return send(res, errorResponse(new ApiError(400, 'BAD_REQUEST', 'malformed request URL')));
    }
    const parts = url.pathname.split('/').slice(1);
    let allowed = false;
    for (const route of this.routes) {
      const params = match(route, parts);
      if (params === undefined) continue;
      if (route.method !== req.method) {
        allowed = true;
        continue;
      }
      if (req.method !== 'POST' && hasBody(req)) {
        return this.refuseBody(res, new ApiError(400, 'UNEXPECTED_BODY', `${req.method} takes no body`));
      }
      try {
        const body =
          req.method === 'POST'
            ? await readBody(req, route.maxBodyBytes ?? this.opts.maxBodyBytes)
            : new Uint8Array(0);
        const r = await route.handler({
          method: req.method,
          path: url.pathname,
          search: url.search,
          remoteAddress: req.socket.remoteAddress ?? '',
          params,
          query: url.searchParams,
          headers: req.headers,
          body,
          signal: abort.signal,
        });
        return send(res, r);
      } catch (err) {
        if (err instanceof ApiError && err.code === ABORTED) return this.logAborted(req, url.pathname);
        if (err instanceof ApiError) {
          if (err.status === 413) {
            res.setHeader('connection', 'close');
            await discardBody(req);
          }
          return send(res, errorResponse(err));
        }
        // Never leak internals to clients; log them for the operator.
        this.opts.logger.error({ err, path: url.pathname }, 'API handler failed');
        return send(res, errorResponse(new ApiError(500, 'INTERNAL', 'internal error')));
      }
    }
    const err = allowed
      ? new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} not allowed`)
      : new ApiError(404, 'NOT_FOUND', `no route for ${url.pathname}`);
    // A body sent to no route is never read: the connection closes after the answer.
    return hasBody(req) ? this.refuseBody(res, err) : send(res, errorResponse(err));
  }

  /** Listens and resolves with the base URL (port 0 picks a free port). */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.url();
  }

  url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.opts.tls === undefined ? 'http' : 'https'}://${host}:${a.port}`;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
      // In-flight long waits (?wait=) are cut; their clients see the connection close and may retry.
      setTimeout(() => this.server.closeAllConnections(), 2000).unref();
    });
  }
}
