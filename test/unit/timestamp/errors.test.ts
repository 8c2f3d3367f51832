/** One test per TimestampError code, each raised by the real component in the real situation. */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JrError } from '../../../src/core/errors.ts';
import { HttpTsaClient } from '../../../src/timestamp/client.ts';
import { initTsaDir, openEmbeddedTsa } from '../../../src/timestamp/dir.ts';
import { encodeGrantedResponse, encodeRejection } from '../../../src/timestamp/encode.ts';
import { TimestampError, TimestampErrorCode } from '../../../src/timestamp/errors.ts';
import { buildTimeStampReq } from '../../../src/timestamp/request.ts';
import { FileSerialStore, SERIAL_FILE } from '../../../src/timestamp/serial.ts';
import { EmbeddedTsa } from '../../../src/timestamp/tsa.ts';
import { verifyEvidenceToken } from '../../../src/timestamp/verify-node.ts';
import { reply, type ScriptedServer, scriptedServer } from '../../helpers/http.ts';
import { buildToken, counterSerials, makePki, type Pki, T0, tempDir } from '../../helpers/tsa.ts';

const digest = new Uint8Array(createHash('sha256').update('call-record.wav').digest());
let pki: Pki;
let dir: { path: string; cleanup: () => Promise<void> };
const servers: ScriptedServer[] = [];

beforeAll(async () => {
  pki = await makePki();
  dir = await tempDir();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await dir.cleanup();
});

async function serve(handler: Parameters<typeof scriptedServer>[0]): Promise<string> {
  const s = await scriptedServer(handler);
  servers.push(s);
  return s.url;
}

async function stampVia(url: string, extra: Partial<ConstructorParameters<typeof HttpTsaClient>[0]> = {}) {
  const c = new HttpTsaClient({ url, retries: 0, ...extra });
  await c.start();
  try {
    return await c.stamp(digest, 'sha256');
  } finally {
    await c.stop();
  }
}

async function codeOf(run: () => unknown): Promise<{ code: string; err: TimestampError }> {
  try {
    await run();
  } catch (err) {
    if (err instanceof TimestampError) return { code: err.code, err };
    throw err;
  }
  throw new Error('expected a TimestampError');
}

const producers: Record<TimestampErrorCode, () => Promise<{ code: string; err?: TimestampError }>> = {
  TSA_HTTP_ERROR: async () => {
    const r = await codeOf(async () => stampVia(await serve((res) => reply(res, 500, 'text/plain', 'boom'))));
    expect(r.err.details).toEqual({ status: 500 });
    return r;
  },
  TSA_BAD_CONTENT_TYPE: async () =>
    codeOf(async () => stampVia(await serve((res) => reply(res, 200, 'text/html', '<p>login</p>')))),
  TSA_RESPONSE_TOO_LARGE: async () =>
    codeOf(async () =>
      stampVia(
        await serve((res) => {
          // Chunked, so only the streaming limit can catch it.
          res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
          for (let i = 0; i < 80; i++) res.write(new Uint8Array(1024));
          res.end();
        }),
      ),
    ),
  TSA_TIMEOUT: async () => codeOf(async () => stampVia(await serve(() => {}), { timeoutMs: 150 })),
  TSA_ABORTED: async () => {
    const url = await serve(() => {});
    const c = new HttpTsaClient({ url, retries: 0 });
    await c.start();
    const abort = new AbortController();
    const pending = c.stamp(digest, 'sha256', { signal: abort.signal });
    abort.abort();
    try {
      return await codeOf(() => pending);
    } finally {
      await c.stop();
    }
  },
  TSA_REJECTED: async () => {
    const r = await codeOf(async () =>
      stampVia(
        await serve((res) => reply(res, 200, 'application/timestamp-reply', encodeRejection('badAlg', 'x'))),
      ),
    );
    expect(r.err.details).toMatchObject({ status: 'rejection', failInfo: ['badAlg'], statusText: ['x'] });
    return r;
  },
  TSA_UNPARSABLE: async () =>
    codeOf(async () =>
      stampVia(await serve((res) => reply(res, 200, 'application/timestamp-reply', 'garbage'))),
    ),
  TSA_VERIFY_FAILED: async () => {
    // A TSA that answers with a token for someone else's request: the nonce gives it away.
    const other = buildToken(pki, { digest, nonce: 1n });
    const r = await codeOf(async () =>
      stampVia(
        await serve((res) => reply(res, 200, 'application/timestamp-reply', encodeGrantedResponse(other))),
      ),
    );
    expect(r.err.details).toMatchObject({ check: 'nonce' });
    return r;
  },
  TSA_IMPRINT_MISMATCH: async () => {
    const r = verifyEvidenceToken(buildToken(pki, { digest }), new Uint8Array(32), 'sha256', {
      trustAnchorsPem: pki.rootPem,
      now: T0,
      toleranceMs: 1000,
    });
    return { code: r.ok ? 'ok' : r.error.code };
  },
  TSA_TIME_SKEW: async () => {
    const r = verifyEvidenceToken(buildToken(pki, { digest }), digest, 'sha256', {
      trustAnchorsPem: pki.rootPem,
      now: T0 + 2000,
      toleranceMs: 1000,
    });
    return { code: r.ok ? 'ok' : r.error.code };
  },
  TSA_BAD_INPUT: async () =>
    codeOf(() => buildTimeStampReq({ digest: new Uint8Array(20), hashAlg: 'sha256' })),
  TSA_KEY_EXISTS: async () => {
    const d = join(dir.path, 'exists');
    await initTsaDir(d, { organization: 'Bank A', now: new Date() });
    return codeOf(() => initTsaDir(d, { organization: 'Bank A', now: new Date() }));
  },
  TSA_BAD_CONFIG: async () => codeOf(() => openEmbeddedTsa(join(dir.path, 'never-initialised'))),
  TSA_DIR_LOCKED: async () => {
    const d = join(dir.path, 'locked');
    await initTsaDir(d, { organization: 'Bank A', now: new Date() });
    const first = await openEmbeddedTsa(d);
    await first.start();
    try {
      return await codeOf(async () => (await openEmbeddedTsa(d)).start());
    } finally {
      await first.stop();
    }
  },
  TSA_SERIAL_STORE: async () => {
    const d = join(dir.path, 'corrupt');
    await initTsaDir(d, { organization: 'Bank A', now: new Date() });
    await writeFile(join(d, SERIAL_FILE), 'not json');
    return codeOf(() => new FileSerialStore(d).start());
  },
  TSA_NOT_STARTED: async () => {
    const tsa = new EmbeddedTsa({
      certificate: pki.tsa.der,
      privateKey: pki.tsaKey,
      serials: counterSerials(),
    });
    return codeOf(() => tsa.stamp(digest, 'sha256'));
  },
};

describe('TimestampError codes', () => {
  it('are JrErrors with stable TSA_ codes', () => {
    const err = new TimestampError(TimestampErrorCode.rejected, 'no', { failInfo: ['badAlg'] });
    expect(err).toBeInstanceOf(JrError);
    expect(err.name).toBe('TimestampError');
    for (const code of Object.values(TimestampErrorCode)) expect(code).toMatch(/^TSA_[A-Z_]+$/);
  });

  it('every code has a test below', () => {
    expect(Object.keys(producers).sort()).toEqual(Object.values(TimestampErrorCode).sort());
  });

  for (const [code, produce] of Object.entries(producers)) {
    it(code, async () => {
      expect((await produce()).code).toBe(code);
    });
  }
});
