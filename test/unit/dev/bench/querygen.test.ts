import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../../src/core/bytes.ts';
import { sha256 } from '../../../../src/core/crypto.ts';
import { generateKeyPair, writeKeyFile } from '../../../../src/core/keys.ts';
import { committedPool, type QuerygenConfig, runQuerygen } from '../../../../src/dev/bench/querygen.ts';

/** A node that holds documents 0..HELD-1 of run tag `t`, and answers case queries only when signed. */
const HELD = 1000;
const held = new Set(
  Array.from({ length: HELD }, (_, i) => toHex(sha256(utf8.encode(`bench-t-document-${i}`)))),
);
const seen = { evidence: 0, cases: 0, unsignedCases: 0, sources: new Set<string>() };
let server: Server;
let dir: string;
let config: QuerygenConfig;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    seen.sources.add(req.socket.remoteAddress ?? '');
    let status = 404;
    if (url.pathname.startsWith('/v1/evidence/')) {
      seen.evidence++;
      status = held.has(url.pathname.slice('/v1/evidence/'.length)) ? 200 : 404;
    } else if (url.pathname.startsWith('/v1/cases/')) {
      seen.cases++;
      const signed = req.headers.signature !== undefined && req.headers['signature-input'] !== undefined;
      if (!signed) seen.unsignedCases++;
      status = signed ? 200 : 401;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  dir = mkdtempSync(join(tmpdir(), 'jrchain-querygen-'));
  writeKeyFile(join(dir, 'client.key'), generateKeyPair());
  config = {
    node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    runTag: 't',
    rate: 400,
    caseShare: 0.5,
    durationS: 1,
    client: { institution: 'bank-a', keyId: 'client-1', keyFile: join(dir, 'client.key') },
    // At least every query of the run: however slow a loaded machine answers, none is skipped (notSent).
    maxInFlight: 400,
    connections: 4,
  };
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('the query load generator', () => {
  it('finds the committed documents by bisection and keeps to the half certainly behind the front', async () => {
    const agent = new Agent({ keepAlive: true });
    expect(await committedPool(config, agent)).toBe(HELD / 2);
    expect(await committedPool({ ...config, runTag: 'other' }, agent)).toBe(0);
    agent.destroy();
  });

  it('offers its rate open-loop, signs the case queries, and counts every answer', async () => {
    seen.evidence = 0;
    seen.cases = 0;
    const r = await runQuerygen(config, Promise.resolve());
    expect(r.offeredPerSec).toBe(400);
    expect(r.notSent).toBe(0);
    expect(r.byHash.ok + r.cases.ok).toBe(400);
    expect(r.byHash.errors).toEqual({});
    expect(r.cases.errors).toEqual({});
    expect(r.cases.ok).toBe(200);
    expect(seen.unsignedCases).toBe(0);
    expect(r.byHash.p99Ms).toBeGreaterThanOrEqual(r.byHash.p50Ms);
    // The load itself comes from the first of its loopback source addresses (one suffices at this rate).
    expect(seen.sources.has('127.0.0.2')).toBe(true);
  });
});
