import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { TsaLimits } from '../../../src/timestamp/limits.ts';
import { buildTimeStampReq } from '../../../src/timestamp/request.ts';
import { parseTimeStampResp } from '../../../src/timestamp/response.ts';
import { QUERY_CONTENT_TYPE, REPLY_CONTENT_TYPE, TsaHttpServer } from '../../../src/timestamp/server.ts';
import type { EmbeddedTsa } from '../../../src/timestamp/tsa.ts';
import { rawRequest } from '../../helpers/http.ts';
import { makePki, startTsa } from '../../helpers/tsa.ts';

const digest = new Uint8Array(createHash('sha256').update('x').digest());
const query = (body: Uint8Array) => ({
  method: 'POST',
  headers: { 'content-type': QUERY_CONTENT_TYPE },
  body,
});

let tsa: EmbeddedTsa;
let server: TsaHttpServer;
let url: string;

beforeAll(async () => {
  tsa = await startTsa(await makePki());
  server = new TsaHttpServer(tsa, { port: 0 });
  await server.start();
  url = server.address.url;
});
afterAll(async () => {
  await server.stop();
  await tsa.stop();
});

describe('TsaHttpServer', () => {
  it('binds loopback on a free port and answers a query with a timestamp-reply', async () => {
    expect(server.address.host).toBe('127.0.0.1');
    expect(server.address.port).toBeGreaterThan(0);
    const res = await rawRequest(url, query(buildTimeStampReq({ digest, hashAlg: 'sha256' }).der));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(REPLY_CONTENT_TYPE);
    expect(parseTimeStampResp(new Uint8Array(res.body)).status.statusName).toBe('granted');
  });

  it('answers wrong methods, paths and media types with the matching HTTP error', async () => {
    const get = await rawRequest(url, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect((await rawRequest(url, { ...query(new Uint8Array(1)), path: '/other' })).status).toBe(404);
    const wrongType = await rawRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array(1),
    });
    expect(wrongType.status).toBe(415);
    const withParams = await rawRequest(url, {
      method: 'POST',
      headers: { 'content-type': `${QUERY_CONTENT_TYPE}; charset=binary` },
      body: buildTimeStampReq({ digest, hashAlg: 'sha256' }).der,
    });
    expect(withParams.status).toBe(200);
  });

  it('refuses oversized bodies, declared or streamed', async () => {
    const big = new Uint8Array(TsaLimits.requestBytes + 1);
    expect((await rawRequest(url, query(big))).status).toBe(413);
    const chunked = await rawRequest(url, {
      method: 'POST',
      headers: { 'content-type': QUERY_CONTENT_TYPE, 'transfer-encoding': 'chunked' },
      body: [new Uint8Array(3000), new Uint8Array(3000)],
    });
    expect(chunked.status).toBe(413);
  });

  it('turns garbage into a badDataFormat rejection and keeps serving', async () => {
    const res = await rawRequest(url, query(new TextEncoder().encode('garbage')));
    expect(res.status).toBe(200);
    expect(parseTimeStampResp(new Uint8Array(res.body)).status.failInfo).toEqual(['badDataFormat']);
    const ok = await rawRequest(url, query(buildTimeStampReq({ digest, hashAlg: 'sha256' }).der));
    expect(parseTimeStampResp(new Uint8Array(ok.body)).status.statusName).toBe('granted');
  });
});

describe('TsaHttpServer lifecycle', () => {
  it('has no address before start, and refuses connections after stop', async () => {
    const s = new TsaHttpServer(tsa, { port: 0 });
    try {
      void s.address;
      expect.unreachable();
    } catch (err) {
      expect(isTimestampError(err, TimestampErrorCode.notStarted)).toBe(true);
    }
    await s.start();
    const { url: u } = s.address;
    expect((await rawRequest(u, { method: 'GET' })).status).toBe(405);
    await s.stop();
    await expect(rawRequest(u, { method: 'GET' })).rejects.toThrow(/ECONNREFUSED/);
  });
});
