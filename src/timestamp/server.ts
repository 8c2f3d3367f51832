/**
 * RFC 3161 over HTTP (RFC 3161 3.4): POST `application/timestamp-query`, answer `application/timestamp-reply`.
 * A thin layer over anything that can `respond` (the EmbeddedTsa). Binds loopback unless told otherwise.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Service } from './authority.ts';
import { TimestampError, TimestampErrorCode } from './errors.ts';
import { TsaLimits } from './limits.ts';
import type { TsaReply } from './tsa.ts';

export const QUERY_CONTENT_TYPE = 'application/timestamp-query';
export const REPLY_CONTENT_TYPE = 'application/timestamp-reply';

/** The subset of a pino logger the server uses. */
export interface TsaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TsaResponder {
  respond(requestDer: Uint8Array): Promise<TsaReply>;
}

export interface TsaServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port; read it from `address` after start(). */
  port: number;
  logger?: TsaLogger;
}

const silent: TsaLogger = { info() {}, warn() {} };

export class TsaHttpServer implements Service {
  readonly #tsa: TsaResponder;
  readonly #host: string;
  readonly #port: number;
  readonly #log: TsaLogger;
  #server: Server | undefined;
  #address: { host: string; port: number; url: string } | undefined;

  constructor(tsa: TsaResponder, opts: TsaServerOptions) {
    this.#tsa = tsa;
    this.#host = opts.host ?? '127.0.0.1';
    this.#port = opts.port;
    this.#log = opts.logger ?? silent;
  }

  /** The bound address; set once start() has resolved. */
  get address(): { host: string; port: number; url: string } {
    if (!this.#address)
      throw new TimestampError(TimestampErrorCode.notStarted, 'the TSA server is not started');
    return this.#address;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer({ requestTimeout: TsaLimits.serverRequestTimeoutMs }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        this.#log.warn({ err }, 'tsa request failed');
        if (!res.headersSent) send(res, 500, 'internal error\n');
        else res.destroy();
      });
    });
    server.maxConnections = TsaLimits.serverMaxConnections;
    server.headersTimeout = TsaLimits.serverRequestTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.#host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.#server = server;
    this.#address = { host: addr.address, port: addr.port, url: `http://${hostForUrl}:${addr.port}/` };
    this.#log.info({ url: this.#address.url }, 'tsa listening');
  }

  /**
   * Stops accepting connections. Requests in flight get their answer for up to `graceMs`; then every
   * connection still open (a slow or stuck client) is cut.
   */
  async stop(graceMs: number = TsaLimits.serverStopGraceMs): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/') return send(res, 404, 'not found: POST time-stamp queries to /\n');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, 'method not allowed: use POST\n');
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== QUERY_CONTENT_TYPE)
      return send(res, 415, `unsupported media type: send ${QUERY_CONTENT_TYPE}\n`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > TsaLimits.requestBytes) return tooLarge(req, res);

    const body = await readBody(req, TsaLimits.requestBytes);
    if (!body) return tooLarge(req, res);
    const reply = await this.#tsa.respond(body);
    this.#log.info(
      {
        granted: reply.granted,
        failure: reply.failure,
        serial: reply.serial?.toString(),
        detail: reply.detail,
      },
      'tsa reply',
    );
    res.writeHead(200, { 'content-type': REPLY_CONTENT_TYPE, 'content-length': reply.der.length });
    res.end(reply.der);
  }
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** The body, or undefined once it exceeds `limit` (reading then stops). */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.once('error', reject);
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  // Answer, then drop the connection rather than read the rest of an oversized body.
  res.setHeader('connection', 'close');
  res.once('finish', () => req.socket.destroy());
  send(res, 413, `request larger than ${TsaLimits.requestBytes} bytes\n`);
}
