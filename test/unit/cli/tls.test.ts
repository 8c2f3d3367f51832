import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../src/api/http.ts';
import { ApiClient, ApiClientErrorCode } from '../../../src/cli/client.ts';
import { setCaFile } from '../../../src/cli/https-ca.ts';
import { memoryIo } from '../../../src/cli/io.ts';
import { runCli } from '../../../src/cli/main.ts';
import { codeOfAsync } from '../../helpers/errors.ts';

// A self-signed certificate made for this run only; nothing secret is committed.
const dir = mkdtempSync(join(tmpdir(), 'jrchain-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
const otherCa = join(dir, 'other.pem');
function selfSigned(cert: string, key: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
}
selfSigned(certFile, keyFile);
selfSigned(otherCa, join(dir, 'other-key.pem'));

const server = new ApiServer({
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 64,
  logger: { warn: () => {}, error: () => {} },
  routes: [{ method: 'GET', path: '/v1/status', handler: () => ({ json: { ok: true } }) }],
  tls: { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') },
});
let url = '';
beforeAll(async () => {
  url = await server.start();
});
afterAll(async () => {
  setCaFile(undefined);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the status, or the error code of a failed connection. */
function probe(send: (done: (r: string) => void) => void): Promise<string> {
  return new Promise((resolve) => send(resolve));
}

describe('the API over TLS', () => {
  it('serves https, and the client reaches it trusting the CA file', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    setCaFile(certFile);
    const r = await new ApiClient(url).get<{ ok: boolean }>('/v1/status');
    expect(r.body).toEqual({ ok: true });
  });

  it('is refused by a client trusting another CA, or the system CAs only', async () => {
    setCaFile(otherCa);
    expect(await codeOfAsync(new ApiClient(url).get('/v1/status'))).toBe(ApiClientErrorCode.unreachable);
    setCaFile(undefined);
    expect(await codeOfAsync(new ApiClient(url).get('/v1/status'))).toBe(ApiClientErrorCode.unreachable);
  });

  it('refuses TLS 1.1 and plain HTTP', async () => {
    const ca = readFileSync(certFile, 'utf8');
    const old = await probe((done) =>
      httpsRequest(`${url}/v1/status`, { ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, (res) =>
        done(String(res.statusCode)),
      )
        .on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'))
        .end(),
    );
    expect(old).not.toBe('200');
    const plain = await probe((done) =>
      httpRequest(url.replace('https:', 'http:') + '/v1/status', (res) => done(String(res.statusCode)))
        .on('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'error'))
        .end(),
    );
    expect(plain).not.toBe('200');
  });

  it('jrchain --ca reaches the node; an unreadable --ca file is a clear error', async () => {
    const io = memoryIo();
    expect(await runCli(['--ca', certFile, 'status', '--node', url], io), io.stderr).not.toBe(4);
    expect(io.stderr).not.toContain('NODE_UNREACHABLE');
    const bad = memoryIo();
    expect(await runCli(['--ca', join(dir, 'absent.pem'), 'status', '--node', url], bad)).toBe(3);
    expect(bad.stderr).toContain('FILE_UNREADABLE');
  });
});
