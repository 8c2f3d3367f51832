/** Request/response: answers, timeouts, size limits on both sides, refusals and the concurrency cap. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  P2PErrorCode,
  type ProtocolConfig,
  ProtocolId,
  type RequestProtocolConfig,
  Verdicts,
} from '../../../src/p2p/index.ts';
import { DEFAULT_PROTOCOLS } from '../../../src/p2p/limits.ts';
import { allowlistOf, fullyConnected, HostPool, LOOPBACK, shareAddrs, waitFor } from '../../helpers/p2p.ts';

const pool = new HostPool();
afterEach(() => pool.stopAll());

function withSync(overrides: Partial<RequestProtocolConfig>): ProtocolConfig[] {
  return DEFAULT_PROTOCOLS.map((p) =>
    p.id === ProtocolId.sync ? ({ ...p, ...overrides } as ProtocolConfig) : p,
  );
}

async function pair(
  client: Partial<RequestProtocolConfig> = {},
  server: Partial<RequestProtocolConfig> = {},
) {
  const labels = ['client', 'server'];
  const c = pool.create('client', {
    listen: [LOOPBACK],
    allowlist: allowlistOf(labels),
    protocols: withSync(client),
  });
  const s = pool.create('server', {
    listen: [LOOPBACK],
    allowlist: allowlistOf(labels),
    protocols: withSync(server),
  });
  await Promise.all([c.host.start(), s.host.start()]);
  shareAddrs([c, s]);
  await waitFor(() => fullyConnected([c, s]), 'pair connected');
  return { c, s };
}

describe('request/response', () => {
  it('answers requests, several at once', async () => {
    const { c, s } = await pair();
    s.host.onRequest(ProtocolId.sync, (peer, req) => {
      expect(peer).toBe(c.peerId);
      return req[0] === 0xbb ? new Uint8Array(1 << 20).fill(3) : Uint8Array.from([...req].reverse());
    });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(i, 1, 2))),
    );
    expect(answers.map((a) => [...a])).toEqual(answers.map((_, i) => [2, 1, i]));
    // A large response (1 MiB) arrives whole.
    const big = await c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(0xbb));
    expect(big.length).toBe(1 << 20);
    expect(big.every((b) => b === 3)).toBe(true);
    expect(s.metrics.get('p2p_requests_served_total', { result: 'ok' })).toBe(9);
    expect(c.metrics.get('p2p_requests_total', { result: 'ok' })).toBe(9);
  });

  it('times out when the responder does not answer', async () => {
    const { c, s } = await pair();
    s.host.onRequest(ProtocolId.sync, (_peer, _req, signal) => hang(signal));
    await expect(
      c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(1), { timeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: P2PErrorCode.requestTimeout });
    expect(c.metrics.get('p2p_requests_total', { result: P2PErrorCode.requestTimeout })).toBe(1);
    // A caller's own abort signal maps to P2P_ABORTED.
    const ac = new AbortController();
    const pending = c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(1), { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: P2PErrorCode.aborted });
  });

  it('gives up on a request at the server deadline, aborts the handler and frees the slot', async () => {
    const { c, s } = await pair({}, { timeoutMs: 500, maxConcurrentInbound: 1 });
    let hung = 0;
    let aborted = 0;
    s.host.onRequest(ProtocolId.sync, (_peer, req, signal) => {
      if (req[0] !== 1) return Uint8Array.of(42);
      hung++;
      signal.addEventListener('abort', () => aborted++);
      return hang(signal);
    });
    const err = await c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(1), { timeoutMs: 60_000 }).then(
      () => undefined,
      (e: { code: string }) => e.code,
    );
    expect(refusedByPeer({ code: err })).toBe(true);
    expect(s.metrics.get('p2p_requests_served_total', { result: 'timeout' })).toBe(1);
    // On a loaded machine the deadline may even hit before the request is read; if the handler ran, it was
    // told to stop.
    expect(aborted).toBe(hung);
    // The only slot is free again.
    expect([...(await c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(2)))]).toEqual([42]);
  });

  it('refuses an oversize response from its length prefix and penalises the responder', async () => {
    // The server believes responses may be 64 KiB; the client only accepts 1 KiB.
    const { c, s } = await pair({ maxResponseBytes: 1024 }, { maxResponseBytes: 64 * 1024 });
    s.host.onRequest(ProtocolId.sync, () => new Uint8Array(4096));
    await expect(c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(1))).rejects.toMatchObject({
      code: P2PErrorCode.responseTooLarge,
    });
    expect(c.host.peerStatus(s.peerId)?.score).toBeGreaterThan(0);
    expect(c.metrics.get('p2p_requests_total', { result: P2PErrorCode.responseTooLarge })).toBe(1);
  });

  it('never sends a response over its own limit', async () => {
    const { c, s } = await pair({}, { maxResponseBytes: 1024 });
    s.host.onRequest(ProtocolId.sync, () => new Uint8Array(1025));
    await expect(c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(1))).rejects.toSatisfy(
      refusedByPeer,
    );
    expect(s.metrics.get('p2p_requests_served_total', { result: 'response-too-large' })).toBe(1);
    expect(s.logger.find('oversize response', {}).length).toBe(1);
  });

  it('refuses an oversize request from its length prefix and penalises the requester', async () => {
    const { c, s } = await pair({ maxRequestBytes: 8192 }, { maxRequestBytes: 100 });
    let calls = 0;
    s.host.onRequest(ProtocolId.sync, () => {
      calls++;
      return new Uint8Array(1);
    });
    await expect(c.host.request(s.peerId, ProtocolId.sync, new Uint8Array(5000))).rejects.toSatisfy(
      refusedByPeer,
    );
    await waitFor(
      () => s.metrics.get('p2p_frames_dropped_total', { reason: 'oversize' }) === 1,
      'oversize counted',
    );
    expect(calls).toBe(0);
    expect(s.host.peerStatus(c.peerId)?.score).toBeGreaterThan(0);
  });

  it('answers nothing to a refused request and scores a reject verdict', async () => {
    const { c, s } = await pair();
    s.host.onRequest(ProtocolId.sync, (_p, req) =>
      req[0] === 0 ? Verdicts.ignore('unknown height') : Verdicts.reject('malformed'),
    );
    await expect(c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(0))).rejects.toMatchObject({
      code: P2PErrorCode.noResponse,
    });
    expect(s.host.peerStatus(c.peerId)?.score).toBe(0);
    await expect(c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(1))).rejects.toMatchObject({
      code: P2PErrorCode.noResponse,
    });
    expect(s.host.peerStatus(c.peerId)?.score).toBeGreaterThan(0);
    expect(s.metrics.get('p2p_frames_dropped_total', { reason: 'invalid' })).toBe(1);
  });

  it('caps concurrent requests per peer on both sides', async () => {
    const { c, s } = await pair({ maxConcurrentOutbound: 3 }, { maxConcurrentInbound: 2 });
    const release: Array<() => void> = [];
    s.host.onRequest(
      ProtocolId.sync,
      () => new Promise<Uint8Array>((resolve) => release.push(() => resolve(Uint8Array.of(7)))),
    );
    const first = [0, 1, 2].map((i) =>
      c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(i)).then(
        (r) => ({ ok: true as const, r }),
        (e) => ({ ok: false as const, e }),
      ),
    );
    // The client refuses a fourth while three are in flight.
    await expect(c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(9))).rejects.toMatchObject({
      code: P2PErrorCode.tooManyRequests,
    });
    // The server serves two and refuses the third.
    await waitFor(
      () =>
        release.length === 2 &&
        s.metrics.get('p2p_frames_dropped_total', { reason: 'too-many-requests' }) === 1,
      'server at its cap',
    );
    for (const r of release) r();
    const results = await Promise.all(first);
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok)).toHaveLength(1);
    // Slots are freed: new requests go through.
    const later = c.host.request(s.peerId, ProtocolId.sync, Uint8Array.of(5));
    await waitFor(() => release.length === 3, 'third request reached the handler');
    release[2]!();
    expect([...(await later)]).toEqual([7]);
  });
});

/** A handler result that never settles on its own; it rejects when the server aborts the request. */
function hang(signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
}

/** The peer reset or closed the stream without answering. */
function refusedByPeer(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === P2PErrorCode.streamFailed || code === P2PErrorCode.noResponse;
}
