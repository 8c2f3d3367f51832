import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpTsaClient, isTransient } from '../../../src/timestamp/client.ts';
import { encodeRejection } from '../../../src/timestamp/encode.ts';
import { isTimestampError, TimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { REPLY_CONTENT_TYPE, TsaHttpServer } from '../../../src/timestamp/server.ts';
import type { EmbeddedTsa } from '../../../src/timestamp/tsa.ts';
import { reply, type ScriptedServer, scriptedServer } from '../../helpers/http.ts';
import { makePki, type Pki, startTsa } from '../../helpers/tsa.ts';

const digest = new Uint8Array(createHash('sha256').update('loan-contract.pdf').digest());
const fast = { backoffMs: 1, backoffMaxMs: 2 };

let pki: Pki;
let tsa: EmbeddedTsa;
let tsaServer: TsaHttpServer;
let servers: ScriptedServer[] = [];
let clients: HttpTsaClient[] = [];

beforeAll(async () => {
  pki = await makePki();
  tsa = await startTsa(pki);
  tsaServer = new TsaHttpServer(tsa, { port: 0 });
  await tsaServer.start();
});
afterAll(async () => {
  await tsaServer.stop();
  await tsa.stop();
});
afterEach(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  clients = [];
});

async function client(opts: ConstructorParameters<typeof HttpTsaClient>[0]): Promise<HttpTsaClient> {
  const c = new HttpTsaClient(opts);
  await c.start();
  clients.push(c);
  return c;
}

/** A server that fails `failures` times with `fail`, then forwards to the embedded TSA. */
async function flaky(failures: number, fail: Parameters<typeof scriptedServer>[0]): Promise<ScriptedServer> {
  const s = await scriptedServer(async (res, body, n, req) => {
    if (n <= failures) return fail(res, body, n, req);
    reply(res, 200, REPLY_CONTENT_TYPE, (await tsa.respond(new Uint8Array(body))).der);
  });
  servers.push(s);
  return s;
}

async function failure(p: Promise<unknown>): Promise<TimestampError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TimestampError)) throw new Error(`expected a TimestampError, got ${String(err)}`);
  return err;
}

describe('HttpTsaClient', () => {
  it('stamps through the embedded TSA server, checking the binding', async () => {
    const c = await client({ url: tsaServer.address.url });
    const s = await c.stamp(digest, 'sha256');
    expect(s.verified).toBe('binding');
    expect(s.digest).toEqual(digest);
    expect(s.nonce).toBeGreaterThan(0n);
  });

  it('verifies fully when given trust anchors, and refuses a TSA it does not trust', async () => {
    const c = await client({ url: tsaServer.address.url, trust: { trustAnchors: [pki.root] } });
    expect((await c.stamp(digest, 'sha256')).verified).toBe('full');
    const stranger = await makePki();
    const wary = await client({ url: tsaServer.address.url, trust: { trustAnchors: [stranger.root] } });
    const err = await failure(wary.stamp(digest, 'sha256'));
    expect(err.code).toBe(TimestampErrorCode.verifyFailed);
    expect(err.details).toMatchObject({ check: 'chain' });
  });

  it('retries transient HTTP failures with backoff, then succeeds', async () => {
    const s = await flaky(2, (res) => reply(res, 503, 'text/plain', 'busy'));
    const c = await client({ url: s.url, retries: 2, ...fast });
    await c.stamp(digest, 'sha256');
    expect(s.hits()).toBe(3);
  });

  it('gives up after the last retry with the last error', async () => {
    const s = await flaky(10, (res) => reply(res, 502, 'text/plain', 'bad gateway'));
    const c = await client({ url: s.url, retries: 2, ...fast });
    const err = await failure(c.stamp(digest, 'sha256'));
    expect(err.code).toBe(TimestampErrorCode.httpError);
    expect(err.details).toEqual({ status: 502 });
    expect(s.hits()).toBe(3);
  });

  it('does not retry what another attempt cannot fix', async () => {
    const cases: Array<Parameters<typeof scriptedServer>[0]> = [
      (res) => reply(res, 400, 'text/plain', 'bad request'),
      (res) => reply(res, 200, 'text/html', '<html>'),
      (res) => reply(res, 200, REPLY_CONTENT_TYPE, encodeRejection('badAlg', 'no')),
      (res) => reply(res, 200, REPLY_CONTENT_TYPE, 'garbage'),
    ];
    for (const fail of cases) {
      const s = await flaky(10, fail);
      const c = await client({ url: s.url, retries: 3, ...fast });
      await failure(c.stamp(digest, 'sha256'));
      expect(s.hits()).toBe(1);
    }
  });

  it('retries a TSA that reports systemFailure, and one that times out', async () => {
    const busy = await flaky(1, (res) =>
      reply(res, 200, REPLY_CONTENT_TYPE, encodeRejection('systemFailure', 'x')),
    );
    await (await client({ url: busy.url, retries: 1, ...fast })).stamp(digest, 'sha256');
    expect(busy.hits()).toBe(2);
    const held: Array<() => void> = [];
    const slow = await flaky(1, (res) => void held.push(() => res.destroy()));
    await (await client({ url: slow.url, retries: 1, timeoutMs: 200, ...fast })).stamp(digest, 'sha256');
    expect(slow.hits()).toBe(2);
    for (const release of held) release();
  });

  it('stop() aborts a request in flight', async () => {
    let arrived!: () => void;
    const waiting = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const s = await flaky(10, () => arrived());
    const c = await client({ url: s.url, retries: 5, timeoutMs: 30_000, ...fast });
    const pending = failure(c.stamp(digest, 'sha256'));
    await waiting;
    await c.stop();
    expect((await pending).code).toBe(TimestampErrorCode.aborted);
    expect(s.hits()).toBe(1);
    expect((await failure(c.stamp(digest, 'sha256'))).code).toBe(TimestampErrorCode.notStarted);
  });

  it('refuses URLs it cannot use', () => {
    for (const url of ['not a url', 'ftp://tsa.example/']) {
      expect(() => new HttpTsaClient({ url })).toThrow(TimestampError);
    }
  });
});

describe('isTransient', () => {
  const e = (code: TimestampErrorCode, details?: Record<string, unknown>) =>
    new TimestampError(code, 'x', details);
  it.each([
    [e(TimestampErrorCode.timeout), true],
    [e(TimestampErrorCode.httpError), true],
    [e(TimestampErrorCode.httpError, { status: 503 }), true],
    [e(TimestampErrorCode.httpError, { status: 429 }), true],
    [e(TimestampErrorCode.httpError, { status: 404 }), false],
    [e(TimestampErrorCode.rejected, { status: 'waiting', failInfo: [] }), true],
    [e(TimestampErrorCode.rejected, { status: 'rejection', failInfo: ['timeNotAvailable'] }), true],
    [e(TimestampErrorCode.rejected, { status: 'rejection', failInfo: ['badAlg', 'systemFailure'] }), false],
    [e(TimestampErrorCode.badContentType), false],
    [e(TimestampErrorCode.verifyFailed), false],
    [new Error('plain'), false],
  ])('%s -> %s', (err, transient) => {
    expect(isTransient(err)).toBe(transient);
    if (isTimestampError(err)) expect(err.code).toMatch(/^TSA_/);
  });
});
