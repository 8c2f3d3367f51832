/** Scripted HTTP servers and raw requests for testing the TSA client and server. */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedServer {
  url: string;
  /** Requests received so far. */
  hits: () => number;
  close: () => Promise<void>;
}

/** A loopback server on port 0; `handler` gets the request body and the 1-based request number. */
export async function scriptedServer(
  handler: (res: ServerResponse, body: Buffer, n: number, req: IncomingMessage) => void | Promise<void>,
): Promise<ScriptedServer> {
  let n = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    n++;
    await handler(res, Buffer.concat(chunks), n, req);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    hits: () => n,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function reply(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: Uint8Array | string,
): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

/** A raw HTTP request, to send what fetch would not (wrong methods, chunked oversized bodies). */
export function rawRequest(
  url: string,
  opts: {
    method: string;
    headers?: Record<string, string | number>;
    body?: Uint8Array | Uint8Array[];
    path?: string;
  },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: opts.path ?? '/',
        method: opts.method,
        headers: opts.headers ?? {},
        // A fresh connection per request: a kept-alive socket would blur what the server did.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    // The server may close the connection after answering an oversized body; the answer still counts.
    req.on('error', reject);
    const parts = opts.body === undefined ? [] : Array.isArray(opts.body) ? opts.body : [opts.body];
    for (const p of parts) req.write(p);
    req.end();
  });
}
