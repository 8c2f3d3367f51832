import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, ApiServer } from '../../../src/api/http.ts';

const logged: string[] = [];
const server = new ApiServer({
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 64,
  logger: { warn: (_o, m) => logged.push(m), error: (_o, m) => logged.push(m) },
  routes: [
    {
      method: 'GET',
      path: '/v1/things/:id',
      handler: (r) => ({ json: { id: r.params.id, q: r.query.get('q') } }),
    },
    { method: 'POST', path: '/v1/things', handler: (r) => ({ status: 201, json: { size: r.body.length } }) },
    {
      method: 'GET',
      path: '/v1/fail/:kind',
      handler: (r) => {
        if (r.params.kind === 'api') throw new ApiError(422, 'NOPE', 'refused', { field: 'x' });
        throw new Error('secret internal detail');
      },
    },
  ],
});
let base = '';
beforeAll(async () => {
  base = await server.start();
});
afterAll(() => server.stop());

function call(method: string, path: string, body?: Buffer): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ApiServer', () => {
  it('binds where told and routes with params and query', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await call('GET', '/v1/things/a%20b?q=1');
    expect(r).toEqual({ status: 200, json: { id: 'a b', q: '1' } });
  });

  it('answers 404 and 405 as JSON errors', async () => {
    expect(await call('GET', '/v1/nothing')).toMatchObject({ status: 404, json: { code: 'NOT_FOUND' } });
    expect(await call('POST', '/v1/things/1')).toMatchObject({
      status: 405,
      json: { code: 'METHOD_NOT_ALLOWED' },
    });
  });

  it('enforces the body limit with 413', async () => {
    expect(await call('POST', '/v1/things', Buffer.alloc(64))).toEqual({ status: 201, json: { size: 64 } });
    expect(await call('POST', '/v1/things', Buffer.alloc(65))).toMatchObject({
      status: 413,
      json: { code: 'BODY_TOO_LARGE' },
    });
  });

  it('passes ApiError through with its status, and hides internal errors', async () => {
    expect(await call('GET', '/v1/fail/api')).toEqual({
      status: 422,
      json: { code: 'NOPE', message: 'refused', field: 'x' },
    });
    const r = await call('GET', '/v1/fail/boom');
    expect(r).toEqual({ status: 500, json: { code: 'INTERNAL', message: 'internal error' } });
    expect(JSON.stringify(r.json)).not.toMatch(/secret/);
    expect(logged).toContain('API handler failed');
  });

  it('rejects a malformed percent-encoding as not found rather than crashing', async () => {
    expect((await call('GET', '/v1/things/%E0%A4%A')).status).toBe(404);
  });
});

describe('ApiServer oversize bodies', () => {
  it('answers 413 to a client that streams a large body, instead of resetting the connection', async () => {
    const r = await fetch(`${base}/v1/things`, {
      method: 'POST',
      body: new Uint8Array(512 * 1024),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ code: 'BODY_TOO_LARGE' });
  });
});
